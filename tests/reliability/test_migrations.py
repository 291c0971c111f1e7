"""Upgrades: a database written at every earlier schema version opens, is migrated in place
(data kept, schema equal to a new database's, invariants holding) and takes new ingests;
one from a newer version is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dedup.errors import StoreError
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import APP, MIGRATIONS, SCHEMA_VERSION, Store
from tests.conftest import ROOT

FEED = ROOT / "data" / "sample_feed.jsonl"
LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("current") / "current.duckdb"
    with Store.open(db) as store:
        ingest(store, [str(FEED)], LEXICAL)
    return db


def written_at(version: int, source: Path, target: Path) -> Path:
    """A database as dedup at schema `version` left it: its tables, with the rows of `source`."""
    con = duckdb.connect(str(target))
    try:
        con.execute("CREATE TABLE dedup_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        con.execute("INSERT INTO dedup_meta VALUES ('app', ?), ('schema_version', ?)", [APP, str(version)])
        before = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for migration in MIGRATIONS[:version]:
            migration(con)
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} - before
        con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
        for table in sorted(tables):  # the columns the table had then (later ones add more)
            names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            con.execute(f"INSERT INTO {table} SELECT {', '.join(names)} FROM src.{table}")
        con.execute("DETACH src")
    finally:
        con.close()
    return target


def columns(db: Path) -> dict[str, list[tuple[str, str]]]:
    with Store.open(db, read_only=True) as store:
        return store.table_columns()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_earlier_version_is_migrated_in_place(version: int, current: Path, tmp_path: Path) -> None:
    old = written_at(version, current, tmp_path / f"v{version}.duckdb")
    with pytest.raises(StoreError, match="needs an upgrade"):
        Store.open(old, read_only=True)
    with Store.open(old) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.counts()["articles"] == 4  # the data written at that version is kept
        assert all(row["problems"] == 0 for row in store.check()), store.check()
    assert columns(old) == columns(current)
    with Store.open(old) as store:  # and it works as a database of today
        summary = ingest(store, [str(ROOT / "tests" / "fixtures" / "formats" / "ninjs1.jsonl")], LEXICAL)
        assert summary.stored > 0
        assert all(row["problems"] == 0 for row in store.check())


def test_a_newer_database_is_refused(current: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.duckdb"
    newer.write_bytes(current.read_bytes())
    con = duckdb.connect(str(newer))
    con.execute("UPDATE dedup_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(StoreError, match="newer dedup"):
        Store.open(newer)


def schema_of(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every column (name, type, nullable, default) and every constraint, in order."""
    cols = con.execute(
        """SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default
           FROM information_schema.columns WHERE table_schema = 'main' ORDER BY ALL"""
    ).fetchall()
    constraints = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() ORDER BY ALL"
    ).fetchall()
    return cols, constraints


def test_the_declared_tables_are_the_migrated_ones(tmp_path: Path) -> None:
    """`dedup.tables` (a new database, the Spark schemas) and the migrations (an old file
    brought up to date) describe one schema."""
    declared = tmp_path / "declared.duckdb"
    with Store.open(declared):
        pass
    migrated = written_at(SCHEMA_VERSION, declared, tmp_path / "migrated.duckdb")
    with duckdb.connect(str(declared)) as x, duckdb.connect(str(migrated)) as y:
        assert schema_of(x) == schema_of(y)
