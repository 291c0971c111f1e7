"""Every command and every option is documented in docs/cli.md (as sqlite-utils checks)."""

from __future__ import annotations

from pathlib import Path

import typer

from dedup.cli import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def test_every_command_and_option_is_documented() -> None:
    group = typer.main.get_command(app)
    # typer >= 0.29 vendors click, so duck-type rather than isinstance(click.Group).
    commands = group.commands  # type: ignore[attr-defined]
    assert commands
    for name, command in commands.items():
        heading = f"## `dedup {name}"
        assert heading in DOC, f"docs/cli.md has no section for `dedup {name}`"
        section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.param_type_name == "option" and param.opts[0] != "--help":
                assert any(opt in section for opt in param.opts), f"{name}: {param.opts[0]} undocumented"
