"""From a feed record (a dict) to a segmented `Article`: field mapping, dates, validation.

Pure: no file or database access, so every reader and both engines share it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser

from dedup.ingest.readers import RawRecord
from dedup.model import Article, Reject
from dedup.normalize import normalize_body, normalize_line
from dedup.segment import detect_wire, segment

# Field names seen in feed dumps, in order of preference.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid", "uri", "newid", "url"),
    "title": ("title", "headline"),
    "body": ("body", "text", "body_text", "content", "description"),
    "outlet": ("source", "outlet", "publisher", "site"),
    "published": ("published", "date", "versioncreated", "firstcreated", "pubDate"),
    "byline": ("byline", "author", "by"),
    "url": ("url", "link"),
    "dateline": ("dateline", "located"),
}
MAX_CHARS = 2_000_000
"""Default cap on a body's length: a longer "article" is almost surely a broken dump."""
MAX_LINES = 50_000
"""More lines than this is a data dump, not an article (the longest Reuters body has
317 lines): segmenting a million one-line paragraphs took 30 s and 1.5 GB."""

_SURROGATE = re.compile("[\udc80-\udcff]")
_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Which record field feeds which Article field; `--map body=story` overrides."""

    overrides: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: list[str]) -> FieldMap:
        overrides: dict[str, str] = {}
        for spec in specs:
            target, sep, column = spec.partition("=")
            target = target.strip()
            if not sep or not column.strip():
                raise ValueError(f"--map expects FIELD=COLUMN, got {spec!r}")
            if target not in FIELD_NAMES:
                known = ", ".join(FIELD_NAMES)
                raise ValueError(f"--map: unknown field {target!r} (known: {known})")
            overrides[target] = column.strip()
        return cls(overrides)

    def lookup(self, data: Mapping[str, Any], target: str) -> tuple[str | None, Any]:
        """(record key, value) for an Article field, or (None, None)."""
        if target in self.overrides:
            key = self.overrides[target]
            return (key, data[key]) if key in data else (None, None)
        for key in FIELD_NAMES[target]:
            if key in data and data[key] not in (None, ""):
                return key, data[key]
        folded = {k.casefold(): k for k in data}
        for key in FIELD_NAMES[target]:
            real = folded.get(key.casefold())
            if real is not None and data[real] not in (None, ""):
                return real, data[real]
        return None, None


def content_hash(title: str, body: str) -> str:
    """Stable content identity of an article version (title and normalised body)."""
    return hashlib.blake2b(f"{title}\x00{body}".encode(), digest_size=16).hexdigest()


def parse_date(value: Any) -> datetime:
    """A datetime from the formats feeds use: ISO 8601, RFC 822, Reuters, epoch seconds/ms.

    >>> parse_date("26-FEB-1987 15:01:01.79").isoformat()
    '1987-02-26T15:01:01.790000'
    >>> parse_date("Sat, 28 Nov 2026 10:00:00 +0100").isoformat()
    '2026-11-28T10:00:00+01:00'
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}", text):
        return parse_date(int(text))
    parsed: datetime = dateparser.parse(text)
    return parsed


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(type(value).__name__)


def _decode_entities(text: str) -> str:
    return html.unescape(text) if _ENTITY.search(text) else text


def build_article(
    record: RawRecord,
    fields: FieldMap,
    *,
    default_outlet: str = "",
    max_chars: int = MAX_CHARS,
) -> tuple[Article | None, tuple[Reject, ...]]:
    """Validate and normalise one record.

    Returns the article (None when the record is rejected) and the problems found, each a
    `Reject` naming file, line and field.
    """
    data = record.data

    def problem(field_name: str, reason: str, action: str = "rejected") -> Reject:
        raw = record.raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return Reject(record.file, record.line, field_name, reason, raw[:64_000], action)

    def reject(field_name: str, reason: str) -> tuple[None, tuple[Reject, ...]]:
        return None, (problem(field_name, reason),)

    values: dict[str, str] = {}
    keys: dict[str, str] = {}
    for target in ("id", "title", "body", "outlet", "byline", "url", "dateline"):
        key, value = fields.lookup(data, target)
        if key is None:
            continue
        try:
            text = _text(value)
        except TypeError as exc:
            return reject(key, f"expected text, got {exc}")
        if _SURROGATE.search(text):
            return reject(key, "undecodable bytes (not UTF-8)")
        values[target] = text
        keys[target] = key
    used = set(keys.values())
    for key, value in data.items():
        if key not in used and _SURROGATE.search(json.dumps(value, ensure_ascii=False, default=str)):
            return reject(key, "undecodable bytes (not UTF-8)")

    raw_body = values.get("body", "")
    if len(raw_body) > max_chars:
        return reject(
            keys.get("body", "body"),
            f"article too large ({len(raw_body):,} characters; limit {max_chars:,}, see --max-chars)",
        )
    lines = raw_body.count("\n")
    if lines > MAX_LINES:
        return reject(
            keys.get("body", "body"),
            f"not an article: {lines:,} lines (limit {MAX_LINES:,}; every line may be a paragraph)",
        )
    body = normalize_body(_decode_entities(raw_body))
    title = normalize_line(_decode_entities(values.get("title", "")))
    if not body and not title:
        names = (fields.overrides["body"],) if "body" in fields.overrides else FIELD_NAMES["body"]
        missing = "empty" if "body" in values or any(n in data for n in names) else "missing"
        return reject(keys.get("body", "body"), f"{missing} body (and no title)")

    published: datetime | None = None
    problems: list[Reject] = []
    key, value = fields.lookup(data, "published")
    if key is not None:
        try:
            published = parse_date(value)
            used.add(key)
        except (ValueError, OverflowError, TypeError) as exc:
            # The raw value stays in `extra`, so nothing is lost.
            reason = f"unparseable date {str(value)[:60]!r} ({exc})"
            problems.append(problem(key, reason, "field dropped"))

    digest = content_hash(title, body)
    article_id = values.get("id", "").strip() or f"sha-{digest[:16]}"
    outlet = normalize_line(values.get("outlet", "")) or default_outlet
    byline = normalize_line(values.get("byline", ""))
    paragraphs, sentences = segment(body)
    wire, dateline = detect_wire(body, paragraphs, outlet=outlet, byline=byline)
    dateline = dateline or normalize_line(values.get("dateline", "")).rstrip(" -—–")
    used.add("_summary")
    extra = {k: v for k, v in data.items() if k not in used}
    article = Article(
        article_id=article_id,
        body=body,
        content_hash=digest,
        paragraphs=paragraphs,
        sentences=sentences,
        title=title,
        outlet=outlet,
        byline=byline,
        url=values.get("url", "").strip(),
        published=published,
        wire=wire,
        dateline=dateline,
        is_summary=bool(data.get("_summary")),
        extra=json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str),
        source_file=record.file,
        source_line=record.line,
    )
    return article, tuple(problems)


def has_derived_id(article: Article) -> bool:
    return article.article_id == f"sha-{article.content_hash[:16]}"
