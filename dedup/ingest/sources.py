"""Opening inputs: paths or `-` for stdin, gzip and zstd undone transparently, formats sniffed."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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
    ".txt": "text",
    ".text": "text",
}
FORMATS = ("jsonl", "csv", "ninjs", "nitf", "feed", "warc", "html", "sgml", "text")
"""Input formats a reader exists for (`--input-format`); `jsonl` reads JSON documents too."""
# Errors a broken compressed stream raises in the middle of reading.
STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zstandard.ZstdError)


MAX_RECORD_BYTES = 64 * 1024 * 1024
"""Longest line (JSON lines) or field (CSV) read, after decompression: a longer one is
rejected, never held in memory whole (a gzip bomb is a few KB that inflate to gigabytes)."""
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""Largest whole-file document read (ninjs JSON, NITF, RSS/Atom, HTML, SGML, a WARC record)."""


class TooLarge(Exception):
    """An input document over `MAX_DOCUMENT_BYTES` after decompression."""


def read_bounded(stream: BinaryIO, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """All of `stream`, or `TooLarge` as soon as it passes `limit` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"larger than {limit // (1024 * 1024)} MB after decompression")
    return data


def bounded_lines(
    stream: BinaryIO, limit: int = MAX_RECORD_BYTES, chunk_size: int = 1 << 20
) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every non-blank line of `stream`; `None` for a line over
    `limit` bytes, which is skipped in chunks rather than held whole. Runs of blank lines
    are counted, not iterated, so a stream of newlines costs no Python loop per line."""
    pieces: list[bytes] = []  # the line being read
    size, line_no, skipping, inked = 0, 1, False, False  # inked: the skipped line is not blank
    # read1: one underlying read at a time, so that the lines before a truncated gzip's
    # end are all yielded before the error of the read that finds it
    read = getattr(stream, "read1", stream.read)
    while chunk := read(chunk_size):
        if not pieces and not skipping and not chunk.strip():
            line_no += chunk.count(b"\n")
            tail = chunk[chunk.rfind(b"\n") + 1 :]  # the start of the next line, if any
            if tail:
                pieces, size = [tail], len(tail)
            continue
        parts = chunk.split(b"\n")
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            if skipping:
                inked = inked or bool(part.strip())
                if not last:
                    if inked:
                        yield line_no, None
                    skipping, line_no = False, line_no + 1
                continue
            pieces.append(part)
            size += len(part)
            if size > limit:
                inked = any(p.strip() for p in pieces)
                pieces, size, skipping = [], 0, True
                if not last:
                    if inked:
                        yield line_no, None
                    skipping, line_no = False, line_no + 1
                continue
            if not last:
                line = b"".join(pieces)
                pieces, size = [], 0
                if line.strip():
                    yield line_no, line
                line_no += 1
    if skipping and inked:
        yield line_no, None
    elif pieces and b"".join(pieces).strip():
        yield line_no, b"".join(pieces)


class DecompressionBomb(OSError):
    """A compressed input that inflates past `MAX_INFLATION` times its size (and 1 GiB)."""


MAX_INFLATION = 1000
"""Real feed dumps compress 4-10 to 1; a zip bomb, thousands to 1."""


class _Capped(io.RawIOBase):
    """A decompressed stream that stops with `DecompressionBomb` past `limit` bytes."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self.inner, self.limit, self.total = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # at most 64 KiB per call: decompressed bytes before a corrupt spot are not lost
        # with the call that meets it
        size = min(len(buffer), 1 << 16)
        read1 = getattr(self.inner, "read1", None)
        if read1 is not None:  # gzip: readinto would loop, and lose what it had on an error
            data = read1(size)
            n = len(data)
            buffer[:n] = data
        else:
            n = self.inner.readinto(memoryview(buffer)[:size])  # type: ignore[attr-defined]
        self.total += n or 0
        if self.total > self.limit:
            raise DecompressionBomb(
                f"decompresses to more than {self.limit:,} bytes ({MAX_INFLATION}x its size): a zip bomb?"
            )
        return int(n or 0)

    def close(self) -> None:
        self.inner.close()
        super().close()


def _capped(inner: BinaryIO, compressed_size: int) -> BinaryIO:
    limit = max(1 << 30, MAX_INFLATION * compressed_size)
    return io.BufferedReader(_Capped(inner, limit), buffer_size=1 << 20)


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
    for item in expand_paths(paths):
        if isinstance(item, InputFile) and item.path != "-":
            with contextlib.suppress(OSError):
                total += os.path.getsize(item.path)
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
    size = os.fstat(raw.fileno()).st_size if path != "-" else 0
    if head.startswith(_GZIP):
        return _capped(gzip.GzipFile(fileobj=raw, mode="rb"), size)  # type: ignore[arg-type]
    if head.startswith(_ZSTD):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return _capped(reader, size)
    return raw


def _json_kind(text: bytes) -> str:
    """ninjs or plain JSON (lines or a document), from the first bytes. Only a label: the
    JSON reader maps every record that looks like ninjs, whichever of the two it was given."""
    head = text[:2048]
    has_id = any(marker in head for marker in (b'"uri"', b'"guid"'))
    has_ninjs = any(
        k in head for k in (b'"body_html"', b'"body_text"', b'"body_xhtml"', b'"bodies"', b'"headline')
    )
    return "ninjs" if has_id and has_ninjs else "jsonl"


def _looks_like_csv(text: bytes) -> bool:
    """A delimited table: the first complete lines split into the same number (>= 2) of
    fields, with no blank line among them. A plain-text article whose title has a comma
    fails this: a blank line follows its title, and its paragraphs' commas vary."""
    lines = text.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last may be cut off by the sniffing window
    lines = lines[:6]
    if not lines or not lines[0].strip():
        return False
    decoded = [line.decode("utf-8", "replace").rstrip("\r") for line in lines]
    if any(not line.strip() for line in decoded) and len(decoded) > 1:
        return False
    for delimiter in (",", "\t", ";", "|"):
        if delimiter not in decoded[0]:
            continue
        try:
            widths = {len(row) for row in csv.reader(decoded, delimiter=delimiter)}
        except csv.Error:
            continue
        if len(widths) == 1 and min(widths) >= 2:
            return True
    return False


def sniff_format(path: str, head: bytes) -> str:
    r"""The input format of a file, from its extension, else from its first bytes.

    >>> sniff_format("story", b"Ad sales boost Time Warner profit\n\nQuarterly profits at ...")
    'text'
    """
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
    if _looks_like_csv(text):
        return "csv"
    if not text.strip():
        raise InputError("empty input: nothing to read", file=display_name(path))
    if b"\x00" in text[:4096]:
        raise InputError(
            "binary data, not a feed (JSON lines, CSV, ninjs, NITF, RSS/Atom, WARC, HTML, Reuters SGML "
            "or plain text); pass --input-format if it is one of them",
            file=display_name(path),
        )
    return "text"


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file to read: where it is, how messages name it, and the id it gives a
    one-article format (plain text): its path relative to the folder named on the command
    line, that folder's name included (`bbc/business/001.txt`), or the file's own name."""

    path: str
    name: str
    ref: str


def input_file(path: str) -> InputFile:
    return InputFile(path, display_name(path), "stdin" if path == "-" else Path(path).name)


def refuse_special(paths: list[str]) -> None:
    """Raise `InputError` for a FIFO, device or socket named as input: reading one would
    block (holding the database) or never end. `-` (stdin) is the way to stream."""
    for path in paths:
        if path == "-":
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue  # a missing file is a reject of its own, reported by the reader
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise InputError(f"{kind}, not a file: pipe it to `dedup ingest -` instead", file=path)


class Unreadable(Exception):
    """A folder named as input, or found inside one, that cannot be listed; or (`skipped`)
    a file inside one that is not an article (a corpus's README)."""

    def __init__(self, path: str, reason: str, *, skipped: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.skipped = path, reason, skipped


# A corpus folder's own documentation: skipped inside a folder (named on its own, read).
_DOCUMENTATION = re.compile(
    r"(?i)^(readme|license|licence|copying|changelog|changes|notice|authors|sha\d*sums)\b"
)


def expand_paths(paths: list[str]) -> Iterator[InputFile | Unreadable]:
    """Files named, and every file under a folder named (sorted, hidden ones skipped); a
    folder that cannot be listed is yielded as `Unreadable`, never skipped in silence."""
    for path in paths:
        p = Path(path)
        if path == "-" or not p.is_dir():
            yield input_file(path)
            continue
        root = p.resolve().name or p.resolve().as_posix()
        problems: list[OSError] = []
        found: list[Path] = []
        for folder, dirs, files in os.walk(p, onerror=problems.append):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(Path(folder) / f for f in files if not f.startswith("."))
        for problem in problems:
            yield Unreadable(str(problem.filename or path), f"cannot list folder: {problem.strerror}")
        for child in sorted(found):
            if not child.is_file():
                continue
            if _DOCUMENTATION.match(child.name):
                yield Unreadable(str(child), "documentation, not an article: skipped", skipped=True)
                continue
            yield InputFile(str(child), str(child), f"{root}/{child.relative_to(p).as_posix()}")


@contextlib.contextmanager
def spooled_stdin() -> Iterator[str]:
    """Standard input copied to a temporary file, so that its format can be sniffed and a
    reader can open it like any file; removed afterwards."""
    with tempfile.NamedTemporaryFile(prefix="dedup-stdin-", delete=False) as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
    try:
        yield spool.name
    finally:
        os.unlink(spool.name)
