"""The pipeline: drives the stages over a Store. The CLI and the Python API both call this."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

import numpy as np

from dedup.embed import Embedder
from dedup.errors import InputError, Interrupted
from dedup.evaluate import Prediction, TracedParagraph, pair_key
from dedup.fingerprint import ArticleText, IndexConfig, fingerprint_stream
from dedup.finish import Steps, cluster_and_trace, no_steps, timed
from dedup.ingest import MAX_CHARS, FieldMap, build_article, has_derived_id, read_records
from dedup.ingest.fields import fields_read
from dedup.ingest.readers import RawRecord
from dedup.model import Article, ClusterSummary, IndexSummary, IngestSummary, Reject, VerifySummary
from dedup.semantic import LEDE_TOKENS, lede_if_long_enough, lede_vectors, nearest
from dedup.stages import VerifyOptions, estimates
from dedup.store import Store, is_interrupt, release_heap
from dedup.verify import VERIFY_BATCH, Encoder, verify_run
from dedup.workers import process_pool

T = TypeVar("T")

CANDIDATE_BATCH = 100_000
"""Candidate pairs scored from their signatures per batch (~100 MB of signatures)."""
FINGERPRINT_BATCH = 5000
"""Articles fingerprinted, and their fingerprints committed, per batch."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    input_format: str = "auto"
    fields: FieldMap = field(default_factory=FieldMap)
    source: str = ""
    strict: bool = False
    max_chars: int = MAX_CHARS
    batch_size: int = 2000
    index: bool = True
    """Fingerprint and find candidates as articles are stored (`--no-index` defers it)."""
    index_config: IndexConfig = field(default_factory=IndexConfig)
    verify: VerifyOptions = field(default_factory=lambda: VerifyOptions())


POOL_MIN_BYTES = 8 * 2**20
"""Inputs at least this big are normalised and segmented on every core."""


@dataclass(frozen=True, slots=True)
class BuiltBatch:
    """A batch of records made into articles, with what the run reports about fields."""

    items: list[tuple[Article | None, tuple[Reject, ...]]]
    keys: frozenset[str]
    """Every top-level field name the batch's records have."""
    ignored: frozenset[str]
    """Field names no Article field was read from (kept in `extra`)."""
    mapped: frozenset[str]
    """The `--map` targets that found their column in at least one record."""


def _build_batch(
    batch: list[RawRecord | Reject], fields: FieldMap, source: str, max_chars: int
) -> BuiltBatch:
    """(article, problems) of each item (the reader's rejects pass through), and the
    field names seen, ignored and mapped."""
    items: list[tuple[Article | None, tuple[Reject, ...]]] = []
    keys: set[str] = set()
    ignored: set[str] = set()
    mapped: set[str] = set()
    for item in batch:
        if isinstance(item, Reject):
            items.append((None, (item,)))
            continue
        keys.update(k for k in item.data if not k.startswith("_"))
        for target in fields.overrides:
            if target not in mapped and fields.lookup(item.data, target)[0] is not None:
                mapped.add(target)
        article, problems = build_article(item, fields, default_outlet=source, max_chars=max_chars)
        if article is not None and article.extra != "{}":
            ignored.update(set(json.loads(article.extra)) - fields_read(item.data, fields))
        items.append((article, problems))
    return BuiltBatch(items, frozenset(keys), frozenset(ignored), frozenset(mapped))


def _run_notes(
    built: list[BuiltBatch], fields: FieldMap, counts: dict[str, int], source: str
) -> tuple[str, ...]:
    """What a person should know about a run's fields, once: `--map` columns no record
    has, fields that were read into nothing, articles without an outlet."""
    keys = frozenset[str]().union(*(b.keys for b in built))
    mapped = frozenset[str]().union(*(b.mapped for b in built))
    ignored = frozenset[str]().union(*(b.ignored for b in built))
    notes = []
    for target, column in fields.overrides.items():
        if target not in mapped and keys:
            shown = ", ".join(sorted(keys)[:20]) + (", ..." if len(keys) > 20 else "")
            notes.append(f"--map {target}={column}: no record has {column!r} (fields: {shown})")
    if ignored:
        names = sorted(ignored)
        shown = ", ".join(names[:15]) + (f" and {len(names) - 15} more" if len(names) > 15 else "")
        notes.append(f"ignored fields (kept with each article, unused): {shown}")
    if counts["no_outlet"] and not source:
        notes.append(
            f"{counts['no_outlet']:,} articles have no outlet field: name their outlet with --source NAME"
            " (or --map outlet=FIELD)"
        )
    return tuple(notes)


