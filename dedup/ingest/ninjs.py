"""IPTC ninjs (News in JSON) 1.x, 2.x and 3.x items to canonical fields (pure).

1.x has `headline`, `body_text` / `body_html` / `body_xhtml`, `description_text` /
`description_html`, `byline`, `located`; 2.x has lists `headlines`, `bodies`,
`descriptions` (each item a `role`, a `contenttype` and a `value`) and `by`; 3.0 spells the
same names in camelCase (`contentType`, `versionCreated`, `copyrightHolder`). A picture
item has no body: it is stored title-only (or with its description as a summary).
"""

from __future__ import annotations

from typing import Any

from dedup.ingest.markup import html_to_paragraphs

_NINJS_ONLY = {
    "body_html", "body_text", "body_xhtml", "bodies", "headlines", "descriptions", "versioncreated",
    "versionCreated", "firstcreated", "firstCreated", "copyrightholder", "copyrightHolder", "pubstatus",
}  # fmt: skip
_KNOWN = _NINJS_ONLY | {
    "uri", "guid", "headline", "byline", "by", "located", "description_text", "description_html",
}  # fmt: skip
# roles of a body or headline that are the story itself ("" = no role given): "text" and
# "xhtml" name renderings of one body (ninjs 3.0's examples), not different texts
_MAIN_ROLES = {"main", "body", "text", "", "html", "xhtml", "default", "plain"}


def looks_like_ninjs(data: dict[str, Any]) -> bool:
    """A ninjs item: an identifier (`uri` or Superdesk's `guid`) and a key only ninjs has."""
    keys = set(data)
    return bool(keys & {"uri", "guid"}) and bool(keys & (_NINJS_ONLY | {"headline"}))


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _first(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if _present(data.get(name)):
            return data[name]
    return None


def _role_rank(item: dict[str, Any]) -> int:
    """0 for the story's own text, 1 for another role (a teaser, a summary, a subtitle)."""
    return 0 if str(item.get("role") or "").casefold() in _MAIN_ROLES else 1


def _as_text(value: Any, content_type: str) -> str:
    text = str(value)
    return (
        html_to_paragraphs(text)
        if "html" in content_type.casefold() or text.lstrip().startswith("<")
        else text
    )


def _best_rendering(items: Any) -> str | None:
    """The text of the best of 2.x/3.x `bodies` (or `descriptions`): the main role first;
    among its renderings the one with more paragraphs (a plain rendering is often one run
    of text where the HTML one keeps the paragraphs), plain text on a tie."""
    if not isinstance(items, list):
        return None
    usable = [b for b in items if isinstance(b, dict) and _present(b.get("value"))]
    if not usable:
        return None
    best_role = min(_role_rank(b) for b in usable)
    texts = []
    for b in usable:
        if _role_rank(b) != best_role:
            continue
        kind = str(b.get("contenttype", b.get("contentType", "")))
        texts.append((_as_text(b["value"], kind), "html" not in kind.casefold()))
    texts = [(t, plain) for t, plain in texts if t.strip()]
    if not texts:
        return None
    return max(texts, key=lambda tp: (tp[0].count("\n\n"), tp[1]))[0]


def _headline(data: dict[str, Any]) -> Any:
    title = _first(data, "headline")
    if title is None and isinstance(data.get("headlines"), list):
        ranked = sorted(
            (h for h in data["headlines"] if isinstance(h, dict) and _present(h.get("value"))), key=_role_rank
        )
        title = ranked[0]["value"] if ranked else None
    return title


def ninjs_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields (`id`, `title`, `body`, `byline`, `published`, `source`, `dateline`,
    `_summary`) of a ninjs item; its other keys are kept as they are."""
    body = _first(data, "body_text")
    if body is None and _first(data, "body_xhtml", "body_html"):
        body = html_to_paragraphs(str(_first(data, "body_xhtml", "body_html"))) or None
    if body is None:
        body = _best_rendering(data.get("bodies"))
    summary = False
    if body is None:
        description = _first(data, "description_text")
        if description is None and _first(data, "description_html"):
            description = html_to_paragraphs(str(data["description_html"])) or None
        if description is None:
            description = _best_rendering(data.get("descriptions"))
        body, summary = description, description is not None
    out: dict[str, Any] = {
        "id": _first(data, "uri", "guid", "id"),
        "title": _headline(data),
        "body": body,
        "byline": _first(data, "byline", "by"),
        "published": _first(data, "versioncreated", "versionCreated", "firstcreated", "firstCreated"),
        "source": _first(data, "copyrightholder", "copyrightHolder"),
        "dateline": _first(data, "located"),
    }
    if summary:
        out["_summary"] = True
    out.update({k: v for k, v in data.items() if k not in _KNOWN and k not in out})
    if out.get("source") is None and _present(data.get("source")):
        out["source"] = data["source"]  # Superdesk's "source": "AAP" when no copyright holder
    return {k: v for k, v in out.items() if v is not None}
