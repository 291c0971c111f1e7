"""Readers for the markup formats newsrooms have: NITF, RSS/Atom, web pages, WARC, Reuters SGML.

Each yields `RawRecord`s whose `data` uses the canonical field names `fields.FIELD_NAMES`
knows (`id`, `title`, `body`, `source`, `published`, `byline`, `url`, `dateline`, plus
`_summary` for feed items that carry only a summary), or `Reject`s with file and position.
Libraries do the parsing: lxml (NITF), feedparser (RSS/Atom), warcio (WARC), trafilatura
(main text of web pages, `markup.page_fields`).
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dedup.ingest.markup import html_to_paragraphs, page_fields
from dedup.ingest.readers import RAW_LIMIT, RawRecord, as_input, decode_text, text_fields
from dedup.ingest.sources import (
    MAX_RECORD_BYTES,
    STREAM_ERRORS,
    InputFile,
    TooLarge,
    note_opened,
    open_binary,
    read_bounded,
)
from dedup.model import Reject

# -- NITF ---------------------------------------------------------------------------------
# Elements of <body.content> that hold running text, one paragraph each. <block> and
# <bq> hold paragraphs of their own or bare text; media, tables' structure and notes do not.
_NITF_TEXT = {"p", "li", "hl2", "pre", "block", "dd", "dt"}
_NITF_SKIP = {"media", "media-caption", "media-producer", "media-reference", "table", "note", "fn"}


def _local(el: Any) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _strip_namespaces(root: Any) -> None:
    """Every tag by its local name, so that one set of lookups reads NITF with or without
    `xmlns="http://iptc.org/std/NITF/2006-10-18/"` (comments and PIs are dropped)."""
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            parent = el.getparent()
            if parent is not None:  # keep the text that follows a comment
                previous = el.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + (el.tail or "")
                else:
                    parent.text = (parent.text or "") + (el.tail or "")
                parent.remove(el)
            continue
        el.tag = _local(el)
        for name in list(el.attrib):
            if name.startswith("{"):
                el.attrib[name.rsplit("}", 1)[-1]] = el.attrib.pop(name)


def _spaced(el: Any) -> str:
    """Text of an element with its child elements' boundaries as spaces ("By BERNARD
    CONDON<byttl>AP Business Writer</byttl>" is "By BERNARD CONDON AP Business Writer")."""
    return " ".join(" ".join(t.split()) for t in el.itertext() if t.strip())


def _inline(el: Any) -> str:
    """Text of a paragraph: inline markup joined as written, a <br/> a space."""
    for br in el.iter("br"):
        br.tail = " " + (br.tail or "")
    return " ".join("".join(el.itertext()).split())


def _nitf_paragraphs(content: Any) -> list[str]:
    out: list[str] = []

    def walk(el: Any) -> None:
        for child in el:
            tag = child.tag
            if tag in _NITF_SKIP:
                continue
            if tag in _NITF_TEXT and not any(d.tag in _NITF_TEXT for d in child.iterdescendants()):
                text = _inline(child)
                if text:
                    out.append(text)
            elif tag == "tr":
                cells = [_inline(c) for c in child if c.tag in ("td", "th")]
                if any(cells):
                    out.append(" | ".join(c for c in cells if c))
            else:
                walk(child)

    walk(content)
    return out


def _first_of(el: Any, *paths: str) -> str:
    for path in paths:
        found = el.xpath(path)
        for value in found if isinstance(found, list) else [found]:
            text = value if isinstance(value, str) else _spaced(value)
            if text and text.strip():
                return " ".join(text.split())
    return ""


