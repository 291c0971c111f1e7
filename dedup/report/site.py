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


@dataclass(frozen=True, slots=True)
class Links:
    """How pages link to each other: relative file paths (static site) or routes (server)."""

    static: bool
    root: str = ""
    """For the static site, the way back to its top folder from the current page ("../")."""

    def home(self) -> str:
        return f"{self.root}index.html" if self.static else "/"

    def cluster(self, cluster_id: str) -> str:
        return (
            f"{self.root}clusters/{slug(cluster_id)}.html"
            if self.static
            else f"/clusters/{quote(cluster_id)}"
        )

    def article(self, ref: str, paragraph: int | None = None) -> str:
        anchor = "" if paragraph is None else f"#p{paragraph}"
        if self.static:
            return f"{self.root}articles/{slug(ref)}.html{anchor}"
        return f"/articles/{quote(ref, safe='')}{anchor}"

    def diff(self, a: str, b: str) -> str:
        if self.static:
            x, y = sorted((a, b))  # one page per pair, whichever side a link starts from
            return f"{self.root}diffs/{slug(x)}__{slug(y)}.html"
        return "/diff?" + urlencode({"a": a, "b": b})

    def under(self, folder_depth: int) -> Links:
        return Links(self.static, "../" * folder_depth) if self.static else self


def render(template: str, links: Links, **context: Any) -> str:
    return ENV.get_template(template).render(links=links, **context)


def _key(store: Store, ref: str) -> int:
    key = store.article_key(ref)
    if key is None:
        raise NotFound(f"no article {ref!r} in the database")
    return key


def index_context(store: Store) -> dict[str, Any]:
    clusters = store.cluster_list()
    shares = store.cluster_shares()
    for c in clusters:
        c["share"] = shares.get(c["cluster_id"])
    counts = store.counts()
    return {"clusters": clusters, "articles": counts["articles"], "pairs": counts["pairs"]}


def cluster_context(store: Store, cluster_id: str) -> dict[str, Any]:
    members = store.cluster_detail(cluster_id)
    if not members:
        raise NotFound(f"no cluster {cluster_id!r} in the database")
    origin = members[0]
    origin_key = _key(store, origin["article"])
    linked = store.linked_pairs_of(origin_key)
    for m in members[1:]:
        # a copy may be tied to its cluster through another copy, not the origin: the static
        # site has diff pages for linked pairs only (the server compares any pair live)
        m["linked"] = _key(store, m["article"]) in linked
    paragraphs = store.provenance_rows(origin_key)
    return {"cluster_id": cluster_id, "origin": origin, "copies": members[1:], "paragraphs": paragraphs}


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
    article = store.load_article(key)
    return DiffSide(
        article.ref, article.title, article.outlet, tuple(article.text_of(s) for s in article.sentences)
    )


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
    if a_key == b_key:
        raise NotFound("a diff needs two different articles")
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
    out: Path


def write_site(store: Store, out: Path, progress: Callable[[int], None] | None = None) -> SiteSummary:
    """Write the static report: index, a page per cluster, per article that takes part in a
    cluster or a reuse, and per linked pair."""
    for folder in ("clusters", "articles", "diffs"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    top, inner = Links(static=True), Links(static=True).under(1)
    index = index_context(store)
    (out / "index.html").write_text(render("index.html.j2", top, **index), encoding="utf-8")
    articles: set[str] = set()
    for c in index["clusters"]:
        context = cluster_context(store, c["cluster_id"])
        articles.update(m["article"] for m in [context["origin"], *context["copies"]])
        page = render("cluster.html.j2", inner, **context)
        (out / "clusters" / f"{slug(c['cluster_id'])}.html").write_text(page, encoding="utf-8")
    pairs = store.linked_pairs()
    refs = store.refs({k for pair in pairs for k in pair})
    articles.update(refs.values())
    sides: dict[int, DiffSide] = {}

    def side(key: int) -> DiffSide:
        if key not in sides:
            sides[key] = diff_side(store, key)
        return sides[key]

    for n, (a, b) in enumerate(pairs):
        context = _diff_of_keys(store, a, b, None, side)  # linked pairs: keys known, a < b
        page = render("diff.html.j2", inner, **context)
        (out / inner.diff(refs[a], refs[b]).removeprefix("../")).write_text(page, encoding="utf-8")
        if progress and n % 100 == 0:
            progress(n)
    for ref in sorted(articles):
        page = render("article.html.j2", inner, **article_context(store, ref))
        (out / "articles" / f"{slug(ref)}.html").write_text(page, encoding="utf-8")
    return SiteSummary(len(index["clusters"]), len(articles), len(pairs), out)
