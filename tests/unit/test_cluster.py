"""Clustering and provenance as pure functions, on constructed cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dedup.cluster import Edge, Node, build_clusters, origin_rank
from dedup.provenance import SentenceLink, paragraph_sources

T0 = datetime(2026, 3, 3, tzinfo=UTC)


def node(key: int, hours: float | None, wire: str = "") -> Node:
    return Node(key, None if hours is None else T0 + timedelta(hours=hours), wire)


def test_origin_is_earliest_then_wire_then_ingest_order() -> None:
    assert sorted([node(3, 5), node(2, 1), node(1, 9)], key=origin_rank)[0].key == 2
    assert sorted([node(1, 1), node(2, 1, "AP")], key=origin_rank)[0].key == 2
    assert sorted([node(2, None), node(1, None)], key=origin_rank)[0].key == 1
    assert sorted([node(1, None, "AP"), node(2, 30)], key=origin_rank)[0].key == 2  # a date beats none


def test_a_chain_of_weak_links_does_not_merge_two_stories() -> None:
    # Story 1: origin 1, copies 2 and 3. Story 2: origin 10, copies 11 and 12.
    # 20 is a rewrite of copy 3 and of copy 12 (a bridge); 21 of 20 only.
    nodes = {k: node(k, k) for k in (1, 2, 3, 10, 11, 12, 20, 21)}
    edges = [Edge(1, 2, "duplicate", 1), Edge(1, 3, "rewrite", 0.8), Edge(2, 3, "rewrite", 0.8)]
    edges += [Edge(10, 11, "duplicate", 1), Edge(10, 12, "rewrite", 0.8)]
    edges += [Edge(3, 20, "rewrite", 0.6), Edge(12, 20, "rewrite", 0.6), Edge(20, 21, "rewrite", 0.7)]
    clusters = {c.cluster_id: c.members for c in build_clusters(nodes, edges)}
    assert clusters["c1"] == (1, 2, 3)
    assert clusters["c10"] == (10, 11, 12)
    assert clusters["c20"] == (20, 21)  # the bridge becomes its own story, it merges nothing


def test_partial_edges_never_merge() -> None:
    nodes = {k: node(k, k) for k in (1, 2, 3)}
    clusters = build_clusters(nodes, [Edge(1, 2, "partial", 0.3), Edge(2, 3, "partial", 0.3)])
    assert clusters == []


def test_a_strong_core_admits_a_member_not_linked_to_the_origin() -> None:
    nodes = {k: node(k, k) for k in (1, 2, 3, 4)}
    edges = [
        Edge(1, 2, "rewrite", 0.9),
        Edge(1, 3, "rewrite", 0.9),
        Edge(2, 4, "rewrite", 0.7),
        Edge(3, 4, "rewrite", 0.7),
    ]
    assert build_clusters(nodes, edges)[0].members == (1, 2, 3, 4)


def test_paragraph_sources_pick_the_earliest_qualifying_source() -> None:
    me = node(9, 10)
    others = {1: node(1, 0, "AP"), 5: node(5, 2), 7: node(7, 20)}
    paragraphs = [(0, "body"), (1, "body"), (2, "body"), (3, "boilerplate")]
    sentences = [(0, 50), (1, 60), (1, 40), (2, 80), (3, 20)]
    links = [
        SentenceLink(1, 5, 0, "verbatim"),  # paragraph 1 from the reprint (5) ...
        SentenceLink(2, 5, 1, "verbatim"),
        SentenceLink(1, 1, 3, "verbatim"),  # ... and from the wire (1): the wire wins
        SentenceLink(2, 1, 4, "edited"),
        SentenceLink(3, 7, 0, "verbatim"),  # a later article is never a source
    ]
    where = {(1, 3): 2, (1, 4): 2, (5, 0): 1, (5, 1): 1, (7, 0): 0}
    result = paragraph_sources(me, paragraphs, sentences, links, others, where)
    assert [(r.paragraph, r.source, r.source_paragraph, r.kind) for r in result] == [
        (0, None, None, "original"),
        (1, 1, 2, "verbatim"),
        (2, None, None, "original"),
    ]
    assert result[1].share == 1.0
