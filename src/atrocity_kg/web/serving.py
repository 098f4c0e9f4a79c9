"""What the app serves from: the store it reads, the build whose dumps it offers, and where users'
queries run; replaced whole when an admin write makes a new build."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path

import pyoxigraph as ox
from fastapi import FastAPI

from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from atrocity_kg.query.results import Table, table_from_sparql_json
from atrocity_kg.query.sandbox import (
    BusyError,
    Chunk,
    Failure,
    Message,
    QueryJob,
    QueryPool,
    Start,
    answer,
)
from atrocity_kg.storage import store
from atrocity_kg.storage.remote import RemoteStore
from atrocity_kg.web.headers import start_headers
from atrocity_kg.web.protocol import ProtocolError, failure_error, threaded

SWITCH_ATTEMPTS = 3


class Serving:
    """The store on ``app.state`` and the way users' queries reach it.

    Embedded: the current build, opened read-only on disk or copied into memory (as
    ``store_in_memory`` says: by default, copied when small), for the app's own lookups, and a
    pool of worker processes (``sandbox.QueryPool``) for users' queries, each killed at the time
    limit, each opening the same build the same way: on disk they share the system's page
    cache, not copies. Remote:
    the remote store enforces its own limits; here queries are only counted, so that at most
    ``query_workers`` run at once. ``switch_to`` moves every reader to a new build at once:
    requests that already hold the old store finish on it, later ones get the new one.
    """

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._lock = asyncio.Lock()
        self._following = asyncio.Lock()
        self._pool: QueryPool | None = None
        self._slots = asyncio.Semaphore(settings.query_workers)
        self._waiting = 0
        self._remote_running = 0
        self._remote: RemoteStore | None = None
        if settings.sparql_endpoint:
            self._remote = RemoteStore(
                settings.sparql_endpoint,
                union=settings.remote_union,
                timeout=min(settings.remote_timeout, settings.query_timeout),
            )
            app.state.build, app.state.store = None, self._remote
            return
        build = store.current_path(settings.store_root)
        in_memory = self._copies_into_memory(build)
        self._install(build, store.open_build(build, in_memory=in_memory))
        self._pool = QueryPool(
            build,
            in_memory=in_memory,
            size=settings.query_workers,
            timeout=settings.query_timeout,
            max_waiting=settings.max_queued_queries,
            max_wait=settings.max_queue_wait,
        )

    async def start(self) -> None:
        """Wait for the query workers to load the store, so the first queries do not wait."""
        if self._pool is not None:
            await self._pool.started()

    def _copies_into_memory(self, build: Path) -> bool:
        settings = self._settings
        return store.copies_into_memory(
            build, settings.store_in_memory, settings.store_in_memory_up_to_mb
        )

    @property
    def in_memory(self) -> bool:
        """Whether the build served now was copied into memory (``store_in_memory``)."""
        return self._pool is not None and self._pool.in_memory

    def _install(self, build: Path, opened: ox.Store) -> None:
        self._app.state.build = build
        self._app.state.store = opened

    @property
    def pool(self) -> QueryPool | None:
        """The embedded store's query workers (None for a remote store), whose ``running`` and
        ``waiting`` counts say where users' queries are."""
        return self._pool

    @property
    def running(self) -> int:
        """How many users' queries hold a worker process (embedded) or a remote slot now, for
        monitoring and for tests, which must know when an answer a client left is let go."""
        return self._pool.running if self._pool is not None else self._remote_running

    @property
    def build(self) -> Path | None:
        current: Path | None = self._app.state.build
        return current

    async def switch_to_current(self, root: Path) -> None:
        """Serve the store's current build (after an admin write). Writers may finish in any
        order, so each one switches to whatever is current (never to its own build, which a
        later write may already have replaced), one at a time."""
        async with self._following:
            for attempt in range(SWITCH_ATTEMPTS):
                latest = await asyncio.to_thread(store.current_path, root)
                if latest == self.build:
                    return
                try:
                    await self.switch_to(latest)
                    return
                except StoreError:
                    # Pruned by later writes before it was opened: take the newest again.
                    if attempt == SWITCH_ATTEMPTS - 1:
                        raise

    async def switch_to(self, build: Path) -> None:
        """Serve ``build`` from now on (opened, or copied, off the event loop). Requests that
        hold the old store finish on it, readable even once swept (``store.open_build``)."""
        async with self._lock:
            in_memory = await asyncio.to_thread(self._copies_into_memory, build)
            opened = await asyncio.to_thread(store.open_build, build, in_memory=in_memory)
            self._install(build, opened)
            if self._pool is not None:
                self._pool.switch_to(build, in_memory=in_memory)

    async def answer(self, job: QueryJob) -> AsyncGenerator[Message, None]:
        """Run ``job`` and yield its answer's messages. Waiting for room to run it comes first:
        busy past the limits, a 503 with Retry-After is raised before any message. Embedded, a
        worker process answers, read on the event loop; remote, the remote store, read in a
        writer thread."""
        try:
            if self._pool is not None:
                async with contextlib.aclosing(self._pool.answer(job)) as messages:
                    async for message in messages:
                        yield message
                return
            await self._remote_slot()
        except BusyError as error:
            raise ProtocolError(503, str(error), {"Retry-After": str(error.retry_after)}) from None
        remote = self._remote
        assert remote is not None  # no pool: the app reads a remote store
        self._remote_running += 1

        def finished() -> None:
            self._remote_running -= 1
            self._slots.release()

        # The slot is free again when the thread is done, not when the client is.
        answering = threaded(lambda emit: answer(remote, job, emit), finished)
        async with contextlib.aclosing(answering) as messages:
            async for message in messages:
                yield message

    async def _remote_slot(self) -> None:
        """Take one of ``query_workers`` slots for a query on the remote store, waiting at most
        ``max_queue_wait`` seconds, and only if few others wait."""
        settings = self._settings
        if self._slots.locked() and self._waiting >= settings.max_queued_queries:
            raise BusyError("too many queries are running or waiting", retry_after=1)
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=settings.max_queue_wait)
        except TimeoutError:
            raise BusyError("no query slot became free in time", retry_after=1) from None
        finally:
            self._waiting -= 1

    async def table(self, job: QueryJob) -> tuple[Table, Mapping[str, str]]:
        """Run a SELECT job to the end and read its SPARQL JSON answer as a table, with the
        answer's headers (a cut answer says so there)."""
        headers: Mapping[str, str] = {}
        body = bytearray()
        async with contextlib.aclosing(self.answer(job)) as messages:
            async for message in messages:
                if isinstance(message, Failure):
                    raise failure_error(message)
                if isinstance(message, Start):
                    headers = start_headers(message)
                elif isinstance(message, Chunk):
                    body += message.data
        return table_from_sparql_json(json.loads(body)), headers

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._remote is not None:
            with contextlib.suppress(Exception):
                self._remote.close()
        self._app.state.store = None
