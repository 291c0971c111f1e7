"""`dedup export`: the database's tables for other tools (Datasette, pandas, any SQL tool).

Parquet is written by DuckDB itself. SQLite gets the same tables with the closest SQLite
types; UBIGINT hashes (which can exceed SQLite's signed 64-bit integers) become decimal
text, timestamps ISO text, JSON stays text. The SQLite file is written beside the target
and renamed into place, so a failed export never leaves half a file.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from dedup.errors import DedupError
from dedup.store import Store

_SQLITE_TYPE = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "SMALLINT": "INTEGER",
    "BOOLEAN": "INTEGER",
    "DOUBLE": "REAL",
    "BLOB": "BLOB",
}


def _sqlite_type(duck: str) -> str:
    return _SQLITE_TYPE.get(duck, "TEXT")


def _convert(kind: str) -> Any:
    if kind == "UBIGINT":
        return lambda v: None if v is None else str(v)
    if kind.startswith("TIMESTAMP"):
        return lambda v: v.isoformat() if isinstance(v, datetime) else v
    return None


def export_sqlite(store: Store, target: Path, *, overwrite: bool = False) -> dict[str, int]:
    """Copy every table into a new SQLite file at `target`; rows per table."""
    if target.exists() and not overwrite:
        raise DedupError(f"{target} exists: choose another file or pass --force")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = sqlite3.connect(partial)
    try:
        for table, columns in store.table_columns().items():
            spec = ", ".join(f'"{name}" {_sqlite_type(kind)}' for name, kind in columns)
            con.execute(f'CREATE TABLE "{table}" ({spec})')
            converters = [_convert(kind) for _, kind in columns]
            marks = ", ".join("?" for _ in columns)
            counts[table] = 0
            for rows in store.table_rows(table):
                if any(converters):
                    rows = [
                        tuple(v if f is None else f(v) for v, f in zip(row, converters, strict=True))
                        for row in rows
                    ]
                con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
                counts[table] += len(rows)
        con.commit()
    except BaseException:
        con.close()
        partial.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(partial, target)
    return counts


def export_parquet(store: Store, folder: Path) -> dict[str, int]:
    """One `<table>.parquet` per table in `folder`; rows per table."""
    return store.export_parquet(folder)
