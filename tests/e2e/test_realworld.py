"""The real feed files of ../shared/data/realworld/ (written by other projects), the BBC
folder and the user's seed article, through the readers and `dedup ingest`: what each
format must read right, or refuse with a reason. Skips when ../shared is absent."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dedup.cli import app
from dedup.ingest import FieldMap, build_article, read_article_file, read_records
from dedup.ingest.sources import expand_paths
from dedup.model import Article, Reject
from dedup.segment import wire_of
from tests.conftest import BBC_DIR, DATA, SHARED, need

REAL = DATA / "realworld"
runner = CliRunner()


def real(relative: str) -> Path:
    return need(REAL / relative)


def articles_of(path: Path | str, fields: FieldMap | None = None) -> tuple[list[Article], list[Reject]]:
    """The articles `dedup ingest` would build from a file, and every reject and note."""
    good, bad = [], []
    for item in read_records([str(path)]):
        if isinstance(item, Reject):
            bad.append(item)
            continue
        article, problems = build_article(item, fields or FieldMap())
        bad.extend(problems)
        if article is not None:
            good.append(article)
    return good, bad


def ingest(*args: str) -> tuple[int, dict[str, object], str]:
    result = runner.invoke(app, ["ingest", "--no-index", "-f", "json", *args])
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, summary, result.stderr


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# -- 1. plain text ------------------------------------------------------------------------
def test_the_seed_article_is_one_article_titled_by_its_headline() -> None:
    [seed] = sorted(need(SHARED / "seeds").glob("*.txt"))
    [article], problems = articles_of(seed)
    assert not problems
    assert article.title == "White House: We Didn't Coordinate Flynn Call to Russian Ambassador"
    assert article.article_id == seed.name
    assert len(article.paragraphs) >= 15 and article.body.startswith(
        "Following a report in the Washington Post"
    )
    assert article.title not in article.body


def test_the_bbc_folder_stores_every_story_with_its_path_as_id(tmp_path: Path) -> None:
    db = tmp_path / "bbc.duckdb"
    code, summary, _ = ingest(str(need(BBC_DIR)), "--source", "BBC News", "--db", str(db))
    assert code == 0 and summary["stored"] == 2225 and summary["rejected"] == 0
    [(title, outlet, body)] = rows(
        db, "SELECT title, outlet, body FROM articles WHERE article_id = 'bbc/business/001.txt'"
    )
    assert title == "Ad sales boost Time Warner profit" and outlet == "BBC News"
    assert str(body).startswith("Quarterly profits at US media giant TimeWarner jumped 76%")
    assert rows(db, "SELECT count(*) FROM articles WHERE title = '' OR body = ''") == [(0,)]


def test_diff_reads_a_text_file_as_ingest_does(tmp_path: Path) -> None:
    story = need(BBC_DIR / "business" / "001.txt")
    db = tmp_path / "one.duckdb"
    assert ingest(str(story), "--db", str(db))[0] == 0
    result = runner.invoke(app, ["diff", str(story), "001.txt", "--db", str(db), "--no-embed", "-f", "json"])
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)
    assert diff["relation"] == "duplicate" and diff["a_only"] == [] and diff["b_only"] == []
    assert {x["kind"] for x in diff["alignments"]} == {"verbatim"}


def test_stdin_is_sniffed_too(tmp_path: Path) -> None:
    db = tmp_path / "in.duckdb"
    result = runner.invoke(
        app, ["ingest", "-", "--db", str(db), "--no-index", "-q"], input="A headline\n\nThe body of it.\n"
    )
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT article_id, title, body FROM articles") == [
        ("stdin", "A headline", "The body of it.")
    ]


def test_plain_text_is_sniffed_without_an_extension(tmp_path: Path) -> None:
    path = tmp_path / "story"
    path.write_text("A headline, with a comma\n\nFirst paragraph,\nwrapped.\n\nSecond, and last.\n")
    [article], _ = articles_of(path)
    assert article.title == "A headline, with a comma"
    assert article.body == "First paragraph, wrapped.\n\nSecond, and last."


# -- 2. JSON documents, envelopes, ninjs --------------------------------------------------
@pytest.mark.parametrize(
    ("name", "title", "published"),
    [
        ("superdesk_ninjs1.json", "headline", "2017-08-24"),
        ("v1.4_businesswire-20130515006361.json", "Dell Redefines Workstation Computing", "2013-05-16"),
        ("v2.1_dpa_text.json", "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?", "2019-05-10"),
        ("v3.0_ninjsExSimpleText_3.json", "Captain of wrecked cruise ship on trial in Italy", "2013-07-09"),
    ],
)
def test_every_real_ninjs_file_stores_its_article(name: str, title: str, published: str) -> None:
    [article], problems = articles_of(real(f"ninjs/{name}"))
    assert not [p for p in problems if p.action == "rejected"]
    assert article.title.startswith(title) and article.body
    assert article.published is not None and article.published.isoformat().startswith(published)


def test_ninjs_fields_by_generation() -> None:
    [dpa], _ = articles_of(real("ninjs/v2.1_dpa_text.json"))  # 2.x: bodies[], headlines[], by
    assert dpa.byline == "Von Christian Hollmann, dpa" and dpa.outlet == "dpa" and dpa.wire == "dpa"
    assert len(dpa.paragraphs) == 9 and "«der größte Skandal im Fußball seit Jahren»" in dpa.body
    [ap], _ = articles_of(real("ninjs/v3.0_ninjsExSimpleText_3.json"))  # 3.0: camelCase, two renderings
    assert len(ap.paragraphs) == 4 and ap.wire == "AP"  # the HTML rendering keeps the paragraphs
    [superdesk], _ = articles_of(real("ninjs/superdesk_ninjs1.json"))  # 1.x: body_html, located
    assert superdesk.body == "The story so far." and superdesk.dateline == "Milton Keynes"
    assert superdesk.wire == "AAP" and superdesk.byline == "Peter and Jane"
    [dell], _ = articles_of(real("ninjs/v1.4_businesswire-20130515006361.json"))  # body_xhtml, mojibake
    assert "the world's most powerful rack workstation" in dell.body and "â€" not in dell.body


def test_an_api_envelope_with_nested_sources(tmp_path: Path) -> None:
    good, problems = articles_of(real("jsonl/newsapi_sampleOutput.json"))
    assert len(good) == 4 and not [p for p in problems if p.action == "rejected"]
    first = good[0]
    assert first.outlet == "Engadget" and first.byline == "Mariella Moon"
    assert first.published is not None and first.published.isoformat() == "2022-09-20T10:10:18+00:00"
    assert first.is_summary and "[+1287 chars]" not in first.body  # NewsAPI's excerpt mark
    assert {a.outlet for a in good} == {"Engadget", "Reuters"} and good[3].byline == ""  # author: null
    lines, _ = articles_of(real("jsonl/newsbias_articles.jsonl"))
    assert len(lines) == 5 and all(a.published is not None and a.outlet for a in lines)  # published_at


def test_json_documents_are_told_from_json_lines(tmp_path: Path) -> None:
    pretty = tmp_path / "items.json"
    pretty.write_text(
        json.dumps({"items": [{"id": "a", "body": "One."}, {"id": "b", "body": "Two."}]}, indent=2)
    )
    good, bad = articles_of(pretty)
    assert [a.article_id for a in good] == ["a", "b"] and not bad
    assert [r.line for r in read_records([str(pretty)]) if not isinstance(r, Reject)] == [3, 7]
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "id": "a",\n  "body": "One."\n')
    [reject] = [r for r in read_records([str(broken)]) if isinstance(r, Reject)]
    assert "malformed JSON document" in reject.reason
    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"id": "a", "body": "One."\nnot json\n{"id": "b", "body": "Two."}\n')
    good, bad = articles_of(lines)
    assert [a.article_id for a in good] == ["b"] and [r.line for r in bad] == [1, 2]


# -- 3. NITF ------------------------------------------------------------------------------
def test_nitf_with_the_namespace_reads_as_without(tmp_path: Path) -> None:
    plain = real("nitf/superdesk_ap-nitf.xml")
    spaced = tmp_path / "ap-ns.xml"
    spaced.write_text(
        plain.read_text(encoding="utf-8").replace(
            "<nitf ", '<nitf xmlns="http://iptc.org/std/NITF/2006-10-18/" ', 1
        ),
        encoding="utf-8",
    )
    [a], _ = articles_of(plain)
    [b], _ = articles_of(spaced)
    for field in ("title", "byline", "dateline", "published", "outlet", "body", "wire"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.title == "Can trading pollution like stocks help fight climate change?"
    assert a.byline == "By BERNARD CONDON AP Business Writer"  # element boundaries are spaces
    assert a.dateline == "NEW YORK" and a.wire == "AP" and len(a.paragraphs) == 28
    assert a.published is not None and a.published.isoformat() == "2015-12-10T19:10:44+00:00"


def test_nitf_heads_of_every_real_file() -> None:
    [efe], _ = articles_of(real("nitf/superdesk_efe_nitf.xml"))
    assert efe.dateline == "" and efe.wire == "EFE"  # its <dateline> holds only a date
    assert efe.published is not None and efe.published.isoformat().startswith("2017-01-02T22:28")
    [aap], _ = articles_of(real("nitf/superdesk_aap.xml"))
    assert aap.dateline == "Sydney" and aap.wire == "AAP" and "the fire situation" in aap.body
    [full], _ = articles_of(real("nitf/nitfr_full_featured.xml"))  # <headline>, not <hedline>
    assert full.title == "Full Featured Headline" and full.dateline == "NEW YORK, Dec 15"
    assert full.outlet == "Test Publication" and "Test caption" not in full.body
    [uni], _ = articles_of(real("nitf/nitfr_unicode_content.xml"))
    assert uni.title == "日本語のヘッドライン" and "Это русский текст" in uni.body


# -- 4. WARC ------------------------------------------------------------------------------
def test_brotli_gzip_and_plain_transfer_encodings_read_alike() -> None:
    bodies = set()
    for kind in ("brotli", "gzip", "none"):
        [page], problems = articles_of(real(f"warc/ukwa_transfer_compression_{kind}.warc"))
        assert page.title == "Simple page" and page.article_id == "http://tokemon.sb.statsbiblioteket.dk/"
        assert {p.action for p in problems} == {"skipped"}
        bodies.add(page.body)
    assert len(bodies) == 1


def test_warcio_warnings_are_notes_not_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    [page], problems = articles_of(real("warc/warcio_example-trunc.warc"))
    assert page.title == "Example Domain"
    assert any(p.action == "note" and p.reason.startswith("warcio: WARNING") for p in problems)
    assert "WARNING" not in capfd.readouterr().err


def _crawl(path: Path, pages: list[tuple[str, str, bytes]]) -> Path:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, status, body in pages:
            headers = StatusAndHeaders(
                status, [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )
        writer.write_record(
            writer.create_warc_record(
                "https://news.example/archived", "resource", payload=io.BytesIO(pages[0][2]),
                warc_headers_dict={"Content-Type": "text/html"},
            )
        )  # fmt: skip
    return path


def test_only_200_pages_and_web_resources_are_articles(tmp_path: Path) -> None:
    page = need(REAL / "html" / "traf_reuters.com.parasite.html").read_bytes()
    missing = (
        b"<html><head><title>Page not found</title></head><body><p>"
        + b"Sorry, that page is gone. " * 20
        + b"</p></body></html>"
    )
    crawl = _crawl(
        tmp_path / "crawl.warc.gz",
        [("https://news.example/story", "200 OK", page), ("https://news.example/a", "404 Not Found", missing),
         ("https://news.example/b", "404 Not Found", missing), ("https://news.example/c", "500 Server Error", missing),
         ("https://news.example/d", "301 Moved Permanently", b"")],
    )  # fmt: skip
    good, problems = articles_of(crawl)
    assert [a.article_id for a in good] == ["https://news.example/story", "https://news.example/archived"]
    skipped = [p.reason for p in problems if p.action == "skipped"]
    assert sum("HTTP 404" in r for r in skipped) == 2 and any("HTTP 500" in r for r in skipped)
    assert any("HTTP 301" in r for r in skipped)


def test_page_settings_keep_menus_out() -> None:
    [page], _ = articles_of(real("html/traf_theguardian.com.academics.html"))
    assert page.title.startswith("Thousands of UK academics") and page.outlet == "The Guardian"
    assert "|" not in page.body and "Sign in" not in page.body


# -- 5. field names -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["publishedAt", "published_at", "PUBLISHED_DATE", "time", "pubDate", "Date"])
def test_date_field_names_real_dumps_use(name: str) -> None:
    record = {"ID": "x", "TITLE": "T", "BODY": "Text of the story.", name: "2024-04-21T08:59:07Z"}
    from dedup.ingest.readers import RawRecord

    article, problems = build_article(RawRecord("f.json", 1, record, ""), FieldMap())
    assert article is not None and not problems and article.article_id == "x" and article.title == "T"
    assert article.published is not None and article.published.year == 2024


def test_map_takes_paths_and_numbers_and_warns_of_absent_fields(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "1", "story": {"text": "From a nested field."}, "source": {"name": "Wire One"},
                    "unused": "x", "extra_info": 3}) + "\n"
    )  # fmt: skip
    db = tmp_path / "m.duckdb"
    code, summary, stderr = ingest(
        str(feed), "--map", "body=story.text", "--map", "byline=writer_name", "--db", str(db)
    )
    assert code == 0 and summary["stored"] == 1
    assert rows(db, "SELECT body, outlet FROM articles") == [("From a nested field.", "Wire One")]
    assert (
        "--map byline=writer_name: no record has 'writer_name' (fields: extra_info, id, source, story, unused)"
        in stderr
    )
    assert stderr.count("ignored fields") == 1 and "extra_info, unused" in stderr


# -- 6. CSV without a header --------------------------------------------------------------
def test_ag_news_without_a_header_assumes_its_columns(tmp_path: Path) -> None:
    path = real("csv/charcnn_ag_news_test.csv")
    good, problems = articles_of(path)
    [note] = [p for p in problems if p.action == "note"]
    assert note.reason.startswith("no header row: assumed column 3 = body, column 2 = title")
    assert len(good) == len(path.read_text(encoding="utf-8").splitlines())
    assert good[0].title == "Fears for T N pension after talks"
    assert good[0].body.startswith("Unions representing workers at Turner")
    swapped, _ = articles_of(path, FieldMap.parse(["title=3", "body=2"]))
    assert swapped[0].body == "Fears for T N pension after talks"
    nbc, _ = articles_of(real("csv/nlpscrapy_nbc_news.csv"))  # has a header: read by name
    assert nbc[0].title.startswith("After $1.5 billion was spent") and nbc[0].url.startswith(
        "https://www.nbcnews.com/"
    )


# -- 7. wires ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("credit", "wire"),
    [
        ("Australian Associated Press", "AAP"), ("AAP", "AAP"), ("The Associated Press", "AP"), ("AP", "AP"),
        ("Agence France-Presse", "AFP"), ("AFP", "AFP"), ("Reuters", "Reuters"), ("Thomson Reuters", "Reuters"),
        ("dpa", "dpa"), ("Deutsche Presse-Agentur", "dpa"), ("Agencia EFE", "EFE"), ("EFE", "EFE"),
        ("ANSA", "ANSA"), ("Kyodo News", "Kyodo"), ("PA Media", "PA Media"), ("PA", "PA Media"),
        ("The Canadian Press", "Canadian Press"), ("UPI", "UPI"), ("Xinhua", "Xinhua"),
        ("Bloomberg News", "Bloomberg"), ("NTB", "NTB"), ("TT", "TT"), ("Ritzau", "Ritzau"),
        ("Daily Bugle", ""), ("Pittsburgh, PA", ""), ("Mattel", ""), ("Papua", ""),
    ],
)  # fmt: skip
def test_whole_agency_names(credit: str, wire: str) -> None:
    assert wire_of(credit) == wire


def test_the_real_aap_files_are_aap() -> None:
    for path in ("ninjs/superdesk_ninjs1.json", "nitf/superdesk_aap.xml"):
        [article], _ = articles_of(real(path))
        assert article.wire == "AAP", path


# -- 8. a whitespace-only line ------------------------------------------------------------
def test_reuters_twins_with_a_blank_looking_line_are_duplicates(
    tmp_path: Path, reuters_records: list[dict[str, object]]
) -> None:
    twins = [r for r in reuters_records if r["newid"] in (11935, 11958)]
    feed = tmp_path / "twins.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in twins))
    first, second = articles_of(feed)[0]
    assert first.body == second.body and len(first.paragraphs) == 2
    db = tmp_path / "t.duckdb"
    result = runner.invoke(app, ["ingest", str(feed), "--db", str(db), "--no-embed", "-q"])
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT relation FROM pairs") == [("duplicate",)]


# -- 9. exit codes and refusals ------------------------------------------------------------
def test_nothing_stored_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\n{"id": "2", "body": ""}\n')
    code, _, stderr = ingest(str(bad), "--db", str(tmp_path / "x.duckdb"))
    assert code == 1 and "nothing stored: all 2 records were rejected" in stderr


def test_a_missing_input_is_a_reject_and_an_error(tmp_path: Path, sample_feed: Path) -> None:
    db = tmp_path / "m.duckdb"
    code, summary, stderr = ingest(str(sample_feed), str(tmp_path / "nope.jsonl"), "--db", str(db))
    assert code == 1 and summary["stored"] == 4 and "1 input could not be read" in stderr
    assert "cannot open" in summary["problems"][0]["reason"]  # type: ignore[index]
    code, _, _ = ingest(str(tmp_path / "nope.jsonl"), "--keep-going", "--db", str(db))
    assert code == 0


def test_an_unreadable_folder_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.txt").write_text("Title\n\nBody.\n")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    with mock.patch("os.scandir", scandir):
        found = list(expand_paths([str(folder)]))
    assert [getattr(f, "ref", None) for f in found if hasattr(f, "ref")] == ["dump/a.txt"]
    [locked] = [f for f in found if not hasattr(f, "ref")]
    assert locked.path.endswith("locked") and "Permission denied" in locked.reason  # type: ignore[attr-defined]


def test_a_fifo_is_refused_before_the_database_is_locked(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    db = tmp_path / "f.duckdb"
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "dedup.cli", "ingest", str(fifo), "--db", str(db)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1 and "a FIFO, not a file" in out.stderr
    assert not db.exists() and time.monotonic() - started < 60
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# -- 10. missing outlets ------------------------------------------------------------------
def test_articles_without_outlet_get_a_hint_and_a_label(tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    code, _, stderr = ingest(str(real("csv/nlpscrapy_nbc_news.csv")), "--db", str(db))
    assert code == 0 and "have no outlet field: name their outlet with --source NAME" in stderr
    table = runner.invoke(app, ["stats", "--db", str(db), "-f", "table"], env={"COLUMNS": "200"})
    assert "(unknown outlet)" in table.stdout


def test_read_article_file_refuses_many() -> None:
    with pytest.raises(Exception, match="holds 5 articles"):
        read_article_file(str(real("jsonl/newsbias_articles.jsonl")))
