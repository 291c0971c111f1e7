"""The arrows of docs/architecture.md, enforced: which part of `dedup/` may import which.

Read from the source (ast), imports inside functions included, so a lazy import cannot
slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dedup"
CORE = {
    "align", "cluster", "errors", "evaluate", "fingerprint", "lsh", "minhash", "model", "normalize",
    "provenance", "score", "segment", "semantic", "shingle", "similarity", "stages", "tables", "templates",
    "workers",
}  # fmt: skip
"""The pure core: text in, results out; no database, no engine, no interface."""
OUTER = ("dedup.store", "dedup.pipeline", "dedup.verify", "dedup.finish", "dedup.engines", "dedup.cli", "dedup.web",
         "dedup.report", "dedup.trace", "dedup.export")  # fmt: skip


def modules() -> dict[str, set[str]]:
    """Each module of dedup/ (dotted name) -> every module it imports (absolute names)."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
        out[name] = found
    return out


MODULES = modules()


def imports(name: str, prefix: str) -> bool:
    return any(i == prefix or i.startswith(prefix + ".") for i in MODULES[name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_store_imports_duckdb(name: str) -> None:
    if not name.startswith("dedup.store"):
        assert not imports(name, "duckdb"), f"{name} imports duckdb: go through dedup.store"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[-1] in CORE and n.count(".") == 1))
def test_the_core_imports_no_outer_part(name: str) -> None:
    for outer in OUTER:
        assert not imports(name, outer), f"{name} (core) imports {outer}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dedup.store")))
def test_the_store_imports_no_stage_driver_or_interface(name: str) -> None:
    for outer in (
        "dedup.pipeline",
        "dedup.verify",
        "dedup.finish",
        "dedup.engines",
        "dedup.cli",
        "dedup.web",
        "dedup.report",
        "dedup.trace",
    ):
        assert not imports(name, outer), f"{name} imports {outer}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dedup.engines")))
def test_engines_share_stages_not_the_local_driver(name: str) -> None:
    for driver in ("dedup.pipeline", "dedup.verify"):
        assert not imports(name, driver), f"{name} imports {driver}: use dedup.stages"


def test_nothing_imports_the_command_line() -> None:
    for name in MODULES:
        if not (name == "dedup.cli" or name.startswith("dedup.cli.")):
            assert not imports(name, "dedup.cli"), f"{name} imports dedup.cli"


def test_no_module_is_too_long_to_read() -> None:
    """~700 lines at most (issue 20), the command line included."""
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 720
    }
    assert not long, long
