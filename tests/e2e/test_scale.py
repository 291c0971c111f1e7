"""What makes a million articles affordable must not change a single result: the process
pool that builds articles, candidates, verification and provenance in batches, clusters
rebuilt only where a run adds pairs; and the scale corpus generator is deterministic and
distinct."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from dedup import finish, pipeline, verify
from dedup.embed import HashingEmbedder
from dedup.pipeline import IngestOptions, VerifyOptions, ingest
from dedup.store import Store
from tests.conftest import ROOT, write_jsonl
from tests.reliability.harness import snapshot

FEED = ROOT / "data" / "demo_feed.jsonl"
LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


def test_pool_and_small_batches_give_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(tmp_path / "plain.duckdb") as store:
        ingest(store, [str(FEED)], LEXICAL)
    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(verify, "VERIFY_BATCH", 12)
    monkeypatch.setattr(verify, "VERIFY_STEP", 5)  # several steps a batch, to the verification pool
    monkeypatch.setattr(verify, "VERIFY_POOL_MIN", 0)
    monkeypatch.setattr(finish, "TRACE_BATCH", 4)
    monkeypatch.setattr(pipeline, "CANDIDATE_BATCH", 5)
    with Store.open(tmp_path / "pooled.duckdb") as store:
        summary = ingest(store, [str(FEED)], IngestOptions(batch_size=7, verify=VerifyOptions(embed=False)))
    assert summary.verify is not None and summary.verify.pairs > 10
    assert snapshot(tmp_path / "pooled.duckdb") == snapshot(tmp_path / "plain.duckdb")


def test_the_pool_with_the_model_gives_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the model, the workers align and score while this process embeds: the same
    verdicts, scores and alignments as judging every step in one process."""
    monkeypatch.setattr(verify, "VERIFY_POOL_MIN", 10**9)
    with Store.open(tmp_path / "plain.duckdb") as store:
        plain = ingest(store, [str(FEED)], embedder=HashingEmbedder())
    monkeypatch.setattr(verify, "VERIFY_POOL_MIN", 0)
    monkeypatch.setattr(verify, "VERIFY_BATCH", 1_200)
    monkeypatch.setattr(verify, "VERIFY_STEP", 300)
    with Store.open(tmp_path / "pooled.duckdb") as store:
        pooled = ingest(store, [str(FEED)], embedder=HashingEmbedder())
    assert plain.verify is not None and pooled.verify is not None
    assert plain.verify.embedded > 100 and plain.verify.rewrite > 10  # the model's path, taken
    assert pooled.verify.computed == plain.verify.computed
    assert snapshot(tmp_path / "pooled.duckdb") == snapshot(tmp_path / "plain.duckdb")


def test_an_increment_rebuilds_only_the_clusters_it_touches(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    with Store.open(db) as store:
        ingest(store, [str(FEED)], LEXICAL)
    records = [json.loads(line) for line in FEED.read_text().splitlines()]
    story = next(r for r in records if r["id"] == "ap-baseball")
    reprint = {
        **story,
        "id": "late-reprint",
        "source": "Evening Courier",
        "published": "2026-12-01T09:00:00Z",
    }
    with Store.open(db) as store:
        before = dict(store.con.execute("SELECT cluster_id, run_id FROM clusters").fetchall())
        ingest(store, [str(write_jsonl(tmp_path / "day.jsonl", [reprint]))], LEXICAL)
        after = dict(store.con.execute("SELECT cluster_id, run_id FROM clusters").fetchall())
        (late,) = store.con.execute(
            "SELECT cluster_id FROM cluster_members m JOIN articles a USING (article_key)"
            " WHERE a.article_id = 'late-reprint'"
        ).fetchall()[0]
    assert set(after) == set(before)
    assert {c for c in after if after[c] != before[c]} == {late}


@pytest.fixture(scope="module")
def scale_module():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_scale_corpus
    except SystemExit:
        pytest.skip("real corpora not found")
    from _bench import BBC_DIR, REUTERS_JSONL

    if not (REUTERS_JSONL.exists() and BBC_DIR.exists()):
        pytest.skip("real corpora not found")
    make_scale_corpus.setup(7)
    return make_scale_corpus


def test_scale_corpus_chunks_are_deterministic_and_distinct(scale_module) -> None:  # type: ignore[no-untyped-def]
    lines, truth = scale_module.make_chunk((7, 3))
    again, _ = scale_module.make_chunk((7, 3))
    assert lines == again and len(lines) == scale_module.CHUNK
    records = [json.loads(line) for line in lines]
    assert len({r["id"] for r in records}) == len(records)
    bodies = {hashlib.sha1(r["body"].encode()).hexdigest() for r in records}
    assert len(bodies) > 0.97 * len(records)  # only some verbatim reprints repeat a body
    kinds = {meta["kind"] for meta in truth["articles"].values()}
    assert {"original", "single", "reprint", "trim", "edited", "patchwork"} <= kinds
    # A later round relexifies a story: same shape, no shared 5-word shingle.
    stories = len(scale_module._stories)
    first, later = scale_module.slot_story(5), scale_module.slot_story(stories + 5)
    assert later.id == f"{first.id}@1" and len(later.paragraphs) == len(first.paragraphs)

    def shingles(text: str) -> set[tuple[str, ...]]:
        words = text.lower().split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    original = shingles(" ".join(first.paragraphs))
    assert original and not original & shingles(" ".join(later.paragraphs))


def test_each_run_records_its_stage_times(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.duckdb") as store:
        summary = ingest(store, [str(FEED)], LEXICAL)
        stats = store.run_stats(summary.run_id)
    assert set(stats["seconds"]) == {"read", "store", "fingerprint", "candidates", "verify", "cluster"}
    assert all(v >= 0 for v in stats["seconds"].values())
