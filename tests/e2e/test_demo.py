"""The bundled demo: clusters, provenance and hard negatives against its ground truth,
one batch and three date-ordered batches, and every listing command's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from dedup.cli import app
from dedup.embed import MiniLMEmbedder
from dedup.pipeline import ingest
from dedup.store import Store
from tests.conftest import ROOT, write_jsonl

FEED = ROOT / "data" / "demo_feed.jsonl"
TRUTH = json.loads((ROOT / "data" / "demo_truth.json").read_text())
runner = CliRunner()


def snapshot(
    db: Path,
) -> tuple[dict[str, frozenset[str]], dict[tuple[str, int], tuple[str | None, int | None, str]]]:
    """(cluster origin -> members, (article, paragraph) -> (source, source paragraph, kind)), by article id."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        ids = dict(con.execute("SELECT article_key, article_id FROM articles").fetchall())
        clusters: dict[str, set[str]] = {}
        for origin, key in con.execute(
            "SELECT c.origin, m.article_key FROM cluster_members m JOIN clusters c USING (cluster_id)"
        ).fetchall():
            clusters.setdefault(ids[origin], set()).add(ids[key])
        reuse = {
            (ids[k], p): (ids.get(s), sp, kind)
            for k, p, s, sp, kind in con.execute(
                "SELECT article_key, paragraph, source_key, source_paragraph, kind FROM reuse"
            ).fetchall()
        }
    finally:
        con.close()
    return {k: frozenset(v) for k, v in clusters.items()}, reuse


def test_clusters_equal_the_truth(demo_db: Path) -> None:
    clusters, _ = snapshot(demo_db)
    truth = {c["origin"]: frozenset(c["members"]) for c in TRUTH["clusters"]}
    assert clusters == truth


