"""Evaluation against a labelled truth: the metrics the text-reuse field reports.

Pure functions over two plain descriptions of the same articles: the `Truth` (read from a
JSON file such as `data/demo_truth.json` or the benchmark's `truth.json`) and a `Prediction`
(what a database, or a baseline, says). Nothing here touches the store.

Pairs. The truth lists origin-copy pairs (`duplicate`, `rewrite`) and source-patchwork pairs
(`partial`). Two copies of the same origin are a true link too (they are the same story) but
carry no relation of their own. A truth pair counts as found when the prediction links it
directly or puts both articles in one cluster (a user asking "is this a copy of that?" gets
yes either way). Precision is over the prediction's direct links: each is right (a truth
pair, or two members of one true cluster), wrong, or ignored when the truth cannot say (a
patchwork and a *copy* of one of its sources share the lifted text too, but the truth only
records the source itself).

Clusters. Story clusters as in NEWS-COPY: adjusted Rand index, adjusted mutual information
(arithmetic normalisation, as scikit-learn's default) and B-cubed precision/recall, over
every article of the truth, an article in no cluster being a cluster of one.

Provenance. For every paragraph the truth traces (the patchworks'), whether the prediction
names the same source article, the same paragraph of it, and the same wire.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import comb, exp, lgamma, log
from pathlib import Path
from typing import Any

from dedup.errors import DedupError

Key = tuple[str, str]
RELATIONS = ("duplicate", "rewrite", "partial")


def pair_key(a: str, b: str) -> Key:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True, slots=True)
class TracedParagraph:
    """A paragraph whose origin the truth knows: a source paragraph, or None for new text."""

    source: str | None
    source_paragraph: int | None
    wire: str | None


@dataclass(frozen=True, slots=True)
class Truth:
    articles: Mapping[str, Mapping[str, Any]]
    """id -> {kind, origin, outlet, split?, noise?}"""
    clusters: tuple[frozenset[str], ...]
    pairs: Mapping[Key, str]
    """(a, b) sorted -> duplicate | rewrite | partial"""
    provenance: Mapping[tuple[str, int], TracedParagraph]
    hard_negatives: tuple[Key, ...]
    unjudged: tuple[Key, ...] = ()
    """Pairs of originals that share text the truth did not put there (real reuse inside a
    source corpus): they, and the copies of either, are left out of pair precision."""


@dataclass(frozen=True, slots=True)
class Prediction:
    links: Mapping[Key, str]
    """(a, b) sorted -> relation, for every pair the system judged; `none` means judged unlinked."""
    clusters: tuple[frozenset[str], ...]
    reuse: Mapping[tuple[str, int], TracedParagraph] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, tp: float, fp: float, fn: float) -> Scores:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return cls(round(p, 4), round(r, 4), round(2 * p * r / (p + r) if p + r else 0.0, 4))


# -- reading the truth ------------------------------------------------------------------------


def load_truth(path: str | Path) -> Truth:
    """Read a truth file; a malformed one is a `DedupError` naming the file and the field."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DedupError(f"{path}: no such truth file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DedupError(f"{path}: not a JSON truth file ({exc})") from None
    where = "articles"
    try:
        articles = {str(k): dict(v) for k, v in doc["articles"].items()}
        where = "clusters"
        clusters = tuple(frozenset(map(str, c["members"])) for c in doc.get("clusters", []))
        where = "pairs"
        pairs = {pair_key(p["a"], p["b"]): str(p["relation"]) for p in doc.get("pairs", [])}
        where = "provenance"
        provenance = {
            (str(article), int(item["paragraph"])): TracedParagraph(
                item.get("source"), item.get("source_paragraph"), item.get("wire")
            )
            for article, items in doc.get("provenance", {}).items()
            for item in items
        }
        where = "hard_negatives"
        negatives = tuple(pair_key(a, b) for a, b in doc.get("hard_negatives", []))
        where = "unjudged"
        unjudged = tuple(pair_key(a, b) for a, b in doc.get("unjudged", []))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DedupError(f"{path}: field {where!r} is malformed ({exc!r})") from None
    unknown = {r for r in pairs.values() if r not in RELATIONS}
    if unknown:
        raise DedupError(f"{path}: field 'pairs' has unknown relation(s) {sorted(unknown)}")
    return Truth(articles, clusters, pairs, provenance, negatives, unjudged)


