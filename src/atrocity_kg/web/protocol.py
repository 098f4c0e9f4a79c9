"""What the protocol routers (/sparql, /graph-store) share: plain-text errors, the store, and
answers serialised in a worker thread and streamed to the client chunk by chunk.

pyoxigraph's lazy results (QuerySolutions, QueryTriples, quad iterators) may not leave the thread
that made them, and its serialisers write a whole answer to a file-like object in one call. So a
worker thread runs the query, chooses the format and writes into a bounded pipe that the response
drains: memory stays at a few chunks past ``WHOLE_ANSWER_BYTES`` whatever the size of the answer,
and a slow client slows the writer down instead of filling the memory. The first chunk is
awaited before the response starts, so that a failure found early (an unacceptable format, a
failed evaluation) still gets its status.

A user's query is answered the same way from its messages (``relay``), but without a thread when
a worker process answers it: the event loop reads the worker's socket as the client takes the
answer (``sandbox.QueryPool.answer``); ``threaded`` turns a remote store's blocking answer into
the same messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import queue
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.routing import APIRoute

from atrocity_kg.model.negotiation import Format
from atrocity_kg.query.sandbox import ChunkWriter, Emit, End, Failure, Message, Start
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import failures
from atrocity_kg.web.headers import VARY, failure_headers, start_headers

log = logging.getLogger(__name__)

PIPE_DEPTH = 8
WHOLE_ANSWER_BYTES = 1024 * 1024
"""An answer up to this size is sent whole, with its length, once it is all there; a longer one
is streamed, so the server holds at most this much of any answer, and one chunk more. A stream
costs the server a task that watches for the client leaving, and a frame per piece
(docs/operations.md). Up to this size the first byte waits for the last: the time the worker
takes to write a megabyte."""
WRITER_IDLE_SECONDS = 60.0


class _WriterThreads:
    """The threads that write answers into pipes, kept for the next answer when done.

    Starting a thread for each request cost more than a small query's evaluation (the request
    waits for the new thread to start). A writer may block for as long as its client reads, so
    the threads are not a bounded pool: one is started when none is idle, and one idle for
    ``WRITER_IDLE_SECONDS`` ends. Daemon threads, as before: a writer blocked on a pipe never
    holds up the server's exit."""

    def __init__(self, idle_seconds: float = WRITER_IDLE_SECONDS) -> None:
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._became_idle = threading.Condition(self._lock)
        self._alive = 0
        self._idle_seconds = idle_seconds

    def run(self, job: Callable[[], None]) -> None:
        """Run ``job`` in an idle writer thread, or in a new one."""
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            with self._lock:
                self._alive += 1
            inbox = queue.SimpleQueue()
            thread = threading.Thread(
                target=self._serve, args=(inbox,), name="atrocity-kg-writer", daemon=True
            )
            thread.start()
        inbox.put(job)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def wait_idle(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` threads are idle (for tests)."""
        with self._became_idle:
            return self._became_idle.wait_for(lambda: len(self._idle) >= count, timeout)

    def wait_all_idle(self, timeout: float) -> bool:
        """Wait until no thread is writing: every answer written or given up (for tests)."""
        with self._became_idle:
            return self._became_idle.wait_for(lambda: len(self._idle) == self._alive, timeout)

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                job = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        self._alive -= 1
                        return
                job = inbox.get()  # taken from the idle list just now: its job is coming
            try:
                job()
            except Exception:
                log.exception("an answer's writer failed")
            del job  # the answer's store and results, not kept while idle
            with self._lock:
                self._idle.append(inbox)
                self._became_idle.notify_all()


WRITERS = _WriterThreads()
"""The process's writer threads."""


class ProtocolError(Exception):
    """An answer other than 200, given to the client as one line of plain text."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def failure_error(failure: Failure) -> ProtocolError:
    """A query's failure (``sandbox.Failure``) as the answer the client gets."""
    return ProtocolError(failure.status, failure.message, failure_headers(failure))


class PlainErrorRoute(APIRoute):
    """Answers a ProtocolError raised anywhere in the route (dependencies included) as text/plain,
    as the SPARQL Protocol's clients expect a readable message, not a JSON envelope. A subclass
    answers otherwise by overriding ``answer`` (``error_pages.PageErrorRoute``)."""

    def answer(self, request: Request, error: ProtocolError) -> Response:
        return PlainTextResponse(error.message + "\n", error.status, headers=error.headers)

    def get_route_handler(self) -> Handler:
        return _answering_errors(self, super().get_route_handler())


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _answering_errors(route: PlainErrorRoute, handler: Handler) -> Handler:
    """``handler``, with a ProtocolError raised anywhere in it answered by ``route.answer``."""

    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except ProtocolError as error:
            return route.answer(request, error)

    return answered


def serve_plainly(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router``'s routes through plain Starlette routes to the same functions, put in
    front of FastAPI's: the protocol's requests skip FastAPI's dependency machinery, a tenth to
    a quarter of the app's own time on a small query (docs/operations.md), while FastAPI's routes
    stay to describe them in the API's description. Each function must take the request alone,
    as nothing here solves parameters; a ProtocolError is answered as ``PlainErrorRoute`` does.
    Call it before ``app.include_router(router)``: routes are matched in order."""
    for route in router.routes:
        assert isinstance(route, PlainErrorRoute), route
        parameters = list(inspect.signature(route.endpoint).parameters)
        if parameters != ["request"]:
            raise TypeError(f"{route.name} takes {parameters}: a plain route passes the request")
        app.add_route(
            route.path,
            _answering_errors(route, cast(Handler, route.endpoint)),
            methods=sorted(route.methods or ()),
            name=route.name,
            include_in_schema=False,
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused (413) as soon as it passes ``limit`` bytes,
    or before reading when its declared length already does."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"the request body is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ProtocolError(413, f"the request body is over {limit} bytes")
    return bytes(body)


async def get_store(request: Request) -> GraphStore:
    """The store the app opened at start-up (async: FastAPI would run a plain function in its
    thread pool, a hop that costs more than the lookup)."""
    current: GraphStore | None = request.app.state.store
    if current is None:
        raise ProtocolError(503, "the store is not open")
    return current


@dataclass(frozen=True)
class Plan:
    """What the worker decided before writing anything: the format and how to write."""

    fmt: Format
    write: Callable[[IO[bytes]], None]
    headers: Mapping[str, str] = field(default_factory=lambda: dict(VARY))


class _ClosedError(Exception):
    """The response is gone (client disconnected, server stopping): stop writing."""


_END = object()


class _Pipe:
    """Chunks from the worker thread to the event loop, at most PIPE_DEPTH in flight.

    Items sent while an earlier one waits for the loop go with it: a small answer's start, chunk
    and end wake the loop once, not three times."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: asyncio.Queue[object] = asyncio.Queue()
        self._room = threading.Semaphore(PIPE_DEPTH)
        self._closed = threading.Event()
        self._pending: list[object] = []
        self._pending_lock = threading.Lock()

    def send(self, item: object) -> None:
        """From the worker; blocks while the pipe is full, raises _ClosedError once it is closed."""
        while not self._room.acquire(timeout=0.25):
            if self._closed.is_set():
                raise _ClosedError
        if self._closed.is_set():
            raise _ClosedError
        with self._pending_lock:
            self._pending.append(item)
            if len(self._pending) > 1:  # a delivery is on its way to the loop: it takes this
                return
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed
            self._closed.set()
            raise _ClosedError from None

    def _deliver(self) -> None:
        """On the loop: what was sent since the last delivery, in order."""
        with self._pending_lock:
            items, self._pending = self._pending, []
        for item in items:
            self._items.put_nowait(item)

    async def receive(self) -> object:
        item = await self._items.get()
        self._room.release()
        return item

    def close(self) -> None:
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()


@dataclass(frozen=True)
class _Start:
    """What the response needs to start: plain data, safe to hand to the event loop."""

    content_type: str
    headers: Mapping[str, str]


def _detached(error: Exception) -> ProtocolError:
    """A fresh error carrying only the message: the original's traceback holds the worker's
    frames, whose pyoxigraph results must not be dropped on another thread. An unexpected error
    is logged here, in the worker, and the client gets only a reference to that log entry."""
    if isinstance(error, ProtocolError):
        return ProtocolError(error.status, error.message, error.headers)
    reference = failures.report(error, "answering a query")
    return ProtocolError(500, failures.client_message(reference))


def _work(pipe: _Pipe, prepare: Callable[[], Plan], head: bool) -> None:
    """The worker thread: everything that touches pyoxigraph's lazy results happens (and ends)
    here; only bytes, _Start and detached errors cross to the event loop."""
    try:
        try:
            plan = prepare()
        except Exception as error:
            pipe.send(_detached(error))
            return
        pipe.send(_Start(plan.fmt.content_type, dict(plan.headers)))
        if head:
            return
        writer = ChunkWriter(pipe.send)
        try:
            plan.write(cast(IO[bytes], writer))
            writer.flush()
        except Exception as error:
            if not pipe.closed:
                pipe.send(_detached(error))
            return
        pipe.send(_END)
    except _ClosedError:
        return


Piece = _Start | bytes
"""What an answer is made of on the event loop: a ``_Start``, then the body's bytes. A failure
is raised as a ProtocolError: before the start, it is the answer's status; after it, it cuts the
body short."""


async def _in_thread(work: Callable[[_Pipe], None]) -> AsyncGenerator[object, None]:
    """Run ``work`` in a writer thread (from the first item asked for); what it sends down its
    pipe, until ``_END``; a detached error is raised."""
    pipe = _Pipe(asyncio.get_running_loop())
    WRITERS.run(lambda: work(pipe))
    try:
        while (item := await pipe.receive()) is not _END:
            if isinstance(item, ProtocolError):
                raise item
            yield item
    finally:
        pipe.close()


def threaded(
    produce: Callable[[Emit], None], finished: Callable[[], None] = lambda: None
) -> AsyncGenerator[Message, None]:
    """The messages that ``produce`` emits in a writer thread (it blocks: a remote store's
    answer is read with a blocking client), as they come; an unexpected error in it ends them
    with a ProtocolError raised here. ``finished`` is called on the event loop once the thread
    is done with ``produce``, which may be after the messages are closed (a client that left
    stops it at its next message only)."""
    loop = asyncio.get_running_loop()

    def work(pipe: _Pipe) -> None:
        try:
            produce(pipe.send)
            pipe.send(_END)
        except _ClosedError:
            return
        except Exception as error:
            if not pipe.closed:
                with contextlib.suppress(_ClosedError):
                    pipe.send(_detached(error))
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app has stopped
                loop.call_soon_threadsafe(finished)

    return cast(AsyncGenerator[Message, None], _in_thread(work))


async def stream(prepare: Callable[[], Plan], *, head: bool = False) -> Response:
    """Run ``prepare`` and the writing it returns in a worker thread; stream what it writes.

    ``prepare`` may raise ProtocolError (or any error) before writing: that becomes the answer.
    For HEAD, only ``prepare`` runs and the answer carries the headers without a body.
    """
    pieces = cast(AsyncGenerator[Piece, None], _in_thread(lambda pipe: _work(pipe, prepare, head)))
    return await _respond(pieces, head)


async def relay(messages: AsyncGenerator[Message, None], *, head: bool = False) -> Response:
    """Answer with a query's messages (``sandbox``: a ``Start``, ``Chunk`` pieces, an ``End``;
    or a ``Failure``), read on the event loop as the client takes them. ``messages`` is closed
    whatever happens, so that what produces them is let go."""
    return await _respond(_pieces(messages), head)


async def _pieces(messages: AsyncGenerator[Message, None]) -> AsyncGenerator[Piece, None]:
    async with contextlib.aclosing(messages):
        async for message in messages:
            if isinstance(message, Failure):
                raise failure_error(message)
            if isinstance(message, End):
                return
            if isinstance(message, Start):
                yield _Start(message.content_type, start_headers(message))
            else:
                yield message.data


async def _respond(pieces: AsyncGenerator[Piece, None], head: bool) -> Response:
    """The response to an answer's pieces: its headers only for HEAD; a body of at most
    ``WHOLE_ANSWER_BYTES`` sent whole, with its length; a longer one streamed as the client
    takes it."""
    streamed = False
    try:
        start = await anext(pieces)
        assert isinstance(start, _Start), start
        headers = dict(start.headers)
        if head:
            response = Response(status_code=200, headers=headers)
            response.headers["content-type"] = start.content_type
            del response.headers["content-length"]  # unknown without writing the body
            return response
        received: list[bytes] = []
        size = 0
        while size <= WHOLE_ANSWER_BYTES:
            piece = await anext(pieces, None)
            if piece is None:
                # The whole answer is here: sent at once, with its length, not chunked.
                body = b"".join(received)
                return Response(body, media_type=start.content_type, headers=headers)
            assert isinstance(piece, bytes), piece
            received.append(piece)
            size += len(piece)
        streamed = True
        return StreamingResponse(
            _body(pieces, received), media_type=start.content_type, headers=headers
        )
    finally:
        if not streamed:
            await pieces.aclose()


async def _body(pieces: AsyncGenerator[Piece, None], received: list[bytes]) -> AsyncIterator[bytes]:
    """A streamed body: the chunks already received, then the others until the end. An error
    after the status was sent is raised, so that the server closes the connection without the
    final chunk and the client sees the truncation."""
    try:
        for chunk in received:
            yield chunk
        async for piece in pieces:
            assert isinstance(piece, bytes), piece
            yield piece
    finally:
        await pieces.aclose()
