"""Kill `dedup ingest` at random points and check that re-running it recovers exactly.

Shared by `tests/reliability/test_crash.py` (a few kill points, in CI) and
`scripts/crash_test.py` (fifty or more, reported in the closing note).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[2]

# Every table the stages write, without run ids (a resumed ingest has other run numbers).
SNAPSHOT = {
    "articles": "SELECT article_key, article_id, version, content_hash, title, outlet, published_utc, wire FROM articles",
    "paragraphs": "SELECT * FROM paragraphs",
    "sentences": "SELECT * FROM sentences",
    "signatures": "SELECT article_key, exact_hash, shingles, signature FROM signatures",
    "passages": "SELECT * FROM passages",
    "doc_bands": "SELECT * FROM doc_bands",
    "passage_bands": "SELECT * FROM passage_bands",
    "candidates": """SELECT a, b, via_exact, via_document, via_passage, via_semantic, round(jaccard, 9),
                            passage_pairs, same_outlet FROM candidates""",
    "article_vectors": "SELECT article_key FROM article_vectors",
    "candidate_passages": "SELECT * FROM candidate_passages",
    "pairs": "SELECT a, b, relation, round(score, 9), shares FROM pairs",
    "alignments": "SELECT a, b, a_sentence, b_sentence, kind, round(score, 9), edits FROM alignments",
    "clusters": "SELECT cluster_id, origin, size FROM clusters",
    "cluster_members": "SELECT * FROM cluster_members",
    "reuse": "SELECT article_key, paragraph, source_key, source_paragraph, kind, round(share, 9) FROM reuse",
}


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in SNAPSHOT.items()}
    finally:
        con.close()


def ingest_command(db: Path, feed: Path, batch_size: int) -> list[str]:
    return [
        sys.executable, "-m", "dedup.cli", "--db", str(db), "ingest", str(feed),
        "-q", "--no-embed", "--batch-size", str(batch_size),
    ]  # fmt: skip


def check_command(db: Path) -> list[str]:
    return [sys.executable, "-m", "dedup.cli", "-q", "--db", str(db), "check", "-f", "json"]


def run(db: Path, feed: Path, batch_size: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(ingest_command(db, feed, batch_size), capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, done


@dataclass(frozen=True)
class KillResult:
    delay: float
    signal: str
    exit_code: int
    """of the killed process: -9 for SIGKILL, 130 for Ctrl-C, 0 if it finished first"""
    message: str
    recovered: bool
    check_ok: bool


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kill_and_recover(
    workdir: Path,
    feed: Path,
    reference: dict[str, list[tuple[Any, ...]]],
    delay: float,
    sig: int,
    batch_size: int,
) -> KillResult:
    db = workdir / "killed.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    proc = subprocess.Popen(
        ingest_command(db, feed, batch_size),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # a shell's background jobs ignore SIGINT, and children inherit that: give the
        # ingest the default, so that Python turns Ctrl-C into KeyboardInterrupt
        preexec_fn=_default_sigint,
    )
    time.sleep(delay)
    proc.send_signal(sig)
    _, stderr = proc.communicate()
    if db.exists():
        _, again = run(db, feed, batch_size)
        assert again.returncode == 0, again.stderr
    else:  # killed before the database was created: the re-run starts from nothing
        _, again = run(db, feed, batch_size)
    check = subprocess.run(check_command(db), capture_output=True, text=True, cwd=ROOT)
    return KillResult(
        delay=round(delay, 3),
        signal=signal.Signals(sig).name,
        exit_code=proc.returncode,
        message=stderr.strip().splitlines()[-1] if stderr.strip() else "",
        recovered=snapshot(db) == reference,
        check_ok=check.returncode == 0,
    )


def kill_points(n: int, duration: float, seed: int) -> list[tuple[float, int]]:
    """`n` (delay, signal) pairs spread over a run of `duration` seconds; one in four SIGINT."""
    rng = random.Random(seed)
    return [
        (rng.uniform(0.2, duration * 1.02), signal.SIGINT if i % 4 == 3 else signal.SIGKILL) for i in range(n)
    ]
