"""Data records shared by every stage: frozen, slotted, and free of I/O.

Offsets are half-open character offsets into `Article.body`, the *normalised* text,
so that `body[s.start:s.end]` is exactly the sentence the later stages talk about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Literal

ParagraphRole = Literal["body", "boilerplate", "credit"]
"""`boilerplate` (site furniture, sign-offs) and `credit` ("X contributed to this report")
paragraphs are kept and shown, but never fingerprinted or counted as reuse."""


class Pickled:
    """A base for frozen, slotted records that cross process boundaries by the hundred
    thousand (to and from the process pools): pickled as their class and field values, so
    that unpickling is one call of the constructor.

    The `__getstate__`/`__setstate__` a slotted frozen dataclass gets by default look up
    its fields on every object; for the sentences and paragraphs of a batch of articles
    that made pickling and unpickling 3x slower (0.23 ms of an article's 0.95 ms in the
    read stage)."""

    __slots__ = ()
    __match_args__: tuple[str, ...]

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        cls = type(self)
        values = _FIELD_VALUES.get(cls) or _FIELD_VALUES.setdefault(cls, attrgetter(*cls.__match_args__))
        return cls, values(self)


_FIELD_VALUES: dict[type, attrgetter[Any]] = {}
"""Each `Pickled` class's getter of its fields' values, in the constructor's order."""


@dataclass(frozen=True, slots=True)
class Paragraph(Pickled):
    index: int
    start: int
    end: int
    role: ParagraphRole = "body"


@dataclass(frozen=True, slots=True)
class Sentence(Pickled):
    index: int
    paragraph: int
    start: int
    end: int
    key: int = 0
    """63-bit hash of the folded sentence (`templates.sentence_key`): the same sentence,
    whatever its case, accents and punctuation, has the same key in every article."""
    context: int = 0
    """Hash of the keys of the sentences before and after it: a syndicated sentence keeps
    its neighbours from copy to copy, a template sentence does not (`templates`)."""


@dataclass(frozen=True, slots=True)
class Article(Pickled):
    """One version of one article, segmented.

    `article_id` is the feed's id (or `sha-<hash>` derived from the content when the feed
    has none); a changed text under the same id becomes `version` 2, 3, ...
    """

    article_id: str
    body: str
    content_hash: str
    paragraphs: tuple[Paragraph, ...]
    sentences: tuple[Sentence, ...]
    title: str = ""
    outlet: str = ""
    byline: str = ""
    url: str = ""
    published: datetime | None = None
    wire: str = ""
    dateline: str = ""
    is_summary: bool = False
    extra: str = "{}"
    version: int = 1
    source_file: str = ""
    source_line: int = 0

    def text_of(self, span: Paragraph | Sentence) -> str:
        return self.body[span.start : span.end]

    @property
    def ref(self) -> str:
        """The id people type: the feed id, with `@vN` for a later version."""
        return self.article_id if self.version == 1 else f"{self.article_id}@v{self.version}"


@dataclass(frozen=True, slots=True)
class Reject:
    """A problem with one input record, kept with its raw text.

    `action` is `rejected` (the record was not stored), `field dropped` (the article was
    stored without the bad field, e.g. an impossible date: losing a story for its date
    would be worse), `skipped` (a record that is not an article, e.g. a WARC request) or
    `kept` (a problem with the container, e.g. a malformed feed whose entries were read)
    or `note` (nothing was lost, but a person should know: the columns assumed for a CSV
    without a header, a warning of the WARC parser).
    """

    file: str
    line: int
    field: str
    reason: str
    raw: str
    action: str = "rejected"

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f": field {self.field!r}" if self.field else ""
        dropped = " (article kept without it)" if self.action == "field dropped" else ""
        return f"{where}{field}: {self.reason}{dropped}"


@dataclass(frozen=True, slots=True)
class IndexSummary:
    """What one indexing pass did: articles fingerprinted, candidate pairs found (by source)."""

    indexed: int
    candidates: int
    via_exact: int
    via_document: int
    via_passage: int
    hot_buckets: int
    via_semantic: int = 0
    """Pairs found only by the lede vectors' nearest neighbours (`dedup.semantic`)."""
    vectors: int = 0
    """Lede vectors computed (articles the lexical index paired with no earlier one)."""


@dataclass(frozen=True, slots=True)
class VerifySummary:
    """What one verification pass did."""

    pairs: int
    duplicate: int
    rewrite: int
    partial: int
    none: int
    sentences: int
    """Sentences of the verified pairs (both sides, counted per pair)."""
    embedded: int
    """Distinct open sentences that needed an embedding (cache hits included)."""
    computed: int
    """Embeddings actually computed by the model (cache misses)."""


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    clusters: int
    clustered: int
    """Articles in a story cluster (origins included)."""
    traced: int
    """Articles whose paragraph provenance was (re)computed."""
    reused_paragraphs: int


@dataclass(frozen=True, slots=True)
class IngestSummary:
    run_id: int
    read: int
    stored: int
    unchanged: int
    new_versions: int
    rejected: int
    fields_dropped: int
    skipped: int
    derived_ids: int
    title_only: int
    no_outlet: int = 0
    """Articles stored without an outlet (no outlet field and no `--source`)."""
    rejects: tuple[Reject, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    """What to know about the run's fields, once: ignored fields, `--map` columns not found."""
    index: IndexSummary | None = None
    verify: VerifySummary | None = None
    clusters: ClusterSummary | None = None


AlignmentKind = Literal["verbatim", "edited", "paraphrase", "added", "removed"]
"""`added`: only in B (b_index set); `removed`: only in A (a_index set)."""

Relation = Literal["duplicate", "rewrite", "partial", "none"]


@dataclass(frozen=True, slots=True)
class Edit:
    """One change inside an edited sentence pair; offsets are relative to each sentence."""

    op: Literal["replace", "delete", "insert"]
    a_start: int
    a_end: int
    b_start: int
    b_end: int


@dataclass(frozen=True, slots=True)
class Alignment:
    """A sentence of A matched to a sentence of B (or left alone), with its similarity.

    `score` is the pair's calibrated similarity in [0, 1] (`dedup.similarity`: 1 for a
    verbatim pair), and 0 for added/removed sentences.
    """

    a_index: int | None
    b_index: int | None
    kind: AlignmentKind
    score: float
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """What `dedup.compare` and the verification stage say about two articles."""

    relation: Relation
    score: float
    containment_a: float
    containment_b: float
    alignments: tuple[Alignment, ...]
    shares: dict[str, float] = field(default_factory=dict)
    """Share of A's and B's countable characters by kind (`a_verbatim`, `b_edited`,
    `b_paraphrase`, ...); `order`, the share of aligned sentences in the order of both;
    `similarity`, their mean calibrated similarity; `lexical_chars`, the characters aligned
    verbatim or edited (templates aside)."""


def utc_naive(moment: datetime | None) -> datetime | None:
    """A time as the store keeps it (`published_utc`): UTC, without a zone."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
