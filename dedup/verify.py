"""Verification of a run's candidate pairs over a Store (the local engine): their texts
read a batch at a time, `stages.judge_pairs` in a process pool, one worker per core, the
model (`Encoder`, behind the store's embedding cache) in this process, the verdicts and
alignments written back in order. `dedup.pipeline` calls `verify_run` after candidates;
the Spark engine calls `judge_pairs` per partition instead."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any

import numpy as np

from dedup.cluster import origin_rank
from dedup.embed import DIMENSIONS, CachedEmbedder, Embedder, MiniLMEmbedder
from dedup.finish import Steps, no_steps, timed
from dedup.model import VerifySummary
from dedup.score import SideText
from dedup.stages import Aligned, Judged, VerifyOptions, align_pairs, finish_pairs, judge_pairs
from dedup.store import Store
from dedup.templates import Holders
from dedup.workers import process_pool

VERIFY_BATCH = 20_000
"""Candidate pairs whose texts are read per batch (the texts of ~20,000 pairs: ~100 MB)."""
VERIFY_STEP = 1_000
"""Of those, pairs judged (aligned, embedded, written) at a time: progress moves per step."""
VERIFY_POOL_MIN = 2 * VERIFY_STEP
"""Verification of fewer pairs stays in one process (a pool costs a fork and the pickling
of every side)."""


class Encoder:
    """The model behind the store's embedding cache, loaded on first use, its time kept
    in `seconds["embed"]`: one per run, shared by semantic candidates and verification."""

    def __init__(
        self,
        store: Store,
        device: str,
        embedder: Embedder | None,
        seconds: dict[str, float],
        max_tokens: int | None = None,
    ) -> None:
        if max_tokens is not None and isinstance(embedder, MiniLMEmbedder):
            embedder = embedder.truncated(max_tokens)
        self.store, self.device, self.embedder, self.seconds = store, device, embedder, seconds
        self.max_tokens = max_tokens
        self.cache: CachedEmbedder | None = None

    def __call__(self, sentences: list[str]) -> np.ndarray:
        with timed(self.seconds, "embed"):
            if self.cache is None:
                inner = self.embedder or MiniLMEmbedder(self.device, max_tokens=self.max_tokens)
                self.cache = CachedEmbedder(inner, self.store)
            return self.cache.encode(sentences)

    @property
    def computed(self) -> int:
        return self.cache.misses if self.cache is not None else 0


def _work(
    chunk: list[tuple[int, int]],
    sides: dict[int, SideText],
    rank: dict[int, tuple[bool, float, bool, int]],
    holders: dict[int, Holders],
    options: VerifyOptions,
    run_id: int,
) -> tuple[Any, ...]:
    """One step's share of a batch, for a worker: only its own sides, ranks and holders."""
    keys = {k for pair in chunk for k in pair}
    mine = {h: holders[h] for k in keys for h in sides[k].keys if h in holders}
    return chunk, {k: sides[k] for k in keys}, {k: rank[k] for k in keys}, mine, options, run_id


def _no_model(sentences: list[str]) -> np.ndarray:
    raise AssertionError("lexical verification embeds nothing")


def _judge_lexically(work: tuple[Any, ...]) -> Judged:
    """`judge_pairs` without the model, in a worker process (`verify_run`)."""
    chunk, sides, rank, holders, options, run_id = work
    return judge_pairs(chunk, sides, rank, options, _no_model, run_id, holders)


def _align(work: tuple[Any, ...]) -> Aligned:
    """`align_pairs`, the half of `judge_pairs` before the model, in a worker process."""
    chunk, sides, _, holders, options, _ = work
    return align_pairs(chunk, sides, options, holders)


def _finish(work: tuple[Any, ...], aligned: Aligned, vectors: np.ndarray) -> Judged:
    """`finish_pairs`, the half of `judge_pairs` after the model, in a worker process."""
    chunk, sides, rank, holders, options, run_id = work
    return finish_pairs(chunk, sides, rank, options, aligned, vectors, run_id, holders)


