"""HTML to article text: fragments (feed items, ninjs bodies) by lxml, whole pages by trafilatura."""

from __future__ import annotations

from typing import Any

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption", "td")


def html_to_paragraphs(fragment: str) -> str:
    """Visible text of an HTML fragment, one paragraph per block element, blank-line separated.

    >>> html_to_paragraphs("<p>One <b>bold</b> claim.</p><ul><li>Two</li></ul>")
    'One bold claim.\\n\\nTwo'
    """
    import lxml.html

    if not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in root.xpath(".//script|.//style|.//noscript"):
        bad.drop_tree()
    for br in root.iter("br"):  # a line break separates words: "the<br/>fire" is two
        br.tail = " " + (br.tail or "")
    blocks = [el for el in root.iter(*_BLOCKS) if not any(a.tag in _BLOCKS for a in el.iterancestors())]
    texts = (
        [" ".join(el.text_content().split()) for el in blocks]
        if blocks
        else [" ".join(root.text_content().split())]
    )
    return "\n\n".join(t for t in texts if t)


PAGE_SETTINGS: dict[str, Any] = {
    "favor_precision": True,
    "include_tables": False,
    "include_comments": False,
    "include_images": False,
    "include_links": False,
}
"""trafilatura's options for news pages: precision first (navigation menus, link lists and
infobox tables left out; `scripts/bench_realworld.py` shows the effect per file), since a
menu shared by every page of a site would pair them all as copies."""


def page_fields(page: bytes | str, url: str) -> dict[str, Any] | None:
    """Main text and metadata of an HTML page (trafilatura, which decodes bytes by the
    page's own declaration), or None when it has none."""
    import trafilatura

    doc = trafilatura.bare_extraction(page, url=url or None, with_metadata=True, **PAGE_SETTINGS)
    if doc is None:
        return None
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    text = get("text") or ""
    if not text.strip():
        return None
    return {k: v for k, v in {
        "id": url or get("url"), "url": url or get("url"), "title": get("title"), "byline": get("author"),
        "published": get("date"), "source": get("sitename"), "body": text.replace("\n", "\n\n"),
    }.items() if v}  # fmt: skip
