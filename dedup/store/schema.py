"""The schema, as numbered migrations applied in order on open: `dedup_meta.schema_version`
says how far a file has come, so a database written by an older `dedup` is upgraded in
place and one from a newer `dedup` is refused."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import duckdb
import numpy as np

from dedup.templates import context_keys, sentence_key

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
