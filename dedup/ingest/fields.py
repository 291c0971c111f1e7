"""From a feed record (a dict) to a segmented `Article`: field mapping, dates, validation.

Pure: no file or database access, so every reader and both engines share it.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser

from dedup.ingest.readers import RAW_LIMIT, RawRecord
from dedup.model import Article, Reject
from dedup.normalize import normalize_body, normalize_line, repair_unicode
from dedup.segment import detect_wire, segment

# Field names seen in feed dumps, in order of preference; matched on their `canonical`
# form (case-folded, punctuation dropped: `publishedAt`, `published_at`, `PUBLISHED_DATE`).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid", "uri", "newid", "article_id", "doc_id", "story_id", "item_id", "uuid", "url", "link"),
    "title": ("title", "headline", "hed", "heading", "webTitle"),
    "body": ("body", "text", "body_text", "content", "article", "story", "full_text", "article_body",
             "main_text", "description", "summary", "abstract"),
    "outlet": ("source", "outlet", "publisher", "site", "site_name", "source_name", "publication",
               "newspaper", "provider", "copyright_holder", "agency"),
    "published": ("published", "date", "published_at", "publishedAt", "published_date", "publish_date",
                  "publication_date", "date_published", "pubDate", "versioncreated", "firstcreated",
                  "time", "timestamp", "datetime", "created_at", "created", "webPublicationDate"),
    "byline": ("byline", "author", "authors", "by", "creator", "writer"),
    "url": ("url", "link", "permalink", "canonical_url", "web_url", "webUrl"),
    "dateline": ("dateline", "located"),
}  # fmt: skip


def canonical(name: str) -> str:
    """A field name as matched: case-folded, without punctuation or spaces.

    >>> canonical("publishedAt") == canonical("PUBLISHED_AT") == canonical("published-at")
    True
    """
    return re.sub(r"[\W_]+", "", name.casefold())


_ALIASES: dict[str, tuple[str, ...]] = {
    t: tuple(canonical(n) for n in names) for t, names in FIELD_NAMES.items()
}
KNOWN_NAMES: set[str] = {name for names in _ALIASES.values() for name in names}
"""Every field name (canonical) some Article field is read from: a CSV row naming one is a header."""
MAX_CHARS = 2_000_000
"""Default cap on a body's length: a longer "article" is almost surely a broken dump."""
MAX_LINES = 50_000
"""More lines than this is a data dump, not an article (the longest Reuters body has
317 lines): segmenting a million one-line paragraphs took 30 s and 1.5 GB."""

_SURROGATE = re.compile("[\udc80-\udcff]")
_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")
# NewsAPI cuts `content` to ~200 characters and says how much is missing: "… [+1287 chars]"
_TRUNCATION_MARK = re.compile(r"\s*(?:…|\.\.\.)?\s*\[\+\d+ chars\]\s*$")
_NAME_KEYS = ("name", "value", "text", "title", "label", "#text", "$", "$date")
"""The key of a nested object that holds its text: `"source": {"id": "x", "name": "Engadget"}`."""


def flatten(value: Any, separator: str = ", ") -> str | None:
    """The text of a field value: strings and numbers as they are, an object by its name
    (`_NAME_KEYS`), a list as its items' texts joined; None when there is none. Raises
    `TypeError` (naming the type) for a value that has no text.

    >>> flatten({"id": "engadget", "name": "Engadget"}), flatten([{"name": "A"}, "B"]), flatten(None)
    ('Engadget', 'A, B', None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        for key in _NAME_KEYS:
            if isinstance(value.get(key), str | int | float) and not isinstance(value.get(key), bool):
                return str(value[key])
        raise TypeError(f"an object ({', '.join(list(map(str, value))[:6])})")
    if isinstance(value, list):
        texts = [t for t in (flatten(v, separator) for v in value) if t]
        return separator.join(texts) if texts else None
    raise TypeError(type(value).__name__)


def _path_value(data: Mapping[str, Any], path: str) -> tuple[str | None, Any]:
    """(top-level key, value) of a `--map` column: a key, a dotted path into nested
    objects (`source.name`), or a 1-based column number (`3`) for tables; (None, None)
    when the record has no such column."""
    if path in data:
        return path, data[path]
    if path.isdigit():
        columns = [k for k in data if not k.startswith("_")]
        number = int(path)
        return (
            (columns[number - 1], data[columns[number - 1]]) if 1 <= number <= len(columns) else (None, None)
        )
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None, None
    return path.split(".")[0], value


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Which record field feeds which Article field; `--map body=story` overrides.

    A column may be a key, a dotted path (`outlet=source.name`) or, in a table, a 1-based
    column number (`body=3`)."""

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
        """(record key, value) for an Article field, or (None, None).

        `--map` first; then the columns a reader assumed (`_columns`, a header-less CSV);
        then the known names, exactly, then by their canonical form."""
        for chosen in (self.overrides, data.get("_columns") or {}):
            if target in chosen:
                return _path_value(data, chosen[target])
        for key in FIELD_NAMES[target]:
            if key in data and data[key] not in (None, "", [], {}):
                return key, data[key]
        folded: dict[str, str] = {}
        for k in data:
            if not k.startswith("_"):  # a reader's own marks (`_summary`) are no fields
                folded.setdefault(canonical(k), k)
        for key in _ALIASES[target]:
            real = folded.get(key)
            if real is not None and data[real] not in (None, "", [], {}):
                return real, data[real]
        return None, None


