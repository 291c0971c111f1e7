"""A newcomer's session, as issue 19 walked it: `dedup trace` on real copy (CLI and server),
progress on long steps, tables that fit 100 columns, an evaluation that refuses the wrong
corpus, help and counts that say what the commands do, one paragraph numbering, pairs with
the origin first, pages and listings for feeds without titles or outlets."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import dedup.cli
from dedup.cli import app
from dedup.store import Store
from tests.conftest import DATA, ROOT, bbc_records, write_jsonl, write_lock_held

runner = CliRunner()
DEMO = ROOT / "data" / "demo_feed.jsonl"


def paragraphs(body: str) -> list[str]:
    """Reuters' hard-wrapped body as paragraphs (a new one starts at an indented line)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s{2,}", body) if p.strip()]


@pytest.fixture(scope="module")
def rerun(reuters_records: list[dict[str, object]]) -> tuple[str, str]:
    """A long Reuters story whose title is unique in the corpus, trimmed as a reprint trims:
    first and last paragraphs cut, the rest as plain text. (id, text)"""
    titles: dict[str, int] = {}
    for r in reuters_records:
        titles[str(r["title"])] = titles.get(str(r["title"]), 0) + 1
    best = max(
        (r for r in reuters_records if r.get("body") and titles[str(r["title"])] == 1),
        key=lambda r: (len(paragraphs(str(r["body"]))) >= 8, -abs(len(str(r["body"]).split()) - 700)),
    )
    kept = paragraphs(str(best["body"]))[1:-1]
    return str(best["newid"]), "Trimmed rerun\n\n" + "\n\n".join(kept)


