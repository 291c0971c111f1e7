"""Opening inputs: paths or `-` for stdin, gzip and zstd undone transparently, formats sniffed."""

from __future__ import annotations

import gzip
import io
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
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
}
FORMATS = ("jsonl", "csv")
# Errors a broken compressed stream raises in the middle of reading.
STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zstandard.ZstdError)


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


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
    head = raw.peek(4)[:4]
    if head.startswith(_GZIP):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_ZSTD):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader)
    return raw


def sniff_format(path: str, head: bytes) -> str:
    """The input format of a file, from its extension, else from its first bytes."""
    if path != "-":
        suffixes = [s.lower() for s in Path(path).suffixes]
        while suffixes and suffixes[-1] in _COMPRESSED_SUFFIXES:
            suffixes.pop()
        if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
            return _SUFFIX_FORMATS[suffixes[-1]]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line or b"\t" in first_line:
        return "csv"
    raise InputError(
        "cannot tell the input format (expected JSON lines or CSV); pass --input-format",
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
