"""Every table of the store, declared once: the DuckDB DDL of a new database, the Spark
schemas of the Spark engine's Parquet output and the casts of its import all come from here.

`dedup.store.schema` keeps the numbered migrations that bring an older file up to this
shape (they are history, never edited); `tests/reliability/test_migrations.py` proves that
a file migrated from nothing and one made from these declarations are the same schema,
column for column, constraint for constraint.

>>> print(table("doc_bands").ddl())
CREATE TABLE doc_bands (article_key BIGINT NOT NULL, band SMALLINT NOT NULL, key UBIGINT NOT NULL)
>>> table("signatures").spark()
'article_key long, exact_hash long, shingles int, signature binary'
"""

from __future__ import annotations

from dataclasses import dataclass

SPARK_TYPES = {
    "BIGINT": "long", "INTEGER": "int", "SMALLINT": "short", "UBIGINT": "long", "DOUBLE": "double",
    "BOOLEAN": "boolean", "VARCHAR": "string", "JSON": "string", "BLOB": "binary",
    "TIMESTAMP": "timestamp_ntz",
}  # fmt: skip
"""Spark's type for each DuckDB one. UBIGINT (64-bit hashes) travels as a signed long, two's
complement, as numpy's `astype(np.int64)` gives it; the import turns it back."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    """The DuckDB type."""
    null: bool = False
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self) -> str:
        """`CREATE TABLE` for DuckDB."""
        parts = [
            f"{c.name} {c.kind}{'' if c.null else ' NOT NULL'}{f' DEFAULT {c.default}' if c.default else ''}"
            for c in self.columns
        ]
        if self.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        if self.unique:
            parts.append(f"UNIQUE ({', '.join(self.unique)})")
        return f"CREATE TABLE {self.name} ({', '.join(parts)})"

    def spark(self, omit: tuple[str, ...] = ("run_id",)) -> str:
        """The Spark DDL of the rows the Spark engine writes (the run id is stamped on import)."""
        return ", ".join(f"{c.name} {SPARK_TYPES[c.kind]}" for c in self.columns if c.name not in omit)

    def import_expression(self, name: str) -> str:
        """How the import reads column `name` from Parquet written by Spark."""
        kind = next(c.kind for c in self.columns if c.name == name)
        if kind == "UBIGINT":
            return f"CASE WHEN {name} < 0 THEN ({name}::HUGEINT + 18446744073709551616)::UBIGINT ELSE {name}::UBIGINT END"
        return name

    def export_expression(self, name: str) -> str:
        """The inverse of `import_expression`: how a stored column is handed to Spark."""
        kind = next(c.kind for c in self.columns if c.name == name)
        if kind == "UBIGINT":
            return f"CASE WHEN {name} >= 9223372036854775808 THEN ({name}::HUGEINT - 18446744073709551616)::BIGINT ELSE {name}::BIGINT END AS {name}"
        return name


def _t(name: str, spec: str, primary_key: tuple[str, ...] = (), unique: tuple[str, ...] = ()) -> Table:
    """A table from `name TYPE [NULL] [=default], ...` (NOT NULL unless marked NULL)."""
    columns = []
    for part in spec.split(","):
        words = part.split()
        default = next((w[1:] for w in words if w.startswith("=")), None)
        columns.append(Column(words[0], words[1], null="NULL" in words[2:], default=default))
    return Table(name, tuple(columns), primary_key, unique)


TABLES: tuple[Table, ...] = (
    _t("runs", "run_id INTEGER, command VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP NULL,"
       " status VARCHAR, params JSON NULL, stats JSON NULL", ("run_id",)),
    _t("articles", "article_key BIGINT, article_id VARCHAR, version INTEGER, content_hash VARCHAR, title VARCHAR,"
       " outlet VARCHAR, byline VARCHAR, url VARCHAR, published VARCHAR NULL, published_utc TIMESTAMP NULL,"
       " wire VARCHAR, dateline VARCHAR, is_summary BOOLEAN, body VARCHAR, extra JSON NULL, source_file VARCHAR,"
       " source_line BIGINT, run_id INTEGER", ("article_key",), ("article_id", "version")),
    _t("paragraphs", "article_key BIGINT, paragraph INTEGER, start_char INTEGER, end_char INTEGER, role VARCHAR"),
    _t("sentences", "article_key BIGINT, sentence INTEGER, paragraph INTEGER, start_char INTEGER, end_char INTEGER,"
       " sentence_key BIGINT =0, context_key BIGINT =0"),
    _t("rejects", "run_id INTEGER, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR, raw VARCHAR, action VARCHAR"),
    _t("signatures", "article_key BIGINT, exact_hash UBIGINT, shingles INTEGER, signature BLOB NULL, run_id INTEGER",
       ("article_key",)),
    _t("passages", "article_key BIGINT, paragraph INTEGER, exact_hash UBIGINT, tokens INTEGER"),
    _t("doc_bands", "article_key BIGINT, band SMALLINT, key UBIGINT"),
    _t("passage_bands", "article_key BIGINT, paragraph INTEGER, band SMALLINT, key UBIGINT"),
    _t("candidates", "a BIGINT, b BIGINT, via_exact BOOLEAN, via_document BOOLEAN, via_passage BOOLEAN,"
       " jaccard DOUBLE, containment_a DOUBLE, containment_b DOUBLE, passage_pairs INTEGER, same_outlet BOOLEAN,"
       " run_id INTEGER, via_semantic BOOLEAN =false", ("a", "b")),
    _t("candidate_passages", "a BIGINT, b BIGINT, a_paragraph INTEGER, b_paragraph INTEGER"),
    _t("hot_buckets", "run_id INTEGER, kind VARCHAR, band SMALLINT, key UBIGINT, members INTEGER"),
    _t("pairs", "a BIGINT, b BIGINT, relation VARCHAR, score DOUBLE, containment_a DOUBLE, containment_b DOUBLE,"
       " shares JSON, run_id INTEGER", ("a", "b")),
    _t("alignments", "a BIGINT, b BIGINT, a_sentence INTEGER NULL, b_sentence INTEGER NULL, kind VARCHAR,"
       " score DOUBLE, edits JSON"),
    _t("embeddings", "model VARCHAR, sentence_key BIGINT, vector BLOB", ("model", "sentence_key")),
    _t("clusters", "cluster_id VARCHAR, origin BIGINT, size INTEGER, run_id INTEGER", ("cluster_id",)),
    _t("cluster_members", "cluster_id VARCHAR, article_key BIGINT, position INTEGER, relation VARCHAR, score DOUBLE",
       ("article_key",)),
    _t("reuse", "article_key BIGINT, paragraph INTEGER, source_key BIGINT NULL, source_paragraph INTEGER NULL,"
       " kind VARCHAR, share DOUBLE, run_id INTEGER"),
    _t("article_vectors", "article_key BIGINT, vector BLOB, run_id INTEGER", ("article_key",)),
)  # fmt: skip
_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    return _BY_NAME[name]
