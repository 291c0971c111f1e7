"""The `dedup` command line: a thin shell over the library (`dedup.pipeline`, `dedup.store`).

Data goes to stdout, progress and messages to stderr. Exit codes: 0 ok, 1 error, 2 usage,
75 the database is in use by another dedup process, 130 interrupted.

`common` holds the app, the shared options, messages and progress bars; `write` the
commands that change a database (ingest, import-results, index, prune); `read` those that
only look (candidates, pairs, diff, clusters, ..., serve, export, check, evaluate, demo).
Importing this package registers them all, in that order.
"""

from dedup.cli import read, write  # noqa: F401  (registers the commands)
from dedup.cli.common import app, main

__all__ = ["app", "main"]
