"""Coverage-guided fuzzing (atheris) of every input reader and of `dedup.compare`.

Each target runs in its own process for `--runs` inputs, starting from the project's own
fixture files. Any exception other than a documented `DedupError` is a failure: atheris
stops, prints the input, and this script exits 1. Writes bench/results/fuzz.json.

Usage: python3 scripts/fuzz_readers.py [--runs 20000] [--target jsonl ...] [--smoke] [--out DIR]
(--smoke: 10 inputs a target, every target, the JSON into a temporary folder)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("jsonl", "csv", "ninjs", "nitf", "feed", "warc", "html", "sgml", "text", "compare")


def fuzz_one(target: str, smoke: bool = False) -> None:
    """Run inside the child: atheris takes over argv and never returns. The smoke
    instruments dedup's own modules only (instrumenting numpy, dateutil, ftfy and the rest
    for coverage costs ~9 s a child; ten inputs do not need their coverage)."""
    import atheris

    with atheris.instrument_imports(include=["dedup"] if smoke else None):
        import dedup
        from dedup.errors import DedupError
        from dedup.ingest import read_records

    workdir = Path(tempfile.mkdtemp(prefix="dedup-fuzz-"))
    path = workdir / f"input.{target}"

    def one_input(data: bytes) -> None:
        if target == "compare":
            fdp = atheris.FuzzedDataProvider(data)
            a = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 4000))
            b = fdp.ConsumeUnicodeNoSurrogates(4000)
            with contextlib.suppress(DedupError):
                dedup.compare(a, b, embedder=None)
            return
        path.write_bytes(data)
        try:
            for _ in read_records([str(path)], target):
                pass
        except DedupError:
            pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


def corpus_for(target: str, folder: Path) -> Path:
    seeds = folder / target
    seeds.mkdir(parents=True, exist_ok=True)
    fixtures = ROOT / "tests" / "fixtures"
    for n, source in enumerate(
        [*sorted((fixtures / "formats").iterdir()), fixtures / "broken.jsonl", fixtures / "broken.csv"]
    ):
        (seeds / f"seed{n}").write_bytes(source.read_bytes()[:20_000])
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20_000, help="inputs per target")
    parser.add_argument("--target", action="append", choices=TARGETS)
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=0, help="targets fuzzed at once (default: one per core)")
    parser.add_argument("--smoke", action="store_true", help="a few inputs a target, in seconds")
    parser.add_argument("--out", type=Path, default=None, help="folder for the JSON")
    args, rest = parser.parse_known_args()
    if args.smoke:
        args.runs = 10
        args.out = args.out or Path(tempfile.mkdtemp(prefix="dedup-smoke-"))
    if args.child:
        sys.argv = [sys.argv[0], *rest]
        fuzz_one(args.child, args.smoke)
        return
    results = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="dedup-fuzz-corpus-") as tmp:

        def fuzz(target: str) -> tuple[str, subprocess.CompletedProcess[str], float]:
            seeds = corpus_for(target, Path(tmp))
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, "--child", target, *(["--smoke"] if args.smoke else []),
                 f"-runs={args.runs}", "-max_len=20000",
                 "-rss_limit_mb=2048", "-timeout=20", f"-artifact_prefix={tmp}/{target}-", str(seeds)],
                capture_output=True, text=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
            )  # fmt: skip
            return target, done, time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=args.jobs or os.cpu_count() or 1) as pool:
            for target, done, seconds in pool.map(fuzz, args.target or TARGETS):
                ok = done.returncode == 0
                failed |= not ok
                results.append({"target": target, "runs": args.runs, "ok": ok, "seconds": round(seconds, 1)})
                print(
                    f"{target:8s} {args.runs:>7,} inputs  {'ok' if ok else 'FAILED'}  {seconds:6.1f}s",
                    flush=True,
                )
                if not ok:
                    print(done.stderr[-4000:], file=sys.stderr)
                    for artifact in Path(tmp).glob(f"{target}-crash-*"):  # keep the input that failed
                        kept = ROOT / "out" / "fuzz" / artifact.name
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        kept.write_bytes(artifact.read_bytes())
                        print(f"failing input kept in {kept}", file=sys.stderr)
    if not args.target or args.smoke:  # the full run, not a chosen few
        from _bench import save

        print(f"wrote {save('fuzz', {'targets': results, 'smoke': args.smoke}, args)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
