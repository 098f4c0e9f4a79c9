"""The one way this app renders a page: one Jinja environment, one base template.

Every HTML answer (the home page, a thing's page, the ontology's documentation, the query
catalogue and its result tables, the dumps, the dataset description, the quality report, error
pages) comes from a template under ``templates/`` that extends ``base.html``, so that each has the
same ``<head>`` (the site's stylesheet, no inline script or style: see headers.py), the same site
header and the same footer. Views pass plain data; templates lay it out, and autoescaping writes
every value as text, so no page is built from strings in Python.

This module imports nothing else from the api package: the routers and the ontology's
documentation import it, never the other way round.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from atrocity_kg import __version__
from atrocity_kg.model.negotiation import parse_accept

STATIC_URL = "/static"
PAGES = ("text/html", "application/xhtml+xml")


def size_text(size: int) -> str:
    """A file's size as a person reads it: KiB below a mebibyte, else MiB with one decimal."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def thousands(number: int | str) -> str:
    """A count with thousands separated by a thin space (12 345), as the site writes them."""
    return f"{int(number):,}".replace(",", "\u202f")


def file_name(path: str) -> str:
    """The last part of a slash-separated path."""
    return path.rsplit("/", 1)[-1]


FILTERS = {"size": size_text, "thousands": thousands, "file_name": file_name}


@functools.cache
def environment() -> Environment:
    """The app's only Jinja environment, built on first use (its loader imports the api
    package, which may still be loading when this module is imported)."""
    env = Environment(
        loader=PackageLoader("atrocity_kg.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(static_url=STATIC_URL, version=__version__)
    return env


def render(template: str, /, **values: Any) -> str:
    """A page from the site's templates; every value is escaped by the engine (autoescape)."""
    return environment().get_template(template).render(**values)


def page(
    template: str,
    /,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A rendered page as the HTML answer (``text/html; charset=utf-8``)."""
    return HTMLResponse(render(template, **values), status_code, headers=dict(headers or {}))


def wants_page(accept: str | None) -> bool:
    """Does the client ask for a page for people? Only when its Accept header names HTML (or
    XHTML) and prefers it to every other media type it names: a browser. Wildcards do not count,
    so ``*/*`` alone (curl, httpx, SPARQL clients) is a program, which keeps getting the
    answer's usual form, and so is a client naming its own type above HTML."""
    if accept is None or "html" not in accept.lower():
        return False
    page, other = 0.0, 0.0
    for media_range in parse_accept(accept):
        if media_range.specificity < 2:
            continue
        if f"{media_range.type}/{media_range.subtype}" in PAGES:
            page = max(page, media_range.quality)
        else:
            other = max(other, media_range.quality)
    return page > 0.0 and page >= other
