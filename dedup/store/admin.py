"""Administration: the invariant checks of `dedup check`, table dumps for `dedup export`
(SQLite, Parquet), compacted copies for `dedup compact` and the import of a Spark run's
Parquet tables."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from dedup.errors import StoreError
from dedup.store.views import ViewStore
from dedup.tables import table as declared_table


class AdminStore(ViewStore):
    """Integrity checks, exports and the Spark engine's import."""

    SPARK_TABLES = (
        "articles", "paragraphs", "sentences", "rejects", "signatures", "passages", "doc_bands",
        "passage_bands", "candidates", "candidate_passages", "hot_buckets", "pairs", "alignments",
        "article_vectors",
    )  # fmt: skip

    def import_parquet(self, folder: Path, run_id: int) -> dict[str, int]:
        """Append the tables a Spark run wrote (`dedup.engines.spark`) to this database (new
        or the one the run was computed against, see `finish.import_results`), stamped with
        `run_id`; Spark's signed 64-bit hashes become UBIGINT again
        (`dedup.tables.Table.import_expression`)."""
        counts = {}
        for name in self.SPARK_TABLES:
            source = folder / name
            if not source.exists():
                raise StoreError(f"{folder} has no {name}/: not the output of a Spark run")
            declared = declared_table(name)
            names = list(declared.names)
            exprs = [str(int(run_id)) if c == "run_id" else declared.import_expression(c) for c in names]
            pattern = str(source / "*.parquet").replace("'", "''")
            order = "ORDER BY article_key" if "article_key" in names and name != "hot_buckets" else ""
            self.con.execute(
                f"INSERT INTO {name} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM read_parquet('{pattern}') {order}"
            )
            counts[name] = int(
                self.con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()[0][0]
            )
        return counts

    def spark_clusters(
        self, folder: Path
    ) -> tuple[list[int], list[tuple[str, int, int]], list[tuple[Any, ...]]]:
        """The clusters a Spark run rebuilt: (the articles of the components it rebuilt,
        `clusters` rows, `cluster_members` rows), for `replace_clusters_of`."""

        def read(name: str, columns: str) -> list[tuple[Any, ...]]:
            pattern = str(folder / name / "*.parquet").replace("'", "''")
            return self.con.execute(
                f"SELECT {columns} FROM read_parquet('{pattern}') ORDER BY ALL"
            ).fetchall()

        keys = [int(k) for (k,) in read("cluster_keys", "article_key")]
        rows = [(str(c), int(o), int(n)) for c, o, n in read("clusters", "cluster_id, origin, size")]
        members = read("cluster_members", "cluster_id, article_key, position, relation, score")
        return keys, rows, members

    BASE_TABLES: ClassVar[dict[str, str]] = {
        "articles": "article_key, article_id, version, content_hash, outlet, published, published_utc, wire, body",
        "paragraphs": "*", "sentences": "*", "signatures": "*", "doc_bands": "*", "passage_bands": "*",
        "article_vectors": "*", "pairs": "a, b, relation, score",
    }  # fmt: skip
    """What a Spark increment reads of the database it adds to (`export_base`)."""

    def export_base(self, folder: Path) -> int:
        """Write what a Spark increment needs of this database as Parquet under `folder`, a
        directory per table, 64-bit hashes as Spark's signed longs
        (`Table.export_expression`); the next article key, which the run numbers from."""
        for name, columns in self.BASE_TABLES.items():
            declared = declared_table(name)
            names = declared.names if columns == "*" else tuple(c.strip() for c in columns.split(","))
            exprs = ", ".join(declared.export_expression(c) for c in names if c != "run_id")
            (folder / name).mkdir(parents=True, exist_ok=True)
            target = str(folder / name / "part-0.parquet").replace("'", "''")
            self.con.execute(f"COPY (SELECT {exprs} FROM {name}) TO '{target}' (FORMAT parquet)")
        return int(
            self.con.execute("SELECT coalesce(max(article_key), 0) + 1 FROM articles").fetchall()[0][0]
        )

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
        for name in self.table_columns():
            target = str(folder / f"{name}.parquet").replace("'", "''")
            self.con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)")
            counts[name] = int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
        return counts

    def compact_into(self, target: Path) -> dict[str, int]:
        """A fresh copy of this database at `target` (DuckDB's `COPY FROM DATABASE`), in
        as few blocks as its rows need; rows per table, checked equal in both.

        DuckDB reuses the blocks a delete frees (`dedup prune`) but never shrinks its file;
        a copy does. Like SQLite's `VACUUM INTO`, it writes a new file and never replaces
        this one, which another process may open the moment this one closes: the copy is
        written under a temporary name beside `target` and renamed only once whole and
        counted, so `target` is either absent or complete."""
        if target.exists():
            raise StoreError(f"{target} exists already: compact writes a new file")
        if self.path != ":memory:" and target.resolve() == Path(self.path).resolve():
            raise StoreError("compact writes a new file, not the database itself")
        if not target.parent.is_dir():
            raise StoreError(f"{target}: no folder {target.parent} to write it in")
        partial = target.with_name(f".{target.name}.partial")

        def remove_partial() -> None:
            for leftover in (partial, partial.with_name(partial.name + ".wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink(missing_ok=True)

        remove_partial()  # what a killed compact left
        self.checkpoint()
        (source,) = self.con.execute("SELECT current_database()").fetchall()[0]
        literal = str(partial).replace("'", "''")
        tables = list(self.table_columns())  # listed before the copy is attached
        try:
            self.con.execute(f"ATTACH '{literal}' AS dedup_compacted")
            try:
                self.con.execute(f'COPY FROM DATABASE "{source}" TO dedup_compacted')
                counts = {}
                for name in tables:
                    (here, there) = self.con.execute(
                        f'SELECT (SELECT count(*) FROM "{source}".main."{name}"),'
                        f' (SELECT count(*) FROM dedup_compacted.main."{name}")'
                    ).fetchall()[0]
                    if here != there:
                        raise StoreError(f"compact: table {name} has {there} rows in the copy, {here} here")
                    counts[name] = int(here)
            finally:
                self.con.execute("DETACH dedup_compacted")
            os.replace(partial, target)
        except BaseException as exc:
            remove_partial()
            if isinstance(exc, duckdb.IOException):  # no space left, no permission
                raise StoreError(f"compact to {target}: {exc}") from None
            raise
        return counts

    def feed_records(self) -> list[dict[str, Any]]:
        """Every stored article as a feed record (`id`, `title`, `source`, `byline`, `url`,
        `date`, `body`), in ingest order: a database as the input of another run (the Spark
        engine reads one so)."""
        return self._dicts(
            "SELECT article_id AS id, title, outlet AS source, byline, url, published AS date, body"
            " FROM articles ORDER BY article_key"
        )
