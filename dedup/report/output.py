"""One way to print a listing in every format, shared by every CLI command (as sqlite-utils does)."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "jsonl", "csv")
UNKNOWN_OUTLET = "(unknown outlet)"
"""How people see an article whose feed named no outlet (JSON keeps the empty string)."""


def outlet_label(value: str | None) -> str:
    return printable(value) if value else UNKNOWN_OUTLET


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(value: str) -> str:
    r"""Text safe to write to a terminal: control characters (escape sequences, bells, bidi
    overrides) shown as escapes (`\x1b`), never sent raw. JSON escapes them itself.

    >>> printable("id\x1b]0;owned\x07")
    'id\\x1b]0;owned\\x07'
    """
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256 else f"\\u{ord(m.group(0)):04x}", value
    )


def resolve_format(fmt: str | None, stream: TextIO | None = None) -> str:
    """`table` on a terminal, `json` when piped, unless asked for."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r} (known: {', '.join(FORMATS)})")
        return fmt
    stream = stream or sys.stdout
    return "table" if stream.isatty() else "json"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _cell(column: str, value: Any) -> str:
    """A value as a table shows it: outlets named (never blank), lists joined."""
    if column.endswith("outlet"):
        return outlet_label(value)
    if column.endswith("outlets") and isinstance(value, list):
        return ", ".join(outlet_label(v) for v in value)
    if isinstance(value, list):
        return ", ".join(printable(str(_plain(v))) for v in value)
    return "" if value is None else printable(str(_plain(value)))


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    *,
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print rows (dicts with the same keys) in `fmt` to stdout."""
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(
            [{k: _plain(v) for k, v in row.items()} for row in rows],
            stream,
            indent=2,
            ensure_ascii=False,
        )
        stream.write("\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        columns = list(rows[0]) if rows else []
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: printable(v)
                    if isinstance(v, str)
                    else _plain(v)
                    if not isinstance(v, list | dict)
                    else json.dumps(v)
                    for k, v in row.items()
                }
            )
    else:
        table = Table(title=title, show_lines=False)
        columns = list(rows[0]) if rows else []
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(k, v) for k, v in row.items()))
        Console(file=stream, markup=False).print(table)


def emit_object(obj: dict[str, Any], fmt: str, *, stream: TextIO | None = None) -> None:
    """Print one record: a two-column table for people, an object for programs."""
    stream = stream or sys.stdout
    if fmt in ("json", "jsonl"):
        indent = 2 if fmt == "json" else None
        stream.write(json.dumps(obj, indent=indent, ensure_ascii=False, default=_plain) + "\n")
    else:
        emit([{"key": k, "value": v} for k, v in obj.items()], fmt, stream=stream)