def nitf_fields(el: Any) -> dict[str, Any]:
    """Canonical fields of one <nitf> element (namespaces already stripped)."""
    head_title = _first_of(el, "head/title")
    dateline = el.find(".//body.head/dateline")
    place = ""
    if dateline is not None:
        # the place: <location>'s parts or the bare text, never the <story.date> inside
        parts = [_spaced(c) for c in dateline if c.tag != "story.date"]
        bare = " ".join(((dateline.text or "") + " " + " ".join(c.tail or "" for c in dateline)).split())
        place = " ".join(p for p in [bare, *parts] if p).strip(" ,")
    content = el.find(".//body.content")
    paragraphs = _nitf_paragraphs(content) if content is not None else []
    abstract = _first_of(el, ".//body.head/abstract")
    data: dict[str, Any] = {
        "id": _first_of(el, ".//docdata/doc-id/@id-string", "@uno", ".//doc-id/@id-string"),
        "title": _first_of(el, ".//body.head/hedline/hl1", ".//body.head/headline/hl1", ".//hedline/hl1")
        or head_title,
        "byline": " ".join(_spaced(b) for b in el.findall(".//body.head/byline")),
        "dateline": place,
        "published": _first_of(
            el,
            ".//docdata/date.issue/@norm",
            ".//docdata/date.release/@norm",
            ".//pubdata/@date.publication",
            ".//dateline/story.date/@norm",
            ".//dateline/story.date",
        ),
        "source": _first_of(
            el,
            ".//pubdata/@name",
            ".//docdata/doc.copyright/@holder",
            ".//body.head/distributor",
            ".//body.head/rights/rights.owner",
            ".//docdata/doc.rights/@owner",
        ),
        "body": "\n\n".join(paragraphs),
    }
    if not paragraphs and abstract:
        data["body"], data["_summary"] = abstract, True
    return {k: v for k, v in data.items() if v}


