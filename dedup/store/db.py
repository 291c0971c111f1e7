"""The database file: opening (creating, migrating, waiting for a writer or refusing
while one works), transactions, bulk-write helpers, run bookkeeping, and the lock
announcements writers leave beside the file. Bulk writes go through DuckDB's appender or
registered numpy arrays: row-by-row `executemany` is ~500x slower in duckdb 2.x."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import duckdb
import numpy as np

from dedup.errors import BusyError, StoreError
from dedup.store.schema import APP, MIGRATIONS, SCHEMA_VERSION
from dedup.tables import TABLES

CandidateRows = list[tuple[Any, ...]]
_REF = "{t}.article_id || CASE WHEN {t}.version > 1 THEN '@v' || {t}.version ELSE '' END"
HEADLINE_WORDS = 12
_HEADLINE = (
    "CASE WHEN trim(coalesce({t}.title, '')) <> '' THEN {t}.title"
    f" WHEN len(string_split(trim({{t}}.body), ' ')) > {HEADLINE_WORDS}"
    f" THEN array_to_string(list_slice(string_split(trim({{t}}.body), ' '), 1, {HEADLINE_WORDS}), ' ') || '…'"
    " ELSE trim({t}.body) END"
)
"""What people see as an article's headline: its title, else its first words (feeds without
titles: a cluster page of bare ids says nothing)."""

REJECT_KINDS = {
    "rejected": "rejected",
    "fields_dropped": "field dropped",
    "skipped": "skipped",
    "notes": "note",
}
"""`Store.counts()` keys for the actions of `rejects`: a WARC's skipped 404 is no reject."""


_LOCK_PID = re.compile(r"PID (\d+)")