def restrict(truth: Truth, split: str) -> Truth:
    """The part of the truth whose articles are in `split` (their `split` field)."""
    keep = {a for a, meta in truth.articles.items() if meta.get("split") == split}
    if not keep:
        raise DedupError(f"no article of the truth is in split {split!r}")
    return Truth(
        {a: m for a, m in truth.articles.items() if a in keep},
        tuple(c & keep for c in truth.clusters if c & keep),
        {k: r for k, r in truth.pairs.items() if k[0] in keep and k[1] in keep},
        {k: v for k, v in truth.provenance.items() if k[0] in keep},
        tuple(k for k in truth.hard_negatives if k[0] in keep and k[1] in keep),
        tuple(k for k in truth.unjudged if k[0] in keep and k[1] in keep),
    )


# -- cluster metrics --------------------------------------------------------------------------


def labels(clusters: Iterable[Iterable[str]], universe: Iterable[str]) -> dict[str, int]:
    """Cluster label per article of `universe`; an article in no cluster gets its own."""
    universe = list(universe)
    inside = set(universe)
    out: dict[str, int] = {}
    for i, cluster in enumerate(clusters):
        for a in cluster:
            if a in inside:
                out[a] = i
    next_label = len(out) + 1_000_000
    for a in sorted(inside - set(out)):
        out[a] = next_label
        next_label += 1
    return out


def _contingency(truth: Mapping[str, int], found: Mapping[str, int]) -> Counter[tuple[int, int]]:
    return Counter((truth[a], found[a]) for a in truth)


def adjusted_rand_index(truth: Mapping[str, int], found: Mapping[str, int]) -> float:
    """Hubert and Arabie's ARI of two labellings of the same articles."""
    table = _contingency(truth, found)
    rows, cols = Counter(truth.values()), Counter(found.values())
    index = sum(comb(n, 2) for n in table.values())
    a, b = sum(comb(n, 2) for n in rows.values()), sum(comb(n, 2) for n in cols.values())
    total = comb(len(truth), 2)
    expected = a * b / total if total else 0.0
    top = (a + b) / 2 - expected
    return 1.0 if top == 0 else (index - expected) / top


def _entropy(sizes: Iterable[int], n: int) -> float:
    return -sum(s / n * log(s / n) for s in sizes if s)


def _expected_mutual_info(rows: Counter[int], cols: Counter[int], n: int) -> float:
    """EMI under the permutation model (Vinh et al. 2010), summed once per pair of cluster
    *sizes*: thousands of singletons make the cluster-by-cluster sum quadratic."""
    row_sizes, col_sizes = Counter(rows.values()), Counter(cols.values())
    lg_n = lgamma(n + 1)
    emi = 0.0
    for a, count_a in row_sizes.items():
        for b, count_b in col_sizes.items():
            term = 0.0
            const = lgamma(a + 1) + lgamma(b + 1) + lgamma(n - a + 1) + lgamma(n - b + 1) - lg_n
            for nij in range(max(1, a + b - n), min(a, b) + 1):
                log_p = const - (
                    lgamma(nij + 1) + lgamma(a - nij + 1) + lgamma(b - nij + 1) + lgamma(n - a - b + nij + 1)
                )
                term += nij / n * log(n * nij / (a * b)) * exp(log_p)
            emi += count_a * count_b * term
    return emi


def adjusted_mutual_info(truth: Mapping[str, int], found: Mapping[str, int]) -> float:
    n = len(truth)
    table = _contingency(truth, found)
    rows, cols = Counter(truth.values()), Counter(found.values())
    mi = sum(nij / n * log(n * nij / (rows[i] * cols[j])) for (i, j), nij in table.items())
    h_u, h_v = _entropy(rows.values(), n), _entropy(cols.values(), n)
    emi = _expected_mutual_info(rows, cols, n)
    denominator = (h_u + h_v) / 2 - emi
    if abs(denominator) < 1e-12:
        return 1.0
    return (mi - emi) / denominator


