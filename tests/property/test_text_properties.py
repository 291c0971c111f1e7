"""Properties of normalisation and segmentation over arbitrary text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from dedup.ingest import FieldMap, build_article
from dedup.ingest.readers import RawRecord
from dedup.normalize import normalize_body
from dedup.segment import segment
from dedup.similarity import _partial_matrix
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


@given(SENTENCES, SENTENCES)
@settings(max_examples=200, deadline=None)
def test_the_cached_partial_ratio_is_rapidfuzz_cdist(a: list[str], b: list[str]) -> None:
    """Verification reads `partial` cell by cell through a cache; the matrix is the one
    `cdist` gives, long sentences (past rapidfuzz's 64-character fast path) included,
    and asking again (from the cache) gives it again."""
    want = process.cdist(a, b, scorer=fuzz.partial_ratio, dtype=np.float32)
    assert np.array_equal(_partial_matrix(a, b), want)
    assert np.array_equal(_partial_matrix(a, b), want)
