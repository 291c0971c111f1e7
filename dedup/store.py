"""The DuckDB store: the only module that imports duckdb.

One file holds everything. The schema is a list of numbered migration functions applied in
order on open (`dedup_meta.schema_version` says how far a file has come), so a database
written by an older `dedup` is upgraded in place and one from a newer `dedup` is refused.
Bulk writes go through DuckDB's appender or registered numpy arrays: row-by-row
`executemany` is ~500x slower in duckdb 2.x.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from dedup.align import order_alignments
from dedup.cluster import Node, origin_rank
from dedup.errors import BusyError, StoreError
from dedup.fingerprint import ArticleText, Fingerprints
from dedup.model import Alignment, Article, Comparison, Edit, Paragraph, Reject, Sentence
from dedup.templates import MIN_ARTICLES, Holders, context_keys, sentence_key

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

APP = "dedup"
REJECT_KINDS = {
    "rejected": "rejected",
    "fields_dropped": "field dropped",
    "skipped": "skipped",
    "notes": "note",
}
"""`Store.counts()` keys for the actions of `rejects`: a WARC's skipped 404 is no reject."""


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


def _m002_candidates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE signatures (
            article_key BIGINT PRIMARY KEY,
            exact_hash UBIGINT NOT NULL,
            shingles INTEGER NOT NULL,
            signature BLOB,
            run_id INTEGER NOT NULL
        );
        CREATE TABLE passages (
            article_key BIGINT NOT NULL,
            paragraph INTEGER NOT NULL,
            exact_hash UBIGINT NOT NULL,
            tokens INTEGER NOT NULL
        );
        CREATE TABLE doc_bands (article_key BIGINT NOT NULL, band SMALLINT NOT NULL, key UBIGINT NOT NULL);
        CREATE TABLE passage_bands (
            article_key BIGINT NOT NULL,
            paragraph INTEGER NOT NULL,
            band SMALLINT NOT NULL,
            key UBIGINT NOT NULL
        );
        CREATE TABLE candidates (
            a BIGINT NOT NULL,
            b BIGINT NOT NULL,
            via_exact BOOLEAN NOT NULL,
            via_document BOOLEAN NOT NULL,
            via_passage BOOLEAN NOT NULL,
            jaccard DOUBLE NOT NULL,
            containment_a DOUBLE NOT NULL,
            containment_b DOUBLE NOT NULL,
            passage_pairs INTEGER NOT NULL,
            same_outlet BOOLEAN NOT NULL,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (a, b)
        );
        CREATE TABLE candidate_passages (
            a BIGINT NOT NULL,
            b BIGINT NOT NULL,
            a_paragraph INTEGER NOT NULL,
            b_paragraph INTEGER NOT NULL
        );
        CREATE TABLE hot_buckets (
            run_id INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            band SMALLINT NOT NULL,
            key UBIGINT NOT NULL,
            members INTEGER NOT NULL
        );
        """
    )


def _m003_verification(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE pairs (
            a BIGINT NOT NULL,
            b BIGINT NOT NULL,
            relation VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            containment_a DOUBLE NOT NULL,
            containment_b DOUBLE NOT NULL,
            shares JSON NOT NULL,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (a, b)
        );
        CREATE TABLE alignments (
            a BIGINT NOT NULL,
            b BIGINT NOT NULL,
            a_sentence INTEGER,
            b_sentence INTEGER,
            kind VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            edits JSON NOT NULL
        );
        CREATE TABLE embeddings (
            model VARCHAR NOT NULL,
            sentence_key BIGINT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, sentence_key)
        );
        """
    )


