"""`dedup serve` under load, on loopback only: 20 concurrent clients on the demo database,
alone and while 4 large `/compare` requests run; an ingest started while 4 clients poll
without pause; and the static report's pages per second.

  pages      a mix of the index, cluster, article, diff and search pages
  api        /api/clusters, /api/clusters/ID, /api/articles/ID/provenance, /api/diff
  compares   4 comparisons of two ~100,000-character texts, through the real model

Each phase runs for `--seconds` (bounded). Server RSS (with its compare worker) is read
from /proc. Writes bench/results/serve.json.

Usage: python3 scripts/bench_serve.py [--smoke] [--seconds 20] [--clients 20] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import ROOT, options, print_table, save

DEMO = ROOT / "data" / "demo_feed.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the compare worker), in MB."""
    import psutil

    try:
        process = psutil.Process(pid)
        return round(
            sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20, 1
        )
    except psutil.Error:
        return 0.0


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    import httpx

    server = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "--db", str(db), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("dedup serve did not start")


def targets(db: Path) -> dict[str, list[str]]:
    from dedup.store import Store

    with Store.open(db, read_only=True) as store:
        clusters = [c["cluster_id"] for c in store.cluster_list()]
        pairs = store.pair_list(limit=20)
        articles = [r[0] for r in store.con.execute("SELECT article_id FROM articles LIMIT 30").fetchall()]
    from dedup.report.site import Links

    links = Links(static=False)
    pages = ["/", "/search?q=train", "/search?q=fire&since=2026-01-01"]
    pages += [links.cluster(c) for c in clusters[:10]] + [links.article(a) for a in articles[:15]]
    pages += [links.diff(p["a"], p["b"]) for p in pairs[:10]]
    api = ["/api/clusters"] + [f"/api/clusters/{c}" for c in clusters[:10]]
    api += [f"/api/articles/{a}/provenance" for a in articles[:10]]
    api += [
        "/api/diff?" + __import__("urllib.parse").parse.urlencode({"a": p["a"], "b": p["b"]})
        for p in pairs[:10]
    ]
    return {"pages": pages, "api": api}


