"""The Spark engine gives what the local engine gives: same articles, candidates, verdicts,
alignments, clusters and provenance, table by table (run ids aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup.fingerprint import IndexConfig
from dedup.pipeline import IngestOptions, VerifyOptions, import_results, ingest
from dedup.store import Store
from tests.conftest import ROOT, bbc_records, write_jsonl
from tests.reliability.harness import snapshot

pytest.importorskip("pyspark")

DEMO = ROOT / "data" / "demo_feed.jsonl"


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from dedup.engines.spark import session

    s = session("local[2]", "dedup-tests")
    yield s
    s.stop()


def local(db: Path, feed: Path, options: IngestOptions, embedder: object = None) -> Path:
    with Store.open(db) as store:
        ingest(store, [str(feed)], options, embedder=embedder)  # type: ignore[arg-type]
    return db


def on_spark(spark, db: Path, inputs: list[str], options: IngestOptions, out: Path) -> Path:  # type: ignore[no-untyped-def]
    from dedup.engines.spark import SparkOptions, run

    run(
        spark,
        inputs,
        out,
        SparkOptions(index_config=options.index_config, verify=options.verify, partitions=4),
    )
    with Store.open(db) as store:
        import_results(store, out, options.index_config)
        assert all(row["problems"] == 0 for row in store.check())
    return db


def same(a: Path, b: Path, tables: tuple[str, ...] | None = None) -> None:
    left, right = snapshot(a), snapshot(b)
    for table in tables or tuple(left):
        assert left[table] == right[table], table


def test_demo_with_the_model_equals_local(spark, demo_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = on_spark(spark, tmp_path / "spark.duckdb", [str(DEMO)], IngestOptions(), tmp_path / "out")
    same(demo_db, db)


def test_bbc_lexical_equals_local(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = write_jsonl(tmp_path / "bbc.jsonl", bbc_records())  # type: ignore[arg-type]
    options = IngestOptions(verify=VerifyOptions(embed=False))
    ref = local(tmp_path / "local.duckdb", feed, options)
    db = on_spark(spark, tmp_path / "spark.duckdb", [str(feed)], options, tmp_path / "out")
    same(ref, db)
    assert len(snapshot(db)["pairs"]) > 100


def test_capped_buckets_and_a_run_from_a_duckdb_file(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Both in one Spark run (it is the slow part of the suite): the input is a dedup
    database, and over-popular buckets are capped at 3 as the local engine caps them."""
    import duckdb

    options = IngestOptions(index_config=IndexConfig(max_bucket=3), verify=VerifyOptions(embed=False))
    ref = local(tmp_path / "local.duckdb", DEMO, options)
    db = on_spark(spark, tmp_path / "spark.duckdb", [str(ref)], options, tmp_path / "out")
    same(ref, db)
    hot = "SELECT kind, band, key, members FROM hot_buckets ORDER BY ALL"
    with duckdb.connect(str(ref), read_only=True) as x, duckdb.connect(str(db), read_only=True) as y:
        capped = x.execute(hot).fetchall()
        assert capped and capped == y.execute(hot).fetchall()
