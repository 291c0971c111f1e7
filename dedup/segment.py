"""Segmentation of a normalised body into paragraphs and sentences, with roles and credits.

Sentences come from blingfire's sentence breaker (measured 7,700 Reuters stories/s against
pysbd's 200, with the same handling of `Gen.`, `U.S.`, `Mr.`, `Jan.` and decimals), run
one paragraph at a time so that no sentence crosses a paragraph boundary.

>>> paras, sents = segment("WASHINGTON (AP) — Gen. Flynn met Mr. Kislyak. It was Jan. 5.\\n\\nLatest News")
>>> [p.role for p in paras], len(sents)
(['body', 'boilerplate'], 3)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import blingfire

from dedup.model import Paragraph, ParagraphRole, Sentence
from dedup.templates import context_keys, sentence_key

# A heading after which the rest of the page is site furniture (link lists, teasers).
_TRAILER_HEADING = re.compile(
    r"^(latest news|latest stories|related( news| stories| articles| coverage)?|read more"
    r"|more (from|on|stories)\b.*|recommended( for you)?|trending( now)?|most (read|popular)"
    r"|you (may|might) also like|top stories|editor'?s picks)\s*:?$",
    re.IGNORECASE,
)
# Short paragraphs that are furniture wherever they stand.
_BOILERPLATE = re.compile(
    r"^(reuter|reuters|ap|afp|advertisement|sponsored|share( this( article| story)?)?"
    r"|tweet|email|print|comments?)\s*[.:]?$"
    r"|\b(sign up|subscribe|newsletter|follow us|click here|all rights reserved|copyright"
    r"|may not be (published|broadcast|rewritten|redistributed)|read (the )?full (story|article)|^read more\b"
    r"|related:|©|\(c\) \d{4})",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"contributed to this report|^(additional )?(reporting|writing|editing) by\b"
    r"|^compiled by\b|^this (story|article) (has been|was) (corrected|updated)",
    re.IGNORECASE,
)
_SHORT = 240

# "WASHINGTON (AP) — ", "SALVADOR, Feb 26 - ", "LONDON, March 3 (Reuters) -"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'\-][A-Z.'\- ]{0,40}?(?:, (?:[A-Z][a-z]{2,8}\.? \d{1,2}"
    r"|[A-Z][A-Za-z.]{1,12}(?: [A-Z][a-z]+)?(?:,? [A-Z][a-z]{2,8}\.? \d{1,2})?))?)"
    r"(?: \((?P<credit>[A-Za-z][A-Za-z .&-]{0,38})\))?\s?(?:--|[-—–])\s"
)

# Agencies and the other usual sources of reused copy: (canonical name, full names matched
# case-insensitively as whole words, codes matched case-sensitively as whole words, codes
# that are too common as words or abbreviations to count anywhere but on their own: an
# outlet field "PA" or a credit "(TT)"). Longer names win over the names they contain:
# "Australian Associated Press" is AAP, not AP.
_AGENCIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("AP", ("associated press", "ap news"), ("AP",), ()),
    ("AAP", ("australian associated press",), ("AAP",), ()),
    ("AFP", ("agence france-presse", "agence france presse"), ("AFP",), ()),
    ("Reuters", ("reuters", "reuter", "thomson reuters"), (), ()),
    ("dpa", ("deutsche presse-agentur", "deutsche presse agentur"), ("dpa", "DPA"), ()),
    ("EFE", ("agencia efe",), ("EFE",), ()),
    ("ANSA", ("agenzia nazionale stampa associata",), ("ANSA",), ()),
    ("Kyodo", ("kyodo news", "kyodo"), (), ()),
    ("PA Media", ("pa media", "press association"), (), ("PA",)),
    ("Canadian Press", ("canadian press",), (), ("CP",)),
    ("UPI", ("united press international",), ("UPI",), ()),
    ("Xinhua", ("xinhua", "new china news agency"), (), ()),
    ("Bloomberg", ("bloomberg news", "bloomberg"), (), ()),
    ("NTB", ("norsk telegrambyrå", "norsk telegrambyra"), ("NTB",), ()),
    ("TT", ("tidningarnas telegrambyrå", "tidningarnas telegrambyra"), (), ("TT",)),
    ("Ritzau", ("ritzaus bureau", "ritzau"), (), ()),
    ("ANP", ("algemeen nederlands persbureau",), ("ANP",), ()),
    ("Belga", ("belga",), (), ()),
    ("APA", ("austria presse agentur",), ("APA",), ()),
    ("Lusa", ("agência lusa", "agencia lusa"), ("Lusa", "LUSA"), ()),
    ("Europa Press", ("europa press",), (), ()),
    ("TASS", ("itar-tass",), ("TASS", "Tass"), ()),
    ("Interfax", ("interfax",), (), ()),
    ("Yonhap", ("yonhap",), (), ()),
    ("Jiji", ("jiji press",), (), ()),
    ("PTI", ("press trust of india",), ("PTI",), ()),
    ("IANS", ("indo-asian news service",), ("IANS",), ()),
    ("Anadolu", ("anadolu agency", "anadolu ajansı"), (), ()),
    ("Bernama", ("bernama",), (), ()),
    ("Antara", ("antara news",), (), ()),
    ("Washington Post", ("washington post",), (), ()),
    ("CNN", (), ("CNN",), ()),
    ("New York Times", ("new york times",), ("NYT",), ()),
    ("BBC", (), ("BBC",), ()),
)
WIRES: tuple[str, ...] = tuple(name for name, *_ in _AGENCIES)
"""Every canonical wire (or source) name `wire_of` can return."""


def _agency_pattern() -> re.Pattern[str]:
    alternatives: list[tuple[int, str]] = []
    for number, (_, names, codes, _) in enumerate(_AGENCIES):
        for name in names:
            alternatives.append((len(name), f"(?P<w{number}_{len(alternatives)}>(?i:{re.escape(name)}))"))
        for code in codes:
            alternatives.append((len(code), f"(?P<w{number}_{len(alternatives)}>{re.escape(code)})"))
    # longest first: at one position the longer name wins (re takes the first alternative)
    body = "|".join(alt for _, alt in sorted(alternatives, key=lambda a: -a[0]))
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")


_AGENCY = _agency_pattern()
_STRICT_CODES = {code: name for name, _, _, strict in _AGENCIES for code in strict}
_COMPACT_NAMES = sorted(
    ((full.replace(" ", "").replace("-", ""), name) for name, names, _, _ in _AGENCIES for full in names),
    key=lambda item: -len(item[0]),
)


def paragraph_role(text: str) -> ParagraphRole:
    """Classify one paragraph on its own (the trailer rule needs the whole article)."""
    if len(text) <= _SHORT:
        if _CREDIT.search(text):
            return "credit"
        if _BOILERPLATE.search(text) or _TRAILER_HEADING.match(text):
            return "boilerplate"
    return "body"


def _raw_spans(text: str) -> list[tuple[int, int]]:
    """blingfire's sentences located in `text`.

    `text_to_sentences` is ~3x faster than blingfire's own offset wrapper (which walks the
    string in Python); its sentences are verbatim substrings of a normalised paragraph,
    so `find` recovers the offsets. Anything unexpected falls back to the slow path.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in blingfire.text_to_sentences(text).split("\n"):
        if not sentence:
            continue
        start = text.find(sentence, cursor)
        if start < 0:
            _, offsets = blingfire.text_to_sentences_and_offsets(text)
            return [(int(s), int(e)) for s, e in offsets]
        cursor = start + len(sentence)
        spans.append((start, cursor))
    return spans


