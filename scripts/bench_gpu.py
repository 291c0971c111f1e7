"""The GPU path for embeddings: sentences/s on CPU and CUDA, and the end-to-end speed-up.

One short script, meant to be run once where a CUDA device is available (GPU time is
scarce); everywhere else it measures the CPU side alone and says that no GPU was found.

1. Throughput: the first `--sentences` distinct sentences of the feed, segmented as
   `dedup` segments them, encoded by all-MiniLM-L6-v2 on the CPU (a sample of
   `--cpu-sentences`) and on CUDA at several batch sizes; a warm-up batch first, model
   load timed apart. The largest cosine difference between the two devices' vectors is
   reported (they should agree to ~1e-3).
2. End to end: `dedup ingest` of the feed's first `--articles` articles into a fresh
   database, once with `--device cpu` and once with `--device cuda`: wall time, stage
   times, and whether the verdicts agree pair for pair.

The feed defaults to the scale corpus (`scripts/make_scale_corpus.py`); any JSONL feed
does. Writes bench/results/gpu.json. Usage:
  python3 scripts/bench_gpu.py [--feed FILE] [--articles 10000] [--sentences 50000] [--smoke]
(--smoke: the demo feed, 60 articles and 200 sentences, the CPU path where there is no GPU)
"""

from __future__ import annotations

import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import ROOT, options, print_table, save

from dedup.embed import MiniLMEmbedder
from dedup.ingest import FieldMap, build_article, read_records
from dedup.model import Reject
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store

DEFAULT_FEED = ROOT / "bench" / "scale" / "1000000" / "feed.jsonl"


def sentences_of(feed: Path, limit: int) -> list[str]:
    """Distinct sentences of the feed's articles, in feed order, as the pipeline cuts them."""
    seen: dict[str, None] = {}
    for record in read_records([str(feed)]):
        article = None if isinstance(record, Reject) else build_article(record, FieldMap())[0]
        if article is None:
            continue
        for span in article.sentences:
            seen.setdefault(article.body[span.start : span.end], None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


def throughput(device: str, sentences: list[str], batch_size: int) -> tuple[float, float, object]:
    """(model load s, sentences/s, vectors) for one device and batch size."""
    embedder = MiniLMEmbedder(device, batch_size=batch_size)
    started = time.perf_counter()
    embedder.encode(sentences[:batch_size])  # load and warm up
    loaded = time.perf_counter() - started
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    started = time.perf_counter()
    vectors = embedder.encode(sentences)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return loaded, len(sentences) / (time.perf_counter() - started), vectors


def end_to_end(feed: Path, device: str, work: Path) -> dict:
    db = work / f"{device.replace(':', '')}.duckdb"
    started = time.perf_counter()
    with Store.open(db) as store:
        summary = ingest(store, [str(feed)], IngestOptions(verify=VerifyOptions(device=device)))
        stats = store.run_stats(summary.run_id)
        verdicts = {(a, b): r for a, b, r in store.con.execute("SELECT a, b, relation FROM pairs").fetchall()}
    assert summary.verify is not None
    return {
        "device": device,
        "wall_s": round(time.perf_counter() - started, 1),
        **{f"{k}_s": v for k, v in stats["seconds"].items()},
        "pairs": summary.verify.pairs,
        "embedded": summary.verify.computed,
        "verdicts": verdicts,
    }


def arguments(parser: Any) -> None:
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=50_000)
    parser.add_argument("--cpu-sentences", type=int, default=2_000)
    parser.add_argument("--batch-sizes", default="64,256,1024")


def main() -> None:
    args = options(__doc__, arguments)
    if args.smoke:
        args.feed, args.articles, args.sentences, args.cpu_sentences = (
            ROOT / "data" / "demo_feed.jsonl",
            60,
            200,
            200,
        )
        args.batch_sizes = "64"
    if not args.feed.exists():
        sys.exit(f"no feed at {args.feed}: make one with scripts/make_scale_corpus.py or pass --feed")
    import torch

    cuda = torch.cuda.is_available()
    device_name = torch.cuda.get_device_name(0) if cuda else "none"
    print(f"torch {torch.__version__}; CUDA device: {device_name}")
    sentences = sentences_of(args.feed, args.sentences)
    rows = []
    load, rate, cpu_vectors = throughput("cpu", sentences[: args.cpu_sentences], 64)
    rows.append(
        {
            "device": "cpu",
            "batch": 64,
            "sentences": args.cpu_sentences,
            "load_s": round(load, 2),
            "sentences_per_s": round(rate),
        }
    )
    agreement = None
    if cuda:
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            load, rate, vectors = throughput("cuda", sentences, batch)
            rows.append(
                {
                    "device": "cuda",
                    "batch": batch,
                    "sentences": len(sentences),
                    "load_s": round(load, 2),
                    "sentences_per_s": round(rate),
                }
            )
            head = vectors[: len(cpu_vectors)]
            agreement = float(abs((head * cpu_vectors).sum(axis=1) - 1.0).max())
    print_table(rows, list(rows[0]))
    with tempfile.TemporaryDirectory(prefix="dedup-gpu-bench-") as tmp:
        work = Path(tmp)
        feed = work / "feed.jsonl"
        with args.feed.open(encoding="utf-8") as f, feed.open("w", encoding="utf-8") as out:
            out.writelines(islice(f, args.articles))
        runs = [end_to_end(feed, "cpu", work)] + ([end_to_end(feed, "cuda", work)] if cuda else [])
    differing = None
    if len(runs) == 2:
        cpu, gpu = runs[0]["verdicts"], runs[1]["verdicts"]
        differing = sum(cpu.get(k) != gpu.get(k) for k in cpu.keys() | gpu.keys())
    same = differing == 0
    for run in runs:
        del run["verdicts"]
    print_table(runs, list(runs[0]))
    if len(runs) == 2:
        speedup = runs[0]["wall_s"] / runs[1]["wall_s"]
        print(f"end-to-end speed-up on CUDA: {speedup:.2f}x; verdicts identical: {same} ({differing} differ)")
    else:
        print("no CUDA device here: CPU measured only")
    path = save(
        "gpu",
        {
            "torch": torch.__version__,
            "cuda_device": device_name,
            "throughput": rows,
            "max_cosine_gap_cpu_cuda": agreement,
            "end_to_end": runs,
            "verdicts_identical": same if len(runs) == 2 else None,
            "verdicts_differing": differing,
            "smoke": args.smoke,
        },
        args,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
