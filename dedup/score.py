"""Scoring a sentence alignment: containment both ways, shares by kind, a relation, a score.

Relations follow METER (wholly / partially / non-derived) and NEWS-COPY ("same source
article", not "same event"):

- `duplicate`: both sides almost entirely aligned, almost all of it verbatim;
- `rewrite`: one side is mostly made of the other (trimmed, re-ledded, edited reprints);
  in the pipeline, where dates are known, the *later* article must be the one derived
  (`pipeline.verify_run`), otherwise it is `partial`;
- `partial`: some passages are shared, the rest is other material;
- `none`: anything else -- in particular two independent reports of one event, whose
  sentences may paraphrase each other but share no sentence lexically.

Paraphrase alignments add to the coverage of a pair that already shares sentences
lexically; a pair linked by paraphrase alone is `none`. The score grades the whole range
(unrelated near 0, verbatim copies at 1) so that it ranks pairs below the thresholds too.
Thresholds and how they were chosen: `docs/scoring.md`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup.align import AlignConfig, align_paraphrases, align_sentences, open_sentences
from dedup.embed import Embedder
from dedup.model import Alignment, Article, Comparison, Relation
from dedup.normalize import fold
from dedup.segment import find_dateline

KIND_WEIGHT = {"verbatim": 1.0, "edited": 0.9, "paraphrase": 0.7}


@dataclass(frozen=True, slots=True)
class ScoreConfig:
    duplicate_containment: float = 0.9
    duplicate_verbatim: float = 0.8
    rewrite_containment: float = 0.6
    """The derived side must be at least this share aligned to the other."""
    min_lexical_share: float = 0.15
    """...of which at least this share verbatim or edited (paraphrase alone is not reuse)."""
    partial_min_chars: int = 100
    """A rewrite or partial pair shares at least this many characters verbatim or edited:
    below that, short notices built on one template ("Qtly div 25 cts vs 25 cts prior")
    would read as copies of each other."""


@dataclass(frozen=True, slots=True)
class SideText:
    """One article's sentences as the comparison needs them."""

    sentences: tuple[str, ...]
    countable: tuple[bool, ...]
    """False for sentences in boilerplate or credit paragraphs: shown, never counted."""

    @classmethod
    def of(cls, article: Article) -> SideText:
        roles = {p.index: p.role for p in article.paragraphs}
        return cls(
            tuple(article.text_of(s) for s in article.sentences),
            tuple(roles.get(s.paragraph) == "body" for s in article.sentences),
        )


def _shares(alignments: Sequence[Alignment], side: SideText, which: str) -> dict[str, float]:
    lengths = np.array([len(s) for s in side.sentences], dtype=np.float64)
    total = float(lengths[np.array(side.countable, dtype=bool)].sum()) if len(lengths) else 0.0
    out = dict.fromkeys(KIND_WEIGHT, 0.0)
    if total == 0:
        return out
    for x in alignments:
        index = x.a_index if which == "a" else x.b_index
        if x.kind in out and index is not None and side.countable[index]:
            out[x.kind] += float(lengths[index]) / total
    return {k: min(1.0, float(v)) for k, v in out.items()}


def score_alignment(
    alignments: Sequence[Alignment], a: SideText, b: SideText, config: ScoreConfig = ScoreConfig()
) -> Comparison:
    """Containment, shares by kind, relation and score of an alignment (pure)."""
    sa, sb = _shares(alignments, a, "a"), _shares(alignments, b, "b")
    cont_a, cont_b = sum(sa.values()), sum(sb.values())
    cov_a = sum(KIND_WEIGHT[k] * v for k, v in sa.items())
    cov_b = sum(KIND_WEIGHT[k] * v for k, v in sb.items())
    score = 0.7 * max(cov_a, cov_b) + 0.3 * min(cov_a, cov_b)
    derived = sa if cont_a >= cont_b else sb
    lexical_chars = sum(
        len(a.sentences[x.a_index])
        for x in alignments
        if x.kind in ("verbatim", "edited") and x.a_index is not None and a.countable[x.a_index]
    )
    relation: Relation = "none"
    if (
        min(cont_a, cont_b) >= config.duplicate_containment
        and min(sa["verbatim"], sb["verbatim"]) >= config.duplicate_verbatim
    ):
        relation = "duplicate"
    elif (
        max(cont_a, cont_b) >= config.rewrite_containment
        and derived["verbatim"] + derived["edited"] >= config.min_lexical_share
        and lexical_chars >= config.partial_min_chars
    ):
        relation = "rewrite"
    elif lexical_chars >= config.partial_min_chars:
        relation = "partial"
    if relation != "duplicate" and same_words(a, b):
        # the same words (an exact-hash candidate) whatever the segmentation says
        relation, score, cont_a, cont_b = "duplicate", 1.0, 1.0, 1.0
    shares = {f"a_{k}": round(v, 4) for k, v in sa.items()} | {f"b_{k}": round(v, 4) for k, v in sb.items()}
    return Comparison(
        relation=relation,
        score=round(min(1.0, score), 4),
        containment_a=round(min(1.0, cont_a), 4),
        containment_b=round(min(1.0, cont_b), 4),
        alignments=tuple(alignments),
        shares=shares,
    )