def _sentence_spans(text: str, offset: int) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph, trimmed, ordered and non-overlapping."""
    raw = _raw_spans(text)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for start, end in raw:
        start, end = max(start, cursor), min(end, len(text))
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((offset + start, offset + end))
            cursor = end
    # blingfire may drop trailing characters it does not understand; keep every character.
    tail = text[cursor:].strip()
    if tail:
        start = text.index(tail, cursor)
        spans.append((offset + start, offset + start + len(tail)))
    return spans or [(offset, offset + len(text))]


def segment(body: str) -> tuple[tuple[Paragraph, ...], tuple[Sentence, ...]]:
    """Split a normalised body into paragraphs (with roles) and sentences (with offsets)."""
    paragraphs: list[Paragraph] = []
    spans: list[tuple[int, int, int]] = []
    keys: list[int] = []
    if not body:
        return (), ()
    start = 0
    trailer = False
    for index, text in enumerate(body.split("\n\n")):
        end = start + len(text)
        role, inside, inside_keys = _paragraph(text)
        # Everything after a "Latest News" heading in the last part of a page is a link list.
        if _TRAILER_HEADING.match(text) and index > 0:
            trailer = True
        if trailer:
            role = "boilerplate"
        paragraphs.append(Paragraph(index, start, end, role))
        spans.extend((index, start + s, start + e) for s, e in inside)
        keys.extend(inside_keys)
        start = end + 2
    sentences = [
        Sentence(n, index, s, e, key, context)
        for n, ((index, s, e), key, context) in enumerate(zip(spans, keys, context_keys(keys), strict=True))
    ]
    return tuple(paragraphs), tuple(sentences)


@functools.lru_cache(maxsize=1 << 16)
def _paragraph(text: str) -> tuple[ParagraphRole, tuple[tuple[int, int], ...], tuple[int, ...]]:
    """A paragraph's role on its own, its sentences' spans within it and their keys.

    Cached: copies of a story bring its paragraphs back word for word (40% of the
    paragraphs of the scale corpus's first 200,000 articles had been seen before), and
    segmenting them again was most of the read stage."""
    inside = tuple(_sentence_spans(text, 0))
    return paragraph_role(text), inside, tuple(sentence_key(text[s:e]) for s, e in inside)


@dataclass(frozen=True, slots=True)
class Dateline:
    text: str
    place: str
    credit: str


def find_dateline(body: str) -> Dateline | None:
    """The dateline that opens a wire story, if any.

    >>> find_dateline("WASHINGTON (AP) — The Senate voted.")
    Dateline(text='WASHINGTON (AP) — ', place='WASHINGTON', credit='AP')
    """
    match = _DATELINE.match(body)
    if not match or not any(ch.isupper() for ch in match["place"][:3]):
        return None
    return Dateline(match.group(0), match["place"].strip(), (match["credit"] or "").strip())


def wire_of(name: str) -> str:
    """The canonical wire named in an outlet or credit string, or ''.

    Whole names and codes only, the leftmost (and, there, the longest) first.

    >>> wire_of("The Associated Press"), wire_of("washingtonpost.com"), wire_of("Daily Bugle")
    ('AP', 'Washington Post', '')
    >>> wire_of("Australian Associated Press"), wire_of("Von Christian Hollmann, dpa"), wire_of("PA")
    ('AAP', 'dpa', 'PA Media')
    """
    bare = name.strip(" \t()[].,;:-—–").strip()
    if bare in _STRICT_CODES:
        return _STRICT_CODES[bare]
    match = _AGENCY.search(name)
    if match and match.lastgroup:
        return _AGENCIES[int(match.lastgroup[1:].split("_")[0])][0]
    # domains and run-together names: "washingtonpost.com", "apnews"
    compact = name.replace(" ", "").replace("-", "").casefold()
    found = [
        (compact.find(full), -len(full), wire)
        for full, wire in _COMPACT_NAMES
        if len(full) > 3 and full in compact
    ]
    return min(found)[2] if found else ""


_TITLE_CREDIT = re.compile(r"\(([^()]{1,40})\)\s*$")


def detect_wire(
    body: str, paragraphs: tuple[Paragraph, ...], *, outlet: str = "", byline: str = "", title: str = ""
) -> tuple[str, str]:
    """(wire, dateline text): from the outlet, then a dateline credit ("WASHINGTON (AP) —",
    or an agency standing as the dateline: "AP - "), the byline, a credit closing the
    title ("... (Reuters)"), or a sign-off.

    Only credit positions are read, never the running text: a story that *mentions*
    "the Washington Post reported" is not a Post story.
    """
    dateline = find_dateline(body)
    place = dateline.place if dateline and _is_only_agency(dateline.place) else ""
    title_credit = _TITLE_CREDIT.search(title)
    credits = (
        outlet,
        dateline.credit if dateline else "",
        place,
        byline,
        title_credit[1] if title_credit else "",
    )
    for source in credits:
        wire = wire_of(source) if source else ""
        if wire:
            return wire, dateline.text if dateline else ""
    for para in reversed(paragraphs):
        if para.role == "body":
            break
        wire = wire_of(body[para.start : para.end])
        if wire:
            return wire, dateline.text if dateline else ""
    return "", dateline.text if dateline else ""


def _is_only_agency(text: str) -> bool:
    """Whether a dateline's place is an agency's name and nothing else ("AP", "Reuters")."""
    match = _AGENCY.fullmatch(text.strip())
    return match is not None or text.strip() in _STRICT_CODES
