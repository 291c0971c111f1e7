"""The batch fingerprint path equals the plain one-text-at-a-time reference."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import shingle
from dedup.fingerprint import IndexConfig, fingerprint
from dedup.lsh import band_keys
from dedup.minhash import MinHasher
from dedup.normalize import fold, normalize_body
from dedup.segment import segment
from dedup.shingle import batch_token_hashes, exact_hash, fold_bytes, shingle_hashes, token_hashes, tokens

CONFIG = IndexConfig(min_passage_tokens=4, shingle_size=3)
WORDS = st.sampled_from(
    ["Gen.", "U.S.", "café", "5.93", "said", "the", "—", "Reuter", "Ünïcode", "x_y", "a-b", "\x1c"]
)
TEXT = st.lists(st.one_of(WORDS, st.text(max_size=6), st.just("\n\n")), max_size=80).map(" ".join)


def reference(body: str, config: IndexConfig) -> tuple[int, np.ndarray, list[tuple[int, int, np.ndarray]]]:
    """(exact hash, signature, [(paragraph, exact, passage signature)]) for one article."""
    paragraphs, _ = segment(body)
    doc_tokens: list[str] = []
    passages = []
    for p in paragraphs:
        if p.role != "body":
            continue
        words = tokens(body[p.start : p.end])
        doc_tokens += words
        if len(words) >= config.min_passage_tokens:
            hashes = shingle_hashes(token_hashes(words), config.shingle_size)
            sig = MinHasher(config.passage_perm, config.seed).reference(hashes)
            passages.append((p.index, exact_hash(token_hashes(words)), sig))
    hashes = shingle_hashes(token_hashes(doc_tokens), config.shingle_size)
    signature = MinHasher(config.num_perm, config.seed).reference(hashes)
    exact = exact_hash(token_hashes(doc_tokens)) if doc_tokens else 0
    return exact, signature, passages


def as_items(texts: list[str]) -> list[tuple[int, str, tuple[tuple[int, int, int, str], ...]]]:
    items = []
    for key, text in enumerate(texts):
        body = normalize_body(text)
        paragraphs, _ = segment(body)
        items.append((key, body, tuple((p.index, p.start, p.end, p.role) for p in paragraphs)))
    return items


@given(st.lists(TEXT, min_size=1, max_size=4))
@settings(max_examples=80, deadline=None)
def test_batch_equals_reference(texts: list[str]) -> None:
    items = as_items(texts)
    fp = fingerprint(items, CONFIG)
    for i, (_, body, _) in enumerate(items):
        exact, signature, passages = reference(body, CONFIG)
        assert fp.exact[i] == exact
        if exact:
            assert np.array_equal(fp.signature[i], signature)
            assert np.array_equal(fp.doc_bands[i], band_keys(signature[None, :], *CONFIG.doc_bands)[0])
        mine = np.flatnonzero(fp.passage_article == i)
        assert [int(p) for p in fp.passage_paragraph[mine]] == [p for p, _, _ in passages]
        for row, (_, p_exact, p_sig) in zip(mine, passages, strict=True):
            assert fp.passage_exact[row] == p_exact
            assert np.array_equal(fp.passage_bands[row], band_keys(p_sig[None, :], *CONFIG.passage_bands)[0])


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_fold_bytes_equals_fold(text: str) -> None:
    assert fold_bytes(text).split() == [w.encode() for w in fold(text).split()]


@given(st.lists(TEXT, min_size=1, max_size=4))
@settings(max_examples=40, deadline=None)
def test_shingle_counts_are_distinct_counts(texts: list[str]) -> None:
    items = as_items(texts)
    fp = fingerprint(items, CONFIG)
    for i, (_, body, paragraphs) in enumerate(items):
        words = [w for _, s, e, role in paragraphs if role == "body" for w in tokens(body[s:e])]
        assert fp.shingles[i] == len(set(shingle_hashes(token_hashes(words), CONFIG.shingle_size).tolist()))


@given(
    st.lists(
        st.lists(st.sampled_from(["gen", "us", "cafe", "593", "said", "x", "reuters"]), max_size=12),
        max_size=12,
    )
)
@settings(max_examples=80, deadline=None)
def test_token_hashes_in_runs_equal_the_reference(texts: list[list[str]]) -> None:
    # Runs of a few bytes: texts straddle and overrun the runs, as a long article does the real size.
    folded = [" ".join(words).encode() for words in texts]
    for chunk in (8, 1 << 18):
        with patch.object(shingle, "_TOKEN_CHUNK", chunk):
            hashes, owners = batch_token_hashes(folded)
        assert np.array_equal(
            hashes, np.concatenate([token_hashes(w) for w in texts] + [np.empty(0, np.uint64)])
        )
        assert owners.tolist() == [i for i, words in enumerate(texts) for _ in words]
