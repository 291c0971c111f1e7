from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.ingest import FieldMap, build_article, read_records
from dedup.ingest.fields import parse_date
from dedup.ingest.readers import RawRecord
from dedup.model import Reject


def raw(data: dict[str, object]) -> RawRecord:
    return RawRecord("feed.jsonl", 7, data, json.dumps(data))


def test_field_names_and_extras() -> None:
    article, problems = build_article(
        raw(
            {
                "guid": "x1",
                "headline": "H",
                "text": "Body text here.",
                "site": "Daily",
                "pubDate": "2026-01-02",
                "tag": ["a"],
            }
        ),
        FieldMap(),
    )
    assert problems == ()
    assert article is not None
    assert (article.article_id, article.title, article.body, article.outlet) == (
        "x1",
        "H",
        "Body text here.",
        "Daily",
    )
    assert json.loads(article.extra) == {"tag": ["a"]}
    assert article.published is not None and article.published.year == 2026


def test_map_override_and_bad_map() -> None:
    fields = FieldMap.parse(["body=story", "id=slug"])
    article, _ = build_article(raw({"slug": "s", "story": "From the story column.", "body": "no"}), fields)
    assert article is not None and (article.article_id, article.body) == ("s", "From the story column.")
    with pytest.raises(ValueError, match="unknown field"):
        FieldMap.parse(["colour=x"])
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        FieldMap.parse(["body"])


def test_derived_id_is_stable() -> None:
    a, _ = build_article(raw({"body": "Same text."}), FieldMap())
    b, _ = build_article(raw({"body": "Same text."}), FieldMap())
    assert a is not None and b is not None
    assert a.article_id == b.article_id and a.article_id.startswith("sha-")


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"id": "1", "body": ""}, "body", "empty body"),
        ({"id": "1"}, "body", "missing body"),
        ({"id": "1", "body": {"html": "<p>x</p>"}}, "body", "expected text, got an object (html)"),
        ({"id": "1", "body": "x" * 50}, "body", "article too large"),
        ({"id": "1", "body": "bad \udcff byte"}, "body", "undecodable"),
    ],
)
def test_rejects_name_the_field(data: dict[str, object], field: str, reason: str) -> None:
    article, problems = build_article(raw(data), FieldMap(), max_chars=40)
    assert article is None
    assert problems[0].field == field and reason in problems[0].reason
    assert problems[0].file == "feed.jsonl" and problems[0].line == 7


def test_bad_date_keeps_article_and_reports_field() -> None:
    article, problems = build_article(
        raw({"id": "1", "body": "Text.", "date": "31-MAR-1987 605:12:19.12"}), FieldMap()
    )
    assert article is not None and article.published is None
    assert json.loads(article.extra)["date"] == "31-MAR-1987 605:12:19.12"
    assert problems[0].field == "date" and problems[0].action == "field dropped"


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["T", " "]),
    st.sampled_from(["date", "minutes", "seconds", "fraction"]),
    st.sampled_from(["", "Z", "+00:00", "-08:00", "+05:30", "+14:00"]),
    st.integers(1, 6),
)
@settings(max_examples=500, deadline=None)
def test_iso_dates_read_as_dateutil_reads_them(
    when: datetime, sep: str, part: str, zone: str, digits: int
) -> None:
    """`parse_date` reads ISO 8601 with `datetime.fromisoformat`: the very datetime, offset
    and ISO text dateutil gives (which still reads everything else)."""
    from dateutil import parser as dateparser

    text = when.strftime("%Y-%m-%d")
    if part != "date":
        text += sep + when.strftime("%H:%M")
        text += when.strftime(":%S") if part in ("seconds", "fraction") else ""
        text += "." + f"{when.microsecond:06d}"[:digits] if part == "fraction" else ""
        text += zone
    want = dateparser.parse(text)
    got = parse_date(text)
    assert (got, got.utcoffset(), got.isoformat()) == (want, want.utcoffset(), want.isoformat())


