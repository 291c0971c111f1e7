"""Where a day's verification goes on a stored archive, and what the open grids cost.

A day of 10,000 articles costs more on top of a stored archive than in an empty database
(`scripts/bench_scale.py`), and the extra is verification: mostly the open grids, the
lexical similarity of every pair of sentences alignment left open on both sides of a pair,
whose best one-to-one partners grade the score (`score._open_similarity`). Since
2026-12-05 an open sentence's partner must share a content word with it
(`ScoreConfig.partners_share_a_word`, `similarity.lexical_partners`); this script measures
that rule against grading every pair (the rule off), in the same run.

`dedup ingest` of the first N articles of the scale corpus (lexically, with the process
pool), then the day after (the corpus's next 10,000 articles, as in bench_scale.py)
ingested four times, each in a child process of its own without the verification pool (so
that every grid is seen, and no cache of one day helps another): on top of a copy of the
N, and into an empty database (the baseline), each with the rule on and off. Every grid
`_open_similarity` grades is recorded and timed.

For each day: pairs verified, verification seconds, open-grid seconds, grid cells and
distinct sentence pairs, of which those that share a content word; for the rule off, the
similarity the lexical model gives the others (p50 / p99 / max) and rapidfuzz
`partial_ratio`'s seconds on each kind (the scorer that takes most of a grid). Then, pair
for pair, what the rule changes in the day's verdicts: relations that differ (none, if the
rule is sound), scores that moved, and by how much.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import ROOT, options, print_table, require_corpora, run_phase, save, scale_corpus
from bench_scale import day_after, feed_slice
from rapidfuzz import fuzz

import dedup.score
import dedup.verify
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.score import ScoreConfig
from dedup.similarity import sentence_facts
from dedup.store import Store

SCALE = ROOT / "bench" / "scale"
INCREMENT = 10_000
RULES = {"share a word": True, "every pair": False}
"""`ScoreConfig.partners_share_a_word` on, and off (the grading before 2026-12-05)."""


def lexical(share_a_word: bool) -> IngestOptions:
    return IngestOptions(
        verify=VerifyOptions(embed=False, score=ScoreConfig(partners_share_a_word=share_a_word))
    )


class Grids:
    """What `_open_similarity` graded during one ingest: its seconds, and every grid with
    its similarities. Installed around the module's functions for the length of a `with`;
    the verdicts are untouched (the same functions are called, with the same arguments)."""

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
        self._saved = {name: getattr(dedup.score, name) for name in ("_open_similarity", *GRADERS)}

        def timed_open(*args: Any, **kwargs: Any) -> Any:
            started, self._inside = time.perf_counter(), True
            try:
                return self._saved["_open_similarity"](*args, **kwargs)
            finally:
                self._inside = False
                self.seconds += time.perf_counter() - started

        def recorded(name: str) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
            def grade(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
                out = self._saved[name](a, b)
                if self._inside:
                    self.grids.append((list(a), list(b), out.copy()))
                return out

            return grade

        dedup.score._open_similarity = timed_open  # type: ignore[assignment]
        for name in GRADERS:
            setattr(dedup.score, name, recorded(name))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, function in self._saved.items():
            setattr(dedup.score, name, function)


GRADERS = ("lexical_matrix", "lexical_partners")
"""What `_open_similarity` grades a grid with (every pair, or the pairs sharing a word)."""


def day(db: Path, feed: Path, share_a_word: bool) -> dict[str, Any]:
    """The day's ingest in this process, without the verification pool (so every grid
    is seen here)."""
    pool_min, dedup.verify.VERIFY_POOL_MIN = dedup.verify.VERIFY_POOL_MIN, sys.maxsize
    try:
        with Grids() as grids, Store.open(db, memory_limit="4GB") as store:
            summary = ingest(store, [str(feed)], lexical(share_a_word))
            seconds = store.run_stats(summary.run_id)["seconds"]
    finally:
        dedup.verify.VERIFY_POOL_MIN = pool_min
    assert summary.verify is not None
    sharing: list[tuple[str, str, float]] = []
    apart: list[tuple[str, str, float]] = []
    pairs = grids.pairs()
    for (x, y), value in pairs.items():
        fx, fy = sentence_facts(x), sentence_facts(y)
        (sharing if fx.content & fy.content else apart).append((fx.folded, fy.folded, value))
    row: dict[str, Any] = {
        "pairs": summary.verify.pairs,
        "verify_s": round(seconds["verify"], 2),
        "open_grid_s": round(grids.seconds, 2),
        "cells": grids.cells,
        "distinct_cells": len(pairs),
        "sharing_a_content_word": len(sharing),
        "sharing_none": len(apart),
        "partial_s_sharing": round(_partial_seconds(sharing), 2),
    }
    if not share_a_word:  # what the rule leaves out: how similar, and how dear
        apart_sims = np.array([v for *_, v in apart]) if apart else np.zeros(1)
        row |= {
            "none_sim_p50": round(float(np.median(apart_sims)), 4),
            "none_sim_p99": round(float(np.quantile(apart_sims, 0.99)), 4),
            "none_sim_max": round(float(apart_sims.max()), 4),
            "partial_s_none": round(_partial_seconds(apart), 2),
        }
    return row


def _partial_seconds(pairs: list[tuple[str, str, float]]) -> float:
    started = time.perf_counter()
    for x, y, _ in pairs:
        fuzz.partial_ratio(x, y)
    return time.perf_counter() - started


def verdicts(db: Path) -> dict[tuple[int, int], tuple[str, float]]:
    """The relation and score of every pair the database's last run verified."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT a, b, relation, score FROM pairs WHERE run_id = (SELECT max(run_id) FROM runs)"
        ).fetchall()
    return {(a, b): (relation, score) for a, b, relation, score in rows}


