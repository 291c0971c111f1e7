"""The Spark engine gives what the local engine gives: same articles, candidates, verdicts,
alignments, clusters and provenance, table by table (run ids aside)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dedup.fingerprint import IndexConfig
from dedup.finish import import_results
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
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


HOT = "SELECT kind, band, key, members FROM hot_buckets ORDER BY ALL"


def same(a: Path, b: Path, tables: tuple[str, ...] | None = None) -> None:
    left, right = snapshot(a), snapshot(b)
    for table in tables or tuple(left):
        assert left[table] == right[table], table
    with duckdb.connect(str(a), read_only=True) as x, duckdb.connect(str(b), read_only=True) as y:
        assert x.execute(HOT).fetchall() == y.execute(HOT).fetchall(), "hot_buckets"


def two_batches(tmp_path: Path) -> tuple[Path, Path]:
    """The demo feed in two days: the second holds the rest of the feed, a repeat of a
    first-day story (unchanged) and a corrected text under a first-day id (version 2)."""
    records = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
    half = len(records) // 2
    corrected = {
        **records[0],
        "body": records[0]["body"].replace(".", ";", 1) + "\n\nCorrection: a name was misspelt.",
    }
    first = write_jsonl(tmp_path / "day1.jsonl", records[:half])  # type: ignore[arg-type]
    second = write_jsonl(tmp_path / "day2.jsonl", [*records[half:], records[1], corrected])  # type: ignore[arg-type]
    return first, second


def test_two_spark_batches_equal_two_local_ones(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An increment on Spark (`dedup ingest --engine spark` onto an existing database):
    versions, keys, candidates against stored articles (semantic ones too), over-popular
    buckets capped at 4 as the local engine caps them, verdicts, clusters rebuilt on Spark
    and provenance equal the local engine's after each day."""
    from dedup.engines.spark import SparkOptions
    from dedup.engines.spark import ingest as spark_ingest

    options = IngestOptions(index_config=IndexConfig(max_bucket=4))
    spark_options = SparkOptions(index_config=options.index_config, verify=options.verify, partitions=4)
    days = two_batches(tmp_path)
    ref, db = tmp_path / "local.duckdb", tmp_path / "spark.duckdb"
    for day in days:
        local(ref, day, options)
        with Store.open(db) as store:
            spark_ingest(store, spark, [str(day)], spark_options)
            assert all(row["problems"] == 0 for row in store.check())
        same(ref, db)
    tables = snapshot(db)
    assert any(row[2] == 2 for row in tables["articles"])  # the corrected story is version 2
    assert len(tables["clusters"]) > 3 and tables["article_vectors"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(HOT).fetchall()  # the cap was reached, on both engines alike
        runs = con.execute("SELECT count(DISTINCT run_id) FROM pairs").fetchall()[0][0]
        crossing = con.execute(  # day two found copies of day-one stories
            "SELECT count(*) FROM pairs p JOIN articles x ON x.article_key = p.a JOIN articles y"
            " ON y.article_key = p.b WHERE x.run_id <> y.run_id AND p.relation <> 'none'"
        ).fetchall()[0][0]
    assert runs == 2 and crossing > 0


def test_bbc_from_a_duckdb_file_equals_local(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """All of BBC News lexically, Spark reading its input from a dedup database (the local
    engine's, made from the JSONL): every table equal. (The slow part of the suite is each
    Spark run's fixed cost, so one run covers both.)"""
    feed = write_jsonl(tmp_path / "bbc.jsonl", bbc_records())  # type: ignore[arg-type]
    options = IngestOptions(verify=VerifyOptions(embed=False))
    ref = local(tmp_path / "local.duckdb", feed, options)
    db = on_spark(spark, tmp_path / "spark.duckdb", [str(ref)], options, tmp_path / "out")
    same(ref, db)
    assert len(snapshot(db)["pairs"]) > 100
