"""A content farm's article spinner, for the benchmark's spun and rewritten copies.

Real spinners swap words for "synonyms" from a table (grammar be damned: "Flynn's ties
with Russian Federation have anxious some Republicans"), spell out or rename countries,
and move clauses ("X, Y said." -> "Y said that X."), sentence by sentence, keeping the
order of the story, its numbers and its names. The table is the project's own.

>>> import random
>>> spin_sentence("Officials said the company would buy the plant.", random.Random(1), rate=1.0)
'Authorities noted the business would purchase the facility.'
"""

from __future__ import annotations

import random
import re

# word -> substitutes (lower case; the original's capitalisation is kept)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "said": ("stated", "noted", "remarked"), "says": ("states", "notes"), "told": ("informed",),
    "officials": ("authorities",), "official": ("representative",), "company": ("firm", "business"),
    "companies": ("firms", "businesses"), "buy": ("purchase", "acquire"), "bought": ("purchased", "acquired"),
    "sell": ("market",), "sold": ("marketed",), "plant": ("facility",), "plants": ("facilities",),
    "worried": ("anxious", "concerned"), "worry": ("concern",), "big": ("large", "huge"),
    "large": ("big", "sizable"), "small": ("little", "modest"), "help": ("assist", "aid"),
    "helped": ("assisted", "aided"), "show": ("demonstrate",), "showed": ("demonstrated",),
    "rise": ("increase", "climb"), "rose": ("increased", "climbed"), "fall": ("decline", "drop"),
    "fell": ("declined", "dropped"), "important": ("significant", "key"), "people": ("individuals", "persons"),
    "government": ("administration",), "country": ("nation",), "countries": ("nations",),
    "begin": ("commence",), "began": ("commenced",), "start": ("begin",), "started": ("began",),
    "end": ("conclude",), "ended": ("concluded",), "use": ("utilize",), "used": ("utilized",),
    "make": ("create", "produce"), "made": ("created", "produced"), "need": ("require",),
    "needed": ("required",), "plan": ("scheme", "proposal"), "plans": ("schemes", "proposals"),
    "meeting": ("session", "gathering"), "talks": ("discussions", "negotiations"),
    "agreement": ("deal", "accord"), "deal": ("agreement",), "price": ("cost",), "prices": ("costs",),
    "rate": ("level",), "rates": ("levels",), "increase": ("rise", "boost"), "increased": ("boosted",),
    "reduce": ("cut", "lower"), "reduced": ("cut", "lowered"), "expected": ("anticipated", "predicted"),
    "expects": ("anticipates",), "announced": ("revealed", "declared"), "report": ("account",),
    "reported": ("disclosed",), "year": ("twelve months",), "week": ("seven days",),
    "about": ("approximately", "around"), "nearly": ("almost",), "also": ("additionally",),
    "however": ("nevertheless",), "because": ("since",), "but": ("yet",), "many": ("numerous",),
    "very": ("extremely",), "quickly": ("rapidly",), "fast": ("rapid",), "new": ("fresh", "novel"),
    "first": ("initial",), "last": ("final", "previous"), "major": ("main", "principal"),
    "city": ("town",), "area": ("region", "zone"), "home": ("house", "residence"), "homes": ("houses",),
    "building": ("structure",), "buildings": ("structures",), "fire": ("blaze",), "killed": ("slain",),
    "hurt": ("injured", "harmed"), "police": ("law enforcement",), "attack": ("assault",),
    "vote": ("ballot",), "voted": ("cast ballots",), "law": ("legislation",), "bill": ("measure",),
    "market": ("marketplace",), "markets": ("marketplaces",), "shares": ("stocks",), "stock": ("share",),
    "profit": ("earnings",), "profits": ("earnings",), "sales": ("revenues",), "money": ("funds", "cash"),
    "spokesman": ("representative",), "spokeswoman": ("representative",), "chief": ("head",),
    "leader": ("head",), "leaders": ("heads",), "group": ("organization",), "part": ("portion",),
    "problem": ("issue", "difficulty"), "problems": ("issues",), "change": ("alteration", "shift"),
    "changes": ("alterations",), "result": ("outcome",), "results": ("outcomes",), "win": ("victory",),
    "won": ("secured",), "lost": ("forfeited",), "team": ("squad",), "game": ("match",),
    "statement": ("declaration",), "week's": ("seven days'",), "today": ("nowadays",), "big-name": ("famous",),
    "told reporters": ("informed journalists",), "reporters": ("journalists",), "news": ("information",),
    "story": ("account",), "tried": ("attempted",), "try": ("attempt",), "wanted": ("desired",),
    "want": ("desire",), "think": ("believe",), "thought": ("believed",), "get": ("obtain",), "got": ("obtained",),
    "give": ("provide",), "gave": ("provided",), "keep": ("retain",), "kept": ("retained",),
    "continue": ("carry on",), "continued": ("carried on",), "move": ("step",), "moves": ("steps",),
    "allow": ("permit",), "allowed": ("permitted",), "ask": ("request",), "asked": ("requested",),
    "large-scale": ("massive",), "strong": ("powerful", "robust"), "weak": ("feeble",), "high": ("elevated",),
    "low": ("reduced",), "early": ("premature",), "late": ("belated",), "several": ("various",),
    "often": ("frequently",), "likely": ("probable",), "possible": ("feasible",), "current": ("present",),
    "recent": ("latest",), "including": ("such as",), "support": ("backing",), "supported": ("backed",),
}  # fmt: skip
# What spinners do to proper names: rename countries, never people.
RENAMES = {
    "Russia": "Russian Federation", "U.S.": "USA", "United States": "USA", "Britain": "United Kingdom",
    "UK": "United Kingdom", "China": "People's Republic of China", "Washington": "the US capital",
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_RENAME = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(RENAMES, key=len, reverse=True)) + r")(?!\w)"
)