def _build_batches(
    batches: Iterable[list[RawRecord | Reject]],
    options: IngestOptions,
    paths: list[str],
) -> Generator[BuiltBatch, None, None]:
    """`_build_batch` of each batch, in order. On a big input (`POOL_MIN_BYTES` of files)
    the batches are built in a process pool, a few in flight at a time (memory stays
    bounded) while this process reads the next and stores the last."""
    build = functools.partial(
        _build_batch, fields=options.fields, source=options.source, max_chars=options.max_chars
    )
    size = sum(os.path.getsize(p) for p in paths if p != "-" and os.path.isfile(p))
    workers = os.cpu_count() or 1
    if workers < 2 or size < POOL_MIN_BYTES:
        yield from map(build, batches)
        return
    pending: collections.deque[Future[BuiltBatch]] = collections.deque()
    # The pool ends with the input (or when the caller closes this generator).
    with process_pool(workers) as pool:
        for batch in batches:
            pending.append(pool.submit(build, batch))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


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
    steps: Steps = no_steps,
    embedder: Embedder | None = None,
) -> IngestSummary:
    """Read, normalise, segment and store every record of `paths`; then fingerprint, find
    candidates, verify, cluster and trace provenance.

    Crash-safe and resumable: articles are committed a batch at a time, unfingerprinted;
    then every article still without fingerprints is fingerprinted, a batch a transaction;
    then its candidates are found in one transaction, and verified, clustered and traced in
    a last one. A run killed anywhere leaves whole batches and whole stages, and the same
    command run again skips what is stored (same id, same content), takes over what the
    killed run committed and did not finish (`Store.adopt_unfinished`) and does the rest:
    the database ends as one uninterrupted run would have left it. Ctrl-C raises
    `Interrupted` with what was kept.
    With `strict`, the whole ingest is one transaction and a bad record undoes all of it.

    `progress(n)` is called with the number of input bytes consumed since the last call,
    `steps` with how far each later stage has got.
    Re-ingesting an article with the same id and content is a no-op; the same id with a
    different content becomes a new version. Bad records go to `rejects`.
    """
    counts = dict.fromkeys(
        (
            "read",
            "stored",
            "unchanged",
            "new_versions",
            "fields_dropped",
            "skipped",
            "derived_ids",
            "title_only",
            "no_outlet",
        ),
        0,
    )
    rejects: list[Reject] = []
    seen: list[BuiltBatch] = []
    notes: tuple[str, ...] = ()
    params = {
        "paths": paths,
        **{k: v for k, v in dataclasses.asdict(options).items() if k != "fields"},
    }
    params["map"] = dict(options.fields.overrides)
    options.index_config.validate()
    index_summary: IndexSummary | None = None
    verify_summary: VerifySummary | None = None
    cluster_summary: ClusterSummary | None = None
    # strict: one transaction around everything; otherwise one per step.
    outer = store.transaction() if options.strict else contextlib.nullcontext()
    step = contextlib.nullcontext if options.strict else store.transaction
    run_id = 0
    seconds: dict[str, float] = {}
    try:
        with outer:
            with step():
                store.close_interrupted_runs()
                run_id = store.begin_run("ingest", params)
                run_ids = _RunIds(store.next_article_key())
                if options.index:
                    store.pin_index_config(options.index_config.pinned())
            records = read_records(paths, options.input_format, on_bytes=progress)
            started = time.perf_counter()
            with contextlib.closing(
                _build_batches(_batches(records, options.batch_size), options, paths)
            ) as built:
                for batch in built:
                    seen.append(dataclasses.replace(batch, items=[]))
                    articles: list[Article] = []
                    problems: list[Reject] = []
                    for article, found in batch.items:
                        counts["read"] += 1
                        if options.strict and any(p.action in ("rejected", "field dropped") for p in found):
                            first = found[0]
                            raise InputError(
                                first.reason, file=first.file, line=first.line, field=first.field or None
                            )
                        problems.extend(found)
                        if article is not None:
                            articles.append(article)
                    with timed(seconds, "store"), step():
                        store.add_rejects(problems, run_id)
                        fresh = _assign_versions(store, articles, counts, run_ids)
                        store.add_articles(fresh, store.next_article_key(), run_id)
                    rejects.extend(problems)
                    counts["stored"] += len(fresh)
                    counts["derived_ids"] += sum(has_derived_id(a) for a in fresh)
                    counts["title_only"] += sum(not a.body for a in fresh)
                    counts["no_outlet"] += sum(not a.outlet for a in fresh)
            seconds["read"] = round(time.perf_counter() - started - seconds.get("store", 0.0), 3)
            counts["rejected"] = sum(r.action == "rejected" for r in rejects)
            counts["fields_dropped"] = sum(r.action == "field dropped" for r in rejects)
            counts["skipped"] = sum(r.action == "skipped" for r in rejects)
            notes = _run_notes(seen, options.fields, counts, options.source)
            stats: dict[str, object] = {**counts, "notes": list(notes)}
            if options.index:
                # Everything not yet fingerprinted, in key order (a pair is found when its
                # later article is indexed): this run's articles, what an earlier
                # --no-index left, and what an interrupted run stored.
                with timed(seconds, "fingerprint"):
                    _fingerprint_pending(store, run_id, options.index_config, steps=steps, step=step)
                index_summary, verify_summary, cluster_summary = _analyse(
                    store, run_id, options.index_config, options.verify, embedder, stats, seconds, steps, step
                )
            else:
                with step():
                    stats["seconds"] = seconds
                    store.finish_run(run_id, stats)
    except (KeyboardInterrupt, Exception) as exc:
        if not is_interrupt(exc):
            raise
        if options.strict or not counts["stored"]:
            raise KeyboardInterrupt from None
        raise Interrupted(counts["stored"], run_id) from None
    return IngestSummary(
        run_id=run_id,
        rejects=tuple(rejects),
        notes=notes,
        index=index_summary,
        verify=verify_summary,
        clusters=cluster_summary,
        **counts,
    )


