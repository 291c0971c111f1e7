"""Fingerprints of a batch of articles: exact hashes, MinHash signatures and LSH band keys,
for each whole article and for each of its body paragraphs (the passages).

Pure and picklable: a process pool fans batches out over cores (`fingerprint_stream`), and
the Spark engine maps the same function over partitions.

Tokens are folded and hashed once. The article's shingles run across paragraph breaks (a
reprint that re-breaks lines or paragraphs keeps its shingles, and it is the definition of
the silver pairs); a passage's shingles stay inside its paragraph, and passages get their
own, shorter, signature (`passage_perm`). Boilerplate and credit paragraphs are left out.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from dedup.lsh import band_keys, lsh_params
from dedup.minhash import MinHasher
from dedup.shingle import (
    batch_token_hashes,
    exact_hashes,
    fold_bytes,
    fold_paragraphs,
    ngram_hashes,
    shingle_hashes,
)

MAX_BUCKET = 50


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """Parameters of the candidate stage; `docs/candidates.md` says how the defaults were chosen."""

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    threshold: float = 0.5
    """Jaccard threshold of the whole-article LSH."""
    passage_threshold: float = 0.5
    passage_perm: int = 64
    """Passages are banded on the first `passage_perm` signature positions (fewer keys)."""
    min_passage_tokens: int = 12
    """Shorter paragraphs ("No one was hurt.") count for the article but are not passages."""
    max_bucket: int = MAX_BUCKET
    """In an LSH bucket only the first `max_bucket` articles pair up; later ones are reported."""
    window_days: float | None = None
    semantic_neighbors: int = 5
    """Semantic candidates (`dedup.semantic`) per article with no lexical one; 0: none."""
    semantic_floor: float = 0.7
    """Cosine of the lede vectors below which no semantic candidate is made."""
    lede_sentences: int = 1
    """Body sentences whose embeddings make an article's lede vector."""

    @property
    def doc_bands(self) -> tuple[int, int]:
        return lsh_params(self.threshold, self.num_perm)

    @property
    def passage_bands(self) -> tuple[int, int]:
        return lsh_params(self.passage_threshold, self.passage_perm)

    def pinned(self) -> dict[str, object]:
        """The parameters that must stay the same for every article of a database."""
        keep = (
            "shingle_size",
            "num_perm",
            "seed",
            "threshold",
            "passage_threshold",
            "passage_perm",
            "min_passage_tokens",
        )
        return {name: getattr(self, name) for name in keep}

    def validate(self) -> None:
        if self.shingle_size < 1:
            raise ValueError("shingle size must be >= 1")
        if not 1 <= self.passage_perm <= self.num_perm:
            raise ValueError("passage_perm must be between 1 and num_perm")
        if self.max_bucket < 2:
            raise ValueError("max_bucket must be >= 2")


ArticleText = tuple[int, str, tuple[tuple[int, int, int, str], ...]]
"""(article_key, body, paragraphs as (index, start, end, role)): what fingerprinting needs."""


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """Column arrays for a batch. Articles without any body text have `shingles == 0`."""

    article_key: np.ndarray  # (A,) int64
    exact: np.ndarray  # (A,) uint64, 0 when empty
    shingles: np.ndarray  # (A,) int32: distinct shingles of the article
    signature: np.ndarray  # (A, num_perm) uint32
    doc_bands: np.ndarray  # (A, b) uint64
    passage_article: np.ndarray  # (Q,) int64
    passage_paragraph: np.ndarray  # (Q,) int32
    passage_exact: np.ndarray  # (Q,) uint64
    passage_tokens: np.ndarray  # (Q,) int32
    passage_bands: np.ndarray  # (Q, b2) uint64


