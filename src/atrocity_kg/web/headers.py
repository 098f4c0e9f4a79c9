"""The web layer's headers: the security headers on every HTTP answer (pages, SPARQL results,
data files, errors), and the headers of negotiated and cut answers.

The security headers come from a pure ASGI middleware that rewrites only the response's start
message. Starlette's BaseHTTPMiddleware would cost a task and a memory stream per request and
would pass streamed answers (SPARQL results, dumps) through its own buffer; this adds nothing to
the body's path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atrocity_kg.query.sandbox import Failure, Start

VARY: dict[str, str] = {"Vary": "Accept"}
"""On every answer whose form the Accept header chose (or could have chosen)."""
TRUNCATED = "Atrocity-KG-Truncated"
"""On an answer cut at the row limit: ``true; rows=N``."""
ROW_LIMIT = "Atrocity-KG-Row-Limit"
"""On every query answer: the row limit it was written under."""
RESULT_FILES = {"text/csv": "sparql-results.csv", "text/tab-separated-values": "sparql-results.tsv"}
"""The file name a SELECT answer in CSV or TSV is saved under."""


def start_headers(start: Start) -> dict[str, str]:
    """The headers of a query's answer (``sandbox.Start``): negotiated, and cut or not."""
    headers = {**VARY, ROW_LIMIT: str(start.max_rows)}
    if start.truncated:
        headers[TRUNCATED] = f"true; rows={start.max_rows}"
    media_type = start.content_type.split(";", 1)[0].strip().lower()
    if media_type in RESULT_FILES:
        # A table a person saves from a browser: name the file (RFC 6266), shown inline still.
        headers["Content-Disposition"] = f'inline; filename="{RESULT_FILES[media_type]}"'
    return headers


def failure_headers(failure: Failure) -> dict[str, str]:
    """The headers of a query's failure (``sandbox.Failure``): Vary where the format chose it."""
    return dict(VARY) if failure.negotiated else {}


# The query editor (YASGUI 4.6.2, pinned by package-lock.json) writes two pieces of inline CSS,
# both fixed strings, allowed here by their hashes instead of 'unsafe-inline':
# - the result table's column resizer adds one <style> element to <head>;
# - the editor's syntax-error tooltip underlines the expected tokens with a style attribute
#   ("text-decoration:underline"), which needs 'unsafe-hashes' to be matched by hash.
# A new editor version with other inline CSS shows up as a CSP violation in the browser test
# (tests/test_pages.py), whose message gives the hash to put here.
EDITOR_RESIZER_STYLE = "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='"
EDITOR_TOOLTIP_STYLE = "'sha256-EntWS0hFrz2vH7susM+dPUxvHlL6sBswmM8K80E5oUk='"

# Every script and stylesheet comes from this server (the editor and the API explorer from
# node_modules, never a CDN); every request a page makes goes back to it. JSON and JSON-LD in
# <script type="application/json"> or "application/ld+json" elements are data blocks, never
# run, so script-src does not apply to them and they need no hash.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {EDITOR_RESIZER_STYLE}",
        f"style-src-attr 'unsafe-hashes' {EDITOR_TOOLTIP_STYLE}",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_RAW_NAMES = frozenset(name for name, _ in _RAW_HEADERS)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response, replacing any value a route set itself,
    so that one policy holds everywhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() not in _RAW_NAMES
                ]
                message["headers"] = kept + _RAW_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD wherever GET is: a route that answers HEAD itself (``/sparql``, the linked data)
    keeps its own answer; for the others (the home page, the catalogue, the dumps' listing ...),
    where the router would say 405, the request is made again as a GET, whose headers are sent
    (uvicorn sends no body for a HEAD request). Link checkers and ``curl -I`` ask this way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def unless_refused(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, unless_refused)
        if refused:
            await self.app({**scope, "method": "GET"}, receive, send)