def _judged_with_model(
    pool: Executor, works: list[tuple[Any, ...]], encode: Callable[[list[str]], np.ndarray], group: int
) -> Iterator[Judged]:
    """The steps `works` judged with the model, `group` steps at a time: the workers align
    a group (`_align`), this process embeds its sentences (the model and the store's
    cache are its own), then the workers finish it (`_finish`) and align the next group
    together. The model never shares the cores with the workers: side by side, torch's
    threads and the workers slowed each other down more than they gained (10,000
    articles: the model's time 158 s to 188 s). The results come back in step order."""
    groups = [works[lo : lo + group] for lo in range(0, len(works), group)]
    aligning = [pool.submit(_align, work) for work in groups[0]] if groups else []
    for k, part in enumerate(groups):
        aligned = [half.result() for half in aligning]
        vectors = [
            encode(list(a.distinct)) if a.distinct else np.zeros((0, DIMENSIONS), dtype=np.float32)
            for a in aligned
        ]
        finishing = [pool.submit(_finish, w, a, v) for w, a, v in zip(part, aligned, vectors, strict=True)]
        aligning = [pool.submit(_align, work) for work in groups[k + 1]] if k + 1 < len(groups) else []
        yield from (half.result() for half in finishing)


def verify_run(
    store: Store,
    run_id: int,
    options: VerifyOptions | None = None,
    embedder: Embedder | None = None,
    seconds: dict[str, float] | None = None,
    *,
    encoder: Encoder | None = None,
    steps: Steps = no_steps,
) -> VerifySummary:
    """Align and score every candidate pair found in `run_id` (`judge_pairs`, with the
    model behind the store's embedding cache); store verdicts and alignments.

    Pairs go `VERIFY_BATCH` at a time (texts read, judged, written, dropped), so memory is
    bounded whatever the number of pairs; `embedded` counts distinct sentences per batch.
    Sentences that recur across many unrelated stories (`Store.run_template_holders`, read
    once a run) are marked on their sides, so that they never make a pair on their own.
    """
    options = options or VerifyOptions()
    seconds = {} if seconds is None else seconds
    pairs = store.candidates_of_run(run_id)
    encode = encoder or Encoder(store, options.device, embedder, seconds)
    workers = os.cpu_count() or 1
    # Verdicts are pure but for the model: their steps go to a process pool, one per core,
    # and come back in order, so the rows written are the same as in one process. With the
    # model, the workers run the lexical halves and the model stays here (torch uses the
    # cores itself, and the embedding cache is the store's).
    pool = process_pool(workers) if workers > 1 and len(pairs) >= VERIFY_POOL_MIN else None

    counts = dict.fromkeys(("duplicate", "rewrite", "partial", "none"), 0)
    sentences = embedded = 0
    # Verification writes no sentences, so the templates are the same for every batch.
    holders = store.run_template_holders(run_id) if pairs else {}

    def judging(start: int) -> Iterator[tuple[int, Judged]]:
        """The steps of the batch at `start`, read from the store; with the pool, already
        handed to it (judged while the caller writes the batch before)."""
        batch = pairs[start : start + VERIFY_BATCH]
        texts = store.side_texts([k for pair in batch for k in pair])
        sides = {k: SideText(s, c, keys=hashes) for k, (s, c, hashes) in texts.items()}
        rank = {k: origin_rank(node) for k, node in store.nodes(sorted(sides)).items()}
        at = range(start, start + len(batch), VERIFY_STEP)
        chunks = [pairs[i : min(i + VERIFY_STEP, start + len(batch))] for i in at]
        if pool is None:
            return zip(
                at,
                (judge_pairs(c, sides, rank, options, encode, run_id, holders) for c in chunks),
                strict=True,
            )
        works = [_work(c, sides, rank, holders, options, run_id) for c in chunks]
        if options.embed:
            return zip(at, _judged_with_model(pool, works, encode, 2 * workers), strict=True)
        futures = [pool.submit(_judge_lexically, work) for work in works]
        return zip(at, (f.result() for f in futures), strict=True)

    try:
        # The next batch is read before this one is written: with the pool, in this process
        # while the workers judge this one (reading scans the stored sentences, seconds a
        # batch at a million); in one process, judging is lazy and the order changes nothing.
        ahead = judging(0) if pairs else iter(())
        for start in range(0, len(pairs), VERIFY_BATCH):
            current = ahead
            if start + VERIFY_BATCH < len(pairs):
                ahead = judging(start + VERIFY_BATCH)
            for at, (rows, alignment_rows, found, compared, distinct) in current:  # a step at a time
                steps("verification", at, len(pairs))
                store.add_pairs(rows, alignment_rows)
                for relation, n in found.items():
                    counts[relation] += n
                sentences += compared
                embedded += distinct
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    steps("verification", len(pairs), len(pairs))
    computed = encode.computed
    return VerifySummary(
        pairs=len(pairs), sentences=sentences, embedded=embedded, computed=computed, **counts
    )
