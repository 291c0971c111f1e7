"""The DuckDB store: the only module that imports duckdb.

One file holds everything. The schema is a list of numbered migration functions applied in
order on open (`dedup_meta.schema_version` says how far a file has come), so a database
written by an older `dedup` is upgraded in place and one from a newer `dedup` is refused.
Bulk writes go through DuckDB's appender or registered numpy arrays: row-by-row
`executemany` is ~500x slower in duckdb 2.x.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from dedup.errors import StoreError
from dedup.model import Article, Paragraph, Reject, Sentence

APP = "dedup"


def _m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY,
            command VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,
            params JSON,
            stats JSON
        );
        CREATE TABLE articles (
            article_key BIGINT PRIMARY KEY,
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            content_hash VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            outlet VARCHAR NOT NULL,
            byline VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            published VARCHAR,
            published_utc TIMESTAMP,
            wire VARCHAR NOT NULL,
            dateline VARCHAR NOT NULL,
            is_summary BOOLEAN NOT NULL,
            body VARCHAR NOT NULL,
            extra JSON,
            source_file VARCHAR NOT NULL,
            source_line BIGINT NOT NULL,
            run_id INTEGER NOT NULL,
            UNIQUE (article_id, version)
        );
        CREATE TABLE paragraphs (
            article_key BIGINT NOT NULL,
            paragraph INTEGER NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            role VARCHAR NOT NULL
        );
        CREATE TABLE sentences (
            article_key BIGINT NOT NULL,
            sentence INTEGER NOT NULL,
            paragraph INTEGER NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL
        );
        CREATE TABLE rejects (
            run_id INTEGER NOT NULL,
            file VARCHAR NOT NULL,
            line BIGINT NOT NULL,
            field VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            raw VARCHAR NOT NULL,
            action VARCHAR NOT NULL
        );
        """
    )


MIGRATIONS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (_m001_initial,)
SCHEMA_VERSION = len(MIGRATIONS)

_ARTICLE_COLUMNS = (
    "article_key, article_id, version, content_hash, title, outlet, byline, url, published,"
    " published_utc, wire, dateline, is_summary, body, extra, source_file, source_line, run_id"
)
_LOCK_PID = re.compile(r"PID (\d+)")


