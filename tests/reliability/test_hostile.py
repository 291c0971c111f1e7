"""Hostile input: every reader and `dedup.compare` on arbitrary bytes and text never fail
with anything but a documented `DedupError`, and pathological inputs stay bounded."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dedup
from dedup.errors import DedupError
from dedup.ingest import read_records
from dedup.ingest.readers import RawRecord
from dedup.ingest.sources import FORMATS, bounded_lines
from dedup.model import Reject
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = [p.read_bytes()[:4000] for p in sorted((FIXTURES / "formats").iterdir())] + [
    (FIXTURES / "broken.jsonl").read_bytes()[:4000],
    (FIXTURES / "broken.csv").read_bytes()[:4000],
]


def naive_lines(data: bytes, limit: int) -> list[tuple[int, bytes | None]]:
    out: list[tuple[int, bytes | None]] = []
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue  # blank, however long
        out.append((n, None if len(line) > limit else line))
    return out


@given(
    st.lists(st.sampled_from([b"\n", b" ", b"a", b"{}", b"xyz" * 5, b"\n\n\n", b"\t"]), max_size=60),
    st.integers(1, 20),
    st.integers(1, 9),
)
@settings(max_examples=400, deadline=None)
def test_bounded_lines_is_splitlines_with_a_limit(parts: list[bytes], limit: int, chunk: int) -> None:
    data = b"".join(parts)
    assert list(bounded_lines(io.BytesIO(data), limit, chunk)) == naive_lines(data, limit)


def mutations() -> st.SearchStrategy[bytes]:
    """Real fixture files, cut, spliced and flipped; and plain random bytes."""
    seeded = st.builds(
        lambda seed, cut, junk, at: seed[:cut] + junk + seed[at:],
        st.sampled_from(SEEDS),
        st.integers(0, 4000),
        st.binary(max_size=64),
        st.integers(0, 4000),
    )
    return st.one_of(seeded, st.binary(max_size=2000))


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=mutations())
@example(data=b"\x1f\x8b")  # a gzip file cut after its magic bytes (found by this test)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_readers_never_crash(fmt: str, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"input.{fmt}"
    path.write_bytes(data)
    try:
        for item in read_records([str(path)], fmt):
            assert isinstance(item, RawRecord | Reject)
    except DedupError:
        pass  # documented: e.g. a file that is no feed at all


@given(st.text(max_size=600), st.text(max_size=600))
@settings(max_examples=150, deadline=None)
def test_compare_never_crashes(a: str, b: str) -> None:
    c = dedup.compare(a, b, embedder=None)
    assert c.relation in ("duplicate", "rewrite", "partial", "none") and 0.0 <= c.score <= 1.0


# -- pathological inputs through `dedup ingest`, each in its own process for its peak RSS ------

PEAK = """
import resource, sys
from dedup.cli import main
sys.argv = ["dedup", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print("PEAK_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
"""


def ingest_peak(path: Path, db: Path, *args: str) -> tuple[int, int, str]:
    """(exit code, peak RSS in MB, stderr) of `dedup ingest PATH` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "--db", str(db), "ingest", str(path), "--no-embed", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    peak = int(done.stderr.rsplit("PEAK_MB", 1)[1].split()[0])
    return done.returncode, peak, done.stderr


def write_pathological(kind: str, folder: Path, scale: float = 1.0) -> Path:
    """The inputs of the reliability issue; `scale` 1.0 is the full size, tests use less."""
    if kind == "huge paragraph":  # one paragraph of 50 MB
        path = folder / "huge.jsonl"
        path.write_text(
            json.dumps({"id": "huge", "title": "t", "body": "word " * int(10_000_000 * scale)}) + "\n"
        )
    elif kind == "million lines":  # a body of a million one-word lines (under --max-chars 10M)
        path = folder / "lines.jsonl"
        body = "\n".join(f"w{i % 97}" for i in range(int(1_000_000 * scale)))
        path.write_text(json.dumps({"id": "lines", "title": "t", "body": body}) + "\n")
    elif kind == "nested html":  # 100,000 nested elements
        path = folder / "nested.html"
        depth = int(100_000 * scale)
        path.write_text(
            "<html><body>" + "<div>" * depth + "Deep text here." + "</div>" * depth + "</body></html>"
        )
    elif kind == "gzip bomb":  # a few MB that inflate to 4 GB of newlines and zeros
        path = folder / "bomb.jsonl.gz"
        block = b"\n" * (1 << 20)
        with gzip.open(path, "wb", compresslevel=9) as f:
            for _ in range(int(2048 * scale)):
                f.write(block)
            for _ in range(int(2048 * scale)):
                f.write(b"\0" * (1 << 20))
            f.write(b'\n{"id": "after", "body": "A line after the bomb."}\n')
    else:
        raise ValueError(kind)
    return path


@pytest.mark.parametrize(
    ("kind", "args", "expect"),
    [
        ("huge paragraph", (), "article too large"),
        ("million lines", ("--max-chars", "10000000"), "not an article"),
        ("nested html", (), ""),
        ("gzip bomb", (), "line longer than"),
    ],
)
def test_pathological_inputs_stay_bounded(
    kind: str, args: tuple[str, ...], expect: str, tmp_path: Path
) -> None:
    path = write_pathological(kind, tmp_path, scale=0.2)
    code, peak, stderr = ingest_peak(path, tmp_path / "db.duckdb", *args)
    assert code == 0, stderr[-2000:]
    assert expect in stderr, stderr[-2000:]
    assert peak < 1500, f"{kind}: peak RSS {peak} MB"
