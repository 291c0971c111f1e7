"""Benchmark: verification of candidate pairs on Reuters-21578.

The database is prepared once (ingested and indexed, not verified); every phase runs in its
own process on a copy:
  lexical        rapidfuzz alignment and scoring only (no model), a process per core
  lexical, one   the same in one process (the baseline of the pool; rows must be identical)
  full (cold)    the default path: lexical, then MiniLM for open sentences, model load included
  full (warm)    the same again with the embedding cache filled by a first pass
  embed-all      baseline: MiniLM on every sentence of every candidate pair (what a neural-only
                 verifier must do), no alignment

Usage: .venv/bin/python scripts/bench_verify.py [--device cpu|cuda] [--name verify] [--smoke] [--out DIR]
       [--feed JSONL] [--lexical]
(writes bench/results/<name>.json; --smoke: 80 articles of the demo feed, into a temporary folder;
--feed: another feed than Reuters, e.g. 10,000 articles of the scale corpus, whose stories have
more copies; --lexical: the two lexical phases only)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench


def _prepare(db: str, feed: str) -> None:
    from dedup.fingerprint import IndexConfig
    from dedup.pipeline import IngestOptions, _fingerprint_pending, _index_run, ingest
    from dedup.store import Store

    with Store.open(db) as store:
        ingest(store, [feed], IngestOptions(index=False))
        with store.transaction():
            run_id = store.begin_run("bench-index", {})
            _fingerprint_pending(store, run_id, IndexConfig())
            _index_run(store, run_id, IndexConfig())
            store.finish_run(run_id, {})


def _verify(db: str, embed: bool, device: str, passes: int, pool: bool = True) -> dict[str, Any]:
    from dedup import verify
    from dedup.embed import MiniLMEmbedder
    from dedup.store import Store
    from dedup.verify import VerifyOptions, verify_run

    if not pool:
        verify.VERIFY_POOL_MIN = 1 << 62  # type: ignore[misc]
    embedder = MiniLMEmbedder(device)
    with Store.open(db) as store:
        run_id = int(store.con.execute("SELECT max(run_id) FROM candidates").fetchall()[0][0])
        result: dict[str, Any] = {}
        for n in range(passes):
            store.con.execute("DELETE FROM pairs; DELETE FROM alignments")
            start = time.perf_counter()
            summary = verify_run(store, run_id, VerifyOptions(embed=embed, device=device), embedder)
            seconds = time.perf_counter() - start
            result = {
                "seconds": seconds,
                "pairs": summary.pairs,
                "sentences": summary.sentences,
                "embedded": summary.embedded,
                "computed": summary.computed,
                "pass": n + 1,
                "relations": {k: getattr(summary, k) for k in ("duplicate", "rewrite", "partial", "none")},
            }
    return result


def phase_lexical(db: str, device: str) -> dict[str, Any]:
    return _verify(db, False, device, 1)


def phase_lexical_one(db: str, device: str) -> dict[str, Any]:
    return _verify(db, False, device, 1, pool=False)


def phase_cold(db: str, device: str) -> dict[str, Any]:
    return _verify(db, True, device, 1)


def phase_warm(db: str, device: str) -> dict[str, Any]:
    return _verify(db, True, device, 2)


def phase_embed_all(db: str, device: str) -> dict[str, Any]:
    from dedup.embed import MiniLMEmbedder
    from dedup.store import Store

    with Store.open(db, read_only=True) as store:
        pairs = store.con.execute("SELECT a, b FROM candidates").fetchall()
        sides = store.side_texts([k for p in pairs for k in p])
    start = time.perf_counter()
    sentences = sorted({s for a, b in pairs for k in (a, b) for s in sides[k][0]})
    MiniLMEmbedder(device).encode(sentences)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "pairs": len(pairs),
        "sentences": len(sentences),
        "embedded": len(sentences),
        "computed": len(sentences),
    }


def _same_verdicts(a: Path, b: Path) -> bool:
    """Whether two databases hold the same pairs and alignments, row for row."""
    import duckdb

    sql = ("SELECT a, b, relation, score, shares FROM pairs ORDER BY ALL",
           "SELECT * FROM alignments ORDER BY ALL")  # fmt: skip
    with duckdb.connect(str(a), read_only=True) as x, duckdb.connect(str(b), read_only=True) as y:
        return all(x.execute(q).fetchall() == y.execute(q).fetchall() for q in sql)


PHASES = {
    "lexical": phase_lexical,
    "lexical_one": phase_lexical_one,
    "cold": phase_cold,
    "warm": phase_warm,
    "embed_all": phase_embed_all,
}


def arguments(parser: Any) -> None:
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--db")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--name", default="verify", help="the result file's name")
    parser.add_argument("--feed", default=None, help="a JSONL feed instead of Reuters-21578")
    parser.add_argument("--lexical", action="store_true", help="the lexical phases only")


def main() -> None:
    args = _bench.options(__doc__, arguments)
    if args.phase:
        result = PHASES[args.phase](args.db, args.device)
        result["peak_rss_mb"] = _bench.peak_rss_mb()
        print(json.dumps(result))
        return

    if not args.smoke:
        _bench.require_corpora()
    feed = args.feed or str(_bench.REUTERS_JSONL)
    if args.smoke:  # the first 80 articles of the demo feed: a few stories and their copies
        feed = str(Path(tempfile.mkdtemp(prefix="dedup-smoke-")) / "demo80.jsonl")
        lines = (
            (_bench.ROOT / "data" / "demo_feed.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        )
        Path(feed).write_text("".join(lines[:80]), encoding="utf-8")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        base = str(Path(tmp) / "base.duckdb")
        started = time.perf_counter()
        _prepare(base, feed)
        prepare_seconds = time.perf_counter() - started
        phases = [
            ("lexical only", "lexical"),
            ("lexical only, one process", "lexical_one"),
            ("full, cold (model load)", "cold"),
            ("full, warm cache", "warm"),
            ("baseline: embed every sentence", "embed_all"),
        ]
        if args.lexical:
            phases = [p for p in phases if p[1].startswith("lexical")]
        for label, phase in [p for p in phases if not (args.smoke and p[1] == "warm")]:  # warm: cold twice
            db = str(Path(tmp) / f"{phase}.duckdb")
            shutil.copy(base, db)
            result = _bench.run_phase(Path(__file__), phase, "--db", db, "--device", args.device)
            result["pairs_per_s"] = result["pairs"] / result["seconds"]
            result["share_embedded"] = result["embedded"] / max(1, result["sentences"])
            result["cache_hit_rate"] = (
                1 - result["computed"] / result["embedded"] if result["embedded"] else None
            )
            rows.append({"phase": label, **result})
        identical = _same_verdicts(Path(tmp) / "lexical.duckdb", Path(tmp) / "lexical_one.duckdb")
    by = {r["phase"]: r["seconds"] for r in rows}
    cold = by.get("full, cold (model load)")
    total = prepare_seconds + cold if cold else None
    ratios = {
        "lexical_one_process_vs_pool_time": by["lexical only, one process"] / by["lexical only"],
    }
    if cold:
        ratios["embed_all_vs_full_time"] = by["baseline: embed every sentence"] / cold
    _bench.print_table(
        rows,
        [
            "phase",
            "pairs",
            "seconds",
            "pairs_per_s",
            "sentences",
            "embedded",
            "computed",
            "share_embedded",
            "cache_hit_rate",
            "peak_rss_mb",
        ],
    )
    print()
    if cold:
        print(
            f"{Path(feed).name} ingested and indexed in {prepare_seconds:.1f}s; verified (cold) in "
            f"{cold:.1f}s; total {total:.1f}s (goal < 120s)"
        )
        print(f"embedding every sentence / our verification time: {ratios['embed_all_vs_full_time']:.1f}x")
    print(
        f"lexical in one process / with the pool: {ratios['lexical_one_process_vs_pool_time']:.2f}x, "
        f"verdicts and alignments identical: {identical}"
    )
    shown = "full, cold (model load)" if cold else "lexical only"
    print(f"relations ({shown}): {next(r['relations'] for r in rows if r['phase'] == shown)}")
    path = _bench.save(
        args.name,
        {
            "device": args.device,
            "feed": Path(feed).name,
            "phases": rows,
            "prepare_seconds": prepare_seconds,
            "total_seconds": total,
            "ratios": ratios,
            "pool_identical": identical,
            "goal": ">= 1000 pairs/s without embeddings; Reuters verified < 2 min incl. model load",
            "smoke": args.smoke,
        },
        args,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
