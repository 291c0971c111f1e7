"""The commands that write: ingest, import-results, index, prune, compact."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from dedup.cli.common import (
    DEFAULT_WAIT,
    SEMANTIC_NEIGHBORS,
    DbOption,
    DeviceOption,
    FormatOption,
    MaxBucketOption,
    QuietOption,
    SemanticOption,
    Settings,
    WaitOption,
    WindowOption,
    _cli_errors,
    _error,
    _flag,
    _settings,
    _steps,
    app,
    err,
)
from dedup.errors import DedupError
from dedup.fingerprint import MAX_BUCKET, IndexConfig
from dedup.ingest import FORMATS as FORMATS_IN
from dedup.ingest import MAX_CHARS, FieldMap, input_size, is_unreadable, refuse_special
from dedup.model import IndexSummary, IngestSummary, VerifySummary
from dedup.pipeline import IngestOptions, index, ingest
from dedup.report.output import emit_object, resolve_format
from dedup.stages import VerifyOptions
from dedup.store import Store


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
        str,
        typer.Option(
            "--engine", help="local (in-process) or spark (Apache Spark); both add to the database."
        ),
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
    """`dedup ingest --engine spark`: every stage on Spark onto the database (new, or an
    increment of what it holds), then the results imported."""
    try:
        from dedup.engines.spark import SparkOptions, ingest, session
    except ImportError as exc:
        _error(f"--engine spark needs the spark extra: pip install 'dedup[spark]' ({exc})")
        raise typer.Exit(1) from None
    started = time.perf_counter()
    spark_options = SparkOptions(
        fields=options.fields,
        source=options.source,
        max_chars=options.max_chars,
        index_config=options.index_config,
        verify=options.verify,
    )
    with _cli_errors(), Store.open(settings.db) as store:
        spark = session(master)
        try:
            summary, clusters = ingest(store, spark, paths, spark_options)
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
    """Load the tables of a Spark run (`dedup.engines.spark.run`) into the database it was
    computed for (a new one, or the one it adds to) and trace provenance, so that every
    listing command works on them."""
    from dedup.finish import import_results

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


@app.command("compact")
def compact_command(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", metavar="PATH", help="The new, compacted database file.")],
    db: DbOption = None,
    fmt: FormatOption = None,
    quiet: QuietOption = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Write a compacted copy of the database to a new file (after `prune`: DuckDB reuses
    freed space but never shrinks its file). The database itself is not changed; move the
    copy into place while no dedup process has it open."""
    settings = _settings(ctx, db, quiet)
    with _cli_errors(), Store.open(settings.db, wait=wait) as store:
        size = Path(settings.db).stat().st_size
        counts = store.compact_into(to)
    summary = {"to": str(to), "tables": len(counts), "rows": sum(counts.values()),
               "db_mb": round(size / 2**20, 1), "compacted_mb": round(to.stat().st_size / 2**20, 1)}  # fmt: skip
    if not settings.quiet:
        err.print(
            f"wrote {escape(str(to))}: {summary['rows']:,} rows in {summary['tables']} tables, "
            f"{summary['compacted_mb']:,} MB (the database: {summary['db_mb']:,} MB)"
        )
    if fmt:
        emit_object(summary, resolve_format(fmt))
