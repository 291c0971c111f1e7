"""Make a labelled syndication benchmark from the real wire stories in `../shared/data`.

Real Reuters-21578 and BBC stories are the originals; the generator makes the copies that
real syndication makes of them, and records the truth:

  reprint   verbatim, new headline, the outlet's boilerplate, the dateline sometimes cut
  trim      the classic newspaper cut from the bottom (half to four fifths kept)
  relede    a new first paragraph written by the outlet, the rest reprinted
  edited    sentence-level edits: number formats, abbreviations spelt out, names shortened,
            quotes trimmed, synonyms, "said" -> "says"
  reorder   two paragraphs swapped
  spun      a content farm's spinner over every sentence (`spinner.py`): a third of the words
            in its table swapped for "synonyms", countries renamed, now and then a clause
            moved; order, numbers and names kept
  rewritten every sentence rewritten harder: most table words swapped and a clause moved
            wherever a pattern applies (little 5-gram overlap is left)
  patchwork 2-4 sources, one or two paragraphs each, with glue text and a "Latest News" block
  noise     OCR-like noise (letter confusions, split and joined words) on a share of copies

Copies are dated hours to days after their origin and carry outlets of their own; origins
carry the wire credit. Hard negatives are different Reuters stories on the same topic and
day (there are many same-commodity reports); they must not be linked. Every story in a
real near-duplicate group (the corpora's `silver_pairs_j050.tsv`) or with an identical
body is left out, so that the only reuse in the benchmark is the reuse the truth records.

Stories are split into `dev` and `test` by story (a patchwork only takes sources of its own
split), so thresholds can be chosen on one and reported on the other.

The corpus text is read at generation time and written only under `bench/benchmark/`
(ignored by git): the licences of the corpora are research-only.

Usage: python3 scripts/make_benchmark.py [--size 20000] [--seed 11] [--out bench/benchmark] [--smoke]
(--smoke: 300 articles and 30 hard negatives, into a temporary folder unless --out is given)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from _bench import REUTERS_JSONL, ROOT, SHARED, bbc_records, require_corpora
from make_demo import LATEST as DEMO_LATEST
from make_demo import OUTLETS as DEMO_OUTLETS
from spinner import spin_paragraph

from dedup.normalize import normalize_body, normalize_line

SYNDICATION = {"reprint": 0.28, "trim": 0.2, "relede": 0.14, "edited": 0.24, "reorder": 0.14}
"""The copies wire syndication makes (the scale corpus uses these alone, as it always has)."""
PATTERNS = {**SYNDICATION, "spun": 0.1, "rewritten": 0.08}
RELATION = {"reprint": "duplicate", "reorder": "duplicate", "trim": "rewrite", "relede": "rewrite"}
RELATION |= {"edited": "rewrite", "spun": "rewrite", "rewritten": "rewrite"}
NOISE_SHARE = 0.1

OUTLETS = [
    *DEMO_OUTLETS,
    ("Harbor City Times", "Copyright {year} Harbor City Times"),
    ("Market Pulse Online", "Click here to subscribe to Market Pulse"),
    ("The Northern Ledger", "Sign up for our business newsletter"),
    ("Capital Briefing", "Follow us for more updates"),
]
# Edits an editor or a content farm makes inside a sentence: it stays the same sentence.
EDITS = [
    (r"\bmln\b", "million"),
    (r"\bbln\b", "billion"),
    (r"\bdlrs\b", "dollars"),
    (r"\bpct\b", "percent"),
    (r"\bU\.S\.", "US"),
    (r"\bCorp\b", "Corporation"),
    (r"\bInc\b", ""),
    (r"\bsaid\b", "says"),
    (r"\babout\b", "roughly"),
    (r"\bnearly\b", "almost"),
    (r"\bcompany\b", "firm"),
    (r"\bofficials\b", "authorities"),
    (r"\bexpected\b", "forecast"),
    (r"\bincreased\b", "rose"),
    (r"\bdecreased\b", "fell"),
    (r"\bhowever\b", "but"),
    (r"\bpeople\b", "residents"),
    (r"\bbecause\b", "as"),
    (r"(\d),(\d{3})\b", r"\1\2"),
    (r"\b(\d+)\.0\b", r"\1"),
]
RELEDES = [
    "{title}: here is what the wire reported on {day}.",
    "In a story first carried by {wire} on {day}, {title_lc}.",
    "{outlet} has learned the following about {title_lc}, according to wire reports.",
    "Readers asked about {title_lc}. The latest, from {wire} reports on {day}.",
]
GLUE = [
    "Our editors gathered the latest on {a} and {b} for readers (item {n}).",
    "What you need to know today about {a}, and {b} too (brief {n}).",
    "A quick roundup of {a} and {b} from wire reports, edition {n}.",
    "The main points on {a} and {b}, updated for edition {n}.",
]
LATEST = [*DEMO_LATEST, "Markets: what to watch next week"]
OCR = [("rn", "m"), ("l", "1"), ("O", "0"), ("e", "c"), ("i", "l"), ("h", "b"), ("S", "5")]


@dataclass
class Story:
    id: str
    outlet: str  # "Reuters" or "BBC News"
    title: str
    published: datetime
    paragraphs: list[str]  # body paragraphs, dateline on the first for Reuters
    topics: tuple[str, ...]
    split: str = ""


def credit(story: Story) -> str:
    """The source's name as provenance gives it: the wire's short name (AP, Reuters, BBC)."""
    return {"BBC News": "BBC"}.get(story.outlet, story.outlet)


def split_of(story_id: str) -> str:
    return "dev" if hashlib.sha1(story_id.encode()).digest()[0] % 2 else "test"


def excluded_ids() -> set[str]:
    """Every story in a real near-duplicate pair (J >= 0.5): its reuse is not in our truth."""
    out = set()
    for name, prefix in (("reuters21578", "reuters/"), ("bbc", "bbc/")):
        for line in (SHARED / "data" / name / "silver_pairs_j050.tsv").read_text().splitlines():
            a, b, _ = line.split("\t")
            out |= {prefix + a, prefix + b}
    return out


def load_stories(rng: random.Random) -> list[Story]:
    skip = excluded_ids()
    stories: list[Story] = []
    seen_bodies: set[str] = set()
    for line in REUTERS_JSONL.open(encoding="utf-8"):
        rec = json.loads(line)
        sid = f"reuters/{rec['newid']}"
        body = normalize_body((rec.get("body") or "").replace("&#3;", ""))
        paragraphs = [p for p in body.split("\n\n") if p.strip() not in ("Reuter", "REUTER")]
        if sid in skip or len(paragraphs) < 2 or body in seen_bodies:
            continue
        seen_bodies.add(body)
        dateline = normalize_line(rec.get("dateline") or "")
        if dateline:
            paragraphs[0] = f"{dateline.rstrip(' -')} - {paragraphs[0]}"
        try:
            stamp = datetime.strptime(rec["date"].split(".")[0].strip(), "%d-%b-%Y %H:%M:%S")
        except ValueError:  # newid 17192's "605:12:19"
            continue
        title = normalize_line(rec.get("title") or "").title()
        stories.append(Story(sid, "Reuters", title, stamp, paragraphs, tuple(rec.get("topics") or ())))
    start = datetime(2005, 1, 3, 6)
    for rec in bbc_records():
        sid = rec["id"].removesuffix(".txt")
        body = normalize_body(rec["body"])
        if rec["id"] in skip or body in seen_bodies:
            continue
        seen_bodies.add(body)
        when = start + timedelta(days=rng.randrange(0, 300), minutes=rng.randrange(0, 1440))
        topic = sid.split("/")[1]
        stories.append(Story(sid, "BBC News", rec["title"], when, body.split("\n\n"), (topic,)))
    for story in stories:
        story.split = split_of(story.id)
    return stories


def words(story: Story) -> int:
    return sum(len(p.split()) for p in story.paragraphs)


def edit_text(text: str, rng: random.Random, rate: float) -> str:
    """Edit each sentence with probability `rate`: one or two of the EDITS that apply."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"])", text):
        if rng.random() < rate:
            edits = EDITS[:]
            rng.shuffle(edits)
            done = 0
            for pattern, replacement in edits:
                new = re.sub(pattern, replacement, sentence, count=1)
                if new != sentence:
                    sentence, done = re.sub(r"  +", " ", new), done + 1
                if done == 2:
                    break
            # quotes trimmed: a long quotation loses its second half
            quote = re.search(r'"([^"]{80,})"', sentence)
            if quote and rng.random() < 0.5:
                kept = quote.group(1)[: len(quote.group(1)) // 2].rsplit(" ", 1)[0]
                sentence = sentence.replace(quote.group(0), f'"{kept} ..."')
        out.append(sentence)
    return " ".join(out)


def ocr_noise(text: str, rng: random.Random, rate: float = 0.03) -> str:
    """Letter confusions, split and joined words on about `rate` of the words."""
    tokens = text.split(" ")
    for i, token in enumerate(tokens):
        if len(token) < 4 or rng.random() >= rate:
            continue
        roll = rng.random()
        if roll < 0.6:
            for a, b in rng.sample(OCR, len(OCR)):
                if a in token:
                    tokens[i] = token.replace(a, b, 1)
                    break
        elif roll < 0.8:
            cut = rng.randrange(1, len(token) - 1)
            tokens[i] = f"{token[:cut]} {token[cut:]}"
        elif i + 1 < len(tokens):
            tokens[i] = token + tokens[i + 1]
            tokens[i + 1] = ""
    return re.sub(r"  +", " ", " ".join(t for t in tokens)).strip()


def share_of(body: list[str], sources: list[dict], source: str) -> float:
    lifted = sum(len(body[s["paragraph"]]) for s in sources if s["source"] == source)
    return lifted / sum(len(p) for p in body)


def shared_sentence_pairs(stories: list[Story], min_chars: int = 60) -> set[tuple[str, str]]:
    """Pairs of stories with a sentence of `min_chars` or more in common (case and
    punctuation aside), except sentences so common that they are furniture (> 50 stories)."""
    holders: dict[str, set[str]] = {}
    for story in stories:
        for k, paragraph in enumerate(story.paragraphs):
            text = strip_dateline(paragraph) if k == 0 else paragraph
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                key = re.sub(r"\W+", " ", sentence.lower()).strip()
                if len(key) >= min_chars:
                    holders.setdefault(key, set()).add(story.id)
    pairs: set[tuple[str, str]] = set()
    for ids in holders.values():
        if 1 < len(ids) <= 50:
            ordered = sorted(ids)
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs


def strip_dateline(paragraph: str) -> str:
    return re.sub(r"^[A-Z][A-Z.,' ]+(?:, [A-Z][a-z]+\.? \d{1,2})? - ", "", paragraph)


def make_copy(story: Story, pattern: str, n: int, rng: random.Random) -> tuple[dict, bool]:
    outlet, footer = OUTLETS[rng.randrange(len(OUTLETS))]
    when = story.published + timedelta(hours=rng.randint(1, 72), minutes=rng.randint(0, 59))
    body = list(story.paragraphs)
    if rng.random() < 0.5:
        body[0] = strip_dateline(body[0])
    if pattern == "trim":
        body = body[: max(2, round(len(body) * rng.uniform(0.5, 0.8)))]
    elif pattern == "relede":
        lede = rng.choice(RELEDES).format(
            title=story.title,
            title_lc=story.title.lower(),
            day=f"{story.published:%A}",
            wire=story.outlet,
            outlet=outlet,
        )
        body = [lede, *body[1:]]
    elif pattern == "edited":
        body = [edit_text(p, rng, 0.6) for p in body]
    elif pattern == "reorder":
        i = rng.randrange(1, len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    elif pattern == "spun":
        body = [spin_paragraph(p, rng, 0.35, clauses=rng.random() < 0.3) for p in body]
    elif pattern == "rewritten":
        body = [spin_paragraph(p, rng, 0.7, clauses=True) for p in body]
    noisy = rng.random() < NOISE_SHARE
    if noisy:
        body = [ocr_noise(p, rng) for p in body]
    title = story.title if rng.random() < 0.5 else edit_text(story.title, rng, 1.0)
    record = {
        "id": f"{story.id}/{pattern}-{n}",
        "source": outlet,
        "title": title,
        "published": when.isoformat(),
        "body": "\n\n".join([*body, footer.format(year=when.year)]),
    }
    return record, noisy


def make_patchwork(
    chosen: list[Story], n: int, rng: random.Random, used: set[tuple[str, int]], stories: list[Story]
) -> tuple[dict, list[dict]] | None:
    """A roundup of one or two paragraphs from each of `chosen`, with glue text, other
    headlines and a "Latest News" block: the record and its paragraph sources, or None when
    fewer than two sources could be used. `used` keeps a source paragraph from being lifted
    twice; `stories` supplies the other headlines."""
    about = [s.topics[0] if s.topics else "the news" for s in chosen[:2]]
    body = [rng.choice(GLUE).format(a=about[0], b=about[1], n=n + 1)]
    sources: list[dict] = [{"paragraph": 0, "source": None}]
    for story in chosen:
        lifted = [
            j
            for j in range(1, len(story.paragraphs) - 1)
            if len(story.paragraphs[j]) >= 100 and (story.id, j) not in used
        ]
        if not lifted:
            continue
        first = rng.choice(lifted)
        for j in (first, first + 1)[: rng.choice([1, 2])]:
            if len(story.paragraphs[j]) < 100 or (story.id, j) in used:
                continue
            used.add((story.id, j))
            sources.append(
                {"paragraph": len(body), "source": story.id, "source_paragraph": j, "wire": credit(story)}
            )
            body.append(story.paragraphs[j])
    by_id = {s.id: s for s in chosen}
    cited = sorted({s["source"] for s in sources if s["source"]})
    if len(cited) < 2:
        return None
    # A patchwork is partial reuse of each source: no source may make up most of it
    # (that would be a rewrite), so the outlet adds its own text until none is 45%.
    others = [s.title for s in rng.sample(stories, 12) if s.id not in cited]
    while max(share_of(body, sources, c) for c in cited) >= 0.45 and others:
        picked, others = others[:3], others[3:]
        body.insert(1, "Also in this roundup: " + "; ".join(picked) + ".")
        for item in sources[1:]:
            item["paragraph"] += 1
        sources.insert(1, {"paragraph": 1, "source": None})
    if max(share_of(body, sources, c) for c in cited) >= 0.45:
        return None
    outlet, footer = OUTLETS[n % len(OUTLETS)]
    when = max(by_id[c].published for c in cited) + timedelta(hours=rng.randint(73, 120))
    body += ["Latest News", *rng.sample(LATEST, 3), footer.format(year=when.year)]
    record = {
        "id": f"patchwork/{n:05d}",
        "source": outlet,
        "title": f"Roundup: {by_id[cited[0]].title}",
        "published": when.isoformat(),
        "body": "\n\n".join(body),
    }
    return record, sources


def origin_record(story: Story) -> dict:
    sign_off = ["Reuter"] if story.outlet == "Reuters" else []
    return {
        "id": story.id,
        "source": story.outlet,
        "title": story.title,
        "published": story.published.isoformat(),
        "body": "\n\n".join([*story.paragraphs, *sign_off]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20_000, help="articles in the feed")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=None, help="folder (default bench/benchmark)")
    parser.add_argument("--hard-negatives", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="a tiny benchmark, in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.size, args.hard_negatives = 300, 30
        args.out = args.out or Path(tempfile.mkdtemp(prefix="dedup-smoke-"))
    args.out = args.out or ROOT / "bench" / "benchmark"
    require_corpora()
    rng = random.Random(args.seed)
    stories = load_stories(rng)
    rng.shuffle(stories)
    eligible = [s for s in stories if len(s.paragraphs) >= 4 and words(s) >= 120]
    # About a third of the feed is copies: origins get 1-7 copies (mean ~3.5), and
    # there is one patchwork per 6 origins.
    n_origins = min(len(eligible), round(args.size * 0.085))
    origins = eligible[:n_origins]
    by_story = {s.id: s for s in stories}

    records: list[dict] = []
    truth: dict = {
        "name": f"dedup syndication benchmark (seed {args.seed}, {args.size} articles)",
        "clusters": [],
        "pairs": [],
        "provenance": {},
        "hard_negatives": [],
        "articles": {},
    }

    def add(record: dict, kind: str, origin: str | None, split: str, noisy: bool = False) -> None:
        records.append(record)
        truth["articles"][record["id"]] = {
            "kind": kind,
            "origin": origin,
            "outlet": record["source"],
            "split": split,
            "noise": noisy,
        }

    patterns, weights = list(PATTERNS), list(PATTERNS.values())
    for story in origins:
        add(origin_record(story), "original", story.id, story.split)
        members = [story.id]
        for n in range(min(7, 1 + int(rng.expovariate(1 / 2.5)))):
            pattern = rng.choices(patterns, weights)[0]
            record, noisy = make_copy(story, pattern, n, rng)
            add(record, pattern, story.id, story.split, noisy)
            members.append(record["id"])
            truth["pairs"].append({"a": story.id, "b": record["id"], "relation": RELATION[pattern]})
        truth["clusters"].append({"origin": story.id, "members": members})

    used: set[tuple[str, int]] = set()
    for n in range(n_origins // 6):
        split = "dev" if n % 2 else "test"
        pool = [s for s in origins if s.split == split]
        made = make_patchwork(rng.sample(pool, rng.choice([2, 2, 3, 4])), n, rng, used, stories)
        if made is None:
            continue
        record, sources = made
        add(record, "patchwork", None, split)
        truth["provenance"][record["id"]] = sources
        cited = sorted({s["source"] for s in sources if s["source"]})
        truth["pairs"] += [{"a": c, "b": record["id"], "relation": "partial"} for c in cited]

    # Background: the rest of the real stories, most of which nobody copies.
    chosen_ids = {s.id for s in origins}
    background = [s for s in stories if s.id not in chosen_ids][: max(0, args.size - len(records))]
    for story in background:
        add(origin_record(story), "single", None, story.split)

    # Real reuse the generator did not make: stories of the corpora that share a sentence
    # verbatim (a weekly report's unchanged line, a background paragraph re-run). The truth
    # cannot judge those pairs; `dedup evaluate` leaves them (and their copies) out.
    real = [by_story[i] for i in truth["articles"] if i in by_story]
    unjudged = shared_sentence_pairs(real)
    truth["unjudged"] = sorted(map(list, unjudged))

    # Hard negatives: two Reuters stories in the feed on the same topic and day.
    in_feed = [by_story[i] for i in truth["articles"] if i in by_story and i.startswith("reuters/")]
    groups: dict[tuple[str, str], list[Story]] = {}
    for story in in_feed:
        for topic in story.topics[:1]:
            groups.setdefault((topic, f"{story.published:%Y-%m-%d}"), []).append(story)
    negatives = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda s: s.id)
        for a, b in itertools.pairwise(group):
            if a.split == b.split and (a.id, b.id) not in unjudged:
                negatives.append([a.id, b.id])
    rng.shuffle(negatives)
    truth["hard_negatives"] = sorted(negatives[: args.hard_negatives])

    records.sort(key=lambda r: (r["published"], r["id"]))
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "feed.jsonl").open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for meta in truth["articles"].values():
        kinds[meta["kind"]] = kinds.get(meta["kind"], 0) + 1
    print(
        f"wrote {args.out}/feed.jsonl ({len(records)} articles: "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f") and truth.json ({len(truth['clusters'])} clusters, {len(truth['pairs'])} pairs, "
        f"{len(truth['provenance'])} patchworks, {len(truth['hard_negatives'])} hard negatives, "
        f"{len(truth['unjudged'])} unjudged pairs of real stories sharing a sentence)"
    )


if __name__ == "__main__":
    main()
