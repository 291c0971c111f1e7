"""The candidate stage on real corpora: recall against exhaustive silver pairs, partial reuse,
incremental indexing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import dedup.store.index
from dedup.cli import app
from dedup.embed import HashingEmbedder
from dedup.fingerprint import IndexConfig
from dedup.pipeline import IngestOptions, VerifyOptions, index, ingest
from dedup.store import Store
from tests.conftest import bbc_records, silver_pairs, write_jsonl

runner = CliRunner()


def candidate_ids(db: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """SELECT x.article_id, y.article_id FROM candidates c
               JOIN articles x ON x.article_key = c.a JOIN articles y ON y.article_key = c.b"""
        ).fetchall()
    finally:
        con.close()
    return {tuple(sorted(r)) for r in rows}  # type: ignore[misc]


def identical_body_pairs(db: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        groups = con.execute(
            "SELECT list(article_id ORDER BY article_id) FROM articles WHERE body <> '' GROUP BY body HAVING count(*) > 1"
        ).fetchall()
    finally:
        con.close()
    return {
        tuple(sorted((g[i], g[j]))) for (g,) in groups for i in range(len(g)) for j in range(i + 1, len(g))
    }  # type: ignore[misc]


def recall(found: set[tuple[str, str]], pairs: list[tuple[str, str, float]], low: float) -> float:
    wanted = [tuple(sorted((a, b))) for a, b, j in pairs if j >= low]
    return sum(w in found for w in wanted) / len(wanted)


@pytest.mark.slow
def test_reuters_recall(reuters_db: tuple[Path, dict[str, object]]) -> None:
    db, _ = reuters_db
    found = candidate_ids(db)
    identical = identical_body_pairs(db)
    assert len(identical) > 250 and identical <= found
    assert recall(found, silver_pairs("reuters21578"), 0.8) >= 0.99
    # The known re-runs are listed by the CLI.
    out = runner.invoke(app, ["candidates", "--db", str(db), "--article", "13456", "-f", "json"])
    assert out.exit_code == 0, out.output
    assert {"13456", "13550"} <= {r["a"] for r in json.loads(out.stdout)} | {
        r["b"] for r in json.loads(out.stdout)
    }


@pytest.fixture(scope="module")
def bbc_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bbc")
    feed = write_jsonl(folder / "bbc.jsonl", bbc_records())  # type: ignore[arg-type]
    db = folder / "bbc.duckdb"
    with Store.open(db) as store:
        ingest(store, [str(feed)], IngestOptions(verify=VerifyOptions(embed=False)))
    return db


def test_bbc_recall(bbc_db: Path) -> None:
    found = candidate_ids(bbc_db)
    assert identical_body_pairs(bbc_db) <= found
    assert recall(found, silver_pairs("bbc"), 0.8) >= 0.99


def test_patchwork_finds_every_source(tmp_path: Path, reuters_records: list[dict[str, object]]) -> None:
    """Two paragraphs each of three real stories, plus new text: all three are candidates."""
    from dedup.normalize import normalize_body

    sources = []
    for record in reuters_records:
        paragraphs = [
            p for p in normalize_body(str(record["body"] or "")).split("\n\n") if len(p.split()) >= 15
        ]
        if len(paragraphs) >= 6 and record["title"]:
            sources.append((record, paragraphs))
        if len(sources) == 3:
            break
    glue = [
        "Markets were watching several stories on Thursday, and this page collects them.",
        "Analysts said the picture would become clearer after the weekend, when more data is due.",
    ]
    body = "\n\n".join([glue[0], *sources[0][1][1:3], *sources[1][1][3:5], glue[1], *sources[2][1][4:6]])
    rows = [{"id": str(r["newid"]), "title": r["title"], "body": r["body"]} for r, _ in sources]
    rows.append(
        {"id": "patchwork", "title": "Today's markets", "body": body + "\n\nLatest News\n\nMore stories"}
    )
    feed = write_jsonl(tmp_path / "feed.jsonl", rows)  # type: ignore[arg-type]
    with Store.open(tmp_path / "p.duckdb") as store:
        ingest(store, [str(feed)])
        pairs = store.candidate_list(article_key=store.article_key("patchwork"))
    partners = {p["a"] for p in pairs}
    assert partners == {str(r["newid"]) for r, _ in sources}
    assert all(p["via_passage"] and p["passage_pairs"] >= 2 for p in pairs)
    # Whole-article similarity is low: only passages found these.
    assert all(p["jaccard"] < 0.5 for p in pairs)


def _candidates(db: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """SELECT x.article_id, y.article_id, via_exact, via_document, via_passage, via_semantic, jaccard,
                      containment_a, containment_b, passage_pairs
               FROM candidates c JOIN articles x ON x.article_key = c.a JOIN articles y ON y.article_key = c.b
               ORDER BY 1, 2"""
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("cuts", [(1,), (137, 300, 301), (50, 100, 200, 400)])
def test_incremental_batches_equal_one_batch(tmp_path: Path, cuts: tuple[int, ...]) -> None:
    records = [r for r in bbc_records() if r["id"].startswith("business/")]
    config = IndexConfig(max_bucket=3)  # small, so that the cap is exercised too
    one = tmp_path / "one.duckdb"
    vectors = HashingEmbedder()  # semantic candidates too, without the model's minutes
    with Store.open(one) as store:
        ingest(
            store,
            [str(write_jsonl(tmp_path / "all.jsonl", records))],
            IngestOptions(index_config=config),
            embedder=vectors,
        )  # type: ignore[arg-type]
    many = tmp_path / "many.duckdb"
    bounds = [0, *cuts, len(records)]
    with Store.open(many) as store:
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            part = write_jsonl(tmp_path / f"part{i}.jsonl", records[lo:hi])  # type: ignore[arg-type]
            # Alternate between indexing at ingest and deferring to `index`.
            ingest(store, [str(part)], IngestOptions(index=i % 2 == 0, index_config=config), embedder=vectors)
        index(store, config, embedder=vectors)
    assert _candidates(one) == _candidates(many)
    assert len(_candidates(one)) > 10


@pytest.mark.parametrize("stored", [0, 200])
def test_both_ways_to_find_shared_buckets_give_the_same_rows(
    tmp_path: Path, stored: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first load groups every band, an increment joins the buckets it touches: the same
    # candidates, hot buckets and paragraph pairs either way (with a cap that makes hot ones).
    records = [r for r in bbc_records() if r["id"].startswith(("business/", "sport/"))]
    config = IndexConfig(max_bucket=3)
    base = tmp_path / "base.duckdb"
    with Store.open(base) as store:
        if stored:
            ingest(
                store,
                [str(write_jsonl(tmp_path / "old.jsonl", records[:stored]))],
                IngestOptions(index_config=config),
            )
        ingest(
            store, [str(write_jsonl(tmp_path / "new.jsonl", records[stored:]))], IngestOptions(index=False)
        )
    plain = dedup.store.index.candidate_queries
    found = []
    for first_load in (False, True):
        db = tmp_path / f"{first_load}.duckdb"
        db.write_bytes(base.read_bytes())
        monkeypatch.setattr(
            dedup.store.index, "candidate_queries", lambda *a, f=first_load, **_: plain(*a, first_load=f)
        )
        with Store.open(db) as store:
            index(store, config, verify=VerifyOptions(embed=False))
            found.append(
                [
                    store.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                    for table in ("candidates", "hot_buckets", "candidate_passages")
                ]
            )
    assert found[0] == found[1]
    assert all(found[0]), "candidates, hot buckets and paragraph pairs all present"


def test_index_parameters_are_pinned(tmp_path: Path, sample_feed: Path) -> None:
    from dedup.errors import StoreError

    with Store.open(tmp_path / "x.duckdb") as store:
        ingest(store, [str(sample_feed)])
        with pytest.raises(StoreError, match="indexed with"):
            index(store, IndexConfig(shingle_size=3))
