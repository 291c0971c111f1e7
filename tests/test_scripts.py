"""Every script in scripts/ runs in its `--smoke` mode: the same code path on a tiny input,
its JSON (or its data files) written under a temporary `--out`, never over the committed
results. So no benchmark rots: a script that breaks under an API change fails here.

The scripts run two at a time (these machines have two cores), once for the module; each
script then has a test of its own that checks the exit status and the fields the docs
quote. Scripts that need the real corpora of ../shared/data skip when they are absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
SHARED = Path(os.environ.get("DEDUP_SHARED", ROOT.parent / "shared"))
CORPORA = SHARED / "data" / "reuters21578" / "derived" / "reuters21578.jsonl"

NEEDS_CORPORA = {
    "bench_day_calls", "bench_open_grids", "bench_quality", "bench_realworld", "bench_rewrites", "bench_scale", "calibrate_scoring",
    "calibrate_similarity", "crash_test", "make_benchmark", "make_scale_corpus",
}  # fmt: skip
NO_OUT = {"spinner"}  # prints to stdout


def scripts() -> list[str]:
    return sorted(p.stem for p in SCRIPTS.glob("*.py") if not p.name.startswith("_"))


def _run(name: str, out: Path) -> dict[str, Any]:
    command = [sys.executable, str(SCRIPTS / f"{name}.py"), "--smoke"]
    if name not in NO_OUT:
        command += ["--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            "seconds": round(time.perf_counter() - started, 1), "out": out}  # fmt: skip


@pytest.fixture(scope="module")
def smoked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("smoke")
    chosen = [n for n in scripts() if CORPORA.exists() or n not in NEEDS_CORPORA]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(chosen, pool.map(lambda n: _run(n, base / n), chosen), strict=True))
    times = ", ".join(
        f"{n} {r['seconds']}s" for n, r in sorted(results.items(), key=lambda x: -x[1]["seconds"])
    )
    print(f"\nsmoke times: {times}")
    return results


def result_json(result: dict[str, Any], name: str) -> dict[str, Any]:
    path = result["out"] / f"{name}.json"
    assert path.exists(), f"no {path}: {result['stdout'][-1000:]}"
    data: dict[str, Any] = json.loads(path.read_text())
    assert data.get("smoke", True) is True or name == "hostile"
    return data


# script -> (result file, fields every row or the document must have)
FIELDS: dict[str, tuple[str, list[str]]] = {
    "bench_candidates": ("candidates", ["systems.*.articles_per_s", "ratios.dedup_vs_bulk", "shingle_sweep"]),
    "bench_day_calls": ("day_calls", ["calls.*.added_s", "on_archive.calls", "into_empty.stages"]),
    "bench_gpu": ("gpu", ["throughput.*.sentences_per_s", "end_to_end.*.wall_s", "cuda_device"]),
    "bench_hostile": ("hostile", ["cases.*.peak_rss_mb", "cases.*.exit"]),
    "bench_ingest": ("ingest", ["phases.*.articles", "ratios.dedup_vs_floor_time"]),
    "bench_open_grids": (
        "open_grids",
        ["days.*.distinct_cells", "days.*.sharing_none", "verdicts.*.relations_differing"],
    ),
    "bench_quality": ("quality", ["systems.*.test", "goals.*.reached"]),
    "bench_realworld": ("realworld", ["files.*.stored", "totals"]),
    "bench_rewrites": ("rewrites", ["table", "cases"]),
    "bench_scale": ("scale", ["rows.*.wall_s", "rows.*.per_1k_s", "rows.*.peak_rss_mb"]),
    "bench_serve": ("serve", ["alone", "with_compares", "page_p99_ratio", "ingest_under_polling"]),
    "bench_spark": ("spark_scale", ["runs.*.spark_s", "runs.*.local_s", "runs.*.differing_tables"]),
    "bench_trace": ("trace", ["rows.*.p50_s", "rows.*.p95_s", "archive_articles"]),
    "bench_verify": ("verify", ["phases.*.pairs_per_s", "ratios.embed_all_vs_full_time", "pool_identical"]),
    "calibrate_scoring": ("calibration", ["rows.*.accuracy"]),
    "calibrate_similarity": ("similarity", ["results", "weights"]),
    "crash_test": ("crash", ["recovered", "kills", "points"]),
    "fuzz_readers": ("fuzz", ["targets.*.ok"]),
}


def field(data: Any, dotted: str) -> list[Any]:
    """The values at `dotted` (`*` for every item of a list)."""
    values = [data]
    for part in dotted.split("."):
        values = [v for value in values for v in value] if part == "*" else [value[part] for value in values]
    return values


@pytest.mark.parametrize("name", scripts())
def test_script_smoke(smoked: dict[str, dict[str, Any]], name: str) -> None:
    if name not in smoked:
        pytest.skip(f"{name} needs the real corpora ({CORPORA} is absent)")
    result = smoked[name]
    assert result["code"] == 0, result["stdout"][-2000:] + result["stderr"][-4000:]
    assert "Traceback" not in result["stderr"] and "nan" not in result["stdout"].split()
    if name in FIELDS:
        file, wanted = FIELDS[name]
        data = result_json(result, file)
        for dotted in wanted:
            values = field(data, dotted)
            assert values and all(v is not None for v in values), f"{file}.json: {dotted} = {values}"
        if name == "bench_spark":  # the increment on Spark equals the local one, table for table
            assert field(data, "runs.*.differing_tables") == ["none"], data["runs"]
        if name == "bench_verify":  # the pool changes no verdict
            assert data["pool_identical"] is True
        if name == "bench_open_grids":  # partners that share a word change scores, no relation
            assert field(data, "verdicts.*.relations_differing") == [0, 0], data["verdicts"]
    elif name == "make_demo":  # deterministic: the bundled demo feed, byte for byte
        for file in ("demo_feed.jsonl", "demo_truth.json"):
            assert (result["out"] / file).read_bytes() == (ROOT / "data" / file).read_bytes()
    elif name == "make_benchmark":
        truth = json.loads((result["out"] / "truth.json").read_text())
        assert truth["pairs"] and truth["hard_negatives"] and (result["out"] / "feed.jsonl").stat().st_size
    elif name == "make_scale_corpus":
        assert sum(1 for _ in (result["out"] / "10000" / "feed.jsonl").open()) == 10_000
    elif name == "spinner":
        assert "said" not in result["stdout"].split() or "stated" in result["stdout"]
        assert len(result["stdout"]) > 500
    else:
        pytest.fail(f"scripts/{name}.py has no smoke check here: add one")


def test_every_script_has_a_smoke_mode() -> None:
    for name in scripts():
        assert "--smoke" in (SCRIPTS / f"{name}.py").read_text(), f"scripts/{name}.py has no --smoke"
