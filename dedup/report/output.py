"""One way to print a listing in every format, shared by every CLI command (as sqlite-utils does)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
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
        _table(rows, title, stream)


_WIDTH: int | None = None
"""`dedup --width N`: the width tables are fitted to (else COLUMNS, else the terminal's)."""
FLEXIBLE = ("title", "text", "headline", "reason", "file", "outlets", "words", "field", "source")
"""Columns whose cells may be cut (with an ellipsis) to fit: long free text."""
MIN_FLEXIBLE = 16


def set_width(width: int | None) -> None:
    global _WIDTH
    _WIDTH = width


def table_width(stream: TextIO) -> int | None:
    """The width to fit a table to: `--width`, else `COLUMNS`, else the terminal's when
    `stream` is one; None (every column at its natural width) when piped."""
    if _WIDTH:
        return _WIDTH
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if stream.isatty():
        return shutil.get_terminal_size().columns
    return None


def utc_minute(value: datetime | str | None) -> str | None:
    """A time as people read it everywhere (tables, pages): `YYYY-MM-DD HH:MM` in UTC.
    Naive times are UTC already (the store keeps `published_utc` so); ISO strings with an
    offset (`published` as the feed wrote it) are converted; anything else is left as is.

    >>> utc_minute("1987-02-26T10:01:01.79-05:00")
    '1987-02-26 15:01'
    """
    if value is None or value == "":
        return None
    when = value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    assert isinstance(when, datetime)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M")


def _is_time(column: str, rows: Sequence[dict[str, Any]]) -> bool:
    return any(isinstance(r.get(column), datetime) for r in rows) or (
        column.split("_")[-1] == "published" and any(isinstance(r.get(column), str) for r in rows)
    )


def table_cell(column: str, value: Any, is_time: bool = False) -> str:
    """A value as a table shows it, on one line: times compact in UTC (the header says so),
    outlets named (never blank), lists joined, control characters escaped."""
    if is_time and isinstance(value, datetime | str):
        return printable(utc_minute(value) or "")
    return " ".join(_cell(column, value).split())  # one line a row: a title's line breaks too


def _table(rows: Sequence[dict[str, Any]], title: str | None, stream: TextIO) -> None:
    """A table that fits: headers never broken, values never wrapped; free-text columns
    (`FLEXIBLE`) are cut with an ellipsis down to `MIN_FLEXIBLE`, other values wider than a
    third of the width down to that third; when that is not enough, columns are dropped
    from the right (the first never), as a caption says. Times
    are `YYYY-MM-DD HH:MM` under a header marked `(UTC)`."""
    columns = list(rows[0]) if rows else []
    # a headline is the title, or the first words where there is none: show it alone
    columns = [c for c in columns if not (c.endswith("title") and c[: -len("title")] + "headline" in columns)]
    times = {c for c in columns if _is_time(c, rows)}
    headers = {c: f"{c} (UTC)" if c in times else c for c in columns}
    cells = [[table_cell(c, row.get(c), c in times) for c in columns] for row in rows]
    natural = {
        c: max([len(headers[c])] + [len(r[i]) for r in cells])  # cells are one line each
        for i, c in enumerate(columns)
    }
    width = table_width(stream)
    # a value too long for a third of the width (a 5,000-character id) is cut like free text
    cap = max(MIN_FLEXIBLE, width // 3) if width is not None else None
    least = {
        c: max(len(headers[c]), min(natural[c], MIN_FLEXIBLE))
        if _flexible(c)
        else natural[c]
        if cap is None
        else max(len(headers[c]), min(natural[c], cap))
        for c in columns
    }
    shown = list(columns)
    if width is not None:
        while len(shown) > 1 and sum(least[c] for c in shown) + 3 * len(shown) + 1 > width:
            shown.pop()
    hidden = [c for c in columns if c not in shown]
    given = {c: natural[c] for c in shown}
    if width is not None:
        given = {c: least[c] for c in shown}
        spare = width - 3 * len(shown) - 1 - sum(given.values())
        # what is left goes to cut values, left to right: other columns, then free text
        for c in sorted(shown, key=_flexible):
            grow = max(0, min(natural[c] - given[c], spare))
            given[c] += grow
            spare -= grow
    caption = (
        f"{len(hidden)} columns not shown: {', '.join(hidden)} (widen the terminal, --width N, or -f json)"
        if hidden
        else None
    )
    table = Table(title=title, caption=caption, show_lines=False, caption_justify="left")
    for c in shown:
        table.add_column(
            headers[c],
            no_wrap=True,
            overflow="ellipsis",
            width=given[c],
            min_width=given[c],
            max_width=given[c],
        )
    index = [columns.index(c) for c in shown]
    for r in cells:
        table.add_row(*(r[i] for i in index))
    render = sum(given.values()) + 3 * len(shown) + 1
    Console(file=stream, markup=False, width=max(render, 20), highlight=False, soft_wrap=False).print(table)


def _flexible(column: str) -> bool:
    return any(column == f or column.endswith("_" + f) for f in FLEXIBLE)


def emit_object(obj: dict[str, Any], fmt: str, *, stream: TextIO | None = None) -> None:
    """Print one record: a two-column table for people, an object for programs."""
    stream = stream or sys.stdout
    if fmt in ("json", "jsonl"):
        indent = 2 if fmt == "json" else None
        stream.write(json.dumps(obj, indent=indent, ensure_ascii=False, default=_plain) + "\n")
    else:
        emit([{"key": k, "value": v} for k, v in obj.items()], fmt, stream=stream)