def _utc_naive(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


class Store:
    """A dedup database file. Use `Store.open(path)` as a context manager.

    >>> with Store.open(":memory:") as store:
    ...     store.counts()["articles"]
    0
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Store:
        """Open (creating and migrating if needed) a dedup database."""
        path = str(path)
        if read_only and path != ":memory:" and not Path(path).exists():
            raise StoreError(f"no database at {path}; create one with `dedup ingest`")
        try:
            con = duckdb.connect(path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(_explain_open_error(path, exc)) from exc
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
            if version == 0:
                self.con.execute("CREATE TABLE dedup_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
                self.con.execute("INSERT INTO dedup_meta VALUES ('app', ?), ('schema_version', '0')", [APP])
            for number in range(version, SCHEMA_VERSION):
                MIGRATIONS[number](self.con)
            self.con.execute(
                "UPDATE dedup_meta SET value = ? WHERE key = 'schema_version'",
                [str(SCHEMA_VERSION)],
            )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
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

    # -- runs --------------------------------------------------------------------------
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

    # -- articles ----------------------------------------------------------------------
    def known_versions(self, article_ids: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
        """For each id already stored: its (version, content_hash) pairs."""
        if not article_ids:
            return {}
        self.con.register("_ids", {"article_id": np.array(list(article_ids), dtype=object)})
        try:
            rows = self.con.execute(
                "SELECT a.article_id, a.version, a.content_hash FROM articles a"
                " JOIN (SELECT DISTINCT article_id FROM _ids) i USING (article_id)"
            ).fetchall()
        finally:
            self.con.unregister("_ids")
        known: dict[str, list[tuple[int, str]]] = {}
        for article_id, version, digest in rows:
            known.setdefault(article_id, []).append((version, digest))
        return known

    def next_article_key(self) -> int:
        return int(
            self.con.execute("SELECT coalesce(max(article_key), 0) + 1 FROM articles").fetchall()[0][0]
        )

    def add_articles(self, articles: Sequence[Article], first_key: int, run_id: int) -> None:
        """Append articles with keys first_key, first_key+1, ... and their paragraphs and sentences."""
        if not articles:
            return
        appender = self.con.appender("articles")
        appender.append_rows(
            [
                (
                    first_key + i,
                    a.article_id,
                    a.version,
                    a.content_hash,
                    a.title,
                    a.outlet,
                    a.byline,
                    a.url,
                    a.published.isoformat() if a.published else None,
                    _utc_naive(a.published),
                    a.wire,
                    a.dateline,
                    a.is_summary,
                    a.body,
                    a.extra,
                    a.source_file,
                    a.source_line,
                    run_id,
                )
                for i, a in enumerate(articles)
            ]
        )
        appender.flush()
        del appender
        p_key, p_idx, p_start, p_end, p_role = [], [], [], [], []
        s_key, s_idx, s_par, s_start, s_end = [], [], [], [], []
        for i, a in enumerate(articles):
            key = first_key + i
            for p in a.paragraphs:
                p_key.append(key)
                p_idx.append(p.index)
                p_start.append(p.start)
                p_end.append(p.end)
                p_role.append(p.role)
            for s in a.sentences:
                s_key.append(key)
                s_idx.append(s.index)
                s_par.append(s.paragraph)
                s_start.append(s.start)
                s_end.append(s.end)
        self._insert_arrays(
            "paragraphs",
            {
                "article_key": np.array(p_key, dtype=np.int64),
                "paragraph": np.array(p_idx, dtype=np.int32),
                "start_char": np.array(p_start, dtype=np.int32),
                "end_char": np.array(p_end, dtype=np.int32),
                "role": np.array(p_role, dtype=object),
            },
        )
        self._insert_arrays(
            "sentences",
            {
                "article_key": np.array(s_key, dtype=np.int64),
                "sentence": np.array(s_idx, dtype=np.int32),
                "paragraph": np.array(s_par, dtype=np.int32),
                "start_char": np.array(s_start, dtype=np.int32),
                "end_char": np.array(s_end, dtype=np.int32),
            },
        )

    def _insert_arrays(self, table: str, columns: dict[str, np.ndarray]) -> None:
        if not len(next(iter(columns.values()))):
            return
        name = f"_new_{table}"
        self.con.register(name, columns)
        try:
            cols = ", ".join(columns)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
        finally:
            self.con.unregister(name)

    def add_rejects(self, rejects: Sequence[Reject], run_id: int) -> None:
        if not rejects:
            return
        appender = self.con.appender("rejects")
        appender.append_rows([(run_id, r.file, r.line, r.field, r.reason, r.raw, r.action) for r in rejects])
        appender.flush()

    def article_key(self, ref: str) -> int | None:
        """The key of an article by its `ref` (`id`, or `id@vN`); the latest version for a bare id."""
        article_id, version = ref, None
        match = re.fullmatch(r"(.+)@v(\d+)", ref)
        if match:
            article_id, version = match[1], int(match[2])
        if version is None:
            rows = self.con.execute(
                "SELECT article_key FROM articles WHERE article_id = ? ORDER BY version DESC LIMIT 1",
                [article_id],
            ).fetchall()
        else:
            rows = self.con.execute(
                "SELECT article_key FROM articles WHERE article_id = ? AND version = ?",
                [article_id, version],
            ).fetchall()
        return int(rows[0][0]) if rows else None

    def load_article(self, key: int) -> Article:
        """The stored article with its paragraphs and sentences."""
        rows = self.con.execute(
            "SELECT article_id, version, content_hash, title, outlet, byline, url, published,"
            " wire, dateline, is_summary, body, extra, source_file, source_line"
            " FROM articles WHERE article_key = ?",
            [key],
        ).fetchall()
        if not rows:
            raise StoreError(f"no article with key {key}")
        row = rows[0]
        paragraphs = tuple(
            Paragraph(i, s, e, r)
            for i, s, e, r in self.con.execute(
                "SELECT paragraph, start_char, end_char, role FROM paragraphs"
                " WHERE article_key = ? ORDER BY paragraph",
                [key],
            ).fetchall()
        )
        sentences = tuple(
            Sentence(i, p, s, e)
            for i, p, s, e in self.con.execute(
                "SELECT sentence, paragraph, start_char, end_char FROM sentences"
                " WHERE article_key = ? ORDER BY sentence",
                [key],
            ).fetchall()
        )
        (article_id, version, digest, title, outlet, byline, url, published, wire, dateline,
         is_summary, body, extra, source_file, source_line) = row  # fmt: skip
        return Article(
            article_id=article_id,
            body=body,
            content_hash=digest,
            paragraphs=paragraphs,
            sentences=sentences,
            title=title,
            outlet=outlet,
            byline=byline,
            url=url,
            published=datetime.fromisoformat(published) if published else None,
            wire=wire,
            dateline=dateline,
            is_summary=is_summary,
            extra=extra or "{}",
            version=version,
            source_file=source_file,
            source_line=source_line,
        )

    # -- listings ----------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("articles", "paragraphs", "sentences", "rejects", "runs"):
            out[table] = int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return out

    def outlet_stats(self) -> list[dict[str, Any]]:
        rows = self.con.execute(
            """
            SELECT outlet, wire, count(*) AS articles,
                   count(*) FILTER (WHERE version > 1) AS later_versions,
                   count(*) FILTER (WHERE body = '') AS title_only,
                   min(published_utc) AS first, max(published_utc) AS last
            FROM articles GROUP BY outlet, wire ORDER BY articles DESC, outlet, wire
            """
        ).fetchall()
        names = ("outlet", "wire", "articles", "later_versions", "title_only", "first", "last")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def reject_list(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT run_id, file, line, field, reason, action FROM rejects ORDER BY run_id, file, line"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        names = ("run_id", "file", "line", "field", "reason", "action")
        return [dict(zip(names, row, strict=True)) for row in self.con.execute(sql).fetchall()]


def _explain_open_error(path: str, exc: duckdb.Error) -> str:
    message = str(exc)
    if "lock" in message.lower():
        pid = _LOCK_PID.search(message)
        who = f" (pid {pid[1]})" if pid else ""
        return f"database {path} is in use by another dedup process{who}; try again when it ends"
    if "not a valid DuckDB database" in message or "Serialization" in message or "corrupt" in message.lower():
        return f"{path} is not a dedup database, or it is corrupt: {message.splitlines()[0]}"
    if "older" in message.lower() or "newer" in message.lower() or "version" in message.lower():
        return f"{path} was written by an incompatible DuckDB: {message.splitlines()[0]}"
    return f"cannot open {path}: {message.splitlines()[0]}"
