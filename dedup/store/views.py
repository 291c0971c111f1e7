"""Read queries for people: the listings of the CLI, the pages of the report and of
`dedup serve`, searches, counts and the rows `dedup evaluate` scores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from dedup.align import order_alignments
from dedup.cluster import Node, origin_rank
from dedup.model import Alignment, Comparison, Edit, utc_naive
from dedup.store.db import _HEADLINE, _REF, REJECT_KINDS, Database


class ViewStore(Database):
    """Listings, pages and counts (read-only: nothing here writes)."""

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


def _like(text: str) -> str:
    """`text` as a literal in a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
