from __future__ import annotations

from dedup.normalize import normalize_body
from dedup.segment import detect_wire, find_dateline, paragraph_role, segment, wire_of

SEED_LIKE = (
    "WASHINGTON (AP) — Retired Gen. Michael Flynn spoke to Mr. Kislyak on Dec. 29 in the U.S. "
    "capital. The calls lasted 2.5 hours, officials said.\n\n"
    '"They exchanged logistical information," Spicer said. He did not elaborate.\n\n'
    "Jane Doe contributed to this report.\n\n"
    "Latest News\n\n"
    "Storm closes schools in three counties"
)


def sentences_of(body: str) -> list[str]:
    _, sentences = segment(body)
    return [body[s.start : s.end] for s in sentences]


def test_abbreviations_decimals_quotes() -> None:
    assert sentences_of(SEED_LIKE)[:4] == [
        "WASHINGTON (AP) — Retired Gen. Michael Flynn spoke to Mr. Kislyak on Dec. 29 in the U.S. capital.",
        "The calls lasted 2.5 hours, officials said.",
        '"They exchanged logistical information," Spicer said.',
        "He did not elaborate.",
    ]


def test_roles_credit_and_trailer() -> None:
    paragraphs, _ = segment(SEED_LIKE)
    assert [p.role for p in paragraphs] == ["body", "body", "credit", "boilerplate", "boilerplate"]
    assert paragraph_role("Sign up for our daily newsletter") == "boilerplate"
    assert paragraph_role("Reuter") == "boilerplate"
    # Long paragraphs that merely mention a newsletter are content.
    assert paragraph_role("The company said it would " + "subscribe new customers " * 20) == "body"


def test_spans_point_into_body() -> None:
    paragraphs, sentences = segment(SEED_LIKE)
    for s in sentences:
        p = paragraphs[s.paragraph]
        assert p.start <= s.start < s.end <= p.end
    assert SEED_LIKE.split("\n\n") == [SEED_LIKE[p.start : p.end] for p in paragraphs]


def test_datelines() -> None:
    assert find_dateline("SALVADOR, Feb 26 - Showers continued").place == "SALVADOR, Feb 26"  # type: ignore[union-attr]
    d = find_dateline("LONDON, March 3 (Reuters) - Oil prices rose")
    assert d is not None and d.credit == "Reuters"
    assert find_dateline("The man - who spoke") is None


def test_wire_detection_uses_credit_positions_only() -> None:
    body = normalize_body(SEED_LIKE)
    paragraphs, _ = segment(body)
    assert detect_wire(body, paragraphs) == ("AP", "WASHINGTON (AP) — ")
    mention = "The Washington Post reported the calls on Monday."
    assert detect_wire(mention, segment(mention)[0]) == ("", "")
    assert detect_wire(mention, segment(mention)[0], outlet="washingtonpost.com")[0] == "Washington Post"
    assert wire_of("Agence France-Presse") == "AFP"
    assert wire_of("Daily Bugle") == ""


def test_reuters_signoff_gives_wire(reuters_records: list[dict[str, object]]) -> None:
    body = normalize_body(str(reuters_records[0]["body"]))
    paragraphs, sentences = segment(body)
    assert paragraphs[-1].role == "boilerplate"
    assert detect_wire(body, paragraphs)[0] == "Reuters"
    assert len(sentences) >= 10


def test_empty_body() -> None:
    assert segment("") == ((), ())