class Database:
    """A connection to a dedup database and what every part of the store needs of it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        wait: float = 0.0,
        yield_to_writer: bool = False,
    ) -> Self:
        """Open (creating and migrating if needed) a dedup database.

        `memory_limit` (default: the `DEDUP_MEMORY_LIMIT` environment variable, else DuckDB's
        80% of RAM) caps DuckDB's buffer pool, "4GB" say; beyond it, joins and sorts spill
        to `<db>.tmp/`. DuckDB otherwise keeps as much of a big database cached as it can,
        which reads as memory growing with the number of articles.

        A writer announces itself (`<db>.writing`, its pid) before it asks for the file, and
        waits up to `wait` seconds for readers holding it to finish; a reader opened with
        `yield_to_writer` (`dedup serve`'s requests) refuses with `BusyError` while a writer
        waits or writes, so that page traffic cannot starve an ingest.
        """
        path = str(path)
        if read_only and path != ":memory:" and not Path(path).exists():
            raise StoreError(f"no database at {path}; create one with `dedup ingest`")
        announced = not read_only and path != ":memory:"
        if read_only and yield_to_writer:
            writer = waiting_writer(path)
            if writer is not None:
                raise BusyError(
                    f"database {path} is being written by dedup (pid {writer}); try again shortly"
                )
        if announced:
            _announce(path)
        try:
            return cls._connect(path, read_only, memory_limit, wait)
        except BaseException:
            if announced:
                _withdraw(path)
            raise

    @classmethod
    def _connect(cls, path: str, read_only: bool, memory_limit: str | None, wait: float) -> Self:
        limit = memory_limit or os.environ.get("DEDUP_MEMORY_LIMIT")
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": limit} if limit else {}
        if not read_only:
            # DuckDB checkpoints whenever the WAL passes 16 MB, and a checkpoint rewrites the
            # article indexes whole: ingesting a million articles spent half its storing
            # time there. A checkpoint per GB of WAL (and at close) keeps storing linear.
            config["checkpoint_threshold"] = "1GB"
        deadline = time.monotonic() + wait
        while True:
            try:
                con = duckdb.connect(path, read_only=read_only, config=config)
                break
            except duckdb.Error as exc:
                busy = "lock" in str(exc).lower()
                if busy and time.monotonic() < deadline:
                    time.sleep(0.2)  # a reader finishing its request, another writer ending
                    continue
                message = _explain_open_error(path, exc, read_only)
                if busy and wait:
                    message += f" (waited {wait:g} s)"
                raise (BusyError if busy else StoreError)(message) from exc
        store = cls(con, path, read_only)
        try:
            store._migrate()
        except BaseException:
            con.close()
            raise
        return store

    def _migrate(self) -> None:
        tables = {row[0] for row in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "dedup_meta" not in tables:
            if tables:
                raise StoreError(f"{self.path} is a DuckDB file but not a dedup database")
            if self.read_only:
                raise StoreError(f"{self.path} is empty; create it with `dedup ingest`")
            version = 0
        else:
            meta = dict(self.con.execute("SELECT key, value FROM dedup_meta").fetchall())
            if meta.get("app") != APP:
                raise StoreError(f"{self.path} is not a dedup database")
            version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer dedup (schema {version}; this one knows "
                f"up to {SCHEMA_VERSION}); upgrade dedup to open it"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(f"{self.path} needs an upgrade (schema {version}); open it for writing once")
        with self.transaction():
            if version == 0:  # a new database: today's tables, as declared in dedup.tables
                self.con.execute("CREATE TABLE dedup_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
                self.con.execute("INSERT INTO dedup_meta VALUES ('app', ?), ('schema_version', '0')", [APP])
                for declared in TABLES:
                    self.con.execute(declared.ddl())
            else:  # an older one: the migrations since its version, in order
                for number in range(version, SCHEMA_VERSION):
                    MIGRATIONS[number](self.con)
            self.con.execute(
                "UPDATE dedup_meta SET value = ? WHERE key = 'schema_version'",
                [str(SCHEMA_VERSION)],
            )

    def close(self) -> None:
        self.con.close()
        if not self.read_only and self.path != ":memory:":
            _withdraw(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: on any exception (Ctrl-C included) the database is left as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def schema_version(self) -> int:
        rows = self.con.execute("SELECT value FROM dedup_meta WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else 0

    @contextmanager
    def _registered(self, name: str, columns: dict[str, np.ndarray]) -> Iterator[None]:
        """Numpy columns visible to SQL as a table `name` for the duration of the block."""
        self.con.register(name, columns)
        try:
            yield
        finally:
            self.con.unregister(name)

    def _append(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk-append rows through DuckDB's appender (no-op for none)."""
        if not rows:
            return
        appender = self.con.appender(table)
        appender.append_rows(list(rows))
        appender.flush()
        del appender

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts keyed by column name."""
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _insert_arrays(self, table: str, columns: dict[str, np.ndarray]) -> None:
        if not len(next(iter(columns.values()))):
            return
        name = f"_new_{table}"
        cols = ", ".join(columns)
        with self._registered(name, columns):
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")

    def checkpoint(self) -> None:
        """Write the WAL into the file now (outside a transaction): what a delete freed is
        then reused by later writes."""
        self.con.execute("CHECKPOINT")

    def begin_run(self, command: str, params: dict[str, Any]) -> int:
        run_id = int(self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0])
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, NULL, 'running', ?, NULL)",
            [
                run_id,
                command,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(params, default=str),
            ],
        )
        return run_id

    def close_interrupted_runs(self) -> int:
        """Mark runs left `running` by a killed process as `interrupted` (the caller holds the
        write lock, so no run can really be running); how many there were."""
        rows = self.con.execute(
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running' RETURNING run_id"
        ).fetchall()
        return len(rows)

    def mark_run(self, run_id: int, committed: str) -> None:
        """Record, in the transaction that commits it, the last stage a run has committed
        (`runs.stats.committed`): what a later run takes over if this one is killed
        (`IndexStore.adopt_unfinished`). `finish_run` replaces it."""
        self.con.execute(
            "UPDATE runs SET stats = ? WHERE run_id = ?", [json.dumps({"committed": committed}), run_id]
        )

    def finish_run(self, run_id: int, stats: dict[str, Any], status: str = "ok") -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE run_id = ?",
            [
                datetime.now(UTC).replace(tzinfo=None),
                status,
                json.dumps(stats, default=str),
                run_id,
            ],
        )

    def run_stats(self, run_id: int) -> dict[str, Any]:
        """What `finish_run` recorded of a run (counts, summaries, `seconds` per stage)."""
        rows = self.con.execute("SELECT stats FROM runs WHERE run_id = ?", [run_id]).fetchall()
        return dict(json.loads(rows[0][0])) if rows and rows[0][0] else {}


def release_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's `malloc_trim`; a no-op
    elsewhere), after a commit that freed much of it.

    DuckDB keeps the bookkeeping of an uncommitted transaction's rows on the C heap, about
    15 bytes a row (2 GB for the band keys of a million articles), and frees it at commit;
    glibc leaves most freed pages resident, so the process's peak would carry every
    stage's transaction into the next."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return
    trim(0)


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C as DuckDB reports it: it interrupts the running query and raises its own
    error instead of Python's KeyboardInterrupt."""
    return isinstance(exc, KeyboardInterrupt | duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
    )


def _announcement(path: str) -> Path:
    return Path(f"{path}.writing")


def _announce(path: str) -> None:
    """Say that this process wants to write `path` (readers that yield stop coming)."""
    target = _announcement(path)
    temporary = target.with_name(f"{target.name}.{os.getpid()}")
    temporary.write_text(str(os.getpid()))
    os.replace(temporary, target)


def _withdraw(path: str) -> None:
    """Remove this process's announcement (another writer's, written since, stays)."""
    target = _announcement(path)
    with contextlib.suppress(OSError, ValueError):
        if int(target.read_text()) == os.getpid():
            target.unlink()


def waiting_writer(path: str | Path) -> int | None:
    """The pid of a live dedup process that waits to write, or writes, `path`; None if none
    (an announcement left by a process that died is ignored)."""
    try:
        pid = int(_announcement(str(path)).read_text())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _explain_open_error(path: str, exc: duckdb.Error, read_only: bool = False) -> str:
    message = str(exc)
    if "lock" in message.lower():
        pid = _LOCK_PID.search(message)
        who = f" (pid {pid[1]})" if pid else ""
        if read_only:
            return f"database {path} is being written by another dedup process{who}; try again when it ends"
        return f"database {path} is in use by another dedup process{who}; try again when it ends"
    if "not a valid DuckDB database" in message or "Serialization" in message or "corrupt" in message.lower():
        return f"{path} is not a dedup database, or it is corrupt: {message.splitlines()[0]}"
    if "older" in message.lower() or "newer" in message.lower() or "version" in message.lower():
        return f"{path} was written by an incompatible DuckDB: {message.splitlines()[0]}"
    return f"cannot open {path}: {message.splitlines()[0]}"
