"""What every command shares: the app, the common options, messages on stderr, the
error-to-exit-code mapping (`_cli_errors`) and the progress bars."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from dedup.errors import BusyError, DedupError, Interrupted
from dedup.fingerprint import IndexConfig
from dedup.report.output import FORMATS, set_width
from dedup.store import is_interrupt

app = typer.Typer(
    name="dedup",
    help="Find who copied whom among news articles, down to the paragraph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
"""Messages: never parsed as Rich markup, since they quote data ("[/x]" in a title or path)."""


def _hint(message: str, settings: Settings) -> None:
    """A hint on stderr (what to do next), unless `--quiet`."""
    if not settings.quiet:
        err.print(Text.assemble(("hint:", "yellow"), " ", message))


def _error(message: str) -> None:
    """One error line on stderr, `error:` in red, the message as it is."""
    err.print(Text.assemble(("error:", "red"), " ", message))


DEFAULT_DB = Path("dedup.duckdb")
EXIT_BUSY = 75
"""Another dedup process holds the database: try again later (sysexits' EX_TEMPFAIL)."""
INTERRUPTED = "interrupted: what was not yet committed was rolled back; run the same command again to finish"
DEMO_FEED = Path(__file__).resolve().parents[2] / "data" / "demo_feed.jsonl"
DEMO_DB = Path("demo.duckdb")


@dataclass
class Settings:
    db: Path
    quiet: bool


def _check_format(value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}")
    return value


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Database file (overrides the global --db).", show_default=False),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="Output: table|json|jsonl|csv (default: table on a terminal, json when piped).",
        callback=_check_format,
        show_default=False,
    ),
]
WindowOption = Annotated[
    float | None,
    typer.Option("--window", help="Ignore pairs published more than DAYS apart.", metavar="DAYS"),
]
MaxBucketOption = Annotated[
    int,
    typer.Option("--max-bucket", help="Only the first N articles of an LSH bucket pair up."),
]
SEMANTIC_NEIGHBORS = IndexConfig().semantic_neighbors
SemanticOption = Annotated[
    int,
    typer.Option(
        "--semantic-neighbors",
        min=0,
        metavar="N",
        help="Pair each article no lexical candidate pairs with its N nearest ledes (needs the model; 0: off).",
    ),
]
DeviceOption = Annotated[str, typer.Option("--device", help="Where the embedding model runs: cpu or cuda.")]
_flag = functools.partial(typer.Option, metavar="")
"""An on/off option: shown without a `<bool>` value in --help, since it takes none."""
QuietOption = Annotated[bool, _flag("--quiet", "-q", help="No progress or messages on stderr.")]
DEFAULT_WAIT = 300.0
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="While readers (dedup serve) hold the database, wait this long for them (they stop coming).",
    ),
]


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[Path, typer.Option("--db", envvar="DEDUP_DB", help="Database file.")] = DEFAULT_DB,
    quiet: QuietOption = False,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            min=20,
            metavar="COLUMNS",
            help="Fit tables to this width (default: $COLUMNS, the terminal's).",
        ),
    ] = None,
) -> None:
    """Find who copied whom among news articles, down to the paragraph."""
    set_width(width)
    ctx.obj = Settings(db=db, quiet=quiet)


def _settings(ctx: typer.Context, db: Path | None, quiet: bool = False) -> Settings:
    base = ctx.obj if isinstance(ctx.obj, Settings) else Settings(DEFAULT_DB, False)
    return Settings(db=db or base.db, quiet=quiet or base.quiet)


@contextmanager
def _cli_errors() -> Iterator[None]:
    """Library errors become one line on stderr and exit 1; Ctrl-C exits 130."""
    try:
        yield
    except BusyError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_BUSY) from None
    except DedupError as exc:
        _error(str(exc))
        raise typer.Exit(1) from None
    except Interrupted as stop:
        err.print(
            f"interrupted: {stop.stored:,} articles of this run were committed and stay; "
            "run the same command again to continue (stored articles are skipped, the rest read, "
            "and everything analysed)"
        )
        raise typer.Exit(130) from None
    except KeyboardInterrupt:
        err.print(INTERRUPTED)
        raise typer.Exit(130) from None
    except Exception as exc:
        if not is_interrupt(exc):  # Ctrl-C inside a DuckDB query
            raise
        err.print(INTERRUPTED)
        raise typer.Exit(130) from None


class _Bars:
    """Progress on a terminal, a bar per stage (counts or megabytes, a rate, elapsed time);
    nothing when stderr is piped or `--quiet`. `step(stage, done, total)` is the pipeline's
    `Steps`; `read(n)` adds bytes read to the "reading" bar."""

    def __init__(self, quiet: bool, read_total: int = 0) -> None:
        self.bar = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=err,
            disable=quiet or not err.is_terminal,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.read_bytes = 0
        self.read_total = read_total

    def step(self, name: str, done: int, total: int) -> None:
        elapsed = self._task(name, total)
        rate = f"{done / elapsed:,.0f}/s" if elapsed > 0.5 and done else ""
        count = f"{done:,}/{total:,}" if total else ""
        self.bar.update(self.tasks[name], completed=done, total=total or None, count=count, rate=rate)

    def read(self, n: int) -> None:
        self.read_bytes += n
        elapsed = self._task("reading", self.read_total)
        mb, total = self.read_bytes / 1e6, self.read_total / 1e6
        rate = f"{mb / elapsed:,.1f} MB/s" if elapsed > 0.5 else ""
        count = f"{mb:,.1f}/{total:,.1f} MB" if total else f"{mb:,.1f} MB"
        self.bar.update(self.tasks["reading"], completed=self.read_bytes, count=count, rate=rate)

    def _task(self, name: str, total: int) -> float:
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(name, total=total or None, count="", rate="")
            self.started[name] = time.perf_counter()
        return time.perf_counter() - self.started[name]


@contextmanager
def _steps(quiet: bool, read_total: int = 0) -> Iterator[_Bars]:
    """The bars of one command, shown while the block runs (`read_total`: input bytes)."""
    bars = _Bars(quiet, read_total)
    with bars.bar:
        yield bars


def main() -> None:
    """Console-script entry point."""
    # Keep tokenizers and torch from oversubscribing the two cores we usually have.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app(prog_name="dedup")
