"""The commands that read (and demo, which shows what ingest found)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from dedup.cli.common import (
    DEFAULT_WAIT,
    DEMO_DB,
    DEMO_FEED,
    DbOption,
    DeviceOption,
    FormatOption,
    QuietOption,
    _cli_errors,
    _error,
    _flag,
    _hint,
    _settings,
    _steps,
    app,
    err,
)
from dedup.cli.write import (
    _device,
    _print_summary,
)
from dedup.embed import CachedEmbedder, MiniLMEmbedder
from dedup.errors import DedupError
from dedup.ingest import FORMATS as FORMATS_IN
from dedup.ingest import FieldMap, read_article_file
from dedup.model import Article
from dedup.pipeline import IngestOptions, ingest
from dedup.report.diff import DiffSide, diff_document, render_html, render_terminal
from dedup.report.output import UNKNOWN_OUTLET, emit, emit_object, resolve_format
from dedup.score import compare_articles
from dedup.store import Store


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
    sides = [DiffSide.of(x) for x in (left, right)]
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
