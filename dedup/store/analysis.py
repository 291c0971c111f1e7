"""Verification and its aftermath: the texts of candidate pairs, template holders, the
embedding cache, verdicts and alignments, clusters and paragraph provenance."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np

from dedup.cluster import Node
from dedup.store.db import _REF, Database
from dedup.templates import MIN_ARTICLES, Holders, holders_of_columns


class AnalysisStore(Database):
    """What `pipeline` reads and writes to verify pairs, cluster them and trace paragraphs."""

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
        """For the sentence keys among `keys` that are templates as of some article of the
        database, where they turn template and back (`templates.Holders`, equal to
        `Holders.of` their holders: a property test holds them equal).

        A sentence held by a hundred thousand articles comes back as its few flips, not
        as its holders."""
        if not keys:
            return {}
        with self._registered("_tkeys", {"k": np.asarray(sorted(keys), dtype=np.int64)}):
            return self._holders("SELECT k FROM _tkeys", [])

    def run_template_holders(self, run_id: int) -> dict[int, Holders]:
        """`template_holders` of every sentence of the articles paired in `run_id`'s
        candidates, in one query: a key's flips depend on its own holders only, so they
        are those of each batch of verification put together, for one query over the stored
        sentences a run instead of one a batch (57 batches at a million)."""
        return self._holders(
            """SELECT sentence_key FROM sentences WHERE article_key IN (
                   SELECT a FROM candidates WHERE run_id = $run UNION SELECT b FROM candidates WHERE run_id = $run)""",
            {"run": run_id},
        )

    def _holders(self, keys: str, params: Any) -> dict[int, Holders]:
        """The flips of the sentence keys the query `keys` selects: their holders read
        here, one row per (key, article) with the article's smallest context, the flips
        computed in numpy (`templates.holders_of_columns`)."""
        columns = self.con.execute(
            f"""
            WITH common AS (
                SELECT sentence_key FROM sentences WHERE sentence_key IN ({keys})
                GROUP BY sentence_key HAVING count(DISTINCT article_key) >= {int(MIN_ARTICLES)})
            SELECT sentence_key AS k, article_key AS a, min(context_key) AS c FROM sentences
            WHERE sentence_key IN (SELECT sentence_key FROM common) GROUP BY ALL
            """,
            params,
        ).fetchnumpy()
        return holders_of_columns(columns["k"], columns["a"], columns["c"])

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

    def nodes(self, keys: Sequence[int]) -> dict[int, Node]:
        """What ordering who came first needs of articles (`cluster.Node`), by key."""
        if not keys:
            return {}
        with self._registered("_node_keys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                "SELECT a.article_key, a.published_utc, a.wire FROM articles a JOIN _node_keys USING (article_key)"
            ).fetchall()
        return {int(k): Node(int(k), p, w) for k, p, w in rows}

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

    def reuse_pairs_of_run(self, run_id: int) -> list[tuple[int, int]]:
        """The pairs verified in `run_id` that are reuse (any relation but `none`)."""
        rows = self.con.execute(
            "SELECT a, b FROM pairs WHERE run_id = ? AND relation <> 'none' ORDER BY a, b", [run_id]
        ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def traced_among(self, keys: Sequence[int]) -> set[int]:
        """Those of `keys` whose paragraph provenance has been traced (they have reuse rows)."""
        if not keys:
            return set()
        with self._registered("_traced_keys", {"k": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                "SELECT DISTINCT article_key FROM reuse WHERE article_key IN (SELECT k FROM _traced_keys)"
            ).fetchall()
        return {int(k) for (k,) in rows}

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
        return rows  # DuckDB's ints and strs already

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
        paragraphs = {key: [row[1:] for row in rows] for key, rows in groupby(paras, key=itemgetter(0))}
        sentences = {key: [row[1:] for row in rows] for key, rows in groupby(sents, key=itemgetter(0))}
        return paragraphs, sentences

    def replace_reuse(self, keys: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        if keys:
            with self._registered("_reuse_keys", {"k": np.asarray(sorted(set(keys)), dtype=np.int64)}):
                self.con.execute("DELETE FROM reuse WHERE article_key IN (SELECT k FROM _reuse_keys)")
        self._append("reuse", rows)

    def describe_articles(self, keys: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Ref, outlet and wire of articles, by key."""
        if not keys:
            return {}
        with self._registered("_dkeys", {"article_key": np.asarray(sorted(set(keys)), dtype=np.int64)}):
            rows = self.con.execute(
                f"SELECT a.article_key, {_REF.format(t='a')}, a.outlet, a.wire FROM articles a JOIN _dkeys USING (article_key)"
            ).fetchall()
        return {int(k): {"ref": r, "outlet": o, "wire": w} for k, r, o, w in rows}
