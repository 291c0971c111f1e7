"""Helpers shared by the benchmark scripts: corpora, child-process phases, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEDUP_SHARED", ROOT.parent / "shared"))
REUTERS_JSONL = SHARED / "data" / "reuters21578" / "derived" / "reuters21578.jsonl"
BBC_DIR = SHARED / "data" / "bbc" / "bbc"
RESULTS = ROOT / "bench" / "results"


def require_corpora() -> None:
    missing = [p for p in (REUTERS_JSONL, BBC_DIR) if not p.exists()]
    if missing:
        sys.exit(f"real corpora not found: {', '.join(map(str, missing))} (set DEDUP_SHARED)")


def bbc_records() -> list[dict[str, str]]:
    """The BBC corpus as feed records: line 1 is the headline, the rest the body."""
    records = []
    for path in sorted(BBC_DIR.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # sport/199.txt, a known quirk of the original zip
        title, _, body = text.partition("\n")
        rel = path.relative_to(BBC_DIR).as_posix()
        records.append({"id": f"bbc/{rel}", "source": "BBC", "title": title.strip(), "body": body})
    return records


def scale_corpus(folder: Path, size: int) -> Path:
    """The feed of the scale corpus (`scripts/make_scale_corpus.py`) with at least `size`
    articles under `folder`, made when missing (it comes in chunks of 10,000)."""
    import subprocess
    import sys

    made = 10_000 * -(-size // 10_000)
    corpus = folder / str(made) / "feed.jsonl"
    if not corpus.exists():
        script = str(ROOT / "scripts" / "make_scale_corpus.py")
        subprocess.run([sys.executable, script, "--size", str(made), "--out", str(folder)], check=True)
    return corpus


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return path


def run_phase(script: Path, phase: str, *args: str) -> dict[str, Any]:
    """Run one measured phase in a child process, so each gets its own peak RSS."""
    out = subprocess.run(
        [sys.executable, str(script), "--phase", phase, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident set since it started (its own program, not its parent's).

    Linux's `VmHWM` where there is one: `ru_maxrss` carries over the resident set the parent
    had when it forked the child that exec'd this process (a measured phase started after
    `bench_scale` compacted a database in its own process read 7,588 MB for a 10,000-article
    day into an empty database)."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def options(doc: str | None, add: Any = None) -> argparse.Namespace:
    """The arguments every script takes: `--smoke` (the same code path on a tiny input,
    in seconds, its JSON written to a temporary folder so that the committed results stay
    as they were) and `--out DIR` (where the JSON goes); `add(parser)` adds a script's own."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny input, one repetition, a few seconds")
    parser.add_argument("--out", type=Path, default=None, help=f"folder for the JSON (default {RESULTS})")
    if add is not None:
        add(parser)
    args = parser.parse_args()
    if args.out is None and args.smoke:
        args.out = Path(tempfile.mkdtemp(prefix="dedup-smoke-"))
    return args


def save(name: str, payload: dict[str, Any], args: argparse.Namespace | None = None) -> Path:
    """Write `<out>/<name>.json` with the machine and the time of the run."""
    out = args.out if args is not None and args.out is not None else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        **payload,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)
