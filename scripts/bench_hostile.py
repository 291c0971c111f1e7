"""Pathological inputs at full size through `dedup ingest`, each in its own process:
time, exit code, peak RSS and what dedup said. Writes bench/results/hostile.json.

  huge paragraph  one 50 MB paragraph (rejected: over --max-chars, never segmented)
  million lines   a body of a million one-word lines (rejected: over 50,000 lines)
  nested html     100,000 nested <div> elements
  gzip bomb       a 4 MB .gz that inflates to 4 GB (2 GB of newlines, 2 GB of zeros)

Usage: python3 scripts/bench_hostile.py [--smoke] [--out DIR]
(--smoke: each input at 1/100 of its size, into a temporary folder)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import options, print_table, save

from tests.reliability.test_hostile import ingest_peak, write_pathological

CASES = {
    "huge paragraph": (),
    "million lines": ("--max-chars", "10000000"),
    "nested html": (),
    "gzip bomb": (),
}


def main() -> None:
    args = options(__doc__)
    scale = 0.01 if args.smoke else 1.0
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-hostile-") as tmp:
        for kind, extra in CASES.items():
            folder = Path(tmp) / kind.replace(" ", "-")
            folder.mkdir()
            path = write_pathological(kind, folder, scale)
            started = time.perf_counter()
            code, peak, stderr = ingest_peak(path, folder / "db.duckdb", *extra)
            said = [line.strip() for line in stderr.splitlines() if line.strip() and "PEAK_MB" not in line]
            rows.append(
                {
                    "input": kind,
                    "input_mb": round(path.stat().st_size / 1e6, 1),
                    "exit": code,
                    "seconds": round(time.perf_counter() - started, 1),
                    "peak_rss_mb": peak,
                    "outcome": (said[0][:90] + " | " + said[-1][:120]) if said else "",
                }
            )
            print(rows[-1], flush=True)
    print_table(rows, ["input", "input_mb", "exit", "seconds", "peak_rss_mb"])
    print(f"wrote {save('hostile', {'cases': rows, 'scale': scale}, args)}")


if __name__ == "__main__":
    main()
