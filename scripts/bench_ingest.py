"""Benchmark: ingest all of Reuters-21578 and the BBC corpus into a fresh database.

Phases run in child processes (own peak RSS), in the same run:
  floor     read + parse JSON + store raw rows, no normalising or segmenting (the I/O floor)
  dedup     the real `dedup ingest --no-index` path: normalise, segment, detect wires, store spans
  pysbd     segmentation alone with pysbd on a sample, the library we did not choose

Usage: .venv/bin/python scripts/bench_ingest.py [--smoke] [--out DIR]   (writes bench/results/ingest.json)
(--smoke: the demo feed, into a temporary folder; pysbd comes with the `bench` extra)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench


def phase_floor(paths: list[str], db: str) -> dict[str, float]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("CREATE TABLE raw (id VARCHAR, title VARCHAR, body VARCHAR)")
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                rows.append((str(d.get("newid", d.get("id"))), d.get("title") or "", d.get("body") or ""))
    con.begin()
    appender = con.appender("raw")
    appender.append_rows(rows)
    appender.flush()
    del appender
    con.commit()
    con.close()
    return {"seconds": time.perf_counter() - start, "articles": len(rows), "sentences": 0}


def phase_dedup(paths: list[str], db: str) -> dict[str, float]:
    from dedup.pipeline import IngestOptions, ingest
    from dedup.store import Store

    start = time.perf_counter()
    with Store.open(db) as store:
        # Storage alone (`--no-index`): indexing and verification have their own benchmarks.
        summary = ingest(store, paths, IngestOptions(index=False))
        sentences = store.counts()["sentences"]
    return {"seconds": time.perf_counter() - start, "articles": summary.stored, "sentences": sentences}


def phase_pysbd(paths: list[str], db: str, sample: int = 500) -> dict[str, float]:
    try:
        import pysbd
    except ImportError:
        return {"seconds": None, "articles": 0, "sentences": 0, "skipped": PYSBD_MISSING}
    from dedup.normalize import normalize_body

    bodies = []
    with open(paths[0], encoding="utf-8") as f:
        for line in f:
            body = normalize_body(json.loads(line).get("body") or "")
            if body:
                bodies.append(body)
            if len(bodies) >= sample:
                break
    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    start = time.perf_counter()
    n = sum(len(seg.segment(p)) for b in bodies for p in b.split("\n\n"))
    return {"seconds": time.perf_counter() - start, "articles": len(bodies), "sentences": n}


PHASES = {"floor": phase_floor, "dedup": phase_dedup, "pysbd": phase_pysbd}
PYSBD_MISSING = "pysbd not installed: pip install -e '.[bench]'"


def arguments(parser: Any) -> None:
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--db")
    parser.add_argument("paths", nargs="*")


def main() -> None:
    args = _bench.options(__doc__, arguments)
    if args.phase:
        result = PHASES[args.phase](args.paths, args.db)
        result["peak_rss_mb"] = _bench.peak_rss_mb()
        print(json.dumps(result))
        return

    if not args.smoke:
        _bench.require_corpora()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        if args.smoke:
            paths = [str(_bench.ROOT / "data" / "demo_feed.jsonl")]
        else:
            bbc = _bench.write_jsonl(Path(tmp) / "bbc.jsonl", _bench.bbc_records())
            paths = [str(_bench.REUTERS_JSONL), str(bbc)]
        rows = []
        for phase in ("floor", "dedup", "pysbd"):
            result = _bench.run_phase(
                Path(__file__), phase, "--db", str(Path(tmp) / f"{phase}.duckdb"), *paths
            )
            if result["seconds"] is not None:
                result["articles_per_s"] = result["articles"] / result["seconds"]
                result["sentences_per_s"] = result["sentences"] / result["seconds"]
            rows.append({"phase": phase, **result})
    by = {r["phase"]: r for r in rows}
    pysbd = by["pysbd"].get("articles_per_s")
    ratios = {
        "dedup_vs_floor_time": by["dedup"]["seconds"] / by["floor"]["seconds"],
        "dedup_vs_pysbd_articles_per_s": by["dedup"]["articles_per_s"] / pysbd if pysbd else None,
    }
    _bench.print_table(
        rows,
        ["phase", "articles", "sentences", "seconds", "articles_per_s", "sentences_per_s", "peak_rss_mb"],
    )
    print()
    print(
        f"dedup ingest of {' + '.join(Path(p).name for p in paths)}: {by['dedup']['seconds']:.1f}s for {by['dedup']['articles']:,} articles"
    )
    versus = ratios["dedup_vs_pysbd_articles_per_s"]
    print(
        f"dedup / I/O floor time: {ratios['dedup_vs_floor_time']:.1f}x; dedup (whole ingest) / pysbd "
        "(segmentation alone): " + (f"{versus:.1f}x articles/s" if versus else PYSBD_MISSING)
    )
    path = _bench.save(
        "ingest",
        {"phases": rows, "ratios": ratios, "goal": "21,578 Reuters stories in < 60 s", "smoke": args.smoke},
        args,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
