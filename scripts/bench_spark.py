"""The Spark engine against the local one: time and identical results.

Reuters-21578 (21,578 stories) through `dedup ingest` (local engine) and through the Spark
engine on `local[2]`, both verifying lexically (`--no-embed`, so that the model's load
time does not dominate), tables compared row for row; then Spark time for growing slices
of Reuters + BBC (5,000 to all 23,803 stories, the real corpora here).

Writes bench/results/spark.json. Usage: python3 scripts/bench_spark.py [--smoke] [--out DIR]
(--smoke: the first 80 articles of the demo feed, one Spark run, into a temporary folder)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import REUTERS_JSONL, ROOT, bbc_records, options, print_table, require_corpora, save, write_jsonl

from dedup.engines.spark import SparkOptions, run, session
from dedup.finish import import_results
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store
from tests.reliability.harness import snapshot

LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


def main() -> None:
    args = options(__doc__)
    if args.smoke:
        demo = (ROOT / "data" / "demo_feed.jsonl").open(encoding="utf-8")
        reuters = [json.loads(line) for line in demo][:80]  # a few stories and their copies
        corpus = reuters
    else:
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
            for n in (len(reuters),) if args.smoke else (len(reuters), 5_000, 10_000, len(corpus)):
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
    payload = {"master": "local[2]", "verify": "lexical", "runs": rows, "smoke": args.smoke}
    print(f"wrote {save('spark', payload, args)}")


if __name__ == "__main__":
    main()
