"""Alignment and scoring: pure functions, small hand-made texts."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import dedup
from dedup.align import AlignConfig, align_sentences, facts_conflict, open_sentences, word_edits
from dedup.embed import HashingEmbedder
from dedup.score import SideText, finish_comparison, lexical_alignment, score_alignment, sentences_to_embed

SENTENCES = [
    "A freight train carrying grain derailed near Millbrook early Tuesday, state police said.",
    "No one was hurt in the accident on the river bridge.",
    "Sgt. Dana Ruiz said 14 of the train's 60 cars left the tracks at about 4:15 a.m.",
    "The railroad said crews would work through the night to clear the wreckage.",
    "The cause of the derailment was under investigation by federal safety officials.",
]


def test_identical_texts_align_fully_verbatim_in_order() -> None:
    result = align_sentences(SENTENCES, SENTENCES)
    assert [(x.a_index, x.b_index, x.kind) for x in result] == [(i, i, "verbatim") for i in range(5)]


def test_reordered_paragraphs_still_align() -> None:
    b = [SENTENCES[3], SENTENCES[0], SENTENCES[1], SENTENCES[2], SENTENCES[4]]
    pairs = {(x.a_index, x.b_index) for x in align_sentences(SENTENCES, b) if x.kind == "verbatim"}
    assert pairs == {(3, 0), (0, 1), (1, 2), (2, 3), (4, 4)}


def test_edits_are_located() -> None:
    a = "The railroad said crews would work through the night."
    b = "The railroad said its crews would work all night."
    edits = word_edits(a, b)
    changed_b = {b[e.b_start : e.b_end] for e in edits}
    assert "its" in " ".join(changed_b) and "all" in " ".join(changed_b)
    [x] = [x for x in align_sentences([a], [b]) if x.kind == "edited"]
    assert x.edits == edits and 0.7 <= x.score < 1


def test_added_and_removed_are_placed_on_their_side() -> None:
    a = SENTENCES[:3]
    b = [SENTENCES[0], "An added sentence that the reprint wrote itself, about something else.", SENTENCES[1]]
    kinds = [(x.a_index, x.b_index, x.kind) for x in align_sentences(a, b)]
    assert kinds == [(0, 0, "verbatim"), (None, 1, "added"), (1, 2, "verbatim"), (2, None, "removed")]


def test_template_with_substituted_facts_is_not_an_edit() -> None:
    assert facts_conflict(
        "Union Bank said it raised its prime rate to 7-1/2 pct from 7-1/4 pct.",
        "First National Bank of Boston said it raised its prime rate to 7-1/2 pct from 7-1/4 pct.",
    )
    assert facts_conflict(
        "The Bank of Nova Scotia is issuing a 50 mln New Zealand dlr eurobond due 1989.",
        "Oesterreichische Kontrollbank is issuing a 100 mln Canadian dlr eurobond due 1997.",
    )
    assert not facts_conflict(SENTENCES[2], SENTENCES[2].replace("Sgt. Dana Ruiz", "Ruiz"))
    assert not facts_conflict(
        "WASHINGTON, March 3 - The Senate voted.", "WASHINGTON, March 4 - The Senate voted."
    )


SENT = st.sampled_from([*SENTENCES, "Short one.", "Officials declined to comment on the matter today."])


@given(st.lists(SENT, max_size=8), st.lists(SENT, max_size=8))
@settings(max_examples=150, deadline=None)
def test_alignment_is_one_to_one_and_complete(a: list[str], b: list[str]) -> None:
    result = align_sentences(a, b)
    a_seen = [x.a_index for x in result if x.a_index is not None]
    b_seen = [x.b_index for x in result if x.b_index is not None]
    assert sorted(a_seen) == list(range(len(a)))  # every sentence once, in range
    assert sorted(b_seen) == list(range(len(b)))
    assert [i for i in a_seen] == sorted(a_seen)  # A read in order


_TIE = "Short one."
"""With these, B's containment is 17/32 exactly, a tie at four decimals: found by this test
when shares summed per-sentence fractions in the order of the alignments."""


@given(st.lists(SENT, min_size=1, max_size=8), st.lists(SENT, min_size=1, max_size=8))
@example(
    [SENTENCES[0], SENTENCES[4], _TIE, _TIE, "Officials declined to comment on the matter today."],
    [SENTENCES[0], SENTENCES[2], SENTENCES[2], _TIE, "Officials declined to comment on the matter today.",
     SENTENCES[4], "Officials declined to comment on the matter today.", _TIE],
)  # fmt: skip
@settings(max_examples=100, deadline=None)
def test_scores_are_symmetric(a: list[str], b: list[str]) -> None:
    side_a = SideText(tuple(a), (True,) * len(a))
    side_b = SideText(tuple(b), (True,) * len(b))
    ab = score_alignment(align_sentences(a, b), side_a, side_b)
    ba = score_alignment(align_sentences(b, a), side_b, side_a)
    assert ab.relation == ba.relation
    assert np.isclose(ab.containment_a, ba.containment_b) and np.isclose(ab.containment_b, ba.containment_a)
    assert np.isclose(ab.score, ba.score)
    assert 0.0 <= ab.score <= 1.0


def test_score_is_graded() -> None:
    text = " ".join(SENTENCES)
    same = dedup.compare(text, text, embedder=None)
    half = dedup.compare(text, " ".join(SENTENCES[:3]), embedder=None)
    other = dedup.compare(
        text, "Stocks fell sharply in Tokyo on Friday as the yen rose against the dollar.", embedder=None
    )
    assert (same.relation, same.score) == ("duplicate", 1.0)
    assert half.relation == "rewrite" and 0.5 < half.score < 1.0
    # graded below the thresholds: unrelated text keeps the little its words share by chance
    assert other.relation == "none" and other.score < 0.25 < half.score


def test_boilerplate_is_shown_but_not_counted() -> None:
    text = "\n\n".join(SENTENCES)
    copy = text + "\n\nSign up for the Valley Daily newsletter"
    result = dedup.compare(text, copy, embedder=HashingEmbedder())
    assert result.relation == "duplicate" and result.containment_b == 1.0
    assert any(x.kind == "added" for x in result.alignments)


def test_open_sentences_leave_out_those_every_pairing_of_which_facts_would_refuse() -> None:
    a = [
        "Union Bank raised its prime rate to 7-1/2 pct on Monday, officials said.",
        "the weather in the region was mild and dry for most of the week.",
    ]
    b = ["First National Bank of Boston raised its prime rate to 8 pct on Tuesday."]
    assert facts_conflict(a[0], b[0]) and not facts_conflict(a[1], b[0])
    # a[0] could never be matched to anything in B: no embedding is spent on it.
    assert open_sentences([], a, b) == ([1], [0])
    assert open_sentences([], a, b, AlignConfig(check_facts=False)) == ([0, 1], [0])


def test_sentences_no_cosine_could_match_are_not_embedded_and_no_match_changes() -> None:
    """A copy that keeps two sentences, retells two and adds its own: the sentences whose
    every pairing stays below the paraphrase threshold even at a cosine of 1 are left
    unembedded, and the alignments are those of embedding every open sentence."""
    a = SideText(tuple(SENTENCES), (True,) * len(SENTENCES))
    b = SideText(
        (
            SENTENCES[0],
            "Nobody was injured in the accident on the bridge over the river, police said.",
            "The railroad said its crews would work overnight to clear away the wreckage.",
            SENTENCES[4],
            "Heavy snow closed 30 schools across three northern counties and the Interstate 94 on Wednesday.",
            "Voters in Ohio will decide on a $2.5 billion bond measure for roads and bridges in November 2027.",
        ),
        (True,) * 6,
    )
    lexical = lexical_alignment(a, b)
    opened = sentences_to_embed(lexical, a, b, always=True)
    everything = dataclasses.replace(
        opened, rows=tuple(range(len(opened.a))), cols=tuple(range(len(opened.b)))
    )
    assert 0 < len(opened.embed_b) < len(everything.embed_b)  # open, and not embedded

    def finished(o: dedup.score.OpenSentences) -> dedup.Comparison:
        va = HashingEmbedder().encode([a.sentences[i] for i in o.embed_a])
        vb = HashingEmbedder().encode([b.sentences[j] for j in o.embed_b])
        return finish_comparison(lexical, a, b, o, va, vb)

    pruned, full = finished(opened), finished(everything)
    assert pruned.alignments == full.alignments and pruned.relation == full.relation
    assert any(x.kind == "paraphrase" for x in pruned.alignments)


def test_an_ocr_noisy_reprint_is_a_duplicate_and_an_edited_one_is_not() -> None:
    """Noise (look-alike letters, words split or joined, "39.6pct" as two word edits) keeps
    a reprint a duplicate; an editor's words ("said" -> "says") make it a rewrite."""
    from pathlib import Path

    story = (Path(__file__).resolve().parents[2] / "seeds" / "01_ap_derailment.txt").read_text(
        encoding="utf-8"
    )
    story = story.split("---\n", 1)[1]
    noisy = story.replace("train", "tra in").replace("Highway", "Hlghway").replace("morning", "moming")
    noisy = noisy.replace("14 of", "14of").replace("road", "r0ad")
    assert noisy != story
    assert dedup.compare(story, noisy, embedder=None).relation == "duplicate"
    edited = story.replace(" said", " says").replace("closing", "shutting")
    assert dedup.compare(story, edited, embedder=None).relation == "rewrite"
