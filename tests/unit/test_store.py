from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dedup.errors import StoreError
from dedup.ingest import FieldMap, build_article
from dedup.ingest.readers import RawRecord
from dedup.store import SCHEMA_VERSION, Store


def article(body: str, id_: str = "a1"):  # type: ignore[no-untyped-def]
    made, _ = build_article(RawRecord("f", 1, {"id": id_, "body": body, "title": "T"}, ""), FieldMap())
    assert made is not None
    return made


def test_roundtrip(tmp_path: Path) -> None:
    a = article("WASHINGTON (AP) — First sentence. Second one.\n\nSecond paragraph.")
    with Store.open(tmp_path / "x.duckdb") as store:
        with store.transaction():
            run = store.begin_run("test", {})
            store.add_articles([a], store.next_article_key(), run)
        key = store.article_key("a1")
        assert key == 1
        assert store.load_article(key) == a
        assert store.schema_version() == SCHEMA_VERSION


def test_transaction_rolls_back(tmp_path: Path) -> None:
    with Store.open(tmp_path / "x.duckdb") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.add_articles([article("Text.")], 1, 1)
            raise RuntimeError("boom")
        assert store.counts()["articles"] == 0


def test_foreign_corrupt_newer_and_missing(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INT)")
    con.close()
    with pytest.raises(StoreError, match="not a dedup database"):
        Store.open(foreign)

    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError, match=r"not a dedup database, or it is corrupt|cannot open"):
        Store.open(junk)

    newer = tmp_path / "newer.duckdb"
    Store.open(newer).close()
    con = duckdb.connect(str(newer))
    con.execute("UPDATE dedup_meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer dedup"):
        Store.open(newer)

    with pytest.raises(StoreError, match="no database"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)