def bcubed(truth: Mapping[str, int], found: Mapping[str, int]) -> Scores:
    """B-cubed precision and recall (Bagga and Baldwin), averaged over articles."""
    n = len(truth)
    table = _contingency(truth, found)
    rows, cols = Counter(truth.values()), Counter(found.values())
    precision = sum(nij * nij / cols[j] for (_, j), nij in table.items()) / n
    recall = sum(nij * nij / rows[i] for (i, _), nij in table.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4))


# -- pair metrics -----------------------------------------------------------------------------


def implied_pairs(truth: Truth) -> set[Key]:
    """Every pair of one true cluster: same story, whatever their listed relation."""
    out: set[Key] = set()
    for cluster in truth.clusters:
        members = sorted(cluster)
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out


def unknowable_pairs(truth: Truth) -> set[Key]:
    """Pairs the truth cannot judge: a patchwork with a copy of one of its sources (the copy
    carries the lifted text too), two patchworks drawing on the same story, and the
    `unjudged` pairs of originals with everything derived from either."""
    cluster_of = {a: c for c in truth.clusters for a in c}
    sources: dict[str, set[str]] = {}
    for (article, _), traced in truth.provenance.items():
        if traced.source is not None:
            sources.setdefault(article, set()).add(traced.source)
    out: set[Key] = set()
    for patchwork, used in sources.items():
        for source in used:
            out.update(pair_key(patchwork, m) for m in cluster_of.get(source, {source}) if m != source)
    by_source: dict[str, list[str]] = {}
    for patchwork, used in sources.items():
        for source in used:
            by_source.setdefault(source, []).append(patchwork)
    for patchworks in by_source.values():
        out.update(pair_key(a, b) for i, a in enumerate(patchworks) for b in patchworks[i + 1 :])
    for x, y in truth.unjudged:
        xs = set(cluster_of.get(x, {x})) | set(by_source.get(x, ()))
        ys = set(cluster_of.get(y, {y})) | set(by_source.get(y, ()))
        out.update(pair_key(a, b) for a in xs for b in ys if a != b)
    return out


@dataclass(frozen=True, slots=True)
class PairReport:
    overall: Scores
    true_links: int
    found_links: int
    wrong_links: int
    ignored_links: int
    per_relation: Mapping[str, Scores]
    confusion: Mapping[str, Mapping[str, int]]
    """truth relation -> predicted relation (or `cluster` when linked only through a cluster,
    `missed` when not linked at all) -> count"""
    per_pattern: Mapping[str, Scores]
    """recall of each copy pattern's truth pairs (`kind` of the copy), precision not defined"""


