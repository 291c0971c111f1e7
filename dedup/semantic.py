"""Semantic candidates: articles whose ledes mean the same, for the copies LSH cannot see.

A story rewritten sentence by sentence (a spinner's synonyms, a house rewrite of wire
copy) shares no word 5-gram with its source, so no LSH bucket. Its lede still says what
the source's lede says. So every article that the lexical index paired with no earlier
article gets a vector, the mean all-MiniLM-L6-v2 embedding of its first body sentences
(`lede`), and is paired with the `k` earlier articles whose vectors are nearest, above a
cosine floor, within the date window: `candidates.via_semantic`. Verification then
decides, as for any candidate.

Pure (numpy): the store keeps the vectors (`article_vectors`), so an increment searches
the old articles without embedding them again, and the sentences' own embeddings go to
the cache that verification reads. The search is exact, blocked matrix products: at the
sizes one machine holds (vectors of a few hundred thousand articles, 1.5 KB each) it is a
few BLAS calls per batch, needs no index to build or keep in step with the table, and is
the same whatever the split of the input into runs (an approximate index is not).

>>> import numpy as np
>>> block = (np.array([1, 2, 9]), np.eye(3, dtype=np.float32), np.full(3, np.nan))
>>> nearest(np.array([[0.9, 0.1, 0.0]], dtype=np.float32), np.array([7]), [block], k=2, floor=0.5)
[(1, 7, 0.9)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

LEDE_MIN_CHARS = 40
"""Shorter sentences ("By Jane Doe.", "Updated 5 p.m.") say nothing about the story."""
LEDE_TOKENS = 32
"""Word pieces of the lede the vector reads: its gist, 1.5x faster than whole sentences."""
MIN_SENTENCES = 2
"""Sentences (of `LEDE_MIN_CHARS` or more) an article needs for a vector: a paraphrase
rewrite aligns two at least (`ScoreConfig.paraphrase_min_sentences`), so a one-sentence
brief could never be one (11% of Reuters-21578's unpaired articles)."""


def long_enough(sentences: Sequence[str], countable: Sequence[bool]) -> bool:
    """Whether an article has `MIN_SENTENCES` countable sentences that say something."""
    return (
        sum(
            1
            for text, counted in zip(sentences, countable, strict=True)
            if counted and len(text) >= LEDE_MIN_CHARS
        )
        >= MIN_SENTENCES
    )


def lede(sentences: Sequence[str], countable: Sequence[bool], count: int) -> list[int]:
    """Indices of the first `count` countable sentences long enough to mean something.

    >>> lede(["SHORT.", "A train derailed near Millbrook on Tuesday, police said.", "Two were hurt badly."],
    ...      [True, True, True], 2)
    [1]
    """
    out = []
    for i, (text, counted) in enumerate(zip(sentences, countable, strict=True)):
        if counted and len(text) >= LEDE_MIN_CHARS:
            out.append(i)
            if len(out) == count:
                break
    return out


def lede_if_long_enough(sentences: Sequence[str], countable: Sequence[bool], count: int) -> list[int]:
    """`lede`, or no sentence at all for an article too short for a vector (`long_enough`):
    who gets a vector, the same rule in every engine and in `dedup trace`."""
    return lede(sentences, countable, count) if long_enough(sentences, countable) else []


def article_vector(vectors: np.ndarray) -> np.ndarray:
    """The unit mean of an article's lede vectors."""
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def lede_vectors(ledes: Sequence[Sequence[str]], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """One vector a lede (`article_vector` of its sentences), all sentences in one `encode`
    call so that the model sees one batch; a float32 matrix, a row an article (of at least
    one).

    >>> from dedup.embed import HashingEmbedder
    >>> lede_vectors([["A train derailed.", "No one was hurt."], ["Rain fell."]], HashingEmbedder().encode).shape
    (2, 384)
    """
    embedded = encode([s for sentences in ledes for s in sentences])
    vectors, at = [], 0
    for sentences in ledes:
        vectors.append(article_vector(embedded[at : at + len(sentences)]))
        at += len(sentences)
    return np.vstack(vectors).astype(np.float32)


QUERY_CHUNK = 1024
"""Queries scored against a block at a time: 1,024 x 50,000 scores are 200 MB."""
Block = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(keys, unit vectors, published epoch seconds or NaN) of some indexed articles."""


def _best(sims: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k best scores, ties broken by the smaller key (a
    partition, with a full sort only for the rows where the k-th score is tied)."""
    k = min(k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(sims, top, axis=1).min(axis=1)
    tied = np.flatnonzero(((sims >= kth[:, None]) & np.isfinite(sims)).sum(axis=1) > k)
    for row in tied:
        top[row] = np.lexsort((keys, -sims[row]))[:k]
    return top


def nearest(
    queries: np.ndarray,
    query_keys: np.ndarray,
    blocks: Iterable[Block],
    *,
    k: int,
    floor: float,
    query_times: np.ndarray | None = None,
    window_seconds: float | None = None,
) -> list[tuple[int, int, float]]:
    """(a, b, cosine) for each query `b` and its `k` nearest earlier articles `a` (a < b,
    cosine >= floor, and, with a window, published at most `window_seconds` apart when
    both dates are known), nearest first, ties by key; exact, a block of the index at a
    time (the result does not depend on the blocks)."""
    if k <= 0 or not len(queries):
        return []
    best_sim = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_key = np.full((len(queries), k), -1, dtype=np.int64)
    qk = np.asarray(query_keys, dtype=np.int64)
    for keys, vectors, times in blocks:
        index = np.asarray(vectors, dtype=np.float32)
        for lo in range(0, len(queries), QUERY_CHUNK):  # bounded memory: chunk x block scores
            hi = min(lo + QUERY_CHUNK, len(queries))
            sims = queries[lo:hi] @ index.T
            refused = keys[None, :] >= qk[lo:hi, None]  # only earlier articles
            if window_seconds is not None and query_times is not None:
                gap = np.abs(query_times[lo:hi, None] - times[None, :])
                refused |= gap > window_seconds  # NaN (an undated side) compares False: kept
            sims[refused | (sims < floor)] = -np.inf
            top = _best(sims, keys, k)
            merged_sim = np.concatenate([best_sim[lo:hi], np.take_along_axis(sims, top, axis=1)], axis=1)
            merged_key = np.concatenate([best_key[lo:hi], keys[top]], axis=1)
            order = np.lexsort((merged_key, -merged_sim), axis=1)[:, :k]  # nearest, then smaller key
            best_sim[lo:hi] = np.take_along_axis(merged_sim, order, axis=1)
            best_key[lo:hi] = np.take_along_axis(merged_key, order, axis=1)
    pairs = []
    for row, b in enumerate(qk.tolist()):
        for sim, a in zip(best_sim[row].tolist(), best_key[row].tolist(), strict=True):
            if a >= 0 and np.isfinite(sim):
                pairs.append((int(a), int(b), round(float(sim), 4)))
    return sorted(pairs, key=lambda p: (p[1], -p[2], p[0]))
