"""Shared fixtures: paths to the real corpora in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

import json
import os
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