def test_parse_date_formats() -> None:
    assert parse_date("26-FEB-1987 15:01:01.79").isoformat() == "1987-02-26T15:01:01.790000"
    assert parse_date("2026-03-03T06:02:00-08:00").utcoffset() is not None
    assert parse_date(1_700_000_000).year == 2023
    assert parse_date(1_700_000_000_000).year == 2023


def test_title_only_is_stored() -> None:
    article, problems = build_article(
        raw({"id": "1", "title": "SHEARSON 4TH QTR NET", "body": ""}), FieldMap()
    )
    assert article is not None and article.body == "" and article.title == "SHEARSON 4TH QTR NET"
    assert problems == ()


def _records(paths: list[Path], fmt: str = "auto") -> tuple[list[RawRecord], list[Reject]]:
    good, bad = [], []
    for item in read_records([str(p) for p in paths], fmt):
        (bad if isinstance(item, Reject) else good).append(item)
    return good, bad  # type: ignore[return-value]


def test_jsonl_gzip_zstd_roundtrip(tmp_path: Path) -> None:
    lines = b'{"id": "a", "body": "One."}\n\n{"id": "b", "body": "Two."}\n'
    (tmp_path / "plain.jsonl").write_bytes(lines)
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "feed.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    for name in ("plain.jsonl", "feed.jsonl.gz", "feed.jsonl.zst"):
        good, bad = _records([tmp_path / name])
        assert [r.data["id"] for r in good] == ["a", "b"] and not bad
        assert [r.line for r in good] == [1, 3]


def test_truncated_gzip_keeps_good_records(tmp_path: Path) -> None:
    lines = b"".join(b'{"id": "%d", "body": "Story number %d."}\n' % (i, i) for i in range(2000))
    blob = gzip.compress(lines)
    (tmp_path / "cut.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    good, bad = _records([tmp_path / "cut.jsonl.gz"])
    assert 0 < len(good) < 2000
    assert len(bad) == 1 and "ends early" in bad[0].reason


def test_csv_wrong_column_count_and_multiline(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text('id,title,body\n1,A,"First body,\nwith a newline."\n2,B\n3,C,Third.\n', encoding="utf-8")
    good, bad = _records([path])
    assert [r.data["id"] for r in good] == ["1", "3"]
    assert [r.line for r in good] == [2, 5]
    assert bad[0].line == 4 and "expected 3 columns" in bad[0].reason


def test_directory_and_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "a", "body": "A."}\n')
    (tmp_path / "notes").write_text("Just a title\n\nAnd some words.\n")  # no extension: plain text
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02 not text")
    good, bad = _records([tmp_path])
    assert [r.data["id"] for r in good] == ["a", f"{tmp_path.name}/notes"]
    assert good[1].data["title"] == "Just a title" and good[1].data["body"] == "And some words."
    assert "binary data" in bad[0].reason and bad[0].file.endswith("blob.bin")


def test_a_list_body_is_paragraphs_and_nested_names_are_read() -> None:
    article, problems = build_article(
        raw({"id": "1", "body": ["First.", "Second."], "source": {"id": "x", "name": "Engadget"},
             "author": None, "publishedAt": "2022-09-20T10:10:18Z"}),
        FieldMap(),
    )  # fmt: skip
    assert problems == () and article is not None
    assert article.body == "First.\n\nSecond." and article.outlet == "Engadget" and article.byline == ""
    assert article.published is not None and article.published.year == 2022


def test_articles_cross_the_process_pool_unchanged() -> None:
    """Articles, paragraphs and sentences pickle as their field values (`model.Pickled`),
    to and from the read stage's pool: every field comes back, the same."""
    import pickle

    from tests.conftest import ROOT

    records = list(read_records([str(ROOT / "data" / "demo_feed.jsonl")], "auto"))[:50]
    articles = [a for r in records if isinstance(r, RawRecord) and (a := build_article(r, FieldMap())[0])]
    assert articles and any(a.published for a in articles)
    back = pickle.loads(pickle.dumps(articles))
    assert back == articles
    assert [(a.published, a.sentences[-1].context) for a in back] == [
        (a.published, a.sentences[-1].context) for a in articles
    ]