TARGETS = ("id", "title", "body", "outlet", "byline", "url", "dateline", "published")


def fields_read(data: Mapping[str, Any], fields: FieldMap) -> set[str]:
    """The top-level keys of a record that some Article field is read from (pure): the
    others are what `dedup ingest` reports as ignored."""
    return {key for target in TARGETS if (key := fields.lookup(data, target)[0]) is not None}


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
    if _ISO_8601.fullmatch(text):
        # the usual case, 30x quicker than dateutil; the same datetime (a property test)
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(text)
    parsed: datetime = dateparser.parse(text)
    return parsed


_ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
"""Dates and times as feeds write ISO 8601 (`datetime.fromisoformat` reads them as dateutil does)."""


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
        return Reject(record.file, record.line, field_name, reason, raw[:RAW_LIMIT], action)

    def reject(field_name: str, reason: str) -> tuple[None, tuple[Reject, ...]]:
        return None, (problem(field_name, reason),)

    values: dict[str, str] = {}
    keys: dict[str, str] = {}
    problems: list[Reject] = []
    for target in ("id", "title", "body", "outlet", "byline", "url", "dateline"):
        key, value = fields.lookup(data, target)
        if key is None:
            continue
        try:
            text = flatten(value, "\n\n" if target == "body" else ", ")
        except TypeError as exc:
            if target in ("id", "title", "body"):
                return reject(key, f"expected text, got {exc}")
            # a story is worth more than its outlet or byline: keep it without the field
            problems.append(problem(key, f"expected text, got {exc}", "field dropped"))
            continue
        if text is None:
            continue
        if _SURROGATE.search(text):
            return reject(key, "undecodable bytes (not UTF-8)")
        values[target] = text
        keys[target] = key
    # a nested object read for its name (`source: {"id": ..., "name": ...}`) stays in extra
    used = {k for k in keys.values() if not isinstance(data.get(k), Mapping)}
    for key, value in data.items():
        if key not in used and _SURROGATE.search(json.dumps(value, ensure_ascii=False, default=str)):
            return reject(key, "undecodable bytes (not UTF-8)")

    raw_body = values.get("body", "")
    truncated = bool(_TRUNCATION_MARK.search(raw_body[-40:]))
    if truncated:  # an API's excerpt: the text without the mark, stored as a summary
        raw_body = _TRUNCATION_MARK.sub("", raw_body)
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
    key, value = fields.lookup(data, "published")
    if key is not None:
        try:
            published = parse_date(flatten(value) if isinstance(value, dict) else value)
            used.add(key)
        except (ValueError, OverflowError, TypeError) as exc:
            # The raw value stays in `extra`, so nothing is lost.
            reason = f"unparseable date {str(value)[:60]!r} ({exc})"
            problems.append(problem(key, reason, "field dropped"))

    digest = content_hash(title, body)
    article_id = normalize_id(values.get("id", "")) or f"sha-{digest[:16]}"
    outlet = normalize_line(values.get("outlet", "")) or default_outlet
    byline = normalize_line(values.get("byline", ""))
    paragraphs, sentences = segment(body)
    wire, dateline = detect_wire(body, paragraphs, outlet=outlet, byline=byline, title=title)
    # the feed's own dateline field (NITF <dateline>, ninjs `located`) before the body's
    dateline = normalize_line(values.get("dateline", "")).rstrip(" -—–") or dateline
    extra = {
        k: v
        for k, v in data.items()
        if k not in used and not k.startswith("_") and v not in (None, "", [], {})
    }
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
        is_summary=bool(data.get("_summary")) or truncated,
        extra=json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str),
        source_file=record.file,
        source_line=record.line,
    )
    return article, tuple(problems)


def normalize_id(value: str) -> str:
    r"""An id as stored: control characters (escapes, NUL, CR/LF, bidi overrides) dropped
    as in titles, surrounding space trimmed; inner spaces and punctuation kept.

    >>> normalize_id(" story\x1b]0;pwned\x07-1\n")
    'story]0;pwned-1'
    """
    return repair_unicode(value).replace("\n", " ").strip()


def has_derived_id(article: Article) -> bool:
    return article.article_id == f"sha-{article.content_hash[:16]}"