def fingerprint(items: Sequence[ArticleText], config: IndexConfig = IndexConfig()) -> Fingerprints:
    """Fingerprint a batch of articles (pure; see the module docstring).

    Equal, article by article, to shingling each text on its own with the reference
    functions of `dedup.shingle` (a property test holds them equal).
    """
    if len(items) >= 1 << 24:
        raise ValueError("fingerprint at most 16M articles per batch")
    n = config.shingle_size
    folded: list[bytes] = []  # every body paragraph of the batch, in order
    par_item: list[int] = []
    par_index: list[int] = []
    for i, (_, body, paragraphs) in enumerate(items):
        parts = fold_paragraphs(body) if body else []
        if len(parts) != len(paragraphs):  # spans that do not follow blank lines: use them
            parts = [fold_bytes(body[start:end]) for _, start, end, _ in paragraphs]
        chosen = [p[0] for p in paragraphs if p[3] == "body"]
        if len(chosen) == len(parts):
            folded += parts
        else:
            folded += [parts[k] for k in chosen]
        par_index += chosen
        par_item += [i] * len(chosen)
    tok, tok_par = batch_token_hashes(folded)
    par_item_arr = np.asarray(par_item, dtype=np.int64)
    tok_item = par_item_arr[tok_par] if len(tok) else np.empty(0, dtype=np.int64)
    item_bounds = np.searchsorted(tok_item, np.arange(len(items) + 1))
    exact = np.zeros(len(items), dtype=np.uint64)
    has_tokens = np.flatnonzero(np.diff(item_bounds))
    exact[has_tokens] = exact_hashes(tok, item_bounds[has_tokens], item_bounds[has_tokens + 1])

    # Whole-article shingles: n-grams that stay inside one article (across its paragraphs);
    # an article with fewer than n tokens gets one shingle of all of them.
    grams = ngram_hashes(tok, n)
    inside = (
        tok_item[: len(grams)] == tok_item[n - 1 : n - 1 + len(grams)] if len(grams) else np.zeros(0, bool)
    )
    doc_item = tok_item[: len(grams)][inside]
    doc_hash = grams[inside]
    per_item = np.bincount(tok_item, minlength=len(items))
    short = np.flatnonzero((per_item > 0) & (per_item < n))
    if len(short):
        firsts = np.searchsorted(tok_item, short)
        extra = [shingle_hashes(tok[f : f + per_item[i]], n) for i, f in zip(short, firsts, strict=True)]
        doc_item = np.concatenate([doc_item, short])
        doc_hash = np.concatenate([doc_hash, *extra])
        order = np.argsort(doc_item, kind="stable")
        doc_item, doc_hash = doc_item[order], doc_hash[order]
    doc_starts = np.searchsorted(doc_item, np.arange(len(items)))
    signature = MinHasher(config.num_perm, config.seed).signatures(doc_hash, doc_starts)
    # Distinct shingles per article: one sort of (article << 40 | top 40 bits of the hash);
    # a false tie inside one article has probability ~ shingles^2 / 2^41.
    packed = np.sort((doc_item.astype(np.uint64) << np.uint64(40)) | (doc_hash >> np.uint64(24)))
    distinct = np.ones(len(packed), dtype=bool)
    distinct[1:] = packed[1:] != packed[:-1]
    owners = (packed[distinct] >> np.uint64(40)).astype(np.int64)
    shingles = np.bincount(owners, minlength=len(items)).astype(np.int32)

    # Passages: paragraphs of at least min_passage_tokens tokens, shingled inside themselves.
    par_tokens = np.bincount(tok_par, minlength=len(folded))
    par_bounds = np.concatenate([[0], np.cumsum(par_tokens)])
    passage = np.flatnonzero(par_tokens >= config.min_passage_tokens)
    same_par = (
        tok_par[: len(grams)] == tok_par[n - 1 : n - 1 + len(grams)] if len(grams) else np.zeros(0, bool)
    )
    is_passage = np.zeros(len(folded), dtype=bool)
    is_passage[passage] = True
    keep = same_par & is_passage[tok_par[: len(grams)]] if len(grams) else same_par
    p_par = tok_par[: len(grams)][keep]
    p_hash = grams[keep]
    p_starts = np.searchsorted(p_par, passage)
    passage_sig = MinHasher(config.passage_perm, config.seed).signatures(p_hash, p_starts)

    keys = np.asarray([item[0] for item in items], dtype=np.int64)
    return Fingerprints(
        article_key=keys,
        exact=exact,
        shingles=shingles,
        signature=signature,
        doc_bands=band_keys(signature, *config.doc_bands),
        passage_article=keys[par_item_arr[passage]] if len(passage) else np.empty(0, dtype=np.int64),
        passage_paragraph=np.asarray(par_index, dtype=np.int32)[passage],
        passage_exact=exact_hashes(tok, par_bounds[passage], par_bounds[passage + 1]),
        passage_tokens=par_tokens[passage].astype(np.int32),
        passage_bands=band_keys(passage_sig, *config.passage_bands),
    )


def concat(parts: Sequence[Fingerprints]) -> Fingerprints:
    fields = Fingerprints.__slots__
    return Fingerprints(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def fingerprint_stream(
    batches: Iterable[Sequence[ArticleText]],
    config: IndexConfig = IndexConfig(),
    *,
    pool: ProcessPoolExecutor | None = None,
    slices: int = 2,
) -> Iterator[Fingerprints]:
    """`fingerprint` of each batch, in order; with a pool, each batch in `slices` parts.

    With a pool the stream runs one batch ahead: batch i+1 is drawn from `batches` and sent
    to the workers before batch i's fingerprints are yielded, so whatever the caller does
    to draw a batch (read it from the database) and with a result (store it) overlaps the
    workers' fingerprinting instead of leaving them idle. At most two batches are in flight.
    """
    if pool is None:
        for batch in batches:
            yield fingerprint(batch, config)
        return
    in_flight: collections.deque[list[Future[Fingerprints]]] = collections.deque()
    for batch in batches:
        size = -(-len(batch) // max(slices, 1))
        parts = [batch[i : i + size] for i in range(0, len(batch), size)]
        in_flight.append([pool.submit(fingerprint, part, config) for part in parts])
        if len(in_flight) > 1:
            yield concat([f.result() for f in in_flight.popleft()])
    while in_flight:
        yield concat([f.result() for f in in_flight.popleft()])
