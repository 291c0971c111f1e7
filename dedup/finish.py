"""The last stages over a store, shared by both engines: story clusters from the strong
pairs, paragraph provenance, and the import of a Spark run's tables.

The local engine (`dedup.pipeline`) ends every ingest with `cluster_and_trace`; the Spark
engine (`dedup.engines.spark`) clusters on the cluster and hands its tables to
`import_results`, which appends them and traces provenance here. Either way the same pure
functions (`cluster.build_clusters`, `cluster.cluster_rows`, `provenance.paragraph_sources`)
make the rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from dedup.cluster import Edge, Node, build_clusters, cluster_rows, origin_rank
from dedup.errors import StoreError
from dedup.fingerprint import IndexConfig
from dedup.model import ClusterSummary
from dedup.provenance import SentenceLink, paragraph_sources
from dedup.store import Store

TRACE_BATCH = 20_000
"""Articles whose paragraph provenance is traced per batch."""

Steps = Callable[[str, int, int], None]
"""`steps(stage, done, total)`: how far a long stage has got (the CLI draws a bar a stage)."""


def no_steps(stage: str, done: int, total: int) -> None:
    """The default `Steps`: report nothing."""


@contextlib.contextmanager
def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to `seconds[stage]` (kept in the run's stats)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = round(seconds.get(stage, 0.0) + time.perf_counter() - started, 3)


def cluster_and_trace(
    store: Store, run_id: int, *, min_share: float = 0.5, steps: Steps = no_steps
) -> ClusterSummary:
    """Rebuild the story clusters that pairs verified in `run_id` can change, and trace
    paragraph provenance of every article touched by such a pair.

    Clusters are a pure function of the strong pairs, computed per connected component
    (`build_clusters` never crosses one), so only the components holding this run's pairs
    are rebuilt: any split of the input into runs gives the same clusters, and a day's
    increment costs what its own stories cost, not what the whole database holds.
    Provenance is recomputed for the articles whose sources a new pair can change
    (`to_retrace`): each article not traced before, and each one that a new pair links to
    an earlier article (a late-arriving original changes who copied whom).
    """
    steps("clusters", 0, 0)
    strong = store.strong_component(run_id)
    keys = sorted({k for a, b, _, _ in strong for k in (a, b)})
    nodes = store.nodes(keys)
    edges = [Edge(a, b, r, sc) for a, b, r, sc in strong]
    clusters = build_clusters(nodes, edges)
    rows, members = cluster_rows(clusters, edges)
    store.replace_clusters_of(keys, rows, members, run_id)
    steps("clusters", len(clusters), len(clusters))
    return trace_run(store, run_id, min_share=min_share, steps=steps)


def trace_run(
    store: Store, run_id: int, *, min_share: float = 0.5, steps: Steps = no_steps
) -> ClusterSummary:
    """Trace the paragraph provenance of the articles whose sources the pairs of `run_id`
    can change (`to_retrace`)."""
    pairs = store.reuse_pairs_of_run(run_id)
    sides = sorted(store.pairs_touching(run_id))
    touched = to_retrace(sides, pairs, store.nodes(sides), store.traced_among(sides))
    reused = 0
    for start in range(0, len(touched), TRACE_BATCH):
        steps("provenance", start, len(touched))
        reused += _trace(store, touched[start : start + TRACE_BATCH], run_id, min_share)
    steps("provenance", len(touched), len(touched))
    total, clustered = store.cluster_counts()
    return ClusterSummary(clusters=total, clustered=clustered, traced=len(touched), reused_paragraphs=reused)


def to_retrace(
    sides: Sequence[int], pairs: Sequence[tuple[int, int]], nodes: Mapping[int, Node], traced: Collection[int]
) -> list[int]:
    """Of the articles on a side of a run's pairs (`sides`), those whose provenance the run
    can change: the ones not `traced` before, and the ones a reuse pair of the run (`pairs`)
    links to an earlier article (by `cluster.origin_rank`).

    Only earlier articles can be sources (`provenance.paragraph_sources`), and an article's
    rank never changes, so a pair with a later article leaves the other's provenance as it
    was: on a day's increment most stored articles a pair touches are the originals and
    earlier copies of the new ones, and tracing them again read all their old alignments.

    >>> from datetime import datetime
    >>> nodes = {k: Node(k, datetime(2024, 1, k), "") for k in (1, 2, 3)}
    >>> to_retrace([1, 2, 3], [(1, 3), (2, 3)], nodes, traced={1, 2})
    [3]
    >>> to_retrace([1, 2, 3], [(1, 3), (2, 3)], nodes, traced={1, 3})
    [2, 3]
    """
    rank = {k: origin_rank(n) for k, n in nodes.items()}
    later = {
        x for a, b in pairs for x, y in ((a, b), (b, a)) if x in rank and y in rank and rank[y] < rank[x]
    }
    return sorted(k for k in sides if k not in traced or k in later)


def _trace(store: Store, touched: list[int], run_id: int, min_share: float) -> int:
    """Store the paragraph provenance of `touched`; the number of paragraphs with a source."""
    links = store.links_of(touched)
    others = sorted({o for _, _, o, _, _ in links} | set(touched))
    ordering = store.nodes(others)
    paragraphs, sentences = store.layout(others)
    paragraph_of = {(k, i): p for k, sents in sentences.items() for i, (p, _) in enumerate(sents)}
    by_article = {
        article: [SentenceLink(*row[1:]) for row in rows]
        for article, rows in groupby(links, key=itemgetter(0))
    }  # links come ordered by article
    reuse_rows = []
    for key in touched:
        if key not in ordering:
            continue
        for src in paragraph_sources(
            ordering[key], paragraphs.get(key, []), sentences.get(key, []), by_article.get(key, []),
            ordering, paragraph_of, min_share=min_share,
        ):  # fmt: skip
            reuse_rows.append(
                (key, src.paragraph, src.source, src.source_paragraph, src.kind, src.share, run_id)
            )
    store.replace_reuse(touched, reuse_rows)
    return sum(1 for r in reuse_rows if r[2] is not None)


BASE = "base.json"
"""What a Spark run was computed against: the database's next article key then."""


def import_results(
    store: Store, folder: Path, config: IndexConfig | None = None
) -> tuple[int, ClusterSummary]:
    """Append a Spark run's tables (`dedup.engines.spark.run`) to `store`, replace the
    clusters it rebuilt and trace provenance with the local code, in one transaction.
    (run id, clusters).

    A run computed against this database (an increment) is refused once anything else was
    written to it since: its keys and versions would no longer be the next ones.
    """
    config = config or IndexConfig()
    base = json.loads((folder / BASE).read_text()) if (folder / BASE).exists() else {"next_key": 1}
    with store.transaction():
        if store.next_article_key() != int(base["next_key"]):
            raise StoreError(
                f"{store.path} changed since the Spark run in {folder} read it "
                f"(next article key {store.next_article_key()}, the run assumed {base['next_key']}): run it again"
            )
        store.pin_index_config(config.pinned())
        run_id = store.begin_run("import-results", {"folder": str(folder)})
        counts = store.import_parquet(folder, run_id)
        if (folder / "clusters").exists():  # clustered on Spark
            keys, rows, members = store.spark_clusters(folder)
            store.replace_clusters_of(keys, rows, members, run_id)
            traced = trace_run(store, run_id)
        else:
            traced = cluster_and_trace(store, run_id)
        store.finish_run(run_id, {"imported": counts, "clusters": dataclasses.asdict(traced)})
    return run_id, traced
