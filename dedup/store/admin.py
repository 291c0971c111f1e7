"""Administration: the invariant checks of `dedup check`, table dumps for `dedup export`
(SQLite, Parquet) and the import of a Spark run's Parquet tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dedup.errors import StoreError
from dedup.store.views import ViewStore


class AdminStore(ViewStore):
    """Integrity checks, exports and the Spark engine's import."""

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
        for table in self.table_columns():
            target = str(folder / f"{table}.parquet").replace("'", "''")
            self.con.execute(f"COPY \"{table}\" TO '{target}' (FORMAT parquet)")
            counts[table] = int(self.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
        return counts

    def feed_records(self) -> list[dict[str, Any]]:
        """Every stored article as a feed record (`id`, `title`, `source`, `byline`, `url`,
        `date`, `body`), in ingest order: a database as the input of another run (the Spark
        engine reads one so)."""
        return self._dicts(
            "SELECT article_id AS id, title, outlet AS source, byline, url, published AS date, body"
            " FROM articles ORDER BY article_key"
        )