def _m004_clusters(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE clusters (
            cluster_id VARCHAR PRIMARY KEY,
            origin BIGINT NOT NULL,
            size INTEGER NOT NULL,
            run_id INTEGER NOT NULL
        );
        CREATE TABLE cluster_members (
            cluster_id VARCHAR NOT NULL,
            article_key BIGINT PRIMARY KEY,
            position INTEGER NOT NULL,
            relation VARCHAR NOT NULL,
            score DOUBLE NOT NULL
        );
        CREATE TABLE reuse (
            article_key BIGINT NOT NULL,
            paragraph INTEGER NOT NULL,
            source_key BIGINT,
            source_paragraph INTEGER,
            kind VARCHAR NOT NULL,
            share DOUBLE NOT NULL,
            run_id INTEGER NOT NULL
        );
        """
    )


def _m005_rewrites(con: duckdb.DuckDBPyConnection) -> None:
    """Semantic candidates (`article_vectors`, `candidates.via_semantic`) and sentence keys
    and contexts (`sentences.sentence_key`, `sentences.context_key`, for templates),
    computed for the sentences already stored."""
    con.execute(
        """
        ALTER TABLE candidates ADD COLUMN via_semantic BOOLEAN NOT NULL DEFAULT false;
        ALTER TABLE sentences ADD COLUMN sentence_key BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sentences ADD COLUMN context_key BIGINT NOT NULL DEFAULT 0;
        CREATE TABLE article_vectors (
            article_key BIGINT PRIMARY KEY,
            vector BLOB NOT NULL,
            run_id INTEGER NOT NULL
        );
        """
    )
    last = 0
    while rows := con.execute(
        "SELECT article_key, body FROM articles WHERE article_key > ? ORDER BY article_key LIMIT 5000", [last]
    ).fetchall():
        bodies = dict(rows)
        spans = con.execute(
            "SELECT article_key, sentence, start_char, end_char FROM sentences"
            " WHERE article_key BETWEEN ? AND ? ORDER BY article_key, sentence",
            [rows[0][0], rows[-1][0]],
        ).fetchall()
        by_article: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for key, sentence, start, end in spans:
            by_article[key].append((sentence, start, end))
        cols: dict[str, list[int]] = {
            "article_key": [],
            "sentence": [],
            "sentence_key": [],
            "context_key": [],
        }
        for key, sentences in by_article.items():
            keys = [sentence_key(bodies[key][s:e]) for _, s, e in sentences]
            for (sentence, _, _), k, c in zip(sentences, keys, context_keys(keys), strict=True):
                cols["article_key"].append(key)
                cols["sentence"].append(sentence)
                cols["sentence_key"].append(k)
                cols["context_key"].append(c)
        con.register("_keys", {k: np.array(v, dtype=np.int64) for k, v in cols.items()})
        con.execute(
            "UPDATE sentences s SET sentence_key = k.sentence_key, context_key = k.context_key FROM _keys k"
            " WHERE s.article_key = k.article_key AND s.sentence = k.sentence"
        )
        con.unregister("_keys")
        last = rows[-1][0]


MIGRATIONS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    _m001_initial,
    _m002_candidates,
    _m003_verification,
    _m004_clusters,
    _m005_rewrites,
)
SCHEMA_VERSION = len(MIGRATIONS)

_ARTICLE_COLUMNS = (
    "article_key, article_id, version, content_hash, title, outlet, byline, url, published,"
    " published_utc, wire, dateline, is_summary, body, extra, source_file, source_line, run_id"
)
_LOCK_PID = re.compile(r"PID (\d+)")


def _like(text: str) -> str:
    """`text` as a literal in a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def utc_naive(moment: datetime | None) -> datetime | None:
    """A time as the store keeps it (`published_utc`): UTC, without a zone."""
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
    def open(
        cls,
        path: str | Path,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        wait: float = 0.0,
        yield_to_writer: bool = False,
    ) -> Store:
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
    def _connect(cls, path: str, read_only: bool, memory_limit: str | None, wait: float) -> Store:
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
        if not self.read_only and self.path != ":memory:":
            _withdraw(self.path)

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

    # -- helpers -----------------------------------------------------------------------
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

    def close_interrupted_runs(self) -> int:
        """Mark runs left `running` by a killed process as `interrupted` (the caller holds the
        write lock, so no run can really be running); how many there were."""
        rows = self.con.execute(
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running' RETURNING run_id"
        ).fetchall()
        return len(rows)

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

    # -- articles ----------------------------------------------------------------------
    def known_versions(self, article_ids: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
        """For each id already stored: its (version, content_hash) pairs."""
        if not article_ids:
            return {}
        with self._registered("_ids", {"article_id": np.array(list(article_ids), dtype=object)}):
            rows = self.con.execute(
                "SELECT a.article_id, a.version, a.content_hash FROM articles a"
                " JOIN (SELECT DISTINCT article_id FROM _ids) i USING (article_id)"
            ).fetchall()
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
        self._append(
            "articles",
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
                    utc_naive(a.published),
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
            ],
        )
        p_key, p_idx, p_start, p_end, p_role = [], [], [], [], []
        s_key, s_idx, s_par, s_start, s_end, s_hash, s_context = [], [], [], [], [], [], []
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
                s_hash.append(s.key)
                s_context.append(s.context)
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
                "sentence_key": np.array(s_hash, dtype=np.int64),
                "context_key": np.array(s_context, dtype=np.int64),
            },
        )

    def _insert_arrays(self, table: str, columns: dict[str, np.ndarray]) -> None:
        if not len(next(iter(columns.values()))):
            return
        name = f"_new_{table}"
        cols = ", ".join(columns)
        with self._registered(name, columns):
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")

    def add_rejects(self, rejects: Sequence[Reject], run_id: int) -> None:
        if not rejects:
            return
        self._append(
            "rejects", [(run_id, r.file, r.line, r.field, r.reason, r.raw, r.action) for r in rejects]
        )

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
            Sentence(i, p, s, e, k, c)
            for i, p, s, e, k, c in self.con.execute(
                "SELECT sentence, paragraph, start_char, end_char, sentence_key, context_key FROM sentences"
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

    # -- fingerprints and candidates ---------------------------------------------------
    def pin_index_config(self, config: dict[str, Any]) -> None:
        """Record the fingerprint parameters on first use; refuse different ones later.

        Signatures made with another shingle size or permutation count cannot be compared,
        so a database keeps the parameters it was first indexed with.
        """
        wanted = json.dumps(config, sort_keys=True)
        rows = self.con.execute("SELECT value FROM dedup_meta WHERE key = 'index_config'").fetchall()
        if not rows:
            self.con.execute("INSERT INTO dedup_meta VALUES ('index_config', ?)", [wanted])
        elif rows[0][0] != wanted:
            raise StoreError(
                f"{self.path} was indexed with {rows[0][0]}; these parameters differ ({wanted}). "
                "Use a new database to index with other parameters."
            )

    def add_fingerprints(self, fp: Fingerprints, run_id: int) -> None:
        """Store signatures, passages and band keys of a batch (see `dedup.fingerprint`)."""
        n = len(fp.article_key)
        if n == 0:
            return
        blobs = np.empty(n, dtype=object)
        for i in range(n):
            blobs[i] = fp.signature[i].tobytes() if fp.shingles[i] else None
        self._insert_arrays(
            "signatures",
            {
                "article_key": fp.article_key,
                "exact_hash": fp.exact,
                "shingles": fp.shingles,
                "signature": blobs,
                "run_id": np.full(n, run_id, dtype=np.int32),
            },
        )
        has_text = fp.shingles > 0
        b = fp.doc_bands.shape[1]
        self._insert_arrays(
            "doc_bands",
            {
                "article_key": np.repeat(fp.article_key[has_text], b),
                "band": np.tile(np.arange(b, dtype=np.int16), int(has_text.sum())),
                "key": fp.doc_bands[has_text].reshape(-1),
            },
        )
        self._insert_arrays(
            "passages",
            {
                "article_key": fp.passage_article,
                "paragraph": fp.passage_paragraph,
                "exact_hash": fp.passage_exact,
                "tokens": fp.passage_tokens,
            },
        )
        q, pb = fp.passage_bands.shape
        self._insert_arrays(
            "passage_bands",
            {
                "article_key": np.repeat(fp.passage_article, pb),
                "paragraph": np.repeat(fp.passage_paragraph, pb),
                "band": np.tile(np.arange(pb, dtype=np.int16), q),
                "key": fp.passage_bands.reshape(-1),
            },
        )

    def unindexed_texts(self, limit: int) -> list[ArticleText]:
        """Up to `limit` stored articles that have no fingerprints yet, oldest first.

        The anti-join reads keys only; bodies are read for the keys it found (a million
        stored bodies are not scanned to fingerprint a day's increment)."""
        keys = self.con.execute(
            "SELECT article_key FROM articles ANTI JOIN signatures USING (article_key)"
            " ORDER BY article_key LIMIT ?",
            [limit],
        ).fetchall()
        if not keys:
            return []
        with self._registered("_pending", {"article_key": np.array([k for (k,) in keys], dtype=np.int64)}):
            bodies = self.con.execute(
                "SELECT a.article_key, a.body FROM articles a JOIN _pending USING (article_key)"
                " WHERE a.article_key BETWEEN ? AND ? ORDER BY a.article_key",
                [keys[0][0], keys[-1][0]],
            ).fetchall()
        rows = self.con.execute(
            """
            SELECT article_key, paragraph, start_char, end_char, role FROM paragraphs
            WHERE article_key BETWEEN ? AND ? ORDER BY article_key, paragraph
            """,
            [bodies[0][0], bodies[-1][0]],
        ).fetchall()
        by_key: dict[int, list[tuple[int, int, int, str]]] = {}
        for key, paragraph, start, end, role in rows:
            by_key.setdefault(key, []).append((paragraph, start, end, role))
        return [(int(key), body, tuple(by_key.get(key, ()))) for key, body in bodies]

    def find_candidates(self, run_id: int, max_bucket: int, window_days: float | None) -> CandidateRows:
        """Pairs (a < b) where b was fingerprinted in `run_id` and shares an exact hash or an
        LSH bucket with a.

        In every bucket only the first `max_bucket` articles (by key) pair with each other;
        a later arrival is left out and its bucket recorded in `hot_buckets`. The rule
        depends only on key order, so indexing in several runs gives the same pairs as one.
        Identical articles past the cap still pair with the first of their group.
        """
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _new AS SELECT article_key FROM signatures WHERE run_id = ?",
            [run_id],
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _doc_hits AS
            WITH touched AS (SELECT DISTINCT band, key FROM doc_bands WHERE article_key IN (SELECT article_key FROM _new)),
            m AS (
                SELECT d.article_key, d.band, d.key,
                       dense_rank() OVER (PARTITION BY d.band, d.key ORDER BY d.article_key) AS rank
                FROM doc_bands d JOIN touched USING (band, key))
            SELECT n.band, n.key, n.rank, o.article_key AS a, n.article_key AS b
            FROM m n LEFT JOIN m o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
            WHERE n.article_key IN (SELECT article_key FROM _new)
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _passage_hits AS
            WITH touched AS (SELECT DISTINCT band, key FROM passage_bands WHERE article_key IN (SELECT article_key FROM _new)),
            m AS (
                SELECT d.article_key, d.paragraph, d.band, d.key,
                       dense_rank() OVER (PARTITION BY d.band, d.key ORDER BY d.article_key) AS rank
                FROM passage_bands d JOIN touched USING (band, key))
            SELECT n.band, n.key, n.rank, o.article_key AS a, o.paragraph AS a_paragraph,
                   n.article_key AS b, n.paragraph AS b_paragraph
            FROM m n LEFT JOIN m o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
            WHERE n.article_key IN (SELECT article_key FROM _new)
            """
        )
        for kind, table in (("document", "_doc_hits"), ("passage", "_passage_hits")):
            con.execute(
                f"""
                INSERT INTO hot_buckets
                SELECT ?, ?, band, key, max(rank) FROM {table}
                WHERE rank > ? GROUP BY band, key
                """,
                [run_id, kind, max_bucket],
            )
        window = (
            ""
            if window_days is None
            else (
                f"AND (x.published_utc IS NULL OR y.published_utc IS NULL OR "
                f"abs(epoch(x.published_utc) - epoch(y.published_utc)) <= {float(window_days) * 86400.0})"
            )
        )
        rows = con.execute(
            f"""
            WITH exact AS (
                SELECT s.article_key, s.exact_hash,
                       dense_rank() OVER (PARTITION BY s.exact_hash ORDER BY s.article_key) AS rank
                FROM signatures s
                WHERE s.exact_hash IN (SELECT exact_hash FROM signatures WHERE run_id = ? AND exact_hash <> 0)
            ),
            exact_pairs AS (
                SELECT o.article_key AS a, n.article_key AS b FROM exact n
                JOIN exact o ON o.exact_hash = n.exact_hash AND o.article_key < n.article_key
                WHERE n.article_key IN (SELECT article_key FROM _new) AND (n.rank <= ? OR o.rank = 1)
            ),
            doc_pairs AS (SELECT DISTINCT a, b FROM _doc_hits WHERE a IS NOT NULL AND rank <= ?),
            passage_pairs AS (
                SELECT a, b, count(DISTINCT (a_paragraph, b_paragraph)) AS n FROM _passage_hits
                WHERE a IS NOT NULL AND rank <= ? GROUP BY a, b
            ),
            pairs AS (
                SELECT a, b, bool_or(e) AS via_exact, bool_or(d) AS via_document, bool_or(p) AS via_passage,
                       max(n) AS passage_pairs
                FROM (
                    SELECT a, b, true AS e, false AS d, false AS p, 0 AS n FROM exact_pairs
                    UNION ALL SELECT a, b, false, true, false, 0 FROM doc_pairs
                    UNION ALL SELECT a, b, false, false, true, n FROM passage_pairs
                ) GROUP BY a, b
            )
            SELECT p.a, p.b, p.via_exact, p.via_document, p.via_passage, p.passage_pairs,
                   x.outlet <> '' AND x.outlet = y.outlet AS same_outlet
            FROM pairs p
            JOIN articles x ON x.article_key = p.a
            JOIN articles y ON y.article_key = p.b
            WHERE true {window}
            ORDER BY p.a, p.b
            """,
            [run_id, max_bucket, max_bucket, max_bucket],
        ).fetchall()
        return rows

    def candidate_passage_pairs(self, run_id: int, max_bucket: int) -> None:
        """Keep the colliding paragraph pairs of the candidates stored in `run_id`."""
        self.con.execute(
            """
            INSERT INTO candidate_passages
            SELECT DISTINCT h.a, h.b, h.a_paragraph, h.b_paragraph FROM _passage_hits h
            JOIN candidates c ON c.a = h.a AND c.b = h.b AND c.run_id = ?
            WHERE h.a IS NOT NULL AND h.rank <= ?
            ORDER BY h.a, h.b, h.a_paragraph, h.b_paragraph
            """,
            [run_id, max_bucket],
        )

    def signatures_of(self, keys: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
        """(signatures, shingle counts) of articles, in the order of `keys`."""
        with self._registered("_keys", {"article_key": keys.astype(np.int64), "pos": np.arange(len(keys))}):
            rows = self.con.execute(
                "SELECT s.signature, s.shingles FROM _keys k JOIN signatures s USING (article_key) ORDER BY k.pos"
            ).fetchall()
        if len(rows) != len(keys):
            raise StoreError("some candidate articles have no signature")
        empty = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32).tobytes()
        sigs = np.frombuffer(b"".join(r[0] or empty for r in rows), dtype=np.uint32).reshape(
            len(rows), num_perm
        )
        return sigs, np.array([r[1] for r in rows], dtype=np.int64)

    def add_candidates(self, columns: dict[str, np.ndarray]) -> None:
        self._insert_arrays("candidates", columns)

    def candidate_list(
        self, *, limit: int | None = None, article_key: int | None = None
    ) -> list[dict[str, Any]]:
        where = "" if article_key is None else f"WHERE c.a = {int(article_key)} OR c.b = {int(article_key)}"
        sql = f"""
            SELECT x.article_id || CASE WHEN x.version > 1 THEN '@v' || x.version ELSE '' END AS a,
                   y.article_id || CASE WHEN y.version > 1 THEN '@v' || y.version ELSE '' END AS b,
                   CASE WHEN c.via_exact THEN 'exact' WHEN c.via_document THEN 'document'
                        WHEN c.via_passage THEN 'passage' ELSE 'semantic' END AS method,
                   c.via_exact, c.via_document, c.via_passage, c.via_semantic,
                   round(c.jaccard, 4) AS jaccard, round(c.containment_a, 4) AS containment_a,
                   round(c.containment_b, 4) AS containment_b, c.passage_pairs, c.same_outlet,
                   x.outlet AS a_outlet, y.outlet AS b_outlet
            FROM candidates c
            JOIN articles x ON x.article_key = c.a
            JOIN articles y ON y.article_key = c.b
            {where}
            ORDER BY c.jaccard DESC, c.a, c.b
        """
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._dicts(sql)

    def pending_count(self) -> int:
        """Articles stored but not fingerprinted yet."""
        sql = "SELECT count(*) FROM articles ANTI JOIN signatures USING (article_key)"
        return int(self.con.execute(sql).fetchall()[0][0])

    def indexed_in_run(self, run_id: int) -> int:
        return int(
            self.con.execute("SELECT count(*) FROM signatures WHERE run_id = ?", [run_id]).fetchall()[0][0]
        )

    def hot_bucket_count(self, run_id: int) -> int:
        return int(
            self.con.execute("SELECT count(*) FROM hot_buckets WHERE run_id = ?", [run_id]).fetchall()[0][0]
        )

    # -- verification ------------------------------------------------------------------
    def candidates_of_run(self, run_id: int) -> list[tuple[int, int]]:
        rows = self.con.execute(
            "SELECT a, b FROM candidates WHERE run_id = ? ORDER BY a, b", [run_id]
        ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def side_texts(
        self, keys: Sequence[int]
    ) -> dict[int, tuple[tuple[str, ...], tuple[bool, ...], tuple[int, ...]]]:
        """For each article: its sentence texts, whether each lies in a body paragraph, and
        their keys (`Sentence.key`)."""
        if not keys:
            return {}
        with self._registered("_keys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            bodies = dict(
                self.con.execute(
                    "SELECT a.article_key, a.body FROM articles a JOIN _keys USING (article_key)"
                ).fetchall()
            )
            rows = self.con.execute(
                """
                SELECT s.article_key, s.start_char, s.end_char, p.role = 'body', s.sentence_key
                FROM sentences s JOIN _keys USING (article_key)
                JOIN paragraphs p ON p.article_key = s.article_key AND p.paragraph = s.paragraph
                ORDER BY s.article_key, s.sentence
                """
            ).fetchall()
        texts: dict[int, list[str]] = {k: [] for k in bodies}
        flags: dict[int, list[bool]] = {k: [] for k in bodies}
        hashes: dict[int, list[int]] = {k: [] for k in bodies}
        for key, start, end, countable, hashed in rows:
            texts[key].append(bodies[key][start:end])
            flags[key].append(bool(countable))
            hashes[key].append(int(hashed))
        return {k: (tuple(texts[k]), tuple(flags[k]), tuple(hashes[k])) for k in bodies}

    def template_holders(self, keys: Collection[int]) -> dict[int, Holders]:
        """For the sentence keys among `keys` held by at least `templates.MIN_ARTICLES`
        articles of the database, their holders (`templates.Holders`)."""
        if not keys:
            return {}
        with self._registered("_tkeys", {"k": np.asarray(sorted(keys), dtype=np.int64)}):
            rows = self.con.execute(
                f"""
                WITH common AS (
                    SELECT sentence_key FROM sentences WHERE sentence_key IN (SELECT k FROM _tkeys)
                    GROUP BY sentence_key HAVING count(DISTINCT article_key) >= {int(MIN_ARTICLES)})
                SELECT s.sentence_key, s.article_key, s.context_key FROM sentences s
                WHERE s.sentence_key IN (SELECT sentence_key FROM common)
                """
            ).fetchall()
        grouped: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for key, article, context in rows:
            grouped[int(key)].append((int(article), int(context)))
        return {k: Holders.of(v) for k, v in grouped.items()}

    def trace_candidates(self, fp: Fingerprints, max_bucket: int) -> dict[int, str]:
        """Stored articles sharing an exact hash or an LSH bucket with the one article of
        `fp` (`dedup trace`), as `find_candidates` would pair a new article: a bucket holding
        `max_bucket` articles already is over-popular and pairs no newcomer. {key: how}."""
        found: dict[int, str] = {}
        exact = int(fp.exact[0]) if len(fp.exact) else 0
        if exact:
            for (key,) in self.con.execute(
                "SELECT article_key FROM signatures WHERE exact_hash = ? ORDER BY article_key", [exact]
            ).fetchall():
                found.setdefault(int(key), "exact")
        queries = [
            ("document", "doc_bands", fp.doc_bands[0] if fp.shingles[0] else np.zeros(0, dtype=np.uint64))
        ]
        if len(fp.passage_bands):
            queries.append(("passage", "passage_bands", fp.passage_bands.reshape(-1)))
        for how, table, keys in queries:
            if not len(keys):
                continue
            width = fp.doc_bands.shape[1] if table == "doc_bands" else fp.passage_bands.shape[1]
            bands = np.tile(np.arange(width, dtype=np.int16), len(keys) // width)
            with self._registered("_probe", {"band": bands, "key": np.asarray(keys, dtype=np.uint64)}):
                rows = self.con.execute(
                    f"""
                    WITH hit AS (SELECT DISTINCT t.article_key, t.band, t.key FROM {table} t JOIN _probe USING (band, key)),
                    sized AS (SELECT band, key, count(DISTINCT article_key) AS n FROM hit GROUP BY band, key)
                    SELECT DISTINCT h.article_key FROM hit h JOIN sized USING (band, key)
                    WHERE sized.n < {int(max_bucket)} ORDER BY 1
                    """
                ).fetchall()
            for (key,) in rows:
                found.setdefault(int(key), how)
        return found

    def describe_articles(self, keys: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Ref, outlet and wire of articles, by key."""
        if not keys:
            return {}
        with self._registered("_dkeys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                f"SELECT a.article_key, {_REF.format(t='a')}, a.outlet, a.wire FROM articles a JOIN _dkeys USING (article_key)"
            ).fetchall()
        return {int(k): {"ref": r, "outlet": o, "wire": w} for k, r, o, w in rows}

    # -- semantic candidates -------------------------------------------------------------
    def unpaired_new(self, run_id: int) -> list[int]:
        """Articles fingerprinted in `run_id`, with text, that no lexical candidate pairs
        with an earlier article: the ones semantic search is for."""
        rows = self.con.execute(
            """
            SELECT s.article_key FROM signatures s
            WHERE s.run_id = ? AND s.shingles > 0
              AND s.article_key NOT IN (SELECT b FROM candidates WHERE run_id = ?)
            ORDER BY s.article_key
            """,
            [run_id, run_id],
        ).fetchall()
        return [int(k) for (k,) in rows]

    def published_epochs(self, keys: np.ndarray) -> np.ndarray:
        """Publication times (epoch seconds, NaN when undated) of articles, in key order given."""
        with self._registered(
            "_pkeys", {"article_key": np.asarray(keys, dtype=np.int64), "pos": np.arange(len(keys))}
        ):
            rows = self.con.execute(
                "SELECT epoch(a.published_utc) FROM _pkeys k JOIN articles a USING (article_key) ORDER BY k.pos"
            ).fetchall()
        return np.array([np.nan if r[0] is None else float(r[0]) for r in rows], dtype=np.float64)

    def same_outlet(self, pairs: Sequence[tuple[Any, Any]]) -> list[bool]:
        """Whether each pair's two articles name the same (known) outlet."""
        columns = {
            "a": np.array([p[0] for p in pairs], dtype=np.int64),
            "b": np.array([p[1] for p in pairs], dtype=np.int64),
            "pos": np.arange(len(pairs)),
        }
        with self._registered("_spairs", columns):
            rows = self.con.execute(
                """
                SELECT x.outlet <> '' AND x.outlet = y.outlet FROM _spairs p
                JOIN articles x ON x.article_key = p.a JOIN articles y ON y.article_key = p.b ORDER BY p.pos
                """
            ).fetchall()
        return [bool(r[0]) for r in rows]

    def add_vectors(self, keys: Sequence[int], vectors: np.ndarray, run_id: int) -> None:
        if not len(keys):
            return
        blobs = np.empty(len(keys), dtype=object)
        for i, vector in enumerate(np.asarray(vectors, dtype=np.float32)):
            blobs[i] = vector.tobytes()
        self._insert_arrays(
            "article_vectors",
            {
                "article_key": np.asarray(keys, dtype=np.int64),
                "vector": blobs,
                "run_id": np.full(len(keys), run_id, dtype=np.int32),
            },
        )

    def vector_blocks(
        self, below: int, block: int = 50_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(keys, unit vectors, published epoch seconds or NaN) of the stored article
        vectors with keys below `below`, `block` at a time in key order."""
        last = -1
        while True:
            rows = self.con.execute(
                """
                SELECT v.article_key, v.vector, epoch(a.published_utc) FROM article_vectors v
                JOIN articles a USING (article_key)
                WHERE v.article_key > ? AND v.article_key < ? ORDER BY v.article_key LIMIT ?
                """,
                [last, below, block],
            ).fetchall()
            if not rows:
                return
            keys = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            when = np.array([np.nan if r[2] is None else float(r[2]) for r in rows], dtype=np.float64)
            yield keys, vectors, when
            last = int(keys[-1])

    def add_pairs(self, rows: Sequence[tuple[Any, ...]], alignment_rows: Sequence[tuple[Any, ...]]) -> None:
        """Verdicts (a, b, relation, score, containment_a, containment_b, shares, run_id) and
        alignments (a, b, a_sentence, b_sentence, kind, score, edits)."""
        self._append("pairs", rows)
        self._append("alignments", alignment_rows)

    def get_embeddings(self, model: str, keys: np.ndarray) -> dict[int, np.ndarray]:
        if len(keys) == 0:
            return {}
        with self._registered("_emb_keys", {"sentence_key": np.asarray(keys, dtype=np.int64)}):
            rows = self.con.execute(
                "SELECT e.sentence_key, e.vector FROM embeddings e JOIN _emb_keys USING (sentence_key)"
                " WHERE e.model = ?",
                [model],
            ).fetchall()
        return {int(k): np.frombuffer(v, dtype=np.float32) for k, v in rows}

    def put_embeddings(self, model: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0 or self.read_only:
            return
        blobs = np.empty(len(keys), dtype=object)
        for i, vector in enumerate(np.asarray(vectors, dtype=np.float32)):
            blobs[i] = vector.tobytes()
        columns = {
            "model": np.full(len(keys), model, dtype=object),
            "sentence_key": np.asarray(keys, dtype=np.int64),
            "vector": blobs,
        }
        with self._registered("_emb_new", columns):
            self.con.execute(
                "INSERT OR IGNORE INTO embeddings SELECT model, sentence_key, vector FROM _emb_new"
            )

    def pair_list(
        self,
        *,
        relations: Sequence[str] | None = None,
        min_score: float = 0.0,
        article_key: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        clauses = ["p.score >= ?"]
        params: list[Any] = [min_score]
        if relations:
            clauses.append(f"p.relation IN ({', '.join('?' for _ in relations)})")
            params += list(relations)
        if article_key is not None:
            clauses.append("(p.a = ? OR p.b = ?)")
            params += [article_key, article_key]
        sql = f"""
            SELECT {_REF.format(t="x")} AS a, {_REF.format(t="y")} AS b, p.relation, p.score,
                   p.containment_a, p.containment_b,
                   x.outlet AS a_outlet, y.outlet AS b_outlet,
                   x.published AS a_published, y.published AS b_published,
                   p.a AS _ka, x.published_utc AS _ta, x.wire AS _wa,
                   p.b AS _kb, y.published_utc AS _tb, y.wire AS _wb
            FROM pairs p JOIN articles x ON x.article_key = p.a JOIN articles y ON y.article_key = p.b
            WHERE {" AND ".join(clauses)}
            ORDER BY p.score DESC, p.a, p.b
        """
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_origin_first(row) for row in self._dicts(sql, params)]

    def strong_component(self, run_id: int) -> list[tuple[int, int, str, float]]:
        """The strong pairs of every connected component (of the graph of strong pairs)
        that holds a pair verified in `run_id`: all a run can change of the clusters.

        Grown a hop at a time from the run's pairs; a component is a story and its copies,
        so this is a few small queries however big the database is.
        """
        seen: set[int] = set()
        frontier = {
            int(k)
            for row in self.con.execute("SELECT a, b FROM pairs WHERE run_id = ?", [run_id]).fetchall()
            for k in row
        }
        edges: set[tuple[int, int, str, float]] = set()
        while frontier:
            seen |= frontier
            with self._registered("_hop", {"k": np.asarray(sorted(frontier), dtype=np.int64)}):
                rows = self.con.execute(
                    """
                    SELECT a, b, relation, score FROM pairs
                    WHERE relation IN ('duplicate', 'rewrite')
                      AND (a IN (SELECT k FROM _hop) OR b IN (SELECT k FROM _hop))
                    """
                ).fetchall()
            found = {(int(a), int(b), str(r), float(sc)) for a, b, r, sc in rows}
            edges |= found
            frontier = {k for a, b, _, _ in found for k in (a, b)} - seen
        return sorted(edges)

    def cluster_counts(self) -> tuple[int, int]:
        """(clusters, clustered articles)."""
        row = self.con.execute(
            "SELECT (SELECT count(*) FROM clusters), (SELECT count(*) FROM cluster_members)"
        ).fetchall()[0]
        return int(row[0]), int(row[1])

    def nodes(self, keys: Sequence[int]) -> dict[int, tuple[datetime | None, str]]:
        """(published UTC, wire) of articles, for ordering who came first."""
        if not keys:
            return {}
        with self._registered("_node_keys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                "SELECT a.article_key, a.published_utc, a.wire FROM articles a JOIN _node_keys USING (article_key)"
            ).fetchall()
        return {int(k): (p, w) for k, p, w in rows}

    def replace_clusters_of(
        self,
        keys: Sequence[int],
        rows: Sequence[tuple[str, int, int]],
        members: Sequence[tuple[Any, ...]],
        run_id: int,
    ) -> None:
        """Replace the clusters that hold any of `keys` (whole components) by `rows`/`members`."""
        with self._registered("_component", {"k": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            self.con.execute(
                """
                CREATE TEMP TABLE _stale AS
                SELECT DISTINCT cluster_id FROM cluster_members WHERE article_key IN (SELECT k FROM _component);
                DELETE FROM cluster_members WHERE cluster_id IN (SELECT cluster_id FROM _stale);
                DELETE FROM clusters WHERE cluster_id IN (SELECT cluster_id FROM _stale);
                DROP TABLE _stale;
                """
            )
        self._append("clusters", [(cid, origin, size, run_id) for cid, origin, size in rows])
        self._append("cluster_members", members)

    def pairs_touching(self, run_id: int) -> list[int]:
        """Articles on either side of a pair verified in `run_id`."""
        rows = self.con.execute(
            "SELECT a FROM pairs WHERE run_id = ? UNION SELECT b FROM pairs WHERE run_id = ?",
            [run_id, run_id],
        ).fetchall()
        return sorted(int(r[0]) for r in rows)

    def links_of(self, keys: Sequence[int]) -> list[tuple[int, int, int, int, str]]:
        """(article, sentence, other article, other sentence, kind) for the aligned sentences of
        every reuse pair involving `keys`, seen from both sides."""
        if not keys:
            return []
        with self._registered("_link_keys", {"k": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                """
                SELECT a, a_sentence, b, b_sentence, kind FROM alignments
                WHERE a IN (SELECT k FROM _link_keys) AND a_sentence IS NOT NULL AND b_sentence IS NOT NULL
                UNION ALL
                SELECT b, b_sentence, a, a_sentence, kind FROM alignments
                WHERE b IN (SELECT k FROM _link_keys) AND a_sentence IS NOT NULL AND b_sentence IS NOT NULL
                ORDER BY 1, 2, 3, 4
                """
            ).fetchall()
        return [(int(a), int(s), int(o), int(t), str(k)) for a, s, o, t, k in rows]

    def layout(
        self, keys: Sequence[int]
    ) -> tuple[dict[int, list[tuple[int, str]]], dict[int, list[tuple[int, int]]]]:
        """Paragraphs (index, role) and sentences (paragraph, length) of articles."""
        if not keys:
            return {}, {}
        with self._registered("_layout_keys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            paras = self.con.execute(
                "SELECT article_key, paragraph, role FROM paragraphs JOIN _layout_keys USING (article_key)"
                " ORDER BY article_key, paragraph"
            ).fetchall()
            sents = self.con.execute(
                "SELECT article_key, paragraph, end_char - start_char FROM sentences JOIN _layout_keys USING (article_key)"
                " ORDER BY article_key, sentence"
            ).fetchall()
        paragraphs: dict[int, list[tuple[int, str]]] = defaultdict(list)
        sentences: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for key, index, role in paras:
            paragraphs[int(key)].append((int(index), str(role)))
        for key, paragraph, length in sents:
            sentences[int(key)].append((int(paragraph), int(length)))
        return dict(paragraphs), dict(sentences)

    def replace_reuse(self, keys: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        if keys:
            with self._registered("_reuse_keys", {"k": np.asarray(sorted(set(keys)), dtype=np.int64)}):
                self.con.execute("DELETE FROM reuse WHERE article_key IN (SELECT k FROM _reuse_keys)")
        self._append("reuse", rows)

    def cluster_list(
        self, *, min_size: int = 2, since: str | None = None, outlet: str | None = None, sort: str = "size"
    ) -> list[dict[str, Any]]:
        clauses: list[str] = ["c.size >= ?"]
        params: list[Any] = [min_size]
        if since:
            clauses.append("last_published >= CAST(? AS TIMESTAMP)")
            params.append(since)
        if outlet:
            clauses.append("list_contains(outlets, ?)")
            params.append(outlet)
        order = (
            "c.size DESC, first_published, c.cluster_id"
            if sort == "size"
            else "first_published, c.cluster_id"
        )
        sql = f"""
            WITH spans AS (
                SELECT m.cluster_id, min(a.published_utc) AS first_published, max(a.published_utc) AS last_published,
                       list(DISTINCT a.outlet ORDER BY a.outlet) AS outlets
                FROM cluster_members m JOIN articles a USING (article_key) GROUP BY m.cluster_id
            )
            SELECT c.cluster_id, c.size, {_REF.format(t="o")} AS origin, o.outlet AS origin_outlet,
                   o.title AS origin_title, {_HEADLINE.format(t="o")} AS origin_headline,
                   first_published, last_published, outlets
            FROM clusters c JOIN spans USING (cluster_id) JOIN articles o ON o.article_key = c.origin
            WHERE {" AND ".join(clauses)}
            ORDER BY {order}
        """
        return self._dicts(sql, params)

    def cluster_detail(self, cluster_id: str) -> list[dict[str, Any]]:
        """Members in origin order: relation to the cluster, containment in the origin, what they added."""
        return self._dicts(
            f"""
            SELECT m.position, {_REF.format(t="a")} AS article, m.relation, round(m.score, 4) AS score,
                   round(CASE WHEN p.a = c.origin THEN p.containment_b ELSE p.containment_a END, 4) AS from_origin,
                   round(1 - CASE WHEN p.a = c.origin THEN p.containment_b ELSE p.containment_a END, 4) AS added,
                   a.outlet, a.published, a.title, {_HEADLINE.format(t="a")} AS headline
            FROM cluster_members m
            JOIN clusters c USING (cluster_id)
            JOIN articles a ON a.article_key = m.article_key
            LEFT JOIN pairs p ON (p.a = least(c.origin, m.article_key) AND p.b = greatest(c.origin, m.article_key))
            WHERE m.cluster_id = ?
            ORDER BY m.position
            """,
            [cluster_id],
        )

    def provenance_rows(self, key: int) -> list[dict[str, Any]]:
        """The article paragraph by paragraph, with the source of each reused one."""
        return self._dicts(
            f"""
            SELECT p.paragraph, p.role, substring(a.body, p.start_char + 1, p.end_char - p.start_char) AS text,
                   coalesce(r.kind, CASE WHEN p.role = 'body' THEN 'original' ELSE p.role END) AS kind,
                   round(r.share, 4) AS share,
                   CASE WHEN r.source_key IS NULL THEN NULL ELSE {_REF.format(t="s")} END AS source,
                   s.outlet AS source_outlet, nullif(s.wire, '') AS source_wire, r.source_paragraph
            FROM paragraphs p
            JOIN articles a ON a.article_key = p.article_key
            LEFT JOIN reuse r ON r.article_key = p.article_key AND r.paragraph = p.paragraph
            LEFT JOIN articles s ON s.article_key = r.source_key
            WHERE p.article_key = ?
            ORDER BY p.paragraph
            """,
            [key],
        )

    def most_mixed_article(self) -> str | None:
        """The article drawing on the most distinct sources (wires first): a patchwork."""
        rows = self.con.execute(
            f"""
            SELECT {_REF.format(t="a")} FROM reuse r
            JOIN articles a ON a.article_key = r.article_key JOIN articles s ON s.article_key = r.source_key
            GROUP BY a.article_key, a.article_id, a.version
            ORDER BY count(DISTINCT coalesce(nullif(s.wire, ''), s.outlet)) DESC, count(DISTINCT r.source_key) DESC,
                     a.article_key
            LIMIT 1
            """
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def source_stats(self) -> list[dict[str, Any]]:
        """Which outlets reuse which sources (wire, else outlet) most. An outlet's reuse of
        itself is left out unless the source is a wire, or the outlets are unknown (feeds
        that name none: who copied is then still worth listing)."""
        return self._dicts(
            """
            SELECT a.outlet AS outlet, coalesce(nullif(s.wire, ''), s.outlet, '') AS source,
                   count(DISTINCT r.article_key) AS articles, count(*) AS paragraphs,
                   round(avg(r.share), 4) AS mean_share
            FROM reuse r JOIN articles a ON a.article_key = r.article_key
            JOIN articles s ON s.article_key = r.source_key
            WHERE r.source_key IS NOT NULL
              AND (a.outlet <> coalesce(s.outlet, '') OR a.outlet = '' OR s.wire <> '')
            GROUP BY ALL ORDER BY paragraphs DESC, outlet, source
            """
        )

    # -- listings ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("articles", "paragraphs", "sentences"):
            out[table] = int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        actions = dict(self.con.execute("SELECT action, count(*) FROM rejects GROUP BY action").fetchall())
        for key, action in REJECT_KINDS.items():
            out[key] = int(actions.get(action, 0))
        for table in ("runs", "candidates", "pairs", "clusters"):
            out[table] = int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return out

    # -- the report and the web view ---------------------------------------------------------
    def cluster_shares(self) -> dict[str, float]:
        """Per cluster, the mean share of its copies taken from the origin."""
        rows = self.con.execute(
            """
            SELECT m.cluster_id,
                   avg(CASE WHEN p.a = c.origin THEN p.containment_b ELSE p.containment_a END)
            FROM cluster_members m JOIN clusters c USING (cluster_id)
            JOIN pairs p ON p.a = least(c.origin, m.article_key) AND p.b = greatest(c.origin, m.article_key)
            WHERE m.article_key <> c.origin
            GROUP BY m.cluster_id
            """
        ).fetchall()
        return {str(cid): round(float(share), 4) for cid, share in rows}

    def article_links(self, key: int) -> list[dict[str, Any]]:
        """Every article judged to share text with this one, strongest first."""
        return self._dicts(
            f"""
            SELECT {_REF.format(t="o")} AS other, o.outlet, o.title, o.published, p.relation, round(p.score, 4) AS score,
                   p.a = ? AS first
            FROM pairs p JOIN articles o ON o.article_key = CASE WHEN p.a = ? THEN p.b ELSE p.a END
            WHERE (p.a = ? OR p.b = ?) AND p.relation <> 'none'
            ORDER BY p.score DESC, o.article_key
            """,
            [key, key, key, key],
        )

    def refs(self, keys: set[int]) -> dict[int, str]:
        """The refs (`id`, `id@vN`) of article keys."""
        if not keys:
            return {}
        with self._registered("_ref_keys", {"article_key": np.asarray(sorted(keys), dtype=np.int64)}):
            rows = self.con.execute(
                f"SELECT a.article_key, {_REF.format(t='a')} FROM articles a JOIN _ref_keys USING (article_key)"
            ).fetchall()
        return {int(k): str(r) for k, r in rows}

    def cluster_of(self, key: int) -> str | None:
        rows = self.con.execute(
            "SELECT cluster_id FROM cluster_members WHERE article_key = ?", [key]
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def linked_pairs_of(self, key: int) -> set[int]:
        """The articles judged to share text with this one."""
        rows = self.con.execute(
            "SELECT CASE WHEN a = ? THEN b ELSE a END FROM pairs WHERE (a = ? OR b = ?) AND relation <> 'none'",
            [key, key, key],
        ).fetchall()
        return {int(r[0]) for r in rows}

    def linked_pairs(self) -> list[tuple[int, int]]:
        rows = self.con.execute("SELECT a, b FROM pairs WHERE relation <> 'none' ORDER BY a, b").fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def stored_comparison(self, a: int, b: int) -> Comparison | None:
        """The verdict and sentence alignment stored for a verified pair (a < b), or None."""
        rows = self.con.execute(
            "SELECT relation, score, containment_a, containment_b, shares FROM pairs WHERE a = ? AND b = ?",
            [a, b],
        ).fetchall()
        if not rows:
            return None
        relation, score, cont_a, cont_b, shares = rows[0]
        stored = [
            Alignment(
                None if ai is None else int(ai),
                None if bi is None else int(bi),
                kind,
                float(sc),
                tuple(Edit(*e) for e in json.loads(edits)),
            )
            for ai, bi, kind, sc, edits in self.con.execute(
                "SELECT a_sentence, b_sentence, kind, score, edits FROM alignments WHERE a = ? AND b = ?",
                [a, b],
            ).fetchall()
        ]
        # every sentence of both sides has a row (matched, removed or added): reading order again
        m = sum(1 for x in stored if x.a_index is not None)
        n = sum(1 for x in stored if x.b_index is not None)
        matches = [x for x in stored if x.a_index is not None and x.b_index is not None]
        alignments = tuple(order_alignments(matches, m, n))
        return Comparison(
            relation, float(score), float(cont_a), float(cont_b), alignments, json.loads(shares)
        )

    def search_articles(
        self,
        *,
        text: str = "",
        outlet: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Articles by words of the headline, outlet and publication dates (`datetime`s),
        newest first. `%` and `_` in the words are matched as themselves."""
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        for word in text.split()[:8]:
            clauses.append("a.title ILIKE ? ESCAPE '\\'")
            params.append(f"%{_like(word)}%")
        if outlet:
            clauses.append("a.outlet ILIKE ? ESCAPE '\\'")
            params.append(f"%{_like(outlet)}%")
        if since:
            clauses.append("a.published_utc >= ?")
            params.append(utc_naive(since))
        if until:
            clauses.append("a.published_utc < ? + INTERVAL 1 DAY")
            params.append(utc_naive(until))
        return self._dicts(
            f"""
            SELECT {_REF.format(t="a")} AS article, a.title, a.outlet, a.published, m.cluster_id
            FROM articles a LEFT JOIN cluster_members m USING (article_key)
            WHERE {" AND ".join(clauses)}
            ORDER BY a.published_utc DESC NULLS LAST, a.article_key DESC
            LIMIT {int(limit)}
            """,
            params,
        )

    # -- results of the Spark engine ----------------------------------------------------------
    SPARK_TABLES = (
        "articles", "paragraphs", "sentences", "rejects", "signatures", "passages", "doc_bands",
        "passage_bands", "candidates", "candidate_passages", "hot_buckets", "pairs", "alignments",
        "article_vectors",
    )  # fmt: skip

    def import_parquet(self, folder: Path, run_id: int) -> dict[str, int]:
        """Load the tables a Spark run wrote (`dedup.engines.spark`) into this empty database,
        stamped with `run_id`; Spark's signed 64-bit hashes become UBIGINT again."""
        if self.counts()["articles"]:
            raise StoreError(f"{self.path} already has articles: import Spark results into a new database")
        unsigned = (
            "CASE WHEN {c} < 0 THEN ({c}::HUGEINT + 18446744073709551616)::UBIGINT ELSE {c}::UBIGINT END"
        )
        counts = {}
        for table in self.SPARK_TABLES:
            source = folder / table
            if not source.exists():
                raise StoreError(f"{folder} has no {table}/: not the output of a Spark run")
            names = [name for name, _ in self.table_columns()[table]]
            exprs = []
            for name in names:
                if name == "run_id":
                    exprs.append(str(int(run_id)))
                elif name in ("exact_hash", "key"):
                    exprs.append(unsigned.format(c=name))
                else:
                    exprs.append(name)
            pattern = str(source / "*.parquet").replace("'", "''")
            order = "ORDER BY article_key" if "article_key" in names and table != "hot_buckets" else ""
            self.con.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM read_parquet('{pattern}') {order}"
            )
            counts[table] = int(
                self.con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()[0][0]
            )
        return counts

    # -- integrity ---------------------------------------------------------------------------
    def check(self) -> list[dict[str, Any]]:
        """Every invariant the stages rely on, with how many rows break it and one example.

        Each query returns the offending rows (as one text column); none means it holds."""
        checks = {
            "article ids and versions are unique": """
                SELECT article_id || ' v' || version FROM articles GROUP BY article_id, version HAVING count(*) > 1""",
            "paragraphs lie inside their article's body": """
                SELECT p.article_key || ':' || p.paragraph FROM paragraphs p
                LEFT JOIN articles a USING (article_key)
                WHERE a.article_key IS NULL OR p.start_char < 0 OR p.end_char > length(a.body)
                   OR p.start_char > p.end_char""",
            "sentences lie inside their paragraph": """
                SELECT s.article_key || ':' || s.sentence FROM sentences s
                LEFT JOIN paragraphs p ON p.article_key = s.article_key AND p.paragraph = s.paragraph
                WHERE p.article_key IS NULL OR s.start_char < p.start_char OR s.end_char > p.end_char""",
            "every signature belongs to an article": """
                SELECT s.article_key FROM signatures s LEFT JOIN articles a USING (article_key)
                WHERE a.article_key IS NULL""",
            "band keys and passages belong to a fingerprinted article": """
                SELECT DISTINCT x.article_key FROM (
                    SELECT article_key FROM doc_bands UNION ALL SELECT article_key FROM passage_bands
                    UNION ALL SELECT article_key FROM passages) x
                LEFT JOIN signatures s USING (article_key) WHERE s.article_key IS NULL""",
            "candidates and pairs join two different, existing, fingerprinted articles (a < b)": """
                SELECT x.a || '-' || x.b FROM (SELECT a, b FROM candidates UNION ALL SELECT a, b FROM pairs) x
                LEFT JOIN signatures sa ON sa.article_key = x.a LEFT JOIN signatures sb ON sb.article_key = x.b
                WHERE x.a >= x.b OR sa.article_key IS NULL OR sb.article_key IS NULL""",
            "every verified pair was a candidate": """
                SELECT p.a || '-' || p.b FROM pairs p LEFT JOIN candidates c USING (a, b) WHERE c.a IS NULL""",
            "alignments belong to a linked pair and to sentences of its articles": """
                SELECT x.a || '-' || x.b FROM alignments x
                LEFT JOIN pairs p USING (a, b)
                LEFT JOIN sentences sa ON sa.article_key = x.a AND sa.sentence = x.a_sentence
                LEFT JOIN sentences sb ON sb.article_key = x.b AND sb.sentence = x.b_sentence
                WHERE p.a IS NULL OR p.relation = 'none'
                   OR (x.a_sentence IS NOT NULL AND sa.article_key IS NULL)
                   OR (x.b_sentence IS NOT NULL AND sb.article_key IS NULL)""",
            "cluster sizes equal their members, and the origin is one of them": """
                SELECT c.cluster_id FROM clusters c
                LEFT JOIN (SELECT cluster_id, count(*) AS n, bool_or(position = 0) AS has0
                           FROM cluster_members GROUP BY cluster_id) m USING (cluster_id)
                LEFT JOIN cluster_members o ON o.cluster_id = c.cluster_id AND o.article_key = c.origin
                WHERE m.n IS NULL OR m.n <> c.size OR o.article_key IS NULL OR c.size < 2""",
            "cluster members are stored articles of a stored cluster": """
                SELECT m.cluster_id || ':' || m.article_key FROM cluster_members m
                LEFT JOIN clusters c USING (cluster_id) LEFT JOIN articles a USING (article_key)
                WHERE c.cluster_id IS NULL OR a.article_key IS NULL""",
            "every cluster member is tied to its cluster by a duplicate or rewrite pair": """
                SELECT m.cluster_id || ':' || m.article_key FROM cluster_members m
                WHERE NOT EXISTS (
                    SELECT 1 FROM pairs p JOIN cluster_members o
                      ON o.cluster_id = m.cluster_id AND o.article_key = CASE WHEN p.a = m.article_key THEN p.b ELSE p.a END
                    WHERE (p.a = m.article_key OR p.b = m.article_key) AND p.relation IN ('duplicate', 'rewrite'))""",
            "traced paragraphs exist, and so do their sources": """
                SELECT r.article_key || ':' || r.paragraph FROM reuse r
                LEFT JOIN paragraphs p ON p.article_key = r.article_key AND p.paragraph = r.paragraph
                LEFT JOIN paragraphs s ON s.article_key = r.source_key AND s.paragraph = r.source_paragraph
                WHERE p.article_key IS NULL OR r.source_key = r.article_key
                   OR (r.source_key IS NOT NULL AND s.article_key IS NULL) OR r.share < 0 OR r.share > 1.0001""",
            "a paragraph is traced once": """
                SELECT article_key || ':' || paragraph FROM reuse GROUP BY article_key, paragraph HAVING count(*) > 1""",
            "no run is left running": """
                SELECT 'run ' || run_id FROM runs WHERE status = 'running'""",
        }
        out = []
        for name, sql in checks.items():
            rows = self.con.execute(f"SELECT count(*) OVER (), * FROM ({sql}) LIMIT 1").fetchall()
            out.append(
                {
                    "check": name,
                    "problems": int(rows[0][0]) if rows else 0,
                    "example": rows[0][1] if rows else None,
                }
            )
        return out

    # -- export ------------------------------------------------------------------------------
    def table_columns(self) -> dict[str, list[tuple[str, str]]]:
        """Every table of the schema (and `dedup_meta`) with its columns and DuckDB types."""
        out: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in self.con.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"""
        ).fetchall():
            out.setdefault(str(table), []).append((str(column), str(kind)))
        return out

    def table_rows(self, table: str, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        if table not in self.table_columns():
            raise StoreError(f"no table {table!r}")
        cursor = self.con.cursor()
        try:
            cursor.execute(f'SELECT * FROM "{table}"')
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()

    def export_parquet(self, folder: Path) -> dict[str, int]:
        """One Parquet file per table, written by DuckDB itself; rows per table."""
        folder.mkdir(parents=True, exist_ok=True)
        counts = {}
        for table in self.table_columns():
            target = str(folder / f"{table}.parquet").replace("'", "''")
            self.con.execute(f"COPY \"{table}\" TO '{target}' (FORMAT parquet)")
            counts[table] = int(self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
        return counts

    def evaluation_rows(
        self,
    ) -> tuple[
        list[str],
        list[tuple[str, str, str]],
        list[tuple[str, str]],
        list[tuple[str, int, str | None, int | None, str | None]],
    ]:
        """What `dedup evaluate` compares with a truth, by article id: the ids, judged pairs,
        cluster memberships and traced paragraphs (with the source's wire, else outlet)."""
        ids = [str(r[0]) for r in self.con.execute("SELECT DISTINCT article_id FROM articles").fetchall()]
        pairs = self.con.execute(
            """SELECT x.article_id, y.article_id, p.relation FROM pairs p
               JOIN articles x ON x.article_key = p.a JOIN articles y ON y.article_key = p.b"""
        ).fetchall()
        members = self.con.execute(
            "SELECT m.cluster_id, a.article_id FROM cluster_members m JOIN articles a USING (article_key)"
        ).fetchall()
        reuse = self.con.execute(
            """SELECT a.article_id, r.paragraph, s.article_id, r.source_paragraph,
                      coalesce(nullif(s.wire, ''), s.outlet)
               FROM reuse r JOIN articles a ON a.article_key = r.article_key
               LEFT JOIN articles s ON s.article_key = r.source_key"""
        ).fetchall()
        return ids, pairs, members, reuse

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

    def reject_list(
        self,
        limit: int | None = None,
        *,
        action: str | None = None,
        file: str | None = None,
        run_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """What ingests recorded, oldest run first; `action` ("rejected", "field dropped",
        "skipped", "note"), `file` (a substring of the path) and `run_id` filter it."""
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if action is not None:
            clauses.append("action = ?")
            params.append(action)
        if file is not None:
            clauses.append("contains(file, ?)")
            params.append(file)
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        sql = (
            "SELECT run_id, file, line, field, reason, action FROM rejects"
            f" WHERE {' AND '.join(clauses)} ORDER BY run_id, file, line"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        names = ("run_id", "file", "line", "field", "reason", "action")
        return [dict(zip(names, row, strict=True)) for row in self.con.execute(sql, params).fetchall()]


def _origin_first(row: dict[str, Any]) -> dict[str, Any]:
    """A pair with `a` on the origin side, as clusters decide who came first (earlier
    published, then a wire, then ingest order; `cluster.origin_rank`), not the side stored
    first: the rows of `pairs` keep `a < b` by ingest order."""
    first = origin_rank(Node(row.pop("_ka"), row.pop("_ta"), row.pop("_wa") or ""))
    second = origin_rank(Node(row.pop("_kb"), row.pop("_tb"), row.pop("_wb") or ""))
    if first <= second:
        return row
    swap = {"a": "b", "b": "a", "containment_a": "containment_b", "containment_b": "containment_a",
            "a_outlet": "b_outlet", "b_outlet": "a_outlet", "a_published": "b_published", "b_published": "a_published"}  # fmt: skip
    return {k: row[swap.get(k, k)] for k in row}


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
