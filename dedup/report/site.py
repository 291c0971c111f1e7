"""The reviewer's view: cluster index, cluster, article-provenance and diff pages.

One set of Jinja2 templates serves two front ends: `dedup report --html DIR` writes them as
a static site (relative links, so it works from `file://`; no scripts, no CDN) and
`dedup serve` renders them live (`dedup.web`). The page builders below read the store and
return the template's context; `Links` decides what a link looks like in each front end.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from dedup.errors import DedupError
from dedup.model import Comparison
from dedup.report.diff import ENV, DiffSide, diff_rows
from dedup.store import Store

# Tints for paragraph sources: light enough for dark text (contrast >= 7:1 with #1b1b1b),
# distinct in hue; every tinted paragraph also carries its source's name as a label.
TINTS = ("#dbeafe", "#fde2c8", "#d9f2d9", "#f3d9f7", "#fff2b3", "#d5f0ef", "#f9d6d5", "#e4e0f7")


class NotFound(DedupError):
    """A cluster, article or pair that is not in the database (a 404 in `dedup serve`)."""


def slug(ref: str) -> str:
    """A file name for an article ref: readable, and unique (a hash when anything was replaced)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", ref)[:80]
    return safe if safe == ref else f"{safe}-{hashlib.sha1(ref.encode()).hexdigest()[:8]}"


def segment(text: str) -> str:
    r"""One URL path segment for an id, whatever it holds: every reserved character, `/`
    and control characters included, percent-encoded, and the dot segments `.` and `..`
    too (a browser would resolve them, landing elsewhere).

    >>> segment("bbc/business/001.txt"), segment(".."), segment("a\r\nb")
    ('bbc%2Fbusiness%2F001.txt', '%2E%2E', 'a%0D%0Ab')
    """
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if text in (".", "..") else encoded


def pair_name(a: str, b: str) -> str:
    """The file name (no extension) of a pair's diff page: the same whichever side a link
    starts from, and different for every pair (the refs' hash: `p` + `q__r` and `p__q` +
    `r` must not share a page), with the refs' start to read.

    >>> pair_name("p", "q__r") != pair_name("p__q", "r"), pair_name("a", "b") == pair_name("b", "a")
    (True, True)
    """
    x, y = sorted((a, b))
    digest = hashlib.sha1(f"{len(x)}:{x}\x00{y}".encode()).hexdigest()[:16]
    return f"{slug(x)[:40]}__{slug(y)[:40]}-{digest}"


@dataclass(frozen=True, slots=True)
class Links:
    """How pages link to each other: relative file paths (static site) or routes (server)."""

    static: bool
    root: str = ""
    """For the static site, the way back to its top folder from the current page ("../")."""
    diffs: frozenset[str] | None = None
    """For the static site, the pairs (`pair_name`) that have a diff page; None: any pair."""

    def home(self, page: int = 1) -> str:
        if not self.static:
            return "/" if page == 1 else f"/?page={page}"
        return f"{self.root}index.html" if page == 1 else f"{self.root}index-{page}.html"

    def has_diff(self, a: str, b: str) -> bool:
        """Whether a diff of the pair can be linked (the server compares any pair live)."""
        return self.diffs is None or pair_name(a, b) in self.diffs

    def cluster(self, cluster_id: str, page: int = 1) -> str:
        if not self.static:
            return f"/clusters/{segment(cluster_id)}" + ("" if page == 1 else f"?page={page}")
        return f"{self.root}clusters/{slug(cluster_id)}{'' if page == 1 else f'-{page}'}.html"

    def article(self, ref: str, paragraph: int | None = None) -> str:
        anchor = "" if paragraph is None else f"#p{paragraph}"
        if self.static:
            return f"{self.root}articles/{slug(ref)}.html{anchor}"
        return f"/articles/{segment(ref)}{anchor}"

    def diff(self, a: str, b: str) -> str:
        if self.static:
            return f"{self.root}diffs/{pair_name(a, b)}.html"
        return "/diff?" + urlencode({"a": a, "b": b})

    def under(self, folder_depth: int) -> Links:
        return Links(self.static, "../" * folder_depth, self.diffs) if self.static else self


def render(template: str, links: Links, **context: Any) -> str:
    return ENV.get_template(template).render(links=links, **context)