def read_nitf(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """NITF documents (one or many `<nitf>` elements in a file, in the NITF namespace or
    none), streamed with iterparse."""
    from lxml import etree

    src = as_input(source)
    name = src.name
    count = 0
    with open_binary(src.path) as stream:
        try:
            for _, el in etree.iterparse(
                stream, events=("end",), tag="{*}nitf", recover=False, resolve_entities=False, no_network=True
            ):
                count += 1
                raw = etree.tostring(el)[:RAW_LIMIT].decode("utf-8", "replace")
                _strip_namespaces(el)
                yield RawRecord(name, el.sourceline or count, nitf_fields(el), raw)
                el.clear()
        except etree.XMLSyntaxError as exc:
            yield Reject(name, exc.lineno or 0, "", f"XML does not parse: {exc.msg}", "")
        except STREAM_ERRORS as exc:
            yield Reject(name, 0, "", f"input ends early or is corrupt ({exc})", "")


# -- RSS / Atom ---------------------------------------------------------------------------
def read_feed(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """RSS 2.0 / Atom entries (feedparser): full text from `content`, else the summary."""
    import feedparser

    src = as_input(source)
    name = src.name
    with open_binary(src.path) as stream:
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
def read_html(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """One saved web page: its main text and metadata (trafilatura, which also finds the
    page's own encoding)."""
    src = as_input(source)
    name = src.name
    with open_binary(src.path) as stream:
        try:
            page = read_bounded(stream)
        except TooLarge as exc:
            yield Reject(name, 0, "", f"page {exc}", "")
            return
        except STREAM_ERRORS as exc:
            yield Reject(name, 0, "", f"input ends early or is corrupt ({exc})", "")
            return
    data = page_fields(page, "")
    if data is None:
        yield Reject(
            name, 0, "body", "no main text found in the page", page[:RAW_LIMIT].decode("utf-8", "replace")
        )
        return
    data["id"] = data.get("url") or src.ref
    yield RawRecord(name, 1, data, page[:RAW_LIMIT].decode("utf-8", "replace"))


class _Warnings(io.StringIO):
    """What warcio writes to stderr while a record is read: kept as notes on the run."""

    def notes(self, name: str, n: int) -> list[Reject]:
        text, _ = self.getvalue(), self.seek(0)
        self.truncate()
        lines = [" ".join(line.split()) for line in text.strip().splitlines() if line.strip()]
        return [Reject(name, n, "", f"warcio: {' / '.join(lines)}", "", "note")] if lines else []


class _Brotli:
    """warcio's decoder of `Content-Encoding: br` for brotli >= 1.1, whose Decompressor
    has `process`, not the `decompress` and settable `unused_data` warcio 1.8's own hook
    expects (it fails with AttributeError on every brotli page)."""

    unused_data = None

    def __init__(self) -> None:
        import brotli

        self._inner = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return bytes(self._inner.process(data))

    def flush(self) -> bytes:
        return b""


def _install_brotli() -> None:
    from warcio.bufferedreaders import BufferedReader

    try:
        import brotli
    except ImportError:
        return
    if not hasattr(brotli.Decompressor(), "decompress"):
        BufferedReader.DECOMPRESSORS["br"] = _Brotli


def _warc_record(record: Any, name: str, n: int) -> RawRecord | Reject:
    """An article from one WARC record, or why it is not one (a skip or a reject)."""
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    url = url.strip("<>")  # wget writes <http://...>
    kind = record.rec_type
    if kind == "response":
        headers = record.http_headers
        status = headers.get_statuscode() if headers is not None else ""
        if status != "200":
            what = f"HTTP {status}" if status else "a non-HTTP response"
            return Reject(name, n, "", f"{what} skipped (only 200 pages are articles): {url}", "", "skipped")
        content_type = (headers.get_header("Content-Type") if headers is not None else "") or ""
    elif kind == "resource":
        if not url.lower().startswith(("http://", "https://")):
            return Reject(name, n, "", f"resource record skipped (not a web page): {url}", "", "skipped")
        content_type = record.rec_headers.get_header("Content-Type") or ""
    else:
        return Reject(name, n, "", f"{kind} record skipped", "", "skipped")
    lowered = content_type.lower()
    if "html" not in lowered and not lowered.startswith("text/plain"):
        return Reject(
            name, n, "", f"non-HTML {kind} skipped ({content_type or 'no type'}): {url}", "", "skipped"
        )
    try:
        page = read_bounded(record.content_stream())
    except TooLarge as exc:
        return Reject(name, n, "", f"{kind} {exc}: {url}", "")
    if "html" in lowered:
        data = page_fields(page, url)
    else:
        title, body = text_fields(decode_text(page))
        data = {"id": url, "url": url, "title": title, "body": body} if body or title else None
    if data is None:
        return Reject(name, n, "body", f"no main text in {url}", page[:RAW_LIMIT].decode("utf-8", "replace"))
    return RawRecord(name, n, data, page[:RAW_LIMIT].decode("utf-8", "replace"))


def read_warc(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """The articles of a web archive: HTTP 200 `response` records and web `resource`
    records of HTML or plain text, main text by trafilatura, the URL as id. Error pages,
    redirects, requests, metadata and other types are skipped and counted; gzip, deflate
    and brotli content encodings are undone (warcio), and warcio's warnings are notes."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    _install_brotli()
    src = as_input(source)
    name = src.name
    n = 0
    # warcio undoes the per-record gzip of .warc.gz itself: give it the raw bytes.
    try:
        opened = note_opened(open(src.path, "rb")) if src.path != "-" else open_binary(src.path)  # noqa: SIM115
    except OSError as exc:
        yield Reject(name, 0, "", f"cannot open: {exc.strerror}", "")
        return
    warnings = _Warnings()
    with opened as stream:
        records = iter(ArchiveIterator(stream))
        while True:
            try:
                with contextlib.redirect_stderr(warnings):
                    record = next(records, None)
                    if record is None:
                        break
                    n += 1
                    if not record.rec_type:
                        item: RawRecord | Reject = Reject(
                            name, n, "", "WARC record cannot be read: no WARC-Type (truncated?)", ""
                        )
                    else:
                        item = _warc_record(record, name, n)
            except (ArchiveLoadFailed, *STREAM_ERRORS) as exc:
                yield from warnings.notes(name, n)
                yield Reject(name, n + 1, "", f"WARC record cannot be read: {exc}", "")
                return
            yield from warnings.notes(name, n)
            yield item
        yield from warnings.notes(name, n)


# -- Reuters-21578 SGML -------------------------------------------------------------------
_REUTERS = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'NEWID="(\d+)"')


def _tag(block: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", block, re.S)
    return match.group(1) if match else ""


def _sgml_text(value: str) -> str:
    return html.unescape(value).replace("\x03", "").replace("\x02", "")


def read_reuters_sgml(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """Reuters-21578 `reut2-NNN.sgm`: NEWID, DATE, TITLE, DATELINE, BODY (streamed per story)."""
    src = as_input(source)
    name = src.name
    with open_binary(src.path) as stream:
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
