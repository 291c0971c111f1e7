"""Where a day's verification goes on a stored archive: the open grids.

A day of 10,000 articles costs more on top of a stored archive than in an empty database
(`scripts/bench_scale.py`: 1.57x at 100,000, 2.11x at a million), and the extra is
verification. This script says which part of it, and whether an exact shortcut is there.

`dedup ingest` of the first N articles of the scale corpus (lexically, with the process
pool), then the day after (the corpus's next 10,000 articles, as in bench_scale.py)
ingested twice, each in a child process of its own without the verification pool (so
that every step can be seen, and no cache of one day helps the other): on top of the N,
and into an empty database (the baseline, in the same run). Every grid that
`score._open_similarity` grades (`lexical_matrix` of the sentences alignment left open on
both sides, whose best one-to-one partners grade the score) is recorded and timed.

For each day: pairs verified, verification seconds, open-grid seconds, grid cells and
distinct sentence pairs; of the distinct pairs, those that share a content word and those
that do not, the similarity the lexical model gives the latter (p50 / p99 / max), and
rapidfuzz `partial_ratio`'s seconds on each kind (the scorer that takes most of a grid).
Leaving the pairs with no shared word out would only keep the scores if their similarity
were about 0.

Writes bench/results/open_grids.json. Usage:
  python3 scripts/bench_open_grids.py [--size 100000] [--smoke]
(--smoke: a 10,000-article corpus made in a temporary folder, 1,000 articles and a day of
500 on top; the JSON into a temporary folder)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import ROOT, options, print_table, require_corpora, run_phase, save, scale_corpus
from bench_scale import day_after, feed_slice
from rapidfuzz import fuzz

import dedup.pipeline
import dedup.score
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.similarity import sentence_facts
from dedup.store import Store

SCALE = ROOT / "bench" / "scale"
INCREMENT = 10_000
LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


class Grids:
    """What `_open_similarity` graded during one ingest: its seconds, its cells, and every
    distinct sentence pair with its similarity. Installed around the module's functions
    for the length of a `with`; the verdicts are untouched (the same functions are called,
    with the same arguments)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.grids: list[tuple[list[str], list[str], np.ndarray]] = []
        self._inside = False

    @property
    def cells(self) -> int:
        return sum(len(a) * len(b) for a, b, _ in self.grids)

    def pairs(self) -> dict[tuple[str, str], float]:
        """Every distinct sentence pair graded, with its similarity (listed after the run,
        so that the timing holds no bookkeeping)."""
        return {
            (x, y): float(m[r, c]) for a, b, m in self.grids for r, x in enumerate(a) for c, y in enumerate(b)
        }

    def __enter__(self) -> Grids:
        self._open, self._matrix = dedup.score._open_similarity, dedup.score.lexical_matrix

        def timed_open(*args: Any, **kwargs: Any) -> Any:
            started, self._inside = time.perf_counter(), True
            try:
                return self._open(*args, **kwargs)
            finally:
                self._inside = False
                self.seconds += time.perf_counter() - started

        def recorded_matrix(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
            out = self._matrix(a, b)
            if self._inside:
                self.grids.append((list(a), list(b), out.copy()))
            return out

        dedup.score._open_similarity, dedup.score.lexical_matrix = timed_open, recorded_matrix  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        dedup.score._open_similarity, dedup.score.lexical_matrix = self._open, self._matrix  # type: ignore[assignment]


def day(db: Path, feed: Path) -> dict[str, Any]:
    """The day's ingest in this process, without the verification pool (so every grid
    is seen here)."""
    pool_min, dedup.pipeline.VERIFY_POOL_MIN = dedup.pipeline.VERIFY_POOL_MIN, sys.maxsize
    try:
        with Grids() as grids, Store.open(db, memory_limit="4GB") as store:
            summary = ingest(store, [str(feed)], LEXICAL)
            seconds = store.run_stats(summary.run_id)["seconds"]
    finally:
        dedup.pipeline.VERIFY_POOL_MIN = pool_min
    assert summary.verify is not None
    sharing: list[tuple[str, str, float]] = []
    apart: list[tuple[str, str, float]] = []
    pairs = grids.pairs()
    for (x, y), value in pairs.items():
        fx, fy = sentence_facts(x), sentence_facts(y)
        (sharing if fx.content & fy.content else apart).append((fx.folded, fy.folded, value))
    apart_sims = np.array([v for *_, v in apart]) if apart else np.zeros(1)
    return {
        "pairs": summary.verify.pairs,
        "verify_s": round(seconds["verify"], 2),
        "open_grid_s": round(grids.seconds, 2),
        "cells": grids.cells,
        "distinct_cells": len(pairs),
        "sharing_a_content_word": len(sharing),
        "sharing_none": len(apart),
        "none_sim_p50": round(float(np.median(apart_sims)), 4),
        "none_sim_p99": round(float(np.quantile(apart_sims, 0.99)), 4),
        "none_sim_max": round(float(apart_sims.max()), 4),
        "partial_s_sharing": round(_partial_seconds(sharing), 2),
        "partial_s_none": round(_partial_seconds(apart), 2),
    }


def _partial_seconds(pairs: list[tuple[str, str, float]]) -> float:
    started = time.perf_counter()
    for x, y, _ in pairs:
        fuzz.partial_ratio(x, y)
    return time.perf_counter() - started


def arguments(parser: Any) -> None:
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--phase", nargs=2, help=argparse.SUPPRESS)


def main() -> None:
    args = options(__doc__, arguments)
    if args.phase:
        print(json.dumps(day(Path(args.phase[0]), Path(args.phase[1]))))
        return
    require_corpora()
    scale, size, increment = SCALE, args.size, INCREMENT
    if args.smoke:
        scale, size, increment = Path(tempfile.mkdtemp(prefix="dedup-grids-")), 1000, 500
    corpus = scale_corpus(scale, size)
    work = Path(tempfile.mkdtemp(prefix="dedup-grids-work-"))
    try:
        feed = feed_slice(corpus, 0, size, work / "feed.jsonl")
        today = day_after(corpus, size, increment, work / "day.jsonl")
        archive = work / "archive.duckdb"
        started = time.perf_counter()
        with Store.open(archive, memory_limit="4GB") as store:
            ingest(store, [str(feed)], LEXICAL)
        print(f"stored {size:,} articles in {time.perf_counter() - started:,.0f} s")
        rows = [
            {"day": f"+{increment:,} on {size:,}", **run_phase(Path(__file__), str(archive), str(today))},
            {
                "day": f"{increment:,} into empty",
                **run_phase(Path(__file__), str(work / "empty.duckdb"), str(today)),
            },
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.smoke:
            shutil.rmtree(scale, ignore_errors=True)
    print_table(rows, list(rows[0]))
    on, empty = rows
    ratios = {
        k: round(on[k] / empty[k], 2) if empty[k] else None
        for k in ("pairs", "verify_s", "open_grid_s", "distinct_cells")
    }
    print("on the archive / into empty: " + ", ".join(f"{k} {v}x" for k, v in ratios.items() if v))
    path = save("open_grids", {"size": size, "increment": increment, "days": rows, "ratios": ratios,
                               "smoke": args.smoke}, args)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