def _key(store: Store, ref: str) -> int:
    key = store.article_key(ref)
    if key is None:
        raise NotFound(f"no article {ref!r} in the database")
    return key


PAGE_SIZE = 500
"""Clusters per page of the index, copies per page of a cluster."""


def pages(total: int, page: int) -> dict[str, int]:
    """Paging of a list of `total` items: the page shown, their number, the slice."""
    count = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), count)
    return {"page": page, "page_count": count, "start": (page - 1) * PAGE_SIZE, "end": page * PAGE_SIZE}


def index_context(
    store: Store, page: int = 1, clusters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The index, one page of `PAGE_SIZE` clusters (biggest first)."""
    clusters = store.cluster_list() if clusters is None else clusters
    paging = pages(len(clusters), page)
    shown = clusters[paging["start"] : paging["end"]]
    shares = store.cluster_shares()
    for c in shown:
        c["share"] = shares.get(c["cluster_id"])
    counts = store.counts()
    return {"clusters": shown, "cluster_count": len(clusters), "articles": counts["articles"],
            "pairs": counts["pairs"], **paging}  # fmt: skip


def cluster_context(store: Store, cluster_id: str, page: int = 1) -> dict[str, Any]:
    """A cluster: its origin, one page of `PAGE_SIZE` copies, the origin's text."""
    members = store.cluster_detail(cluster_id)
    if not members:
        raise NotFound(f"no cluster {cluster_id!r} in the database")
    origin = members[0]
    origin_key = _key(store, origin["article"])
    linked = store.linked_pairs_of(origin_key)
    paging = pages(len(members) - 1, page)
    copies = members[1:][paging["start"] : paging["end"]]
    for m in copies:
        # a copy may be tied to its cluster through another copy, not the origin: the static
        # site has diff pages for linked pairs only (the server compares any pair live)
        m["linked"] = _key(store, m["article"]) in linked
    paragraphs = store.provenance_rows(origin_key)
    return {"cluster_id": cluster_id, "origin": origin, "copies": copies, "copy_count": len(members) - 1,
            "paragraphs": paragraphs, **paging}  # fmt: skip


def article_context(store: Store, ref: str) -> dict[str, Any]:
    key = _key(store, ref)
    article = store.load_article(key)
    paragraphs = store.provenance_rows(key)
    sources: dict[str, dict[str, Any]] = {}
    for p in paragraphs:
        if p["source"]:
            name = p["source_wire"] or p["source_outlet"] or p["source"]
            if name not in sources:
                sources[name] = {"name": name, "tint": TINTS[len(sources) % len(TINTS)], "paragraphs": 0}
            sources[name]["paragraphs"] += 1
            p["tint"], p["source_name"] = sources[name]["tint"], name
    reused = sum(1 for p in paragraphs if p["source"])
    body = sum(1 for p in paragraphs if p["role"] == "body")
    return {
        "article": article,
        "paragraphs": paragraphs,
        "sources": list(sources.values()),
        "reused": reused,
        "body_paragraphs": body,
        "shared_with": store.article_links(key),
        "cluster_id": store.cluster_of(key),
    }


def diff_side(store: Store, key: int) -> DiffSide:
    return DiffSide.of(store.load_article(key))


def diff_context(
    store: Store,
    a_ref: str,
    b_ref: str,
    compute: Callable[[int, int], Comparison] | None = None,
    side: Callable[[int], DiffSide] | None = None,
) -> dict[str, Any]:
    """The stored alignment of a verified pair; other pairs through `compute` (the model).
    `side` loads one article's sentences (the static site passes a caching one)."""
    a_key, b_key = _key(store, a_ref), _key(store, b_ref)
    if a_key == b_key:  # as `dedup diff X X`: the article against itself, verbatim throughout
        from dedup.score import compare_articles

        article = store.load_article(a_key)
        comparison = compare_articles(article, article, None)
        same = (side or (lambda key: diff_side(store, key)))(a_key)
        return {"c": comparison, "a": same, "b": same, "rows": diff_rows(comparison, same, same)}
    try:
        return _diff_of_keys(store, min(a_key, b_key), max(a_key, b_key), compute, side)
    except NotFound:
        raise NotFound(f"{a_ref} and {b_ref} were not judged to share text") from None


def _diff_of_keys(
    store: Store,
    a_key: int,
    b_key: int,
    compute: Callable[[int, int], Comparison] | None,
    side: Callable[[int], DiffSide] | None,
) -> dict[str, Any]:
    """`diff_context` for two keys, a < b (pairs are stored that way)."""
    comparison = store.stored_comparison(a_key, b_key)
    if comparison is None or comparison.relation == "none":
        if compute is None:
            raise NotFound(
                f"articles {a_key} and {b_key} were not judged to share text"
            )  # named by the caller
        comparison = compute(a_key, b_key)
    load = side or (lambda key: diff_side(store, key))
    a, b = load(a_key), load(b_key)
    return {"c": comparison, "a": a, "b": b, "rows": diff_rows(comparison, a, b)}


@dataclass(frozen=True, slots=True)
class SiteSummary:
    clusters: int
    articles: int
    diffs: int
    pages: int
    seconds: float
    out: Path


Progress = Callable[[str, int, int], None]
"""`progress(step, done, total)`: what the site writer has done so far, step by step."""


def write_site(store: Store, out: Path, progress: Progress | None = None) -> SiteSummary:
    """Write the static report: the index (`PAGE_SIZE` clusters a page), a page per cluster,
    a diff per linked pair inside a cluster (a copy and its origin: the diffs a reviewer
    opens; any other pair is compared on demand by `dedup serve` or `dedup diff`), and a page
    per article that takes part in a cluster or a reuse. File names never collide
    (`slug`, `pair_name`)."""
    import time

    started = time.perf_counter()
    report = progress or (lambda step, done, total: None)
    for folder in ("clusters", "articles", "diffs"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    clusters = store.cluster_list()
    members = {c["cluster_id"]: store.cluster_detail(c["cluster_id"]) for c in clusters}
    in_cluster: list[tuple[int, int]] = []
    for listed in members.values():
        origin = _key(store, listed[0]["article"])
        linked = store.linked_pairs_of(origin)
        for m in listed[1:]:
            key = _key(store, m["article"])
            if key in linked:
                in_cluster.append((min(origin, key), max(origin, key)))
    refs = store.refs({k for pair in in_cluster for k in pair})
    diffs = frozenset(pair_name(refs[a], refs[b]) for a, b in in_cluster)
    top = Links(static=True, diffs=diffs)
    inner = top.under(1)
    written = 0
    paging = pages(len(clusters), 1)
    for page in range(1, paging["page_count"] + 1):
        context = index_context(store, page, clusters)
        (out / top.home(page)).write_text(render("index.html.j2", top, **context), encoding="utf-8")
        written += 1
    articles: set[str] = set()
    for n, c in enumerate(clusters, start=1):
        context = cluster_context(store, c["cluster_id"])
        articles.update(m["article"] for m in members[c["cluster_id"]])
        for page in range(1, context["page_count"] + 1):
            if page > 1:
                context = cluster_context(store, c["cluster_id"], page)
            name = slug(c["cluster_id"]) + ("" if page == 1 else f"-{page}")
            (out / "clusters" / f"{name}.html").write_text(
                render("cluster.html.j2", inner, **context), encoding="utf-8"
            )
            written += 1
        report("clusters", n, len(clusters))
    sides: dict[int, DiffSide] = {}

    def side(key: int) -> DiffSide:
        if key not in sides:
            sides[key] = diff_side(store, key)
        return sides[key]

    for n, (a, b) in enumerate(in_cluster, start=1):
        context = _diff_of_keys(store, a, b, None, side)
        (out / "diffs" / f"{pair_name(refs[a], refs[b])}.html").write_text(
            render("diff.html.j2", inner, **context), encoding="utf-8"
        )
        written += 1
        if len(sides) > 10_000:
            sides.clear()  # bounded memory on big databases
        report("diffs", n, len(in_cluster))
    all_linked = store.linked_pairs()
    articles.update(store.refs({k for pair in all_linked for k in pair}).values())
    for n, ref in enumerate(sorted(articles), start=1):
        html = render("article.html.j2", inner, **article_context(store, ref))
        (out / "articles" / f"{slug(ref)}.html").write_text(html, encoding="utf-8")
        written += 1
        report("articles", n, len(articles))
    return SiteSummary(
        len(clusters), len(articles), len(in_cluster), written, time.perf_counter() - started, out
    )
