"""Readers for the feed formats newsrooms have, beyond JSON lines and CSV.

Each yields `RawRecord`s whose `data` uses the canonical field names `fields.FIELD_NAMES`
knows (`id`, `title`, `body`, `source`, `published`, `byline`, `url`, `dateline`, plus
`_summary` for feed items that carry only a summary), or `Reject`s with file and position.
Libraries do the parsing: lxml (NITF, HTML fragments), feedparser (RSS/Atom), warcio
(WARC), trafilatura (main text of web pages).
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dedup.ingest.readers import RAW_LIMIT, RawRecord
from dedup.ingest.sources import (
    MAX_RECORD_BYTES,
    STREAM_ERRORS,
    TooLarge,
    display_name,
    note_opened,
    open_binary,
    read_bounded,
)
from dedup.model import Reject

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption", "td")


def html_to_paragraphs(fragment: str) -> str:
    """Visible text of an HTML fragment, one paragraph per block element, blank-line separated."""
    import lxml.html

    if not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in root.xpath(".//script|.//style|.//noscript"):
        bad.drop_tree()
    blocks = [el for el in root.iter(*_BLOCKS) if not any(a.tag in _BLOCKS for a in el.iterancestors())]
    texts = (
        [" ".join(el.text_content().split()) for el in blocks]
        if blocks
        else [" ".join(root.text_content().split())]
    )
    return "\n\n".join(t for t in texts if t)


# -- ninjs --------------------------------------------------------------------------------
def looks_like_ninjs(data: dict[str, Any]) -> bool:
    keys = set(data)
    return bool(keys & {"uri", "guid"}) and bool(
        keys
        & {"body_html", "body_text", "bodies", "headline", "headlines", "versioncreated", "versionCreated"}
    )


def ninjs_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields of a ninjs 1.x, 2.0 or 3.0 object (3.0 is camelCase)."""

    def first(*names: str) -> Any:
        for name in names:
            if data.get(name) not in (None, "", []):
                return data[name]
        return None

    title = first("headline")
    if title is None and isinstance(data.get("headlines"), list) and data["headlines"]:
        title = (data["headlines"][0] or {}).get("value")
    body = first("body_text")
    if body is None and first("body_html"):
        body = html_to_paragraphs(str(data["body_html"]))
    if body is None and isinstance(data.get("bodies"), list):
        texts = {
            str(b.get("contenttype", b.get("contentType", ""))): b.get("value")
            for b in data["bodies"]
            if isinstance(b, dict)
        }
        plain = next((v for k, v in texts.items() if "plain" in k and v), None)
        rich = next((v for k, v in texts.items() if "html" in k and v), None)
        body = plain if plain else html_to_paragraphs(str(rich)) if rich else None
    byline = first("byline")
    if byline is None and isinstance(data.get("by"), str):
        byline = data["by"]
    located = first("located")
    out: dict[str, Any] = {
        "id": first("uri", "guid", "id"),
        "title": title,
        "body": body,
        "byline": byline,
        "published": first("versioncreated", "versionCreated", "firstcreated", "firstCreated"),
        "source": first("copyrightholder", "copyrightHolder"),
        "dateline": located if isinstance(located, str) else None,
    }
    known = {"uri", "guid", "headline", "headlines", "body_text", "body_html", "bodies", "byline", "by",
             "versioncreated", "versionCreated", "firstcreated", "firstCreated", "copyrightholder",
             "copyrightHolder", "located"}  # fmt: skip
    out.update({k: v for k, v in data.items() if k not in known and k not in out})
    return {k: v for k, v in out.items() if v is not None}


def read_ninjs(path: str) -> Iterator[RawRecord | Reject]:
    """ninjs objects, one per line or as one JSON array."""
    name = display_name(path)
    with open_binary(path) as stream:
        head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
        if head.lstrip().startswith(b"["):
            try:
                raw = read_bounded(stream)
            except TooLarge as exc:
                yield Reject(name, 0, "", f"JSON array {exc}: split it into JSON lines", "")
                return
            try:
                items = json.loads(raw.decode("utf-8", "surrogateescape"))
            except json.JSONDecodeError as exc:
                yield Reject(
                    name,
                    exc.lineno,
                    "",
                    f"malformed JSON: {exc.msg}",
                    raw[:RAW_LIMIT].decode("utf-8", "replace"),
                )
                return
            for n, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    yield Reject(name, n, "", f"array item {n} is not an object", "")
                    continue
                yield RawRecord(name, n, ninjs_fields(item), json.dumps(item)[:RAW_LIMIT])
            return
    from dedup.ingest.readers import read_jsonl

    for item in read_jsonl(path):
        yield (
            item
            if isinstance(item, Reject)
            else RawRecord(item.file, item.line, ninjs_fields(item.data), item.raw)
        )


