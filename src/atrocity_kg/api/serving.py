"""What the app serves from: the store it reads, the build whose dumps it offers, and the worker
processes that run users' queries; replaced whole when an admin write makes a new build."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI

from atrocity_kg import store


class Serving:
    """The embedded store's current build, held on ``app.state``.

    ``switch_to`` moves every reader to a new build at once: requests that already hold the old
    store finish on it, later ones get the new one.
    """

    def __init__(self, app: FastAPI, build: Path) -> None:
        self._app = app
        self._lock = asyncio.Lock()
        self._install(build, store.copy_of_build(build))

    def _install(self, build: Path, memory: store.ox.Store) -> None:
        self._app.state.build = build
        self._app.state.store = memory

    @property
    def build(self) -> Path:
        current: Path = self._app.state.build
        return current

    async def switch_to(self, build: Path) -> None:
        """Serve ``build`` from now on (its in-memory copy is made off the event loop)."""
        async with self._lock:
            memory = await asyncio.to_thread(store.copy_of_build, build)
            self._install(build, memory)

    def close(self) -> None:
        self._app.state.store = None
