"""Calibration of the verdict thresholds on real Reuters copy (numbers quoted in docs/scoring.md).

Cases built from Reuters-21578 stories with at least four paragraphs (seeded, deterministic):
  reprint      the story with its sign-off replaced by site boilerplate     -> duplicate
  trimmed      the first 60% of the paragraphs, one sentence edited         -> rewrite
  borrowed     two paragraphs of story X placed inside story Y              -> partial
  same-topic   two different stories sharing a topic code, different days   -> none (hard negatives)

Usage: .venv/bin/python scripts/calibrate_scoring.py [--n 300] [--model] [--smoke] [--out DIR]
(writes bench/results/calibration.json; --smoke: 10 cases of each, into a temporary folder)
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench

import dedup
from dedup.normalize import normalize_body


def load() -> tuple[list[dict], set[tuple[str, str]]]:
    stories = []
    for line in _bench.REUTERS_JSONL.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs = [p for p in normalize_body(record["body"] or "").split("\n\n") if len(p) > 60]
        if len(paragraphs) >= 4:
            record["paragraphs"] = paragraphs
            stories.append(record)
    silver = set()
    for line in (_bench.SHARED / "data" / "reuters21578" / "silver_pairs_j050.tsv").read_text().splitlines():
        a, b, _ = line.split("\t")
        silver.add((a, b))
        silver.add((b, a))
    return stories, silver


def edit_one(paragraph: str, rng: random.Random) -> str:
    words = paragraph.split()
    if len(words) > 8:
        del words[rng.randrange(1, len(words) - 1)]
    return " ".join(words)


def arguments(parser: Any) -> None:
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument(
        "--model", action="store_true", help="use all-MiniLM-L6-v2 (slower); default lexical only"
    )


def main() -> None:
    args = _bench.options(__doc__, arguments)
    if args.smoke:
        args.n = 10
    _bench.require_corpora()
    rng = random.Random(20261128)
    stories, silver = load()
    embedder = dedup.MiniLMEmbedder() if args.model else None
    by_topic: dict[str, list[dict]] = {}
    for s in stories:
        if len(s["topics"]) == 1:
            by_topic.setdefault(s["topics"][0], []).append(s)
    topics = [t for t, items in by_topic.items() if len(items) >= 10]

    cases: dict[str, list[tuple[str, str]]] = {"reprint": [], "trimmed": [], "borrowed": [], "same-topic": []}
    expected = {"reprint": "duplicate", "trimmed": "rewrite", "borrowed": "partial", "same-topic": "none"}
    for _ in range(args.n):
        s = rng.choice(stories)
        p = s["paragraphs"]
        cases["reprint"].append(("\n\n".join(p), "\n\n".join(p) + "\n\nSign up for our newsletter"))
        keep = max(2, int(len(p) * 0.6))
        trimmed = [*p[:keep]]
        trimmed[1] = edit_one(trimmed[1], rng)
        cases["trimmed"].append(("\n\n".join(p), "\n\n".join(trimmed)))
        x, y = rng.sample(stories, 2)
        k = rng.randrange(0, len(x["paragraphs"]) - 1)
        host = y["paragraphs"]
        borrowed = host[:2] + x["paragraphs"][k : k + 2] + host[2:]
        cases["borrowed"].append(("\n\n".join(x["paragraphs"]), "\n\n".join(borrowed)))
        while True:
            topic = rng.choice(topics)
            a, b = rng.sample(by_topic[topic], 2)
            if a["date"][:11] != b["date"][:11] and (str(a["newid"]), str(b["newid"])) not in silver:
                break
        cases["same-topic"].append(("\n\n".join(a["paragraphs"]), "\n\n".join(b["paragraphs"])))

    rows = []
    for name, pairs in cases.items():
        results = [dedup.compare(a, b, embedder=embedder) for a, b in pairs]
        relations = Counter(r.relation for r in results)
        scores = sorted(r.score for r in results)
        rows.append(
            {
                "case": name,
                "expected": expected[name],
                "n": len(results),
                "accuracy": relations[expected[name]] / len(results),
                "relations": dict(relations),
                "score_p05": scores[int(0.05 * len(scores))],
                "score_p50": scores[len(scores) // 2],
                "score_p95": scores[int(0.95 * len(scores)) - 1],
            }
        )
    _bench.print_table(
        rows, ["case", "expected", "n", "accuracy", "score_p05", "score_p50", "score_p95", "relations"]
    )
    payload = {"rows": rows, "model": args.model, "smoke": args.smoke}
    path = _bench.save("calibration" + ("-model" if args.model else ""), payload, args)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
