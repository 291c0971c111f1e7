"""Make the bundled demo feed from the hand-written seed stories in `seeds/`.

Deterministic (seeded). Writes:
  data/demo_feed.jsonl   a few hundred articles: the seed wires, straight reprints with site
                         boilerplate, trimmed and re-ledded versions, edited rewrites,
                         reordered reprints, patchworks of two or three wires with glue text
                         and a "Latest News" block, and independent reports of the same
                         events (hard negatives)
  data/demo_truth.json   story clusters, pair relations, the source of every patchwork
                         paragraph, and the hard-negative pairs

Usage: python3 scripts/make_demo.py [--seed 7] [--out data] [--smoke]
(--smoke: the same feed, into a temporary folder unless --out is given: data/ stays as it is)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OUTLETS = [
    ("Valley Daily", "Copyright {year} Valley Daily. All rights reserved."),
    ("Lakeside Herald", "Sign up for the Lakeside Herald morning newsletter"),
    ("Metro Wire Today", "Follow us on social media for more updates"),
    ("The Plainsman", "Read more: local news at The Plainsman"),
    ("Coastline Courier", "Share this article"),
    ("NewsNow Today", "Related: more stories from NewsNow Today"),
    ("DailyBuzz Hub", "Click here to subscribe to DailyBuzz alerts"),
    ("Tri-County Gazette", "Advertisement"),
]
GLUE_OPENERS = [
    "Here is what we know so far",
    "Our editors gathered the latest",
    "A quick roundup",
    "Catch up fast",
    "What you need to know",
    "The main points",
    "In case you missed it",
    "The week in brief",
]
GLUE_TOPICS = [
    "rail safety",
    "the weather",
    "public health",
    "money and markets",
    "politics",
    "the economy",
    "technology",
    "sports",
    "schools",
    "city hall",
    "farming",
    "space",
]
GLUE_CLOSERS = [
    "as of {day}",
    "from wire reports",
    "for readers in district {n}",
    "in {n} short items",
    "before the weekend",
    "updated at {n} p.m.",
]
LATEST = [
    "City council delays vote on parking fees",
    "High school team wins state title in overtime",
    "Five things to do this weekend",
    "Weather: a warm week ahead, then rain",
    "Local bakery marks 50 years on Main Street",
]
# Word swaps an editor or a content farm makes: the sentence stays the same sentence.
SWAPS = [
    (r"\bsaid\b", "stated"),
    (r"\babout\b", "roughly"),
    (r"\bon Monday\b", "Monday"),
    (r"\bon Tuesday\b", "Tuesday"),
    (r"\bon Wednesday\b", "Wednesday"),
    (r"\bon Thursday\b", "Thursday"),
    (r"\bpeople\b", "residents"),
    (r"\bapproved\b", "passed"),
    (r"\bforced\b", "compelled"),
    (r"\bbegin\b", "start"),
    (r"\bnearly\b", "almost"),
    (r"\bpercent\b", "%"),
    (r"\bcompany\b", "firm"),
    (r"\bofficials\b", "authorities"),
    (r"\bwarned\b", "cautioned"),
]


def load_seeds() -> list[dict]:
    seeds = []
    for path in sorted((ROOT / "seeds").glob("[0-9]*.txt")):
        header, _, body = path.read_text(encoding="utf-8").partition("---\n")
        meta = dict(line.split(": ", 1) for line in header.strip().splitlines())
        meta["paragraphs"] = [p.strip() for p in body.strip().split("\n\n")]
        meta["file"] = path.name
        seeds.append(meta)
    return seeds


def wire_of(outlet: str) -> str:
    return {"The Associated Press": "AP", "The Washington Post": "Washington Post"}.get(outlet, outlet)


def edit(paragraph: str, rng: random.Random, strength: int) -> str:
    """Apply up to `strength` word swaps; a deterministic, light edit."""
    swaps = SWAPS[:]
    rng.shuffle(swaps)
    done = 0
    for pattern, replacement in swaps:
        if done >= strength:
            break
        new = re.sub(pattern, replacement, paragraph, count=1)
        if new != paragraph:
            paragraph, done = new, done + 1
    return paragraph


def strip_dateline(paragraph: str) -> str:
    return re.sub(r"^[A-Z][A-Za-z.,' ]+(?:\([A-Za-z ]+\))? [—-] ", "", paragraph)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="folder (default data/)")
    parser.add_argument("--smoke", action="store_true", help="write into a temporary folder")
    args = parser.parse_args()
    if args.smoke:
        args.out = args.out or Path(tempfile.mkdtemp(prefix="dedup-smoke-"))
    out = args.out or ROOT / "data"
    rng = random.Random(args.seed)
    seeds = load_seeds()
    articles: list[dict] = []
    truth: dict = {"clusters": [], "pairs": [], "provenance": {}, "hard_negatives": [], "articles": {}}

    def add(record: dict, kind: str, origin: str | None) -> None:
        articles.append(record)
        truth["articles"][record["id"]] = {"kind": kind, "origin": origin, "outlet": record["source"]}

    for seed in seeds:
        published = datetime.fromisoformat(seed["published"])
        add(
            {
                "id": seed["id"],
                "source": seed["outlet"],
                "title": seed["title"],
                "published": seed["published"],
                "body": "\n\n".join(seed["paragraphs"]),
            },
            "original",
            seed["id"],
        )
        members = [seed["id"]]
        paragraphs = seed["paragraphs"]
        plan = [
            "reprint",
            "reprint",
            "trim",
            "relede",
            "edited",
            "reorder",
            "reprint",
            "trim",
            "edited",
            "reprint",
            "relede",
            "trim",
        ]
        if seed.get("same_event_as"):
            plan = ["reprint", "trim", "reprint"]
            truth["hard_negatives"].append([seed["same_event_as"], seed["id"]])
        for n, kind in enumerate(plan):
            outlet, footer = OUTLETS[(n + len(members) + rng.randrange(len(OUTLETS))) % len(OUTLETS)]
            when = published + timedelta(hours=rng.randint(1, 60), minutes=rng.randint(0, 59))
            body = [strip_dateline(paragraphs[0]), *paragraphs[1:]]
            relation = "duplicate"
            if kind == "trim":
                body = body[: max(2, int(len(body) * rng.uniform(0.5, 0.7)))]
                relation = "rewrite"
            elif kind == "relede":
                lede = f"{seed['title']}, {outlet} reported on {published:%A}, citing wire reports."
                body = [lede, *body[1 : max(3, len(body) - 1)]]
                relation = "rewrite"
            elif kind == "edited":
                body = [edit(p, rng, 3) for p in body]
                relation = "rewrite"
            elif kind == "reorder" and len(body) > 4:
                body[2], body[3] = body[3], body[2]
            body.append(footer.format(year=published.year))
            copy_id = f"{seed['id']}-{kind}-{n}"
            add(
                {
                    "id": copy_id,
                    "source": outlet,
                    "title": edit(seed["title"], rng, 1) if n % 2 else seed["title"],
                    "published": when.isoformat(),
                    "body": "\n\n".join(body),
                },
                kind,
                seed["id"],
            )
            members.append(copy_id)
            truth["pairs"].append({"a": seed["id"], "b": copy_id, "relation": relation})
        truth["clusters"].append({"origin": seed["id"], "members": members})

    wires = [s for s in seeds if not s.get("same_event_as")]
    # Two patchworks share at most two lifted paragraphs: sharing more would make one
    # mostly a copy of the other, which is what a detector should then report.
    made: list[set[tuple[str, int]]] = []
    for n in range(60):
        while True:
            chosen = rng.sample(wires, rng.choice([2, 3]))
            picks = [rng.randrange(1, len(seed["paragraphs"]) - 1) for seed in chosen]
            lifted = {(seed["id"], j) for seed, k in zip(chosen, picks, strict=True) for j in (k, k + 1)}
            if all(len(lifted & earlier) <= 2 for earlier in made):
                made.append(lifted)
                break
        outlet, footer = OUTLETS[n % len(OUTLETS)]
        latest = max(datetime.fromisoformat(s["published"]) for s in chosen)
        topics = rng.sample(GLUE_TOPICS, 2)
        closer = rng.choice(GLUE_CLOSERS).format(day=f"{latest:%A, %B} {latest.day}", n=n + 2)
        body: list[str] = [
            f"{rng.choice(GLUE_OPENERS)} on {topics[0]} and {topics[1]}, {closer} (item {n + 1})."
        ]
        sources: list[dict] = [{"paragraph": 0, "source": None}]
        for seed, k in zip(chosen, picks, strict=True):
            for j in (k, k + 1):
                sources.append(
                    {
                        "paragraph": len(body),
                        "source": seed["id"],
                        "source_paragraph": j,
                        "wire": wire_of(seed["outlet"]),
                    }
                )
                body.append(seed["paragraphs"][j])
        body += ["Latest News", *rng.sample(LATEST, 3), footer.format(year=latest.year)]
        pid = f"patchwork-{n:02d}"
        add(
            {
                "id": pid,
                "source": outlet,
                "title": f"What we know: {chosen[0]['title']}",
                # after every copy of its sources (copies run within 60 hours of the wire)
                "published": (latest + timedelta(hours=rng.randint(61, 96))).isoformat(),
                "body": "\n\n".join(body),
            },
            "patchwork",
            None,
        )
        truth["provenance"][pid] = sources
        for seed in chosen:
            truth["pairs"].append({"a": seed["id"], "b": pid, "relation": "partial"})

    # Feeds arrive in time order; the demo ingests them in three batches by date in tests.
    articles.sort(key=lambda r: (datetime.fromisoformat(r["published"]).timestamp(), r["id"]))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "demo_feed.jsonl").open("w", encoding="utf-8") as f:
        for record in articles:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    (out / "demo_truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    print(
        f"wrote {out / 'demo_feed.jsonl'} ({len(articles)} articles) and {out / 'demo_truth.json'} "
        f"({len(truth['clusters'])} clusters, {len(truth['pairs'])} pairs, {len(truth['provenance'])} patchworks)"
    )


if __name__ == "__main__":
    main()
