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
`MIN_ARTICLES` articles with at least `MIN_CONTEXT_SHARE` of them in contexts of their own
(`Store.template_keys` counts both over the whole database). Aligned template sentences
are shown, but a pair needs other shared text to be `partial` or a lexical `rewrite`.

>>> keys = [sentence_key(s) for s in ("The bank said so.", "the bank said so", "Other.")]
>>> keys[0] == keys[1] != keys[2]
True
"""

from __future__ import annotations

from collections.abc import Sequence

import xxhash

from dedup.normalize import fold

MIN_ARTICLES = 20
"""Holders a sentence needs to be a template: rarer ones are a handful of copies."""
MIN_CONTEXT_SHARE = 0.5
"""...and the share of them whose neighbours differ from every other holder's."""
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


def is_template(articles: int, contexts: int) -> bool:
    """Whether a sentence held by `articles` articles in `contexts` distinct contexts is
    template text (see the module docstring)."""
    return articles >= MIN_ARTICLES and contexts >= MIN_CONTEXT_SHARE * articles
