"""The `dedup` command line: a thin shell over the library (`dedup.pipeline`, `dedup.store`).

Data goes to stdout, progress and messages to stderr. Exit codes: 0 ok, 1 error, 2 usage,
75 the database is in use by another dedup process, 130 interrupted.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from dedup.embed import CachedEmbedder, MiniLMEmbedder
from dedup.errors import BusyError, DedupError, Interrupted
from dedup.fingerprint import MAX_BUCKET, IndexConfig
from dedup.ingest import FORMATS as FORMATS_IN
from dedup.ingest import MAX_CHARS, FieldMap, input_size, is_unreadable, read_article_file, refuse_special
from dedup.model import Article, IndexSummary, IngestSummary, VerifySummary
from dedup.pipeline import IngestOptions, index, ingest
from dedup.report.diff import DiffSide, diff_document, render_html, render_terminal
from dedup.report.output import FORMATS, UNKNOWN_OUTLET, emit, emit_object, resolve_format, set_width
from dedup.score import compare_articles
from dedup.stages import VerifyOptions
from dedup.store import Store, is_interrupt

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
DEMO_FEED = Path(__file__).resolve().parent.parent / "data" / "demo_feed.jsonl"
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


def _print_summary(summary: IngestSummary, seconds: float, quiet: bool) -> None:
    if quiet:
        return
    err.print(
        f"stored {summary.stored:,} articles from {summary.read:,} records in {seconds:.1f}s "
        f"({summary.unchanged:,} unchanged, {summary.new_versions:,} new versions, "
        f"{summary.rejected:,} rejected, {summary.fields_dropped:,} with a field dropped, "
        f"{summary.skipped:,} non-article records skipped)"
    )
    if summary.derived_ids:
        err.print(f"{summary.derived_ids:,} records had no id: derived one from the content (sha-...)")
    if summary.title_only:
        err.print(f"{summary.title_only:,} articles have a title but no body: stored, not compared")
    for note in summary.notes:
        err.print(f"note: {note}", markup=False)
    if summary.index:
        _print_index_summary(summary.index)
    if summary.verify:
        _print_verify_summary(summary.verify)
    for problem in summary.rejects[:10]:
        err.print(f"  {problem.describe()}", markup=False)
    if len(summary.rejects) > 10:
        err.print(f"  ... and {len(summary.rejects) - 10:,} more: see `dedup rejects`")


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files, directories, or - for stdin (gzip/zstd ok).")],
    db: DbOption = None,
    input_format: Annotated[
        str,
        typer.Option(
            "--input-format",
            metavar="FORMAT",
            help=f"auto (sniffs each file's extension and content) or one of: {', '.join(FORMATS_IN)}.",
        ),
    ] = "auto",
    source: Annotated[str, typer.Option("--source", help="Outlet name for records that have none.")] = "",
    strict: Annotated[bool, _flag("--strict", help="Abort on the first bad record; store nothing.")] = False,
    field_map: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN: read an article field from another column (repeatable)."),
    ] = None,
    max_chars: Annotated[
        int, typer.Option("--max-chars", help="Reject bodies longer than this.")
    ] = MAX_CHARS,
    no_index: Annotated[
        bool, _flag("--no-index", help="Store only; fingerprint later with `dedup index`.")
    ] = False,
    window: WindowOption = None,
    max_bucket: MaxBucketOption = MAX_BUCKET,
    semantic: SemanticOption = SEMANTIC_NEIGHBORS,
    device: DeviceOption = "cpu",
    no_embed: Annotated[
        bool, _flag("--no-embed", help="Verify lexically only: no model, no paraphrases.")
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Articles per committed batch (a kill loses at most one)."),
    ] = 2000,
    keep_going: Annotated[
        bool,
        _flag("--keep-going", help="Exit 0 even when an input file or folder cannot be read."),
    ] = False,
    wait: WaitOption = DEFAULT_WAIT,
    engine: Annotated[
        str, typer.Option("--engine", help="local (in-process, incremental) or spark (a new database).")
    ] = "local",
    master: Annotated[
        str, typer.Option("--master", help="With --engine spark: local[2], spark://host:7077, ...")
    ] = "local[2]",
    fmt: FormatOption = None,
    quiet: QuietOption = False,
) -> None:
    """Read feed dumps (JSON lines, CSV, ninjs, NITF, RSS/Atom, WARC, HTML, Reuters SGML) into the
    database; find and verify reuse among them. Articles are committed batch by batch: after
    a crash or Ctrl-C, run the same command again and it continues."""
    settings = _settings(ctx, db, quiet)
    try:
        fields = FieldMap.parse(field_map or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--map") from None
    options = IngestOptions(
        input_format=input_format,
        fields=fields,
        source=source,
        strict=strict,
        max_chars=max_chars,
        index=not no_index,
        batch_size=batch_size,
        index_config=IndexConfig(window_days=window, max_bucket=max_bucket, semantic_neighbors=semantic),
        verify=VerifyOptions(device=_device(device), embed=not no_embed),
    )
    if engine not in ("local", "spark"):
        raise typer.BadParameter("choose local or spark", param_hint="--engine")
    if input_format != "auto" and input_format not in FORMATS_IN:
        raise typer.BadParameter(
            f"choose auto or one of {', '.join(FORMATS_IN)}", param_hint="--input-format"
        )
    with _cli_errors():
        refuse_special(paths)  # before the database is locked: a FIFO would block holding it
    if engine == "spark":
        _ingest_spark(settings, paths, options, master)
        return
    started = time.perf_counter()
    with (
        _cli_errors(),
        Store.open(settings.db, wait=wait) as store,
        _steps(settings.quiet, input_size(paths)) as bars,
    ):
        summary = ingest(store, paths, options, progress=bars.read, steps=bars.step)
    _print_summary(summary, time.perf_counter() - started, settings.quiet)
    if fmt:
        emit_object(_summary_dict(summary), resolve_format(fmt))
    _exit_for(summary, keep_going)


def _exit_for(summary: IngestSummary, keep_going: bool) -> None:
    """Exit 1 when a cron job must notice: an input could not be read (unless
    `--keep-going`), or input was given and nothing could be stored."""
    unreadable = [r for r in summary.rejects if is_unreadable(r)]
    if unreadable and keep_going and summary.read == len(unreadable):
        return  # nothing else was given: nothing else to store
    if unreadable and not keep_going:
        err.print(
            f"error: {len(unreadable):,} input{'s' if len(unreadable) > 1 else ''} could not be read "
            f"({escape(unreadable[0].describe())}); what could be read was stored. "
            "--keep-going exits 0 in this case"
        )
        raise typer.Exit(1)
    if summary.stored or summary.unchanged:
        return
    if not summary.read or summary.read == summary.skipped:
        why = "no article in the input" + (
            f" ({summary.skipped:,} records skipped)" if summary.skipped else ""
        )
    else:
        why = f"all {summary.read:,} records were rejected (see `dedup rejects`)"
    err.print(f"error: nothing stored: {why}")
    raise typer.Exit(1)


def _print_index_summary(summary: IndexSummary) -> None:
    err.print(
        f"indexed {summary.indexed:,} articles: {summary.candidates:,} candidate pairs "
        f"({summary.via_exact:,} exact, {summary.via_document:,} by whole article, "
        f"{summary.via_passage:,} by passage)"
    )
    if summary.hot_buckets:
        err.print(f"{summary.hot_buckets:,} over-popular LSH buckets were capped (boilerplate?)")


def _print_verify_summary(summary: VerifySummary) -> None:
    err.print(
        f"verified {summary.pairs:,} pairs: {summary.duplicate:,} duplicate, {summary.rewrite:,} rewrite, "
        f"{summary.partial:,} partial, {summary.none:,} no reuse "
        f"({summary.embedded:,} sentences needed an embedding, {summary.computed:,} computed)"
    )


def _device(value: str) -> str:
    if value not in ("cpu", "cuda") and not value.startswith("cuda:"):
        raise typer.BadParameter("choose cpu or cuda", param_hint="--device")
    return value


def _summary_dict(summary: IngestSummary) -> dict[str, Any]:
    return {
        "run_id": summary.run_id,
        "read": summary.read,
        "stored": summary.stored,
        "unchanged": summary.unchanged,
        "new_versions": summary.new_versions,
        "rejected": summary.rejected,
        "fields_dropped": summary.fields_dropped,
        "skipped": summary.skipped,
        "derived_ids": summary.derived_ids,
        "title_only": summary.title_only,
        "index": dataclasses.asdict(summary.index) if summary.index else None,
        "verify": dataclasses.asdict(summary.verify) if summary.verify else None,
        "problems": [
            {
                "file": r.file,
                "line": r.line,
                "field": r.field,
                "reason": r.reason,
                "action": r.action,
            }
            for r in summary.rejects
        ],
    }


def _ingest_spark(settings: Settings, paths: list[str], options: IngestOptions, master: str) -> None:
    """`dedup ingest --engine spark`: every stage on Spark, then the results imported."""
    try:
        from dedup.engines.spark import SparkOptions, run, session
    except ImportError as exc:
        _error(f"--engine spark needs the spark extra: pip install 'dedup[spark]' ({exc})")
        raise typer.Exit(1) from None
    from dedup.pipeline import import_results

    if settings.db.exists():
        _error(f"{settings.db} exists: --engine spark makes a new database (use --db)")
        raise typer.Exit(1)
    started = time.perf_counter()
    spark = session(master)
    try:
        with tempfile.TemporaryDirectory(prefix="dedup-spark-") as tmp:
            spark_options = SparkOptions(
                fields=options.fields,
                source=options.source,
                max_chars=options.max_chars,
                index_config=options.index_config,
                verify=options.verify,
            )
            summary = run(spark, [str(Path(p).resolve()) for p in paths], Path(tmp), spark_options)
            with _cli_errors(), Store.open(settings.db) as store:
                _, clusters = import_results(store, Path(tmp), options.index_config)
    finally:
        spark.stop()
    if not settings.quiet:
        err.print(
            f"spark ({master}): stored {summary.stored:,} articles from {summary.read:,} records "
            f"({summary.rejected:,} rejected), {summary.candidates:,} candidate pairs, "
            f"{summary.pairs:,} verified, {clusters.clusters:,} clusters, in {time.perf_counter() - started:.1f}s"
        )


@app.command("import-results")
def import_results_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The Parquet tables a Spark run wrote.")],
    db: DbOption = None,
) -> None:
    """Load the tables of a Spark run (`dedup.engines.spark.run`) into a new database and
    build clusters and provenance, so that every listing command works on them."""
    from dedup.pipeline import import_results

    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db) as store:
        run_id, clusters = import_results(store, folder)
    if not settings.quiet:
        err.print(f"imported {folder} as run {run_id}: {clusters.clusters:,} clusters")


@app.command("index")
def index_command(
    ctx: typer.Context,
    db: DbOption = None,
    window: WindowOption = None,
    max_bucket: MaxBucketOption = MAX_BUCKET,
    semantic: SemanticOption = SEMANTIC_NEIGHBORS,
    device: DeviceOption = "cpu",
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Fingerprint articles stored with --no-index, find and verify their candidate pairs."""
    settings = _settings(ctx, db, quiet)
    with _cli_errors(), Store.open(settings.db, wait=wait) as store, _steps(settings.quiet) as bars:
        found, verified = index(
            store,
            IndexConfig(window_days=window, max_bucket=max_bucket, semantic_neighbors=semantic),
            verify=VerifyOptions(device=_device(device)),
            steps=bars.step,
        )
    if not settings.quiet:
        _print_index_summary(found)
        _print_verify_summary(verified)
    if fmt:
        emit_object(
            {"index": dataclasses.asdict(found), "verify": dataclasses.asdict(verified)}, resolve_format(fmt)
        )


