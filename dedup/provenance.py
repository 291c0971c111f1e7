"""Paragraph provenance: for every paragraph of an article, where it came from.

Pure. A paragraph is taken from an earlier article (earlier by `cluster.origin_rank`) when
sentences covering at least `min_share` of its characters align to that article. Of the
earlier articles that qualify, the earliest wins (the wire, not the site that reprinted
it); the source paragraph is the one holding most of the aligned sentences; the kind is the
one covering most characters. Everything else is `original`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from dedup.cluster import Node, origin_rank


class SentenceLink(NamedTuple):
    """One sentence of the article aligned to a sentence of another article.

    A named tuple, not a frozen dataclass like the module's other records: the cluster
    stage makes one per aligned sentence of every traced article, both ways (2.7 M at
    100,000 articles), and a tuple is made several times faster."""

    sentence: int
    other: int
    other_sentence: int
    kind: str


@dataclass(frozen=True, slots=True)
class ParagraphSource:
    paragraph: int
    source: int | None
    """Article key of the source, or None for an original paragraph."""
    source_paragraph: int | None
    kind: str
    """verbatim | edited | paraphrase | original"""
    share: float
    """Share of the paragraph's characters aligned to the source."""


def paragraph_sources(
    me: Node,
    paragraphs: Sequence[tuple[int, str]],
    sentences: Sequence[tuple[int, int]],
    links: Sequence[SentenceLink],
    others: dict[int, Node],
    other_paragraph_of: dict[tuple[int, int], int],
    *,
    min_share: float = 0.5,
) -> list[ParagraphSource]:
    """Sources of the body paragraphs of one article.

    `paragraphs`: (index, role); `sentences`: (paragraph, length) by sentence index;
    `other_paragraph_of[(article, sentence)]`: the paragraph of a sentence of another article.

    Tallies are plain dicts grouped by paragraph and each other article's rank is computed
    once: an article's links are many (every copy of a story links each sentence), and this
    function was most of the cluster stage at a million articles. Ties go as a `Counter`'s
    `most_common` breaks them: to the first tallied.
    """
    mine = origin_rank(me)
    length_of: dict[int, int] = defaultdict(int)
    for paragraph, length in sentences:
        length_of[paragraph] += length
    rank: dict[int, tuple[bool, float, bool, int]] = {}  # of the earlier articles
    later: set[int] = set()
    covered: dict[int, dict[int, int]] = {}  # paragraph -> source -> chars
    kinds: dict[tuple[int, int], dict[str, int]] = {}
    where: dict[tuple[int, int], dict[int, int]] = {}
    seen: set[tuple[int, int]] = set()
    for link in links:
        other = link.other
        if other not in rank:
            if other in later:
                continue
            theirs = origin_rank(others[other]) if other in others else None
            if theirs is None or not theirs < mine:
                later.add(other)
                continue  # only earlier articles can be sources
            rank[other] = theirs
        if (link.sentence, other) in seen:
            continue
        seen.add((link.sentence, other))
        paragraph, length = sentences[link.sentence]
        by_source = covered.setdefault(paragraph, {})
        by_source[other] = by_source.get(other, 0) + length
        kind = kinds.setdefault((paragraph, other), {})
        kind[link.kind] = kind.get(link.kind, 0) + length
        at = where.setdefault((paragraph, other), {})
        source_paragraph = other_paragraph_of.get((other, link.other_sentence), -1)
        at[source_paragraph] = at.get(source_paragraph, 0) + length
    out = []
    for index, role in paragraphs:
        if role != "body":
            continue
        total = length_of.get(index, 0)
        qualified = [
            source for source, chars in covered.get(index, {}).items() if total and chars / total >= min_share
        ]
        if not qualified:
            out.append(ParagraphSource(index, None, None, "original", 0.0))
            continue
        source = min(qualified, key=rank.__getitem__)
        share = min(1.0, covered[index][source] / total)
        kind_of = max(kinds[index, source].items(), key=itemgetter(1))[0]
        from_paragraph = max(where[index, source].items(), key=itemgetter(1))[0]
        out.append(ParagraphSource(index, source, from_paragraph, kind_of, round(share, 4)))
    return out
