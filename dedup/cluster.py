"""Story clusters: one original and its copies, from `duplicate` and `rewrite` pairs.

Pure. Plain connected components chain: A~B and B~C put A and C in one story even when
they share nothing. Here a cluster grows from its origin (the earliest version, see
`origin_rank`): an article joins when it is linked to the origin itself, or to at least two
members already in (a strong core); one weak bridge is never enough. Whatever is left over
forms clusters of its own the same way. `partial` pairs never merge clusters: a patchwork
is described by its paragraph provenance instead.

Cluster ids are `c<origin article key>`: the same as long as the origin is.

>>> nodes = {k: Node(k, None, "") for k in (1, 2, 3, 4)}
>>> [c.members for c in build_clusters(nodes, [Edge(1, 2, "rewrite", .9), Edge(2, 3, "rewrite", .7)])]
[(1, 2)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

STRONG = ("duplicate", "rewrite")


@dataclass(frozen=True, slots=True)
class Node:
    """What ordering needs to know of an article."""

    key: int
    published: datetime | None
    wire: str


@dataclass(frozen=True, slots=True)
class Edge:
    a: int
    b: int
    relation: str
    score: float


@dataclass(frozen=True, slots=True)
class Cluster:
    cluster_id: str
    origin: int
    members: tuple[int, ...]
    """The origin first, then the others in origin order."""


def origin_rank(node: Node) -> tuple[bool, float, bool, int]:
    """Sort key of "who came first": the earliest publication time; with no time or a tie,
    a wire (AP, Reuters, ...) before others; then ingest order."""
    when = node.published.timestamp() if node.published is not None else 0.0
    return (node.published is None, when, not node.wire, node.key)


def build_clusters(nodes: dict[int, Node], edges: Iterable[Edge], *, min_size: int = 2) -> list[Cluster]:
    """Clusters from the strong edges, guarded against chaining (see the module docstring)."""
    links: dict[int, set[int]] = {}
    for e in edges:
        if e.relation in STRONG and e.a != e.b:
            links.setdefault(e.a, set()).add(e.b)
            links.setdefault(e.b, set()).add(e.a)
    rank = {k: origin_rank(nodes[k]) if k in nodes else (True, 0.0, True, k) for k in links}
    remaining = sorted(links, key=rank.__getitem__)
    unassigned = set(remaining)
    clusters = []
    for origin in remaining:
        if origin not in unassigned:
            continue
        # The rule is monotone (more members only let more in), so the cluster is one
        # fixpoint whatever the order: grow it from the neighbours of what joined last,
        # never scanning articles with no link to it (linear in the edges, not quadratic).
        members = {origin}
        frontier = links[origin] & unassigned
        while joining := {k for k in frontier if origin in links[k] or len(links[k] & members) >= 2}:
            members |= joining
            frontier = {n for k in joining for n in links[k]} | frontier
            frontier = (frontier & unassigned) - members
        unassigned -= members
        if len(members) >= min_size:
            ordered = (origin, *sorted(members - {origin}, key=rank.__getitem__))
            clusters.append(Cluster(f"c{origin}", origin, ordered))
    return clusters


def cluster_rows(
    clusters: Iterable[Cluster], edges: Iterable[Edge]
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int, str, float]]]:
    """The `clusters` rows (id, origin, size) and `cluster_members` rows (id, article,
    position, relation, score) of some clusters: a member's relation and score are those of
    its pair with the origin, or else of its strongest pair inside the cluster. Both engines
    store exactly these.

    >>> edges = [Edge(1, 2, "rewrite", .9), Edge(2, 3, "duplicate", .99), Edge(1, 3, "rewrite", .8)]
    >>> cluster_rows([Cluster("c1", 1, (1, 2, 3))], edges)[1][2]
    ('c1', 3, 2, 'rewrite', 0.8)
    """
    best: dict[tuple[int, int], tuple[str, float]] = {}
    for e in edges:
        best[e.a, e.b] = best[e.b, e.a] = (e.relation, e.score)
    rows, members = [], []
    for c in clusters:
        rows.append((c.cluster_id, c.origin, len(c.members)))
        for position, key in enumerate(c.members):
            if key == c.origin:
                relation, score = "origin", 1.0
            else:
                relation, score = best.get((c.origin, key)) or max(
                    (best[key, m] for m in c.members if (key, m) in best), key=lambda rs: rs[1]
                )
            members.append((c.cluster_id, key, position, relation, score))
    return rows, members
