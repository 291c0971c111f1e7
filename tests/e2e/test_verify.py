"""Verdicts on real wire copy, with the real all-MiniLM-L6-v2 model, and `dedup diff`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dedup
from dedup.cli import app
from dedup.embed import MiniLMEmbedder
from dedup.normalize import normalize_body
from dedup.pipeline import ingest
from dedup.store import Store
from tests.conftest import write_jsonl

runner = CliRunner()


@pytest.fixture(scope="module")
def stories(reuters_records: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["newid"]): r for r in reuters_records}


def paragraphs(record: dict[str, object]) -> list[str]:
    return normalize_body(str(record["body"])).split("\n\n")


def test_exact_reprint_is_duplicate(stories: dict[str, dict[str, object]], model: MiniLMEmbedder) -> None:
    original = str(stories["1"]["body"])
    reprint = (
        normalize_body(original).replace("\n\nReuter", "")
        + "\n\nCopyright Valley Daily. Sign up for our newsletter"
    )
    result = dedup.compare(original, reprint, embedder=model)
    assert result.relation == "duplicate" and result.score >= 0.95


def test_trimmed_reprint_with_edited_lede_is_rewrite(
    stories: dict[str, dict[str, object]], model: MiniLMEmbedder
) -> None:
    source = paragraphs(stories["1"])
    lede = (
        "Showers returned to the Bahia cocoa zone this week, easing a drought that began in early "
        "January and brightening the outlook for the temporao crop, Comissaria Smith said."
    )
    copy = "\n\n".join([lede, *source[1:7]])
    result = dedup.compare("\n\n".join(source), copy, embedder=model)
    assert result.relation == "rewrite"
    assert result.containment_b >= 0.95 and result.containment_a < 0.7
    first = next(x for x in result.alignments if x.b_index == 0)
    assert first.a_index == 0 and first.kind in ("edited", "paraphrase")


def test_two_borrowed_paragraphs_are_partial_and_exactly_aligned(
    stories: dict[str, dict[str, object]], model: MiniLMEmbedder
) -> None:
    source = [p for p in paragraphs(stories["5258"]) if len(p) > 80]
    own = [p for p in paragraphs(stories["1"]) if len(p) > 80][:6]
    borrowed = source[2:4]
    mixed = "\n\n".join([*own[:3], *borrowed, *own[3:]])
    result = dedup.compare("\n\n".join(source), mixed, embedder=model)
    assert result.relation == "partial" and result.score > 0.2  # above every hard negative below
    b_article = dedup.article_from_text(mixed)
    reused = {
        b_article.sentences[x.b_index].paragraph
        for x in result.alignments
        if x.b_index is not None and x.kind in ("verbatim", "edited", "paraphrase")
    }
    assert reused == {3, 4}


@pytest.mark.parametrize(("a", "b"), [("1", "4470"), ("5258", "6128"), ("5382", "5598")])
def test_same_topic_different_stories_are_not_reuse(
    stories: dict[str, dict[str, object]], model: MiniLMEmbedder, a: str, b: str
) -> None:
    result = dedup.compare(str(stories[a]["body"]), str(stories[b]["body"]), embedder=model)
    assert result.relation == "none", (a, b, result.score)
    # graded below the thresholds (sentences of one template resemble each other), yet
    # below two borrowed paragraphs' partial above
    assert result.score < 0.2


def test_pipeline_verifies_and_lists_pairs(tmp_path: Path, stories: dict[str, dict[str, object]]) -> None:
    source = paragraphs(stories["1"])
    rows = [
        {"id": "wire-1", "source": "Reuters", "title": "BAHIA COCOA REVIEW", "body": "\n\n".join(source)},
        {"id": "copy-1", "source": "Cocoa Daily", "title": "Rain in Bahia", "body": "\n\n".join(source[:6])},
        {"id": "other", "source": "Reuters", "title": "x", "body": str(stories["4470"]["body"])},
    ]
    db = tmp_path / "v.duckdb"
    with Store.open(db) as store:
        summary = ingest(store, [str(write_jsonl(tmp_path / "f.jsonl", rows))])  # type: ignore[arg-type]
    assert summary.verify is not None and summary.verify.rewrite == 1
    out = runner.invoke(app, ["pairs", "--db", str(db), "-f", "json"])
    assert out.exit_code == 0, out.output
    [pair] = json.loads(out.stdout)
    assert (pair["a"], pair["b"], pair["relation"]) == ("wire-1", "copy-1", "rewrite")
    assert pair["containment_b"] == 1.0 and {"a_outlet", "b_published"} <= set(pair)
    assert (
        json.loads(
            runner.invoke(app, ["pairs", "--db", str(db), "--relation", "duplicate", "-f", "json"]).stdout
        )
        == []
    )


def test_diff_in_three_formats(tmp_path: Path, stories: dict[str, dict[str, object]]) -> None:
    source = paragraphs(stories["1"])
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    # a text file's first line is its title (as `dedup ingest` reads it), the rest its body
    a.write_text("\n\n".join([str(stories["1"]["title"]), *source]))
    edited = source[1].replace("will be late this year", "will come late this season")
    b.write_text(
        "\n\n".join(
            ["Cocoa review", source[0], edited, *source[3:6], "A sentence the copy added about the weather."]
        )
    )
    db = ["--db", str(tmp_path / "none.duckdb")]

    as_json = runner.invoke(app, ["diff", str(a), str(b), *db, "--format", "json", "--no-embed"])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert doc["relation"] == "rewrite"
    kinds = {x["kind"] for x in doc["alignments"]}
    assert kinds == {"verbatim", "edited"}
    edited_row = next(x for x in doc["alignments"] if x["kind"] == "edited")
    assert edited_row["a_index"] == 1 and "late this season" in edited_row["b_text"]
    assert {"a_index", "b_index", "kind", "score", "a_text", "b_text"} <= set(edited_row)
    assert doc["b_only"][-1]["text"].startswith("A sentence the copy added")
    assert len(doc["a_only"]) >= 5

    html = tmp_path / "diff.html"
    table = runner.invoke(
        app, ["diff", str(a), str(b), *db, "--format", "table", "--html", str(html), "--no-embed"]
    )
    assert table.exit_code == 0, table.output
    assert "verdict: rewrite" in table.stdout and "~0." in table.stdout
    page = html.read_text()
    assert "<mark>" in page and "Verdict: rewrite" in page and "http" not in page.split("<body>")[1]

    missing = runner.invoke(app, ["diff", "nope-1", "nope-2", *db])
    assert missing.exit_code == 1 and "neither a file nor an article" in missing.stderr
