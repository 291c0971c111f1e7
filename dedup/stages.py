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
from dedup.model import Alignment
from dedup.score import (
    NOTHING_OPEN,
    OpenSentences,
    ScoreConfig,
    SideText,
    finish_comparison,
    lexical_alignment,
    sentences_to_embed,
)
from dedup.templates import Holders


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    align: AlignConfig = field(default_factory=AlignConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    device: str = "cpu"
    """Where the embedding model runs: cpu or cuda."""
    embed: bool = True
    """False: lexical alignment only (no model, no paraphrases)."""


Judged = tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int], int, int]
"""What `judge_pairs` returns: pairs rows, alignment rows, counts, sentences, embedded."""


@dataclass(frozen=True, slots=True)
class Aligned:
    """The lexical half of `judge_pairs` for some pairs: each pair's lexical alignment and
    the open sentences worth embedding (`sentences_to_embed`), and the distinct texts of
    those, in the order `encode` is to see them."""

    lexical: list[list[Alignment]]
    wanted: list[OpenSentences]
    distinct: dict[str, int]


def _marked(
    pairs: list[tuple[int, int]], sides: Mapping[int, SideText], holders: Mapping[int, Holders] | None
) -> dict[tuple[int, int], tuple[SideText, SideText]]:
    """Each pair's sides with their templates marked as of its later article."""
    return {
        (a, b): (
            sides[a].with_templates(holders or {}, max(a, b)),
            sides[b].with_templates(holders or {}, max(a, b)),
        )
        for a, b in pairs
    }


def align_pairs(
    pairs: list[tuple[int, int]],
    sides: Mapping[int, SideText],
    options: VerifyOptions,
    holders: Mapping[int, Holders] | None = None,
) -> Aligned:
    """Passes 1 and 2 of `judge_pairs` (pure, no model): what `encode` must see."""
    marked = _marked(pairs, sides, holders)
    lexical = [lexical_alignment(*marked[a, b], options.align) for a, b in pairs]
    wanted = [
        sentences_to_embed(al, *marked[a, b], options.align, options.score) if options.embed else NOTHING_OPEN
        for al, (a, b) in zip(lexical, pairs, strict=True)
    ]
    distinct: dict[str, int] = {}
    for opened, (a, b) in zip(wanted, pairs, strict=True):
        for i in opened.embed_a:
            distinct.setdefault(sides[a].sentences[i], len(distinct))
        for j in opened.embed_b:
            distinct.setdefault(sides[b].sentences[j], len(distinct))
    return Aligned(lexical, wanted, distinct)


def finish_pairs(
    pairs: list[tuple[int, int]],
    sides: Mapping[int, SideText],
    rank: Mapping[int, tuple[bool, float, bool, int]],
    options: VerifyOptions,
    aligned: Aligned,
    vectors: np.ndarray,
    run_id: int,
    holders: Mapping[int, Holders] | None = None,
) -> Judged:
    """Pass 3 of `judge_pairs` (pure): given the vectors of `aligned.distinct`, in order,
    paraphrase matching and scoring, the rows to store."""
    marked = _marked(pairs, sides, holders)
    rows: list[tuple[object, ...]] = []
    alignment_rows: list[tuple[object, ...]] = []
    counts = dict.fromkeys(("duplicate", "rewrite", "partial", "none"), 0)
    sentences = 0
    distinct = aligned.distinct
    for al, opened, (a, b) in zip(aligned.lexical, aligned.wanted, pairs, strict=True):
        sa, sb = marked[a, b]
        embed_a, embed_b = opened.embed_a, opened.embed_b
        va = vectors[[distinct[sa.sentences[i]] for i in embed_a]] if embed_a else None
        vb = vectors[[distinct[sb.sentences[j]] for j in embed_b]] if embed_b else None
        result = finish_comparison(al, sa, sb, opened, va, vb, options.align, options.score)
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


