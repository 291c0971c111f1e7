"""Graded sentence similarity: one calibrated probability in [0, 1] that two sentences say
the same thing, from lexical and semantic evidence (pure).

Every sentence pair alignment considers gets this number. Its features are cheap and
vectorised over a whole block of pairs at once:

- `ratio`, `token_sort`, `token_set`, `partial`: rapidfuzz ratios of the folded texts;
- `word_jaccard`, `word_containment`, `content_jaccard`: word overlap (all words, and the
  words that are not grammar);
- `number_jaccard`, `number_substituted`, `name_jaccard`: agreement of the numbers and
  names the fact check reads (`facts`);
- `length_ratio`: shorter over longer;
- `cosine`: all-MiniLM-L6-v2, when the sentences were embedded.

A logistic model over them (`FULL`, with the cosine; `LEXICAL`, without) turns them into a
probability. Its weights are fitted by `scripts/calibrate_similarity.py` on a dev split of
MSRP-train (human-judged news sentence pairs) and of the project's own generated copies,
and stored in `similarity.json` beside this module; `docs/scoring.md` gives the numbers.

>>> sentence_similarity("The train derailed on Tuesday.", "The train derailed on Tuesday.") > 0.95
True
>>> sentence_similarity("The train derailed on Tuesday.", "Stocks fell in Tokyo.", cosine=0.05) < 0.1
True
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from dedup.normalize import fold
from dedup.segment import find_dateline

LEXICAL_FEATURES = (
    "ratio",
    "token_sort",
    "token_set",
    "partial",
    "word_jaccard",
    "word_containment",
    "content_jaccard",
    "number_jaccard",
    "number_substituted",
    "name_jaccard",
    "length_ratio",
)
FULL_FEATURES = (*LEXICAL_FEATURES, "cosine")

# Words that carry grammar, not content (for `content_jaccard`).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "if",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "he",
        "she",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "their",
        "our",
        "my",
        "your",
        "him",
        "them",
        "us",
        "me",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "when",
        "where",
        "while",
        "said",
        "says",
        "say",
        "also",
        "not",
        "no",
        "there",
        "here",
        "after",
        "before",
        "over",
        "into",
        "about",
        "up",
        "out",
        "more",
        "most",
        "some",
        "any",
        "all",
        "one",
        "two",
    ]
)


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic model: P(same) = sigmoid(weights . features + bias)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def logit(self, columns: dict[str, np.ndarray], *, without: str | None = None) -> np.ndarray:
        """weights . features + bias, leaving out the feature `without` (a term added
        after: `with_cosine`)."""
        z = np.full(next(iter(columns.values())).shape, self.bias, dtype=np.float64)
        for name, weight in zip(self.features, self.weights, strict=True):
            if name != without:
                z += weight * columns[name]
        return z

    def probability(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return _sigmoid(self.logit(columns))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


WEIGHTS = Path(__file__).with_name("similarity.json")


@functools.cache
def models() -> dict[str, Model]:
    """The calibrated models (`lexical`, `full`), read once from `similarity.json`."""
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    return {
        name: Model(tuple(m["features"]), tuple(float(w) for w in m["weights"]), float(m["bias"]))
        for name, m in data["models"].items()
    }


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


@functools.lru_cache(maxsize=1 << 17)
def facts(sentence: str) -> tuple[frozenset[str], frozenset[str]]:
    """(numbers, names) of a sentence: digit runs, and capitalised words other than
    grammar words (a sentence's first word counts: it is usually its subject).

    A leading dateline ("LONDON, March 3 (Reuters) -") is skipped: re-dated reruns are
    still the same story.

    >>> numbers, names = facts("LONDON, March 3 - Union Bank said it raised its prime rate to 7-1/2 pct.")
    >>> sorted(numbers), sorted(names)
    (['1', '2', '7'], ['bank', 'union'])
    """
    dateline = find_dateline(sentence)
    if dateline:
        sentence = sentence[len(dateline.text) :]
    numbers = frozenset(_NUMBER.findall(sentence.replace(",", "")))
    names = {w.casefold().strip("'’-") for w in _NAME.findall(sentence)}
    return numbers, frozenset(n for n in names if n and n not in _NOT_NAMES)


@functools.lru_cache(maxsize=1 << 17)
def paraphrase_facts(sentence: str) -> tuple[frozenset[str], frozenset[str]]:
    """(numbers, names) as a paraphrase must keep them: like `facts`, but the sentence's
    first word is left out (a rewrite starts its sentences elsewhere: "Revenue rose" /
    "Stewart's revenue rose") and a possessive is its name ("Stewart's" is "stewart").

    >>> paraphrase_facts("Revenue at Stewart's company rose 15 pct.")
    (frozenset({'15'}), frozenset({'stewart'}))
    """
    dateline = find_dateline(sentence)
    if dateline:
        sentence = sentence[len(dateline.text) :]
    numbers = frozenset(_NUMBER.findall(sentence.replace(",", "")))
    names = set()
    for match in _NAME.finditer(sentence):
        if match.start() == 0:
            continue
        name = match.group(0).casefold().strip("'’-").removesuffix("'s").removesuffix("’s")
        if name and name not in _NOT_NAMES:
            names.add(name)
    return numbers, frozenset(names)


@dataclass(frozen=True, slots=True)
class SentenceFacts:
    """What the features need of one sentence, computed once."""

    folded: str
    words: frozenset[str]
    content: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]


@functools.lru_cache(maxsize=1 << 17)
def sentence_facts(sentence: str) -> SentenceFacts:
    """The facts of a sentence (cached: a sentence is compared with each of its pairs')."""
    text = fold(sentence)
    words = frozenset(text.split())
    numbers, names = facts(sentence)
    return SentenceFacts(text, words, words - STOPWORDS, numbers, names)


SMALL_OVERLAP = 1_000


def _set_overlap(
    a: Sequence[frozenset[str]], b: Sequence[frozenset[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(intersection, size of a, size of b) for every pair of sets, as m x n arrays
    (float32: small integers, exact either way).

    Up to `SMALL_OVERLAP` cells, set by set (most matrices are a few sentences square, where
    numpy's set-up costs more than the intersections); beyond, as a product of incidence
    matrices."""
    if len(a) * len(b) <= SMALL_OVERLAP:
        return (
            np.array([[len(x & y) for y in b] for x in a], dtype=np.float32).reshape(len(a), len(b)),
            np.array([len(x) for x in a], dtype=np.float32)[:, None],
            np.array([len(y) for y in b], dtype=np.float32)[None, :],
        )
    vocabulary: dict[str, int] = {}
    for s in (*a, *b):
        for w in s:
            vocabulary.setdefault(w, len(vocabulary))
    ia = np.zeros((len(a), max(1, len(vocabulary))), dtype=np.float32)
    ib = np.zeros((len(b), max(1, len(vocabulary))), dtype=np.float32)
    for row, s in enumerate(a):
        ia[row, [vocabulary[w] for w in s]] = 1.0
    for row, s in enumerate(b):
        ib[row, [vocabulary[w] for w in s]] = 1.0
    with np.errstate(all="ignore"):  # 0/1 products are exact; some BLAS kernels flag spuriously
        inter = ia @ ib.T
    return inter, ia.sum(axis=1)[:, None], ib.sum(axis=1)[None, :]


def _jaccard(inter: np.ndarray, sa: np.ndarray, sb: np.ndarray, empty: float) -> np.ndarray:
    union = sa + sb - inter
    return np.where(union > 0, inter / np.maximum(union, 1), empty)


Overlap = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(intersection, size of one side, size of the other) of sets, as arrays that broadcast."""


def _cosine_column(cosine: np.ndarray) -> np.ndarray:
    """The cosine as the full model reads it (float64, within [-1, 1]), in `_columns` and
    in `with_cosine` alike."""
    return np.clip(np.asarray(cosine, dtype=np.float64), -1.0, 1.0)


def _columns(
    ratios: dict[str, np.ndarray], overlaps: dict[str, Overlap], la: np.ndarray, lb: np.ndarray,
    cosine: np.ndarray | None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The features from ratios, set overlaps and lengths (matrices or vectors alike)."""
    inter, sa, sb = overlaps["words"]
    n_inter, n_sa, n_sb = overlaps["numbers"]
    n_union = n_sa + n_sb - n_inter
    columns = {
        **ratios,
        "word_jaccard": _jaccard(*overlaps["words"], 0.0),
        "word_containment": np.where(np.minimum(sa, sb) > 0, inter / np.maximum(np.minimum(sa, sb), 1), 0.0),
        "content_jaccard": _jaccard(*overlaps["content"], 0.0),
        "number_jaccard": _jaccard(*overlaps["numbers"], 1.0),
        "number_substituted": ((n_sa - n_inter > 0) & (n_sb - n_inter > 0) & (n_inter < n_union / 2)),
        "name_jaccard": _jaccard(*overlaps["names"], 1.0),
        "length_ratio": np.minimum(la, lb) / np.maximum(np.maximum(la, lb), 1.0),
    }
    if cosine is not None:
        columns["cosine"] = _cosine_column(cosine)
    return {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}


_SCORERS = {"ratio": fuzz.ratio, "token_sort": fuzz.token_sort_ratio, "token_set": fuzz.token_set_ratio,
            "partial": fuzz.partial_ratio}  # fmt: skip
_SETS = ("words", "content", "numbers", "names")


def feature_matrices(
    a: Sequence[SentenceFacts],
    b: Sequence[SentenceFacts],
    cosine: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every feature for every pair of `a` x `b`, as m x n float arrays."""
    fa, fb = [s.folded for s in a], [s.folded for s in b]
    ratios = {
        name: process.cdist(fa, fb, scorer=scorer, dtype=np.float32) / 100.0
        for name, scorer in _SCORERS.items()
    }
    overlaps = {k: _set_overlap([getattr(s, k) for s in a], [getattr(s, k) for s in b]) for k in _SETS}
    la = np.array([len(x) for x in fa], dtype=np.float64)[:, None]
    lb = np.array([len(x) for x in fb], dtype=np.float64)[None, :]
    return _columns(ratios, overlaps, la, lb, cosine)


def pair_features(
    a: Sequence[SentenceFacts],
    b: Sequence[SentenceFacts],
    cosine: np.ndarray | None = None,
    *,
    as_matrix: bool = False,
) -> dict[str, np.ndarray]:
    """The features of the pairs (a[k], b[k]), as vectors: for aligned pairs only. With
    `as_matrix`, the set overlaps are float32, as `feature_matrices` has them, so that each
    pair's features are the very floats its cell of a matrix would hold."""
    fa, fb = [s.folded for s in a], [s.folded for s in b]
    ratios = {
        name: process.cpdist(fa, fb, scorer=scorer, dtype=np.float32) / 100.0
        for name, scorer in _SCORERS.items()
    }
    dtype = np.float32 if as_matrix else np.float64

    def overlap(kind: str) -> Overlap:
        pairs = [(getattr(x, kind), getattr(y, kind)) for x, y in zip(a, b, strict=True)]
        return (
            np.array([len(x & y) for x, y in pairs], dtype=dtype),
            np.array([len(x) for x, _ in pairs], dtype=dtype),
            np.array([len(y) for _, y in pairs], dtype=dtype),
        )

    la = np.array([len(x) for x in fa], dtype=np.float64)
    lb = np.array([len(x) for x in fb], dtype=np.float64)
    return _columns(ratios, {k: overlap(k) for k in _SETS}, la, lb, cosine)


def pair_similarities(
    a: Sequence[SentenceFacts],
    b: Sequence[SentenceFacts],
    cosine: np.ndarray | None = None,
    *,
    as_matrix: bool = False,
) -> np.ndarray:
    """Calibrated similarity of each pair (a[k], b[k]) (`as_matrix`: see `pair_features`)."""
    if not a:
        return np.zeros(0, dtype=np.float64)
    model = models()["full" if cosine is not None else "lexical"]
    return model.probability(pair_features(a, b, cosine, as_matrix=as_matrix))


def similarity_matrix(
    a: Sequence[SentenceFacts],
    b: Sequence[SentenceFacts],
    cosine: np.ndarray | None = None,
) -> np.ndarray:
    """Calibrated similarity of every pair of `a` x `b` (the `full` model when `cosine`,
    the m x n cosines of the sentences' embeddings, is given; else `lexical`)."""
    if not a or not b:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    model = models()["full" if cosine is not None else "lexical"]
    return model.probability(feature_matrices(a, b, cosine))


def cosine_free_logits(a: Sequence[SentenceFacts], b: Sequence[SentenceFacts]) -> np.ndarray:
    """The `full` model's logit of every pair of `a` x `b` but for its cosine term: all the
    lexical features say, before anything is embedded. `with_cosine` completes it."""
    if not a or not b:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    return models()["full"].logit(feature_matrices(a, b), without="cosine")


def with_cosine(logits: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """`similarity_matrix` with `cosine`, from `cosine_free_logits` of the same cells: the
    same numbers, the cosine being the model's last term."""
    return _sigmoid(logits + _cosine_weight() * _cosine_column(cosine))


def _cosine_weight() -> float:
    """The full model's weight of the cosine, its last feature (`FULL_FEATURES`): added
    last, as `Model.logit` adds it, so `with_cosine` gives the very same floats."""
    model = models()["full"]
    return model.weights[model.features.index("cosine")]


def cosine_reach(logits: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows and the columns of `cosine_free_logits` with a cell that some cosine in
    [-1, 1] would lift to `threshold`: the only sentences whose embedding can make a match
    (the full model is linear in the cosine, so no cosine does more than its weight).

    Conservative by a hair (1e-9 on the logit), so that rounding never drops a sentence
    whose match `with_cosine` would have found."""
    reach = logits + abs(_cosine_weight()) >= np.log(threshold / (1 - threshold)) - 1e-9
    return np.flatnonzero(reach.any(axis=1)), np.flatnonzero(reach.any(axis=0))


class _Memo:
    """A bounded memo of sentence-pair similarities (`MEMO_CELLS` pairs, about 100 MB);
    when full it starts again empty."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], float] = {}

    def remember(self, keys: Sequence[tuple[str, str]], values: np.ndarray) -> None:
        if len(self.cells) + len(keys) > MEMO_CELLS:
            self.cells.clear()
        self.cells.update(zip(keys, values.tolist(), strict=True))

    def through(
        self, keys: Sequence[tuple[str, str]], compute: Callable[[list[int]], np.ndarray]
    ) -> np.ndarray:
        """The values of the sentence pairs `keys`: those seen before from the memo, the
        others from `compute` (given their positions in `keys`), then remembered."""
        found = [self.cells.get(k) for k in keys]
        missing = [k for k, v in enumerate(found) if v is None]
        out = np.array([0.0 if v is None else v for v in found], dtype=np.float64)
        if missing:
            values = compute(missing)
            out[missing] = values
            self.remember([keys[k] for k in missing], values)
        return out


MEMO_CELLS = 1 << 18
_matrix_memo = _Memo()
_pair_memo = _Memo()  # apart: a pair's set overlaps are float64, a matrix's float32


def lexical_matrix(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """`similarity_matrix` (lexical) of every pair of sentences `a` x `b`, the same numbers,
    through a memo of sentence pairs.

    Verification grades the sentences of every candidate pair that alignment leaves open,
    and the copies of one story bring the same sentence pairs back again and again (45% of
    the cells on the scale corpus had been graded before). Only the rows and columns with a
    cell not seen are computed, as one smaller matrix: every feature is a function of its
    cell alone, so a cell's number does not depend on the matrix it was computed in (a
    property test holds the two equal)."""
    out = np.zeros((len(a), len(b)), dtype=np.float64)
    if not len(a) or not len(b):
        return out
    cells = _matrix_memo.cells
    missing_rows: list[int] = []
    missing_cols: set[int] = set()
    for r, x in enumerate(a):
        row = [cells.get((x, y)) for y in b]
        if None in row:
            missing_rows.append(r)
            missing_cols.update(c for c, v in enumerate(row) if v is None)
        else:
            out[r] = row
    if missing_rows:
        cols = sorted(missing_cols)
        seen = [c for c in range(len(b)) if c not in missing_cols]
        for r in missing_rows:  # a row's cells seen before, in columns seen throughout
            out[r, seen] = [cells[a[r], b[c]] for c in seen]
        sub = similarity_matrix(
            [sentence_facts(a[r]) for r in missing_rows], [sentence_facts(b[c]) for c in cols]
        )
        out[np.ix_(missing_rows, cols)] = sub
        _matrix_memo.remember([(a[r], b[c]) for r in missing_rows for c in cols], sub.ravel())
    return out


def lexical_partners(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """`lexical_matrix` of `a` x `b` where the two sentences share a content word (one
    that is not grammar: `SentenceFacts.content`), 0 where they share none: what an open
    sentence's partner can be worth (`score._open_similarity`).

    Between sentences with no word of content in common the lexical model reads only the
    likeness of their letters and their grammar, not of what they say. On the open
    sentences of the scale corpus it gave them 0.07 at the median and 0.30 at p99, and they
    were 91% of a day's open grids on a stored archive, where `partial_ratio` spent most of
    the day's extra verification (`scripts/bench_open_grids.py`). So only the cells that
    share a word are computed, pair by pair, with the matrix's float32 overlaps: each is
    the number its cell of `lexical_matrix` holds, through the same memo."""
    out = np.zeros((len(a), len(b)), dtype=np.float64)
    if not len(a) or not len(b):
        return out
    fa, fb = [sentence_facts(x) for x in a], [sentence_facts(y) for y in b]
    shared, _, _ = _set_overlap([f.content for f in fa], [f.content for f in fb])
    rows, cols = (index.tolist() for index in np.nonzero(shared))
    if rows:
        out[rows, cols] = _matrix_memo.through(
            [(a[r], b[c]) for r, c in zip(rows, cols, strict=True)],
            lambda missing: pair_similarities(
                [fa[rows[k]] for k in missing], [fb[cols[k]] for k in missing], as_matrix=True
            ),
        )
    return out


def lexical_pairs(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """`pair_similarities` (lexical) of the sentence pairs (a[k], b[k]), the same numbers,
    through a memo of sentence pairs (as `lexical_matrix`)."""
    return _pair_memo.through(
        list(zip(a, b, strict=True)),
        lambda missing: pair_similarities(
            [sentence_facts(a[k]) for k in missing], [sentence_facts(b[k]) for k in missing]
        ),
    )


def sentence_similarity(a: str, b: str, cosine: float | None = None) -> float:
    """The calibrated similarity of two sentences (see the module docstring)."""
    matrix = similarity_matrix(
        [sentence_facts(a)], [sentence_facts(b)], None if cosine is None else np.array([[cosine]])
    )
    return float(matrix[0, 0])
