"""Every real feed file of ../shared/data/realworld/ (and the BBC folder, and the seed
article) through `dedup ingest`, one fresh database each: records seen, stored, skipped and
rejected (with their reasons), notes, and how many stored articles have each field filled.
Then the HTML and WARC pages read with trafilatura's defaults against dedup's precision
settings (`dedup.ingest.markup.PAGE_SETTINGS`): characters, paragraphs, table pipes.

Writes bench/results/realworld.json (with --smoke: a few files, into a temporary folder).

Usage: python3 scripts/bench_realworld.py [--smoke] [--out DIR]
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _bench import BBC_DIR, SHARED, options, print_table, save

from dedup.ingest.markup import PAGE_SETTINGS
from dedup.pipeline import IngestOptions, ingest
from dedup.store import Store

REALWORLD = SHARED / "data" / "realworld"
SEEDS = SHARED / "seeds"
FIELDS = ("title", "published", "outlet", "byline", "wire")


def measure(paths: list[Path], label: str, folder: Path) -> dict[str, Any]:
    """One ingest of `paths` into a new database; what it read, stored and said."""
    db = folder / f"{len(list(folder.iterdir()))}.duckdb"
    started = time.perf_counter()
    with Store.open(db) as store:
        summary = ingest(store, [str(p) for p in paths], IngestOptions(index=False))
        filled = store.con.execute(
            "SELECT count(*), " + ", ".join(f"count(*) FILTER (WHERE coalesce({f}, '') <> '')" for f in FIELDS)
            + " FROM articles"
        ).fetchall()[0]  # fmt: skip
        titled = store.con.execute("SELECT title FROM articles ORDER BY article_key LIMIT 1").fetchall()
        # its length only: the corpora's text stays out of the project's results
    reasons: dict[str, collections.Counter[str]] = {
        a: collections.Counter() for a in ("skipped", "rejected", "note")
    }
    for r in summary.rejects:
        if r.action in reasons:
            # the reason without its URL or numbers, so that like counts with like
            reasons[r.action][r.reason.split(": http")[0].split(" (")[0][:90]] += 1
    return {
        "file": label,
        "records": summary.read,
        "stored": summary.stored + summary.unchanged,
        "skipped": summary.skipped,
        "rejected": summary.rejected,
        "dropped": summary.fields_dropped,
        "notes": len(summary.notes) + sum(reasons["note"].values()),
        **{f: int(filled[i + 1]) for i, f in enumerate(FIELDS)},
        "first_title_chars": len(titled[0][0] or "") if titled else 0,
        "seconds": round(time.perf_counter() - started, 2),
        "reasons": {k: dict(v) for k, v in reasons.items() if v},
        "run_notes": list(summary.notes),
    }


def page_effect(paths: list[Path]) -> list[dict[str, Any]]:
    """trafilatura's defaults against PAGE_SETTINGS on each page (WARC: its 200 responses)."""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    from dedup.ingest.formats import _install_brotli

    _install_brotli()
    rows = []
    for path in paths:
        pages: list[bytes] = []
        if path.suffix == ".warc":
            with path.open("rb") as f:
                for record in ArchiveIterator(f):
                    headers = record.http_headers
                    if (
                        record.rec_type == "response"
                        and headers is not None
                        and headers.get_statuscode() == "200"
                    ):
                        pages.append(record.content_stream().read())
        else:
            pages.append(path.read_bytes())
        for n, page in enumerate(pages, start=1):
            row: dict[str, Any] = {"page": path.name + (f"#{n}" if len(pages) > 1 else "")}
            for name, settings in (("default", {}), ("precision", PAGE_SETTINGS)):
                text = trafilatura.extract(page, **settings) or ""
                row[f"{name}_chars"] = len(text)
                row[f"{name}_paragraphs"] = text.count("\n") + 1 if text else 0
                row[f"{name}_pipes"] = text.count("|")
            rows.append(row)
    return rows


def main() -> None:
    args = options(__doc__)
    if not REALWORLD.exists():
        sys.exit(f"real files not found: {REALWORLD} (set DEDUP_SHARED)")
    files = sorted(p for p in REALWORLD.glob("*/*") if p.name not in ("README.md", "SOURCES.tsv"))
    if args.smoke:
        files = [next(p for p in files if p.parent.name == kind) for kind in ("ninjs", "nitf", "warc", "csv")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-realworld-") as tmp:
        folder = Path(tmp)
        for path in files:
            rows.append(measure([path], f"{path.parent.name}/{path.name}", folder))
            print(rows[-1]["file"], rows[-1]["stored"], rows[-1]["reasons"], flush=True)
        bbc = sorted(BBC_DIR.glob("*/*.txt"))
        if args.smoke:
            smoke_dir = folder / "bbc-sample" / "business"
            smoke_dir.mkdir(parents=True)
            for p in bbc[:40]:
                (smoke_dir / p.name).write_bytes(p.read_bytes())
            rows.append(measure([smoke_dir.parent], "bbc (first 40)", folder))
        elif BBC_DIR.exists():
            rows.append(measure([BBC_DIR], "bbc/ (2,225 .txt)", folder))
        seeds = sorted(SEEDS.glob("*.txt"))
        if seeds:
            rows.append(measure(seeds, "seeds/ (the user's article)", folder))
    pages = page_effect([p for p in files if p.parent.name in ("html", "warc")])
    columns = ["file", "records", "stored", "skipped", "rejected", "dropped", "notes", *FIELDS]
    print_table(rows, columns)
    print()
    print_table(
        pages,
        ["page", "default_chars", "precision_chars", "default_paragraphs", "precision_paragraphs",
         "default_pipes", "precision_pipes"],
    )  # fmt: skip
    totals = {
        "files": len(files),
        "records": sum(r["records"] for r in rows),
        "stored": sum(r["stored"] for r in rows),
        "rejected": sum(r["rejected"] for r in rows),
        "http_errors_skipped": sum(
            n
            for r in rows
            for reason, n in r["reasons"].get("skipped", {}).items()
            if reason.startswith("HTTP")
        ),
    }
    print(
        f"wrote {save('realworld', {'smoke': args.smoke, 'totals': totals, 'files': rows, 'pages': pages}, args)}"
    )


if __name__ == "__main__":
    main()