# -- NITF ---------------------------------------------------------------------------------
def read_nitf(path: str) -> Iterator[RawRecord | Reject]:
    """NITF documents (one or many `<nitf>` elements in a file), streamed with iterparse."""
    from lxml import etree

    name = display_name(path)
    count = 0
    with open_binary(path) as stream:
        try:
            for _, el in etree.iterparse(
                stream, events=("end",), tag="{*}nitf", recover=False, resolve_entities=False, no_network=True
            ):
                count += 1

                def text(xp: str, el: Any = el) -> str:
                    return " ".join(el.xpath(f"string({xp})").split())

                doc_id = el.xpath("string(.//doc-id/@id-string)") or el.xpath("string(@uno)")
                paragraphs = [
                    " ".join(p.xpath("string()").split()) for p in el.iterfind(".//{*}body.content//{*}p")
                ]
                data = {
                    "id": doc_id or None,
                    "title": text(".//hedline/hl1") or text(".//head/title"),
                    "byline": text(".//byline"),
                    "dateline": text(".//dateline"),
                    "published": el.xpath("string(.//date.issue/@norm)") or None,
                    "source": el.xpath("string(.//pubdata/@name)")
                    or el.xpath("string(.//doc.copyright/@holder)")
                    or None,
                    "body": "\n\n".join(p for p in paragraphs if p),
                }
                yield RawRecord(
                    name,
                    count,
                    {k: v for k, v in data.items() if v},
                    etree.tostring(el)[:RAW_LIMIT].decode("utf-8", "replace"),
                )
                el.clear()
        except etree.XMLSyntaxError as exc:
            yield Reject(name, exc.lineno or 0, "", f"XML does not parse: {exc.msg}", "")
        except STREAM_ERRORS as exc:
            yield Reject(name, 0, "", f"input ends early or is corrupt ({exc})", "")


# -- RSS / Atom ---------------------------------------------------------------------------
def read_feed(path: str) -> Iterator[RawRecord | Reject]:
    """RSS 2.0 / Atom entries (feedparser): full text from `content`, else the summary."""
    import feedparser

    name = display_name(path)
    with open_binary(path) as stream:
        try:
            raw = read_bounded(stream)
        except TooLarge as exc:
            yield Reject(name, 0, "", f"feed {exc}", "")
            return
        except STREAM_ERRORS as exc:
            yield Reject(name, 0, "", f"input ends early or is corrupt ({exc})", "")
            return
    try:
        parsed = feedparser.parse(raw)
        failure = str(parsed.bozo_exception) if parsed.bozo and not parsed.entries else ""
    except Exception as exc:  # found by fuzzing: a bad encoding declaration raised UnicodeDecodeError
        failure = f"{type(exc).__name__}: {exc}"
    if failure:
        yield Reject(
            name, 0, "", f"not a readable feed: {failure}", raw[:RAW_LIMIT].decode("utf-8", "replace")
        )
        return
    if parsed.bozo:
        reason = f"feed is not well-formed ({parsed.bozo_exception}); entries read anyway"
        yield Reject(name, 0, "", reason, "", "kept")
    outlet = parsed.feed.get("title")
    for n, entry in enumerate(parsed.entries, start=1):
        content = entry.get("content") or []
        full = next((c.get("value") for c in content if c.get("value")), None)
        summary = entry.get("summary")
        text = html_to_paragraphs(full) if full else html_to_paragraphs(summary) if summary else ""
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        data: dict[str, Any] = {
            "id": entry.get("id") or entry.get("link"),
            "title": entry.get("title"),
            "body": text,
            "url": entry.get("link"),
            "byline": entry.get("author"),
            "published": datetime(*moment[:6]).replace(tzinfo=UTC).isoformat() if moment else None,
            "source": outlet,
        }
        if not full and summary:
            data["_summary"] = True
        yield RawRecord(
            name,
            n,
            {k: v for k, v in data.items() if v is not None},
            json.dumps(data, default=str)[:RAW_LIMIT],
        )


# -- web pages ----------------------------------------------------------------------------
def page_fields(page: str, url: str) -> dict[str, Any] | None:
    """Main text and metadata of an HTML page (trafilatura), or None when it has none."""
    import trafilatura

    doc = trafilatura.bare_extraction(page, url=url or None, with_metadata=True, include_comments=False)
    if doc is None:
        return None
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    text = get("text") or ""
    if not text.strip():
        return None
    return {k: v for k, v in {
        "id": url or get("url"), "url": url or get("url"), "title": get("title"), "byline": get("author"),
        "published": get("date"), "source": get("sitename"), "body": text.replace("\n", "\n\n"),
    }.items() if v}  # fmt: skip


