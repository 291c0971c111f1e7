"""Kill `dedup ingest` at many random points on a real corpus and check every recovery.

Each point: a fresh database, `dedup ingest` of the BBC corpus (2,225 articles, batches of
300, lexical verification) started and killed after a random delay within the first 93% of
a warm uninterrupted run (SIGKILL, or SIGINT one time in four); then the same command run
again to completion, and the database compared
table by table with one made by a single uninterrupted run, and `dedup check` run on it.

Writes bench/results/crash.json. Usage: python3 scripts/crash_test.py [--kills 80] [--seed 1] [--smoke]
(--smoke: 300 BBC stories in batches of 50, two kill points, into a temporary folder)
"""

from __future__ import annotations

import collections
import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import bbc_records, options, print_table, require_corpora, save, write_jsonl

from tests.reliability.harness import kill_and_recover, kill_points, run, snapshot

BATCH = 300


def arguments(parser: Any) -> None:
    parser.add_argument("--kills", type=int, default=80, help="kill points (one in four SIGINT)")
    parser.add_argument("--seed", type=int, default=1)


def main() -> None:
    args = options(__doc__, arguments)
    require_corpora()
    records, batch = (bbc_records()[:300], 50) if args.smoke else (bbc_records(), BATCH)
    if args.smoke:
        args.kills = 2
    with tempfile.TemporaryDirectory(prefix="dedup-crash-") as tmp:
        work = Path(tmp)
        feed = write_jsonl(work / "bbc.jsonl", records)
        reference_db = work / "reference.duckdb"
        seconds, done = run(reference_db, feed, batch)
        assert done.returncode == 0, done.stderr
        reference = snapshot(reference_db)
        # a second, warm run for the duration: kills are spread over 93% of it, so that
        # (almost) every one lands before the end
        again, _ = run(work / "warm.duckdb", feed, batch)
        seconds = min(seconds, again)
        results = []
        for n, (delay, sig) in enumerate(kill_points(args.kills, seconds * 0.93 / 1.02, args.seed), start=1):
            result = kill_and_recover(work, feed, reference, delay, sig, batch)
            results.append(result)
            print(f"{n:3d} {result.signal:7s} at {result.delay:6.2f}s  exit {result.exit_code:4d}  "
                  f"recovered {result.recovered}  check {result.check_ok}  {result.message[:70]}", flush=True)  # fmt: skip
    outcomes = collections.Counter(
        (r.signal, "finished first" if r.exit_code == 0 else "killed", r.recovered and r.check_ok)
        for r in results
    )
    rows = [
        {"signal": s, "outcome": o, "recovered": ok, "points": c}
        for (s, o, ok), c in sorted(outcomes.items())
    ]
    print_table(rows, ["signal", "outcome", "recovered", "points"])
    path = save(
        "crash",
        {
            "corpus": f"bbc ({len(records):,} articles)",
            "batch_size": batch,
            "uninterrupted_seconds": round(seconds, 2),
            "kills": len(results),
            "recovered": sum(r.recovered and r.check_ok for r in results),
            "killed_mid_run": sum(r.exit_code != 0 for r in results),
            "sigkill_mid_run": sum(r.exit_code == -9 for r in results),
            "summary": rows,
            "points": [dataclasses.asdict(r) for r in results],
            "smoke": args.smoke,
        },
        args,
    )
    print(f"wrote {path}")
    if not all(r.recovered and r.check_ok for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
