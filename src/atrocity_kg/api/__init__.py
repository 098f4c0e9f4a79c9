"""The HTTP face: one FastAPI app from a factory taking settings, one router per concern."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from atrocity_kg import __version__, store
from atrocity_kg.api import sparql
from atrocity_kg.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; with no settings they are read from the environment (ATROCITY_KG_*)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store.in_memory_copy(settings.store_root)
        yield
        app.state.store = None

    app = FastAPI(
        title="atrocity-kg",
        version=__version__,
        description="The open knowledge graph of atrocity-prevention evidence.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(sparql.router)
    return app
