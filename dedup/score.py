"""Scoring a sentence alignment: containment both ways, shares by kind, a relation, a score.

Relations follow METER (wholly / partially / non-derived) and NEWS-COPY ("same source
article", not "same event"), and what the copier did:

- `duplicate`: the same sentences on both sides, the same words in them up to noise
  (OCR-like letter confusions, split or joined words count as the same words);
- `rewrite`: one side is derived from the other as a whole: mostly made of its sentences,
  trimmed, re-ledded or edited (a lexical rewrite), or rewritten sentence by sentence with
  new words, one to one, in order, at a high calibrated similarity (a paraphrase rewrite,
  which needs no verbatim sentence); in the pipeline, where dates are known, the *later*
  article must be the one derived (`pipeline.judge_pairs`);
- `partial`: some passages are shared word for word (or edited), the rest is other
  material; sentences that recur across many unrelated stories (templates) do not count;
- `none`: anything else -- in particular two independent reports of one event, whose
  sentences may retell each other's facts but do not follow each other sentence by
  sentence at a paraphrase's similarity.

Every aligned pair carries its calibrated similarity (`dedup.similarity`), and so does
every sentence left open whose similarity was computed, so that the score grades the whole
range, below the thresholds too. Thresholds and how they were chosen: `docs/scoring.md`.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz.distance import Levenshtein

from dedup.align import (
    AlignConfig,
    align_paraphrases,
    align_sentences,
    open_sentences,
    order_alignments,
    paraphrase_conflict,
)
from dedup.embed import Embedder
from dedup.model import Alignment, Article, Comparison, Relation
from dedup.normalize import fold
from dedup.segment import find_dateline
from dedup.similarity import (
    SentenceFacts,
    cosine_free_logits,
    cosine_reach,
    lexical_matrix,
    lexical_pairs,
    lexical_partners,
    sentence_facts,
    with_cosine,
)
from dedup.templates import Holders


@dataclass(frozen=True, slots=True)
class ScoreConfig:
    duplicate_containment: float = 0.9
    duplicate_verbatim: float = 0.8
    """Both sides' share in verbatim (or noise-only edited) sentences for a duplicate."""
    rewrite_containment: float = 0.6
    """The derived side must be at least this share aligned to the other."""
    min_lexical_share: float = 0.15
    """...of which at least this share verbatim or edited for a lexical rewrite."""
    partial_min_chars: int = 100
    """A lexical rewrite or partial pair shares at least this many characters verbatim or
    edited: below that, short notices built on one template ("Qtly div 25 cts vs 25 cts
    prior") would read as copies of each other."""
    paraphrase_min_sentences: int = 3
    """A paraphrase rewrite aligns at least this many sentences (all of a shorter article)."""
    paraphrase_order: float = 0.8
    """...of which at least this share in the order of both articles (a longest chain)."""
    paraphrase_similarity: float = 0.65
    """...and one side's characters, each weighted by the calibrated similarity of the
    sentence it aligns to, or of its best partner below the threshold (0 where the fact
    check refuses), average at least this: most of the article said again, sentence by
    sentence, not a few sentences retold."""
    partners_share_a_word: bool = True
    """An open sentence's best partner below the thresholds (which grades the score and the
    coverage above) must share a content word with it, unless the model embedded both:
    without one, the lexical similarity is the likeness of letters and grammar, not of what
    the sentences say (`similarity.lexical_partners`). False grades every pair of open
    sentences, as before 2026-12-05 (for `scripts/bench_open_grids.py` to compare)."""


@dataclass(frozen=True, slots=True)
class SideText:
    """One article's sentences as the comparison needs them."""

    sentences: tuple[str, ...]
    countable: tuple[bool, ...]
    """False for sentences in boilerplate or credit paragraphs: shown, never counted."""
    templates: frozenset[int] = frozenset()
    """Sentences that recur across many unrelated stories (`dedup.templates`): aligned
    and shown, but never evidence of reuse on their own."""
    keys: tuple[int, ...] = ()
    """The sentences' keys (`Sentence.key`), which `templates` is decided from."""

    def with_templates(self, holders: Mapping[int, Holders], cutoff: int) -> SideText:
        """This side with `templates` as of the articles stored up to `cutoff`."""
        marked = frozenset(
            i for i, key in enumerate(self.keys) if key in holders and holders[key].template_before(cutoff)
        )
        return self if marked == self.templates else dataclasses.replace(self, templates=marked)

    @classmethod
    def of(cls, article: Article) -> SideText:
        roles = {p.index: p.role for p in article.paragraphs}
        return cls(
            tuple(article.text_of(s) for s in article.sentences),
            tuple(roles.get(s.paragraph) == "body" for s in article.sentences),
            keys=tuple(s.key for s in article.sentences),
        )

    def facts(self, index: int) -> SentenceFacts:
        return sentence_facts(self.sentences[index])


