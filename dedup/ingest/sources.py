"""Opening inputs: paths or `-` for stdin, gzip and zstd undone transparently, formats sniffed."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

from dedup.errors import InputError

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_COMPRESSED_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd"}
_SUFFIX_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".nitf": "nitf",
    ".rss": "feed",
    ".atom": "feed",
    ".warc": "warc",
    ".arc": "warc",
    ".html": "html",
    ".htm": "html",
    ".sgm": "sgml",
    ".sgml": "sgml",
}
FORMATS = ("jsonl", "csv", "ninjs", "nitf", "feed", "warc", "html", "sgml")
# Errors a broken compressed stream raises in the middle of reading.
STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zstandard.ZstdError)


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


_OPENED: list[BinaryIO] = []
"""The raw (compressed) file most recently opened, so that progress can be told in bytes."""


def opened_position() -> int:
    """Bytes read so far from the raw file most recently opened (0 for stdin or closed)."""
    if not _OPENED:
        return 0
    raw = _OPENED[0]
    try:
        return 0 if raw.closed else raw.tell()
    except (OSError, ValueError):
        return 0


def note_opened(raw: BinaryIO) -> BinaryIO:
    _OPENED[:] = [raw]
    return raw


def input_size(paths: list[str]) -> int:
    """Total bytes of the files named (directories expanded); stdin counts 0."""
    total = 0
    for path in expand_paths(paths):
        if path != "-":
            with contextlib.suppress(OSError):
                total += os.path.getsize(path)
    return total


def open_binary(path: str) -> BinaryIO:
    """Open a path (or `-`) for reading bytes, decompressing gzip/zstd by their magic bytes."""
    raw: io.BufferedReader
    if path == "-":
        raw = io.BufferedReader(sys.stdin.buffer)  # type: ignore[arg-type]
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", file=path) from exc
    if path != "-":
        note_opened(raw)
    head = raw.peek(4)[:4]
    if head.startswith(_GZIP):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_ZSTD):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader)
    return raw


def _json_kind(text: bytes) -> str:
    """ninjs or plain JSON lines, from the keys of the first object."""
    first = text.split(b"\n", 1)[0]
    for marker in (b'"uri"', b'"guid"'):
        if marker in first and any(
            k in first for k in (b'"body_html"', b'"body_text"', b'"bodies"', b'"headline')
        ):
            return "ninjs"
    return "ninjs" if text.startswith(b"[") else "jsonl"


def sniff_format(path: str, head: bytes) -> str:
    """The input format of a file, from its extension, else from its first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = text[:2048].lower()
    if path != "-":
        suffixes = [s.lower() for s in Path(path).suffixes]
        while suffixes and suffixes[-1] in _COMPRESSED_SUFFIXES:
            suffixes.pop()
        if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
            kind = _SUFFIX_FORMATS[suffixes[-1]]
            return _json_kind(text) if kind == "jsonl" else kind
        if suffixes and suffixes[-1] == ".json":
            return _json_kind(text)
    if text.startswith(b"WARC/"):
        return "warc"
    if b"<nitf" in lowered:
        return "nitf"
    if b"<rss" in lowered or b"<feed" in lowered or b"<rdf:rdf" in lowered:
        return "feed"
    if b"<reuters" in lowered:
        return "sgml"
    if b"<html" in lowered or b"<!doctype html" in lowered:
        return "html"
    if text.startswith((b"{", b"[")):
        return _json_kind(text)
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line or b"\t" in first_line:
        return "csv"
    raise InputError(
        "cannot tell the input format (JSON lines, CSV, ninjs, NITF, RSS/Atom, WARC, HTML or "
        "Reuters SGML); pass --input-format",
        file=display_name(path),
    )


def expand_paths(paths: list[str]) -> Iterator[str]:
    """Files named, and every file under a directory named, in sorted order."""
    for path in paths:
        p = Path(path)
        if path != "-" and p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and not child.name.startswith("."):
                    yield str(child)
        else:
            yield path