def index(
    store: Store,
    config: IndexConfig | None = None,
    *,
    batch_size: int = FINGERPRINT_BATCH,
    workers: int | None = None,
    verify: VerifyOptions | None = None,
    embedder: Embedder | None = None,
    steps: Steps = no_steps,
) -> tuple[IndexSummary, VerifySummary]:
    """Fingerprint every stored article that has no fingerprints yet, then find its candidates.

    What `dedup ingest --no-index` deferred; a no-op when everything is indexed. The new
    candidates are verified, and clusters and provenance rebuilt, as an ingest does.
    """
    config, verify = config or IndexConfig(), verify or VerifyOptions()
    config.validate()
    with store.transaction():
        store.close_interrupted_runs()
        store.pin_index_config(config.pinned())
        run_id = store.begin_run("index", dataclasses.asdict(config))
        seconds: dict[str, float] = {}
        with timed(seconds, "fingerprint"):
            _fingerprint_pending(store, run_id, config, batch_size, workers, steps)
        summary, verified, _ = _analyse(store, run_id, config, verify, embedder, {}, seconds, steps)
    release_heap()
    return summary, verified


def _analyse(
    store: Store,
    run_id: int,
    config: IndexConfig,
    verify: VerifyOptions,
    embedder: Embedder | None,
    stats: dict[str, object],
    seconds: dict[str, float],
    steps: Steps = no_steps,
    step: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> tuple[IndexSummary, VerifySummary, ClusterSummary]:
    """Everything after fingerprinting, for the articles fingerprinted in `run_id`, and the
    end of the run: candidates, verification, clusters and provenance, their summaries
    into `stats`, their wall times into `seconds` (`embed`: the model's part of `verify`).

    Two `step`s (transactions, in an ingest): the candidates, with what killed runs left
    unfinished taken over (`Store.adopt_unfinished`); then the rest and the end of the run.
    Between them DuckDB's C heap for the first one's rows is given back (`release_heap`):
    one transaction held 2.5 GB of it through verification at a million articles."""
    encoder = Encoder(store, verify.device, embedder, seconds)
    with step():
        store.adopt_unfinished(run_id)
        with timed(seconds, "candidates"):
            steps("candidates", 0, 0)
            found = _index_run(store, run_id, config)
            steps("candidates", found.candidates, found.candidates)
        if verify.embed and config.semantic_neighbors > 0:
            ledes = Encoder(store, verify.device, embedder, seconds, max_tokens=LEDE_TOKENS)
            with timed(seconds, "semantic"):
                found = _semantic_run(store, run_id, config, ledes, found, steps)
        store.mark_run(run_id, "candidates")
    release_heap()
    with step():
        with timed(seconds, "verify"):
            verified = verify_run(store, run_id, verify, embedder, seconds, encoder=encoder, steps=steps)
        with timed(seconds, "cluster"):
            traced = cluster_and_trace(store, run_id, steps=steps)
        stats.update(
            index=dataclasses.asdict(found),
            verify=dataclasses.asdict(verified),
            clusters=dataclasses.asdict(traced),
            seconds=seconds,
        )
        store.finish_run(run_id, stats)
    release_heap()
    return found, verified, traced


def _semantic_run(
    store: Store,
    run_id: int,
    config: IndexConfig,
    encode: Callable[[list[str]], np.ndarray],
    found: IndexSummary,
    steps: Steps = no_steps,
) -> IndexSummary:
    """Semantic candidates (`dedup.semantic`) for the articles of `run_id` that no lexical
    candidate paired with an earlier article: their lede vectors are stored, then each is
    paired with its nearest earlier vectors. The pairs are scored from their signatures as
    lexical candidates are, and flagged `via_semantic`."""
    keys = store.unpaired_new(run_id)
    pairs: list[tuple[int, int, float]] = []
    vectors = 0
    window = None if config.window_days is None else config.window_days * 86400.0
    for start in range(0, len(keys), VERIFY_BATCH):
        steps("semantic candidates", start, len(keys))
        batch = keys[start : start + VERIFY_BATCH]
        texts = store.side_texts(batch)
        chosen = {k: lede_if_long_enough(*texts[k][:2], config.lede_sentences) for k in batch if k in texts}
        ledes = {k: [texts[k][0][i] for i in v] for k, v in chosen.items() if v}
        if not ledes:
            continue
        new_keys = np.array(list(ledes), dtype=np.int64)
        matrix = lede_vectors(list(ledes.values()), encode)
        store.add_vectors(list(ledes), matrix, run_id)
        vectors += len(new_keys)
        times = store.published_epochs(new_keys) if window is not None else None
        pairs += nearest(
            matrix, new_keys, store.vector_blocks(int(new_keys.max())), k=config.semantic_neighbors,
            floor=config.semantic_floor, query_times=times, window_seconds=window,
        )  # fmt: skip
    steps("semantic candidates", len(keys), len(keys))
    # b had no lexical candidate with an earlier article: none of these pairs is one yet
    rows: list[tuple[object, ...]] = [(a, b, False, False, False, 0, False) for a, b, _ in pairs]
    if rows:
        outlets = store.same_outlet([(r[0], r[1]) for r in rows])
        rows = [(*r[:6], same) for r, same in zip(rows, outlets, strict=True)]
        for start in range(0, len(rows), CANDIDATE_BATCH):
            columns = _score_candidates(store, rows[start : start + CANDIDATE_BATCH], run_id, config)
            columns["via_semantic"] = np.ones(len(columns["a"]), dtype=bool)
            store.add_candidates(columns)
    return dataclasses.replace(
        found, candidates=found.candidates + len(rows), via_semantic=len(rows), vectors=vectors
    )


def _fingerprint_pending(
    store: Store,
    run_id: int,
    config: IndexConfig,
    batch_size: int | None = None,
    workers: int | None = None,
    steps: Steps = no_steps,
    step: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> None:
    """Fingerprint every stored article that has none, `batch_size` at a time, each batch
    stored in a `step` of its own (a transaction, in an ingest: DuckDB holds the C heap for
    an open transaction's rows, and the band keys of a million articles are 100 M rows)."""
    pending = store.pending_count()
    batch_size = batch_size or FINGERPRINT_BATCH
    workers = workers or os.cpu_count() or 1
    # A pool pays for itself only on big backlogs (it forks, and pickles every text twice).
    pool = process_pool(workers) if workers > 1 and pending >= 2 * batch_size else None

    def batches() -> Iterator[list[ArticleText]]:
        after = -1
        while texts := store.unindexed_texts(batch_size, after):
            yield texts
            after = texts[-1][0]

    done = 0
    try:
        for fingerprints in fingerprint_stream(batches(), config, pool=pool, slices=workers):
            steps("fingerprints", done, pending)
            with step():
                store.add_fingerprints(fingerprints, run_id)
            done += len(fingerprints.article_key)
        steps("fingerprints", done, max(pending, done))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    release_heap()


def _index_run(store: Store, run_id: int, config: IndexConfig) -> IndexSummary:
    """Candidates for the articles fingerprinted in `run_id`, scored from their signatures.

    Scored and stored `CANDIDATE_BATCH` pairs at a time: the signatures of a million
    pairs' sides, gathered at once, were gigabytes of temporaries."""
    rows = store.find_candidates(run_id, config.max_bucket, config.window_days)
    counts = dict.fromkeys(("via_exact", "via_document", "via_passage"), 0)
    for start in range(0, len(rows), CANDIDATE_BATCH):
        batch = rows[start : start + CANDIDATE_BATCH]
        columns = _score_candidates(store, batch, run_id, config)
        for name in counts:
            counts[name] += int(columns[name].sum())
        store.add_candidates(columns)
    store.candidate_passage_pairs(run_id)
    return IndexSummary(
        indexed=store.indexed_in_run(run_id),
        candidates=len(rows),
        hot_buckets=store.hot_bucket_count(run_id),
        **counts,
    )


def _score_candidates(
    store: Store, rows: list[tuple[object, ...]], run_id: int, config: IndexConfig
) -> dict[str, np.ndarray]:
    """The `candidates` columns of some candidate rows: Jaccard and containments estimated
    from the stored signatures."""
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    keys, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    sigs, sizes = store.signatures_of(keys, config.num_perm)
    ia, ib = inverse[: len(a)], inverse[len(a) :]
    via_exact = np.array([r[2] for r in rows], dtype=bool)
    jaccard, containment_a, containment_b = estimates(sigs[ia], sigs[ib], sizes[ia], sizes[ib], via_exact)
    return {
        "a": a,
        "b": b,
        "via_exact": via_exact,
        "via_document": np.array([r[3] for r in rows], dtype=bool),
        "via_passage": np.array([r[4] for r in rows], dtype=bool),
        "jaccard": jaccard,
        "containment_a": containment_a,
        "containment_b": containment_b,
        "passage_pairs": np.array([r[5] or 0 for r in rows], dtype=np.int32),
        "same_outlet": np.array([bool(r[6]) for r in rows], dtype=bool),
        "run_id": np.full(len(rows), run_id, dtype=np.int32),
    }


@dataclass(slots=True)
class _RunIds:
    """What `_assign_versions` remembers of a run: the first key it stored, and the
    `hash` of every id it stored (ids that come back within the run are looked up whole;
    the rest only among the articles stored before it)."""

    first_key: int
    stored: set[int] = field(default_factory=set)


def _assign_versions(
    store: Store, articles: list[Article], counts: dict[str, int], run: _RunIds
) -> list[Article]:
    """Drop exact re-ingests; number changed texts under a known id as new versions."""
    ids = [a.article_id for a in articles]
    known = store.known_versions(ids, before=run.first_key)
    again = [i for i in ids if hash(i) in run.stored]
    known.update(store.known_versions(again))
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
    run.stored.update(hash(a.article_id) for a in fresh)
    return fresh


def prediction(store: Store) -> tuple[Prediction, list[str]]:
    """What the database says, in the terms of `dedup.evaluate`, and the article ids it holds."""
    ids, pairs, members, reuse = store.evaluation_rows()
    links: dict[tuple[str, str], str] = {}
    rank = {"none": 0, "partial": 1, "rewrite": 2, "duplicate": 3}
    for a, b, relation in pairs:
        key = pair_key(a, b)
        if key[0] != key[1] and rank[relation] >= rank.get(links.get(key, "none"), 0):
            links[key] = relation  # two versions of one article: the strongest judgement
    clusters: dict[str, set[str]] = {}
    for cluster_id, article in members:
        clusters.setdefault(cluster_id, set()).add(article)
    traced = {
        (article, int(paragraph)): TracedParagraph(source, source_paragraph, wire if source else None)
        for article, paragraph, source, source_paragraph, wire in reuse
    }
    return Prediction(links, tuple(frozenset(c) for c in clusters.values()), traced), ids
