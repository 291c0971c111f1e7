"""Where a day's increment on a stored archive spends its time, store call by store call.

A day of 10,000 articles costs more on top of a stored archive than in an empty database
(`scripts/bench_scale.py`; issue 21 wants it within 1.2x). `bench_open_grids.py` says
what the extra verification is; this script says which reads of the database grow with
the archive: it times every public `Store` method an ingest calls (the outermost call
only, so nothing counts twice), for the day on a copy of the archive and for the same
day into an empty database, each in a child process of its own, and lists the calls by
the seconds the archive adds (a transaction's commit counts apart). What is left over is
Python's own work (reading, alignment, provenance), outside the store.

The archive is the first N articles of the scale corpus, ingested lexically; with
`--archive PATH` it is kept there, and a later run with the same PATH puts the day on a
copy of it instead of storing the N again (the million takes ~25 minutes to store; the
archive is never written once made). Usage:
  python3 scripts/bench_day_calls.py [--size 100000] [--archive DB] [--smoke]
(--smoke: a 10,000-article corpus made in a temporary folder, 1,000 articles and a day of
500 on top; the JSON into a temporary folder). Writes bench/results/day_calls.json.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import ROOT, options, print_table, require_corpora, run_phase, save, scale_corpus
from bench_scale import day_after, feed_slice

from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store

SCALE = ROOT / "bench" / "scale"
INCREMENT = 10_000
LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


@contextmanager
def timed_store_calls() -> Iterator[Counter[str]]:
    """Seconds spent in each public `Store` method while inside, outermost calls only (a
    method that calls another counts once, as itself), and how often each was called."""
    spent: Counter[str] = Counter()
    depth = [0]
    saved = {  # plain methods only: class and static methods, properties stay as they are
        name: method
        for name in dir(Store)
        if not name.startswith("_") and inspect.isfunction(method := inspect.getattr_static(Store, name))
    }
    own = {name for name in saved if name in vars(Store)}

    @contextmanager
    def committed(transaction: Any) -> Iterator[Any]:
        """`Store.transaction` with its commit timed (its body's calls count on their own)."""
        with transaction as value:
            yield value
            started = time.perf_counter()
        spent["transaction (commit)"] += time.perf_counter() - started
        spent["transaction (commit) calls"] += 1

    def timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "transaction":
                return committed(method(*args, **kwargs))
            depth[0] += 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[name] += time.perf_counter() - started
                    spent[f"{name} calls"] += 1

        return call

    for name, method in saved.items():
        setattr(Store, name, timed(name, method))
    try:
        yield spent
    finally:
        for name, method in saved.items():
            if name in own:
                setattr(Store, name, method)
            else:  # inherited from one of the store's parts: uncover it again
                delattr(Store, name)


def day(db: Path, feed: Path) -> dict[str, Any]:
    """The day's ingest in this process, its store calls timed."""
    started = time.perf_counter()
    with timed_store_calls() as spent, Store.open(db, memory_limit="4GB") as store:
        summary = ingest(store, [str(feed)], LEXICAL)
        stages = store.run_stats(summary.run_id)["seconds"]
    assert summary.verify is not None
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "pairs": summary.verify.pairs,
        "stages": stages,
        "calls": {k: round(v, 3) for k, v in spent.items() if not k.endswith(" calls")},
        "counts": {k.removesuffix(" calls"): v for k, v in spent.items() if k.endswith(" calls")},
    }


def compare(on: dict[str, Any], empty: dict[str, Any]) -> list[dict[str, Any]]:
    """One row a store call (and one for the rest), by the seconds the archive adds."""
    rows = []
    for name in set(on["calls"]) | set(empty["calls"]):
        a, b = on["calls"].get(name, 0.0), empty["calls"].get(name, 0.0)
        rows.append({"call": name, "on_archive_s": a, "into_empty_s": b, "added_s": round(a - b, 3),
                     "calls": on["counts"].get(name, 0)})  # fmt: skip
    rest = [d["wall_s"] - sum(d["calls"].values()) for d in (on, empty)]
    rows.append({"call": "(outside the store)", "on_archive_s": round(rest[0], 3),
                 "into_empty_s": round(rest[1], 3), "added_s": round(rest[0] - rest[1], 3), "calls": 0})  # fmt: skip
    return sorted(rows, key=lambda r: -r["added_s"])


def arguments(parser: Any) -> None:
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--archive", type=Path, help="where the archive is kept (made if absent)")
    parser.add_argument("--phase", nargs=2, help=argparse.SUPPRESS)


def main() -> None:
    args = options(__doc__, arguments)
    if args.phase:
        print(json.dumps(day(Path(args.phase[0]), Path(args.phase[1]))))
        return
    require_corpora()
    scale, size, increment = SCALE, args.size, INCREMENT
    if args.smoke:
        scale, size, increment = Path(tempfile.mkdtemp(prefix="dedup-calls-")), 1000, 500
    work = Path(tempfile.mkdtemp(prefix="dedup-calls-work-"))
    try:
        corpus = scale_corpus(scale, size)
        today = day_after(corpus, size, increment, work / "day.jsonl")
        archive = args.archive or work / "archive.duckdb"
        if not archive.exists():
            started = time.perf_counter()
            partial = archive.with_name(f".{archive.name}.partial")
            partial.unlink(missing_ok=True)
            with Store.open(partial, memory_limit="4GB") as store:
                ingest(store, [str(feed_slice(corpus, 0, size, work / "feed.jsonl"))], LEXICAL)
            partial.rename(archive)  # only a whole archive is ever reused
            print(f"stored {size:,} articles in {time.perf_counter() - started:,.0f} s")
        with Store.open(archive, read_only=True) as store:
            (stored,) = store.con.execute("SELECT count(*) FROM articles").fetchall()[0]
        if stored != size:
            raise SystemExit(f"{archive} holds {stored:,} articles, not --size {size:,}")
        on_archive = work / "on-archive.duckdb"
        shutil.copyfile(archive, on_archive)
        on = run_phase(Path(__file__), str(on_archive), str(today))
        empty = run_phase(Path(__file__), str(work / "empty.duckdb"), str(today))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.smoke:
            shutil.rmtree(scale, ignore_errors=True)
    rows = compare(on, empty)
    shown = [r for r in rows if max(abs(r["added_s"]), r["on_archive_s"]) >= 0.01 * on["wall_s"]]
    print_table(shown, ["call", "calls", "on_archive_s", "into_empty_s", "added_s"])
    print(f"({len(rows) - len(shown)} more calls under 1% of the day's wall time: the JSON has them)")
    print(
        f"+{increment:,} on {size:,}: {on['wall_s']} s, {on['pairs']:,} pairs; into empty: {empty['wall_s']} s,"
        f" {empty['pairs']:,} pairs ({on['wall_s'] / empty['wall_s']:.2f}x)"
    )
    path = save("day_calls", {"size": size, "increment": increment, "on_archive": on, "into_empty": empty,
                              "calls": rows, "smoke": args.smoke}, args)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
