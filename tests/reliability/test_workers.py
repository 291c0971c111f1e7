"""Pool workers end with the process that made them (`dedup.workers`): an ingest or a
server killed with SIGKILL runs no shutdown, and a plain ProcessPoolExecutor's workers
then wait on their queue for ever, each holding a copy of the parent's memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, outliving, running


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_leave_when_their_parent_is_killed(method: str, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time, multiprocessing\n"
        "from dedup.workers import process_pool\n"
        "def pid(_):\n"
        "    time.sleep(0.05)\n"
        "    return os.getpid()\n"
        "if __name__ == '__main__':\n"
        "    context = multiprocessing.get_context(sys.argv[1])\n"
        "    pool = process_pool(2, context)\n"
        "    print(' '.join(map(str, set(pool.map(pid, range(8))))), flush=True)\n"
        "    time.sleep(120)\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen(
        [sys.executable, str(script), method], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers and all(map(running, workers))
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    alive = outliving(workers)
    assert not alive, f"{method} workers {alive} outlived their parent"
