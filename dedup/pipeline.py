"""The pipeline: drives the stages over a Store. The CLI and the Python API both call this."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

from dedup.errors import InputError
from dedup.ingest import MAX_CHARS, FieldMap, build_article, has_derived_id, read_records
from dedup.model import Article, IngestSummary, Reject
from dedup.store import Store

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IngestOptions:
    input_format: str = "auto"
    fields: FieldMap = field(default_factory=FieldMap)
    source: str = ""
    strict: bool = False
    max_chars: int = MAX_CHARS
    batch_size: int = 2000


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def ingest(
    store: Store,
    paths: list[str],
    options: IngestOptions = IngestOptions(),
    *,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Read, normalise, segment and store every record of `paths` in one transaction.

    Re-ingesting an article with the same id and content is a no-op; the same id with a
    different content becomes a new version. Bad records go to `rejects` (or, with
    `strict`, abort the whole ingest and leave the database as it was).
    """
    counts = dict.fromkeys(
        (
            "read",
            "stored",
            "unchanged",
            "new_versions",
            "fields_dropped",
            "derived_ids",
            "title_only",
        ),
        0,
    )
    rejects: list[Reject] = []
    params = {
        "paths": paths,
        **{k: v for k, v in dataclasses.asdict(options).items() if k != "fields"},
    }
    params["map"] = dict(options.fields.overrides)
    with store.transaction():
        run_id = store.begin_run("ingest", params)
        for batch in _batches(read_records(paths, options.input_format), options.batch_size):
            articles: list[Article] = []
            problems: list[Reject] = []
            found: tuple[Reject, ...]
            for item in batch:
                counts["read"] += 1
                if isinstance(item, Reject):
                    article, found = None, (item,)
                else:
                    article, found = build_article(
                        item,
                        options.fields,
                        default_outlet=options.source,
                        max_chars=options.max_chars,
                    )
                if found and options.strict:
                    first = found[0]
                    raise InputError(
                        first.reason, file=first.file, line=first.line, field=first.field or None
                    )
                problems.extend(found)
                if article is not None:
                    articles.append(article)
            store.add_rejects(problems, run_id)
            rejects.extend(problems)
            fresh = _assign_versions(store, articles, counts)
            store.add_articles(fresh, store.next_article_key(), run_id)
            counts["stored"] += len(fresh)
            counts["derived_ids"] += sum(has_derived_id(a) for a in fresh)
            counts["title_only"] += sum(not a.body for a in fresh)
            if progress:
                progress(len(batch))
        counts["rejected"] = sum(r.action == "rejected" for r in rejects)
        counts["fields_dropped"] = len(rejects) - counts["rejected"]
        store.finish_run(run_id, counts)
    return IngestSummary(run_id=run_id, rejects=tuple(rejects), **counts)


def _assign_versions(store: Store, articles: list[Article], counts: dict[str, int]) -> list[Article]:
    """Drop exact re-ingests; number changed texts under a known id as new versions."""
    known = store.known_versions([a.article_id for a in articles])
    fresh: list[Article] = []
    for article in articles:
        versions = known.setdefault(article.article_id, [])
        if any(digest == article.content_hash for _, digest in versions):
            counts["unchanged"] += 1
            continue
        version = max((v for v, _ in versions), default=0) + 1
        versions.append((version, article.content_hash))
        if version > 1:
            counts["new_versions"] += 1
            article = dataclasses.replace(article, version=version)
        fresh.append(article)
    return fresh
