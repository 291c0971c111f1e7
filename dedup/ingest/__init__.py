"""Ingest: every reader yields `RawRecord`s or `Reject`s; `build_article` makes Articles.

Only this package reads input files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from dedup.errors import InputError
from dedup.ingest.fields import FIELD_NAMES, MAX_CHARS, FieldMap, build_article, has_derived_id
from dedup.ingest.formats import read_feed, read_html, read_ninjs, read_nitf, read_reuters_sgml, read_warc
from dedup.ingest.readers import RawRecord, read_csv, read_jsonl
from dedup.ingest.sources import (
    FORMATS,
    display_name,
    expand_paths,
    input_size,
    open_binary,
    opened_position,
    sniff_format,
)
from dedup.model import Reject

__all__ = [
    "FIELD_NAMES",
    "FORMATS",
    "MAX_CHARS",
    "FieldMap",
    "RawRecord",
    "build_article",
    "has_derived_id",
    "input_size",
    "read_records",
]


READERS = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "ninjs": read_ninjs,
    "nitf": read_nitf,
    "feed": read_feed,
    "warc": read_warc,
    "html": read_html,
    "sgml": read_reuters_sgml,
}


def _format_of(path: str, input_format: str) -> str:
    if input_format != "auto":
        if input_format not in FORMATS:
            raise InputError(f"unknown input format {input_format!r} (known: auto, {', '.join(FORMATS)})")
        return input_format
    if path == "-":
        return "jsonl"  # stdin cannot be sniffed and reopened; pass --input-format for others
    with open_binary(path) as stream:
        try:
            head = stream.read(4096)
        except (EOFError, OSError):
            head = b""
    return sniff_format(path, head)


def read_records(
    paths: list[str], input_format: str = "auto", *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[RawRecord | Reject]:
    """Records from every path (files, directories, `-`), in order; unreadable files become Rejects."""
    for path in expand_paths(paths):
        try:
            fmt = _format_of(path, input_format)
            if on_bytes is None:
                yield from READERS[fmt](path)
                continue
            size = os.path.getsize(path) if path != "-" else 0
            reported = 0
            for item in READERS[fmt](path):
                position = opened_position()
                if position > reported:
                    on_bytes(position - reported)
                    reported = position
                yield item
            if size > reported:
                on_bytes(size - reported)
        except InputError as exc:
            yield Reject(exc.file or display_name(path), exc.line or 0, exc.field or "", exc.reason, "")
