"""Readers of the plain data formats: JSON (lines or one document), CSV/TSV, plain text.

Each turns one input file into `RawRecord`s (a dict and its position) or `Reject`s. Readers
never raise for a bad record; they yield a `Reject` naming file, line and field and go on.
Bytes are decoded with `surrogateescape`, so that undecodable bytes are caught per field
instead of failing the whole file.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from dedup.ingest.ninjs import looks_like_ninjs, ninjs_fields
from dedup.ingest.sources import (
    MAX_RECORD_BYTES,
    STREAM_ERRORS,
    InputFile,
    TooLarge,
    bounded_lines,
    input_file,
    open_binary,
    read_bounded,
)
from dedup.model import Reject

RAW_LIMIT = 64_000
"""Characters of raw text kept with a reject: enough to see and fix it, bounded for hostile input."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    file: str
    line: int
    data: dict[str, Any]
    raw: str


def as_input(source: str | InputFile) -> InputFile:
    return source if isinstance(source, InputFile) else input_file(source)


def _printable(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text[:RAW_LIMIT]


def _truncated(name: str, line: int, exc: BaseException) -> Reject:
    return Reject(name, line, "", f"input ends early or is corrupt ({exc})", "")


# -- JSON ---------------------------------------------------------------------------------
ENVELOPES = ("articles", "items", "item", "data", "results", "entries", "docs", "documents",
             "stories", "news", "records", "response", "value")  # fmt: skip
"""Keys under which APIs wrap their articles: NewsAPI's `{"status": "ok", "articles": [...]}`,
`{"items": [...]}`, `{"data": {...}}`, the Guardian's `{"response": {"results": [...]}}`."""
_ARTICLE_KEYS = {"body", "text", "content", "title", "headline", "headlines", "bodies", "body_html",
                 "body_text", "body_xhtml", "description", "url", "uri", "guid"}  # fmt: skip


def _unwrap(value: Any, depth: int = 0) -> Iterator[Any]:
    """The records inside a JSON value: an array's items, an envelope's contents, or the
    value itself. A dict is an envelope when it has no article field of its own and an
    envelope key holds objects."""
    if isinstance(value, list):
        for item in value:
            yield from _unwrap(item, depth + 1) if isinstance(item, list) and depth < 3 else (item,)
        return
    if isinstance(value, dict) and depth < 3 and not (_ARTICLE_KEYS & {k.casefold() for k in value}):
        for key in ENVELOPES:
            inner = next((v for k, v in value.items() if k.casefold() == key), None)
            if isinstance(inner, list | dict) and inner:
                yield from _unwrap(inner, depth + 1)
                return
    yield value


def _as_record(name: str, line: int, value: Any, raw: str, ninjs: bool) -> RawRecord | Reject:
    if not isinstance(value, dict):
        return Reject(name, line, "", f"expected a JSON object, got {type(value).__name__}", _printable(raw))
    data = ninjs_fields(value) if ninjs or looks_like_ninjs(value) else value
    return RawRecord(name, line, data, raw)


def parse_json_line(name: str, line_no: int, text: str, *, ninjs: bool = False) -> list[RawRecord | Reject]:
    """The records of one line of a JSON-lines file (an object, or an envelope or array of
    them), or a reject saying what is wrong (pure; the Spark engine calls it on lines Spark
    has read)."""
    if line_no == 1:
        text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [
            Reject(name, line_no, "", f"malformed JSON: {exc.msg} at column {exc.colno}", _printable(text))
        ]
    except RecursionError:
        return [Reject(name, line_no, "", "malformed JSON: nested too deeply", _printable(text[:1000]))]
    items = list(_unwrap(data))
    if not items:
        return [Reject(name, line_no, "", "an empty JSON array: no record", _printable(text), "skipped")]
    if isinstance(data, list) and not any(isinstance(item, dict) for item in items):
        kinds = ", ".join(sorted({type(item).__name__ for item in items}))
        return [
            Reject(name, line_no, "", f"expected a JSON object, got an array of {kinds}", _printable(text))
        ]
    if len(items) == 1:
        return [_as_record(name, line_no, items[0], text, ninjs)]
    return [_as_record(name, line_no, item, json.dumps(item)[:RAW_LIMIT], ninjs) for item in items]


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _array_items(text: str, pos: int, ends: list[int]) -> Iterator[tuple[int, Any]]:
    """(offset, value) of the items of the JSON array opening at `pos`, decoded one at a
    time; the offset after its `]` is appended to `ends`."""
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        ends.append(pos + 1)
        return
    while True:
        value, end = _DECODER.raw_decode(text, pos)
        yield pos, value
        pos = _skip(text, end)
        if text.startswith("]", pos):
            ends.append(pos + 1)
            return
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("expected ',' or ']' after an array item", text, pos)
        pos = _skip(text, pos + 1)


def _document_items(text: str) -> Iterator[tuple[int, Any]]:
    """(offset, record) of every record of a JSON document: the items of a top-level array,
    or of the array in an envelope, are decoded one at a time so that each is known by the
    line it starts on. Raises `json.JSONDecodeError` where the document is malformed."""
    pos = _skip(text, 0)
    ends: list[int] = []
    if text.startswith("[", pos):
        for offset, value in _array_items(text, pos, ends):
            yield from ((offset, item) for item in _unwrap(value, 1))
        end = ends[0]
    else:
        value, end = _DECODER.raw_decode(text, pos)
        items = list(_unwrap(value))
        offsets = _envelope_offsets(text, pos, value, len(items))
        yield from zip(offsets or [pos] * len(items), items, strict=True)
    if _skip(text, end) != len(text):
        raise json.JSONDecodeError("extra data after the JSON document", text, _skip(text, end))


def _envelope_offsets(text: str, pos: int, value: Any, count: int) -> list[int] | None:
    """Where each record of a one-level envelope (`{"articles": [...]}`) starts, or None."""
    if not isinstance(value, dict):
        return None
    for key in ENVELOPES:
        inner = value.get(key)
        if isinstance(inner, list) and len(inner) == count and all(isinstance(v, dict) for v in inner):
            opening = re.compile(rf'"{re.escape(key)}"\s*:\s*\[').search(text, pos)
            if opening is None:
                return None
            try:
                offsets = [o for o, _ in _array_items(text, opening.end() - 1, [])]
            except json.JSONDecodeError:
                return None
            return offsets if len(offsets) == count else None
    return None


def _read_json_document(name: str, text: str, ninjs: bool) -> Iterator[RawRecord | Reject]:
    line, last, count = 1, 0, 0
    for offset, value in _document_items(text):
        line += text.count("\n", last, offset)
        last = offset
        count += 1
        yield _as_record(name, line, value, json.dumps(value, ensure_ascii=False)[:RAW_LIMIT], ninjs)
    if not count:
        yield Reject(name, 1, "", "the JSON document holds no record", _printable(text[:1000]), "skipped")


LOOKAHEAD = 5
"""Lines read after an unparseable first line: if one is a JSON object by itself, a file
that is not a JSON document is JSON lines with a bad first line."""


def read_json(source: str | InputFile, *, ninjs: bool = False) -> Iterator[RawRecord | Reject]:
    """JSON lines (one object per line), or one JSON document: an object, an array of
    objects, or an API envelope around them, pretty-printed or not. Told apart by content:
    a file whose first line is a JSON value by itself is JSON lines; any other is read as
    one document, and if that fails while later lines are objects by themselves, as JSON
    lines with a bad first line. Records that look like IPTC ninjs (all of them, with
    `ninjs`) are mapped from ninjs."""
    src = as_input(source)
    name = src.name
    lines_plausible = False
    with open_binary(src.path) as stream:
        try:
            head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
        except STREAM_ERRORS as exc:  # a gzip or zstd file cut before its first block
            yield _truncated(name, 1, exc)
            return
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            lines = bounded_lines(stream)
            try:
                ahead = list(islice(lines, LOOKAHEAD + 1))
            except STREAM_ERRORS as exc:
                yield _truncated(name, 1, exc)
                return
            if not ahead:
                return
            if ahead[0][1] is not None and _parses(ahead[0][1]):
                yield from _json_lines(name, itertools.chain(ahead, lines), ninjs)
                return
            lines_plausible = any(raw is not None and _parses(raw, objects=True) for _, raw in ahead[1:])
    problem: Reject
    with open_binary(src.path) as stream:
        try:
            raw = read_bounded(stream)
        except TooLarge as exc:
            raw, problem = b"", Reject(name, 0, "", f"JSON document {exc}: split it into JSON lines", "")
        except STREAM_ERRORS as exc:
            yield _truncated(name, 1, exc)
            return
    if raw:
        text = raw.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
        try:
            yield from list(_read_json_document(name, text, ninjs))
            return
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            reason = f"malformed JSON document: {exc.msg} ({where})"
            problem = Reject(name, exc.lineno, "", reason, _printable(text))
        except RecursionError:
            problem = Reject(name, 1, "", "malformed JSON: nested too deeply", _printable(text[:1000]))
    if not lines_plausible:
        yield problem
        return
    with open_binary(src.path) as stream:
        yield from _json_lines(name, bounded_lines(stream), ninjs)


def _parses(line: bytes, *, objects: bool = False) -> bool:
    """Whether a line is a JSON value by itself (with `objects`, a JSON object)."""
    text = line.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    if objects and not text.lstrip().startswith("{"):
        return False
    try:
        json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _json_lines(
    name: str, lines: Iterator[tuple[int, bytes | None]], ninjs: bool
) -> Iterator[RawRecord | Reject]:
    line_no = 0
    try:
        for line_no, raw_line in lines:
            if raw_line is None:
                limit = MAX_RECORD_BYTES // (1024 * 1024)
                yield Reject(name, line_no, "", f"line longer than {limit} MB: not read", "")
                continue
            yield from parse_json_line(
                name, line_no, raw_line.decode("utf-8", "surrogateescape"), ninjs=ninjs
            )
    except STREAM_ERRORS as exc:
        yield _truncated(name, line_no + 1, exc)


def read_jsonl(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """JSON lines or a JSON document (see `read_json`)."""
    return read_json(source)


def read_ninjs(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """ninjs items: pretty-printed documents, arrays, envelopes or one item per line."""
    return read_json(source, ninjs=True)


# -- CSV ----------------------------------------------------------------------------------
_NUMBER = re.compile(r"\s*[-+]?\d[\d,.]*\s*")


def _numeric(cell: str) -> bool:
    return bool(_NUMBER.fullmatch(cell))


def is_header(first: list[str], below: list[list[str]], known: set[str]) -> bool:
    """Whether the first row of a CSV names its columns (pure).

    A header if it names a known field; otherwise, data if it has the shape of the rows
    below it: its numeric cells where their cells are numeric, and text of their length in
    the column of longest text. With no rows below, a row of short distinct words is a header.

    >>> is_header(["3", "Fears for pension", "Unions representing workers say ..."],
    ...           [["4", "Race is on", "A second team of rocketeers ..."]], {"title", "body"})
    False
    """
    if any(canonical(cell) in known for cell in first):
        return True
    rows = [r for r in below if len(r) == len(first)]
    if not rows:
        return len(set(first)) == len(first) and all(0 < len(c) <= 40 and not _numeric(c) for c in first)
    for column, cell in enumerate(first):
        numeric = sum(_numeric(r[column]) for r in rows) / len(rows)
        if numeric >= 0.8 and not _numeric(cell):
            return True  # a name over a column of numbers
    lengths = [statistics.median(len(r[c]) for r in rows) for c in range(len(first))]
    longest = max(range(len(first)), key=lambda c: lengths[c])
    return lengths[longest] >= 20 and len(first[longest]) < lengths[longest] / 4


def assumed_columns(rows: list[list[str]]) -> dict[str, str]:
    """For a header-less CSV: the longest text column is the body, the shortest non-numeric
    one (if another) the title; {field: 1-based column number}."""
    width = len(rows[0])
    text_columns = [c for c in range(width) if sum(_numeric(r[c]) for r in rows) / len(rows) < 0.5]
    if not text_columns:
        return {}
    length = {c: statistics.mean(len(r[c]) for r in rows) for c in text_columns}
    body = max(text_columns, key=lambda c: (length[c], -c))
    assumed = {"body": str(body + 1)}
    others = [c for c in text_columns if c != body]
    if others:
        assumed["title"] = str(min(others, key=lambda c: (length[c], c)) + 1)
    return assumed


def canonical(name: str) -> str:
    """A field name as matched: case-folded, without punctuation (`publishedAt`,
    `published_at` and `PUBLISHED-AT` are one name)."""
    return re.sub(r"[\W_]+", "", name.casefold())


SNIFF_ROWS = 20


def read_csv(
    source: str | InputFile, *, delimiter: str | None = None, known: set[str] | None = None
) -> Iterator[RawRecord | Reject]:
    """CSV (or TSV) records; rows with the wrong number of columns are rejected.

    With a header row, its names are the fields. A file whose first row is data (AG News
    as distributed) gets columns numbered "1", "2", ... and, unless `--map` says otherwise,
    the body and title `assumed_columns` picks, said in a note."""
    from dedup.ingest.fields import KNOWN_NAMES

    src = as_input(source)
    name = src.name
    known = KNOWN_NAMES if known is None else known
    if delimiter is None:
        lowered = name.lower().split(".gz")[0].split(".zst")[0]
        delimiter = "\t" if lowered.endswith(".tsv") else ","
    csv.field_size_limit(MAX_RECORD_BYTES)
    with open_binary(src.path) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        line_no = 0
        try:
            first = next(reader, None)
            if first is None:
                return
            first_line = reader.line_num
            buffered: list[tuple[int, list[str] | csv.Error]] = []
            while len(buffered) < SNIFF_ROWS:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    buffered.append((start, exc))
                    continue
                buffered.append((start, row))
            sample = [r for _, r in buffered if isinstance(r, list) and any(c.strip() for c in r)]
            assumed: dict[str, str] = {}
            if is_header([c.strip() for c in first], sample, known):
                header = [h.strip() or f"column {i + 1}" for i, h in enumerate(first)]
            else:
                header = [str(i + 1) for i in range(len(first))]
                buffered.insert(0, (first_line, first))
                rows = [r for r in [first, *sample] if len(r) == len(first)]
                assumed = assumed_columns(rows)
                said = ", ".join(f"column {c} = {f}" for f, c in assumed.items()) or "no text column"
                yield Reject(
                    name,
                    1,
                    "",
                    f"no header row: assumed {said} (override with --map FIELD=NUMBER)",
                    "",
                    "note",
                )

            def rows_after() -> Iterator[tuple[int, list[str] | csv.Error]]:
                yield from buffered
                while True:
                    start = reader.line_num + 1
                    try:
                        yield start, next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        yield start, exc

            for start, parsed in rows_after():
                line_no = start
                if isinstance(parsed, csv.Error):
                    yield Reject(name, start, "", f"malformed CSV: {parsed}", "")
                    continue
                row = parsed
                raw = delimiter.join(row)
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield Reject(
                        name, start, "", f"expected {len(header)} columns (as in the header), got {len(row)}",
                        _printable(raw),
                    )  # fmt: skip
                    continue
                data: dict[str, Any] = dict(zip(header, row, strict=True))
                if assumed:
                    data["_columns"] = assumed
                yield RawRecord(name, start, data, raw)
        except STREAM_ERRORS as exc:
            yield _truncated(name, line_no + 1, exc)


# -- plain text ---------------------------------------------------------------------------
def decode_text(raw: bytes) -> str:
    """Bytes of a text file as text: UTF-8 (with or without a BOM), else the encoding
    charset-normalizer finds, else Windows-1252 (the usual non-UTF-8 news text)."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw[: 1 << 20]).best()
    if best is not None and best.encoding:
        try:
            return raw.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return raw.decode("cp1252", "replace")


_BLANK = re.compile(r"\n[^\S\n]*\n\s*")


def text_fields(text: str) -> tuple[str, str]:
    """(title, body) of a plain-text article: the first non-empty line is the title, blank
    lines separate paragraphs, and the wrapped lines of a paragraph are joined (pure).

    A body with no blank line keeps its lines for `normalize_body` to judge (one paragraph
    per line, or hard-wrapped text).

    >>> text_fields("Train derails\\n\\nA freight train\\nderailed on Tuesday.\\n\\nNo one was hurt.\\n")
    ('Train derails', 'A freight train derailed on Tuesday.\\n\\nNo one was hurt.')
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        return "", ""
    title = lines[start].strip()
    body = "\n".join(lines[start + 1 :]).strip("\n")
    if _BLANK.search(body):
        blocks = _BLANK.split(body)
        # a block with indented lines after its first is Reuters-style: indentation opens
        # paragraphs, which normalize_body knows; any other block is one wrapped paragraph
        body = "\n\n".join(
            b if any(line[:1].isspace() for line in b.split("\n")[1:]) else " ".join(b.split("\n"))
            for b in blocks
        )
    return title, body


def read_text(source: str | InputFile) -> Iterator[RawRecord | Reject]:
    """One plain-text article per file (see `text_fields`); its id is the file's path
    relative to the folder named on the command line, or the file's name."""
    src = as_input(source)
    with open_binary(src.path) as stream:
        try:
            raw = read_bounded(stream)
        except TooLarge as exc:
            yield Reject(src.name, 0, "", f"text {exc}", "")
            return
        except STREAM_ERRORS as exc:
            yield _truncated(src.name, 1, exc)
            return
    title, body = text_fields(decode_text(raw))
    if not title and not body:
        yield Reject(src.name, 1, "body", "empty text file", "", "skipped")
        return
    yield RawRecord(src.name, 1, {"id": src.ref, "title": title, "body": body}, _printable(raw))
