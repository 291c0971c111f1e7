"""Sentence alignment of two articles: rapidfuzz first, embeddings for what stays open.

Pure. The lexical pass scores every sentence of A against every sentence of B with
`rapidfuzz.process.cdist` (folded texts, `fuzz.ratio`), then matches one-to-one, greedily
by score. Greedy by score tolerates reordered paragraphs (a reprint that moves a paragraph
still aligns it); ties, such as a sentence repeated in both, go to the pair nearest the
diagonal, so untouched reprints align in order. The semantic pass (`align_paraphrases`)
matches the leftovers by embedding cosine.

>>> a = ["The train derailed on Tuesday.", "No one was hurt."]
>>> b = ["No one was hurt.", "The train derailed early on Tuesday."]
>>> [(x.a_index, x.b_index, x.kind) for x in align_sentences(a, b)]
[(0, 1, 'edited'), (1, 0, 'verbatim')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from dedup.model import Alignment, Edit
from dedup.normalize import fold


@dataclass(frozen=True, slots=True)
class AlignConfig:
    """Thresholds of the alignment; `docs/scoring.md` says how they were chosen."""

    edited_threshold: float = 0.70
    """Folded fuzz ratio at or above which two sentences are the same sentence, edited."""
    paraphrase_threshold: float = 0.75
    """Embedding cosine at or above which two unmatched sentences are a paraphrase."""
    min_paraphrase_chars: int = 25
    """Shorter sentences ("He declined to comment.") are never paraphrase-matched."""
    check_facts: bool = True
    """Refuse to match sentences whose numbers or names were substituted (`facts_conflict`)."""
    workers: int = 1


_WORD = re.compile(r"\S+")
_NUMBER = re.compile(r"\d+")
_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*")
# Capitalised for grammar, not because they name anything.
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "the",
        "he",
        "she",
        "it",
        "we",
        "they",
        "i",
        "you",
        "his",
        "her",
        "its",
        "their",
        "our",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "but",
        "and",
        "or",
        "so",
        "yet",
        "if",
        "when",
        "while",
        "as",
        "at",
        "in",
        "on",
        "of",
        "for",
        "to",
        "by",
        "with",
        "from",
        "after",
        "before",
        "since",
        "mr",
        "mrs",
        "ms",
        "dr",
    ]
)


def facts(sentence: str) -> tuple[frozenset[str], frozenset[str]]:
    """(numbers, names) of a sentence: digit runs, and capitalised words other than
    grammar words (a sentence's first word counts: it is usually its subject).

    A leading dateline ("LONDON, March 3 (Reuters) -") is skipped: re-dated reruns are
    still the same story.

    >>> numbers, names = facts("LONDON, March 3 - Union Bank said it raised its prime rate to 7-1/2 pct.")
    >>> sorted(numbers), sorted(names)
    (['1', '2', '7'], ['bank', 'union'])
    """
    from dedup.segment import find_dateline

    dateline = find_dateline(sentence)
    if dateline:
        sentence = sentence[len(dateline.text) :]
    numbers = frozenset(_NUMBER.findall(sentence.replace(",", "")))
    names = {w.casefold().strip("'’-") for w in _NAME.findall(sentence)}
    return numbers, frozenset(n for n in names if n and n not in _NOT_NAMES)


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
    return _substituted(numbers_a, numbers_b) or _substituted(names_a, names_b)


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


def word_edits(a: str, b: str) -> tuple[Edit, ...]:
    """Word-level changes between two sentences, as character spans of each.

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
        scores = process.cdist(fa, fb, scorer=fuzz.ratio, workers=config.workers, dtype=np.float32) / 100.0

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
    a_vectors: np.ndarray,
    b_vectors: np.ndarray,
    config: AlignConfig = AlignConfig(),
) -> list[Alignment]:
    """Match sentences left unmatched by `align_sentences` by embedding cosine.

    `a_vectors`/`b_vectors` are unit vectors of the *unmatched* sentences listed by
    `open_sentences`, in that order.
    """
    open_a, open_b = open_sentences(alignments, a, b, config)
    if not open_a or not open_b:
        return list(alignments)
    cosine = a_vectors @ b_vectors.T
    kept = [x for x in alignments if x.kind in ("verbatim", "edited")]

    def refuse(i: int, j: int) -> bool:
        return config.check_facts and facts_conflict(a[open_a[i]], b[open_b[j]])

    for i, j, score in _greedy(cosine, config.paraphrase_threshold, refuse):
        kept.append(Alignment(open_a[i], open_b[j], "paraphrase", round(min(1.0, score), 4)))
    return order_alignments(kept, len(a), len(b))


def open_sentences(
    alignments: Sequence[Alignment], a: Sequence[str], b: Sequence[str], config: AlignConfig = AlignConfig()
) -> tuple[list[int], list[int]]:
    """Indices of A's and B's sentences still unmatched, long enough to paraphrase-match,
    and with at least one partner on the other side that `facts_conflict` would not refuse.

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
        fa = {i: facts(a[i]) for i in open_a}
        fb = {j: facts(b[j]) for j in open_b}

        def allowed(
            x: tuple[frozenset[str], frozenset[str]], y: tuple[frozenset[str], frozenset[str]]
        ) -> bool:
            return not (_substituted(x[0], y[0]) or _substituted(x[1], y[1]))

        open_a = [i for i in open_a if any(allowed(fa[i], fb[j]) for j in open_b)]
        open_b = [j for j in open_b if any(allowed(fa[i], fb[j]) for i in open_a)]
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
        # place after the row with the largest b_index < j
        position = 0
        for k, row in enumerate(rows):
            if row.b_index is not None and row.b_index < j:
                position = k + 1
        rows.insert(position, Alignment(None, j, "added", 0.0))
    return rows