def test_trace_finds_the_original_of_a_trimmed_rerun(
    reuters_db: tuple[Path, dict[str, object]], rerun: tuple[str, str], tmp_path: Path
) -> None:
    db, _ = reuters_db
    original, text = rerun
    before = (db.stat().st_size, db.stat().st_mtime_ns)
    with Store.open(db, read_only=True) as store:
        counts = store.counts()
    path = tmp_path / "rerun.txt"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["trace", str(path), "--db", str(db), "--no-embed", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    body = [r for r in rows if r["role"] == "body"]
    traced = [r for r in body if r["source"]]
    assert len(traced) >= 0.8 * len(body)
    assert {r["source"] for r in traced} == {original}
    assert all(r["kind"] == "verbatim" for r in traced)
    # the same fields as `dedup provenance` gives for a stored article
    stored = runner.invoke(app, ["provenance", original, "--db", str(db), "-f", "json"])
    assert set(json.loads(stored.stdout)[0]) == set(rows[0])
    # read-only: nothing written, not even a checkpoint
    assert (db.stat().st_size, db.stat().st_mtime_ns) == before
    with Store.open(db, read_only=True) as store:
        assert store.counts() == counts


def test_trace_of_a_story_not_in_the_archive_finds_nothing(
    reuters_db: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    db, _ = reuters_db
    story = next(r for r in bbc_records() if r["id"] == "business/001.txt")
    path = tmp_path / "bbc.txt"
    path.write_text(story["title"] + "\n\n" + story["body"], encoding="utf-8")
    result = runner.invoke(app, ["trace", str(path), "--db", str(db), "--no-embed", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and not any(r["source"] for r in rows)
    table = runner.invoke(app, ["trace", str(path), "--db", str(db), "--no-embed", "-f", "table"])
    assert "0 of" in table.stdout and "sources: none" in table.stdout


def test_trace_from_the_server(reuters_db: tuple[Path, dict[str, object]], rerun: tuple[str, str]) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    import dedup as api
    from dedup.web import create_app

    db, _ = reuters_db
    original, text = rerun
    with TestClient(create_app(db, compare=lambda a, b: api.compare(a, b, embedder=None))) as client:
        rows = client.post("/api/trace", json={"text": text}).json()
        assert {r["source"] for r in rows if r["source"]} == {original}
        page = client.post("/trace", data={"text": text})
        assert page.status_code == 200 and original in page.text and "paragraph" in page.text
        assert client.get("/trace").status_code == 200
        assert client.post("/api/trace", json={"text": " "}).status_code == 400


def test_trace_waits_for_an_ingest(demo_db: Path, tmp_path: Path) -> None:
    """Trace reads the database as it is between writes: while an ingest holds it, trace
    waits (up to --wait) and then runs; with --wait 0 it says who holds it (exit 75)."""
    story = tmp_path / "story.txt"
    story.write_text((ROOT / "seeds" / "05_ap_tornado.txt").read_text(encoding="utf-8").split("---\n", 1)[1])
    command = [sys.executable, "-m", "dedup.cli", "--db", str(demo_db), "trace", str(story), "--no-embed"]
    with write_lock_held(demo_db) as pid:
        busy = subprocess.run([*command, "--wait", "0", "-f", "json"], capture_output=True, text=True)
        assert busy.returncode == 75 and str(pid) in busy.stderr
        waiting = subprocess.Popen(
            [*command, "--wait", "60", "-f", "json"], stdout=subprocess.PIPE, text=True
        )
        time.sleep(2)
        assert waiting.poll() is None  # still waiting for the writer
    out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0
    assert any(r["source"] for r in json.loads(out))


def test_long_steps_show_progress_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    for part in (dedup.cli.common, dedup.cli.read, dedup.cli.write):  # each holds the stderr console
        monkeypatch.setattr(part, "err", terminal)
    db = tmp_path / "demo.duckdb"
    result = runner.invoke(app, ["ingest", str(DEMO), "--db", str(db), "--no-embed"])
    assert result.exit_code == 0
    for stage in ("reading", "fingerprints", "candidates", "verification", "clusters", "provenance"):
        assert stage in screen.getvalue(), stage
    assert re.search(r"\d+/\d+", screen.getvalue())  # counts
    screen.truncate(0)
    report = runner.invoke(app, ["report", "--html", str(tmp_path / "out"), "--db", str(db)])
    assert report.exit_code == 0 and "pages" in screen.getvalue()
    # piped (CliRunner's stderr is no terminal): nothing but the summary
    monkeypatch.undo()
    quiet = runner.invoke(app, ["ingest", str(DEMO), "--db", str(tmp_path / "b.duckdb"), "--no-embed"])
    assert "verification" not in quiet.stderr and "\x1b[" not in quiet.stderr


def test_tables_fit_100_columns(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    for command in (["clusters"], ["show", "c1"], ["pairs", "--limit", "20"], ["stats"], ["sources"]):
        result = runner.invoke(app, ["--db", str(demo_db), *command, "-f", "table"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 100, command
        assert "['" not in result.stdout  # lists joined, never a Python repr
    clusters = runner.invoke(app, ["--db", str(demo_db), "clusters", "-f", "table"]).stdout
    header = next(line for line in clusters.splitlines() if "cluster_id" in line)
    assert "origin_headline" in header  # whole, never `origin_hea` / `dline`
    stats = runner.invoke(app, ["--db", str(demo_db), "--width", "120", "stats", "-f", "table"]).stdout
    assert "first (UTC)" in stats
    assert re.search(r"\b20\d\d-\d\d-\d\d \d\d:\d\d\b", stats) and "T0" not in stats
    narrow = runner.invoke(app, ["--db", str(demo_db), "--width", "60", "clusters", "-f", "table"]).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 60 and "columns not shown" in narrow
    # piped with no width: every column at its natural width, none dropped
    monkeypatch.delenv("COLUMNS")
    wide = runner.invoke(app, ["--db", str(demo_db), "clusters", "-f", "table"]).stdout
    assert "outlets" in wide and "not shown" not in wide


def test_pages_show_utc_like_the_cli(demo_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(demo_db), "report", "--html", str(tmp_path / "site"), "-q"])
    assert result.exit_code == 0
    index = (tmp_path / "site" / "index.html").read_text()
    cluster = next((tmp_path / "site" / "clusters").glob("*.html")).read_text()
    for page in (index, cluster):
        assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d UTC", page)
        assert not re.search(r"T\d\d:\d\d:\d\d[-+]\d\d:\d\d", page)  # no raw local offsets


def test_evaluate_refuses_another_corpus(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    rows = [
        {"id": f"n{i}", "source": "X", "body": f"Unrelated note number {i} about nothing."} for i in range(3)
    ]
    assert (
        runner.invoke(
            app, ["ingest", str(write_jsonl(tmp_path / "f.jsonl", rows)), "--db", str(db), "-q"]
        ).exit_code
        == 0
    )  # type: ignore[arg-type]
    result = runner.invoke(app, ["--db", str(db), "evaluate", str(ROOT / "data" / "demo_truth.json")])
    assert result.exit_code == 1
    assert "232 articles" in result.stderr and "not in" in result.stderr


def test_help_and_counts_say_what_commands_do(tmp_path: Path) -> None:
    from dedup.ingest import FORMATS as FORMATS_IN

    assert len(FORMATS_IN) >= 9
    text = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).stdout
    for name in FORMATS_IN:
        assert name in text
    assert not [line for line in text.splitlines() if "<bool>" in line and "--help" not in line]
    warc = DATA / "realworld" / "warc"
    files = sorted(warc.glob("*.warc*")) if warc.exists() else []
    if not files:
        pytest.skip(f"no real WARC file in {warc}")
    db = tmp_path / "warc.duckdb"
    runner.invoke(app, ["ingest", *map(str, files), "--db", str(db), "-q", "--no-embed", "--keep-going"])
    stats = json.loads(runner.invoke(app, ["--db", str(db), "stats", "-f", "json"]).stdout)
    skipped = json.loads(
        runner.invoke(app, ["--db", str(db), "rejects", "--kind", "skipped", "-f", "json"]).stdout
    )
    rejected = json.loads(
        runner.invoke(app, ["--db", str(db), "rejects", "--kind", "rejected", "-f", "json"]).stdout
    )
    assert stats["skipped"] == len(skipped) > 0 and stats["rejected"] == len(rejected)
    assert {r["action"] for r in skipped} == {"skipped"}
    one = files[0].name
    by_file = json.loads(runner.invoke(app, ["--db", str(db), "rejects", "--file", one, "-f", "json"]).stdout)
    assert all(one in r["file"] for r in by_file)
    assert (
        json.loads(runner.invoke(app, ["--db", str(db), "rejects", "--run", "99", "-f", "json"]).stdout) == []
    )
    assert runner.invoke(app, ["--db", str(db), "rejects", "--kind", "bogus"]).exit_code == 2


def test_one_paragraph_numbering(demo_db: Path, tmp_path: Path) -> None:
    """¶N on the terminal is "paragraph N" on the page; JSON counts from 0."""
    with Store.open(demo_db, read_only=True) as store:
        article = store.most_mixed_article()
        assert article
        rows = store.provenance_rows(store.article_key(article))  # type: ignore[arg-type]
    reused = next(r for r in rows if r["source"])
    table = runner.invoke(app, ["--db", str(demo_db), "provenance", article, "-f", "table"]).stdout
    assert f"from {reused['source']} ¶{reused['source_paragraph'] + 1}]" in table
    assert f"¶{reused['paragraph'] + 1} " in table
    runner.invoke(app, ["--db", str(demo_db), "report", "--html", str(tmp_path / "site"), "-q"])
    page = "\n".join(p.read_text() for p in (tmp_path / "site" / "articles").glob("*.html"))
    assert f"{reused['source']}, paragraph {reused['source_paragraph'] + 1}</a>" in page


def test_pairs_put_the_origin_first(tmp_path: Path) -> None:
    story = (ROOT / "seeds" / "01_ap_derailment.txt").read_text(encoding="utf-8").split("---\n", 1)[1]
    db = tmp_path / "order.duckdb"
    copy = {
        "id": "copy",
        "source": "Gazette",
        "published": "2026-03-02T10:00:00Z",
        "body": story
        + "\n\nA county spokesman said crews from three towns worked through the night to clear the line.",
    }
    first = {"id": "original", "source": "AP", "published": "2026-03-01T10:00:00Z", "body": story}
    for name, row in (("a.jsonl", copy), ("b.jsonl", first)):  # the copy is stored first
        assert (
            runner.invoke(
                app, ["ingest", str(write_jsonl(tmp_path / name, [row])), "--db", str(db), "-q", "--no-embed"]
            ).exit_code
            == 0
        )  # type: ignore[list-item]
    pairs = json.loads(runner.invoke(app, ["--db", str(db), "pairs", "-f", "json"]).stdout)
    assert [(p["a"], p["b"]) for p in pairs] == [("original", "copy")]
    assert (
        pairs[0]["a_outlet"] == "AP" and pairs[0]["containment_a"] == 1.0 and pairs[0]["containment_b"] < 1.0
    )


def test_feeds_without_titles_or_outlets(tmp_path: Path) -> None:
    story = (ROOT / "seeds" / "12_wapo_transit.txt").read_text(encoding="utf-8").split("---\n", 1)[1]
    rows = [{"id": str(1000 + i), "body": story + ("\n\nMore." * i)} for i in range(3)]
    db = tmp_path / "bare.duckdb"
    assert (
        runner.invoke(
            app,
            ["ingest", str(write_jsonl(tmp_path / "bare.jsonl", rows)), "--db", str(db), "-q", "--no-embed"],
        ).exit_code
        == 0
    )  # type: ignore[arg-type]
    runner.invoke(app, ["--db", str(db), "report", "--html", str(tmp_path / "site"), "-q"])
    page = next((tmp_path / "site" / "clusters").glob("*.html")).read_text()
    first_words = " ".join(story.split()[:4])
    assert first_words in page and "…" in page and "(unknown outlet)" in page
    assert '"meta"> &middot;' not in page and "&middot;  &middot;" not in page
    sources = runner.invoke(app, ["--db", str(db), "sources", "-f", "table"])
    assert "(unknown outlet)" in sources.stdout and "--source" in sources.stderr
