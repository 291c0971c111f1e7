"""Make a deterministic feed of N distinct articles (up to a million and more) with a known
share of copies, for the scale benchmark (`scripts/bench_scale.py`).

The real corpora hold 23,803 distinct stories; a million articles need each story many
times over, and repeated text would be reuse the truth does not record. So each story is
used once per *round*, and round r > 0 relexifies it: every word except ~60 function words
(and the words the benchmark's edits look for) is replaced, consistently within the round,
by another word of about the same corpus frequency, and digits are permuted. Sentences,
paragraphs, lengths, punctuation and word frequencies stay those of real news; the text
of two rounds shares no shingles. Round 0 is the real stories.

The feed is written in chunks of 10,000 articles, each a pure function of (seed, chunk):
~8.5% originals with 1-7 copies each (the copy patterns of `make_benchmark.py`: reprint,
trim, new lede, sentence edits, reorder, OCR noise), one patchwork per six originals, a
few late copies of the previous chunk's originals, and singles nobody copies. So the
first 100,000 lines of the million-article feed are the 100,000-article feed, and chunks
are made on all cores. `increment.jsonl` is the next chunk: a fresh day's 10,000 articles,
some of them copies of stories already in the feed.

Written under `bench/scale/` (ignored by git): the corpora's licences are research-only.

Usage: python3 scripts/make_scale_corpus.py --size 1000000 [--seed 7] [--out bench/scale] [--smoke]
(--smoke: one chunk of 10,000, into a temporary folder unless --out is given)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import ROOT, require_corpora
from make_benchmark import (
    EDITS,
    RELATION,
    SYNDICATION,
    Story,
    load_stories,
    make_copy,
    make_patchwork,
    origin_record,
    words,
)

CHUNK = 10_000
ORIGINS_PER_CHUNK = 850
LATE_COPIES_PER_CHUNK = 100
FREQUENCY_BLOCK = 64
KEEP = set(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "as",
        "and",
        "or",
        "but",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "may",
        "might",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "which",
        "who",
        "what",
        "when",
        "where",
        "there",
        "than",
        "then",
        "also",
        "said",
        "says",
        "after",
        "before",
        "over",
        "into",
        "about",
        "per",
        "pct",
        "mln",
        "bln",
        "dlrs",
        "vs",
    ]
)
WORD = re.compile(r"[A-Za-z]+")

_stories: list[Story] = []
_order: list[int] = []
_vocab: list[str] = []
_tables: dict[int, tuple[dict[str, str], dict[int, int]]] = {}


def setup(seed: int) -> None:
    """Load the real stories and the vocabulary once, before the pool forks."""
    global _stories, _order, _vocab
    _stories = load_stories(random.Random(seed))
    _order = list(range(len(_stories)))
    random.Random(seed).shuffle(_order)
    keep = KEEP | {w for pattern, _ in EDITS for w in re.findall(r"[a-z]{3,}", pattern)}
    counts: Counter[str] = Counter()
    for story in _stories:
        for paragraph in [story.title, *story.paragraphs]:
            counts.update(w.lower() for w in WORD.findall(paragraph))
    _vocab = [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if w not in keep]


def table(round_: int) -> tuple[dict[str, str], dict[int, int]]:
    """Round r's word map (each word to one of about the same frequency, case kept) and
    digit permutation."""
    if round_ not in _tables:
        rng = random.Random(f"relex/{round_}")
        words_map: dict[str, str] = {}
        for start in range(0, len(_vocab), FREQUENCY_BLOCK):
            block = _vocab[start : start + FREQUENCY_BLOCK]
            shuffled = block[:]
            rng.shuffle(shuffled)
            for old, new in zip(block, shuffled, strict=True):
                words_map[old] = new
                words_map[old.capitalize()] = new.capitalize()
                words_map[old.upper()] = new.upper()
        digits = list("0123456789")
        rng.shuffle(digits)
        _tables[round_] = (words_map, str.maketrans("0123456789", "".join(digits)))
    return _tables[round_]


def relex(text: str, round_: int) -> str:
    words_map, digits = table(round_)
    return WORD.sub(lambda m: words_map.get(m.group(), m.group()), text).translate(digits)


def slot_story(slot: int) -> Story:
    """The story of a slot: story `slot % S` (in a seeded order), relexified in round `slot // S`."""
    round_, index = divmod(slot, len(_stories))
    story = _stories[_order[index]]
    if round_ == 0:
        return story
    return replace(
        story,
        id=f"{story.id}@{round_}",
        title=relex(story.title, round_),
        paragraphs=[relex(p, round_) for p in story.paragraphs],
        published=story.published + timedelta(days=365 * round_),
    )


def eligible(story: Story) -> bool:
    return len(story.paragraphs) >= 4 and words(story) >= 120


def chunk_origins(chunk: int) -> list[int]:
    """The slots of a chunk that become copied originals: its first eligible ones."""
    slots = range(chunk * CHUNK, (chunk + 1) * CHUNK)
    return [s for s in slots if eligible(_stories[_order[s % len(_stories)]])][:ORIGINS_PER_CHUNK]


def make_chunk(args: tuple[int, int]) -> tuple[list[str], dict]:
    """Exactly CHUNK feed lines (JSON) and the chunk's truth, a pure function of (seed, chunk)."""
    seed, chunk = args
    rng = random.Random(f"{seed}/{chunk}")
    records: list[dict] = []
    truth: dict = {"clusters": [], "pairs": [], "provenance": {}, "articles": {}}

    def add(record: dict, kind: str, origin: str | None, noisy: bool = False) -> None:
        records.append(record)
        meta = {"kind": kind, "origin": origin, "outlet": record["source"], "split": "test"}
        truth["articles"][record["id"]] = {**meta, "noise": noisy}

    patterns, weights = list(SYNDICATION), list(SYNDICATION.values())
    origin_slots = chunk_origins(chunk)
    origins = [slot_story(s) for s in origin_slots]
    for story in origins:
        add(origin_record(story), "original", story.id)
        members = [story.id]
        for n in range(min(7, 1 + int(rng.expovariate(1 / 2.5)))):
            pattern = rng.choices(patterns, weights)[0]
            record, noisy = make_copy(story, pattern, n, rng)
            add(record, pattern, story.id, noisy)
            members.append(record["id"])
            truth["pairs"].append({"a": story.id, "b": record["id"], "relation": RELATION[pattern]})
        truth["clusters"].append({"origin": story.id, "members": members})
    # Late copies: a reprint of a story from the previous chunk (yesterday's news).
    if chunk > 0:
        earlier = chunk_origins(chunk - 1)
        for n in range(LATE_COPIES_PER_CHUNK):
            story = slot_story(rng.choice(earlier))
            record, noisy = make_copy(story, "reprint", 100 + n, rng)
            record["id"] += f"/late-{chunk}"
            add(record, "reprint", story.id, noisy)
            truth["pairs"].append({"a": story.id, "b": record["id"], "relation": "duplicate"})
            truth["clusters"].append({"origin": story.id, "members": [story.id, record["id"]]})
    used: set[tuple[str, int]] = set()
    for n in range(len(origins) // 6):
        made = make_patchwork(rng.sample(origins, rng.choice([2, 2, 3, 4])), n, rng, used, origins)
        if made is None:
            continue
        record, sources = made
        record["id"] = f"patchwork/{chunk:03d}-{n:04d}"
        add(record, "patchwork", None)
        truth["provenance"][record["id"]] = sources
        cited = sorted({s["source"] for s in sources if s["source"]})
        truth["pairs"] += [{"a": c, "b": record["id"], "relation": "partial"} for c in cited]
    taken = set(origin_slots)
    for slot in range(chunk * CHUNK, (chunk + 1) * CHUNK):
        if len(records) == CHUNK:
            break
        if slot not in taken:
            add(origin_record(slot_story(slot)), "single", None)
    records.sort(key=lambda r: (r["published"], r["id"]))
    return [json.dumps(r, ensure_ascii=False) for r in records], truth


def merge(total: dict, part: dict) -> None:
    """Add a chunk's truth; a late copy joins its origin's cluster from the chunk before."""
    total["pairs"] += part["pairs"]
    for key in ("provenance", "articles"):
        total[key].update(part[key])
    for cluster in part["clusters"]:
        members = total["clusters"].setdefault(cluster["origin"], [])
        members += [m for m in cluster["members"] if m not in members]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="articles, a multiple of 10,000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="folder (default bench/scale)")
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--no-truth", action="store_true", help="skip truth.json (saves memory at 1M)")
    parser.add_argument("--smoke", action="store_true", help="one chunk of 10,000, in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.size = 10_000
        args.out = args.out or Path(tempfile.mkdtemp(prefix="dedup-smoke-"))
    args.out = args.out or ROOT / "bench" / "scale"
    if args.size <= 0 or args.size % CHUNK:
        parser.error(f"--size must be a positive multiple of {CHUNK:,}")
    require_corpora()
    started = time.perf_counter()
    setup(args.seed)
    chunks = args.size // CHUNK
    if chunks + 1 > 64 * len(_stories) // CHUNK:
        parser.error("--size too large for the stories available")
    folder = args.out / str(args.size)
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict = {
        "name": f"dedup scale corpus (seed {args.seed}, {args.size} articles)",
        "clusters": {},
        "pairs": [],
        "provenance": {},
        "hard_negatives": [],
        "articles": {},
    }
    kinds: Counter[str] = Counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers) as pool, (folder / "feed.jsonl").open("w", encoding="utf-8") as feed:
        jobs = [(args.seed, c) for c in range(chunks + 1)]
        for c, (lines, part) in enumerate(pool.imap(make_chunk, jobs)):
            target = feed if c < chunks else (folder / "increment.jsonl").open("w", encoding="utf-8")
            target.write("\n".join(lines) + "\n")
            if c == chunks:
                target.close()
                (folder / "increment-truth.json").write_text(json.dumps(part) + "\n")
                continue
            kinds.update(meta["kind"] for meta in part["articles"].values())
            if not args.no_truth:
                merge(truth, part)
            print(f"\r{(c + 1) * CHUNK:,} articles", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if not args.no_truth:
        truth["clusters"] = [{"origin": o, "members": m} for o, m in truth["clusters"].items()]
        (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False) + "\n")
    print(
        f"wrote {folder}/feed.jsonl ({args.size:,} articles: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
        + f"), increment.jsonl ({CHUNK:,}) in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
