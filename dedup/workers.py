"""Process pools whose workers end with the process that made them.

A worker of `concurrent.futures.ProcessPoolExecutor` waits on its job queue, and holds
both ends of it (forked, it inherits them; spawned, it is sent them), so it never reads an
end of file when its parent dies without shutting the pool down (`kill -9` of an ingest,
a server gone before it could say stop): it would wait for ever, holding a copy of the
parent's memory. Every pool in dedup comes from `process_pool`, whose workers watch their
parent and leave when it is gone.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

POLL_S = 0.5
"""How often a worker looks for its parent."""


def process_pool(workers: int, context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A `ProcessPoolExecutor` of `workers` processes that end with this one."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
    )


def _exit_with_parent(parent: int) -> None:
    """Initializer of each worker: a daemon thread that ends the worker once `parent` is
    gone (the worker is then re-parented, so its parent id changes)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
