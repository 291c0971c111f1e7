"""Crash safety: `dedup ingest` killed (SIGKILL, SIGINT) at random points on a real corpus,
then run again, ends exactly as one uninterrupted run; `dedup check` passes after each.

CI runs a few kill points (DEDUP_KILL_POINTS, default 4); `scripts/crash_test.py` runs fifty.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import bbc_records, write_jsonl, write_lock_held
from tests.reliability.harness import ROOT, check_command, kill_and_recover, kill_points, run, snapshot

BATCH = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """(feed, reference database, seconds an uninterrupted run took) for the BBC corpus.

    The time is the faster of two runs: a fresh clone's first run also compiles the
    package's bytecode, and kill points drawn from that slower time fell after the end of
    the (warm) runs they were meant to interrupt."""
    folder = tmp_path_factory.mktemp("crash")
    feed = write_jsonl(folder / "bbc.jsonl", bbc_records())  # type: ignore[arg-type]
    db = folder / "reference.duckdb"
    first, done = run(db, feed, BATCH)
    assert done.returncode == 0, done.stderr
    second, again = run(folder / "warm.duckdb", feed, BATCH)
    assert again.returncode == 0, again.stderr
    return feed, db, min(first, second)


def test_reference_run_is_sound(corpus: tuple[Path, Path, float]) -> None:
    _, db, _ = corpus
    check = subprocess.run(check_command(db), capture_output=True, text=True, cwd=ROOT)
    assert check.returncode == 0, check.stdout
    assert all(row["problems"] == 0 for row in json.loads(check.stdout))
    assert len(snapshot(db)["pairs"]) > 100


def test_killed_ingests_recover_exactly(corpus: tuple[Path, Path, float], tmp_path: Path) -> None:
    feed, db, seconds = corpus
    reference = snapshot(db)
    n = int(os.environ.get("DEDUP_KILL_POINTS", "4"))
    points = kill_points(n, seconds, seed=20261128)
    points[0] = (seconds * 0.5, signal.SIGINT)  # a Ctrl-C in the middle, always
    results = [kill_and_recover(tmp_path, feed, reference, d, s, BATCH) for d, s in points]
    for r in results:
        assert r.recovered and r.check_ok, r
    ctrl_c = results[0]  # half way through: Ctrl-C is honoured, and says what it kept
    assert ctrl_c.exit_code == 130, ctrl_c
    assert "committed and stay" in ctrl_c.message or "rolled back" in ctrl_c.message
    assert any(r.exit_code == -signal.SIGKILL for r in results[1:]) or n == 1


def test_a_second_writer_is_told_who_holds_the_database(
    corpus: tuple[Path, Path, float], tmp_path: Path
) -> None:
    feed, _, _ = corpus
    db = tmp_path / "busy.duckdb"
    _, done = run(db, feed, BATCH)
    assert done.returncode == 0

    with write_lock_held(db) as pid:
        writer = subprocess.run(
            [sys.executable, "-m", "dedup.cli", "--db", str(db), "ingest", str(feed), "--no-embed", "--wait", "1"],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert writer.returncode == 75
        assert "(waited 1 s)" in writer.stderr
        assert f"is in use by another dedup process (pid {pid})" in writer.stderr
        reader = subprocess.run(
            [sys.executable, "-m", "dedup.cli", "--db", str(db), "clusters", "-f", "json"],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert reader.returncode == 75 and "is being written by another dedup process" in reader.stderr
    after = subprocess.run(
        [sys.executable, "-m", "dedup.cli", "--db", str(db), "clusters", "-f", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert after.returncode == 0 and json.loads(after.stdout)
