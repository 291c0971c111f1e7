"""The candidate index: fingerprints and band keys in, candidate pairs out (the joins
of new keys against stored ones), and the lede vectors of semantic candidates."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from dedup.errors import StoreError
from dedup.fingerprint import ArticleText, Fingerprints
from dedup.minhash import EMPTY
from dedup.model import utc_naive
from dedup.stages import candidate_queries
from dedup.store.db import CandidateRows, Database


class IndexStore(Database):
    """What `pipeline` reads and writes to find candidates (see docs/candidates.md)."""

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

    def unindexed_texts(self, limit: int, after: int = -1) -> list[ArticleText]:
        """Up to `limit` stored articles that have no fingerprints yet, oldest first, with
        keys above `after` (the last key of the batch before: the next batch can be read
        before that one's fingerprints are stored).

        The anti-join reads keys only; bodies are read for the keys it found (a million
        stored bodies are not scanned to fingerprint a day's increment)."""
        keys = self.con.execute(
            "SELECT article_key FROM articles ANTI JOIN signatures USING (article_key)"
            " WHERE article_key > ? ORDER BY article_key LIMIT ?",
            [after, limit],
        ).fetchall()
        if not keys:
            return []
        with self._registered("_pending", {"article_key": np.array([k for (k,) in keys], dtype=np.int64)}):
            bodies = self.con.execute(
                "SELECT a.article_key, a.body FROM articles a JOIN _pending USING (article_key)"
                " WHERE a.article_key BETWEEN ? AND ? ORDER BY a.article_key",
                [keys[0][0], keys[-1][0]],
            ).fetchall()
        cols = self.con.execute(
            """
            SELECT article_key, paragraph, start_char, end_char, role FROM paragraphs
            WHERE article_key BETWEEN ? AND ? ORDER BY article_key, paragraph
            """,
            [bodies[0][0], bodies[-1][0]],
        ).fetchnumpy()  # columns, then one zip: a third faster than a tuple per row from DuckDB
        owner = cols["article_key"]
        cuts = (np.flatnonzero(np.diff(owner)) + 1).tolist()
        rows = list(
            zip(
                cols["paragraph"].tolist(),
                cols["start_char"].tolist(),
                cols["end_char"].tolist(),
                cols["role"].tolist(),
                strict=True,
            )
        )
        by_key: dict[int, tuple[tuple[int, int, int, str], ...]] = {}
        if rows:
            starts, ends = [0, *cuts], [*cuts, len(rows)]
            keys_of = owner[starts].tolist()
            by_key = {key: tuple(rows[lo:hi]) for key, lo, hi in zip(keys_of, starts, ends, strict=True)}
        return [(int(key), body, by_key.get(key, ())) for key, body in bodies]

    ADOPTED_TABLES = ("candidates", "hot_buckets", "article_vectors")
    """What a run's candidate stage writes under its run id (with `runs.stats.committed`)."""

    def adopt_unfinished(self, run_id: int) -> dict[str, int]:
        """Make `run_id` finish what killed runs committed and left unfinished.

        An ingest commits its fingerprints a batch at a time, then its candidates (marked
        `committed: candidates`, `Database.mark_run`), then verification, clusters and the
        end of the run together. Of a run killed in between (status `interrupted`), the
        signatures of one killed before its candidates were committed, or the candidates
        (and hot buckets and lede vectors) of one killed after, are relabelled `run_id`:
        this run then finds their candidates, or verifies them, as the killed run would
        have, and the database ends as one uninterrupted run leaves it. Rows moved, by table.
        """
        con = self.con
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _unfinished AS
            SELECT run_id, coalesce(json_extract_string(stats, '$.committed'), '') = 'candidates' AS found
            FROM runs WHERE status = 'interrupted' AND run_id <> ?
            """,
            [run_id],
        )
        moved = {}
        for table, found in (("signatures", False), *((t, True) for t in self.ADOPTED_TABLES)):
            (n,) = con.execute(
                f"UPDATE {table} SET run_id = ? WHERE run_id IN (SELECT run_id FROM _unfinished WHERE found = ?)",
                [run_id, found],
            ).fetchall()[0]
            moved[table] = int(n)
        con.execute("DROP TABLE _unfinished")
        return moved

    def find_candidates(self, run_id: int, max_bucket: int, window_days: float | None) -> CandidateRows:
        """Pairs (a < b) where b was fingerprinted in `run_id` and shares an exact hash or an
        LSH bucket with a.

        In every bucket only the first `max_bucket` articles (by key) pair with each other;
        a later arrival is left out and its bucket recorded in `hot_buckets`. The rule
        depends only on key order, so indexing in several runs gives the same pairs as one.
        Identical articles past the cap still pair with the first of their group. The SQL is
        `dedup.stages.candidate_queries`, which the Spark engine runs too.
        """
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE new_keys AS SELECT article_key FROM signatures WHERE run_id = ?",
            [run_id],
        )
        new, stored = con.execute(
            "SELECT (SELECT count(*) FROM new_keys), count(*) FROM signatures"
        ).fetchall()[0]
        queries = candidate_queries("duckdb", max_bucket, window_days, first_load=2 * new >= stored)
        for name, query in queries.relations():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")
        con.execute(f"INSERT INTO hot_buckets SELECT ?, * FROM ({queries.hot})", [run_id])
        return con.execute(queries.pairs).fetchall()

    def candidate_passage_pairs(self, run_id: int) -> None:
        """Keep the colliding paragraph pairs of the candidates stored in `run_id`."""
        self.con.execute(
            """
            INSERT INTO candidate_passages
            SELECT h.a, h.b, h.a_paragraph, h.b_paragraph FROM passage_links h
            JOIN candidates c ON c.a = h.a AND c.b = h.b AND c.run_id = ?
            ORDER BY h.a, h.b, h.a_paragraph, h.b_paragraph
            """,
            [run_id],
        )

    def signatures_of(self, keys: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
        """(signatures, shingle counts) of articles, in the order of `keys`."""
        with self._registered("_keys", {"article_key": keys.astype(np.int64), "pos": np.arange(len(keys))}):
            rows = self.con.execute(
                "SELECT s.signature, s.shingles FROM _keys k JOIN signatures s USING (article_key) ORDER BY k.pos"
            ).fetchall()
        if len(rows) != len(keys):
            raise StoreError("some candidate articles have no signature")
        empty = np.full(num_perm, EMPTY, dtype=np.uint32).tobytes()  # no shingles
        sigs = np.frombuffer(b"".join(r[0] or empty for r in rows), dtype=np.uint32).reshape(
            len(rows), num_perm
        )
        return sigs, np.array([r[1] for r in rows], dtype=np.int64)

    def add_candidates(self, columns: dict[str, np.ndarray]) -> None:
        self._insert_arrays("candidates", columns)

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

    PRUNED_TABLES = ("doc_bands", "passage_bands", "passages", "article_vectors")
    """What only candidate search needs: dropped for articles out of the window by `prune`."""

    def newest_published(self) -> datetime | None:
        """The latest publication time stored (UTC): the feed's own clock, for `--keep-days`."""
        value = self.con.execute("SELECT max(published_utc) FROM articles").fetchall()[0][0]
        return value if isinstance(value, datetime) else None

    def prune_index(self, before: datetime) -> dict[str, int]:
        """Take the articles published before `before` (undated ones: ingested before it)
        out of candidate search: their band keys, passage hashes and lede vectors are
        deleted and their signature and exact hash cleared, so no later article is paired
        with them; everything already found about them (pairs, alignments, clusters,
        provenance, the texts) stays. The row in `signatures` stays, marking them as
        indexed, so they are never fingerprinted again. Rows deleted per table, and
        `articles` (how many left the index)."""
        con = self.con
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _pruned AS
            SELECT a.article_key FROM articles a
            JOIN signatures s USING (article_key) LEFT JOIN runs r ON r.run_id = a.run_id
            WHERE coalesce(a.published_utc, r.started_at) < ? AND (s.exact_hash <> 0 OR s.signature IS NOT NULL)
            """,
            [utc_naive(before)],
        )
        counts = {"articles": int(con.execute("SELECT count(*) FROM _pruned").fetchall()[0][0])}
        for table in self.PRUNED_TABLES:
            before_rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            con.execute(f"DELETE FROM {table} WHERE article_key IN (SELECT article_key FROM _pruned)")
            counts[table] = before_rows - int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        con.execute(
            "UPDATE signatures SET signature = NULL, exact_hash = 0 WHERE article_key IN (SELECT article_key FROM _pruned)"
        )
        con.execute("DROP TABLE _pruned")
        return counts
