"""Tracing a text against the archive: where did each paragraph come from? Read-only.

The question a newsroom asks first, about an article it did not store: the same cascade as
`dedup ingest` (exact hash, LSH buckets of the whole text and of each paragraph, the
nearest stored ledes when the model is on, then verification), run against the stored
index without writing anything, then the article's paragraphs with their earliest sources
as `dedup provenance` gives them for stored ones. The traced article comes after
everything stored (it is the newest), unless its own date says it is older.

>>> from dedup.store import Store
>>> import dedup
>>> with Store.open(":memory:") as store:
...     trace(store, dedup.article_from_text("A text no one stored."), TraceOptions(embed=False)).rows[0]["kind"]
'original'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dedup.cluster import Node, origin_rank
from dedup.embed import DIMENSIONS, CachedEmbedder, Embedder, MiniLMEmbedder
from dedup.fingerprint import IndexConfig, fingerprint
from dedup.model import Article, utc_naive
from dedup.provenance import SentenceLink, paragraph_sources
from dedup.score import SideText
from dedup.semantic import LEDE_TOKENS, lede_if_long_enough, lede_vectors, nearest
from dedup.stages import VerifyOptions, judge_pairs
from dedup.store import Store


@dataclass(frozen=True, slots=True)
class TraceOptions:
    index_config: IndexConfig = field(default_factory=IndexConfig)
    embed: bool = True
    """Semantic candidates and paraphrase matching with the model; False: lexical only."""
    device: str = "cpu"
    min_share: float = 0.5


@dataclass(frozen=True, slots=True)
class Trace:
    rows: list[dict[str, Any]]
    """The article paragraph by paragraph, as `Store.provenance_rows` gives a stored one."""
    candidates: int
    """Stored articles the cascade proposed (exact, LSH, semantic)."""
    linked: int
    """Of those, the ones verification found reuse with."""
    seconds: dict[str, float]


def trace(
    store: Store, article: Article, options: TraceOptions = TraceOptions(), embedder: Embedder | None = None
) -> Trace:
    """Trace `article` against `store` (which is only read; see the module docstring)."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    config = options.index_config
    me = store.next_article_key()  # after everything stored
    layout = tuple((p.index, p.start, p.end, p.role) for p in article.paragraphs)
    fp = fingerprint([(me, article.body, layout)], config)
    found = store.trace_candidates(fp, config.max_bucket)
    side = SideText.of(article)
    full = embedder or (MiniLMEmbedder(options.device) if options.embed else None)
    chosen = lede_if_long_enough(side.sentences, side.countable, config.lede_sentences)
    if options.embed and full is not None and config.semantic_neighbors > 0 and chosen and not found:
        # as at ingest: only an article no lexical candidate pairs gets a lede vector
        short = full.truncated(LEDE_TOKENS) if isinstance(full, MiniLMEmbedder) else full
        vector = lede_vectors([[side.sentences[i] for i in chosen]], CachedEmbedder(short, store).encode)
        near = nearest(vector, np.array([me]), store.vector_blocks(me),
                       k=config.semantic_neighbors, floor=config.semantic_floor)  # fmt: skip
        found = {a: "semantic" for a, _, _ in near}
    seconds["candidates"] = time.perf_counter() - started
    keys = sorted(found)
    texts = store.side_texts(keys)
    holders = store.template_holders({h for _, _, hashes in texts.values() for h in hashes} | set(side.keys))
    sides = {k: SideText(s, c, keys=hashes) for k, (s, c, hashes) in texts.items()}
    sides[me] = side
    nodes = store.nodes(keys)
    nodes[me] = Node(me, utc_naive(article.published), article.wire)
    rank = {k: origin_rank(n) for k, n in nodes.items()}
    encode: Callable[[list[str]], np.ndarray]
    if full is not None:
        encode = CachedEmbedder(full, store).encode
    else:
        encode = lambda sentences: np.zeros((len(sentences), DIMENSIONS), dtype=np.float32)  # noqa: E731
    verify = VerifyOptions(embed=options.embed and full is not None)
    pairs = [(k, me) for k in keys if k in sides]
    started = time.perf_counter()
    rows, alignments, _, _, _ = judge_pairs(pairs, sides, rank, verify, encode, 0, holders)
    seconds["verify"] = time.perf_counter() - started
    linked = {int(str(r[0])) for r in rows if r[2] != "none"}
    links = [
        SentenceLink(int(str(b_sentence)), int(str(a)), int(str(a_sentence)), str(kind))
        for a, _, a_sentence, b_sentence, kind, _, _ in alignments
        if int(str(a)) in linked and a_sentence is not None and b_sentence is not None
    ]
    _, sentences = store.layout(sorted(linked))
    paragraph_of = {(k, i): p for k, sents in sentences.items() for i, (p, _) in enumerate(sents)}
    mine = [(p.index, p.role) for p in article.paragraphs]
    my_sentences = [(s.paragraph, s.end - s.start) for s in article.sentences]
    sources = {
        s.paragraph: s
        for s in paragraph_sources(
            nodes[me], mine, my_sentences, links, nodes, paragraph_of, min_share=options.min_share
        )
    }
    described = store.describe_articles(sorted({s.source for s in sources.values() if s.source is not None}))
    out = []
    for p in article.paragraphs:
        src = sources.get(p.index)
        about = described.get(src.source) if src is not None and src.source is not None else None
        out.append({
            "paragraph": p.index, "role": p.role, "text": article.text_of(p),
            "kind": src.kind if src is not None else p.role,
            "share": round(src.share, 4) if src is not None else None,
            "source": about["ref"] if about else None, "source_outlet": about["outlet"] if about else None,
            "source_wire": (about["wire"] or None) if about else None,
            "source_paragraph": src.source_paragraph if src is not None else None,
        })  # fmt: skip
    return Trace(out, len(keys), len(linked), {k: round(v, 3) for k, v in seconds.items()})