def changes(
    rule: dict[tuple[int, int], tuple[str, float]], every: dict[tuple[int, int], tuple[str, float]]
) -> dict[str, Any]:
    """What the rule changes in a day's verdicts, pair for pair, against every pair graded."""
    assert rule.keys() == every.keys(), "the rule must not change which pairs are verified"
    change = {k: rule[k][1] - every[k][1] for k in rule}
    moved = np.array(list(change.values()))
    by_relation = {
        relation: round(float(np.mean([d for k, d in change.items() if every[k][0] == relation])), 4)
        for relation in sorted({v[0] for v in every.values()})
    }
    return {
        "pairs": len(rule),
        "relations_differing": sum(rule[k][0] != every[k][0] for k in rule),
        "scores_moved": int(np.count_nonzero(moved)),
        "score_change_min": round(float(moved.min()), 4) if len(moved) else 0.0,
        "score_change_max": round(float(moved.max()), 4) if len(moved) else 0.0,
        "mean_score_change_by_relation": by_relation,
    }


def arguments(parser: Any) -> None:
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)


def main() -> None:
    args = options(__doc__, arguments)
    if args.phase:
        db, feed, rule = args.phase
        print(json.dumps(day(Path(db), Path(feed), RULES[rule])))
        return
    require_corpora()
    scale, size, increment = SCALE, args.size, INCREMENT
    if args.smoke:
        scale, size, increment = Path(tempfile.mkdtemp(prefix="dedup-grids-")), 1000, 500
    corpus = scale_corpus(scale, size)
    work = Path(tempfile.mkdtemp(prefix="dedup-grids-work-"))
    rows: list[dict[str, Any]] = []
    compared: list[dict[str, Any]] = []
    try:
        feed = feed_slice(corpus, 0, size, work / "feed.jsonl")
        today = day_after(corpus, size, increment, work / "day.jsonl")
        archive = work / "archive.duckdb"
        started = time.perf_counter()
        with Store.open(archive, memory_limit="4GB") as store:
            ingest(store, [str(feed)], lexical(True))
        print(f"stored {size:,} articles in {time.perf_counter() - started:,.0f} s")
        for where, on_archive in (
            (f"+{increment:,} on {size:,}", True),
            (f"{increment:,} into empty", False),
        ):
            judged = {}
            for rule in RULES:
                db = work / f"day-{len(rows)}.duckdb"
                if on_archive:  # a copy each: the day is stored into it
                    shutil.copyfile(archive, db)
                rows.append(
                    {"day": where, "rule": rule, **run_phase(Path(__file__), str(db), str(today), rule)}
                )
                judged[rule] = verdicts(db)
            compared.append({"day": where, **changes(judged["share a word"], judged["every pair"])})
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.smoke:
            shutil.rmtree(scale, ignore_errors=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    print_table([{k: row.get(k, "") for k in columns} for row in rows], columns)
    ratios = {}
    for rule in RULES:
        on, empty = (r for r in rows if r["rule"] == rule)
        ratios[rule] = {
            k: round(on[k] / empty[k], 2) if empty[k] else None
            for k in ("pairs", "verify_s", "open_grid_s", "distinct_cells")
        }
        print(
            f"{rule}: on the archive / into empty: "
            + ", ".join(f"{k} {v}x" for k, v in ratios[rule].items() if v)
        )
    for change in compared:
        print(f"{change['day']}: the rule against every pair: {change}")
    path = save("open_grids", {"size": size, "increment": increment, "days": rows, "ratios": ratios,
                               "verdicts": compared, "smoke": args.smoke}, args)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