@app.command("prune")
def prune_command(
    ctx: typer.Context,
    before: Annotated[
        str | None, typer.Option("--before", metavar="DATE", help="Take articles published before DATE out.")
    ] = None,
    keep_days: Annotated[
        float | None,
        typer.Option(
            "--keep-days", min=0, metavar="N", help="Keep the last N days (before the newest article)."
        ),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Keep the candidate index to a window: articles older than it leave candidate search
    (band keys, passage hashes, lede vectors), so later articles are not paired with them;
    their pairs, clusters and provenance stay."""
    if (before is None) == (keep_days is None):
        raise typer.BadParameter(
            "give one of --before DATE or --keep-days N", param_hint="--before/--keep-days"
        )
    cutoff: datetime | None = None
    if before is not None:
        try:
            cutoff = datetime.fromisoformat(before)
        except ValueError:
            raise typer.BadParameter(f"not an ISO date: {before!r}", param_hint="--before") from None
    settings = _settings(ctx, db, quiet)
    with _cli_errors(), Store.open(settings.db, wait=wait) as store:
        if cutoff is None:
            newest = store.newest_published()
            if newest is None:
                raise DedupError("no article has a publication date: use --before DATE")
            cutoff = newest - timedelta(days=float(keep_days or 0))
        size = Path(settings.db).stat().st_size if Path(settings.db).exists() else 0
        with store.transaction():
            run_id = store.begin_run("prune", {"before": cutoff.isoformat()})
            counts = store.prune_index(cutoff)
            store.finish_run(run_id, {"pruned": counts})
        store.checkpoint()  # the freed blocks are reused by the next writes
    summary = {"before": cutoff.isoformat(), **counts, "db_mb_before": round(size / 2**20, 1),
               "db_mb_after": round(Path(settings.db).stat().st_size / 2**20, 1)}  # fmt: skip
    if not settings.quiet:
        err.print(
            f"pruned the index to articles published from {cutoff:%Y-%m-%d %H:%M} UTC: {counts['articles']:,} "
            f"articles left candidate search ({counts['doc_bands'] + counts['passage_bands']:,} band keys, "
            f"{counts['article_vectors']:,} vectors); their pairs, clusters and provenance stay"
        )
    if fmt:
        emit_object(summary, resolve_format(fmt))


@app.command("candidates")
def candidates_command(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = None,
    article: Annotated[str | None, typer.Option("--article", help="Only pairs with this article id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many.")] = None,
) -> None:
    """Candidate pairs from the LSH index: how each was found, estimated Jaccard and containment."""
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        key = None
        if article is not None:
            key = store.article_key(article)
            if key is None:
                raise typer.BadParameter(f"no article {article!r}", param_hint="--article")
        rows = store.candidate_list(limit=limit, article_key=key)
    emit(rows, resolve_format(fmt), title="candidate pairs")


@app.command("pairs")
def pairs_command(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = None,
    relation: Annotated[
        list[str] | None,
        typer.Option("--relation", help="Only this relation: duplicate|rewrite|partial|none (repeatable)."),
    ] = None,
    min_score: Annotated[float, typer.Option("--min-score", help="Only pairs scoring at least this.")] = 0.0,
    article: Annotated[str | None, typer.Option("--article", help="Only pairs with this article id.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many.")] = None,
) -> None:
    """Verified pairs: relation, score, containment both ways, outlets and dates."""
    settings = _settings(ctx, db)
    relations = relation or ["duplicate", "rewrite", "partial"]
    for r in relations:
        if r not in ("duplicate", "rewrite", "partial", "none"):
            raise typer.BadParameter(f"unknown relation {r!r}", param_hint="--relation")
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        key = _article_key(store, article) if article else None
        rows = store.pair_list(relations=relations, min_score=min_score, article_key=key, limit=limit)
    emit(rows, resolve_format(fmt), title="verified pairs")


def _article_key(store: Store, ref: str) -> int:
    key = store.article_key(ref)
    if key is None:
        raise DedupError(f"no article {ref!r} in {store.path}")
    return key


def _load_side(ref: str, store: Store | None) -> Article:
    """A stored article by id, or a file read as `dedup ingest` reads it (any format:
    a plain-text file's first line is its title)."""
    path = Path(ref)
    if ref == "-" or path.is_file():
        return read_article_file(ref)
    if store is None:
        raise DedupError(f"{ref!r} is neither a file nor an article (no database to look in)")
    return store.load_article(_article_key(store, ref))


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Article id in the database, or a text file.")],
    b: Annotated[str, typer.Argument(help="Article id in the database, or a text file.")],
    db: DbOption = None,
    fmt: FormatOption = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page.")
    ] = None,
    device: DeviceOption = "cpu",
    no_embed: Annotated[bool, _flag("--no-embed", help="Lexical alignment only (no model).")] = False,
) -> None:
    """Two articles sentence by sentence: verbatim, edited, paraphrased, added, removed."""
    settings = _settings(ctx, db)
    with _cli_errors():
        store = Store.open(settings.db, read_only=True) if settings.db.exists() else None
        try:
            left, right = _load_side(a, store), _load_side(b, store)
            embedder = None if no_embed else MiniLMEmbedder(_device(device))
            if embedder is not None and store is not None:
                embedder = CachedEmbedder(embedder, store)  # type: ignore[assignment]
            comparison = compare_articles(left, right, embedder)
        finally:
            if store is not None:
                store.close()
    sides = [
        DiffSide(x.ref, x.title, x.outlet, tuple(x.text_of(s) for s in x.sentences)) for x in (left, right)
    ]
    if html is not None:
        html.write_text(render_html(comparison, *sides), encoding="utf-8")
        err.print(f"wrote {html}")
    out = resolve_format(fmt)
    if out == "table":
        render_terminal(comparison, sides[0], sides[1], Console(markup=False))
    else:
        emit_object(diff_document(comparison, *sides), "json" if out == "csv" else out)


@app.command("clusters")
def clusters_command(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = None,
    min_size: Annotated[int, typer.Option("--min-size", help="Only clusters of at least N articles.")] = 2,
    since: Annotated[str | None, typer.Option("--since", help="Only clusters active since DATE.")] = None,
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="Only clusters with an article from OUTLET.")
    ] = None,
    sort: Annotated[str, typer.Option("--sort", help="size|date")] = "size",
) -> None:
    """Story clusters: an original and its copies, with origin, date span and outlets."""
    if sort not in ("size", "date"):
        raise typer.BadParameter("choose size or date", param_hint="--sort")
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.cluster_list(min_size=min_size, since=since, outlet=outlet, sort=sort)
    emit(rows, resolve_format(fmt), title="story clusters")


