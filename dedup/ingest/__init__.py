"""Ingest: every reader yields `RawRecord`s or `Reject`s; `build_article` makes Articles.

Only this package reads input files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from dedup.errors import InputError
from dedup.ingest.fields import FIELD_NAMES, MAX_CHARS, FieldMap, build_article, has_derived_id
from dedup.ingest.formats import read_feed, read_html, read_nitf, read_reuters_sgml, read_warc
from dedup.ingest.readers import RawRecord, read_csv, read_jsonl, read_ninjs, read_text, text_fields
from dedup.ingest.sources import (
    FORMATS,
    STREAM_ERRORS,
    InputFile,
    Unreadable,
    expand_paths,
    input_size,
    open_binary,
    opened_position,
    refuse_special,
    sniff_format,
    spooled_stdin,
)
from dedup.model import Article, Reject

__all__ = [
    "FIELD_NAMES",
    "FORMATS",
    "MAX_CHARS",
    "FieldMap",
    "RawRecord",
    "article_from_paste",
    "build_article",
    "has_derived_id",
    "input_size",
    "is_unreadable",
    "read_article_file",
    "read_records",
    "refuse_special",
]


READERS: dict[str, Callable[[InputFile], Iterator[RawRecord | Reject]]] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "ninjs": read_ninjs,
    "nitf": read_nitf,
    "feed": read_feed,
    "warc": read_warc,
    "html": read_html,
    "sgml": read_reuters_sgml,
    "text": read_text,
}
UNREADABLE = ("cannot open", "cannot list folder")
"""How the reject of an input that could not be opened or listed begins (`dedup ingest`
exits non-zero for one, unless `--keep-going`)."""


def is_unreadable(reject: Reject) -> bool:
    """Whether a reject says an input file or folder could not be read at all."""
    return reject.reason.startswith(UNREADABLE)


def _format_of(source: InputFile, input_format: str) -> str:
    if input_format != "auto":
        if input_format not in FORMATS:
            raise InputError(f"unknown input format {input_format!r} (known: auto, {', '.join(FORMATS)})")
        return input_format
    with open_binary(source.path) as stream:
        try:
            head = stream.read(4096)
        except (EOFError, OSError):
            head = b""
    return sniff_format(source.path if source.path != "-" else source.name, head)


def _read_one(
    source: InputFile, input_format: str, on_bytes: Callable[[int], None] | None
) -> Iterator[RawRecord | Reject]:
    fmt = _format_of(source, input_format)
    size = os.path.getsize(source.path) if on_bytes is not None and source.path != "-" else 0
    reported = 0
    items = READERS[fmt](source)
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except STREAM_ERRORS as exc:
            # a compressed file cut short, wherever a reader met it: what was read stays,
            # the rest is one reject naming the file (readers catch it earlier where they can)
            yield Reject(source.name, 0, "", f"input ends early or is corrupt ({exc})", "")
            break
        if on_bytes is not None:
            position = opened_position()
            if position > reported:
                on_bytes(position - reported)
                reported = position
        yield item
    if on_bytes is not None and size > reported:
        on_bytes(size - reported)


def read_records(
    paths: list[str], input_format: str = "auto", *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[RawRecord | Reject]:
    """Records from every path (files, directories, `-`), in order; unreadable files and
    folders become Rejects. Standard input is read as it comes when `input_format` names
    the format; with `auto` it is first copied to a temporary file to be sniffed."""
    for item in expand_paths(paths):
        if isinstance(item, Unreadable):
            yield Reject(item.path, 0, "", item.reason, "", "skipped" if item.skipped else "rejected")
            continue
        try:
            if item.path == "-" and input_format == "auto":
                with spooled_stdin() as spool:
                    yield from _read_one(InputFile(spool, item.name, item.ref), input_format, on_bytes)
            else:
                yield from _read_one(item, input_format, on_bytes)
        except InputError as exc:
            yield Reject(exc.file or item.name, exc.line or 0, exc.field or "", exc.reason, "")


def article_from_paste(text: str, article_id: str = "pasted") -> Article:
    """A pasted text as `dedup trace FILE` reads a plain-text file: the first line is the
    title, blank lines separate paragraphs (the server's trace form says so). Raises
    `InputError` when nothing is left to trace."""
    title, body = text_fields(text)
    article, problems = build_article(
        RawRecord("pasted text", 1, {"id": article_id, "title": title, "body": body}, ""), FieldMap()
    )
    if article is None:
        raise InputError(problems[0].describe() if problems else "the pasted text holds no article")
    return article


def read_article_file(
    path: str, fields: FieldMap | None = None, *, input_format: str = "auto", source: str = ""
) -> Article:
    """The one article a file (or `-`) holds, in any input format, built as `dedup ingest`
    builds it: what `dedup diff` and `dedup trace` compare. Raises `InputError` when the
    file holds no article or more than one."""
    fields = fields or FieldMap()
    found: list[Article] = []
    problems: list[Reject] = []
    for item in read_records([path], input_format):
        if isinstance(item, Reject):
            if item.action == "rejected":
                problems.append(item)
            continue
        article, notes = build_article(item, fields, default_outlet=source)
        if article is None:
            problems.extend(notes)
        else:
            found.append(article)
    if len(found) == 1:
        return found[0]
    if not found:
        why = problems[0].describe() if problems else f"{path}: no article in it"
        raise InputError(why)
    raise InputError(f"holds {len(found)} articles, not one (pick one with jq, or ingest them)", file=path)
