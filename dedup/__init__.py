"""dedup: find who copied whom among news articles, and which paragraphs.

The pipeline, one module per stage: `ingest` -> `normalize` -> `segment` -> `store`.
"""

from __future__ import annotations

from dedup.errors import DedupError, InputError, ModelError, StoreError
from dedup.model import Article, Paragraph, Reject, Sentence

__version__ = "0.1.0"

__all__ = [
    "Article",
    "DedupError",
    "InputError",
    "ModelError",
    "Paragraph",
    "Reject",
    "Sentence",
    "StoreError",
    "__version__",
]
