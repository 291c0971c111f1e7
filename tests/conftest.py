"""Shared fixtures: paths to the real corpora in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEDUP_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
REUTERS_JSONL = DATA / "reuters21578" / "derived" / "reuters21578.jsonl"
BBC_DIR = DATA / "bbc" / "bbc"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real corpus not available: {path}")
    return path


@pytest.fixture(scope="session")
def reuters_jsonl() -> Path:
    return need(REUTERS_JSONL)


@pytest.fixture(scope="session")
def reuters_records(reuters_jsonl: Path) -> list[dict[str, object]]:
    with reuters_jsonl.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def bbc_dir() -> Path:
    return need(BBC_DIR)


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def sample_feed() -> Iterator[Path]:
    yield ROOT / "data" / "sample_feed.jsonl"


@pytest.fixture(scope="session")
def reuters_db(
    tmp_path_factory: pytest.TempPathFactory, reuters_jsonl: Path
) -> tuple[Path, dict[str, object]]:
    """All of Reuters-21578 ingested once through the CLI, lexically; (database, JSON run summary)."""
    from typer.testing import CliRunner

    from dedup.cli import app

    db = tmp_path_factory.mktemp("reuters") / "reuters.duckdb"
    # lexical: what these tests ask of Reuters is ingest, candidates and verdicts, not the model
    result = CliRunner().invoke(
        app, ["ingest", str(reuters_jsonl), "--db", str(db), "-f", "json", "-q", "--no-embed"]
    )
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


def bbc_records() -> list[dict[str, str]]:
    """The BBC corpus as feed records: line 1 headline, then the body (ids like `tech/062.txt`)."""
    records = []
    for path in sorted(need(BBC_DIR).glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # sport/199.txt, a known quirk of the original zip
        title, _, body = text.partition("\n")
        records.append(
            {"id": path.relative_to(BBC_DIR).as_posix(), "source": "BBC", "title": title, "body": body}
        )
    return records


def silver_pairs(corpus: str) -> list[tuple[str, str, float]]:
    path = need(DATA / corpus / "silver_pairs_j050.tsv")
    pairs = []
    for line in path.read_text().splitlines():
        a, b, j = line.split("\t")
        pairs.append((a, b, float(j)))
    return pairs


@pytest.fixture(scope="session")
def model() -> object:
    """The real embedding model, loaded once for the session."""
    from dedup.embed import MiniLMEmbedder

    return MiniLMEmbedder("cpu")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, model: object) -> Path:
    """The bundled demo feed (data/demo_feed.jsonl) ingested once: clusters, pairs, provenance."""
    from dedup.pipeline import ingest
    from dedup.store import Store

    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store.open(db) as store:
        ingest(store, [str(ROOT / "data" / "demo_feed.jsonl")], embedder=model)  # type: ignore[arg-type]
    return db


@contextlib.contextmanager
def write_lock_held(db: Path) -> Iterator[int]:
    """Another process holding `db` open for writing, as a running ingest would; its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped by init, has gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def outliving(pids: list[int], seconds: float = 10.0) -> list[int]:
    """Those of `pids` still running after up to `seconds`; they are killed (the next
    test's memory), so a caller only has to assert the list is empty."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(running, pids)):
        time.sleep(0.1)
    alive = [p for p in pids if running(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    return alive
