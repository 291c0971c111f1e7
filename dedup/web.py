"""`dedup serve`: the report's pages rendered live from the database, search, a paste-two-
texts form, and JSON endpoints mirroring the CLI (extra `web`: Starlette and uvicorn).

Read-only: every request opens the database read-only and closes it again, so an ingest
can run between requests; while a writer holds the file, pages say so (503) instead of
failing. Binds to 127.0.0.1 unless told otherwise. Inputs are bounded (query strings,
pasted texts); a missing cluster or article is a 404 page, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dedup.errors import BusyError, DedupError
from dedup.model import Comparison
from dedup.report.diff import DiffSide, diff_document, diff_rows
from dedup.report.site import (
    Links,
    NotFound,
    article_context,
    cluster_context,
    diff_context,
    index_context,
    render,
)
from dedup.store import Store

MAX_PASTE_CHARS = 200_000
MAX_QUERY_CHARS = 200
LINKS = Links(static=False)


class Busy(DedupError):
    """The database is held by a writer (an ingest); try again when it is done."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def create_app(db: Path, compare: Callable[[str, str], Comparison] | None = None) -> Starlette:
    """The web app over database `db`. `compare` turns two texts into a Comparison (by
    default `dedup.compare` with the embedding model, loaded on first use)."""

    if compare is None:
        from dedup import compare as default_compare

        def compare(a: str, b: str) -> Comparison:
            return default_compare(a, b)

    comparer = compare

    @contextmanager
    def store() -> Iterator[Store]:
        if not db.exists():
            raise NotFound(f"no database at {db}")
        try:
            opened = Store.open(db, read_only=True)
        except BusyError as exc:
            raise Busy(str(exc)) from None
        try:
            yield opened
        finally:
            opened.close()

    def page(template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(render(template, LINKS, **context))

    def query(request: Request, name: str) -> str:
        return request.query_params.get(name, "")[:MAX_QUERY_CHARS].strip()

    def index(request: Request) -> Response:
        with store() as s:
            return page("index.html.j2", **index_context(s))

    def cluster(request: Request) -> Response:
        with store() as s:
            return page("cluster.html.j2", **cluster_context(s, request.path_params["cluster_id"]))

    def article(request: Request) -> Response:
        with store() as s:
            return page("article.html.j2", **article_context(s, request.path_params["ref"]))

    def diff(request: Request) -> Response:
        a, b = query(request, "a"), query(request, "b")
        if not a or not b:
            raise HTTPException(400, "give two article ids: /diff?a=ID&b=ID")
        with store() as s:
            return page("diff.html.j2", **diff_context(s, a, b, _live_compare(s, comparer)))

    def search(request: Request) -> Response:
        params = {k: query(request, k) for k in ("q", "outlet", "since", "until")}
        searched = any(params.values())
        results: list[dict[str, Any]] = []
        if searched:
            with store() as s:
                results = s.search_articles(
                    text=params["q"],
                    outlet=params["outlet"],
                    since=params["since"] or None,
                    until=params["until"] or None,
                    limit=100,
                )
        return page("search.html.j2", results=results, searched=searched, limit=100, **params)

    async def compare_page(request: Request) -> Response:
        context: dict[str, Any] = {"max_chars": MAX_PASTE_CHARS, "a_text": "", "b_text": "", "error": ""}
        if request.method == "GET":
            return page("compare.html.j2", **context)
        declared = int(request.headers.get("content-length") or 0)
        if declared > 4 * MAX_PASTE_CHARS + 1000:
            raise HTTPException(413, f"each text may have at most {MAX_PASTE_CHARS:,} characters")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > 4 * MAX_PASTE_CHARS + 1000:
                raise HTTPException(413, f"each text may have at most {MAX_PASTE_CHARS:,} characters")
        form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        a_text, b_text = form.get("a", [""])[0], form.get("b", [""])[0]
        context.update(a_text=a_text, b_text=b_text)
        if len(a_text) > MAX_PASTE_CHARS or len(b_text) > MAX_PASTE_CHARS:
            context["error"] = f"Each text may have at most {MAX_PASTE_CHARS:,} characters."
            return HTMLResponse(render("compare.html.j2", LINKS, **context), status_code=413)
        if not a_text.strip() or not b_text.strip():
            context["error"] = "Paste a text on both sides."
            return HTMLResponse(render("compare.html.j2", LINKS, **context), status_code=400)
        from dedup import article_from_text

        comparison = comparer(a_text, b_text)
        sides = [
            DiffSide(ref, ref, "", tuple(x.text_of(s) for s in x.sentences))
            for ref, x in (("text A", article_from_text(a_text)), ("text B", article_from_text(b_text)))
        ]
        return page("diff.html.j2", c=comparison, a=sides[0], b=sides[1], rows=diff_rows(comparison, *sides))

    # -- JSON, mirroring the CLI ------------------------------------------------------------
    def api_clusters(request: Request) -> Response:
        with store() as s:
            return JSONResponse(_jsonable(s.cluster_list()))

    def api_cluster(request: Request) -> Response:
        with store() as s:
            members = s.cluster_detail(request.path_params["cluster_id"])
        if not members:
            raise NotFound(f"no cluster {request.path_params['cluster_id']!r} in the database")
        return JSONResponse(_jsonable(members))

    def api_provenance(request: Request) -> Response:
        ref = request.path_params["ref"]
        with store() as s:
            key = s.article_key(ref)
            if key is None:
                raise NotFound(f"no article {ref!r} in the database")
            return JSONResponse(_jsonable(s.provenance_rows(key)))

    def api_diff(request: Request) -> Response:
        a, b = query(request, "a"), query(request, "b")
        if not a or not b:
            raise HTTPException(400, "give two article ids: /api/diff?a=ID&b=ID")
        with store() as s:
            context = diff_context(s, a, b, _live_compare(s, comparer))
        return JSONResponse(_jsonable(diff_document(context["c"], context["a"], context["b"])))

    # -- errors: pages for people, JSON for /api ----------------------------------------------
    def error(request: Request, status: int, heading: str, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        body = render("error.html.j2", LINKS, status=status, heading=heading, message=message)
        return HTMLResponse(body, status_code=status)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(request, 404, "Not found", str(exc) if isinstance(exc, NotFound) else "No such page.")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return await not_found(request, exc)
        return error(request, exc.status_code, f"Error {exc.status_code}", str(exc.detail))

    async def busy(request: Request, exc: Exception) -> Response:
        return error(request, 503, "The database is busy", str(exc))

    async def dedup_error(request: Request, exc: Exception) -> Response:
        return error(request, 400, "Cannot show that", str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error(request, 500, "Something went wrong", "The server could not build this page.")

    routes = [
        Route("/", index),
        Route("/clusters/{cluster_id}", cluster),
        Route("/articles/{ref:path}", article),
        Route("/diff", diff),
        Route("/search", search),
        Route("/compare", compare_page, methods=["GET", "POST"]),
        Route("/api/clusters", api_clusters),
        Route("/api/clusters/{cluster_id}", api_cluster),
        Route("/api/articles/{ref:path}/provenance", api_provenance),
        Route("/api/diff", api_diff),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            NotFound: not_found,
            Busy: busy,
            DedupError: dedup_error,
            HTTPException: http_error,
            500: server_error,
        },
    )


def _live_compare(
    store: Store, comparer: Callable[[str, str], Comparison]
) -> Callable[[int, int], Comparison]:
    """A pair never verified (or judged unrelated) is compared live from the stored texts."""

    def compute(a_key: int, b_key: int) -> Comparison:
        return comparer(store.load_article(a_key).body, store.load_article(b_key).body)

    return compute


def serve(db: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(db), host=host, port=port, log_level="info")


__all__ = ["MAX_PASTE_CHARS", "create_app", "serve"]
