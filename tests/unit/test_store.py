from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _reference_template_before(rows: list[tuple[int, int]], cutoff: int) -> bool:
    """`templates.is_template` of the holders up to `cutoff`, counted the plain way."""
    from dedup.templates import is_template

    firsts: dict[int, int] = {}
    for article, context in sorted(rows):
        firsts.setdefault(article, context)
    held = [c for a, c in firsts.items() if a <= cutoff]
    return bool(held) and is_template(len(held), max(held.count(c) for c in set(held)))


@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 3)), max_size=80))
@settings(max_examples=300, deadline=None)
def test_holders_flip_where_the_plain_count_turns(rows: list[tuple[int, int]]) -> None:
    from dedup.templates import Holders

    holders = Holders.of(rows)
    assert all(holders.template_before(c) == _reference_template_before(rows, c) for c in range(0, 42))


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40), st.integers(0, 9)), max_size=200))
@settings(max_examples=300, deadline=None)
def test_vectorised_holders_are_holders_of_each_sentences_rows(rows: list[tuple[int, int, int]]) -> None:
    """`holders_of_columns` (one row per key and article, its smallest context, any
    order) gives each key the flips `Holders.of` finds in its rows."""
    import numpy as np

    from dedup.templates import Holders, holders_of_columns

    smallest: dict[tuple[int, int], int] = {}
    for key, a, c in rows:
        smallest[key, a] = min(c, smallest.get((key, a), c))
    keys, articles = (np.array([ka[i] for ka in smallest], dtype=np.int64) for i in (0, 1))
    got = holders_of_columns(keys, articles, np.array(list(smallest.values()), dtype=np.int64))
    by_key: dict[int, list[tuple[int, int]]] = {}
    for key, a, c in rows:
        by_key.setdefault(key, []).append((a, c))
    assert got == {k: h for k, v in by_key.items() if (h := Holders.of(v)).flips}


def test_template_holders_in_sql_are_holders_of_the_stored_rows(tmp_path: Path) -> None:
    """`Store.template_holders` computes the flips in DuckDB; they are `Holders.of` the
    stored (article, context) rows of each sentence, for sentences held in one context, in
    many, and twice in one article; for a run, those of the sentences its candidates pair."""
    import random

    from dedup.templates import Holders

    rng = random.Random(5)
    pool = [f"Sentence number {w} of the template pool was written by the desk." for w in range(12)]
    articles = [
        article(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 6))) + f" Story {i} ends.", f"a{i}")
        for i in range(60)
    ]
    with Store.open(tmp_path / "t.duckdb") as store:
        with store.transaction():
            store.add_articles(articles, store.next_article_key(), store.begin_run("test", {}))
        rows = store.con.execute("SELECT sentence_key, article_key, context_key FROM sentences").fetchall()
        grouped: dict[int, list[tuple[int, int]]] = {}
        for key, a, c in rows:
            grouped.setdefault(int(key), []).append((int(a), int(c)))
        want = {k: h for k, v in grouped.items() if (h := Holders.of(v)).flips}
        assert want, "the pool makes templates"
        assert store.template_holders(set(grouped)) == want
        some = set(list(grouped)[::3])
        assert store.template_holders(some) == {k: h for k, h in want.items() if k in some}
        # A run's holders: the sentences of the articles its candidates pair, in one read.
        keys = [int(k) for (k,) in store.con.execute("SELECT article_key FROM articles").fetchall()]
        store.con.execute(
            "INSERT INTO candidates (a, b, via_exact, via_document, via_passage, jaccard, containment_a,"
            " containment_b, passage_pairs, same_outlet, run_id)"
            " VALUES (?, ?, false, true, false, 0.5, 0.5, 0.5, 0, false, 7)",
            [keys[0], keys[1]],
        )
        paired = {int(k) for (k,) in store.con.execute(
            "SELECT sentence_key FROM sentences WHERE article_key IN (?, ?)", keys[:2]).fetchall()}  # fmt: skip
        assert paired & set(want), "the pair holds templates"
        assert store.run_template_holders(7) == {k: h for k, h in want.items() if k in paired}
        assert store.run_template_holders(8) == {}
