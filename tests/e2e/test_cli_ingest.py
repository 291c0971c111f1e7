"""End-to-end: the `dedup` command on real and deliberately broken files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dedup.cli import app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input, env=env)


def table_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_ingest_all_of_reuters(
    reuters_db: tuple[Path, dict[str, object]], reuters_jsonl: Path, reuters_records: list[dict[str, object]]
) -> None:
    db, summary = reuters_db
    # One story (newid 12793) has neither title nor body; one has an impossible date (kept).
    assert summary["read"] == 21578
    assert summary["stored"] == 21577 and summary["rejected"] == 1 and summary["fields_dropped"] == 1
    assert summary["title_only"] == sum(1 for r in reuters_records if not r["body"] and r["title"])
    problems = {p["line"]: p for p in summary["problems"]}  # type: ignore[attr-defined]
    assert problems[12793]["field"] == "body"
    assert problems[17192]["field"] == "date"

    # Spans are exact: every stored sentence is a substring of its paragraph of the normalised body.
    bad = table_rows(
        db,
        """SELECT count(*) FROM sentences s JOIN paragraphs p USING (article_key, paragraph)
           WHERE NOT (p.start_char <= s.start_char AND s.start_char < s.end_char AND s.end_char <= p.end_char)""",
    )
    assert bad == [(0,)]
    first = table_rows(
        db,
        """SELECT substring(a.body, s.start_char + 1, s.end_char - s.start_char) FROM sentences s
           JOIN articles a USING (article_key) WHERE a.article_id = '1' ORDER BY s.sentence LIMIT 2""",
    )
    assert first[1][0] == "The dry period means the temporao will be late this year."
    assert table_rows(db, "SELECT count(*) FROM articles WHERE wire = 'Reuters'")[0][0] > 19000

    # Ingesting the same file again (into a copy) is a no-op.
    copy = db.with_name("again.duckdb")
    shutil.copy(db, copy)
    again = run("ingest", str(reuters_jsonl), "--db", str(copy), "--format", "json", "--quiet")
    assert json.loads(again.stdout)["unchanged"] == 21577
    assert table_rows(copy, "SELECT count(*) FROM articles") == [(21577,)]
    assert json.loads(again.stdout)["index"]["candidates"] == 0

    stats = run("stats", "--db", str(db), "--format", "json")
    assert json.loads(stats.stdout)["articles"] == 21577


def test_broken_records_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    result = run(
        "--db", str(db), "ingest", str(FIXTURES / "broken.jsonl"), str(FIXTURES / "broken.csv"),
        "--max-chars", "100000", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    by_line = {(Path(p["file"]).name, p["line"]): p for p in summary["problems"]}
    expected = {
        ("broken.jsonl", 2): ("", "malformed JSON"),
        ("broken.jsonl", 3): ("", "expected a JSON object"),
        ("broken.jsonl", 5): ("body", "missing body"),
        ("broken.jsonl", 6): ("body", "empty body"),
        ("broken.jsonl", 7): ("body", "expected text"),
        ("broken.jsonl", 8): ("body", "undecodable"),
        ("broken.jsonl", 9): ("body", "article too large"),
        ("broken.jsonl", 10): ("date", "unparseable date"),
        ("broken.csv", 3): ("", "expected 4 columns"),
    }
    for key, (field, reason) in expected.items():
        assert by_line[key]["field"] == field and reason in by_line[key]["reason"], by_line[key]
    assert summary["stored"] == 6  # ok-1, derived id, bad-date (date dropped), ok-2, c1, c3
    assert summary["derived_ids"] == 1
    assert "derived one from the content" in result.stderr
    raw = table_rows(db, "SELECT raw FROM rejects WHERE line = 8")[0][0]
    assert "Caf" in raw  # the raw text is kept, bytes replaced
    ids = {r[0] for r in table_rows(db, "SELECT article_id FROM articles")}
    assert {"ok-1", "ok-2", "bad-date", "c1", "c3"} <= ids


def test_strict_leaves_database_as_before(tmp_path: Path, sample_feed: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert run("ingest", str(sample_feed), "--db", str(db)).exit_code == 0
    before = (
        table_rows(db, "SELECT count(*) FROM articles")[0][0],
        table_rows(db, "SELECT count(*) FROM runs")[0][0],
    )
    result = run("ingest", "--strict", str(FIXTURES / "broken.jsonl"), "--db", str(db))
    assert result.exit_code == 1
    assert "broken.jsonl:2" in result.stderr and "malformed JSON" in result.stderr
    after = (
        table_rows(db, "SELECT count(*) FROM articles")[0][0],
        table_rows(db, "SELECT count(*) FROM runs")[0][0],
    )
    assert before == after
    assert table_rows(db, "SELECT count(*) FROM rejects") == [(0,)]


def test_new_version_not_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "v.duckdb"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "story", "body": "First text."}) + "\n")
    run("ingest", str(feed), "--db", str(db))
    feed.write_text(json.dumps({"id": "story", "body": "Corrected text."}) + "\n")
    summary = json.loads(run("ingest", str(feed), "--db", str(db), "-f", "json").stdout)
    assert summary["new_versions"] == 1
    assert table_rows(db, "SELECT version, body FROM articles ORDER BY version") == [
        (1, "First text."),
        (2, "Corrected text."),
    ]


def test_versions_within_one_run_across_batches(tmp_path: Path) -> None:
    """An id that comes back later in the same input, in a later batch (already committed),
    is a new version when its text changed and unchanged when not, as across runs: the
    run looks its own ids up apart from what was stored before it."""
    db = tmp_path / "v.duckdb"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "old", "body": "Stored the day before."}) + "\n")
    run("ingest", str(feed), "--db", str(db))
    records = [{"id": f"s{i}", "body": f"Story number {i} of the day."} for i in range(5)]
    records += [
        {"id": "s1", "body": "Story number 1 of the day, corrected."},
        {"id": "s2", "body": "Story number 2 of the day."},
        {"id": "old", "body": "Stored the day before."},
        {"id": "old", "body": "Stored the day before, corrected."},
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = run("ingest", str(feed), "--db", str(db), "--batch-size", "2", "-f", "json")
    summary = json.loads(result.stdout)
    assert (summary["stored"], summary["unchanged"], summary["new_versions"]) == (7, 2, 2)
    assert table_rows(db, "SELECT article_id, version FROM articles WHERE version > 1 ORDER BY 1") == [
        ("old", 2),
        ("s1", 2),
    ]


def test_db_option_positions_env_and_stdin(tmp_path: Path, sample_feed: Path) -> None:
    db = tmp_path / "env.duckdb"
    text = sample_feed.read_text()
    result = run("ingest", "-", "--format", "json", env={"DEDUP_DB": str(db)}, input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stored"] == 4
    stats = json.loads(run("--db", str(db), "stats", "-f", "json").stdout)
    assert stats["articles"] == 4
    assert {o["wire"] for o in stats["outlets"]} >= {"AP", "Washington Post"}
    csv_out = run("stats", "--db", str(db), "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("outlet,wire,articles")


def test_usage_and_store_errors(tmp_path: Path) -> None:
    assert run("ingest", "x.jsonl", "--format", "yaml").exit_code == 2
    assert run("ingest", "x.jsonl", "--map", "nonsense").exit_code == 2
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 500)
    result = run("stats", "--db", str(junk))
    assert result.exit_code == 1 and "Traceback" not in result.output
    missing = run("ingest", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "m.duckdb"), "-f", "json")
    assert missing.exit_code == 1 and "could not be read" in missing.stderr  # a cron job must notice
    assert "cannot open" in json.loads(missing.stdout)["problems"][0]["reason"]


def test_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dedup.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "ingest" in out.stdout
