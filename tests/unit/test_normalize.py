from __future__ import annotations

import sys
import unicodedata

import pytest

from dedup.normalize import _FOLD_DROP, fold, normalize_body, normalize_line


def test_reuters_hard_wrap_and_indented_paragraphs(reuters_records: list[dict[str, object]]) -> None:
    body = str(reuters_records[0]["body"])
    out = normalize_body(body)
    paragraphs = out.split("\n\n")
    # The first Reuters story: paragraphs open with an indented line, lines wrap at ~70 columns.
    assert paragraphs[0].startswith("Showers continued throughout the week in the Bahia cocoa zone")
    assert paragraphs[1] == "The dry period means the temporao will be late this year."
    assert paragraphs[-1] == "Reuter"
    assert "\n" not in "".join(paragraphs)
    assert all(p == p.strip() and "  " not in p for p in paragraphs)


def test_blank_line_paragraphs_and_long_lines() -> None:
    long = "A first paragraph, written on one line as many feeds do, that runs well past any wrap width a newswire would use."
    text = f"Headline line\n\n{long}\nSecond para."
    # Lines longer than a wrap width are paragraphs of their own (one paragraph per line feeds).
    assert normalize_body(text).split("\n\n") == ["Headline line", long, "Second para."]
    wrapped = "The first line of a paragraph wrapped at a fixed\nwidth continues here."
    assert normalize_body(wrapped) == "The first line of a paragraph wrapped at a fixed width continues here."


def test_unicode_repair_and_controls() -> None:
    assert normalize_body("The caf\u00c3\u00a9 opened.\x03") == "The café opened."
    assert normalize_body("a\r\nb\u2028c\x00") == "a\n\nb\n\nc"
    assert normalize_body("Non\u00a0breaking\tspace") == "Non breaking space"


@pytest.mark.parametrize(
    "text",
    [
        "  Indented first line\nthen more of the same paragraph that goes on\n    New para.",
        "x\n\n\n\ny",
        "Ends with entity &amp;lt; kept",
        "\ufeffBOM at start",
    ],
)
def test_idempotent_examples(text: str) -> None:
    once = normalize_body(text)
    assert normalize_body(once) == once


def test_entities_are_not_decoded_by_normalise() -> None:
    assert normalize_body("AT&amp;T") == "AT&amp;T"


def test_normalize_line_and_fold() -> None:
    assert normalize_line("  Grain train\n derails ") == "Grain train derails"
    assert fold("“Gen.” Flynn’s calls—Kislyak, 5.93 MLN") == "gen flynns calls kislyak 593 mln"
    assert fold("Café") == fold("cafe")


def test_fold_strips_every_combining_mark_with_the_punctuation() -> None:
    # `fold` relies on this: the marks NFKD splits off are deleted by the punctuation pass.
    marks = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))]
    assert len(marks) > 800
    assert all(_FOLD_DROP.fullmatch(m) for m in marks)
    assert fold("Zürich, São Paulo, Ångström, Dvořák, Ελλάδα") == "zurich sao paulo angstrom dvorak ελλαδα"
