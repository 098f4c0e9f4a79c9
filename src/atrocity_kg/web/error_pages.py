"""Errors for people: a browser is told what went wrong on a page of the site (``error.html``,
with the site's header and footer and the same words), every other client as before.

Who is a browser is ``rendering.wants_page``: its Accept header names HTML and prefers it to
every other type it names. curl, httpx and SPARQL clients (``*/*``, or their own types) keep the
answers they always had: one line of plain text for the protocol's errors, FastAPI's JSON
``detail`` for the rest. The SPARQL Protocol's own routes (/sparql, /graph-store) always answer
plain text, as its clients expect; the routes for people (pages, dumps, the dataset, linked
data) use ``PageErrorRoute``.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import Request, Response
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException

from atrocity_kg.web import failures, rendering
from atrocity_kg.web.headers import SECURITY_HEADERS
from atrocity_kg.web.protocol import PlainErrorRoute, ProtocolError


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The error as a page: its status, the server's words, and where to go from here."""
    return rendering.page(
        "error.html",
        status,
        headers,
        status=status,
        reason=reason(status),
        message=message.strip(),
        path=request.url.path,
    )


def plain_or_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A page for a browser, else the message as one line of plain text."""
    if rendering.wants_page(request.headers.get("accept")):
        return error_page(request, status, message, headers)
    return PlainTextResponse(message + "\n", status, headers=dict(headers or {}))


class PageErrorRoute(PlainErrorRoute):
    """protocol.PlainErrorRoute for the routes people visit: a ProtocolError raised anywhere in
    the route (dependencies included) is answered as text, or as a page for a browser."""

    def answer(self, request: Request, error: ProtocolError) -> Response:
        return plain_or_page(request, error.status, error.message, error.headers)


async def protocol_error(request: Request, error: Exception) -> Response:
    """A ProtocolError raised outside the protocol's own routes (e.g. the shared store
    dependency in the catalogue router): plain text, or a page for a browser."""
    assert isinstance(error, ProtocolError)
    return plain_or_page(request, error.status, error.message, error.headers)


async def http_error(request: Request, error: Exception) -> Response:
    """FastAPI's and the routes' HTTPExceptions (an unknown path, a method not allowed, a
    catalogue query refused): FastAPI's JSON, or a page for a browser."""
    assert isinstance(error, HTTPException)
    if error.status_code < 400 or not rendering.wants_page(request.headers.get("accept")):
        return await http_exception_handler(request, error)
    return error_page(request, error.status_code, str(error.detail), error.headers)


async def validation_error(request: Request, error: Exception) -> Response:
    """A parameter FastAPI refused (422): its JSON list, or a page naming each one."""
    assert isinstance(error, RequestValidationError)
    if not rendering.wants_page(request.headers.get("accept")):
        return await request_validation_exception_handler(request, error)
    lines = [
        f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg', '')}"
        for problem in error.errors()
    ]
    return error_page(request, 422, "\n".join(lines))


async def unexpected_error(request: Request, error: Exception) -> Response:
    """The app's last resort for an exception no route handled: 500 with a reference (see
    failures.py), as text or, for a browser, a page.

    Starlette answers this from outside every middleware, so the security headers are set here."""
    reference = failures.report(error, f"answering {request.method} {request.url.path}")
    return plain_or_page(request, 500, failures.client_message(reference), SECURITY_HEADERS)