def judge_pairs(
    pairs: list[tuple[int, int]],
    sides: Mapping[int, SideText],
    rank: Mapping[int, tuple[bool, float, bool, int]],
    options: VerifyOptions,
    encode: Callable[[list[str]], np.ndarray],
    run_id: int,
    holders: Mapping[int, Holders] | None = None,
) -> Judged:
    """Verdicts for candidate pairs (pure but for `encode`): the rows of `pairs` and
    `alignments`, counts per relation, sentences compared, distinct sentences embedded.

    Both engines call this: the local one over a run's candidates, Spark per partition.
    Three passes so that the model sees one batch: lexical alignment of every pair, one
    `encode` of every distinct open sentence of the anchored pairs (`align_pairs`), then
    paraphrase matching and scoring (`finish_pairs`); the local engine runs the two pure
    halves in its process pool and only `encode` in its own process. `rank` (from
    `cluster.origin_rank`) says which side came first. `holders`
    (`Store.template_holders`) marks each pair's template sentences as of its later article.
    """
    aligned = align_pairs(pairs, sides, options, holders)
    vectors = (
        encode(list(aligned.distinct)) if aligned.distinct else np.zeros((0, DIMENSIONS), dtype=np.float32)
    )
    return finish_pairs(pairs, sides, rank, options, aligned, vectors, run_id, holders)


# -- candidates: one query template, rendered for DuckDB and for Spark SQL -----------------


@dataclass(frozen=True, slots=True)
class CandidateQueries:
    """The candidate search of both engines, as SQL over the relations `new_keys`
    (article_key: the articles being indexed), `signatures`, `doc_bands`, `passage_bands`
    and `articles` (every stored article, old and new). Run in order: `relations()` into
    relations of their names (`doc_rows` and `passage_rows`, on an increment only, then
    `doc_shared`, `passage_shared`, `doc_links` and `passage_links`), then `hot` and
    `pairs`.

    The rule (`Store.find_candidates`): in each bucket the first `max_bucket` articles by
    key pair with each other; a later arrival pairs with none and its bucket is recorded as
    hot; identical texts past the cap still pair with the first of their group. It depends
    on key order only, so one run or many, one engine or the other, give the same pairs.

    The `*_rows` are the band rows, stored and new, of the buckets a new article is in
    (on a first load, the band tables themselves). The `*_shared` relations are the
    buckets of two rows or more that a new article is in, with their number of rows (only
    those with more than the cap can be hot). The links are distinct: one row per pair of
    articles (`doc_links`: a, b) or of paragraphs (`passage_links`: a, a_paragraph, b,
    b_paragraph) that share a bucket, not one per shared bucket: a paragraph pair collides
    in many bands, and a row per bucket made 14x the rows, which the local engine keeps in
    memory until the run commits (358 MB at 100,000 articles, 19 MB as links).
    """

    doc_rows: str
    passage_rows: str
    doc_shared: str
    passage_shared: str
    doc_links: str
    passage_links: str
    hot: str
    pairs: str

    def relations(self) -> tuple[tuple[str, str], ...]:
        """(name, query) of the relations to make first, in order (no `*_rows` on a first
        load: their queries are empty)."""
        names = ("doc_rows", "passage_rows", "doc_shared", "passage_shared", "doc_links", "passage_links")
        return tuple((n, query) for n in names if (query := getattr(self, n)))


# In a fresh index ~95% of the passage buckets hold one paragraph: they can pair with
# nothing and are never hot. Two ways to find the others, with the same result. On an
# increment, the stored rows of the buckets the new articles touch are gathered once
# (`*_rows`: one scan of the band table, whose rows are ~1% of it) and the rest reads
# only them; a join for each use read the whole band table four times (a day on a million
# articles: 4.5 s to 1.75 s). On a first load the new articles touch nearly every
# bucket, so the rows are the band table itself, and its buckets are found by grouping
# every band once.
_TOUCHED_ROWS = """
    WITH touched AS (SELECT DISTINCT band, key FROM {bands} WHERE article_key IN (SELECT article_key FROM new_keys))
    SELECT d.article_key,{paragraph} d.band, d.key FROM {bands} d JOIN touched USING (band, key)"""
_SHARED_TOUCHED = """
    SELECT band, key, count(*) AS bucket_rows FROM {rows} GROUP BY band, key HAVING count(*) > 1"""
_SHARED_ALL = """
    SELECT band, key, count(*) AS bucket_rows FROM {rows} GROUP BY band, key
    HAVING count(*) > 1 AND max(CASE WHEN article_key IN (SELECT article_key FROM new_keys) THEN 1 ELSE 0 END) = 1"""
