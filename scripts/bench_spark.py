"""The Spark engine against the local one: time and identical results.

Reuters-21578 (21,578 stories) through `dedup ingest` (local engine) and through the Spark
engine on `local[2]`, both verifying lexically (`--no-embed`, so that the model's load
time does not dominate), tables compared row for row; then Spark time for growing slices
of Reuters + BBC (5,000 to all 23,803 stories, the real corpora here).

With `--scale N` instead: the first N articles of the scale corpus
(`scripts/make_scale_corpus.py`, made when missing) through both engines into new
databases, then the next 10,000 as an increment onto each (`dedup ingest --engine spark`
onto an existing database), both lexical, every table compared after each step; writes
bench/results/spark_scale.json.

Writes bench/results/spark.json. Usage: python3 scripts/bench_spark.py [--smoke] [--out DIR]
[--scale N] (--smoke: the scale mode on the demo feed, 60 articles locally and an
increment of 20 more on both engines, into a temporary folder)
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import duckdb
from _bench import (
    REUTERS_JSONL,
    ROOT,
    bbc_records,
    options,
    print_table,
    require_corpora,
    save,
    scale_corpus,
    write_jsonl,
)

from dedup.engines.spark import SparkOptions, run, session
from dedup.engines.spark import ingest as spark_ingest
from dedup.finish import import_results
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store
from tests.reliability.harness import SNAPSHOT, snapshot

LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))
SCALE = ROOT / "bench" / "scale"


def differing(a: Path, b: Path) -> list[str]:
    """The tables (as `harness.SNAPSHOT` reads them) whose rows differ between two
    databases, compared inside DuckDB (a Python snapshot of 100,000 articles is gigabytes)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS x (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS y (READ_ONLY)")
        out = []
        for name, sql in SNAPSHOT.items():
            left, right = (sql.replace(f" FROM {name}", f" FROM {db}.{name}") for db in ("x", "y"))
            n = con.execute(
                f"SELECT count(*) FROM (({left} EXCEPT ALL {right}) UNION ALL ({right} EXCEPT ALL {left}))"
            ).fetchall()[0][0]
            if n:
                out.append(name)
        return out
    finally:
        con.close()


def timed(step: Any) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def scale_run(n: int, smoke: bool, work: Path, spark: Any) -> list[dict[str, Any]]:
    """N articles into a new database, then the next `day` as an increment, on both engines."""
    day = 20 if smoke else 10_000
    if smoke:
        lines = (ROOT / "data" / "demo_feed.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    else:
        with scale_corpus(SCALE, n + day).open(encoding="utf-8") as f:
            lines = [line for _, line in zip(range(n + day), f, strict=False)]
    first, second = work / "first.jsonl", work / "second.jsonl"
    first.write_text("".join(lines[:n]), encoding="utf-8")
    second.write_text("".join(lines[n : n + day]), encoding="utf-8")
    local_db, spark_db = work / "local-scale.duckdb", work / "spark-scale.duckdb"
    spark_options = SparkOptions(verify=LEXICAL.verify)
    rows = []
    for label, feed, count in (("new database", first, n), ("increment", second, day)):
        with Store.open(local_db) as store:
            local_s = timed(lambda s=store, f=feed: ingest(s, [str(f)], LEXICAL))
        if smoke and label == "new database":
            # The smoke pays for one Spark run, the increment: the first day's database is the
            # local one (the two-batch equality itself is tests/e2e/test_spark.py's).
            shutil.copy(local_db, spark_db)
            continue
        with Store.open(spark_db) as store:
            spark_s = timed(lambda s=store, f=feed: spark_ingest(s, spark, [str(f)], spark_options))
        with Store.open(spark_db, read_only=True) as store:
            pairs = store.counts()["pairs"]
        rows.append({
            "step": label, "articles": count, "local_s": round(local_s, 1), "spark_s": round(spark_s, 1),
            "spark_vs_local": round(spark_s / local_s, 2), "pairs": pairs,
            "differing_tables": ", ".join(differing(local_db, spark_db)) or "none",
        })  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    args = options(__doc__, lambda p: p.add_argument("--scale", type=int, default=0, metavar="N"))
    if args.scale or args.smoke:
        with tempfile.TemporaryDirectory(prefix="dedup-spark-scale-") as tmp:
            spark = session("local[2]", "dedup-bench")
            try:
                n = 60 if args.smoke else args.scale
                rows = scale_run(n, args.smoke, Path(tmp), spark)
            finally:
                spark.stop()
        print_table(
            rows, ["step", "articles", "local_s", "spark_s", "spark_vs_local", "pairs", "differing_tables"]
        )
        payload = {
            "master": "local[2]",
            "verify": "lexical",
            "corpus": "scale",
            "runs": rows,
            "smoke": args.smoke,
        }
        print(f"wrote {save('spark_scale', payload, args)}")
        return  # (the smoke runs this part only: the Reuters part below is the same `run`)
    require_corpora()
    reuters = [json.loads(line) for line in REUTERS_JSONL.open(encoding="utf-8")]
    corpus = [{**r, "id": str(r["newid"])} for r in reuters] + bbc_records()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-spark-bench-") as tmp:
        work = Path(tmp)
        feed = write_jsonl(work / "reuters.jsonl", corpus[: len(reuters)])
        started = time.perf_counter()
        with Store.open(work / "local.duckdb") as store:
            ingest(store, [str(feed)], LEXICAL)
        local_seconds = time.perf_counter() - started
        spark = session("local[2]", "dedup-bench")
        try:
            for n in (len(reuters), 5_000, 10_000, len(corpus)):
                part = feed if n == len(reuters) else write_jsonl(work / f"part{n}.jsonl", corpus[:n])
                out, db = work / f"out{n}", work / f"spark{n}.duckdb"
                started = time.perf_counter()
                summary = run(spark, [str(part)], out, SparkOptions(verify=LEXICAL.verify))
                spark_seconds = time.perf_counter() - started
                with Store.open(db) as store:
                    import_results(store, out)
                total = time.perf_counter() - started
                row = {
                    "articles": n,
                    "spark_s": round(spark_seconds, 1),
                    "with_import_s": round(total, 1),
                    "articles_per_s": round(n / total, 1),
                    "pairs": summary.pairs,
                }
                if n == len(reuters):
                    left, right = snapshot(work / "local.duckdb"), snapshot(db)
                    row["local_s"] = round(local_seconds, 1)
                    row["identical_tables"] = f"{sum(left[t] == right[t] for t in left)}/{len(left)}"
                rows.append(row)
                print(row, flush=True)
        finally:
            spark.stop()
    print_table(
        rows,
        ["articles", "local_s", "spark_s", "with_import_s", "articles_per_s", "pairs", "identical_tables"],
    )
    payload = {"master": "local[2]", "verify": "lexical", "runs": rows, "smoke": False}
    print(f"wrote {save('spark', payload, args)}")


if __name__ == "__main__":
    main()
