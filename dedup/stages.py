"""What both engines run, engine-neutral and pure but for the embedder they are given:
the verification of a batch of candidate pairs (`judge_pairs`) and its settings.

`dedup.pipeline` (the local engine) calls it over a run's candidates read from the store;
`dedup.engines.spark` calls it per partition. A rule changed here changes both, so the
Spark engine's tables stay equal to the local engine's, table for table.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dedup.align import AlignConfig
from dedup.embed import DIMENSIONS
from dedup.minhash import containment_many, jaccard_many
from dedup.score import ScoreConfig, SideText, finish_comparison, lexical_alignment, sentences_to_embed
from dedup.templates import Holders


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    align: AlignConfig = field(default_factory=AlignConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    device: str = "cpu"
    """Where the embedding model runs: cpu or cuda."""
    embed: bool = True
    """False: lexical alignment only (no model, no paraphrases)."""


def judge_pairs(
    pairs: list[tuple[int, int]],
    sides: dict[int, SideText],
    rank: dict[int, tuple[bool, float, bool, int]],
    options: VerifyOptions,
    encode: Callable[[list[str]], np.ndarray],
    run_id: int,
    holders: Mapping[int, Holders] | None = None,
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int], int, int]:
    """Verdicts for candidate pairs (pure but for `encode`): the rows of `pairs` and
    `alignments`, counts per relation, sentences compared, distinct sentences embedded.

    Both engines call this: the local one over a run's candidates, Spark per partition.
    Three passes so that the model sees one batch: lexical alignment of every pair, one
    `encode` of every distinct open sentence of the anchored pairs, then paraphrase
    matching and scoring. `rank` (from `cluster.origin_rank`) says which side came first.
    `holders` (`Store.template_holders`) marks each pair's template sentences as of its
    later article.
    """
    cutoff = {(a, b): max(a, b) for a, b in pairs}
    marked = {
        pair: (
            sides[pair[0]].with_templates(holders or {}, c),
            sides[pair[1]].with_templates(holders or {}, c),
        )
        for pair, c in cutoff.items()
    }
    lexical = [lexical_alignment(*marked[a, b], options.align) for a, b in pairs]
    wanted = [
        sentences_to_embed(al, *marked[a, b], options.align, options.score) if options.embed else ([], [])
        for al, (a, b) in zip(lexical, pairs, strict=True)
    ]
    distinct: dict[str, int] = {}
    for (open_a, open_b), (a, b) in zip(wanted, pairs, strict=True):
        for i in open_a:
            distinct.setdefault(sides[a].sentences[i], len(distinct))
        for j in open_b:
            distinct.setdefault(sides[b].sentences[j], len(distinct))
    vectors = encode(list(distinct)) if distinct else np.zeros((0, DIMENSIONS), dtype=np.float32)
    rows: list[tuple[object, ...]] = []
    alignment_rows: list[tuple[object, ...]] = []
    counts = dict.fromkeys(("duplicate", "rewrite", "partial", "none"), 0)
    sentences = 0
    for al, (open_a, open_b), (a, b) in zip(lexical, wanted, pairs, strict=True):
        sa, sb = marked[a, b]
        va = vectors[[distinct[sa.sentences[i]] for i in open_a]] if open_a else None
        vb = vectors[[distinct[sb.sentences[j]] for j in open_b]] if open_b else None
        result = finish_comparison(al, sa, sb, va, vb, options.align, options.score)
        later_containment = result.containment_b if rank[a] < rank[b] else result.containment_a
        if result.relation == "rewrite" and later_containment < options.score.rewrite_containment:
            # The earlier article is the one contained: the later one took it whole and added
            # other material, so the later one is a partial copy, not a rewrite (and with no
            # text shared word for word, paraphrase alone, no reuse at all).
            lexical_enough = result.shares.get("lexical_chars", 0.0) >= options.score.partial_min_chars
            result = dataclasses.replace(result, relation="partial" if lexical_enough else "none")
        counts[result.relation] += 1
        sentences += len(sa.sentences) + len(sb.sentences)
        rows.append(
            (a, b, result.relation, result.score, result.containment_a, result.containment_b,
             json.dumps(result.shares, sort_keys=True), run_id)
        )  # fmt: skip
        if result.relation != "none":
            for x in result.alignments:
                edits = (
                    json.dumps([[e.op, e.a_start, e.a_end, e.b_start, e.b_end] for e in x.edits])
                    if x.edits
                    else "[]"
                )
                alignment_rows.append((a, b, x.a_index, x.b_index, x.kind, x.score, edits))
    return rows, alignment_rows, counts, sentences, len(distinct)


# -- candidates: one query template, rendered for DuckDB and for Spark SQL -----------------


@dataclass(frozen=True, slots=True)
class CandidateQueries:
    """The candidate search of both engines, as SQL over the relations `new_keys`
    (article_key: the articles being indexed), `signatures`, `doc_bands`, `passage_bands`
    and `articles` (every stored article, old and new). Run in order: `doc_hits` and
    `passage_hits` into relations of those names, then `hot(kind, hits)` and `pairs`.

    The rule (`Store.find_candidates`): in each bucket the first `max_bucket` articles by
    key pair with each other; a later arrival pairs with none and its bucket is recorded as
    hot; identical texts past the cap still pair with the first of their group. It depends
    on key order only, so one run or many, one engine or the other, give the same pairs.
    """

    doc_hits: str
    passage_hits: str
    pairs: str
    hot_template: str

    def hot(self, kind: str, hits: str) -> str:
        return self.hot_template.format(kind=kind, hits=hits)


# Only buckets with two rows or more are ranked (in a fresh index ~95% of the passage
# buckets hold one paragraph: they can pair with nothing and are never hot). Two ways to
# find them, with the same result: join the stored bands to the buckets the new articles
# touch (an increment: a small build side), or group every stored band (a first load,
# where the new articles touch nearly every bucket: one pass instead of three).
_SHARED_TOUCHED = """
    touched AS (SELECT DISTINCT band, key FROM {bands} WHERE article_key IN (SELECT article_key FROM new_keys)),
    shared AS (
        SELECT d.band, d.key FROM {bands} d JOIN touched USING (band, key)
        GROUP BY d.band, d.key HAVING count(*) > 1)"""
_SHARED_ALL = """
    shared AS (
        SELECT band, key FROM {bands} GROUP BY band, key
        HAVING count(*) > 1 AND max(CASE WHEN article_key IN (SELECT article_key FROM new_keys) THEN 1 ELSE 0 END) = 1)"""
_RANKED = """
    m AS (
        SELECT d.article_key,{paragraph} d.band, d.key,
               dense_rank() OVER (PARTITION BY d.band, d.key ORDER BY d.article_key) AS rank
        FROM {bands} d JOIN shared USING (band, key))
    SELECT n.band, n.key, n.rank, o.article_key AS a,{o_paragraph} n.article_key AS b{n_paragraph}
    FROM m n LEFT JOIN m o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
    WHERE n.article_key IN (SELECT article_key FROM new_keys)
