"""LSH banding: which signature rows to hash together, and the band keys.

The number of bands b and rows r for a Jaccard threshold come from datasketch's own
optimisation (minimising weighted false-positive and false-negative probability), read
off a `MinHashLSH`. The index itself is not datasketch's in-memory dict: band keys are
stored in DuckDB and joined there (`store.find_candidates`), so it is persistent,
incremental, and never has to fit in memory.

>>> lsh_params(0.5, 128)
(25, 5)
"""

from __future__ import annotations

from functools import cache

import datasketch
import numpy as np

from dedup.shingle import fmix64

_P = np.uint64(0x100000001B3)


@cache
def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """(bands, rows) for a Jaccard threshold, chosen as datasketch chooses them."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    index = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    return int(index.b), int(index.r)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """64-bit key of each band of each signature: shape (texts, bands)."""
    if bands * rows > signatures.shape[1]:
        raise ValueError("bands x rows exceeds the signature length")
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    with np.errstate(over="ignore"):
        key = np.zeros((len(signatures), bands), dtype=np.uint64)
        for j in range(rows):
            key = key * _P + sig[:, :, j] + np.uint64(1)
        return fmix64(key)


def collision_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two texts with this Jaccard share at least one band."""
    return float(1.0 - (1.0 - jaccard**rows) ** bands)


def brute_force_pairs(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    """Every pair (i < j) sharing a band key, by direct comparison: the reference for tests."""
    keys = band_keys(signatures, bands, rows)
    pairs = set()
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if np.any(keys[i] == keys[j]):
                pairs.add((i, j))
    return pairs
