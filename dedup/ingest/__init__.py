"""Ingest: every reader yields `RawRecord`s or `Reject`s; `build_article` makes Articles.

Only this package reads input files.
"""

from __future__ import annotations

from collections.abc import Iterator

from dedup.errors import InputError
from dedup.ingest.fields import FIELD_NAMES, MAX_CHARS, FieldMap, build_article, has_derived_id
from dedup.ingest.readers import RawRecord, read_csv, read_jsonl
from dedup.ingest.sources import FORMATS, display_name, expand_paths, open_binary, sniff_format
from dedup.model import Reject

__all__ = [
    "FIELD_NAMES",
    "FORMATS",
    "MAX_CHARS",
    "FieldMap",
    "RawRecord",
    "build_article",
    "has_derived_id",
    "read_records",
]


def _format_of(path: str, input_format: str) -> str:
    if input_format != "auto":
        if input_format not in FORMATS:
            raise InputError(f"unknown input format {input_format!r} (known: auto, {', '.join(FORMATS)})")
        return input_format
    if path == "-":
        # stdin cannot be reopened: sniff from the buffered head without consuming it.
        return "jsonl"
    with open_binary(path) as stream:
        try:
            head = stream.read(4096)
        except (EOFError, OSError):
            head = b""
    return sniff_format(path, head)


def read_records(paths: list[str], input_format: str = "auto") -> Iterator[RawRecord | Reject]:
    """Records from every path (files, directories, `-`), in order; unreadable files become Rejects."""
    for path in expand_paths(paths):
        try:
            fmt = _format_of(path, input_format)
            reader = read_jsonl(path) if fmt == "jsonl" else read_csv(path)
            yield from reader
        except InputError as exc:
            yield Reject(exc.file or display_name(path), exc.line or 0, exc.field or "", exc.reason, "")
