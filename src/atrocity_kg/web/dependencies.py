"""What a route reads of the app it runs in, as typed FastAPI dependencies: the settings the app
was made with, and what it serves from (``serving.Serving``: the store, its build, the query
workers). A route says in its signature what it needs, and none reads ``request.app.state`` by
hand. (The store itself, which most routes need and some must have, is ``protocol.get_store``.)

Each is async: FastAPI would run a plain function in its thread pool, a hop that costs more than
the lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atrocity_kg.config import Settings
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.protocol import ProtocolError
from atrocity_kg.web.serving import Serving


async def get_settings(request: Request) -> Settings:
    """The settings the app was made with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_serving(request: Request) -> Serving:
    """What the app serves from, once it has started (503 before)."""
    serving: Serving | None = getattr(request.app.state, "serving", None)
    if serving is None:
        raise ProtocolError(503, "the store is not open")
    return serving


async def find_store(request: Request) -> GraphStore | None:
    """The store being served, or None where it is not open: for pages that say so."""
    current: GraphStore | None = getattr(request.app.state, "store", None)
    return current


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServingDep = Annotated[Serving, Depends(get_serving)]
MaybeStore = Annotated[GraphStore | None, Depends(find_store)]
