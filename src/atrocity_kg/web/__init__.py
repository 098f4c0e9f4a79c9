"""The HTTP face: one FastAPI app from a factory taking settings, one router per concern.

In: settings, and the store they name (the embedded build, or a remote SPARQL store). Out: the
app. ``routes/`` answer requests, ``views/`` make what pages show, ``templates/`` lay it out
(one Jinja environment, ``rendering``); the plumbing beside them is shared by every route:
``protocol`` (streamed answers, the store of a request), ``serving`` (the build being served and
its query workers), ``dependencies`` (typed), ``headers``, ``answers`` (OpenAPI), error pages,
failures, the rate limit and the validators of answers for HTTP caches (``caching``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from atrocity_kg import __version__
from atrocity_kg.config import Settings
from atrocity_kg.web import caching, error_pages
from atrocity_kg.web.caching import ConditionalGet
from atrocity_kg.web.headers import ROW_LIMIT, TRUNCATED, HeadAsGet, SecurityHeaders
from atrocity_kg.web.protocol import ProtocolError, serve_plainly
from atrocity_kg.web.ratelimit import RateLimit
from atrocity_kg.web.routes import (
    admin,
    charts,
    compare,
    contributions,
    downloads,
    graph_store,
    linked_data,
    pages,
    quality,
    queries,
    sparql,
    thing_downloads,
)
from atrocity_kg.web.serving import Serving


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; with no settings they are read from the environment (ATROCITY_KG_*)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Open the store once: the embedded one (an in-memory copy of the current build, whose
        dumps are served beside it, and worker processes for users' queries), or a remote
        SPARQL 1.1 store (no dumps served)."""
        app.state.serving = Serving(app, settings)
        await app.state.serving.start()
        try:
            yield
        finally:
            app.state.serving.close()

    app = FastAPI(
        title="atrocity-kg",
        version=__version__,
        description="The open knowledge graph of atrocity-prevention evidence.",
        lifespan=lifespan,
        docs_url=None,  # pages.api_explorer serves /docs without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    # Errors: plain text or FastAPI's JSON for programs, a page of the site for a browser.
    app.add_exception_handler(ProtocolError, error_pages.protocol_error)
    app.add_exception_handler(StarletteHTTPException, error_pages.http_error)
    app.add_exception_handler(RequestValidationError, error_pages.validation_error)
    app.add_exception_handler(Exception, error_pages.unexpected_error)
    serve_plainly(app, sparql.router)  # the protocol's hot path, described by FastAPI's routes
    app.include_router(sparql.router)
    app.include_router(graph_store.router)
    app.include_router(downloads.router)
    app.include_router(queries.catalogue_router(app))
    app.include_router(pages.router)
    app.include_router(compare.router)
    app.include_router(thing_downloads.router)
    app.include_router(charts.router)
    app.include_router(quality.router)
    app.include_router(contributions.public_router)
    app.include_router(linked_data.router)
    if settings.admin_writes:
        # Writes exist only when switched on; otherwise /admin/... is a plain 404.
        admin.install(app)
        app.include_router(contributions.admin_router)
        app.include_router(contributions.curator_router)
    pages.mount_static(app, settings)
    # Innermost: a 304 is still counted by the rate limit and gets the CORS and security headers.
    app.add_middleware(
        ConditionalGet,
        fingerprint=caching.code_fingerprint(settings),
        max_age=settings.cache_max_age,
    )
    app.add_middleware(HeadAsGet)
    if settings.rate_limit_per_minute:
        app.add_middleware(
            RateLimit,
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
        )
    # Everything here is public and read-only: any page may read it, without credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=[TRUNCATED, ROW_LIMIT, "Retry-After"],
    )
    app.add_middleware(SecurityHeaders)
    return app