def pair_report(truth: Truth, pred: Prediction) -> PairReport:
    universe = truth.articles.keys()
    same_cluster = implied_pairs(truth)
    ignore = unknowable_pairs(truth) - same_cluster - truth.pairs.keys()
    found_cluster = labels(pred.clusters, universe)

    def linked(key: Key) -> bool:
        relation = pred.links.get(key)
        if relation is not None and relation != "none":
            return True
        a, b = key
        return found_cluster[a] == found_cluster[b]

    confusion: dict[str, Counter[str]] = {r: Counter() for r in RELATIONS}
    found_by_pattern: dict[str, Counter[bool]] = {}
    fn = 0
    for key, relation in truth.pairs.items():
        predicted = pred.links.get(key)
        if predicted is None or predicted == "none":
            predicted = "cluster" if linked(key) else (predicted or "missed")
        confusion[relation][predicted] += 1
        ok = linked(key)
        fn += not ok
        a, b = key
        copy = b if truth.articles.get(b, {}).get("kind") != "original" else a
        if relation == "partial":
            copy = a if truth.articles.get(a, {}).get("kind") == "patchwork" else b
        pattern = str(truth.articles.get(copy, {}).get("kind", "?"))
        if truth.articles.get(copy, {}).get("noise"):
            found_by_pattern.setdefault("noise", Counter())[ok] += 1
        found_by_pattern.setdefault(pattern, Counter())[ok] += 1

    tp = fp = ignored = 0
    predicted_by_relation: Counter[str] = Counter()
    for key, relation in pred.links.items():
        if relation == "none" or key[0] not in universe or key[1] not in universe:
            continue
        if key in truth.pairs or key in same_cluster:
            tp += 1
        elif key in ignore:
            ignored += 1
            continue
        else:
            fp += 1
        if key not in same_cluster or key in truth.pairs:
            predicted_by_relation[relation] += 1
    true_total = len(truth.pairs)
    per_relation = {}
    for relation in RELATIONS:
        hits = confusion[relation][relation]
        truth_n = sum(confusion[relation].values())
        per_relation[relation] = Scores.of(hits, predicted_by_relation[relation] - hits, truth_n - hits)
    per_pattern = {
        pattern: Scores.of(counts[True], 0, counts[False])
        for pattern, counts in sorted(found_by_pattern.items())
    }
    return PairReport(
        overall=Scores.of(true_total - fn, fp, fn),
        true_links=true_total,
        found_links=true_total - fn,
        wrong_links=fp,
        ignored_links=ignored,
        per_relation=per_relation,
        confusion={r: dict(c) for r, c in confusion.items()},
        per_pattern=per_pattern,
    )


# -- provenance and hard negatives ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProvenanceReport:
    paragraphs: int
    source: float
    """the right source article (or rightly none, for new text)"""
    source_paragraph: float
    wire: float


def provenance_report(truth: Truth, pred: Prediction) -> ProvenanceReport:
    n = len(truth.provenance)
    if not n:
        return ProvenanceReport(0, 1.0, 1.0, 1.0)
    right_source = right_paragraph = right_wire = 0
    empty = TracedParagraph(None, None, None)
    for key, want in truth.provenance.items():
        got = pred.reuse.get(key, empty)
        right_source += got.source == want.source
        right_paragraph += got.source == want.source and got.source_paragraph == want.source_paragraph
        right_wire += got.wire == want.wire
    return ProvenanceReport(
        n, round(right_source / n, 4), round(right_paragraph / n, 4), round(right_wire / n, 4)
    )


def hard_negative_rate(truth: Truth, pred: Prediction) -> tuple[int, int]:
    """(hard-negative pairs linked, hard-negative pairs): directly or through a cluster."""
    found = labels(pred.clusters, truth.articles.keys())
    bad = 0
    for key in truth.hard_negatives:
        relation = pred.links.get(key)
        bad += (relation is not None and relation != "none") or found[key[0]] == found[key[1]]
    return bad, len(truth.hard_negatives)


# -- all together -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    articles: int
    missing: int
    """truth articles the prediction does not know (not ingested, or rejected)"""
    pairs: PairReport
    ari: float
    ami: float
    bcubed: Scores
    provenance: ProvenanceReport
    hard_negatives_linked: int
    hard_negatives: int

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        out["hard_negative_rate"] = (
            round(self.hard_negatives_linked / self.hard_negatives, 4) if self.hard_negatives else 0.0
        )
        return out


def evaluate(truth: Truth, pred: Prediction, known: Iterable[str] | None = None) -> Evaluation:
    universe = list(truth.articles)
    truth_labels = labels(truth.clusters, universe)
    found_labels = labels(pred.clusters, universe)
    missing = 0 if known is None else len(set(universe) - set(known))
    bad, total = hard_negative_rate(truth, pred)
    return Evaluation(
        articles=len(universe),
        missing=missing,
        pairs=pair_report(truth, pred),
        ari=round(adjusted_rand_index(truth_labels, found_labels), 4),
        ami=round(adjusted_mutual_info(truth_labels, found_labels), 4),
        bcubed=bcubed(truth_labels, found_labels),
        provenance=provenance_report(truth, pred),
        hard_negatives_linked=bad,
        hard_negatives=total,
    )