_RANKED = """
        SELECT d.article_key,{paragraph} d.band, d.key,
               dense_rank() OVER (PARTITION BY d.band, d.key ORDER BY d.article_key) AS rank
        FROM {rows} d JOIN {shared} s USING (band, key) WHERE s.bucket_rows > {cap}"""
# A bucket of no more rows than the cap has all its articles within the cap: its members
# need no rank (the window over every shared row was 40% of the links' time).
_MEMBERS = (
    """
    WITH m AS (
        SELECT d.article_key,{paragraph} d.band, d.key, 0 AS rank
        FROM {rows} d JOIN {shared} s USING (band, key) WHERE s.bucket_rows <= {cap}
        UNION ALL"""
    + _RANKED
    + ")"
)
_LINKS = """
    SELECT DISTINCT o.article_key AS a,{o_paragraph} n.article_key AS b{n_paragraph}
    FROM m n JOIN m o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
    WHERE n.article_key IN (SELECT article_key FROM new_keys) AND n.rank <= {cap}"""
_HOT = """
    SELECT '{kind}' AS kind, band, key, max(rank) AS members FROM m
    WHERE article_key IN (SELECT article_key FROM new_keys) AND rank > {cap} GROUP BY band, key"""

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
    passage_pairs AS (SELECT a, b, count(*) AS n FROM passage_links GROUP BY a, b),
    pairs AS (
        SELECT a, b, bool_or(e) AS via_exact, bool_or(d) AS via_document, bool_or(p) AS via_passage,
               max(n) AS passage_pairs
        FROM (
            SELECT a, b, true AS e, false AS d, false AS p, {zero} AS n FROM exact_pairs
            UNION ALL SELECT a, b, false, true, false, {zero} FROM doc_links
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

_DIALECTS = {"duckdb": {"epoch": "epoch", "zero": "0"}, "spark": {"epoch": "unix_timestamp", "zero": "0L"}}


def candidate_queries(
    dialect: str, max_bucket: int, window_days: float | None, *, first_load: bool = False
) -> CandidateQueries:
    """`CandidateQueries` for `dialect` ("duckdb" or "spark"); `first_load` when the new
    articles are most of the index (the same rows, found by grouping every band).

    >>> q = candidate_queries("spark", 3, None)
    >>> "FROM passage_links GROUP BY a, b" in q.pairs and "rank <= 3" in q.passage_links
    True
    """
    words = _DIALECTS[dialect]
    cap = int(max_bucket)
    shared = _SHARED_ALL if first_load else _SHARED_TOUCHED
    window = ""
    if window_days is not None:
        epoch = words["epoch"]
        window = (
            "AND (x.published_utc IS NULL OR y.published_utc IS NULL OR "
            f"abs({epoch}(x.published_utc) - {epoch}(y.published_utc)) <= {float(window_days) * 86400.0})"
        )
    doc = {"bands": "doc_bands", "rows": "doc_rows", "shared": "doc_shared", "paragraph": ""}
    passage = {
        "bands": "passage_bands",
        "rows": "passage_rows",
        "shared": "passage_shared",
        "paragraph": " d.paragraph,",
    }
    if first_load:
        doc["rows"], passage["rows"] = doc["bands"], passage["bands"]
    hot = (
        f"SELECT * FROM (WITH m AS ({_RANKED.format(**bands, cap=cap)}){_HOT.format(kind=kind, cap=cap)})"
        for kind, bands in (("document", doc), ("passage", passage))
    )
    return CandidateQueries(
        doc_rows="" if first_load else _TOUCHED_ROWS.format(**doc),
        passage_rows="" if first_load else _TOUCHED_ROWS.format(**passage),
        doc_shared=shared.format(rows=doc["rows"]),
        passage_shared=shared.format(rows=passage["rows"]),
        doc_links=_MEMBERS.format(**doc, cap=cap) + _LINKS.format(o_paragraph="", n_paragraph="", cap=cap),
        passage_links=_MEMBERS.format(**passage, cap=cap)
        + _LINKS.format(
            o_paragraph=" o.paragraph AS a_paragraph,", n_paragraph=", n.paragraph AS b_paragraph", cap=cap
        ),
        hot=" UNION ALL ".join(hot),
        pairs=_PAIRS.format(cap=cap, window=window, zero=words["zero"]),
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
