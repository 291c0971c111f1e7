"""The reviewer's view on the demo database: the static report (marks on the right spans,
every link resolving), `dedup serve` through Starlette's test client, and `dedup export`."""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import dedup
from dedup.cli import app
from tests.conftest import ROOT, write_lock_held

TRUTH = json.loads((ROOT / "data" / "demo_truth.json").read_text())
runner = CliRunner()


@pytest.fixture(scope="module")
def site(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = runner.invoke(app, ["report", "--html", str(out), "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    return out


def hrefs(page: Path) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page.read_text())]


def test_index_lists_every_cluster_and_every_link_resolves(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert index.count('href="clusters/') == len(TRUTH["clusters"])
    assert "Grain train derails near Millbrook" in index
    pages = [
        site / "index.html",
        *sorted(site.glob("clusters/*.html")),
        *sorted(site.glob("articles/*.html")),
    ]
    checked = 0
    for page in pages:
        for href in hrefs(page):
            target, _, anchor = href.partition("#")
            path = (page.parent / target).resolve()
            assert path.exists(), (page.name, href)
            if anchor:
                assert f'id="{anchor}"' in path.read_text(), (page.name, href)
            checked += 1
    assert checked > 1000
    assert "http://" not in index and "https://" not in index and "<script" not in index  # works from file://


def test_patchwork_page_tints_each_paragraph_by_its_true_source(site: Path) -> None:
    page = (site / "articles" / "patchwork-00.html").read_text()
    truth = {p["paragraph"]: p for p in TRUTH["provenance"]["patchwork-00"]}
    reused = re.findall(r'<div class="paragraph reused" id="p(\d+)" style="background: (#[0-9a-f]{6})', page)
    assert {int(p) for p, _ in reused} == {k for k, p in truth.items() if p["source"]}
    for paragraph, _ in reused:
        block = page.split(f'id="p{paragraph}"', 1)[1].split("</div>", 1)[0]
        want = truth[int(paragraph)]
        assert f"from <strong>{want['wire']}</strong>" in block  # a label, not colour alone
        assert f"{want['source']}, paragraph {want['source_paragraph'] + 1}" in block
    assert '<ul class="legend"' in page and "Washington Post: 6 paragraphs" in page


def test_diff_page_marks_the_edited_words(site: Path) -> None:
    from dedup.report.site import pair_name

    page = (site / "diffs" / f"{pair_name('ap-derailment', 'ap-derailment-edited-4')}.html").read_text()
    rows = re.findall(r'<tr class="(\w+)">(.*?)</tr>', page, flags=re.S)
    edited = [body for kind, body in rows if kind == "edited"]
    assert edited, "an edited reprint has edited sentence pairs"
    for body in edited:
        a_marks = re.findall(r"<mark>(.*?)</mark>", body.split('<td class="b">')[0])
        b_marks = re.findall(r"<mark>(.*?)</mark>", body.split('<td class="b">')[1])
        assert a_marks and b_marks
    a_words = {
        m.strip(" .")
        for body in edited
        for m in re.findall(r"<mark>(.*?)</mark>", body.split('<td class="b">')[0])
    }
    b_words = {
        m.strip(" .")
        for body in edited
        for m in re.findall(r"<mark>(.*?)</mark>", body.split('<td class="b">')[1])
    }
    assert "said" in a_words and "stated" in b_words
    assert sum(kind == "verbatim" for kind, _ in rows) >= 2


@pytest.fixture(scope="module")
def client(demo_db: Path, model: object):  # type: ignore[no-untyped-def]
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from dedup.web import create_app

    def compare(a: str, b: str) -> dedup.Comparison:
        return dedup.compare(a, b, embedder=model)

    with TestClient(create_app(demo_db, compare), raise_server_exceptions=False) as c:
        yield c


def test_serve_pages_and_404s(client) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/")
    assert home.status_code == 200 and home.text.count('href="/clusters/') == len(TRUTH["clusters"])
    article = client.get("/articles/patchwork-00")
    assert article.status_code == 200 and "Washington Post: 6 paragraphs" in article.text
    for missing in ("/clusters/c999999", "/articles/no-such-story", "/nowhere"):
        page = client.get(missing)
        assert page.status_code == 404 and "Traceback" not in page.text and "<h1>Not found</h1>" in page.text
    assert client.get("/api/clusters/c999999").json() == {"error": "no cluster 'c999999' in the database"}
    assert client.get("/diff?a=ap-derailment").status_code == 400


def test_serve_api_mirrors_the_cli(client, demo_db: Path) -> None:  # type: ignore[no-untyped-def]
    cli = json.loads(runner.invoke(app, ["clusters", "--db", str(demo_db), "-f", "json"]).stdout)
    assert client.get("/api/clusters").json() == cli
    first = cli[0]["cluster_id"]
    shown = json.loads(runner.invoke(app, ["show", first, "--db", str(demo_db), "-f", "json"]).stdout)
    assert client.get(f"/api/clusters/{first}").json() == shown
    prov = client.get("/api/articles/patchwork-00/provenance").json()
    want = [p["source"] for p in TRUTH["provenance"]["patchwork-00"] if p["source"]]
    assert [p["source"] for p in prov if p["source"]] == want
    diff = client.get("/api/diff", params={"a": "ap-derailment", "b": "ap-derailment-edited-4"}).json()
    assert diff["relation"] in ("duplicate", "rewrite") and any(
        x["kind"] == "edited" for x in diff["alignments"]
    )
    # a pair never verified (a hard negative) is compared live and says so
    live = client.get("/api/diff", params={"a": "ap-wildfire", "b": "reuters-wildfire"}).json()
    assert live["relation"] == "none"


def test_serve_search_and_compare_form(client) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/search", params={"q": "train derails"})
    assert found.status_code == 200 and "Grain train derails near Millbrook" in found.text
    assert "0 articles" in client.get("/search", params={"q": "zzzz-no-such-word"}).text
    text = (ROOT / "seeds" / "01_ap_derailment.txt").read_text().split("---\n", 1)[1]
    edited = text.replace(" said", " stated", 2)
    page = client.post("/compare", data={"a": text, "b": edited})
    assert page.status_code == 200 and "Verdict:" in page.text and "<mark>" in page.text
    too_big = client.post("/compare", data={"a": "x" * 200_001, "b": "y"})
    assert too_big.status_code == 413 and "Traceback" not in too_big.text
    assert client.post("/compare", data={"a": " ", "b": "y"}).status_code == 400


def test_serve_says_when_a_writer_holds_the_database(demo_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from dedup.web import create_app

    db = tmp_path / "held.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with write_lock_held(db), TestClient(create_app(db), raise_server_exceptions=False) as c:
        page = c.get("/")
        assert page.status_code == 503 and "being written by another dedup process" in page.text
    time.sleep(0.2)
    with TestClient(create_app(db), raise_server_exceptions=False) as c:
        assert c.get("/").status_code == 200


def test_export_sqlite_and_parquet(demo_db: Path, tmp_path: Path) -> None:
    target, folder = tmp_path / "demo.sqlite", tmp_path / "parquet"
    result = runner.invoke(
        app, ["export", "--db", str(demo_db), "--sqlite", str(target), "--parquet", str(folder)]
    )
    assert result.exit_code == 0, result.output
    duck = duckdb.connect(str(demo_db), read_only=True)
    lite = sqlite3.connect(target)
    try:
        for table in (
            "articles",
            "pairs",
            "clusters",
            "cluster_members",
            "reuse",
            "alignments",
            "signatures",
        ):
            n = duck.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            assert lite.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == n, table
            assert (
                duck.execute(f"SELECT count(*) FROM read_parquet('{folder / table}.parquet')").fetchall()[0][
                    0
                ]
                == n
            )
        title = duck.execute("SELECT title FROM articles WHERE article_id = 'patchwork-00'").fetchall()
        assert (
            lite.execute("SELECT title FROM articles WHERE article_id = 'patchwork-00'").fetchall() == title
        )
    finally:
        duck.close()
        lite.close()
    again = runner.invoke(app, ["export", "--db", str(demo_db), "--sqlite", str(target)])
    assert again.exit_code == 1 and "exists" in again.stderr
    assert runner.invoke(app, ["export", "--db", str(demo_db)]).exit_code == 2


# -- in a real browser: Debian's chromium, headless (installed by .ci/run; skipped without it) --

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "out" / "screenshots"


def chromium(url: str, *args: str) -> str:
    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH (.ci/run installs Debian's chromium with apt-get)")
    with tempfile.TemporaryDirectory(prefix="dedup-chromium-") as profile:
        out = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def screenshots(url: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", "1280,1000"), ("phone", "390,1600")):
        target = SCREENSHOTS / f"{name}-{label}.png"
        chromium(url, f"--window-size={size}", f"--screenshot={target}")
        assert target.stat().st_size > 10_000


def test_report_renders_in_chromium(site: Path) -> None:
    dom = chromium((site / "articles" / "patchwork-00.html").as_uri(), "--dump-dom")
    truth = [p for p in TRUTH["provenance"]["patchwork-00"] if p["source"]]
    assert dom.count('class="paragraph reused"') == len(truth)
    assert "Washington Post: 6 paragraphs" in dom
    screenshots((site / "index.html").as_uri(), "report-index")
    screenshots((site / "articles" / "patchwork-00.html").as_uri(), "report-patchwork")


def test_live_diff_page_renders_in_chromium(demo_db: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH (.ci/run installs Debian's chromium with apt-get)")
    pytest.importorskip("uvicorn")
    import socket
    import threading

    import uvicorn

    from dedup.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(demo_db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/diff?a=ap-derailment&b=ap-derailment-edited-4"
        dom = chromium(url, "--dump-dom")
        assert "Verdict:" in dom and dom.count("<mark>") >= 4 and 'class="edited"' in dom
        screenshots(url, "serve-diff")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
