"""Readers: each turns one input file into `RawRecord`s (a dict and its position) or `Reject`s.

Readers never raise for a bad record; they yield a `Reject` naming file, line and field and
go on. Bytes are decoded with `surrogateescape`, so that undecodable bytes are caught per
field instead of failing the whole file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dedup.ingest.sources import MAX_RECORD_BYTES, STREAM_ERRORS, bounded_lines, display_name, open_binary
from dedup.model import Reject

RAW_LIMIT = 64_000
"""Characters of raw text kept with a reject: enough to see and fix it, bounded for hostile input."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    file: str
    line: int
    data: dict[str, Any]
    raw: str


def _printable(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text[:RAW_LIMIT]


def _truncated(name: str, line: int, exc: BaseException) -> Reject:
    return Reject(name, line, "", f"input ends early or is corrupt ({exc})", "")


def parse_json_line(name: str, line_no: int, text: str) -> RawRecord | Reject:
    """One line of a JSON-lines file: a record, or a reject saying what is wrong (pure; the
    Spark engine calls it on lines Spark has read)."""
    if line_no == 1:
        text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Reject(name, line_no, "", f"malformed JSON: {exc.msg} at column {exc.colno}", _printable(text))
    except RecursionError:
        return Reject(name, line_no, "", "malformed JSON: nested too deeply", _printable(text[:1000]))
    if not isinstance(data, dict):
        return Reject(
            name, line_no, "", f"expected a JSON object, got {type(data).__name__}", _printable(text)
        )
    return RawRecord(name, line_no, data, text)


def read_jsonl(path: str) -> Iterator[RawRecord | Reject]:
    """One JSON object per line; blank lines are skipped."""
    name = display_name(path)
    line_no = 0
    with open_binary(path) as stream:
        try:
            for line_no, raw_line in bounded_lines(stream):
                if raw_line is None:
                    limit = MAX_RECORD_BYTES // (1024 * 1024)
                    yield Reject(name, line_no, "", f"line longer than {limit} MB: not read", "")
                    continue
                text = raw_line.decode("utf-8", "surrogateescape")
                yield parse_json_line(name, line_no, text)
        except STREAM_ERRORS as exc:
            yield _truncated(name, line_no + 1, exc)


def read_csv(path: str, *, delimiter: str | None = None) -> Iterator[RawRecord | Reject]:
    """CSV (or TSV) with a header row; rows with the wrong number of columns are rejected."""
    name = display_name(path)
    if delimiter is None:
        delimiter = "\t" if name.lower().split(".gz")[0].split(".zst")[0].endswith(".tsv") else ","
    csv.field_size_limit(MAX_RECORD_BYTES)
    with open_binary(path) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        line_no = 0
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip() for h in header]
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield Reject(name, start, "", f"malformed CSV: {exc}", "")
                    continue
                line_no = start
                raw = delimiter.join(row)
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield Reject(
                        name,
                        start,
                        "",
                        f"expected {len(header)} columns (as in the header), got {len(row)}",
                        _printable(raw),
                    )
                    continue
                yield RawRecord(name, start, dict(zip(header, row, strict=True)), raw)
        except STREAM_ERRORS as exc:
            yield _truncated(name, line_no + 1, exc)