@app.command("show")
def show_command(
    ctx: typer.Context,
    cluster_id: Annotated[str, typer.Argument(help="A cluster id from `dedup clusters`.")],
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """One cluster: the origin first, then each copy with relation, score, containment, additions."""
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.cluster_detail(cluster_id)
        if not rows:
            raise DedupError(f"no cluster {cluster_id!r} (see `dedup clusters`)")
    emit(rows, resolve_format(fmt), title=f"cluster {cluster_id}")


SOURCE_STYLES = ("bold cyan", "bold magenta", "bold yellow", "bold green", "bold blue", "bold red")


@app.command("provenance")
def provenance_command(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="Article id.")],
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """An article paragraph by paragraph: which were reused, from which source, and how."""
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.provenance_rows(_article_key(store, article))
    out = resolve_format(fmt)
    if out != "table":
        emit(rows, out)
        return
    console = Console(markup=False)
    styles = _print_provenance(console, rows)
    reused = sum(1 for r in rows if r["source"])
    body = sum(1 for r in rows if r["role"] == "body")
    console.print(f"\n{reused} of {body} body paragraphs reused; sources: {', '.join(styles) or 'none'}")


@app.command("trace")
def trace_command(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(metavar="FILE", help="One article in any input format, or - for stdin.")
    ],
    db: DbOption = None,
    fmt: FormatOption = None,
    input_format: Annotated[
        str,
        typer.Option(
            "--input-format", metavar="FORMAT", help=f"auto (sniffs it) or one of: {', '.join(FORMATS_IN)}."
        ),
    ] = "auto",
    field_map: Annotated[
        list[str] | None, typer.Option("--map", help="FIELD=COLUMN, as for ingest (repeatable).")
    ] = None,
    device: DeviceOption = "cpu",
    no_embed: Annotated[
        bool, _flag("--no-embed", help="Lexical only: no model, no semantic candidates.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            metavar="SECONDS",
            help="While an ingest writes the database, wait this long for it.",
        ),
    ] = DEFAULT_WAIT,
    quiet: QuietOption = False,
) -> None:
    """Where did an article come from? Its paragraphs with their earliest stored sources,
    by the same cascade as ingest, without storing it (read-only: while an ingest writes,
    it waits for the database, up to --wait)."""
    from dedup.trace import TraceOptions, trace

    settings = _settings(ctx, db, quiet)
    try:
        fields = FieldMap.parse(field_map or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--map") from None
    with _cli_errors():
        article = read_article_file(path, fields, input_format=input_format)
        with Store.open(settings.db, read_only=True, wait=wait) as store:
            result = trace(store, article, TraceOptions(embed=not no_embed, device=_device(device)))
    out = resolve_format(fmt)
    if out != "table":
        emit(result.rows, out)
        return
    console = Console(markup=False)
    styles = _print_provenance(console, result.rows)
    reused = sum(1 for r in result.rows if r["source"])
    body = sum(1 for r in result.rows if r["role"] == "body")
    console.print(
        f"\n{reused} of {body} body paragraphs traced to the archive ({result.candidates} candidates, "
        f"{result.linked} sharing text); sources: {', '.join(styles) or 'none'}"
    )


def _shorten(text: str, width: int) -> str:
    """At most `width` characters, cut at a word with an ellipsis.

    >>> _shorten("A freight train derailed near Millbrook", 24)
    'A freight train…'
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:-") + "…"


def _print_provenance(console: Console, rows: list[dict[str, Any]], *, compact: bool = False) -> list[str]:
    """Paragraphs tagged with their source (one colour per source article), numbered from 1
    as on the HTML pages (the JSON's `paragraph` counts from 0); the sources, in order.

    `compact`: the tag and the start of the text on one line (the demo's overview).
    """
    styles: dict[str, str] = {}
    for row in rows:
        if row["source"]:
            style = styles.setdefault(row["source"], SOURCE_STYLES[len(styles) % len(SOURCE_STYLES)])
            wire = row["source_wire"] or row["source_outlet"] or "?"
            if compact:
                tag = Text(f"[{wire} · {row['kind']} · from {row['source']}]", style="bold cyan")
            else:
                label = f"{wire} · {row['kind']} · {row['share']:.0%} · from {row['source']} ¶{row['source_paragraph'] + 1}"
                tag = Text(f"[{label}]", style=style)
        else:
            tag = Text(f"[{row['kind']}]", style="dim")
        if compact:
            console.print(Text(f"¶{row['paragraph'] + 1} ") + tag + Text(f"  {_shorten(row['text'], 90)}"))
        else:
            console.print(Text(f"¶{row['paragraph'] + 1} ") + tag)
            console.print(Text(f"   {row['text']}", style="dim" if row["role"] != "body" else ""))
    return list(styles)


@app.command("sources")
def sources_command(ctx: typer.Context, db: DbOption = None, fmt: FormatOption = None) -> None:
    """Which outlets reuse which wires (or outlets) most: articles, paragraphs, mean share."""
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.source_stats()
        unknown = sum(o["articles"] for o in store.outlet_stats() if not o["outlet"]) if rows else 0
    out = resolve_format(fmt)
    if out == "table":
        rows = [{**r, "source": r["source"] or UNKNOWN_OUTLET} for r in rows]
    emit(rows, out, title="who reuses whom")
    if not rows:
        _hint("no article reuses another's paragraphs yet: see `dedup pairs` and `dedup stats`", settings)
    elif unknown:
        _hint(
            f"{unknown:,} articles have no outlet: name one with `ingest --source NAME` "
            "or map the feed's field with `--map outlet=FIELD`",
            settings,
        )


@app.command("stats")
def stats_command(ctx: typer.Context, db: DbOption = None, fmt: FormatOption = None) -> None:
    """Counts of articles, paragraphs, sentences and rejects, and articles per outlet."""
    settings = _settings(ctx, db)
    out = resolve_format(fmt)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        counts = store.counts()
        outlets = store.outlet_stats()
    if out == "table":
        emit([counts], out, title=f"{settings.db}")
        emit(outlets, out, title="articles per outlet")
    elif out in ("json", "jsonl"):
        emit_object({**counts, "outlets": outlets}, out)
    else:
        emit(outlets, out)


@app.command("rejects")
def rejects_command(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", metavar="KIND", help="Only one action: rejected, dropped, skipped or note."),
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only input files whose path contains this.")
    ] = None,
    run: Annotated[
        int | None, typer.Option("--run", min=1, help="Only this ingest run (see `dedup stats`).")
    ] = None,
) -> None:
    """What ingests recorded: records rejected, fields dropped, records skipped (a WARC's
    non-200 pages, empty files), reader notes; with file, line, field and reason."""
    actions = {"rejected": "rejected", "dropped": "field dropped", "skipped": "skipped", "note": "note"}
    if kind is not None and kind not in actions:
        raise typer.BadParameter(f"choose one of {', '.join(actions)}", param_hint="--kind")
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.reject_list(limit, action=actions.get(kind or ""), file=file, run_id=run)
    emit(rows, resolve_format(fmt), title="rejects")


@app.command("report")
def report_command(
    ctx: typer.Context,
    html: Annotated[Path, typer.Option("--html", help="Folder to write the static HTML report into.")],
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write a static HTML report: cluster index, a page per cluster, per article (paragraphs
    tinted by source) and per linked pair (side-by-side diff). Opens from file://."""
    from dedup.report.site import write_site

    settings = _settings(ctx, db, quiet)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store, _steps(settings.quiet) as bars:
        summary = write_site(store, html, progress=bars.step)
    if not settings.quiet:
        err.print(
            f"wrote {summary.pages:,} pages ({summary.clusters:,} clusters, {summary.articles:,} articles, "
            f"{summary.diffs:,} diffs) to {html}/ in {summary.seconds:.1f}s "
            f"({summary.pages / max(summary.seconds, 1e-9):,.0f} pages/s); open {html / 'index.html'}"
        )


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _host(value: str) -> str:
    """An IP address or a host name to bind, else a usage error (never a traceback)."""
    import ipaddress

    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if _HOSTNAME.match(value):
        return value
    raise typer.BadParameter(f"not an IP address or host name: {value!r}")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    db: DbOption = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback unless you mean it).", callback=_host)
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Browse the database in a web browser: clusters, provenance, diffs, search, a form to
    compare two pasted texts, and JSON under /api (read-only; needs the `web` extra)."""
    settings = _settings(ctx, db)
    try:
        from dedup.web import serve
    except ImportError as exc:
        _error(f"dedup serve needs the web extra: pip install 'dedup[web]' ({exc.name} missing)")
        raise typer.Exit(1) from None
    if not settings.db.exists():
        _error(f"no database at {settings.db}")
        raise typer.Exit(1)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: serving on {host}: anyone who can reach it can read the database")
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    err.print(f"serving {settings.db} on http://{shown}:{port}/ (Ctrl-C to stop)")
    serve(settings.db, host, port)


@app.command("export")
def export_command(
    ctx: typer.Context,
    db: DbOption = None,
    sqlite: Annotated[
        Path | None, typer.Option("--sqlite", help="Write every table to this new SQLite file.")
    ] = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Write one Parquet file per table here.")
    ] = None,
    force: Annotated[bool, _flag("--force", help="Replace an existing SQLite file.")] = False,
) -> None:
    """Export the tables for Datasette, pandas or any SQL tool: SQLite and/or Parquet."""
    from dedup.export import export_parquet, export_sqlite

    settings = _settings(ctx, db)
    if sqlite is None and parquet is None:
        _error("say where: --sqlite FILE and/or --parquet DIR")
        raise typer.Exit(2)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        done: list[tuple[str, Path, dict[str, int]]] = []
        if sqlite is not None:
            done.append(("SQLite", sqlite, export_sqlite(store, sqlite, overwrite=force)))
        if parquet is not None:
            done.append(("Parquet", parquet, export_parquet(store, parquet)))
    for kind, target, counts in done:
        if not settings.quiet:
            err.print(f"wrote {len(counts)} tables ({sum(counts.values()):,} rows) to {target} ({kind})")


@app.command("check")
def check_command(ctx: typer.Context, db: DbOption = None, fmt: FormatOption = None) -> None:
    """Verify the database's invariants (pairs join existing articles, provenance spans lie
    inside paragraphs, clusters agree with pairs, ...); exit 1 if any is broken."""
    settings = _settings(ctx, db)
    with _cli_errors(), Store.open(settings.db, read_only=True) as store:
        rows = store.check()
    emit(rows, resolve_format(fmt), title=f"dedup check {settings.db}")
    broken = [r for r in rows if r["problems"]]
    if broken:
        err.print(Text(f"{len(broken)} of {len(rows)} invariants broken", style="red"))
        raise typer.Exit(1)
    if not settings.quiet:
        err.print(f"all {len(rows)} invariants hold")


@app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    truth_file: Annotated[
        Path, typer.Argument(metavar="TRUTH", help="Truth JSON (e.g. data/demo_truth.json).")
    ],
    db: DbOption = None,
    fmt: FormatOption = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Only the truth's articles of this split (dev or test).")
    ] = None,
) -> None:
    """Compare the database with a labelled truth: pair precision/recall per relation, the
    relation confusion matrix, cluster ARI/AMI/B-cubed, paragraph provenance accuracy and the
    hard-negative false-positive rate."""
    from dedup.evaluate import evaluate, load_truth, restrict
    from dedup.pipeline import prediction

    settings = _settings(ctx, db)
    out = resolve_format(fmt)
    with _cli_errors():
        truth = load_truth(truth_file)
        if split:
            truth = restrict(truth, split)
        with Store.open(settings.db, read_only=True) as store:
            predicted, known = prediction(store)
        result = evaluate(truth, predicted, known).to_dict()
    if result["articles"] and result["missing"] * 2 > result["articles"]:
        _error(
            f"{result['missing']:,} of the {result['articles']:,} articles in {truth_file} are not in "
            f"{settings.db}: scores would describe another corpus (ingest the truth's corpus first)"
        )
        raise typer.Exit(1)
    result = {"truth": str(truth_file), "split": split, **result}
    if out in ("json", "jsonl"):
        emit_object(result, out)
        return
    pairs, prov = result["pairs"], result["provenance"]
    summary = [
        {"metric": "pair precision", "value": pairs["overall"]["precision"]},
        {"metric": "pair recall", "value": pairs["overall"]["recall"]},
        {"metric": "pair F1", "value": pairs["overall"]["f1"]},
        {"metric": "cluster ARI", "value": result["ari"]},
        {"metric": "cluster AMI", "value": result["ami"]},
        {"metric": "B-cubed F1", "value": result["bcubed"]["f1"]},
        {"metric": "provenance: right source", "value": prov["source"]},
        {"metric": "provenance: right wire", "value": prov["wire"]},
        {"metric": "hard-negative FP rate", "value": result["hard_negative_rate"]},
    ]
    title = f"{truth_file}{f' ({split})' if split else ''}: {result['articles']:,} articles"
    if result["missing"]:
        title += f", {result['missing']:,} not in the database"
    emit(summary, out, title=title)
    emit(
        [{"relation": r, **v} for r, v in pairs["per_relation"].items()],
        out,
        title="per relation (truth pairs)",
    )
    columns = ("duplicate", "rewrite", "partial", "none", "cluster", "missed")
    emit(
        [{"truth": r, **{c: row.get(c, 0) for c in columns}} for r, row in pairs["confusion"].items()],
        out,
        title="relation confusion (rows: truth, columns: found)",
    )
    emit(
        [{"pattern": p, "recall": v["recall"]} for p, v in pairs["per_pattern"].items()],
        out,
        title="recall per copy pattern",
    )


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Ingest the bundled demo feed into a fresh ./demo.duckdb (or --db FILE) and show what
    was found: the story clusters and a patchwork article's paragraph sources."""
    settings = _settings(ctx, db)
    if not DEMO_FEED.exists():
        _error(f"the demo feed {DEMO_FEED} is missing (run scripts/make_demo.py)")
        raise typer.Exit(1)
    out = resolve_format(fmt)
    path = Path(db) if db else DEMO_DB
    if not db:
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)  # the demo's own file: start fresh every time
    err.print(f"demo: ingesting {DEMO_FEED.name} into {path}")
    started = time.perf_counter()
    with _cli_errors(), Store.open(path) as store:
        with _steps(settings.quiet, DEMO_FEED.stat().st_size) as bars:
            summary = ingest(store, [str(DEMO_FEED)], IngestOptions(), progress=bars.read, steps=bars.step)
        _print_summary(summary, time.perf_counter() - started, settings.quiet)
        clusters = store.cluster_list()
        example = store.most_mixed_article()
        key = store.article_key(example) if example else None
        provenance = store.provenance_rows(key) if key is not None else []
    if not settings.quiet:
        err.print(
            f"browse it: dedup --db {path} report --html out/  (then open out/index.html)"
            f"\n       or: dedup --db {path} serve  (then open http://127.0.0.1:8000/)\n"
        )
    if out in ("json", "jsonl"):
        emit_object(
            {"clusters": clusters, "provenance": {"article": example, "paragraphs": provenance}},
            out,
        )
        return
    keep = ("cluster_id", "size", "origin", "origin_outlet", "origin_headline")
    emit([{k: c[k] for k in keep} for c in clusters], out, title="story clusters (dedup clusters)")
    if out == "table":
        err.print(
            f"\nthe article with the most sources, paragraph by paragraph (dedup provenance {example}):"
        )
        _print_provenance(Console(markup=False), provenance, compact=True)
    else:
        emit(provenance, out)


def main() -> None:
    """Console-script entry point."""
    # Keep tokenizers and torch from oversubscribing the two cores we usually have.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app(prog_name="dedup")


if __name__ == "__main__":
    main()
