"""Side-by-side sentence diff of two articles: terminal (rich), JSON, and a self-contained HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dedup.model import Alignment, Article, Comparison, Edit
from dedup.report.output import outlet_label, utc_minute

KIND_LABEL = {
    "verbatim": "=",
    "edited": "~",
    "paraphrase": "≈",
    "removed": "-",
    "added": "+",
}


@dataclass(frozen=True, slots=True)
class DiffSide:
    """One article as the diff shows it."""

    ref: str
    title: str
    outlet: str
    sentences: tuple[str, ...]

    @classmethod
    def of(cls, article: Article, ref: str | None = None) -> DiffSide:
        """An article's side: its ref, title, outlet and sentences (`ref` for a pasted text)."""
        return cls(ref or article.ref, ref or article.title, article.outlet,
                   tuple(article.text_of(s) for s in article.sentences))  # fmt: skip


def diff_document(comparison: Comparison, a: DiffSide, b: DiffSide) -> dict[str, Any]:
    """The JSON form (stable field names, documented in docs/api.md)."""
    matched = [x for x in comparison.alignments if x.a_index is not None and x.b_index is not None]
    return {
        "a": {"id": a.ref, "title": a.title, "outlet": a.outlet},
        "b": {"id": b.ref, "title": b.title, "outlet": b.outlet},
        "relation": comparison.relation,
        "score": comparison.score,
        "containment_a": comparison.containment_a,
        "containment_b": comparison.containment_b,
        "shares": comparison.shares,
        "alignments": [
            {
                "a_index": x.a_index,
                "b_index": x.b_index,
                "kind": x.kind,
                "score": x.score,
                "a_text": a.sentences[x.a_index],  # type: ignore[index]
                "b_text": b.sentences[x.b_index],  # type: ignore[index]
                "edits": [
                    {
                        "op": e.op,
                        "a_start": e.a_start,
                        "a_end": e.a_end,
                        "b_start": e.b_start,
                        "b_end": e.b_end,
                    }
                    for e in x.edits
                ],
            }
            for x in matched
        ],
        "a_only": [
            {"index": x.a_index, "text": a.sentences[x.a_index]}  # type: ignore[index]
            for x in comparison.alignments
            if x.kind == "removed"
        ],
        "b_only": [
            {"index": x.b_index, "text": b.sentences[x.b_index]}  # type: ignore[index]
            for x in comparison.alignments
            if x.kind == "added"
        ],
    }


def _marked(text: str, edits: Sequence[Edit], side: str, style: str) -> Text:
    out = Text(text)
    for e in edits:
        start, end = (e.a_start, e.a_end) if side == "a" else (e.b_start, e.b_end)
        if end > start:
            out.stylize(style, start, end)
    return out


def _cells(x: Alignment, a: DiffSide, b: DiffSide) -> tuple[Text, Text, Text]:
    a_text = a.sentences[x.a_index] if x.a_index is not None else ""
    b_text = b.sentences[x.b_index] if x.b_index is not None else ""
    if x.kind == "verbatim":
        return Text("="), Text(a_text, style="dim"), Text(b_text, style="dim")
    if x.kind == "edited":
        return (
            Text(f"~{x.score:.2f}", style="yellow"),
            _marked(a_text, x.edits, "a", "bold red"),
            _marked(b_text, x.edits, "b", "bold green"),
        )
    if x.kind == "paraphrase":
        return Text(f"≈{x.score:.2f}", style="cyan"), Text(a_text, style="cyan"), Text(b_text, style="cyan")
    if x.kind == "removed":
        return Text("-", style="red"), Text(a_text, style="red"), Text("")
    return Text("+", style="green"), Text(""), Text(b_text, style="green")


def render_terminal(comparison: Comparison, a: DiffSide, b: DiffSide, console: Console) -> None:
    """Two columns, aligned sentences on one row; edits highlighted inside sentences."""
    header = Text.assemble(
        ("verdict: ", "bold"),
        (comparison.relation, "bold magenta"),
        f"   score {comparison.score:.2f}",
        f"   A in B {comparison.containment_a:.0%}   B in A {comparison.containment_b:.0%}",
    )
    legend = Text("=", style="dim") + Text(" verbatim   ") + Text("~ edited", style="yellow")
    legend += Text("   ") + Text("≈ paraphrase", style="cyan") + Text("   ")
    legend += Text("- only in A", style="red") + Text("   ") + Text("+ only in B", style="green")
    table = Table(show_lines=True, expand=True, header_style="bold")
    table.add_column("", width=6, no_wrap=True)
    table.add_column(f"A  {a.ref}  {outlet_label(a.outlet)}", ratio=1)
    table.add_column(f"B  {b.ref}  {outlet_label(b.outlet)}", ratio=1)
    for x in comparison.alignments:
        table.add_row(*_cells(x, a, b))
    console.print(Panel(Group(header, legend), title="dedup diff", expand=True))
    console.print(table)


ENV = Environment(
    loader=PackageLoader("dedup", "report/templates"), autoescape=select_autoescape(["html", "j2"])
)
ENV.filters["outlet"] = outlet_label
ENV.filters["when"] = lambda value: f"{utc_minute(value)} UTC" if utc_minute(value) else "undated"
"""Every page shows times one way: `YYYY-MM-DD HH:MM UTC`, as the CLI's `(UTC)` columns."""


def _html_pieces(text: str, edits: Sequence[Edit], side: str) -> list[tuple[str, bool]]:
    """(text, changed) runs of a sentence, for the template to wrap changed runs in <mark>."""
    spans = sorted((e.a_start, e.a_end) if side == "a" else (e.b_start, e.b_end) for e in edits)
    pieces, cursor = [], 0
    for start, end in spans:
        if end <= start or start < cursor:
            continue
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:end], True))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    return pieces


def diff_rows(comparison: Comparison, a: DiffSide, b: DiffSide) -> list[dict[str, Any]]:
    """One row per alignment, in reading order, with the changed runs of edited sentences."""
    rows = []
    for x in comparison.alignments:
        a_text = a.sentences[x.a_index] if x.a_index is not None else ""
        b_text = b.sentences[x.b_index] if x.b_index is not None else ""
        rows.append(
            {
                "kind": x.kind,
                "label": KIND_LABEL[x.kind],
                "score": x.score,
                "a_index": x.a_index,
                "b_index": x.b_index,
                "a": _html_pieces(a_text, x.edits, "a") if a_text else [],
                "b": _html_pieces(b_text, x.edits, "b") if b_text else [],
            }
        )
    return rows


def render_html(comparison: Comparison, a: DiffSide, b: DiffSide) -> str:
    """A self-contained page (inline CSS, no scripts, no external resources)."""
    rows = diff_rows(comparison, a, b)
    return ENV.get_template("diff.html.j2").render(c=comparison, a=a, b=b, rows=rows, links=None)
