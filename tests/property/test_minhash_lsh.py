"""MinHash and LSH against their exact references."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.lsh import band_keys, brute_force_pairs, collision_probability, lsh_params
from dedup.minhash import MinHasher, jaccard
from dedup.shingle import shingle_hashes, token_hashes

HASHER = MinHasher(num_perm=128, seed=1)
SETS = st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=200, unique=True)


@given(st.lists(SETS, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_fast_path_equals_datasketch(sets: list[list[int]]) -> None:
    arrays = [np.array(s, dtype=np.uint64) for s in sets]
    starts = np.cumsum([0] + [len(a) for a in arrays[:-1]])
    fast = HASHER.signatures(np.concatenate(arrays), starts)
    for i, array in enumerate(arrays):
        assert np.array_equal(fast[i], HASHER.reference(array))


@given(
    st.integers(min_value=50, max_value=400),
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=2**32),
)
@settings(max_examples=60, deadline=None)
def test_estimate_close_to_exact_jaccard(size: int, overlap: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    universe = rng.choice(2**62, size=2 * size, replace=False).astype(np.uint64)
    shared = int(size * overlap)
    a = universe[:size]
    b = np.concatenate([universe[:shared], universe[size : 2 * size - shared]])
    exact = len(set(a.tolist()) & set(b.tolist())) / len(set(a.tolist()) | set(b.tolist()))
    sigs = HASHER.signatures(np.concatenate([a, b]), np.array([0, size]))
    # 128 permutations: standard error <= 0.045; 4.5 sigma keeps the test deterministic in practice.
    assert abs(jaccard(sigs[0], sigs[1]) - exact) <= 0.2


def test_lsh_params_match_datasketch_and_s_curve() -> None:
    b, r = lsh_params(0.5, 128)
    assert (b, r) == (25, 5)
    assert collision_probability(0.8, b, r) > 0.999
    assert collision_probability(0.1, b, r) < 0.01


@given(st.integers(min_value=0, max_value=2**32))
@settings(max_examples=15, deadline=None)
def test_lsh_recall_equals_brute_force_above_threshold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = [rng.choice(2**62, size=120, replace=False).astype(np.uint64) for _ in range(6)]
    texts = list(base)
    for source in base[:3]:  # near copies: Jaccard about 0.85
        copy = source.copy()
        copy[:8] = rng.choice(2**62, size=8).astype(np.uint64)
        texts.append(copy)
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]])
    sigs = HASHER.signatures(np.concatenate(texts), starts)
    b, r = lsh_params(0.5, 128)
    found = brute_force_pairs(sigs, b, r)
    keys = band_keys(sigs, b, r)
    for i, j in found:
        assert np.any(keys[i] == keys[j])
    for k in range(3):
        assert (k, 6 + k) in found


def test_short_texts_shrink_instead_of_colliding() -> None:
    one = shingle_hashes(token_hashes(["no", "one", "hurt"]), 5)
    other = shingle_hashes(token_hashes(["all", "were", "safe"]), 5)
    assert len(one) == 1 and len(other) == 1 and one[0] != other[0]
    assert len(shingle_hashes(token_hashes([]), 5)) == 0