def read_html(path: str) -> Iterator[RawRecord | Reject]:
    name = display_name(path)
    with open_binary(path) as stream:
        try:
            page = read_bounded(stream).decode("utf-8", "replace")
        except TooLarge as exc:
            yield Reject(name, 0, "", f"page {exc}", "")
            return
        except STREAM_ERRORS as exc:
            yield Reject(name, 0, "", f"input ends early or is corrupt ({exc})", "")
            return
    data = page_fields(page, "")
    if data is None:
        yield Reject(name, 0, "body", "no main text found in the page", page[:RAW_LIMIT])
        return
    data["id"] = data.get("url") or name
    yield RawRecord(name, 1, data, page[:RAW_LIMIT])


def read_warc(path: str) -> Iterator[RawRecord | Reject]:
    """Response records with HTML, main text by trafilatura; the URL is the id."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    name = display_name(path)
    n = 0
    # warcio undoes the per-record gzip of .warc.gz itself: give it the raw bytes.
    try:
        opened = note_opened(open(path, "rb")) if path != "-" else open_binary(path)  # noqa: SIM115
    except OSError as exc:
        yield Reject(name, 0, "", f"cannot open: {exc.strerror}", "")
        return
    with opened as stream:
        try:
            for record in ArchiveIterator(stream):
                n += 1
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                if not record.rec_type:
                    yield Reject(name, n, "", "WARC record cannot be read: no WARC-Type (truncated?)", "")
                    continue
                if record.rec_type != "response":
                    yield Reject(name, n, "", f"{record.rec_type} record skipped", "", "skipped")
                    continue
                kind = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                if "html" not in kind.lower():
                    yield Reject(
                        name, n, "", f"non-HTML response skipped ({kind or 'no type'}): {url}", "", "skipped"
                    )
                    continue
                try:
                    page = read_bounded(record.content_stream()).decode("utf-8", "replace")
                except TooLarge as exc:
                    yield Reject(name, n, "", f"response {exc}: {url}", "")
                    continue
                data = page_fields(page, url)
                if data is None:
                    yield Reject(name, n, "body", f"no main text in {url}", page[:RAW_LIMIT])
                    continue
                yield RawRecord(name, n, data, page[:RAW_LIMIT])
        except (ArchiveLoadFailed, *STREAM_ERRORS) as exc:
            yield Reject(name, n + 1, "", f"WARC record cannot be read: {exc}", "")


# -- Reuters-21578 SGML -------------------------------------------------------------------
_REUTERS = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'NEWID="(\d+)"')


def _tag(block: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", block, re.S)
    return match.group(1) if match else ""


def _sgml_text(value: str) -> str:
    return html.unescape(value).replace("\x03", "").replace("\x02", "")


def read_reuters_sgml(path: str) -> Iterator[RawRecord | Reject]:
    """Reuters-21578 `reut2-NNN.sgm`: NEWID, DATE, TITLE, DATELINE, BODY (streamed per story)."""
    name = display_name(path)
    with open_binary(path) as stream:
        text = io.TextIOWrapper(stream, encoding="latin-1")
        buffer, line, start_line = "", 0, 1
        while chunk := text.readline(MAX_RECORD_BYTES):
            if not buffer:
                start_line = line + 1
            line += chunk.endswith("\n")
            buffer += chunk
            if len(buffer) > MAX_RECORD_BYTES:
                limit = MAX_RECORD_BYTES // (1024 * 1024)
                yield Reject(name, start_line, "", f"REUTERS element longer than {limit} MB: not read", "")
                buffer = ""
                continue
            if "</REUTERS>" not in chunk:
                continue
            match = _REUTERS.search(buffer)
            buffer = ""
            if not match:
                continue
            attrs, block = match.groups()
            newid = _NEWID.search(attrs)
            if not newid:
                yield Reject(name, start_line, "id", "REUTERS element without NEWID", block[:RAW_LIMIT])
                continue
            body = _tag(block, "BODY")
            unprocessed = re.search(r'<TEXT TYPE="UNPROC">(.*?)</TEXT>', block, re.S)
            if not body and unprocessed:  # unprocessed stories keep their text outside <BODY>
                body = unprocessed.group(1)
            data = {
                "id": newid.group(1),
                "date": _tag(block, "DATE").strip(),
                "title": _sgml_text(_tag(block, "TITLE")),
                "dateline": _sgml_text(_tag(block, "DATELINE")),
                "author": _sgml_text(_tag(block, "AUTHOR")).strip(),
                "body": _sgml_text(body),
                "source": "Reuters",
            }
            yield RawRecord(name, start_line, data, block[:RAW_LIMIT])
