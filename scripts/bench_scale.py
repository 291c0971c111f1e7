"""Scale on one machine: 10,000 to 1,000,000 articles, then a day's 10,000 on top.

For each size N, in a child process of its own (so each has its own peak RSS): `dedup
ingest` of the first N articles of the scale corpus (`scripts/make_scale_corpus.py`) into a
fresh database, which stores, fingerprints, finds candidates, verifies, clusters and
traces provenance; then the next 10,000 articles of the corpus (a fresh day, with copies of
stories already stored) ingested on top. The baseline of the increment, measured in the
same run: the same 10,000 articles into an empty database. Stage times come from the run's
own record (`runs.stats.seconds`).

Verification embeds what lexical alignment leaves open (on the CPU) up to `--embed-upto`
articles; larger sizes verify lexically (`--no-embed`): on 2 CPU cores the model alone would
take hours at a million articles (see docs/performance.md; the GPU path is
`scripts/bench_gpu.py`).

Writes bench/results/scale.json. Usage:
  python3 scripts/bench_scale.py [--sizes 10000,100000,1000000] [--embed-upto 100000] [--smoke]
(--smoke: a 10,000-article corpus made in a temporary folder, 1,000 articles and a day of
500 on top, lexically; the JSON into a temporary folder)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import (
    RESULTS,
    ROOT,
    options,
    peak_rss_mb,
    print_table,
    require_corpora,
    run_phase,
    save,
    scale_corpus,
)

from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store

SCALE = ROOT / "bench" / "scale"
INCREMENT = 10_000
STAGES = ("read", "store", "fingerprint", "candidates", "semantic", "verify", "embed", "cluster")


def feed_slice(source: Path, start: int, count: int, target: Path) -> Path:
    """Lines [start, start + count) of the corpus: every prefix of it is a corpus of its own."""
    if not target.exists():
        with source.open(encoding="utf-8") as f, target.open("w", encoding="utf-8") as out:
            out.writelines(islice(f, start, start + count))
    return target


def day_after(corpus: Path, n: int, count: int, target: Path) -> Path:
    """The day after the first `n` articles of `corpus`: its next `count` (their late copies
    reprint stored stories), or, when `n` is the whole corpus, its own `increment.jsonl`."""
    made = int(corpus.parent.name)
    after = corpus.parent / ("increment.jsonl" if n == made else "feed.jsonl")
    return feed_slice(after, 0 if n == made else n, count, target)


def phase(db: str, feed: str, embed: bool, memory_limit: str) -> dict:
    """One `dedup ingest`, measured from inside (stage times from the run's stats)."""
    started = time.perf_counter()
    with Store.open(db, memory_limit=memory_limit) as store:
        summary = ingest(store, [feed], IngestOptions(verify=VerifyOptions(embed=embed)))
        stats = store.run_stats(summary.run_id)
    wall = time.perf_counter() - started
    assert summary.verify is not None and summary.clusters is not None
    return {
        "articles": summary.stored,
        "wall_s": round(wall, 1),
        "seconds": stats["seconds"],
        "candidates": summary.verify.pairs,
        "reuse_pairs": summary.verify.pairs - summary.verify.none,
        "embedded": summary.verify.computed,
        "clusters": summary.clusters.clusters,
        "peak_rss_mb": round(peak_rss_mb()),
        "db_mb": round(Path(db).stat().st_size / 2**20),
    }


def compacted_mb(db: Path) -> float:
    """The size of a compacted copy of `db` (`dedup compact`: DuckDB never shrinks a file
    after deletes, a fresh copy holds only what is stored), the copy removed after."""
    target = db.with_name(f"{db.stem}-compacted.duckdb")
    target.unlink(missing_ok=True)
    with Store.open(db) as store:
        store.compact_into(target)
    size = target.stat().st_size / 2**20
    target.unlink()
    return round(size, 1)


def prune_copy(db: Path, target: Path, share: float) -> dict[str, float]:
    """A copy of `db` whose candidate index keeps only the newest `1 - share` of its
    articles by publication time (`dedup prune`), for the pruned increment; the sizes of
    both compacted (`compacted_mb`), which the files themselves do not show."""
    whole = compacted_mb(db)
    shutil.copy(db, target)
    with Store.open(target) as store:
        (cut,) = store.con.execute(
            "SELECT to_timestamp(quantile_disc(epoch(published_utc), ?)) FROM articles", [share]
        ).fetchall()[0]
        with store.transaction():
            run_id = store.begin_run("prune", {"before": str(cut)})
            counts = store.prune_index(cut)
            store.finish_run(run_id, {"pruned": counts})
        store.checkpoint()
    pruned = compacted_mb(target)
    print(
        f"pruned {counts['articles']:,} articles before {cut} ({Path(target).stat().st_size / 2**20:,.0f} MB;"
        f" compacted {pruned:,.0f} MB, unpruned compacted {whole:,.0f} MB)"
    )
    return {"compacted_mb": pruned, "unpruned_compacted_mb": whole}


def measure(db: Path, feed: Path, embed: bool, memory_limit: str) -> dict:
    """`phase` in a child process of its own."""
    return run_phase(Path(__file__), str(db), str(feed), "embed" if embed else "lexical", memory_limit)


def row(label: str, n: int, embed: bool, result: dict) -> dict:
    seconds = result["seconds"]
    out = {
        "run": label,
        "articles": n,
        "verify": "embed" if embed else "lexical",
        "wall_s": result["wall_s"],
        "articles_per_s": round(result["articles"] / result["wall_s"]),
        **{f"{s}_s": seconds.get(s) for s in STAGES},
        "per_1k_s": round(1000 * result["wall_s"] / max(result["articles"], 1), 2),
    }
    return {
        **out,
        **{
            k: result[k]
            for k in ("candidates", "reuse_pairs", "embedded", "clusters", "peak_rss_mb", "db_mb")
        },
    }


def earlier_rows(sizes: list[int]) -> list[dict]:
    """Rows of the last scale.json for sizes not measured now (a row belongs to the size of
    the `ingest` row it follows)."""
    path = RESULTS / "scale.json"
    if not path.exists():
        return []
    kept, size = [], 0
    for old in json.loads(path.read_text())["rows"]:
        size = old["articles"] if old["run"] == "ingest" else size
        if old.setdefault("size", size) not in sizes:
            kept.append(old)
    return kept


def arguments(parser: Any) -> None:
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--embed-upto", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases under bench/scale/work")
    parser.add_argument("--merge", action="store_true", help="keep the other sizes' rows of scale.json")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's buffer pool (DEDUP_MEMORY_LIMIT)")
    parser.add_argument("--phase", nargs=4, help=argparse.SUPPRESS)


