"""Sentence alignment of two articles: rapidfuzz first, calibrated similarity for what
stays open.

Pure. The lexical pass scores every sentence of A against every sentence of B with
`rapidfuzz.process.cdist` (folded texts, `fuzz.ratio`), then matches one-to-one, greedily
by score. Greedy by score tolerates reordered paragraphs (a reprint that moves a paragraph
still aligns it); ties, such as a sentence repeated in both, go to the pair nearest the
diagonal, so untouched reprints align in order. The semantic pass (`align_paraphrases`)
matches the leftovers by their calibrated similarity (`dedup.similarity`: lexical evidence
and the embeddings' cosine in one probability).

>>> a = ["The train derailed on Tuesday.", "No one was hurt."]
>>> b = ["No one was hurt.", "The train derailed early on Tuesday."]
>>> [(x.a_index, x.b_index, x.kind) for x in align_sentences(a, b)]
[(0, 1, 'edited'), (1, 0, 'verbatim')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from dedup.model import Alignment, Edit
from dedup.normalize import fold
from dedup.similarity import facts, paraphrase_facts


@dataclass(frozen=True, slots=True)
class AlignConfig:
    """Thresholds of the alignment; `docs/scoring.md` says how they were chosen."""

    edited_threshold: float = 0.70
    """Folded fuzz ratio at or above which two sentences may be the same sentence, edited..."""
    edited_similarity: float = 0.9
    """...if their calibrated similarity (`dedup.similarity`, lexical) is at least this too:
    a copy editor's changes keep it near 1, where two reports of one story sharing most of
    a sentence's words but not its content (MSRP's non-equivalent pairs) fall below..."""
    edited_sure: float = 0.85
    """...or if their ratio is at least this (1.4% of MSRP-train's non-equivalent pairs reach
    it, 22% of its equivalent ones): two words changed in a short sentence."""
    paraphrase_threshold: float = 0.6
    """Calibrated similarity (`dedup.similarity`, with the embeddings' cosine) at or above
    which two sentences left unmatched lexically are a paraphrase."""
    min_paraphrase_chars: int = 25
    """Shorter sentences ("He declined to comment.") are never paraphrase-matched."""
    check_facts: bool = True
    """Refuse to match sentences whose numbers or names were substituted (`facts_conflict`)."""
    workers: int = 1


_WORD = re.compile(r"\S+")


def _substituted(x: frozenset[str], y: frozenset[str]) -> bool:
    """Both sides have something the other lacks, and they share less than half."""
    return bool(x - y) and bool(y - x) and len(x & y) < len(x | y) / 2


def facts_conflict(a: str, b: str) -> bool:
    """True when two similar sentences report different facts: numbers replaced by other
    numbers, or names by other names (a template reused for another story), as opposed to
    an edit that trims, reformats or rewords.

    >>> facts_conflict("Union Bank raised its prime rate to 7-1/2 pct.",
    ...                "First National Bank of Boston raised its prime rate to 7-1/2 pct.")
    True
    >>> facts_conflict("Retired Gen. Michael Flynn spoke to Kislyak on Dec. 29.",
    ...                "Flynn spoke to Kislyak on Dec. 29.")
    False
    """
    numbers_a, names_a = facts(a)
    numbers_b, names_b = facts(b)
    names_a, names_b = _misspelt_alike(names_a, names_b)
    return _substituted(numbers_a, numbers_b) or _substituted(names_a, names_b)


def _misspelt_alike(x: frozenset[str], y: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The names with their misspellings on the other side counted as the same name: one
    letter apart, in names of five letters or more ("Highway" read as "Hlghway" by OCR,
    "Boston" typed "Bostn"), so that noise is never taken for a substituted name; shorter
    names one letter apart are other names ("Ford", "Lord").

    >>> x, y = _misspelt_alike(frozenset({"highway", "ford"}), frozenset({"hlghway", "lord"}))
    >>> sorted(x), sorted(y)
    (['ford', 'highway'], ['highway', 'lord'])
    """
    only_y = y - x
    renamed: dict[str, str] = {}
    for name in x - y:
        if len(name) >= 5:
            for other in only_y:
                if (
                    len(other) >= 5
                    and other not in renamed.values()
                    and Levenshtein.distance(name, other) <= 1
                ):
                    renamed[other] = name
                    break
    return x, frozenset(renamed.get(n, n) for n in y)


def paraphrase_conflict(a: str, b: str) -> bool:
    """True when two sentences cannot be paraphrases of each other: their numbers were
    substituted, or they name no one in common (`paraphrase_facts`). Looser than
    `facts_conflict` on names, which people rewriting a sentence move, shorten or add to
    (21% of MSRP-train's human-judged equivalent pairs fail `facts_conflict`, 11% this).

    >>> paraphrase_conflict("Revenue at Stewart's company rose 15 pct.", "Stewart's revenue was up 15 pct.")
    False
    >>> paraphrase_conflict("Sales at Acme rose 15 pct.", "Sales at Zenith rose 15 pct.")
    True
    """
    numbers_a, names_a = paraphrase_facts(a)
    numbers_b, names_b = paraphrase_facts(b)
    return _paraphrase_refused((numbers_a, names_a), (numbers_b, names_b))


def _paraphrase_refused(
    x: tuple[frozenset[str], frozenset[str]], y: tuple[frozenset[str], frozenset[str]]
) -> bool:
    return _substituted(x[0], y[0]) or (bool(x[1]) and bool(y[1]) and not x[1] & y[1])


def _greedy(
    scores: np.ndarray,
    threshold: float,
    refuse: Callable[[int, int], bool] | None = None,
) -> list[tuple[int, int, float]]:
    """One-to-one matches with score >= threshold, best first, ties nearest the diagonal;
    `refuse(i, j)` vetoes a pair."""
    rows, cols = np.nonzero(scores >= threshold)
    if len(rows) == 0:
        return []
    m, n = scores.shape
    diagonal = np.abs(rows / max(m, 1) - cols / max(n, 1))
    order = np.lexsort((cols, rows, diagonal, -scores[rows, cols]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches = []
    for k in order:
        i, j = int(rows[k]), int(cols[k])
        if i not in used_a and j not in used_b and not (refuse and refuse(i, j)):
            used_a.add(i)
            used_b.add(j)
            matches.append((i, j, float(scores[i, j])))
    return matches


@functools.lru_cache(maxsize=1 << 16)
def word_edits(a: str, b: str) -> tuple[Edit, ...]:
    """Word-level changes between two sentences, as character spans of each (cached: the
    copies of one story bring the same edited pairs back).

    >>> word_edits("The train derailed on Tuesday.", "The train derailed early on Tuesday.")
    (Edit(op='insert', a_start=19, a_end=19, b_start=19, b_end=24),)
    """
    a_words = [(m.start(), m.end()) for m in _WORD.finditer(a)]
    b_words = [(m.start(), m.end()) for m in _WORD.finditer(b)]
    ops = Levenshtein.opcodes([a[s:e] for s, e in a_words], [b[s:e] for s, e in b_words])
    edits = []
    for op in ops:
        if op.tag == "equal":
            continue

        def span(words: list[tuple[int, int]], lo: int, hi: int, text: str) -> tuple[int, int]:
            if lo < hi:
                return words[lo][0], words[hi - 1][1]
            at = words[lo][0] if lo < len(words) else len(text)
            return at, at

        a_start, a_end = span(a_words, op.src_start, op.src_end, a)
        b_start, b_end = span(b_words, op.dest_start, op.dest_end, b)
        edits.append(Edit(op.tag, a_start, a_end, b_start, b_end))  # type: ignore[arg-type]
    return tuple(edits)


def ratio_matrix(a_folded: Sequence[str], b_folded: Sequence[str], workers: int = 1) -> np.ndarray:
    """`fuzz.ratio` of every pair of folded sentences, in [0, 1] (m x n float32)."""
    if not a_folded or not b_folded:
        return np.zeros((len(a_folded), len(b_folded)), dtype=np.float32)
    return process.cdist(a_folded, b_folded, scorer=fuzz.ratio, workers=workers, dtype=np.float32) / 100.0


def align_sentences(
    a: Sequence[str],
    b: Sequence[str],
    config: AlignConfig = AlignConfig(),
    *,
    a_folded: Sequence[str] | None = None,
    b_folded: Sequence[str] | None = None,
) -> list[Alignment]:
    """Lexical alignment: verbatim and edited pairs, then every other sentence on its side.

    The result lists A's sentences in order, each B-only sentence after the B sentence it
    follows; see `order_alignments`.
    """
    fa = list(a_folded) if a_folded is not None else [fold(s) for s in a]
    fb = list(b_folded) if b_folded is not None else [fold(s) for s in b]
    matches: list[Alignment] = []
    if fa and fb:
        scores = ratio_matrix(fa, fb, config.workers)

        def refuse(i: int, j: int) -> bool:
            return config.check_facts and fa[i] != fb[j] and facts_conflict(a[i], b[j])

        for i, j, score in _greedy(scores, config.edited_threshold, refuse):
            if fa[i] == fb[j]:
                matches.append(Alignment(i, j, "verbatim", 1.0))
            else:
                matches.append(Alignment(i, j, "edited", round(score, 4), word_edits(a[i], b[j])))
    return order_alignments(matches, len(a), len(b))


def align_paraphrases(
    alignments: Sequence[Alignment],
    a: Sequence[str],
    b: Sequence[str],
    open_a: Sequence[int],
    open_b: Sequence[int],
    similarity: np.ndarray,
    config: AlignConfig = AlignConfig(),
) -> list[Alignment]:
    """Match sentences left unmatched by `align_sentences` by calibrated similarity.

    `similarity[i, j]` is that of sentences `open_a[i]` and `open_b[j]` (the ones
    `open_sentences` lists); pairs at or above `paraphrase_threshold` are matched one to
    one, best first, unless the fact check refuses them.
    """
    if not len(open_a) or not len(open_b):
        return list(alignments)
    kept = [x for x in alignments if x.kind in ("verbatim", "edited")]

    def refuse(i: int, j: int) -> bool:
        return config.check_facts and paraphrase_conflict(a[open_a[i]], b[open_b[j]])

    for i, j, score in _greedy(similarity, config.paraphrase_threshold, refuse):
        kept.append(Alignment(open_a[i], open_b[j], "paraphrase", round(min(1.0, score), 4)))
    return order_alignments(kept, len(a), len(b))


def open_sentences(
    alignments: Sequence[Alignment], a: Sequence[str], b: Sequence[str], config: AlignConfig = AlignConfig()
) -> tuple[list[int], list[int]]:
    """Indices of A's and B's sentences still unmatched, long enough to paraphrase-match,
    and with at least one partner on the other side that `paraphrase_conflict` would not
    refuse.

    The last condition is what keeps embedding affordable at scale (a trimmed reprint
    leaves the original's tail open against the copy's footer, and most such pairs report
    different numbers or names): a sentence whose every pairing would be refused can never
    be matched, so leaving it out saves its embedding (38% of them on the scale corpus)
    and changes no match, short of a tie between exactly equal cosines, which `_greedy`
    breaks by position (verdicts and alignments were identical on 18,111 pairs).
    """
    matched_a = {x.a_index for x in alignments if x.kind in ("verbatim", "edited")}
    matched_b = {x.b_index for x in alignments if x.kind in ("verbatim", "edited")}
    open_a = [i for i in range(len(a)) if i not in matched_a and len(a[i]) >= config.min_paraphrase_chars]
    open_b = [j for j in range(len(b)) if j not in matched_b and len(b[j]) >= config.min_paraphrase_chars]
    if config.check_facts and open_a and open_b:
        fa = {i: paraphrase_facts(a[i]) for i in open_a}
        fb = {j: paraphrase_facts(b[j]) for j in open_b}
        open_a = [i for i in open_a if any(not _paraphrase_refused(fa[i], fb[j]) for j in open_b)]
        open_b = [j for j in open_b if any(not _paraphrase_refused(fa[i], fb[j]) for i in open_a)]
    return open_a, open_b


def order_alignments(matches: Sequence[Alignment], m: int, n: int) -> list[Alignment]:
    """Matches plus `removed`/`added` rows, in reading order for a side-by-side view.

    A's sentences in order; a B-only sentence goes right after the row holding the B
    sentence before it (or first, if none does).
    """
    by_a = {x.a_index: x for x in matches if x.a_index is not None}
    matched_b = {x.b_index for x in matches}
    rows = [by_a.get(i, Alignment(i, None, "removed", 0.0)) for i in range(m)]
    for j in range(n):
        if j in matched_b:
            continue
        # place after the last row with a b_index < j
        position = next(
            (k + 1 for k in range(len(rows) - 1, -1, -1) if (b := rows[k].b_index) is not None and b < j), 0
        )
        rows.insert(position, Alignment(None, j, "added", 0.0))
    return rows
