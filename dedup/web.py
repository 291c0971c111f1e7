"""`dedup serve`: the report's pages rendered live from the database, search, a paste-two-
texts form, and JSON endpoints mirroring the CLI (extra `web`: Starlette and uvicorn).

Read-only: every request opens the database read-only and closes it again, so an ingest
can run between requests. A writer announces itself before it asks for the file
(`Store.open`); from then on requests answer 503 "being written" (with `Retry-After`)
without opening it, so that the writer gets the file however busy the server is.

Comparisons of pasted texts (and of pairs never verified) run in a worker process, at
most `COMPARE_QUEUE` at a time; more are refused with 503 and `Retry-After` rather than
queued: pages and `/api` never wait for them. Binds to 127.0.0.1 unless told otherwise.
Inputs are validated (400 with a message) and bounded; a missing cluster or article is a
404 page, never a traceback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
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
from dedup.workers import process_pool

MAX_PASTE_CHARS = 200_000
"""Characters (not bytes) of each pasted text."""
MAX_FORM_BYTES = 2 * 12 * MAX_PASTE_CHARS + 10_000
"""A form's encoded size at most: a character is up to 4 UTF-8 bytes, each up to 3 when
percent-encoded (100,000 CJK characters take 900 KB)."""
MAX_QUERY_CHARS = 200
"""Characters of a search field."""
MAX_ID_CHARS = 100_000
"""Characters of an article id in a query: ids are never cut (a cut id names another)."""
COMPARE_WORKERS = 1
COMPARE_QUEUE = 4
"""Comparisons running or waiting at most; one more is a 503 with `Retry-After`."""
RETRY_AFTER = 5
LINKS = Links(static=False)


class Busy(DedupError):
    """The database is held by a writer (an ingest), or the comparison queue is full; try
    again shortly."""


class Comparer:
    """Comparisons off the event loop: a worker process (the default, `dedup.compare`
    with the model) or a thread (a comparer given to `create_app`), `COMPARE_QUEUE` at most
    in flight."""

    def __init__(self, compare: Callable[[str, str], Comparison] | None) -> None:
        self.compare = compare
        self.slots = threading.BoundedSemaphore(COMPARE_QUEUE)
        self.pool: ProcessPoolExecutor | ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor | ThreadPoolExecutor:
        with self.lock:
            if self.pool is None:
                if self.compare is None:
                    import multiprocessing

                    context = multiprocessing.get_context("spawn")  # the server has threads
                    self.pool = process_pool(COMPARE_WORKERS, context)
                else:
                    self.pool = ThreadPoolExecutor(max_workers=COMPARE_WORKERS)
            return self.pool

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        """Start a job; `Busy` when `COMPARE_QUEUE` are already in flight."""
        if not self.slots.acquire(blocking=False):
            raise Busy(f"{COMPARE_QUEUE} comparisons are running or waiting; try again in a few seconds")
        try:
            future = self._executor().submit(job, *args)
        except BaseException:
            self.slots.release()
            raise
        future.add_done_callback(lambda _: self.slots.release())
        return future

    def run(self, a: str, b: str) -> Comparison:
        """A comparison from a request thread (a synchronous handler)."""
        result: Comparison = self.submit(self.compare or _compare_texts, a, b).result()
        return result

    async def run_async(self, a: str, b: str) -> Comparison:
        """A comparison awaited without blocking the event loop."""
        future = self.submit(self.compare or _compare_texts, a, b)
        result: Comparison = await anyio.to_thread.run_sync(future.result)
        return result

    async def trace_async(self, db: Path, text: str) -> list[dict[str, Any]]:
        """`dedup trace` of a pasted text, off the loop (lexical with a given comparer)."""
        future = self.submit(_trace_text, str(db), text, self.compare is None)
        result: list[dict[str, Any]] = await anyio.to_thread.run_sync(future.result)
        return result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _compare_texts(a: str, b: str) -> Comparison:
    """`dedup.compare` with the model, in a worker process (loaded there once)."""
    from dedup import compare

    return compare(a, b)


def _trace_text(db: str, text: str, embed: bool) -> list[dict[str, Any]]:
    """`dedup.trace` of a pasted text against `db`, in a worker (read-only, yields to a writer)."""
    from dedup.ingest import article_from_paste
    from dedup.trace import TraceOptions, trace

    article = article_from_paste(text)
    with Store.open(db, read_only=True, yield_to_writer=True) as store:
        return trace(store, article, TraceOptions(embed=embed)).rows


def _date(value: str, name: str) -> datetime | None:
    """A date (or date and time) parameter, or a 400 naming it."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: not a date (YYYY-MM-DD): {value[:40]!r}") from None


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

    comparer = Comparer(compare)

    @contextmanager
    def store() -> Iterator[Store]:
        if not db.exists():
            raise NotFound(f"no database at {db}")
        try:
            opened = Store.open(db, read_only=True, yield_to_writer=True)
        except BusyError as exc:
            raise Busy(str(exc)) from None
        try:
            yield opened
        finally:
            opened.close()

    def page(template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(render(template, LINKS, **context))

    def query(request: Request, name: str, limit: int = MAX_QUERY_CHARS) -> str:
        value = request.query_params.get(name, "")
        if len(value) > limit:
            raise HTTPException(400, f"{name}: longer than {limit:,} characters")
        return value.strip()

    def pair(request: Request, route: str) -> tuple[str, str]:
        a, b = query(request, "a", MAX_ID_CHARS), query(request, "b", MAX_ID_CHARS)
        if not a or not b:
            raise HTTPException(400, f"give two article ids: {route}?a=ID&b=ID")
        return a, b

    def page_number(request: Request) -> int:
        value = request.query_params.get("page", "1")
        if not value.isdigit() or not 1 <= int(value) <= 1_000_000:
            raise HTTPException(400, f"page: not a page number: {value[:20]!r}")
        return int(value)

    def index(request: Request) -> Response:
        number = page_number(request)
        with store() as s:
            return page("index.html.j2", **index_context(s, number))

    def cluster(request: Request) -> Response:
        number = page_number(request)
        with store() as s:
            return page("cluster.html.j2", **cluster_context(s, request.path_params["cluster_id"], number))

    def article(request: Request) -> Response:
        with store() as s:
            return page("article.html.j2", **article_context(s, request.path_params["ref"]))

    def diff(request: Request) -> Response:
        a, b = pair(request, "/diff")
        with store() as s:
            return page("diff.html.j2", **diff_context(s, a, b, _live_compare(s, comparer.run)))

    def search(request: Request) -> Response:
        params = {k: query(request, k) for k in ("q", "outlet", "since", "until")}
        since, until = _date(params["since"], "since"), _date(params["until"], "until")
        searched = any(params.values())
        results: list[dict[str, Any]] = []
        if searched:
            with store() as s:
                results = s.search_articles(
                    text=params["q"], outlet=params["outlet"], since=since, until=until, limit=100
                )
        return page("search.html.j2", results=results, searched=searched, limit=100, **params)

    async def compare_page(request: Request) -> Response:
        context: dict[str, Any] = {"max_chars": MAX_PASTE_CHARS, "a_text": "", "b_text": "", "error": ""}
        if request.method == "GET":
            return page("compare.html.j2", **context)
        form = await read_form(request, "each text")
        a_text, b_text = form.get("a", ""), form.get("b", "")
        context.update(a_text=a_text, b_text=b_text)
        if len(a_text) > MAX_PASTE_CHARS or len(b_text) > MAX_PASTE_CHARS:
            context["error"] = f"Each text may have at most {MAX_PASTE_CHARS:,} characters."
            return HTMLResponse(render("compare.html.j2", LINKS, **context), status_code=413)
        if not a_text.strip() or not b_text.strip():
            context["error"] = "Paste a text on both sides."
            return HTMLResponse(render("compare.html.j2", LINKS, **context), status_code=400)
        from dedup import article_from_text

        comparison = await comparer.run_async(a_text, b_text)
        sides = [
            DiffSide.of(x, ref)
            for ref, x in (("text A", article_from_text(a_text)), ("text B", article_from_text(b_text)))
        ]
        return page("diff.html.j2", c=comparison, a=sides[0], b=sides[1], rows=diff_rows(comparison, *sides))

    async def read_form(request: Request, what: str = "a text") -> dict[str, str]:
        """A posted form (or JSON object) of bounded size, decoded; characters are counted
        by the caller (`what` names the texts in the 413's message)."""
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            raise HTTPException(400, "Content-Length: not a number") from None
        if declared > MAX_FORM_BYTES:
            raise HTTPException(413, f"{what} may have at most {MAX_PASTE_CHARS:,} characters")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_FORM_BYTES:
                raise HTTPException(413, f"{what} may have at most {MAX_PASTE_CHARS:,} characters")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(raw.decode("utf-8", errors="replace"))
            except json.JSONDecodeError as exc:
                raise HTTPException(400, f"malformed JSON: {exc.msg}") from None
            if not isinstance(data, dict):
                raise HTTPException(400, 'expected a JSON object: {"text": "..."}')
            return {k: v for k, v in data.items() if isinstance(v, str)}
        form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in form.items()}

    async def trace_page(request: Request) -> Response:
        context: dict[str, Any] = {"max_chars": MAX_PASTE_CHARS, "text": "", "error": "", "rows": None}
        if request.method == "GET":
            return page("trace.html.j2", **context)
        text = (await read_form(request)).get("text", "")
        context["text"] = text
        if len(text) > MAX_PASTE_CHARS:
            context["error"] = f"The text may have at most {MAX_PASTE_CHARS:,} characters."
            return HTMLResponse(render("trace.html.j2", LINKS, **context), status_code=413)
        if not text.strip():
            context["error"] = "Paste an article."
            return HTMLResponse(render("trace.html.j2", LINKS, **context), status_code=400)
        context["rows"] = await comparer.trace_async(db, text)
        context["reused"] = sum(1 for r in context["rows"] if r["source"])
        return page("trace.html.j2", **context)

    async def api_trace(request: Request) -> Response:
        text = (await read_form(request)).get("text", "")
        if len(text) > MAX_PASTE_CHARS:
            raise HTTPException(413, f"a text may have at most {MAX_PASTE_CHARS:,} characters")
        if not text.strip():
            raise HTTPException(400, 'give the article as {"text": "..."} or a form field text')
        return JSONResponse(_jsonable(await comparer.trace_async(db, text)))

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
        a, b = pair(request, "/api/diff")
        with store() as s:
            context = diff_context(s, a, b, _live_compare(s, comparer.run))
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
        response = error(request, 503, "Busy", str(exc))
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

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
        Route("/trace", trace_page, methods=["GET", "POST"]),
        Route("/api/trace", api_trace, methods=["POST"]),
        Route("/api/clusters", api_clusters),
        Route("/api/clusters/{cluster_id}", api_cluster),
        Route("/api/articles/{ref:path}/provenance", api_provenance),
        Route("/api/diff", api_diff),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        comparer.close()

    return Starlette(
        routes=routes,
        lifespan=lifespan,
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