def _case(original: str, new: str) -> str:
    if original.isupper() and len(original) > 1:
        return new.upper()
    return new[:1].upper() + new[1:] if original[:1].isupper() else new


def spin_words(sentence: str, rng: random.Random, rate: float) -> str:
    """Each word of the table swapped with probability `rate`; numbers and names kept
    (a capitalised word mid-sentence is a name; countries are renamed as spinners do)."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = SYNONYMS.get(word.lower())
        mid_sentence_name = word[:1].isupper() and match.start() > 0
        if not options or mid_sentence_name or rng.random() >= rate:
            return word
        return _case(word, rng.choice(options))

    text = _WORD.sub(swap, sentence)
    return _RENAME.sub(lambda m: RENAMES[m.group(1)] if rng.random() < rate else m.group(1), text)


_SAID_AFTER = re.compile(
    r"^(?P<body>[^\"]{20,}?), (?P<who>[^,\"]{3,60}?) (?P<verb>said|says|stated|noted)(?P<when> on \w+)?\.$"
)
_SAID_BEFORE = re.compile(
    r"^(?P<who>[A-Z][^,\"]{2,60}?) (?P<verb>said|says)(?P<when> on \w+)? (?:that )?(?P<body>[^\"]{20,})\.$"
)
_LEADING = re.compile(
    r"^(?P<lead>(?:On|In|At|By|After|Before|During|Since|Earlier|Later) [^,]{3,40}), (?P<rest>.{20,})\.$"
)


def move_clauses(sentence: str) -> str:
    """One clause moved, where a pattern applies: attribution to the front or the back,
    a leading time or place phrase to the end."""
    if m := _SAID_AFTER.match(sentence):
        who = m["who"][:1].upper() + m["who"][1:]
        body = m["body"][:1].lower() + m["body"][1:] if not m["body"].split()[0].isupper() else m["body"]
        return f"{who} {m['verb']}{m['when'] or ''} that {body}."
    if m := _SAID_BEFORE.match(sentence):
        body = m["body"][:1].upper() + m["body"][1:]
        who = re.sub(r"^(The|A|An) ", lambda d: d.group(0).lower(), m["who"])
        return f"{body}, {who} {m['verb']}{m['when'] or ''}."
    if m := _LEADING.match(sentence):
        rest = m["rest"][:1].upper() + m["rest"][1:]
        return f"{rest} {m['lead'][:1].lower()}{m['lead'][1:]}."
    return sentence


def spin_sentence(sentence: str, rng: random.Random, rate: float = 0.35, clauses: bool = False) -> str:
    """A spun sentence: words swapped at `rate`, and with `clauses` a clause moved."""
    text = move_clauses(sentence) if clauses else sentence
    return spin_words(text, rng, rate)


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")


def spin_paragraph(paragraph: str, rng: random.Random, rate: float = 0.35, clauses: bool = False) -> str:
    return " ".join(spin_sentence(s, rng, rate, clauses) for s in _SENTENCE.split(paragraph))


def main() -> None:
    """Spin a text from stdin (or, with --smoke, a seed story) to stdout, paragraph by paragraph."""
    import argparse
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Spin a text as a content farm would (stdin to stdout).")
    parser.add_argument("--rate", type=float, default=0.35, help="share of table words swapped")
    parser.add_argument("--clauses", action="store_true", help="also move a clause where a pattern applies")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="spin the first seed story instead of stdin")
    args = parser.parse_args()
    if args.smoke:
        seed = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("[0-9]*.txt"))[0]
        text = seed.read_text(encoding="utf-8").split("---\n", 1)[1]
    else:
        text = sys.stdin.read()
    rng = random.Random(args.seed)
    spun = [spin_paragraph(p, rng, args.rate, args.clauses) for p in text.split("\n\n") if p.strip()]
    print("\n\n".join(spun))


if __name__ == "__main__":
    main()
