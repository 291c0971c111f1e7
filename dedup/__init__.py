"""dedup: find who copied whom among news articles, and which paragraphs.

The pipeline, one module per stage: `ingest` -> `normalize` -> `segment` -> `store` ->
`shingle` -> `minhash` -> `lsh` (`fingerprint`) -> `align` -> `embed` -> `score`.

>>> c = compare("The train derailed on Tuesday. No one was hurt.",
...             "The train derailed on Tuesday. No one was hurt.", embedder=None)
>>> c.relation, c.score
('duplicate', 1.0)
"""

from __future__ import annotations

from dedup.align import AlignConfig
from dedup.embed import Embedder, HashingEmbedder, MiniLMEmbedder
from dedup.errors import DedupError, InputError, ModelError, StoreError
from dedup.ingest.fields import content_hash
from dedup.model import Alignment, Article, Comparison, Edit, Paragraph, Reject, Sentence
from dedup.normalize import normalize_body
from dedup.score import ScoreConfig, compare_articles
from dedup.segment import segment

_DEFAULT = object()
MAX_COMPARE_CHARS = 1_000_000


def article_from_text(text: str, article_id: str = "text") -> Article:
    """A segmented Article from raw text (no database, no feed record)."""
    body = normalize_body(text)
    paragraphs, sentences = segment(body)
    return Article(article_id, body, content_hash("", body), paragraphs, sentences)


def compare(
    text_a: str,
    text_b: str,
    *,
    embedder: Embedder | object | None = _DEFAULT,
    align_config: AlignConfig = AlignConfig(),
    score_config: ScoreConfig = ScoreConfig(),
) -> Comparison:
    """Compare two raw texts: relation, score, containments and sentence alignments.

    Sentences lexical alignment leaves open are compared with all-MiniLM-L6-v2 (loaded on
    first use) when the texts share at least one sentence; pass `embedder=None` for a
    lexical-only comparison. Sentence indices refer to `article_from_text(text).sentences`.
    """
    for name, text in (("text_a", text_a), ("text_b", text_b)):
        if len(text) > MAX_COMPARE_CHARS:
            raise InputError(f"{name} is longer than {MAX_COMPARE_CHARS:,} characters", field=name)
    chosen: Embedder | None = MiniLMEmbedder() if embedder is _DEFAULT else embedder  # type: ignore[assignment]
    a, b = article_from_text(text_a, "a"), article_from_text(text_b, "b")
    return compare_articles(a, b, chosen, align_config, score_config)


__version__ = "0.1.0"

__all__ = [
    "AlignConfig",
    "Alignment",
    "Article",
    "Comparison",
    "DedupError",
    "Edit",
    "Embedder",
    "HashingEmbedder",
    "InputError",
    "MiniLMEmbedder",
    "ModelError",
    "Paragraph",
    "Reject",
    "ScoreConfig",
    "Sentence",
    "StoreError",
    "__version__",
    "article_from_text",
    "compare",
]
