"""The evaluation metrics against examples worked by hand (and scikit-learn's documented values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup.errors import DedupError
from dedup.evaluate import (
    Prediction,
    TracedParagraph,
    adjusted_mutual_info,
    adjusted_rand_index,
    bcubed,
    evaluate,
    labels,
    load_truth,
    restrict,
)


def lab(*groups: str) -> dict[str, int]:
    """labels from strings of one-letter articles: lab("ab", "c") -> a, b together; c alone."""
    return {a: i for i, g in enumerate(groups) for a in g}


def test_ari_hand_examples() -> None:
    same = lab("ab", "cd")
    assert adjusted_rand_index(same, lab("ab", "cd")) == 1.0
    assert adjusted_rand_index(same, lab("cd", "ab")) == 1.0  # label names do not matter
    # truth {ab}{cd}, found {abc}{d}: pairs together in both = 1 (ab); truth pairs 2; found
    # pairs 3; C(4,2) = 6; expected = 2*3/6 = 1; ARI = (1-1)/((2+3)/2-1) = 0
    assert adjusted_rand_index(same, lab("abc", "d")) == 0.0
    # scikit-learn's docstring example: [0,0,1,2] vs [0,0,1,1] -> 0.5714...
    assert adjusted_rand_index(lab("ab", "c", "d"), lab("ab", "cd")) == pytest.approx(0.5714285714)
    # all singletons on both sides: identical partitions
    assert adjusted_rand_index(lab("a", "b"), lab("a", "b")) == 1.0


def test_ami_hand_examples() -> None:
    assert adjusted_mutual_info(lab("ab", "cd"), lab("ab", "cd")) == pytest.approx(1.0)
    # one side carries no information: AMI 0 (scikit-learn's docstring example)
    assert adjusted_mutual_info(lab("ab", "cd"), lab("abcd")) == pytest.approx(0.0)
    # crossing splits share less information than chance: negative
    assert adjusted_mutual_info(lab("ab", "cd"), lab("ac", "bd")) < 0.0


def test_ari_and_ami_equal_scikit_learns_on_random_labellings() -> None:
    """scikit-learn (installed with sentence-transformers) is the reference; ours groups the
    expected-MI sum by cluster size, which is what makes it fast on 20,000 singletons."""
    metrics = pytest.importorskip("sklearn.metrics")
    import random

    rng = random.Random(3)
    for _ in range(30):
        n = rng.randint(2, 60)
        items = [f"a{i}" for i in range(n)]
        t = {a: rng.randint(0, rng.randint(1, n)) for a in items}
        f = {a: rng.randint(0, rng.randint(1, n)) for a in items}
        ts, fs = [t[a] for a in items], [f[a] for a in items]
        assert adjusted_rand_index(t, f) == pytest.approx(metrics.adjusted_rand_score(ts, fs), abs=1e-9)
        assert adjusted_mutual_info(t, f) == pytest.approx(
            metrics.adjusted_mutual_info_score(ts, fs), abs=1e-7
        )


def test_bcubed_hand_example() -> None:
    # truth {abc}{d}; found {ab}{cd}
    # precision per item: a 2/2, b 2/2, c 1/2, d 1/2 -> 0.75; recall: a 2/3, b 2/3, c 1/3, d 1/1 -> 2/3
    scores = bcubed(lab("abc", "d"), lab("ab", "cd"))
    assert scores.precision == 0.75 and scores.recall == pytest.approx(0.6667)
    assert scores.f1 == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3), abs=1e-4)


def test_labels_give_singletons_their_own_cluster() -> None:
    out = labels([{"a", "b"}, {"zz"}], ["a", "b", "c", "d"])
    assert out["a"] == out["b"] and len({out["c"], out["d"], out["a"]}) == 3


def write_truth(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(doc))
    return path


TINY = {
    "articles": {
        "o": {"kind": "original", "origin": "o", "split": "test"},
        "c1": {"kind": "reprint", "origin": "o", "split": "test"},
        "c2": {"kind": "trim", "origin": "o", "split": "test"},
        "s": {"kind": "original", "origin": "s", "split": "test"},
        "p": {"kind": "patchwork", "origin": None, "split": "test"},
        "x": {"kind": "single", "origin": None, "split": "test"},
        "y": {"kind": "single", "origin": None, "split": "dev"},
    },
    "clusters": [{"origin": "o", "members": ["o", "c1", "c2"]}],
    "pairs": [
        {"a": "o", "b": "c1", "relation": "duplicate"},
        {"a": "o", "b": "c2", "relation": "rewrite"},
        {"a": "o", "b": "p", "relation": "partial"},
        {"a": "s", "b": "p", "relation": "partial"},
    ],
    "provenance": {
        "p": [
            {"paragraph": 0, "source": None},
            {"paragraph": 1, "source": "o", "source_paragraph": 2, "wire": "AP"},
            {"paragraph": 2, "source": "s", "source_paragraph": 1, "wire": "Reuters"},
        ]
    },
    "hard_negatives": [["x", "s"], ["x", "o"]],
}


def test_pairs_relations_provenance_on_a_tiny_case(tmp_path: Path) -> None:
    truth = load_truth(write_truth(tmp_path, TINY))
    pred = Prediction(
        links={
            ("c1", "o"): "duplicate",
            ("c2", "o"): "duplicate",  # right link, wrong relation
            ("c1", "c2"): "rewrite",  # two copies of one story: right
            ("o", "p"): "partial",
            ("c1", "p"): "partial",  # a copy of a source: the truth cannot say, ignored
            ("s", "x"): "rewrite",  # a hard negative linked: wrong
            ("p", "s"): "none",  # judged, not linked: a miss
        },
        clusters=(frozenset({"o", "c1", "c2"}),),
        reuse={
            ("p", 1): TracedParagraph("o", 2, "AP"),
            ("p", 2): TracedParagraph("c1", 5, "AP"),  # wrong source, wrong wire
        },
    )
    result = evaluate(truth, pred, known=["o", "c1", "c2", "s", "p", "x"])
    pairs = result.pairs
    # truth pairs 4, found 3 (s-p judged none); links judged: 5 right-or-wrong + 1 ignored
    assert (pairs.true_links, pairs.found_links, pairs.wrong_links, pairs.ignored_links) == (4, 3, 1, 1)
    assert pairs.overall.precision == pytest.approx(3 / 4) and pairs.overall.recall == 0.75
    assert pairs.confusion["rewrite"] == {"duplicate": 1}
    assert pairs.confusion["partial"] == {"partial": 1, "none": 1}
    # duplicate: predicted 2 (o-c1, o-c2), right 1; truth 1 -> P 0.5, R 1
    assert (pairs.per_relation["duplicate"].precision, pairs.per_relation["duplicate"].recall) == (0.5, 1.0)
    # rewrite: predicted s-x only (c1-c2 is a same-story pair without a relation) -> P 0, R 0
    assert pairs.per_relation["rewrite"].recall == 0.0
    assert pairs.per_pattern["patchwork"].recall == 0.5 and pairs.per_pattern["trim"].recall == 1.0
    assert result.provenance.paragraphs == 3
    assert result.provenance.source == pytest.approx(2 / 3, abs=1e-4)  # p0 (none) and p1 right
    assert result.provenance.wire == pytest.approx(2 / 3, abs=1e-4)
    assert (result.hard_negatives_linked, result.hard_negatives) == (1, 2)
    assert result.ari == 1.0 and result.missing == 1  # y is in the truth, not the database


def test_restrict_to_a_split(tmp_path: Path) -> None:
    truth = restrict(load_truth(write_truth(tmp_path, TINY)), "dev")
    assert set(truth.articles) == {"y"} and not truth.pairs and not truth.clusters
    with pytest.raises(DedupError, match="split 'nope'"):
        restrict(truth, "nope")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "not a JSON truth file"),
        ({"clusters": []}, "field 'articles'"),
        ({"articles": {}, "pairs": [{"a": "x"}]}, "field 'pairs'"),
        ({"articles": {}, "pairs": [{"a": "x", "b": "y", "relation": "copy"}]}, "unknown relation"),
    ],
)
def test_bad_truth_files_name_the_field(tmp_path: Path, doc: object, message: str) -> None:
    path = tmp_path / "truth.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(DedupError, match=message) as info:
        load_truth(path)
    assert str(path) in str(info.value)


def test_unjudged_pairs_and_their_copies_are_left_out_of_precision(tmp_path: Path) -> None:
    doc = {**TINY, "unjudged": [["o", "x"]]}
    truth = load_truth(write_truth(tmp_path, doc))
    pred = Prediction(
        links={
            ("c1", "o"): "duplicate",
            ("c2", "o"): "rewrite",
            ("o", "x"): "partial",
            ("c2", "x"): "partial",
        },
        clusters=(frozenset({"o", "c1", "c2"}),),
    )
    pairs = evaluate(truth, pred).pairs
    assert (pairs.wrong_links, pairs.ignored_links) == (0, 2)
    plain = evaluate(load_truth(write_truth(tmp_path, TINY)), pred).pairs
    assert plain.wrong_links == 2
