"""Articles in and out: versions, keys, bulk inserts of articles with their paragraphs
and sentences, rejects, and one article read back whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from dedup.errors import StoreError
from dedup.model import Article, Paragraph, Reject, Sentence, utc_naive
from dedup.store.db import Database


class ArticleStore(Database):
    """Writes and reads of the `articles`, `paragraphs`, `sentences` and `rejects` tables."""

    def known_versions(
        self, article_ids: Sequence[str], before: int | None = None
    ) -> dict[str, list[tuple[int, str]]]:
        """For each id already stored (with a key below `before`, if given): its
        (version, content_hash) pairs.

        `before` lets an ingest look up only what was stored before it began: its own
        articles' keys lie above, and DuckDB skips their row groups, so a first load does
        not scan everything it has stored for every batch (a million articles: 500
        batches, each reading up to a million ids)."""
        if not article_ids:
            return {}
        bound = "" if before is None else f" WHERE a.article_key < {int(before)}"
        with self._registered("_ids", {"article_id": np.array(list(article_ids), dtype=object)}):
            rows = self.con.execute(
                "SELECT a.article_id, a.version, a.content_hash FROM articles a"
                " JOIN (SELECT DISTINCT article_id FROM _ids) i USING (article_id)" + bound
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
