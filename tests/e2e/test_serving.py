"""`dedup serve` under load and attack, and hostile data through the CLI: comparisons off
the event loop, readers yielding to a writer, markup and control characters in data,
validated parameters, links that resolve, report pages that never collide."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dedup
from dedup.cli import app
from dedup.store import Store
from tests.conftest import ROOT, outliving, write_jsonl

pytest.importorskip("starlette")
pytest.importorskip("httpx")
import httpx
from starlette.testclient import TestClient

from dedup.web import COMPARE_QUEUE, MAX_PASTE_CHARS, create_app

runner = CliRunner()
STORY = (ROOT / "seeds" / "01_ap_derailment.txt").read_text(encoding="utf-8").split("---\n", 1)[1]
HOSTILE = "[/x] [bold]red[/bold] \x1b]0;owned\x07 \u202eevil"


def lexical(a: str, b: str) -> dedup.Comparison:
    return dedup.compare(a, b, embedder=None)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database whose ids, titles and outlets carry Rich markup and control characters."""
    folder = tmp_path_factory.mktemp("hostile")
    rows = [
        {"id": f"story{HOSTILE}", "title": f"Title {HOSTILE}", "source": f"Outlet {HOSTILE}", "body": STORY},
        {"id": f"copy{HOSTILE}\r\n2", "title": "[/x]", "source": "[red]", "body": STORY + "\n\nSign up now"},
        {"id": "..", "title": "dots", "source": "Dots", "body": STORY.replace("Tuesday", "Monday")},
        {"id": "x" * 5000, "title": "long id", "source": "Long", "body": STORY.replace("police", "troopers")},
    ]
    db = folder / "hostile.duckdb"
    result = runner.invoke(
        app,
        ["ingest", str(write_jsonl(folder / "feed.jsonl", rows)), "--db", str(db), "--no-embed", "-q"],  # type: ignore[arg-type]
    )
    assert result.exit_code == 0, result.output
    return db


def ids(db: Path) -> list[str]:
    with Store.open(db, read_only=True) as store:
        return [
            r[0] for r in store.con.execute("SELECT article_id FROM articles ORDER BY article_key").fetchall()
        ]


