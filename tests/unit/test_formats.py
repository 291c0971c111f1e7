"""Every feed format, from small fixture files written for these tests, through `dedup ingest`."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dedup.cli import app
from dedup.ingest import read_records
from dedup.ingest.markup import html_to_paragraphs
from dedup.ingest.sources import sniff_format
from dedup.model import Reject
from dedup.store import Store

FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
runner = CliRunner()


def ingest_json(*paths: Path, db: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    result = runner.invoke(
        app, ["ingest", *map(str, paths), "--db", str(db), "--no-index", "-f", "json", "-q", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(db: Path) -> dict[str, dict[str, object]]:
    with Store.open(db, read_only=True) as store:
        cursor = store.con.execute(
            "SELECT article_id, title, body, outlet, byline, dateline, published, url, is_summary FROM articles"
        )
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_html_fragments_become_paragraphs() -> None:
    assert (
        html_to_paragraphs("<p>One <b>bold</b> claim.</p><script>x()</script><ul><li>Two</li></ul>")
        == "One bold claim.\n\nTwo"
    )
    assert html_to_paragraphs("") == ""


def test_ninjs_generations(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    summary = ingest_json(FORMATS / "ninjs1.jsonl", FORMATS / "ninjs2.json", FORMATS / "ninjs3.jsonl", db=db)
    articles = stored(db)
    rail = articles["urn:example:ninjs1:rail"]
    assert rail["title"] == "Grain train derails near river town" and rail["byline"] == "By Sam Rivera"
    assert rail["body"].split("\n\n") == [  # type: ignore[union-attr]
        "A freight train carrying grain derailed near a river town early Tuesday, spilling corn across a highway, police said.",
        "No one was hurt, and crews worked through the night to clear the wreckage.",
    ]
    assert rail["dateline"] == "MILLBROOK, Ore." and rail["outlet"] == "Example Wire"
    assert "urn:example:superdesk:42" in articles  # Superdesk's guid
    assert articles["urn:example:ninjs2:fire"]["byline"] == "Lee Park"
    assert (
        articles["urn:example:ninjs2:plain"]["body"]
        == "Three districts will push back the first bell by an hour next fall."
    )
    assert str(articles["urn:example:ninjs3:lander"]["published"]).startswith("2026-10-05T18:20")
    [problem] = summary["problems"]  # type: ignore[misc]
    assert problem["line"] == 3 and "malformed JSON" in problem["reason"]


def test_nitf(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    summary = ingest_json(FORMATS / "story.nitf.xml", FORMATS / "broken.nitf.xml", db=db)
    story = stored(db)["nitf-tornado-1"]
    assert story["title"] == "Tornado damages Kansas town" and story["byline"] == "By Jo Baker"
    assert story["body"].count("\n\n") == 1 and story["outlet"] == "Example Wire"  # type: ignore[union-attr]
    [problem] = summary["problems"]  # type: ignore[misc]
    assert problem["file"].endswith("broken.nitf.xml") and "XML does not parse" in problem["reason"]


def test_rss_and_atom(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    summary = ingest_json(FORMATS / "feed.rss", FORMATS / "feed.atom", FORMATS / "not-a-feed.rss", db=db)
    articles = stored(db)
    full = articles["valley-bridges-1"]
    assert full["outlet"] == "Valley Daily" and not full["is_summary"]
    assert full["body"].startswith("State lawmakers on Monday approved")  # type: ignore[union-attr]
    short = articles["https://valley.example/drought"]
    assert short["is_summary"] and short["url"] == "https://valley.example/drought"
    atom = articles["urn:example:metro:ransomware"]
    assert atom["byline"] == "Ana Cruz" and atom["body"].count("\n\n") == 1  # type: ignore[union-attr]
    assert any(
        "not-a-feed.rss" in p["file"] and "not a readable feed" in p["reason"] for p in summary["problems"]
    )  # type: ignore[union-attr]


def test_html_page(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    ingest_json(FORMATS / "page.html", db=db)
    [page] = stored(db).values()
    assert "Riverhawks" in str(page["title"])
    assert "The Dubuque Riverhawks will leave the city" in str(page["body"])
    assert "newsletter" not in str(page["body"]) and "Home" not in str(page["body"])


def _warc(path: Path) -> Path:
    page = (FORMATS / "page.html").read_bytes()
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                "https://sports.example/riverhawks", "request", payload=io.BytesIO(b"GET /")
            )
        )
        for url, kind, body in [
            ("https://sports.example/riverhawks", "text/html; charset=utf-8", page),
            ("https://sports.example/logo.png", "image/png", b"\x89PNG not really"),
        ]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )
    return path


def test_warc(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    summary = ingest_json(_warc(tmp_path / "crawl.warc.gz"), db=db)
    assert list(stored(db)) == ["https://sports.example/riverhawks"]
    assert summary["skipped"] == 2 and summary["rejected"] == 0


def test_truncated_warc_keeps_good_records(tmp_path: Path) -> None:
    blob = _warc(tmp_path / "ok.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(blob + gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n")[:20])
    items = list(read_records([str(cut)]))
    assert sum(not isinstance(i, Reject) for i in items) == 1
    assert any(isinstance(i, Reject) and "cannot be read" in i.reason for i in items)


def test_sniffing() -> None:
    assert sniff_format("x.json", b'{"uri": "a", "body_html": "<p>x</p>"}') == "ninjs"
    assert sniff_format("x.json", b'{"id": "a", "body": "x"}') == "jsonl"
    assert sniff_format("feed", b"<?xml version='1.0'?><rss>") == "feed"
    assert sniff_format("dump", b"WARC/1.0\r\n") == "warc"
    assert sniff_format("reut2-000.sgm", b"<!DOCTYPE lewis SYSTEM") == "sgml"
    assert sniff_format("doc.xml", b"<?xml?><nitf>") == "nitf"


def test_directory_mixes_formats(tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    summary = ingest_json(FORMATS, db=db)
    assert summary["stored"] >= 10


@pytest.mark.slow
def test_reuters_sgml_equals_the_derived_jsonl(
    tmp_path: Path, reuters_records: list[dict[str, object]]
) -> None:
    from tests.conftest import DATA

    files = sorted((DATA / "reuters21578").glob("reut2-*.sgm"))
    got = {}
    for item in read_records([str(f) for f in files]):
        assert not isinstance(item, Reject), item
        got[item.data["id"]] = item.data
    assert len(got) == 21578
    for record in reuters_records:
        mine = got[str(record["newid"])]
        assert mine["body"] == (record["body"] or "") and mine["title"] == (record["title"] or "")


def test_progress_is_reported_in_input_bytes(tmp_path: Path) -> None:
    from dedup.ingest import input_size

    gz = tmp_path / "feed.jsonl.gz"
    gz.write_bytes(
        gzip.compress(b"".join(b'{"id": "%d", "body": "Story %d."}\n' % (i, i) for i in range(3000)))
    )
    paths = [str(FORMATS), str(gz)]
    seen: list[int] = []
    records = list(read_records(paths, on_bytes=seen.append))
    assert len(records) > 3000
    assert sum(seen) == input_size(paths) and len(seen) > 5  # compressed bytes, reported as read


def test_feed_with_a_broken_encoding_declaration_is_a_reject(tmp_path: Path) -> None:
    """Found by atheris: feedparser raised UnicodeDecodeError on this declaration."""
    path = tmp_path / "bad.rss"
    path.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8\xff\xff\x01I"?>\n<rss version="2.0"><channel></channel></rss>'
    )
    items = list(read_records([str(path)], "feed"))
    assert len(items) == 1 and isinstance(items[0], Reject) and "not a readable feed" in items[0].reason