def main() -> None:
    args = options(__doc__, arguments)
    if args.phase:
        db, feed, mode, limit = args.phase
        print(json.dumps(phase(db, feed, mode == "embed", limit)))
        return
    require_corpora()
    scale, increment = SCALE, INCREMENT
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.smoke:
        scale, increment, sizes, args.embed_upto = (
            Path(tempfile.mkdtemp(prefix="dedup-scale-")),
            500,
            [1000],
            0,
        )
    largest = max(sizes)
    corpus = scale_corpus(scale, largest)
    work = scale / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = earlier_rows(sizes) if args.merge else []
    for n in sizes:
        feed = feed_slice(corpus, 0, n, work / f"feed-{n}.jsonl")
        day = day_after(corpus, n, increment, work / f"day-{n}.jsonl")
        # Lexical at every size (the per-article cost compared across sizes), and with
        # embeddings where the CPU can afford them.
        for embed in (False, True) if n <= args.embed_upto else (False,):
            mode = "embed" if embed else "lexical"
            db, empty = work / f"scale-{n}-{mode}.duckdb", work / f"empty-{n}-{mode}.duckdb"
            pruned = work / f"pruned-{n}-{mode}.duckdb"
            for label, count, target, source in (
                ("ingest", n, db, feed),
                (f"+{increment:,} on {n:,} pruned to its last 10%", increment, pruned, day),
                (f"+{increment:,} on {n:,}", increment, db, day),
                (f"{increment:,} into empty", increment, empty, day),
            ):
                sizes_before = prune_copy(db, pruned, 0.9) if target == pruned else {}
                result = measure(target, source, embed, args.memory_limit)
                rows.append({"size": n, **row(label, count, embed, result), **sizes_before})
                print_table(rows[-1:], list(rows[-1]))
            for path in work.glob(f"*-{n}-{mode}.duckdb*"):
                if not args.keep:
                    path.unlink()
            done = n == sizes[-1] and not embed
            measured = sorted({r["size"] for r in rows})
            settings = {"sizes": measured, "embed_upto": args.embed_upto, "memory_limit": args.memory_limit}
            path = save("scale", {**settings, "rows": rows, "complete": done, "smoke": args.smoke}, args)
    columns = [
        "run",
        "articles",
        "verify",
        "wall_s",
        "articles_per_s",
        *[f"{s}_s" for s in STAGES],
        "per_1k_s",
        "peak_rss_mb",
        "db_mb",
        "compacted_mb",
        "unpruned_compacted_mb",
    ]
    print()
    print_table(rows, columns)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if args.smoke:
        shutil.rmtree(scale, ignore_errors=True)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
