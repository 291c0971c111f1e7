"""Paragraph provenance: for every paragraph of an article, where it came from.

Pure. A paragraph is taken from an earlier article (earlier by `cluster.origin_rank`) when
sentences covering at least `min_share` of its characters align to that article. Of the
earlier articles that qualify, the earliest wins (the wire, not the site that reprinted
it); the source paragraph is the one holding most of the aligned sentences; the kind is the
one covering most characters. Everything else is `original`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dedup.cluster import Node, origin_rank


@dataclass(frozen=True, slots=True)
class SentenceLink:
    """One sentence of the article aligned to a sentence of another article."""

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
    """
    mine = origin_rank(me)
    length_of: dict[int, int] = defaultdict(int)
    for paragraph, length in sentences:
        length_of[paragraph] += length
    covered: dict[tuple[int, int], int] = defaultdict(int)  # (paragraph, source) -> chars
    kinds: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    where: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    seen: set[tuple[int, int]] = set()
    for link in links:
        if link.other not in others or origin_rank(others[link.other]) >= mine:
            continue  # only earlier articles can be sources
        if (link.sentence, link.other) in seen:
            continue
        seen.add((link.sentence, link.other))
        paragraph, length = sentences[link.sentence]
        covered[paragraph, link.other] += length
        kinds[paragraph, link.other][link.kind] += length
        where[paragraph, link.other][other_paragraph_of.get((link.other, link.other_sentence), -1)] += length
    out = []
    for index, role in paragraphs:
        if role != "body":
            continue
        total = length_of.get(index, 0)
        qualified = [
            source
            for (paragraph, source), chars in covered.items()
            if paragraph == index and total and chars / total >= min_share
        ]
        if not qualified:
            out.append(ParagraphSource(index, None, None, "original", 0.0))
            continue
        source = min(qualified, key=lambda k: origin_rank(others[k]))
        share = min(1.0, covered[index, source] / total)
        kind = kinds[index, source].most_common(1)[0][0]
        source_paragraph = where[index, source].most_common(1)[0][0]
        out.append(ParagraphSource(index, source, source_paragraph, kind, round(share, 4)))
    return out