@functools.lru_cache(maxsize=1 << 17)
def _matching_form(sentence: str) -> str:
    """Folded, without a leading dateline: a reprint that drops "BALTIMORE —" is verbatim.

    Cached: an article is in a pair with each of its copies, and folding was a quarter of
    lexical verification."""
    dateline = find_dateline(sentence)
    return fold(sentence[len(dateline.text) :] if dateline else sentence)


def lexical_alignment(a: SideText, b: SideText, config: AlignConfig = AlignConfig()) -> list[Alignment]:
    """Step 1: verbatim and edited pairs (rapidfuzz).

    An edited pair is kept only at a calibrated similarity of `edited_similarity` or more,
    or a ratio of `edited_sure` (scored by its similarity); below, both sentences stay
    open, for the paraphrase step to judge."""
    fa = [_matching_form(s) for s in a.sentences]
    fb = [_matching_form(s) for s in b.sentences]
    alignments = align_sentences(a.sentences, b.sentences, config, a_folded=fa, b_folded=fb)
    edited = [x for x in alignments if x.kind == "edited"]
    if not edited:
        return alignments
    sims = lexical_pairs(
        [a.sentences[x.a_index] for x in edited],  # type: ignore[index]
        [b.sentences[x.b_index] for x in edited],  # type: ignore[index]
    )
    graded = {
        (x.a_index, x.b_index): Alignment(x.a_index, x.b_index, x.kind, round(float(sim), 4), x.edits)
        for x, sim in zip(edited, sims, strict=True)
        if sim >= config.edited_similarity or x.score >= config.edited_sure
    }
    kept = [
        graded.get((x.a_index, x.b_index), x)
        for x in alignments
        if x.kind == "verbatim" or (x.a_index, x.b_index) in graded
    ]
    return order_alignments(kept, len(a.sentences), len(b.sentences))


SUSPECT_SIMILARITY = 0.5
"""Mean lexical similarity (`dedup.similarity`, no embeddings) of the shorter side's
sentences to their best partners at which a pair with no shared sentence may still be a
rewrite with new words, and the model is spent on it. Measured on article pairs composed
from MSRP-train's dev split: 0.64 / 0.75 / 0.86 (p10 / p50 / p90) for human paraphrases,
0.94+ for spun copies, 0.38 / 0.49 / 0.62 for non-equivalent sentence pairs, 0.37 for two
independent reports of one event, 0.21 for two Reuters stories of one topic."""
SUSPECT_PAIRS = 10_000
"""Sentence pairs the gate grades at most (beyond, a pair of very long articles): larger
pairs are judged by their lexical alignment alone."""


def rewrite_suspect(a: SideText, b: SideText, config: ScoreConfig = ScoreConfig()) -> bool:
    """Whether a pair with no verbatim anchor may still be a paraphrase rewrite, without
    the model: the shorter side's countable sentences resemble sentences of the other side
    (`SUSPECT_SIMILARITY` on average, lexically), enough of them in order."""
    ca = [i for i, c in enumerate(a.countable) if c]
    cb = [j for j, c in enumerate(b.countable) if c]
    if not ca or not cb or len(ca) * len(cb) > SUSPECT_PAIRS:
        return False
    sims = lexical_matrix([a.sentences[i] for i in ca], [b.sentences[j] for j in cb])
    short_is_a = sum(len(a.sentences[i]) for i in ca) <= sum(len(b.sentences[j]) for j in cb)
    best = sims.max(axis=1) if short_is_a else sims.max(axis=0)
    if float(best.mean()) < SUSPECT_SIMILARITY:
        return False
    partner = sims.argmax(axis=1) if short_is_a else sims.argmax(axis=0)
    echoed = [k for k in range(len(best)) if best[k] >= SUSPECT_SIMILARITY]
    if len(echoed) < min(config.paraphrase_min_sentences, len(best)):
        return False
    return _chain([(k, int(partner[k])) for k in echoed]) >= config.paraphrase_order * len(echoed)