def same_words(a: SideText, b: SideText) -> bool:
    """Whether two sides' countable text is the same folded words: what an equal exact
    hash says. Two copies of one story split into sentences differently (a stray blank
    line in one) are still duplicates."""

    def text(side: SideText) -> str:
        return " ".join(s for s, countable in zip(side.sentences, side.countable, strict=True) if countable)

    ta, tb = text(a), text(b)
    if not ta or abs(len(ta) - len(tb)) > 0.05 * max(len(ta), len(tb)) + 10:
        return False  # folding only drops case, accents and punctuation: lengths stay close
    return fold(ta) == fold(tb)


@functools.lru_cache(maxsize=1 << 17)
def _matching_form(sentence: str) -> str:
    """Folded, without a leading dateline: a reprint that drops "BALTIMORE —" is verbatim.

    Cached: an article is in a pair with each of its copies, and folding was a quarter of
    lexical verification."""
    dateline = find_dateline(sentence)
    return fold(sentence[len(dateline.text) :] if dateline else sentence)


def lexical_alignment(a: SideText, b: SideText, config: AlignConfig = AlignConfig()) -> list[Alignment]:
    """Step 1: verbatim and edited pairs."""
    return align_sentences(
        a.sentences,
        b.sentences,
        config,
        a_folded=[_matching_form(s) for s in a.sentences],
        b_folded=[_matching_form(s) for s in b.sentences],
    )


def sentences_to_embed(
    alignments: Sequence[Alignment], a: SideText, b: SideText, config: AlignConfig = AlignConfig()
) -> tuple[list[int], list[int]]:
    """Step 2: the open sentences worth embedding; none unless the pair shares a sentence.

    Embedding is the expensive step, and paraphrase alone never makes reuse (see the module
    docstring), so a candidate with no lexical anchor is settled without the model.
    """
    if not any(x.kind in ("verbatim", "edited") for x in alignments):
        return [], []
    open_a, open_b = open_sentences(alignments, a.sentences, b.sentences, config)
    return (open_a, open_b) if open_a and open_b else ([], [])


def finish_comparison(
    alignments: Sequence[Alignment],
    a: SideText,
    b: SideText,
    a_vectors: np.ndarray | None = None,
    b_vectors: np.ndarray | None = None,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """Step 3: paraphrase matches from the vectors of the open sentences, then the score."""
    if a_vectors is not None and b_vectors is not None and len(a_vectors) and len(b_vectors):
        alignments = align_paraphrases(
            alignments, a.sentences, b.sentences, a_vectors, b_vectors, align_config
        )
    return score_alignment(alignments, a, b, score_config)


def compare_sides(
    a: SideText,
    b: SideText,
    embedder: Embedder | None,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """Align lexically; embed what stays open (only if the pair shares a sentence at all)."""
    alignments = lexical_alignment(a, b, align_config)
    open_a, open_b = sentences_to_embed(alignments, a, b, align_config) if embedder else ([], [])
    if not open_a or embedder is None:
        return finish_comparison(alignments, a, b, None, None, align_config, score_config)
    vectors = embedder.encode([a.sentences[i] for i in open_a] + [b.sentences[j] for j in open_b])
    return finish_comparison(
        alignments, a, b, vectors[: len(open_a)], vectors[len(open_a) :], align_config, score_config
    )


def compare_articles(
    a: Article,
    b: Article,
    embedder: Embedder | None,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """`compare_sides` for two segmented articles."""
    return compare_sides(SideText.of(a), SideText.of(b), embedder, align_config, score_config)
