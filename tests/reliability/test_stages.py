"""An ingest commits its analysis in stages (fingerprints a batch at a time, then the
candidates, then verification, clusters and the end of the run): a run stopped between
any two leaves whole stages, and the next run takes over what it left unfinished
(`Store.adopt_unfinished`), ending exactly as one uninterrupted run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dedup import pipeline
from dedup.embed import HashingEmbedder
from dedup.pipeline import IngestOptions, index, ingest
from dedup.stages import VerifyOptions
from dedup.store import Store
from tests.conftest import ROOT
from tests.reliability.harness import snapshot

FEED = ROOT / "data" / "demo_feed.jsonl"
LEXICAL = IngestOptions(verify=VerifyOptions(embed=False))


class Stop(Exception):
    """The process dying at a stage (an exception leaves the run `running`, as a kill does)."""


def _fail_on(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, call: int = 1) -> None:
    """Make `owner.name` raise `Stop` on its `call`-th call."""
    real: Callable[..., Any] = getattr(owner, name)
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise Stop(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """The demo feed in one uninterrupted run, lexically and with the hashing embedder."""
    folder = tmp_path_factory.mktemp("stages")
    out = {}
    for mode, options in (("lexical", LEXICAL), ("embed", IngestOptions())):
        with Store.open(folder / f"{mode}.duckdb") as store:
            ingest(store, [str(FEED)], options, embedder=HashingEmbedder())
        out[mode] = snapshot(folder / f"{mode}.duckdb")
    return out


# (where the run stops, what it has committed: rows of these tables)
STOPS = [
    ("second fingerprint batch", "Store.add_fingerprints", 2, {"signatures"}),
    ("candidates", "_index_run", 1, {"signatures"}),
    ("semantic candidates", "_semantic_run", 1, {"signatures"}),
    ("verification", "verify_run", 1, {"signatures", "candidates"}),
    ("clusters", "cluster_and_trace", 1, {"signatures", "candidates"}),
]


@pytest.mark.parametrize(("where", "target", "call", "kept"), STOPS, ids=[s[0] for s in STOPS])
def test_a_run_stopped_at_a_stage_is_finished_by_the_next(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: dict[str, dict[str, list[tuple[Any, ...]]]],
    where: str,
    target: str,
    call: int,
    kept: set[str],
) -> None:
    mode = "embed" if target == "_semantic_run" else "lexical"
    options = IngestOptions() if mode == "embed" else LEXICAL
    db = tmp_path / "stopped.duckdb"
    monkeypatch.setattr(pipeline, "FINGERPRINT_BATCH", 40)  # several batches, committed one by one
    with monkeypatch.context() as patch:
        owner = Store if target.startswith("Store.") else pipeline
        _fail_on(patch, owner, target.removeprefix("Store."), call)
        with Store.open(db) as store, pytest.raises(Stop):
            ingest(store, [str(FEED)], options, embedder=HashingEmbedder())
    stopped = snapshot(db)
    for table in ("signatures", "candidates", "pairs", "clusters"):
        assert bool(stopped[table]) == (table in kept), (where, table)
    if where == "second fingerprint batch":
        assert 0 < len(stopped["signatures"]) < len(reference[mode]["signatures"])
    with Store.open(db) as store:
        (status,) = store.con.execute("SELECT status FROM runs WHERE run_id = 1").fetchall()[0]
        assert status == "running"
        ingest(store, [str(FEED)], options, embedder=HashingEmbedder())
        runs = store.con.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall()
        left = store.con.execute(
            "SELECT (SELECT count(*) FROM signatures WHERE run_id = 1), (SELECT count(*) FROM candidates WHERE run_id = 1)"
        ).fetchall()[0]
        assert all(row["problems"] == 0 for row in store.check()), store.check()
    assert runs == [(1, "interrupted"), (2, "ok")]
    # run 2 took over run 1's signatures, or, once they had candidates, those candidates
    assert left[1] == 0 and (left[0] > 0) == ("candidates" in kept)
    assert snapshot(db) == reference[mode]


def test_dedup_index_finishes_an_ingest_stopped_in_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: dict[str, dict[str, list[tuple[Any, ...]]]]
) -> None:
    """Nothing is left to fingerprint, yet the killed run's candidates get verified."""
    db = tmp_path / "stopped.duckdb"
    with monkeypatch.context() as patch:
        _fail_on(patch, pipeline, "verify_run")
        with Store.open(db) as store, pytest.raises(Stop):
            ingest(store, [str(FEED)], LEXICAL)
    with Store.open(db) as store:
        assert store.pending_count() == 0
        _, verified = index(store, verify=VerifyOptions(embed=False))
        assert verified.pairs == len(reference["lexical"]["candidates"])
    assert snapshot(db) == reference["lexical"]