"""

_PAIRS = """
    WITH exact AS (
        SELECT s.article_key, s.exact_hash,
               dense_rank() OVER (PARTITION BY s.exact_hash ORDER BY s.article_key) AS rank
        FROM signatures s
        WHERE s.exact_hash IN (
            SELECT exact_hash FROM signatures
            WHERE article_key IN (SELECT article_key FROM new_keys) AND exact_hash <> 0)
    ),
    exact_pairs AS (
        SELECT o.article_key AS a, n.article_key AS b FROM exact n
        JOIN exact o ON o.exact_hash = n.exact_hash AND o.article_key < n.article_key
        WHERE n.article_key IN (SELECT article_key FROM new_keys) AND (n.rank <= {cap} OR o.rank = 1)
    ),
    doc_pairs AS (SELECT DISTINCT a, b FROM doc_hits WHERE a IS NOT NULL AND rank <= {cap}),
    passage_pairs AS (
        SELECT a, b, {count_paragraph_pairs} AS n FROM passage_hits
        WHERE a IS NOT NULL AND rank <= {cap} GROUP BY a, b
    ),
    pairs AS (
        SELECT a, b, bool_or(e) AS via_exact, bool_or(d) AS via_document, bool_or(p) AS via_passage,
               max(n) AS passage_pairs
        FROM (
            SELECT a, b, true AS e, false AS d, false AS p, {zero} AS n FROM exact_pairs
            UNION ALL SELECT a, b, false, true, false, {zero} FROM doc_pairs
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
"""

_DIALECTS = {
    "duckdb": {"epoch": "epoch", "count_paragraph_pairs": "count(DISTINCT (a_paragraph, b_paragraph))", "zero": "0"},
    "spark": {"epoch": "unix_timestamp", "count_paragraph_pairs": "count(DISTINCT a_paragraph, b_paragraph)",
              "zero": "0L"},
}  # fmt: skip


def candidate_queries(
    dialect: str, max_bucket: int, window_days: float | None, *, first_load: bool = False
) -> CandidateQueries:
    """`CandidateQueries` for `dialect` ("duckdb" or "spark"); `first_load` when the new
    articles are most of the index (the same rows, found by grouping every band).

    >>> q = candidate_queries("spark", 3, None)
    >>> "count(DISTINCT a_paragraph, b_paragraph)" in q.pairs and "rank <= 3" in q.pairs
    True
    """
    words = _DIALECTS[dialect]
    cap = int(max_bucket)
    hits = ("\n    WITH" + (_SHARED_ALL if first_load else _SHARED_TOUCHED) + "," + _RANKED).format
    window = ""
    if window_days is not None:
        epoch = words["epoch"]
        window = (
            "AND (x.published_utc IS NULL OR y.published_utc IS NULL OR "
            f"abs({epoch}(x.published_utc) - {epoch}(y.published_utc)) <= {float(window_days) * 86400.0})"
        )
    return CandidateQueries(
        doc_hits=hits(bands="doc_bands", paragraph="", o_paragraph="", n_paragraph=""),
        passage_hits=hits(
            bands="passage_bands",
            paragraph=" d.paragraph,",
            o_paragraph=" o.paragraph AS a_paragraph,",
            n_paragraph=", n.paragraph AS b_paragraph",
        ),
        pairs=_PAIRS.format(
            cap=cap, window=window, count_paragraph_pairs=words["count_paragraph_pairs"], zero=words["zero"]
        ),
        hot_template=f"SELECT '{{kind}}' AS kind, band, key, max(rank) AS members FROM {{hits}} WHERE rank > {cap} GROUP BY band, key",
    )


def estimates(
    sig_a: np.ndarray, sig_b: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, via_exact: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Jaccard, containment of a in b, of b in a) of candidate pairs, from their MinHash
    signatures and distinct shingle counts; exact copies (same folded text) are certain,
    whatever the sampled estimate says."""
    jac = jaccard_many(sig_a, sig_b)
    ca, cb = containment_many(jac, size_a, size_b), containment_many(jac, size_b, size_a)
    exact = np.asarray(via_exact, dtype=bool)
    return np.where(exact, 1.0, jac), np.where(exact, 1.0, ca), np.where(exact, 1.0, cb)
