"""Properties of normalisation and segmentation over arbitrary text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import similarity
from dedup.ingest import FieldMap, build_article
from dedup.ingest.readers import RawRecord
from dedup.normalize import normalize_body
from dedup.segment import segment
from dedup.similarity import sentence_facts
from dedup.store import Store

WORDS = st.sampled_from(
    [
        "Gen.",
        "U.S.",
        "Mr.",
        "Jan.",
        "5.93",
        "said.",
        '"Yes."',
        "the",
        "AP",
        "—",
        "Reuter",
        "é",
        "(AP)",
        "?",
        "!",
    ]
)
PROSE = st.lists(
    st.one_of(WORDS, st.text(min_size=1, max_size=8), st.sampled_from(["\n", "\n\n", "    ", "\t", " "])),
    max_size=60,
).map(" ".join)
TEXT = st.one_of(PROSE, st.text(max_size=300))


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_body(text)
    assert normalize_body(once) == once


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_spans_rebuild_the_text(text: str) -> None:
    body = normalize_body(text)
    paragraphs, sentences = segment(body)
    assert "\n\n".join(body[p.start : p.end] for p in paragraphs) == body
    covered = [False] * len(body)
    previous_end = -1
    for i, s in enumerate(sentences):
        assert s.index == i
        p = paragraphs[s.paragraph]
        assert p.start <= s.start < s.end <= p.end
        assert s.start >= previous_end  # ordered, never overlapping
        previous_end = s.end
        assert body[s.start : s.end] == body[s.start : s.end].strip()
        for j in range(s.start, s.end):
            covered[j] = True
    # Every character outside a sentence is whitespace: no text is lost between spans.
    assert all(covered[j] or body[j].isspace() for j in range(len(body)))


@given(st.lists(st.tuples(PROSE, st.text(max_size=20)), min_size=1, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_store_roundtrip(tmp_path: Path, items: list[tuple[str, str]]) -> None:
    articles = []
    for i, (body, title) in enumerate(items):
        made, _ = build_article(
            RawRecord("f", i, {"id": f"id{i}", "body": body, "title": title}, ""), FieldMap()
        )
        if made is not None:
            articles.append(made)
    with Store.open(":memory:") as store:
        with store.transaction():
            store.add_articles(articles, 1, 1)
        for key, article in enumerate(articles, start=1):
            assert store.load_article(key) == article


SENTENCES = st.lists(st.one_of(PROSE, PROSE.map(lambda s: s * 3)), min_size=1, max_size=6)


@given(SENTENCES, SENTENCES, st.data())
@settings(max_examples=200, deadline=None)
def test_the_memo_of_sentence_pairs_gives_the_matrix_numbers(
    a: list[str], b: list[str], data: st.DataObject
) -> None:
    """Verification grades open sentences through a memo of sentence pairs, computing only
    the rows and columns with a cell not seen before; every cell is the number the whole
    matrix gives, whatever part of it was seen before (a sub-matrix asked first), and the
    same holds for aligned pairs."""
    want = similarity.similarity_matrix([sentence_facts(x) for x in a], [sentence_facts(y) for y in b])
    rows = data.draw(st.lists(st.sampled_from(range(len(a))), unique=True))
    cols = data.draw(st.lists(st.sampled_from(range(len(b))), unique=True))
    similarity.lexical_matrix([a[r] for r in rows], [b[c] for c in cols])
    assert np.array_equal(similarity.lexical_matrix(a, b), want)
    assert np.array_equal(similarity.lexical_matrix(a, b), want)
    n = min(len(a), len(b))
    pairs = similarity.pair_similarities(
        [sentence_facts(x) for x in a[:n]], [sentence_facts(y) for y in b[:n]]
    )
    similarity.lexical_pairs(a[: n // 2], b[: n // 2])
    assert np.array_equal(similarity.lexical_pairs(a[:n], b[:n]), pairs)


@given(SENTENCES, SENTENCES, st.data())
@settings(max_examples=200, deadline=None)
def test_an_open_sentences_partners_are_the_matrix_cells_that_share_a_content_word(
    a: list[str], b: list[str], data: st.DataObject
) -> None:
    """`lexical_partners` computes only the cells whose sentences share a content word,
    pair by pair: each is the very number of its cell in the whole matrix, whether the
    memo saw it first from a matrix or from partners, and every other cell is 0."""
    fa, fb = [sentence_facts(x) for x in a], [sentence_facts(y) for y in b]
    shares = np.array([[bool(x.content & y.content) for y in fb] for x in fa]).reshape(len(a), len(b))
    want = np.where(shares, similarity.similarity_matrix(fa, fb), 0.0)
    rows = data.draw(st.lists(st.sampled_from(range(len(a))), unique=True))
    cols = data.draw(st.lists(st.sampled_from(range(len(b))), unique=True))
    seen_first = data.draw(st.sampled_from([similarity.lexical_matrix, similarity.lexical_partners]))
    seen_first([a[r] for r in rows], [b[c] for c in cols])
    assert np.array_equal(similarity.lexical_partners(a, b), want)
    assert np.array_equal(np.where(shares, similarity.lexical_matrix(a, b), 0.0), want)


@given(SENTENCES, SENTENCES, st.data())
@settings(max_examples=200, deadline=None)
def test_the_cosine_completes_the_lexical_logits_and_bounds_what_can_match(
    a: list[str], b: list[str], data: st.DataObject
) -> None:
    """Verification computes the full model's lexical part before anything is embedded and
    adds the cosine after (`with_cosine`): the numbers of the whole model; and no cell
    outside `cosine_reach`'s rows and columns reaches the threshold, whatever the cosine."""
    fa, fb = [sentence_facts(x) for x in a], [sentence_facts(y) for y in b]
    cells = st.floats(-1.0, 1.0, allow_nan=False, width=32)
    cosine = np.array(
        data.draw(st.lists(cells, min_size=len(a) * len(b), max_size=len(a) * len(b))), dtype=np.float32
    )
    cosine = cosine.reshape(len(a), len(b))
    want = similarity.similarity_matrix(fa, fb, cosine)
    logits = similarity.cosine_free_logits(fa, fb)
    assert np.array_equal(similarity.with_cosine(logits, cosine), want)
    threshold = data.draw(st.floats(0.01, 0.99))
    rows, cols = similarity.cosine_reach(logits, threshold)
    for extreme in (cosine, np.ones_like(cosine), -np.ones_like(cosine)):
        reached = similarity.with_cosine(logits, extreme) >= threshold
        outside = np.ones(reached.shape, dtype=bool)
        outside[np.ix_(rows, cols)] = False
        assert not reached[outside].any()


@given(SENTENCES, SENTENCES)
@settings(max_examples=100, deadline=None)
def test_small_set_overlaps_are_the_incidence_product(a: list[str], b: list[str]) -> None:
    """Set overlaps of small matrices are counted set by set, of big ones as a matrix
    product: the same float32 numbers."""
    sa = [sentence_facts(x).words for x in a]
    sb = [sentence_facts(y).words for y in b]
    small = similarity._set_overlap(sa, sb)
    limit, similarity.SMALL_OVERLAP = similarity.SMALL_OVERLAP, -1
    try:
        big = similarity._set_overlap(sa, sb)
    finally:
        similarity.SMALL_OVERLAP = limit
    for x, y in zip(small, big, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)
