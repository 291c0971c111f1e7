"""Shingling: word n-grams over folded tokens, hashed to 64 bits, vectorised per text.

Tokens are hashed for a whole batch at once (`batch_token_hashes`), and n-gram hashes are
combined with numpy (a polynomial over token hashes, finished by the MurmurHash3 64-bit
mixer): no Python call per token or per shingle. `token_hash`/`shingle_hashes` are the
plain one-text reference the tests hold the batch path equal to.

Shingles never span paragraphs: the set of an article is the union of the sets of its body
paragraphs, which keeps it stable when a reprint drops or reorders paragraphs. A text
shorter than n tokens yields one shingle of all its tokens (the shingle shrinks) instead of
none, so two short texts collide only when they are equal.

>>> a = shingle_hashes(token_hashes(tokens("The dry period means the temporao will be late")), 5)
>>> len(a), a.dtype
(5, dtype('uint64'))
"""

from __future__ import annotations

import itertools

import numpy as np
import xxhash

from dedup.normalize import fold

_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier (golden ratio), for the n-gram polynomial
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection on uint64 arrays."""
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


def tokens(text: str) -> list[str]:
    """Folded word tokens: case, accents and punctuation removed."""
    return fold(text).split()


# ASCII folding as one bytes.translate: letters lowered, digits kept, dashes, underscores and
# whitespace to spaces, everything else deleted -- exactly what `fold` does to ASCII text.
_ASCII = bytes(range(128))
_FOLD_TABLE = bytes(
    (c + 32 if 65 <= c <= 90 else 32 if (chr(c).isspace() or c in b"-_") else c) for c in range(256)
)
_FOLD_DELETE = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c).isspace() or c in b"-_"))


_FOLD_TABLE_NL = bytes(10 if c == 10 else _FOLD_TABLE[c] for c in range(256))


def fold_paragraphs(body: str) -> list[bytes]:
    """`fold` of each paragraph of a normalised body (paragraphs split at blank lines).

    Tokens may be separated by several spaces here; `batch_token_hashes` does not mind.
    One `bytes.translate` folds a whole ASCII body.
    """
    if body.isascii():
        return body.encode("ascii").translate(_FOLD_TABLE_NL, _FOLD_DELETE).split(b"\n\n")
    return [fold(part).encode() for part in body.split("\n\n")]


def fold_bytes(text: str) -> bytes:
    """`fold(text)` as UTF-8 bytes, tokens separated by single spaces (fast for ASCII)."""
    if text.isascii():
        return b" ".join(text.encode("ascii").translate(_FOLD_TABLE, _FOLD_DELETE).split())
    return fold(text).encode()


_B = np.uint64(0x100000001B3)  # FNV-1 64-bit prime: the byte polynomial's base
_B_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))


def token_hash(word: bytes) -> int:
    """The hash of one token: fmix64(sum(byte_k * B**k) + len) mod 2**64 (reference)."""
    total = 0
    for k, byte in enumerate(word):
        total = (total + byte * pow(int(_B), k, 1 << 64)) % (1 << 64)
    value = np.array([(total + len(word)) % (1 << 64)], dtype=np.uint64)
    return int(fmix64(value)[0])


def token_hashes(words: list[str]) -> np.ndarray:
    """Token hashes one word at a time (the reference for `batch_token_hashes`)."""
    return np.array([token_hash(w.encode()) for w in words], dtype=np.uint64)


_POWERS: list[np.ndarray] = []
_TOKEN_CHUNK = 1 << 18
"""Bytes hashed at a time by `batch_token_hashes`: its uint64 temporaries stay a few MB."""


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """B**k and B**-k mod 2**64 for k < size, computed once per process and grown by doubling."""
    if not _POWERS or len(_POWERS[0]) < size:
        grown = max(size, 2 * len(_POWERS[0]) if _POWERS else _TOKEN_CHUNK + 1)
        tables = []
        for base in (_B, _B_INVERSE):
            table = np.empty(grown, dtype=np.uint64)
            table[0] = 1
            table[1:] = base
            with np.errstate(over="ignore"):
                np.cumprod(table, out=table)
            tables.append(table)
        _POWERS[:] = tables
    return _POWERS[0][:size], _POWERS[1][:size]


def batch_token_hashes(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every token of many folded texts at once, and the index of each token's text.

    The byte polynomial of a token is a difference of prefix sums, scaled by an inverse
    power of the base (the base is odd, hence invertible mod 2**64), so the whole batch is
    hashed with a handful of numpy passes and no Python call per token. The texts go
    through in runs of about `_TOKEN_CHUNK` bytes: the prefix sums restart at each run, so
    the power tables stay that long and the temporaries stay in cache (one pass over a
    whole batch of 5,000 articles faulted in ~100 MB of fresh pages per table).
    """
    if not texts:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1  # a space after each
    ends = np.cumsum(sizes)
    cuts = np.flatnonzero(np.diff((ends - 1) // _TOKEN_CHUNK)) + 1
    bounds = [0, *cuts.tolist(), len(texts)]
    hashes, owners = [], []
    for lo, hi in itertools.pairwise(bounds):
        run_hashes, run_owners = _token_hashes_of_run(
            texts[lo:hi], ends[lo:hi] - sizes[lo:hi] - (ends[lo] - sizes[lo])
        )
        hashes.append(run_hashes)
        owners.append(run_owners + lo)
    return np.concatenate(hashes), np.concatenate(owners)


def _token_hashes_of_run(texts: list[bytes], text_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    buffer = b" ".join(texts) + b" "
    data = np.frombuffer(buffer, dtype=np.uint8)
    edges = np.diff((data != 32).astype(np.int8), prepend=np.int8(0))
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1)  # the space after each token (the buffer ends with one)
    powers, inverse = _powers(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum(data.astype(np.uint64) * powers[:-1], out=prefix[1:])
        value = (prefix[last] - prefix[first]) * inverse[first] + (last - first).astype(np.uint64)
    return fmix64(value), np.searchsorted(text_starts, first, "right") - 1


def ngram_hashes(token_hash: np.ndarray, n: int) -> np.ndarray:
    """Hash of every run of n consecutive tokens of an array (no shrinking; may be empty)."""
    count = len(token_hash) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    h = token_hash[:count].copy()
    with np.errstate(over="ignore"):
        for j in range(1, n):
            h = h * _P + token_hash[j : j + count]
        return fmix64(h + np.uint64(n))


def shingle_hashes(token_hash: np.ndarray, n: int) -> np.ndarray:
    """64-bit hashes of every run of n consecutive tokens (fewer tokens: one shingle of all)."""
    if n < 1:
        raise ValueError("shingle size n must be >= 1")
    if len(token_hash) == 0:
        return np.empty(0, dtype=np.uint64)
    return ngram_hashes(token_hash, min(n, len(token_hash)))


def exact_hash(token_hash: np.ndarray) -> int:
    """A 64-bit hash of a token sequence: equal folded texts, equal hashes (never 0)."""
    return xxhash.xxh3_64_intdigest(np.ascontiguousarray(token_hash, dtype=np.uint64).tobytes()) or 1


def exact_hashes(token_hash: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """`exact_hash` of each slice `token_hash[starts[i]:ends[i]]` (uint64), hashing views of
    one byte buffer: no array made per slice."""
    view = memoryview(np.ascontiguousarray(token_hash, dtype=np.uint64).tobytes())
    digest = xxhash.xxh3_64_intdigest
    return np.fromiter(
        (digest(view[8 * a : 8 * b]) or 1 for a, b in zip(starts.tolist(), ends.tolist(), strict=True)),
        dtype=np.uint64,
        count=len(starts),
    )
