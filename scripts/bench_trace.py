"""Latency of `dedup trace` against the Reuters archive: how long a newsroom waits to learn
where an article came from, model load aside.

Reuters-21578 is ingested once (lexically) into a fresh database; then articles of about
600 words are traced through `dedup.trace.trace` with the store open read-only, as the CLI
and the server do: trimmed reruns of stored Reuters stories (first and last paragraphs cut:
they must trace back to their original) and BBC stories (not in the archive: they must trace
to nothing). Lexically, and with the model (loaded once before timing, as `dedup serve`
keeps it). Goal (issue 19): under 1 s lexically for a 600-word article.

Writes bench/results/trace.json (with --smoke: the demo feed as the archive, a few traces).

Usage: python3 scripts/bench_trace.py [--smoke] [--out DIR] [--traces N]
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import REUTERS_JSONL, ROOT, bbc_records, options, print_table, require_corpora, save

import dedup
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store
from dedup.trace import TraceOptions, trace

TARGET_WORDS = 600


def paragraphs(body: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s{2,}|\n\n", body) if p.strip()]


def reruns(records: list[dict[str, Any]], n: int) -> list[tuple[str, str]]:
    """(original id, trimmed text) for the `n` stored stories closest to 600 words after trimming."""
    shaped = []
    for r in records:
        parts = paragraphs(str(r.get("body") or ""))
        if len(parts) >= 5:
            text = "\n\n".join(parts[1:-1])
            shaped.append((abs(len(text.split()) - TARGET_WORDS), str(r.get("newid", r.get("id"))), text))
    shaped.sort()
    return [(i, "A rerun\n\n" + t) for _, i, t in shaped[:n]]


def timed(
    store: Store, texts: list[tuple[str, str]], options_: TraceOptions, embedder: Any = None
) -> dict[str, Any]:
    seconds, traced, right = [], 0, 0
    for original, text in texts:
        started = time.perf_counter()
        result = trace(store, dedup.article_from_text(text, "traced"), options_, embedder=embedder)
        seconds.append(time.perf_counter() - started)
        sources = {r["source"] for r in result.rows if r["source"]}
        traced += bool(sources)
        right += bool(original) and sources == {original}
    ordered = sorted(seconds)
    return {
        "traces": len(texts),
        "traced": traced,
        "right_source": right,
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max_s": round(ordered[-1], 3),
        "mean_words": round(statistics.mean(len(t.split()) for _, t in texts)),
    }


def main() -> None:
    args = options(__doc__, lambda p: p.add_argument("--traces", type=int, default=30))
    folder = Path(tempfile.mkdtemp(prefix="dedup-trace-"))
    db = folder / "archive.duckdb"
    if args.smoke:
        feed = ROOT / "data" / "demo_feed.jsonl"
        records = [json.loads(line) for line in feed.open(encoding="utf-8")][:60]
        texts = reruns([{**r, "newid": r["id"]} for r in records], 3)
        strangers: list[tuple[str, str]] = [("", "A note\n\n" + " ".join(["Nothing stored says this."] * 40))]
        paths = [str(feed)]
    else:
        require_corpora()
        records = [json.loads(line) for line in REUTERS_JSONL.open(encoding="utf-8")]
        texts = reruns(records, args.traces)
        bbc = [r for r in bbc_records() if 450 <= len(r["body"].split()) <= 750][: args.traces]
        strangers = [("", r["title"] + "\n\n" + r["body"]) for r in bbc]
        paths = [str(REUTERS_JSONL)]
    started = time.perf_counter()
    with Store.open(db) as store:
        ingest(store, paths, IngestOptions(verify=VerifyOptions(embed=False)))
        articles = store.counts()["articles"]
    build = round(time.perf_counter() - started, 1)
    rows = []
    with Store.open(db, read_only=True) as store:
        lexical = TraceOptions(embed=False)
        trace(store, dedup.article_from_text(texts[0][1]), lexical)  # warm the store's caches
        rows.append({"mode": "lexical", "kind": "trimmed rerun", **timed(store, texts, lexical)})
        rows.append({"mode": "lexical", "kind": "not in archive", **timed(store, strangers, lexical)})
        if not args.smoke:
            model = dedup.MiniLMEmbedder("cpu")
            model.encode(["warm up"])  # the load is not what a server's user waits for
            full = TraceOptions(embed=True)
            rows.append({"mode": "model", "kind": "trimmed rerun", **timed(store, texts, full, model)})
            rows.append({"mode": "model", "kind": "not in archive", **timed(store, strangers, full, model)})
    print(f"archive: {articles:,} articles, built in {build} s")
    print_table(
        rows, ["mode", "kind", "traces", "mean_words", "traced", "right_source", "p50_s", "p95_s", "max_s"]
    )
    path = save(
        "trace",
        {"archive_articles": articles, "build_seconds": build, "smoke": args.smoke, "rows": rows},
        args,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
