"""`dedup prune`: the candidate index kept to a window. What was found stays queryable;
later articles pair with what is inside the window, never with what was pruned."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from dedup.cli import app
from tests.conftest import ROOT, write_jsonl

runner = CliRunner()


def story(name: str) -> str:
    return (ROOT / "seeds" / name).read_text(encoding="utf-8").split("---\n", 1)[1]


OLD, NEW = story("01_ap_derailment.txt"), story("05_ap_tornado.txt")
TAIL = "\n\nA spokesman for the county said crews from three towns worked through the night."


def ingest(db: Path, folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    result = runner.invoke(
        app, ["ingest", str(write_jsonl(folder / name, rows)), "--db", str(db), "--no-embed", "-q"]
    )  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output


def listing(db: Path, *command: str) -> object:
    result = runner.invoke(app, ["--db", str(db), *command, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_prune_keeps_what_was_found_and_forgets_old_articles_for_search(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    ingest(db, tmp_path, "day1.jsonl", [
        {"id": "old", "source": "AP", "published": "2026-01-01T10:00:00Z", "body": OLD},
        {"id": "old-copy", "source": "Gazette", "published": "2026-01-02T10:00:00Z", "body": OLD + TAIL},
        {"id": "new", "source": "AP", "published": "2026-03-01T10:00:00Z", "body": NEW},
    ])  # fmt: skip
    before = {c: listing(db, *c.split()) for c in ("pairs", "clusters", "provenance old-copy", "stats")}

    pruned = listing(db, "prune", "--keep-days", "30")
    assert isinstance(pruned, dict)
    assert pruned["articles"] == 2 and pruned["doc_bands"] > 0 and pruned["before"].startswith("2026-01-30")
    with duckdb.connect(str(db), read_only=True) as con:
        keys = dict(con.execute("SELECT article_id, article_key FROM articles").fetchall())
        left = {k for (k,) in con.execute("SELECT DISTINCT article_key FROM doc_bands").fetchall()}
        assert left == {keys["new"]}
    # everything found stays as it was
    after = {c: listing(db, *c.split()) for c in ("pairs", "clusters", "provenance old-copy")}
    assert after == {k: v for k, v in before.items() if k != "stats"}
    assert runner.invoke(app, ["--db", str(db), "check"]).exit_code == 0
    again = listing(db, "prune", "--keep-days", "30")
    assert isinstance(again, dict) and again["articles"] == 0  # idempotent

    # the next day: a copy inside the window is found, a copy of a pruned story is not
    ingest(db, tmp_path, "day2.jsonl", [
        {"id": "new-copy", "source": "Courier", "published": "2026-03-02T10:00:00Z", "body": NEW + TAIL},
        {"id": "old-late-copy", "source": "Courier", "published": "2026-03-02T11:00:00Z", "body": OLD + TAIL},
    ])  # fmt: skip
    pairs = {(p["a"], p["b"]) for p in listing(db, "pairs")}  # type: ignore[union-attr]
    assert ("new", "new-copy") in pairs
    assert not {p for p in pairs if "old-late-copy" in p and ("old" in p or "old-copy" in p)}
    assert runner.invoke(app, ["--db", str(db), "check"]).exit_code == 0


def test_prune_usage(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    ingest(
        db,
        tmp_path,
        "f.jsonl",
        [{"id": "a", "source": "AP", "published": "2026-01-01T10:00:00Z", "body": OLD}],
    )
    assert runner.invoke(app, ["--db", str(db), "prune"]).exit_code == 2
    assert (
        runner.invoke(app, ["--db", str(db), "prune", "--before", "2026-01-01", "--keep-days", "3"]).exit_code
        == 2
    )
    bad = runner.invoke(app, ["--db", str(db), "prune", "--before", "yesterday"])
    assert bad.exit_code == 2 and "ISO" in bad.output
    assert listing(db, "prune", "--before", "2025-01-01")["articles"] == 0  # type: ignore[index]


def test_compact_writes_a_copy_that_holds_everything_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    ingest(db, tmp_path, "day1.jsonl", [
        {"id": f"old-{k}", "source": "AP", "published": f"2026-01-{k + 1:02d}T10:00:00Z", "body": OLD + TAIL * k}
        for k in range(12)
    ] + [{"id": "new", "source": "AP", "published": "2026-03-01T10:00:00Z", "body": NEW}])  # fmt: skip
    listing(db, "prune", "--keep-days", "30")
    original = db.read_bytes()
    copy = tmp_path / "compacted.duckdb"
    summary = listing(db, "compact", "--to", str(copy))
    assert isinstance(summary, dict) and summary["tables"] >= 20 and summary["rows"] > 0
    assert db.read_bytes() == original  # the database itself is left as it was
    for command in ("pairs", "clusters", "provenance old-3", "stats", "candidates"):
        assert listing(copy, *command.split()) == listing(db, *command.split())
    assert runner.invoke(app, ["--db", str(copy), "check"]).exit_code == 0
    assert not list(tmp_path.glob(".*partial*"))
    # a later day still pairs inside the window, in the copy as in the original
    ingest(copy, tmp_path, "day2.jsonl", [{"id": "new-copy", "source": "Gazette", "published": "2026-03-02T10:00:00Z", "body": NEW + TAIL}])  # fmt: skip
    pairs = listing(copy, "pairs")
    assert isinstance(pairs, list) and any({p["a"], p["b"]} == {"new", "new-copy"} for p in pairs)
    again = runner.invoke(app, ["--db", str(db), "compact", "--to", str(copy)])
    assert again.exit_code != 0 and "exists already" in again.output
    nowhere = runner.invoke(app, ["--db", str(db), "compact", "--to", str(tmp_path / "no" / "copy.duckdb")])
    assert nowhere.exit_code == 1 and "no folder" in nowhere.output
