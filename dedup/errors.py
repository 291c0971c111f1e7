"""The error hierarchy: the library raises these, only the CLI turns them into exit codes."""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error `dedup` raises on purpose."""


class InputError(DedupError):
    """A record or file that cannot be read; names the file, the line and the field."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [where] if where else []
        if self.field:
            parts.append(f"field {self.field!r}")
        parts.append(self.reason)
        return ": ".join(parts)


class StoreError(DedupError):
    """The database cannot be opened, is not ours, is too new, or is in use."""


class ModelError(DedupError):
    """The embedding model cannot be loaded or run."""


class BusyError(StoreError):
    """Another dedup process holds the database for writing; try again when it ends."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during an ingest: the batches committed so far stay; a re-run continues.

    A `KeyboardInterrupt`, so that code which stops on Ctrl-C still does."""

    def __init__(self, stored: int, run_id: int) -> None:
        super().__init__(f"interrupted after {stored} articles were committed (run {run_id})")
        self.stored = stored
        self.run_id = run_id