def test_evaluate_scores_the_demo_against_its_truth(demo_db: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", str(ROOT / "data" / "demo_truth.json"), "--db", str(demo_db), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["pairs"]["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert doc["ari"] == doc["ami"] == doc["bcubed"]["f1"] == 1.0
    assert (
        doc["provenance"]["source"] == doc["provenance"]["wire"] == 1.0
        and doc["provenance"]["paragraphs"] > 300
    )
    assert doc["hard_negative_rate"] == 0.0 and doc["missing"] == 0
    assert doc["pairs"]["confusion"]["partial"] == {
        "partial": sum(p["relation"] == "partial" for p in TRUTH["pairs"])
    }
    table = runner.invoke(
        app,
        ["evaluate", str(ROOT / "data" / "demo_truth.json"), "--db", str(demo_db), "-f", "table"],
        env={"COLUMNS": "160"},  # a long checkout path must not squeeze the table
    )
    assert "cluster ARI" in table.stdout and "recall per copy" in table.stdout  # titles wrap to the table
    bad = runner.invoke(app, ["evaluate", str(ROOT / "seeds" / "README.md"), "--db", str(demo_db)])
    assert bad.exit_code == 1 and "not a JSON truth file" in bad.stderr


def test_every_patchwork_paragraph_gets_its_true_source(demo_db: Path) -> None:
    _, reuse = snapshot(demo_db)
    checked = 0
    for article, paragraphs in TRUTH["provenance"].items():
        for item in paragraphs:
            source, source_paragraph, kind = reuse[article, item["paragraph"]]
            assert source == item["source"], (article, item)
            if source is not None:
                assert source_paragraph == item["source_paragraph"] and kind == "verbatim"
                assert TRUTH["articles"][source]["outlet"] in ("The Associated Press", "The Washington Post")
            checked += 1
    assert checked > 300


def test_hard_negatives_are_not_linked(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        for a, b in TRUTH["hard_negatives"]:
            rows = con.execute(
                """SELECT p.relation FROM pairs p JOIN articles x ON x.article_key = p.a JOIN articles y ON y.article_key = p.b
                   WHERE (x.article_id = ? AND y.article_id = ?) OR (x.article_id = ? AND y.article_id = ?)""",
                [a, b, b, a],
            ).fetchall()
            assert rows in ([], [("none",)]), (a, b, rows)
    finally:
        con.close()


def test_three_date_ordered_batches_give_the_same_result(
    demo_db: Path, tmp_path: Path, model: MiniLMEmbedder
) -> None:
    records = [json.loads(line) for line in FEED.read_text().splitlines()]  # already in date order
    db = tmp_path / "batches.duckdb"
    third = len(records) // 3
    with Store.open(db) as store:
        for i, part in enumerate((records[:third], records[third : 2 * third], records[2 * third :])):
            ingest(store, [str(write_jsonl(tmp_path / f"part{i}.jsonl", part))], embedder=model)
    assert snapshot(db) == snapshot(demo_db)


def test_listing_commands_give_json(demo_db: Path) -> None:
    db = ["--db", str(demo_db)]
    clusters = json.loads(runner.invoke(app, ["clusters", *db, "-f", "json"]).stdout)
    assert len(clusters) == len(TRUTH["clusters"])
    assert {"cluster_id", "size", "origin", "origin_outlet", "origin_title", "outlets"} <= set(clusters[0])
    biggest = clusters[0]
    shown = json.loads(runner.invoke(app, ["show", biggest["cluster_id"], *db, "-f", "json"]).stdout)
    assert shown[0]["relation"] == "origin" and shown[0]["article"] == biggest["origin"]
    assert all(row["relation"] in ("duplicate", "rewrite") for row in shown[1:])
    assert (
        len(json.loads(runner.invoke(app, ["clusters", *db, "-f", "json", "--min-size", "99"]).stdout)) == 0
    )
    late = json.loads(runner.invoke(app, ["clusters", *db, "-f", "json", "--since", "2026-11-01"]).stdout)
    assert [c["origin"] for c in late] == ["ap-baseball"]
    reuters = json.loads(runner.invoke(app, ["clusters", *db, "-f", "json", "--outlet", "Reuters"]).stdout)
    assert [c["origin"] for c in reuters] == ["reuters-wildfire"]
    by_date = json.loads(runner.invoke(app, ["clusters", *db, "-f", "json", "--sort", "date"]).stdout)
    firsts = [c["first_published"] for c in by_date]
    assert firsts == sorted(firsts) and by_date[0]["origin"] == "wapo-transit"
    prov = json.loads(runner.invoke(app, ["provenance", "patchwork-00", *db, "-f", "json"]).stdout)
    assert [p["source"] for p in prov if p["source"]] == [
        s["source"] for s in TRUTH["provenance"]["patchwork-00"] if s["source"]
    ]
    sources = json.loads(runner.invoke(app, ["sources", *db, "-f", "json"]).stdout)
    by_source: dict[str, int] = {}
    for row in sources:
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["paragraphs"]
    top = sorted(by_source, key=by_source.__getitem__, reverse=True)
    assert set(top[:2]) == {"AP", "Washington Post"}
    assert sum(by_source[w] for w in ("AP", "Washington Post", "Reuters", "CNN", "Politico")) >= 0.95 * sum(
        by_source.values()
    )
    missing = runner.invoke(app, ["show", "c999999", *db])
    assert missing.exit_code == 1 and "no cluster" in missing.stderr


def test_demo_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--format", "json", "--db", str(tmp_path / "demo.duckdb")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["clusters"]) == len(TRUTH["clusters"])
    sources = {p["source_wire"] for p in doc["provenance"]["paragraphs"] if p["source"]}
    assert len(doc["provenance"]["paragraphs"]) > 5 and sources


def test_index_after_no_index_builds_clusters_and_provenance(
    demo_db: Path, tmp_path: Path, model: MiniLMEmbedder
) -> None:
    from dedup.pipeline import IngestOptions, index

    db = tmp_path / "deferred.duckdb"
    with Store.open(db) as store:
        ingest(store, [str(FEED)], IngestOptions(index=False), embedder=model)
        index(store, embedder=model)
    assert snapshot(db) == snapshot(demo_db)