def load(base: str, paths: dict[str, list[str]], clients: int, seconds: float) -> dict[str, Any]:
    """`clients` threads requesting random paths of each kind for `seconds`."""
    import httpx

    stop = time.monotonic() + seconds
    samples: dict[str, list[float]] = {kind: [] for kind in paths}
    errors: dict[str, int] = dict.fromkeys(paths, 0)
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        kinds = list(paths)
        with httpx.Client(base_url=base, timeout=120) as c:
            while time.monotonic() < stop:
                kind = kinds[rng.randrange(len(kinds))]
                path = rng.choice(paths[kind])
                started = time.perf_counter()
                try:
                    ok = c.get(path).status_code == 200
                except httpx.TransportError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    samples[kind].append(elapsed)
                    errors[kind] += not ok

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    out: dict[str, Any] = {}
    for kind, values in samples.items():
        ordered = sorted(values) or [0.0]

        def pct(q: float, ordered: list[float] = ordered) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        out[kind] = {"requests": len(values), "per_second": round(len(values) / wall, 1), "errors": errors[kind],
                     "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                     "mean_ms": round(statistics.mean(values) * 1000, 1) if values else 0.0}  # fmt: skip
    return out


def large_compares(base: str, count: int, chars: int) -> tuple[list[threading.Thread], list[int]]:
    import httpx

    story = (ROOT / "seeds" / "01_ap_derailment.txt").read_text(encoding="utf-8").split("---\n", 1)[1]
    text = (story + "\n\n") * (chars // len(story) + 1)
    codes: list[int] = []

    def one() -> None:
        with httpx.Client(timeout=600) as c:
            try:
                codes.append(
                    c.post(f"{base}/compare", data={"a": text[:chars], "b": text[: chars // 2]}).status_code
                )
            except httpx.TransportError:
                codes.append(0)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    return threads, codes


def ingest_under_polling(db: Path, port: int, seconds: float) -> dict[str, Any]:
    """4 clients poll without pause; an ingest of a small day's feed starts meanwhile."""
    import httpx

    stop = threading.Event()
    codes: list[int] = []

    def poll() -> None:
        with httpx.Client(timeout=30) as c:
            while not stop.is_set():
                try:
                    codes.append(c.get(f"http://127.0.0.1:{port}/").status_code)
                except httpx.TransportError:
                    time.sleep(0.05)

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for t in pollers:
        t.start()
    time.sleep(min(2.0, seconds / 4))
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "day.jsonl"
        story = (ROOT / "seeds" / "05_ap_tornado.txt").read_text(encoding="utf-8").split("---\n", 1)[1]
        feed.write_text(
            json.dumps({"id": f"bench-day-{time.time_ns()}", "body": story + "\n\nOne more line."}) + "\n"
        )
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dedup.cli", "--db", str(db), "ingest", str(feed), "--no-embed", "--wait", "120", "-q"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        took = time.perf_counter() - started
    time.sleep(1.0)
    stop.set()
    for t in pollers:
        t.join()
    return {"exit": done.returncode, "seconds": round(took, 1), "stderr": done.stderr.strip()[-300:],
            "polls": len(codes), "polls_503": codes.count(503), "polls_other": sum(c not in (200, 503) for c in codes)}  # fmt: skip


def report_rate(db: Path) -> dict[str, Any]:
    from dedup.report.site import write_site
    from dedup.store import Store

    with tempfile.TemporaryDirectory() as tmp, Store.open(db, read_only=True) as store:
        summary = write_site(store, Path(tmp))
    return {"pages": summary.pages, "seconds": round(summary.seconds, 2),
            "pages_per_second": round(summary.pages / summary.seconds, 1)}  # fmt: skip


def main() -> None:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--clients", type=int, default=20)

    args = options(__doc__, add)
    seconds = 3.0 if args.smoke else args.seconds
    clients = 4 if args.smoke else args.clients
    with tempfile.TemporaryDirectory(prefix="dedup-serve-") as tmp:
        db = Path(tmp) / "demo.duckdb"
        subprocess.run(
            [sys.executable, "-m", "dedup.cli", "--db", str(db), "ingest", str(DEMO), "--no-embed", "-q"],
            check=True,
        )
        port = free_port()
        server = serve(db, port)
        base = f"http://127.0.0.1:{port}"
        try:
            paths = targets(db)
            alone = load(base, paths, clients, seconds)
            threads, codes = large_compares(base, 1 if args.smoke else 4, 5_000 if args.smoke else 100_000)
            time.sleep(0.5)
            loaded = load(base, paths, clients, seconds)
            peak = rss_mb(server.pid)
            for t in threads:
                t.join()
            ingest = ingest_under_polling(db, port, seconds)
            after = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        rate = report_rate(db)
    rows = [{"phase": phase, "kind": kind, **numbers} for phase, result in (("alone", alone), ("with compares", loaded))
            for kind, numbers in result.items()]  # fmt: skip
    print_table(rows, ["phase", "kind", "requests", "per_second", "errors", "p50_ms", "p95_ms", "p99_ms"])
    ratio = round(loaded["pages"]["p99_ms"] / max(alone["pages"]["p99_ms"], 0.1), 2)
    print(
        f"page p99 with compares / alone: {ratio}x; compares answered {codes}; server RSS {peak} MB (then {after} MB)"
    )
    print(f"ingest while 4 clients poll: exit {ingest['exit']} in {ingest['seconds']} s, "
          f"{ingest['polls']} polls ({ingest['polls_503']} answered 503 while it wrote)")  # fmt: skip
    print(f"static report: {rate['pages']} pages, {rate['pages_per_second']} pages/s")
    payload = {"smoke": args.smoke, "seconds": seconds, "clients": clients, "alone": alone, "with_compares": loaded,
               "page_p99_ratio": ratio, "compare_codes": codes, "server_rss_mb": {"during": peak, "after": after},
               "ingest_under_polling": ingest, "report": rate}  # fmt: skip
    print(f"wrote {save('serve', payload, args)}")


if __name__ == "__main__":
    main()
