"""Template sentences: what recurs across many unrelated stories, never evidence of reuse.

Reuters writes every bond issue with "Fees comprise 1-3/8 pct selling concession with 5/8
pct for management and underwriting combined", every dividend with "Pay April 30 / Record
April 16": two such stories share a whole sentence and nothing else. A syndicated story's
sentence is repeated too, by every copy, so a count of articles alone cannot tell them
apart; its *neighbours* can. Copies keep a story's order, so a syndicated sentence has the
same sentences before and after it in most of its holders, where a template sentence sits
between the substituted facts of a different story each time.

So each sentence carries its `key` (the folded text's hash) and a `context` (the hash of
its neighbours' keys), and a sentence is a template when it is held by at least
`MIN_ARTICLES` articles, no more than `MAX_COMMON_SHARE` of them in its commonest context.
For a pair, only the holders stored up to the pair's later article count (`Holders`), so
that a verdict does not depend on how the input was split into runs. Aligned template
sentences are shown, but a pair needs other shared text to be `partial` or a lexical
`rewrite`.

>>> keys = [sentence_key(s) for s in ("The bank said so.", "the bank said so", "Other.")]
>>> keys[0] == keys[1] != keys[2]
True
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from dedup.normalize import fold

MIN_ARTICLES = 5
"""Holders a sentence needs to be a template (Reuters-21578: 24 sentences of 80 characters or
more, all bond, note and market boilerplate; reruns of one story share their contexts)."""
MAX_COMMON_SHARE = 0.25
"""...no more than this share of which sit in one context: a syndicated sentence keeps its
neighbours in most copies (edited copies change some of them), a template hardly ever."""
_MASK = (1 << 63) - 1


def sentence_key(sentence: str) -> int:
    """63-bit hash of the folded sentence (fits a signed BIGINT): the key of the embedding
    cache too."""
    return xxhash.xxh3_64_intdigest(fold(sentence).encode()) >> 1


def context_keys(keys: Sequence[int]) -> list[int]:
    """The context of each sentence: a hash of the keys before and after it in its
    article (0 at either end)."""
    out = []
    for i in range(len(keys)):
        before = keys[i - 1] if i > 0 else 0
        after = keys[i + 1] if i + 1 < len(keys) else 0
        out.append(xxhash.xxh3_64_intdigest(f"{before}:{after}".encode()) >> 1 & _MASK)
    return out


def is_template(articles: int, common: int) -> bool:
    """Whether a sentence held by `articles` articles, at most `common` of them in one
    context, is template text (see the module docstring)."""
    return articles >= MIN_ARTICLES and common <= MAX_COMMON_SHARE * articles


@dataclass(frozen=True, slots=True)
class Holders:
    """Where a sentence turns template and back: the article keys, in order, at which
    `is_template` of the holders up to and including that article changes (it starts
    False). Whether it is a template as of any article is then a bisection, and a sentence
    held by a hundred thousand articles (a wire's sign-off) is a few numbers, not its
    holders, wherever it travels (to every verification worker)."""

    flips: tuple[int, ...]

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int]]) -> Holders:
        """From (article key, context) rows, one per holding sentence (an article holding
        the sentence twice counts once, in its smallest context)."""
        flips: list[int] = []
        counts: dict[int, int] = {}
        top = n = 0
        last: int | None = None
        template = False
        for article, context in sorted(rows):
            if article == last:
                continue
            last, n = article, n + 1
            counts[context] = counts.get(context, 0) + 1
            top = max(top, counts[context])
            if is_template(n, top) != template:
                template = not template
                flips.append(article)
        return cls(tuple(flips))

    def template_before(self, cutoff: int) -> bool:
        """Whether the sentence is a template among the holders with keys up to `cutoff`.

        >>> spread = Holders.of([(k, k) for k in range(1, 8)])  # a new context each time
        >>> spread.template_before(4), spread.template_before(6), Holders.of([(k, 0) for k in range(1, 8)]).template_before(7)
        (False, True, False)
        """
        return bisect.bisect_right(self.flips, cutoff) % 2 == 1


def holders_of_columns(keys: np.ndarray, articles: np.ndarray, contexts: np.ndarray) -> dict[int, Holders]:
    """`Holders.of` of many sentences at once, vectorised: from one row per (sentence key,
    holding article) with that article's smallest context for it, in any order, the
    holders of each key that ever turns template.

    `Holders.of` walks a sentence's holders one by one; a wire's sign-off held by a
    hundred thousand articles made that, or DuckDB's running-max window, most of the
    template read of a day's verification on a million articles (1.9 s). Here each row's
    count of holders so far (`n`), of holders in its context so far, and the running
    maximum of the latter (`top`) are a few sorts and cumulative sums; a property test
    holds the result equal to `Holders.of`.

    >>> holders_of_columns(np.array([9] * 6), np.arange(1, 7), np.arange(6))
    {9: Holders(flips=(5,))}
    """
    size = len(keys)
    if not size:
        return {}
    order = np.lexsort((articles, keys))
    k, a, c = (np.asarray(x, dtype=np.int64)[order] for x in (keys, articles, contexts))
    positions = np.arange(size)

    def ranks(first: np.ndarray) -> np.ndarray:
        """1, 2, ... along each run of rows that `first` opens."""
        starts = np.flatnonzero(first)
        return positions - starts[np.cumsum(first) - 1] + 1

    opens = np.ones(size, dtype=bool)
    opens[1:] = k[1:] != k[:-1]
    n = ranks(opens)
    by_context = np.lexsort((a, c, k))
    kc, cc = k[by_context], c[by_context]
    context_opens = np.ones(size, dtype=bool)
    context_opens[1:] = (kc[1:] != kc[:-1]) | (cc[1:] != cc[:-1])
    in_context = np.empty(size, dtype=np.int64)
    in_context[by_context] = ranks(context_opens)
    # the running maximum within each key: keys lifted apart, so that one accumulate serves
    lift = (np.cumsum(opens) - 1) * (size + 1)
    top = np.maximum.accumulate(in_context + lift) - lift
    template = (n >= MIN_ARTICLES) & (top <= MAX_COMMON_SHARE * n)
    before = np.zeros(size, dtype=bool)
    before[1:] = template[:-1]
    before[opens] = False
    flipped = np.flatnonzero(template != before)
    out: dict[int, list[int]] = {}
    for key, article in zip(k[flipped].tolist(), a[flipped].tolist(), strict=True):
        out.setdefault(key, []).append(article)
    return {key: Holders(tuple(flips)) for key, flips in out.items()}