def test_ids_lose_their_control_characters(hostile_db: Path) -> None:
    stored = ids(hostile_db)
    assert stored[0] == "story[/x] [bold]red[/bold] ]0;owned evil"
    assert not any(ch in "".join(stored) for ch in "\x1b\x07\r\n\u202e")


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["clusters"],
        ["show", "c1"],
        ["pairs"],
        ["candidates"],
        ["provenance", "STORY"],
        ["sources"],
    ],
)
def test_markup_in_data_never_breaks_a_listing(hostile_db: Path, command: list[str]) -> None:
    command = [ids(hostile_db)[1] if c == "STORY" else c for c in command]
    result = runner.invoke(app, [*command, "--db", str(hostile_db), "-f", "table"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "MarkupError" not in result.output and "\x1b" not in result.stdout
    if command[0] in ("clusters", "pairs", "stats", "show"):
        assert "[/x]" in result.stdout or "[red]" in result.stdout


def test_markup_in_a_diff_and_in_messages(hostile_db: Path, tmp_path: Path) -> None:
    a, b = ids(hostile_db)[:2]
    diff = runner.invoke(app, ["diff", a, b, "--db", str(hostile_db), "--no-embed", "-f", "table"])
    assert diff.exit_code == 0, diff.output
    missing = runner.invoke(app, ["stats", "--db", str(tmp_path / "[/x]" / "none.duckdb")])
    assert missing.exit_code == 1 and "[/x]" in missing.stderr and "MarkupError" not in missing.output


def test_csv_and_html_never_carry_raw_controls(hostile_db: Path, tmp_path: Path) -> None:
    csv_out = runner.invoke(app, ["show", "c1", "--db", str(hostile_db), "-f", "csv"]).stdout
    assert "\x1b" not in csv_out and "\x07" not in csv_out
    site = tmp_path / "site"
    assert runner.invoke(app, ["report", "--html", str(site), "--db", str(hostile_db)]).exit_code == 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert (
            "\x1b" not in text and "[bold]red" not in text.replace("[bold]red[/bold]", "")
        ) or "<bold>" not in text


def test_links_resolve_for_every_id(hostile_db: Path) -> None:
    with TestClient(create_app(hostile_db, lexical), raise_server_exceptions=False) as c:
        home = c.get("/")
        assert home.status_code == 200
        for ref in ids(hostile_db):
            from dedup.report.site import Links

            link = Links(static=False).article(ref)
            page = c.get(link)
            assert page.status_code == 200, (ref[:40], link[:80])
            assert (
                "long id" in page.text or "dots" in page.text or "Title" in page.text or "[/x]" in page.text
            )
        long_id, dots = "x" * 5000, ".."
        diff = c.get("/api/diff", params={"a": long_id, "b": dots})
        assert diff.status_code == 200 and {diff.json()["a"]["id"], diff.json()["b"]["id"]} == {long_id, dots}
        same = c.get("/diff", params={"a": dots, "b": dots})  # as `dedup diff X X`
        assert same.status_code == 200 and "Verdict:" in same.text


def test_bad_parameters_are_400s(hostile_db: Path) -> None:
    with TestClient(create_app(hostile_db, lexical), raise_server_exceptions=False) as c:
        for value in ("notadate", "2026-13-45"):
            page = c.get("/search", params={"since": value})
            assert page.status_code == 400 and "since: not a date" in page.text
        assert c.get("/?page=x").status_code == 400 and c.get("/?page=0").status_code == 400
        assert c.get("/search", params={"q": "%"}).status_code == 200
        assert "0 articles" in c.get("/search", params={"q": "%"}).text  # % is a character, not a wildcard


def test_the_paste_limit_counts_characters(hostile_db: Path) -> None:
    def head(a: str, b: str) -> dedup.Comparison:  # the limit is on trial, not the comparison
        return lexical(a[:500], b[:500])

    with TestClient(create_app(hostile_db, head), raise_server_exceptions=False) as c:
        cjk = "漢字の記事です。" * (100_000 // 8)
        assert c.post("/compare", data={"a": cjk, "b": cjk}).status_code == 200
        too_long = "a" * (MAX_PASTE_CHARS + 1)
        page = c.post("/compare", data={"a": too_long, "b": "kept text of b"})
        assert page.status_code == 413 and "kept text of b" in page.text  # the form again, text kept


def test_report_diff_pages_never_collide(tmp_path: Path) -> None:
    body_1, body_2 = STORY, (ROOT / "seeds" / "02_wapo_bridges.txt").read_text().split("---\n", 1)[1]
    rows = [
        {"id": "p", "body": body_1, "published": "2026-01-01"}, {"id": "q__r", "body": body_1, "published": "2026-01-02"},
        {"id": "p__q", "body": body_2, "published": "2026-01-01"}, {"id": "r", "body": body_2, "published": "2026-01-02"},
    ]  # fmt: skip
    db = tmp_path / "c.duckdb"
    assert (
        runner.invoke(
            app, ["ingest", str(write_jsonl(tmp_path / "f.jsonl", rows)), "--db", str(db), "--no-embed", "-q"]
        ).exit_code
        == 0
    )  # type: ignore[arg-type]
    site = tmp_path / "site"
    assert runner.invoke(app, ["report", "--html", str(site), "--db", str(db), "-q"]).exit_code == 0
    pages = list((site / "diffs").glob("*.html"))
    assert len(pages) == 2
    assert {"Verdict" in p.read_text() for p in pages} == {True}
    texts = [p.read_text() for p in pages]
    assert sum("q__r" in t for t in texts) == 1 and sum("p__q" in t for t in texts) == 1


def test_report_pages_its_index(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    import dedup.report.site as site_module

    monkeypatch.setattr(site_module, "PAGE_SIZE", 5)
    site = tmp_path / "site"
    summary = site_module.write_site(Store.open(demo_db, read_only=True), site)
    assert summary.clusters > 10 and (site / "index-2.html").exists()
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"#?]+)', page.read_text()):
            if not href.startswith(("http", "/")):
                assert (page.parent / href).resolve().exists(), (page.name, href)


def test_serve_usage_errors() -> None:
    for args in (["--port", "99999"], ["--port", "-1"], ["--host", "[/x]"]):
        result = runner.invoke(app, ["serve", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output


# -- a real server: comparisons off the loop, readers yield to a writer -----------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slow_server(demo_db: Path) -> Iterator[str]:
    """The demo database served by uvicorn, with a comparer that takes two seconds."""
    import uvicorn

    def slow(a: str, b: str) -> dedup.Comparison:
        time.sleep(2.0)
        return lexical(a, b)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(demo_db, slow), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_compares_never_freeze_pages(slow_server: str) -> None:
    results: list[int] = []

    def compare() -> None:
        with httpx.Client(timeout=30) as c:
            results.append(c.post(f"{slow_server}/compare", data={"a": STORY, "b": STORY}).status_code)

    threads = [threading.Thread(target=compare) for _ in range(COMPARE_QUEUE + 2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    with httpx.Client(timeout=30) as c:
        started = time.perf_counter()
        for _ in range(5):
            assert c.get(f"{slow_server}/").status_code == 200
            assert c.get(f"{slow_server}/api/clusters").status_code == 200
        pages = time.perf_counter() - started
    for t in threads:
        t.join()
    assert pages < 2.0, pages  # ten requests while six two-second compares are asked for
    assert results.count(200) == COMPARE_QUEUE and results.count(503) == 2


def dedup_serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    """`dedup serve` of `db` in a process of its own, once it answers (30 s at most)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "--db", str(db), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return server


def test_an_ingest_completes_while_clients_poll(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    db.write_bytes(demo_db.read_bytes())
    port = free_port()
    server = dedup_serve(db, port)
    stop = threading.Event()
    codes: list[int] = []

    def poll() -> None:
        with httpx.Client(timeout=10) as c:
            while not stop.is_set():
                try:
                    codes.append(c.get(f"http://127.0.0.1:{port}/").status_code)
                except httpx.TransportError:
                    time.sleep(0.05)

    try:
        pollers = [threading.Thread(target=poll) for _ in range(4)]
        for t in pollers:
            t.start()
        time.sleep(1.0)
        feed = write_jsonl(
            tmp_path / "day.jsonl", [{"id": "late-story", "body": STORY + "\n\nA later line."}]
        )  # type: ignore[arg-type]
        done = subprocess.run(
            [sys.executable, "-m", "dedup.cli", "--db", str(db), "ingest", str(feed), "--no-embed", "--wait", "60", "-q"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        time.sleep(0.5)
        stop.set()
        for t in pollers:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    assert 200 in codes and set(codes) <= {200, 503}
    with Store.open(db, read_only=True) as store:
        assert store.article_key("late-story") is not None
    assert not Path(f"{db}.writing").exists()


def test_json_of_a_hostile_record_is_escaped(hostile_db: Path) -> None:
    out = runner.invoke(app, ["pairs", "--db", str(hostile_db), "-f", "json"]).stdout
    assert "\x1b" not in out and json.loads(out)


def test_a_killed_server_leaves_no_comparison_worker(demo_db: Path) -> None:
    """`dedup serve` compares in a spawned worker process; killed (SIGKILL: no shutdown
    runs), the server must not leave that worker, model loaded, waiting for ever."""
    port = free_port()
    server = dedup_serve(demo_db, port)
    try:
        reply = httpx.post(f"http://127.0.0.1:{port}/compare", data={"a": STORY, "b": STORY}, timeout=120)
        assert reply.status_code == 200
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
    finally:
        server.kill()
        server.wait(timeout=10)
    if not workers:
        pytest.skip("no /proc children list on this system")
    alive = outliving(workers)
    assert not alive, f"worker processes {alive} outlived their server"
