"""Rewrites with new words, and the independent reports they must not be confused with.

Article pairs, each judged by `dedup.compare` (the model on) and, for `--pipeline`, by a
whole `dedup ingest` of all of them (candidates included):

  msrp equivalent   articles composed of MSRP-train sentence pairs judged equivalent: the
                    #1 sentences in order, and the #2 sentences in the same order (human
                    paraphrases, little shared wording): must be `rewrite`
  msrp not          the same, composed of pairs judged *not* equivalent (same story,
                    overlapping words, different content): must not be
  spun              a real Reuters or BBC story and its spun copy (`spinner.py`: synonyms,
                    renamed countries, order and facts kept): must be `rewrite`
  rewritten         the same, every sentence spun harder and clauses moved: `rewrite`
  independent       two independent reports of one event: the seeds' `same_event_as`
                    pairs (AP and Reuters, Post and CNN, ...): must be `none`
  same topic        two Reuters stories of one topic and day: must be `none`

MSRP is split as `calibrate_similarity.py` splits it; `--split test` (the default) composes
from pairs the similarity was not fitted on. Writes bench/results/rewrites.json.

Usage: python3 scripts/bench_rewrites.py [--smoke] [--split dev|test] [--pipeline] [--out DIR]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import itertools
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import REUTERS_JSONL, ROOT, bbc_records, options, print_table, require_corpora, save
from calibrate_similarity import CACHE, msrp_pairs
from make_benchmark import strip_dateline
from spinner import spin_paragraph

Case = dict[str, Any]
EXPECTED = {"msrp equivalent": "rewrite", "msrp not": "none", "spun": "rewrite", "rewritten": "rewrite",
            "independent": "none", "same topic": "none"}  # fmt: skip


def composed(
    pairs: list[tuple[int, str, str, str]], label: int, kind: str, rng: random.Random, n: int
) -> list[Case]:
    """Articles of 4-8 MSRP sentences, two per paragraph; side b keeps side a's order."""
    chosen = [p for p in pairs if p[0] == label]
    rng.shuffle(chosen)
    cases = []
    while chosen and len(cases) < n:
        k = rng.randint(4, 8)
        group, chosen = chosen[:k], chosen[k:]

        def text(side: int, group: list[tuple[int, str, str, str]] = group) -> str:
            sentences = [p[side] for p in group]
            return "\n\n".join(" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2))

        cases.append({"kind": kind, "a": text(1), "b": text(2), "sentences": len(group)})
    return cases


def stories(limit: int, rng: random.Random) -> list[tuple[str, str, str, list[str]]]:
    """(id, topic, day, paragraphs) of real stories with at least four paragraphs."""
    from dedup.normalize import normalize_body

    out = []
    for line in REUTERS_JSONL.open(encoding="utf-8"):
        rec = json.loads(line)
        paragraphs = [p for p in normalize_body(rec.get("body") or "").split("\n\n") if len(p) > 60]
        if len(paragraphs) >= 4:
            out.append(
                (f"reuters/{rec['newid']}", (rec.get("topics") or [""])[0], rec["date"][:11], paragraphs)
            )
    for rec in bbc_records():
        paragraphs = [p for p in normalize_body(rec["body"]).split("\n\n") if len(p) > 60]
        if len(paragraphs) >= 4:
            out.append((rec["id"], "", "", paragraphs))
    rng.shuffle(out)
    return out[: max(limit, 1)] if limit else out


def spun_cases(source: list[tuple[str, str, str, list[str]]], rng: random.Random, n: int) -> list[Case]:
    cases = []
    for sid, _, _, paragraphs in source[:n]:
        original = "\n\n".join(paragraphs)
        light = "\n\n".join(
            spin_paragraph(strip_dateline(p), rng, 0.35, clauses=rng.random() < 0.3) for p in paragraphs
        )
        heavy = "\n\n".join(spin_paragraph(strip_dateline(p), rng, 0.7, clauses=True) for p in paragraphs)
        cases.append({"kind": "spun", "a": original, "b": light, "id": sid})
        cases.append({"kind": "rewritten", "a": original, "b": heavy, "id": sid})
    return cases


def independent_cases() -> list[Case]:
    seeds = {}
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        header, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
        meta = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
        seeds[meta["id"]] = (meta, body.strip())
    cases = []
    for meta, body in seeds.values():
        other = meta.get("same_event_as")
        if other in seeds:
            cases.append(
                {"kind": "independent", "a": seeds[other][1], "b": body, "id": f"{other}~{meta['id']}"}
            )
    return cases


def same_topic_cases(source: list[tuple[str, str, str, list[str]]], n: int) -> list[Case]:
    groups: dict[tuple[str, str], list[tuple[str, list[str]]]] = collections.defaultdict(list)
    for sid, topic, day, paragraphs in source:
        if topic and sid.startswith("reuters/"):
            groups[topic, day].append((sid, paragraphs))
    cases = []
    for (topic, _), group in sorted(groups.items()):
        for (ia, pa), (ib, pb) in itertools.pairwise(group):
            if pa[0][:60] != pb[0][:60]:  # not a rerun of one story
                cases.append(
                    {
                        "kind": "same topic",
                        "a": "\n\n".join(pa),
                        "b": "\n\n".join(pb),
                        "id": f"{ia}~{ib}",
                        "topic": topic,
                    }
                )
    return cases[:n]


def judge(cases: list[Case], smoke: bool) -> list[Case]:
    import dedup
    from dedup.embed import CachedEmbedder, MiniLMEmbedder
    from dedup.store import Store

    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(":memory:" if smoke else CACHE) as store:
        embedder = CachedEmbedder(MiniLMEmbedder("cpu", batch_size=32), store)
        results = [dedup.compare(case["a"], case["b"], embedder=embedder) for case in cases]
    for case, c in zip(cases, results, strict=True):
        case.update(relation=c.relation, score=c.score, order=c.shares.get("order"),
                    similarity=c.shares.get("similarity"), coverage=c.shares.get("coverage"),
                    containment=max(c.containment_a, c.containment_b), aligned=sum(x.a_index is not None and x.b_index is not None for x in c.alignments))  # fmt: skip
    return cases


def pipeline(cases: list[Case]) -> dict[str, Any]:
    """All the pairs' articles in one feed through `dedup ingest`: how many of the pairs
    were candidates at all (LSH or semantic), and the relation stored for them."""
    from dedup.pipeline import IngestOptions, ingest
    from dedup.store import Store

    with tempfile.TemporaryDirectory(prefix="dedup-rewrites-") as tmp:
        feed = Path(tmp) / "feed.jsonl"
        with feed.open("w", encoding="utf-8") as f:
            for n, case in enumerate(cases):
                for side, day in (("a", 1), ("b", 2)):
                    f.write(json.dumps({"id": f"{n}{side}", "body": case[side], "source": f"Outlet {side}",
                                        "published": f"2026-11-{day:02d}T10:00:00Z"}) + "\n")  # fmt: skip
        started = time.perf_counter()
        with Store.open(Path(tmp) / "db.duckdb") as store:
            summary = ingest(store, [str(feed)], IngestOptions())
            found = {
                (a, b): (relation, via) for a, b, relation, via in store.con.execute(
                    "SELECT x.article_id, y.article_id, p.relation, "
                    "CASE WHEN c.via_semantic AND NOT (c.via_exact OR c.via_document OR c.via_passage) "
                    "THEN 'semantic' ELSE 'lexical' END "
                    "FROM pairs p JOIN candidates c USING (a, b) JOIN articles x ON x.article_key = p.a "
                    "JOIN articles y ON y.article_key = p.b"
                ).fetchall()
            }  # fmt: skip
        seconds = time.perf_counter() - started
    per_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for n, case in enumerate(cases):
        relation, via = found.get((f"{n}a", f"{n}b"), ("not a candidate", ""))
        per_kind[case["kind"]][relation] += 1
        if via:
            per_kind[case["kind"]][f"via {via}"] += 1
    return {"seconds": round(seconds, 1), "index": summary.index and dataclasses.asdict(summary.index),
            "verify": summary.verify and dataclasses.asdict(summary.verify),
            "per_kind": {k: dict(v) for k, v in per_kind.items()}}  # fmt: skip


def main() -> None:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--split", choices=("dev", "test"), default="test")
        parser.add_argument(
            "--pipeline", action="store_true", help="also ingest them all, candidates included"
        )

    args = options(__doc__, add)
    require_corpora()
    rng = random.Random(3)
    dev, test = msrp_pairs()
    pairs = test if args.split == "test" else dev
    n = 6 if args.smoke else 120
    source = stories(0, rng)
    cases = [
        *composed(pairs, 1, "msrp equivalent", rng, n),
        *composed(pairs, 0, "msrp not", rng, n),
        *spun_cases(source, rng, n if not args.smoke else 4),
        *independent_cases(),
        *same_topic_cases(source, 2 * n),
    ]
    started = time.perf_counter()
    judge(cases, args.smoke)
    seconds = time.perf_counter() - started
    rows = []
    for kind, expected in EXPECTED.items():
        of_kind = [c for c in cases if c["kind"] == kind]
        relations = collections.Counter(c["relation"] for c in of_kind)
        rows.append({
            "pairs": kind, "n": len(of_kind), "expected": expected,
            "right": round(relations[expected] / len(of_kind), 3) if of_kind else None,
            "rewrite": relations["rewrite"], "duplicate": relations["duplicate"], "partial": relations["partial"],
            "none": relations["none"],
        })  # fmt: skip
    print_table(rows, ["pairs", "n", "expected", "right", "rewrite", "duplicate", "partial", "none"])
    payload: dict[str, Any] = {"smoke": args.smoke, "split": args.split, "compare_seconds": round(seconds, 1), "table": rows,
                               "cases": [{k: v for k, v in c.items() if k not in ("a", "b")} for c in cases]}  # fmt: skip
    if args.pipeline:
        payload["pipeline"] = pipeline(cases)
        print(json.dumps(payload["pipeline"], indent=1))
    print(f"wrote {save('rewrites', payload, args)}")


if __name__ == "__main__":
    main()