@dataclass(frozen=True, slots=True, eq=False)
class OpenSentences:
    """Step 2's answer for one pair: its open sentences (`open_sentences`), the full
    model's logit of every pair of them but for the cosine (`cosine_free_logits`), and
    which of them are worth embedding (`rows` of `a`, `cols` of `b`: those with a partner
    that some cosine could lift to the paraphrase threshold)."""

    a: tuple[int, ...] = ()
    b: tuple[int, ...] = ()
    logits: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    rows: tuple[int, ...] = ()
    cols: tuple[int, ...] = ()

    @property
    def embed_a(self) -> list[int]:
        """A's sentences to embed, in order."""
        return [self.a[r] for r in self.rows]

    @property
    def embed_b(self) -> list[int]:
        return [self.b[c] for c in self.cols]


NOTHING_OPEN = OpenSentences()


def sentences_to_embed(
    lexical: Sequence[Alignment],
    a: SideText,
    b: SideText,
    config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
    *,
    always: bool = False,
) -> OpenSentences:
    """Step 2: the open sentences worth embedding: those of a pair that shares text
    lexically already (`partial_min_chars` of it, templates aside: its other sentences may
    be paraphrases), or that `rewrite_suspect` finds may be a rewrite with new words; with
    `always` (one pair compared on demand), any pair.

    Embedding is the expensive step: a candidate with neither an anchor nor an echo is
    settled without the model, and of the others, a sentence that no cosine could lift to
    the paraphrase threshold with any partner is not embedded (`cosine_reach`; 27% of the
    distinct sentences on 10,000 scale articles). It can never be matched, so no match
    changes; only its share of the graded score comes from the lexical model instead.
    """
    anchored = sum(
        len(a.sentences[x.a_index])
        for x in lexical
        if x.kind in ("verbatim", "edited") and x.a_index is not None and x.b_index is not None
        and a.countable[x.a_index] and x.a_index not in a.templates and x.b_index not in b.templates
    ) >= score_config.partial_min_chars  # fmt: skip
    if not (always or anchored or rewrite_suspect(a, b, score_config)):
        return NOTHING_OPEN
    open_a, open_b = open_sentences(lexical, a.sentences, b.sentences, config)
    if not open_a or not open_b:
        return NOTHING_OPEN
    logits = cosine_free_logits([a.facts(i) for i in open_a], [b.facts(j) for j in open_b])
    rows, cols = cosine_reach(logits, config.paraphrase_threshold)
    return OpenSentences(tuple(open_a), tuple(open_b), logits, tuple(rows.tolist()), tuple(cols.tolist()))


