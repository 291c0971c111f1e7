"""The DuckDB store: the only package that imports duckdb.

`Store` is one object over one database file, assembled from a part per job, each a
module a person can read in one sitting:

  schema.py    the tables, as numbered migrations applied in order on open
  db.py        opening, waiting for a writer, transactions, bulk writes, runs (`Database`)
  articles.py  articles, paragraphs, sentences and rejects in and out
  index.py     fingerprints, band keys, candidate joins, lede vectors
  analysis.py  texts of pairs, template holders, embeddings, verdicts, clusters, provenance
  views.py     read queries for the CLI, the report and the web view
  admin.py     `dedup check`, exports, the Spark engine's import

The pipeline writes through `articles`, `index` and `analysis`; the CLI, report and server
read through `views`; every part shares `Database`'s connection and helpers.
"""

from __future__ import annotations

from dedup.model import utc_naive
from dedup.store.admin import AdminStore
from dedup.store.analysis import AnalysisStore
from dedup.store.articles import ArticleStore
from dedup.store.db import (
    HEADLINE_WORDS,
    REJECT_KINDS,
    CandidateRows,
    Database,
    is_interrupt,
    release_heap,
    waiting_writer,
)
from dedup.store.index import IndexStore
from dedup.store.schema import APP, MIGRATIONS, SCHEMA_VERSION
from dedup.store.views import ViewStore


class Store(AdminStore, ViewStore, AnalysisStore, IndexStore, ArticleStore, Database):
    """A dedup database file. Use `Store.open(path)` as a context manager.

    >>> with Store.open(":memory:") as store:
    ...     store.counts()["articles"]
    0
    """


__all__ = [
    "APP",
    "HEADLINE_WORDS",
    "MIGRATIONS",
    "REJECT_KINDS",
    "SCHEMA_VERSION",
    "CandidateRows",
    "Store",
    "is_interrupt",
    "release_heap",
    "utc_naive",
    "waiting_writer",
]