def finish_comparison(
    lexical: Sequence[Alignment],
    a: SideText,
    b: SideText,
    opened: OpenSentences = NOTHING_OPEN,
    a_vectors: np.ndarray | None = None,
    b_vectors: np.ndarray | None = None,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """Step 3: the calibrated similarity of the open sentences (with the cosine of their
    vectors, when step 2 embedded them), paraphrase matches, then the relation and score.

    `a_vectors`/`b_vectors` are the unit vectors of `opened.embed_a` and `opened.embed_b`,
    in that order. Paraphrase matching sees the matrix of all of `opened`'s sentences, the
    cells no cosine could lift left at 0 (below the threshold, as they would be anyway):
    the same shape, so ties are broken as with every sentence embedded."""
    alignments = list(lexical)
    embedded_a: list[int] = []
    embedded_b: list[int] = []
    full: np.ndarray | None = None
    if a_vectors is not None and b_vectors is not None and len(a_vectors) and len(b_vectors):
        embedded_a, embedded_b = opened.embed_a, opened.embed_b
        block = np.ix_(opened.rows, opened.cols)
        full = with_cosine(opened.logits[block], a_vectors @ b_vectors.T)
        similarity = np.zeros(opened.logits.shape, dtype=np.float64)
        similarity[block] = full
        alignments = align_paraphrases(
            alignments, a.sentences, b.sentences, opened.a, opened.b, similarity, align_config
        )
    soft_a, soft_b, refused = _open_similarity(
        alignments, a, b, embedded_a, embedded_b, full, share_a_word=score_config.partners_share_a_word
    )
    return score_alignment(alignments, a, b, score_config, soft_a, soft_b, refused)


OPEN_LIMIT = 2_500
"""Sentence pairs of open sentences graded without embeddings for the score at most (a
pair of 50-sentence articles): beyond, the open part of a big unrelated pair adds 0."""


def _open_similarity(
    alignments: Sequence[Alignment],
    a: SideText,
    b: SideText,
    embedded_a: Sequence[int],
    embedded_b: Sequence[int],
    full: np.ndarray | None,
    *,
    share_a_word: bool = True,
) -> tuple[dict[int, float], dict[int, float], frozenset[tuple[int, int]]]:
    """For the countable sentences left unmatched, the similarity of their best one-to-one
    partner among the other side's unmatched ones (with the cosine where both were
    embedded; lexically, with `share_a_word`, only a partner that shares a content word
    counts: `lexical_partners`): the graded part of the score, below the paraphrase
    threshold. Also the partnerships `paraphrase_conflict` refuses: they grade the score,
    never a rewrite."""
    matched_a = {x.a_index for x in alignments if x.a_index is not None and x.b_index is not None}
    matched_b = {x.b_index for x in alignments if x.a_index is not None and x.b_index is not None}
    rest_a = [i for i, c in enumerate(a.countable) if c and i not in matched_a]
    rest_b = [j for j, c in enumerate(b.countable) if c and j not in matched_b]
    if not rest_a or not rest_b or len(rest_a) * len(rest_b) > OPEN_LIMIT:
        return {}, {}, frozenset()
    grade = lexical_partners if share_a_word else lexical_matrix
    sims = grade([a.sentences[i] for i in rest_a], [b.sentences[j] for j in rest_b])
    if full is not None:
        pos_a = {i: k for k, i in enumerate(embedded_a)}
        pos_b = {j: k for k, j in enumerate(embedded_b)}
        for r, i in enumerate(rest_a):
            for c, j in enumerate(rest_b):
                if i in pos_a and j in pos_b:
                    sims[r, c] = full[pos_a[i], pos_b[j]]
    soft_a: dict[int, float] = {}
    soft_b: dict[int, float] = {}
    refused = set()
    # a partner at 0 weighs nothing: only the cells above are ordered (stably, as the whole
    # grid would be), and the search ends once one side has a partner for every sentence
    cells = np.flatnonzero(sims > 0)
    for flat in cells[np.argsort(-sims.ravel()[cells], kind="stable")]:
        r, c = divmod(int(flat), len(rest_b))
        i, j = rest_a[r], rest_b[c]
        if i not in soft_a and j not in soft_b:
            soft_a[i] = soft_b[j] = float(sims[r, c])
            if sims[r, c] >= 0.3 and paraphrase_conflict(a.sentences[i], b.sentences[j]):
                refused.add((i, j))
            if len(soft_a) == len(rest_a) or len(soft_b) == len(rest_b):
                break
    return soft_a, soft_b, frozenset(refused)


def _chain(pairs: Sequence[tuple[int, int]]) -> int:
    """Length of the longest chain of pairs increasing on both sides: how many aligned
    sentences follow each other's order (a moved paragraph breaks a few links only)."""
    tails: list[int] = []
    for _, j in sorted(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
        else:
            tails[k] = j
    return len(tails)


LOOK_ALIKES = frozenset(
    {("rn", "m"), ("l", "1"), ("l", "I"), ("I", "1"), ("l", "|"), ("O", "0"), ("o", "0"), ("e", "c"),
     ("i", "l"), ("h", "b"), ("S", "5"), ("s", "5"), ("B", "8"), ("Z", "2"), ("cl", "d"), ("vv", "w"),
     ("g", "q"), ("u", "n"), ("c", "o"), ("t", "f"), ("ri", "n"), ("li", "h")}
)  # fmt: skip
"""Characters OCR takes for one another (either way round): the confusions of scanned
newsprint, not an editor's changes."""


def _noise_only(x: Alignment, a: SideText, b: SideText) -> bool:
    """An edited pair whose every change is noise, not an editor's word: with the spaces
    taken out (words split or joined), the two sentences differ only by characters OCR
    confuses (`LOOK_ALIKES`). An OCR-noisy reprint is a duplicate.

    Judged on the whole sentence rather than edit by edit: a joined word ("39.6pct")
    shows as two word edits, neither of them noise on its own.
    """
    if x.a_index is None or x.b_index is None:
        return False
    sa = "".join(a.sentences[x.a_index].split())
    sb = "".join(b.sentences[x.b_index].split())
    if sa == sb:
        return True
    changes: list[tuple[str, str]] = []  # runs of adjacent edits ("rn" -> "m" is two)
    joined = False
    for op in Levenshtein.opcodes(sa, sb):
        if op.tag == "equal":
            joined = False
            continue
        old, new = sa[op.src_start : op.src_end], sb[op.dest_start : op.dest_end]
        if joined:
            changes[-1] = (changes[-1][0] + old, changes[-1][1] + new)
        else:
            changes.append((old, new))
        joined = True
    if len(changes) > max(2, len(sa) // 25):
        return False  # more changes than noise makes in one sentence
    return all(c in LOOK_ALIKES or (c[1], c[0]) in LOOK_ALIKES for c in changes)


def _shares(alignments: Sequence[Alignment], side: SideText, which: str) -> dict[str, float]:
    """The side's countable characters aligned by each kind, as a share of all of them.

    Characters are counted, then divided once: a sum of per-sentence fractions depended
    on the order of the alignments, which differs with the side a pair is seen from, and
    a share at a rounding tie (17/32) came out 0.5312 one way and 0.5313 the other."""
    lengths = [len(s) for s in side.sentences]
    total = sum(n for n, c in zip(lengths, side.countable, strict=True) if c)
    chars = dict.fromkeys(("verbatim", "edited", "paraphrase"), 0)
    if total == 0:
        return dict.fromkeys(chars, 0.0)
    for x in alignments:
        index = x.a_index if which == "a" else x.b_index
        if x.kind in chars and index is not None and side.countable[index]:
            chars[x.kind] += lengths[index]
    return {k: min(1.0, n / total) for k, n in chars.items()}


def _coverage(
    alignments: Sequence[Alignment],
    side: SideText,
    which: str,
    soft: dict[int, float] | None,
    *,
    squared: bool = False,
) -> float:
    """The side's countable characters weighted by the similarity of what they align to
    (or, left open, of their best partner below the threshold); with `squared`, the
    similarities of all but verbatim pairs count squared."""
    lengths = [len(s) for s in side.sentences]
    total = sum(n for n, c in zip(lengths, side.countable, strict=True) if c)
    if not total:
        return 0.0
    weight = {i: s * s if squared else s for i, s in (soft or {}).items()}
    for x in alignments:
        index = x.a_index if which == "a" else x.b_index
        if x.a_index is not None and x.b_index is not None and index is not None:
            weight[index] = x.score if x.kind == "verbatim" or not squared else x.score * x.score
    return sum(lengths[i] * w for i, w in weight.items() if side.countable[i]) / total


def score_alignment(
    alignments: Sequence[Alignment],
    a: SideText,
    b: SideText,
    config: ScoreConfig = ScoreConfig(),
    soft_a: dict[int, float] | None = None,
    soft_b: dict[int, float] | None = None,
    refused: Collection[tuple[int, int]] = (),
) -> Comparison:
    """Containment, shares by kind, relation and score of an alignment (pure).

    `soft_a`/`soft_b` give, for sentences left open, the similarity of their best partner
    below the thresholds: they grade the score, and the coverage a paraphrase rewrite
    needs, never a lexical relation."""
    sa, sb = _shares(alignments, a, "a"), _shares(alignments, b, "b")
    cont_a, cont_b = sum(sa.values()), sum(sb.values())
    refused_a, refused_b = {i for i, _ in refused}, {j for _, j in refused}
    cov_a = _coverage(alignments, a, "a", {i: s for i, s in (soft_a or {}).items() if i not in refused_a})
    cov_b = _coverage(alignments, b, "b", {j: s for j, s in (soft_b or {}).items() if j not in refused_b})
    # what is not shared word for word (an edit, a paraphrase, a partner below the
    # threshold) is weaker evidence: the score counts its similarity squared (the same for
    # every kind, so a pair of single sentences is ranked by its similarity alone)
    weak_a = _coverage(alignments, a, "a", soft_a, squared=True)
    weak_b = _coverage(alignments, b, "b", soft_b, squared=True)
    score = 0.7 * max(weak_a, weak_b) + 0.3 * min(weak_a, weak_b)
    derived = sa if cont_a >= cont_b else sb
    counted = [
        (x, x.a_index, x.b_index)
        for x in alignments
        if x.a_index is not None
        and x.b_index is not None
        and a.countable[x.a_index]
        and b.countable[x.b_index]
    ]
    lexical_chars = sum(
        len(a.sentences[i])
        for x, i, j in counted
        if x.kind in ("verbatim", "edited") and i not in a.templates and j not in b.templates
    )
    same_words = [
        x for x, _, _ in counted if x.kind == "verbatim" or (x.kind == "edited" and _noise_only(x, a, b))
    ]
    dup_a = _share_of(same_words, a, "a")
    dup_b = _share_of(same_words, b, "b")
    chain = _chain([(i, j) for _, i, j in counted])
    similarity = float(np.mean([x.score for x, _, _ in counted])) if counted else 0.0
    shorter = min(sum(a.countable), sum(b.countable))
    relation: Relation = "none"
    if min(cont_a, cont_b) >= config.duplicate_containment and min(dup_a, dup_b) >= config.duplicate_verbatim:
        relation = "duplicate"
    elif (
        max(cont_a, cont_b) >= config.rewrite_containment
        and derived["verbatim"] + derived["edited"] >= config.min_lexical_share
        and lexical_chars >= config.partial_min_chars
    ):
        relation = "rewrite"
    elif (
        max(cov_a, cov_b) >= config.paraphrase_similarity
        and len(counted) >= max(2, min(config.paraphrase_min_sentences, shorter))
        and chain >= config.paraphrase_order * len(counted)
        and sum(len(a.sentences[i]) for _, i, _ in counted) >= config.partial_min_chars
    ):
        relation = "rewrite"  # sentence by sentence, new words: a paraphrase rewrite
    elif lexical_chars >= config.partial_min_chars:
        relation = "partial"
    if relation != "duplicate" and same_words_everywhere(a, b):
        # the same words (an exact-hash candidate) whatever the segmentation says
        relation, score, cont_a, cont_b = "duplicate", 1.0, 1.0, 1.0
    shares = {f"a_{k}": round(v, 4) for k, v in sa.items()} | {f"b_{k}": round(v, 4) for k, v in sb.items()}
    shares |= {
        "order": round(chain / len(counted), 4) if counted else 0.0,
        "similarity": round(similarity, 4),
        "coverage": round(max(cov_a, cov_b), 4),
        "lexical_chars": float(lexical_chars),
    }
    return Comparison(
        relation=relation,
        score=round(min(1.0, score), 4),
        containment_a=round(min(1.0, cont_a), 4),
        containment_b=round(min(1.0, cont_b), 4),
        alignments=tuple(alignments),
        shares=shares,
    )


def _share_of(alignments: Collection[Alignment], side: SideText, which: str) -> float:
    lengths = [len(s) for s in side.sentences]
    total = sum(n for n, c in zip(lengths, side.countable, strict=True) if c)
    if not total:
        return 0.0
    indices = {x.a_index if which == "a" else x.b_index for x in alignments}
    return sum(lengths[i] for i in indices if i is not None and side.countable[i]) / total


def same_words_everywhere(a: SideText, b: SideText) -> bool:
    """Whether two sides' countable text is the same folded words: what an equal exact
    hash says. Two copies of one story split into sentences differently (a stray blank
    line in one) are still duplicates."""

    def text(side: SideText) -> str:
        return " ".join(s for s, countable in zip(side.sentences, side.countable, strict=True) if countable)

    ta, tb = text(a), text(b)
    if not ta or abs(len(ta) - len(tb)) > 0.05 * max(len(ta), len(tb)) + 10:
        return False  # folding only drops case, accents and punctuation: lengths stay close
    return fold(ta) == fold(tb)


def compare_sides(
    a: SideText,
    b: SideText,
    embedder: Embedder | None,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """Align lexically; embed every open sentence that a cosine could match (of any pair, one
    pair being worth the model); grade."""
    lexical = lexical_alignment(a, b, align_config)
    opened = (
        sentences_to_embed(lexical, a, b, align_config, score_config, always=True)
        if embedder
        else NOTHING_OPEN
    )
    if not opened.rows or embedder is None:
        return finish_comparison(lexical, a, b, align_config=align_config, score_config=score_config)
    embed_a = opened.embed_a
    vectors = embedder.encode([a.sentences[i] for i in embed_a] + [b.sentences[j] for j in opened.embed_b])
    return finish_comparison(
        lexical, a, b, opened, vectors[: len(embed_a)], vectors[len(embed_a) :], align_config, score_config
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
