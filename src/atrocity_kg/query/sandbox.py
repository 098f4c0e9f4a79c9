"""Users' queries run where they can be stopped: worker processes that are killed at the limit.

Neither pyoxigraph nor rdflib can cancel a query once it runs, and a thread cannot be killed. So
each query a client sends is evaluated in a worker process reading the current build (opened
read-only on disk, shared with the other processes through the page cache; or its own in-memory
copy with ``store_in_memory``); if it is not finished when its time is up, the process is killed
(SIGKILL) and a fresh one takes its place, while the other workers go on answering.

A query's answer travels as messages (small frozen dataclasses, pickled across a socket pair
and read by the server's event loop: ``QueryPool.answer``), the same whether it was produced in a
worker process or in a thread (for a remote store, which enforces its own limits):

- ``Start`` (the media type, the row limit and whether the answer was cut at it), then
  ``Chunk`` pieces, then ``End``;
- or a ``Failure`` (a status and a message) instead, before or after the start.

Every answer is cut at ``max_rows`` solutions or triples, and a cut answer says so in its
``Start`` (the web layer says it in a header, ``web/headers.py``): the answer is first written as
TSV (SELECT) or N-Triples (CONSTRUCT, DESCRIBE), one solution or triple per line, so counting
lines counts rows, with no Python object per row; then it is parsed and written in the
negotiated format. Nothing here knows HTTP's header names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import pyoxigraph as ox

from atrocity_kg.model.negotiation import (
    BOOLEAN_FORMATS,
    RDF_FORMATS,
    RESULT_FORMATS,
    SPARQL_TSV,
    Format,
    NotAcceptableError,
    UnknownFormatError,
    negotiate,
)
from atrocity_kg.query.allocator import (
    RELEASE_AFTER_IDLE_SECONDS,
    memory_release,
    worker_environment,
)

if TYPE_CHECKING:
    from atrocity_kg.storage.store import GraphStore, QueryAnswer

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
RESTART_DELAY = 5.0
IN_MEMORY = "--in-memory"
"""The worker's argument that makes it copy the build into memory (``store_in_memory``)."""


@dataclass(frozen=True)
class Start:
    """The answer begins: its media type, the row limit it was written under and whether it
    was cut there."""

    content_type: str
    max_rows: int
    truncated: bool = False


@dataclass(frozen=True)
class Chunk:
    """A piece of the answer's body."""

    data: bytes


@dataclass(frozen=True)
class End:
    """The answer is complete."""


@dataclass(frozen=True)
class Failure:
    """No answer, or the end of one cut short: an HTTP status and a message for the client.
    ``negotiated`` says that the failure comes from the format asked for (it varies with
    Accept)."""

    status: int
    message: str
    negotiated: bool = False


@dataclass(frozen=True)
class Ready:
    """A worker process has loaded its store and takes jobs."""


Message = Start | Chunk | End | Failure
Emit = Callable[[Message], None]


@dataclass(frozen=True)
class QueryJob:
    """One query as a worker needs it: plain strings, cheap to send to another process."""

    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union_default_graph: bool = True
    accept: str | None = None
    formats: tuple[str, ...] = ()
    max_rows: int = 100_000
    head: bool = False
    base_iri: str | None = None
    """What the query's relative IRIs resolve against when it has no BASE of its own (the
    endpoint's URL, for a client's query); None leaves them unresolved, so they are refused."""

    def dataset_arguments(self) -> dict[str, Any]:
        if self.default_graphs or self.named_graphs:
            return {
                "default_graph": [ox.NamedNode(iri) for iri in self.default_graphs],
                "named_graphs": [ox.NamedNode(iri) for iri in self.named_graphs],
            }
        return {"use_default_graph_as_union": True} if self.union_default_graph else {}


class QueryStoppedError(Exception):
    """The query ran past its time limit and was stopped."""


# --- writing an answer, wherever it runs ------------------------------------------------------


class _LimitReachedError(Exception):
    """Raised from inside a serialiser once one row more than the limit has been written."""


class _LineCounter:
    """A file for pyoxigraph's line-based serialisers that stops them past ``limit`` lines."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.lines = 0
        self.full = False

    def write(self, data: bytes) -> int:
        self.data += data
        self.lines += data.count(b"\n")
        if self.lines > self.limit:
            self.full = True
            raise _LimitReachedError
        return len(data)

    def flush(self) -> None:
        return None

    def first_lines(self, count: int) -> bytes:
        """The first ``count`` lines, each with its newline."""
        end = -1
        for _ in range(count):
            end = self.data.index(b"\n", end + 1)
        return bytes(self.data[: end + 1])


class ChunkWriter:
    """A binary file for pyoxigraph's serialisers that hands ``send`` CHUNK_SIZE pieces."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK_SIZE:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            self._send(chunk)


def _chunks(emit: Emit) -> ChunkWriter:
    """A writer emitting its pieces as ``Chunk`` messages."""
    return ChunkWriter(lambda chunk: emit(Chunk(chunk)))


def _serialise_limited(write: Callable[[IO[bytes]], object], limit: int) -> tuple[bytes, bool]:
    """Run a line-based serialiser until ``limit`` lines; the lines kept and whether it was cut."""
    counter = _LineCounter(limit)
    try:
        write(cast(IO[bytes], counter))
    except _LimitReachedError:
        pass
    except Exception:
        if not counter.full:
            raise
    if counter.full:
        return counter.first_lines(limit), True
    return bytes(counter.data), False


def _choose(offered: tuple[Format, ...], job: QueryJob) -> Format:
    return negotiate(offered, job.accept, job.formats)


def write_answer(result: QueryAnswer, job: QueryJob, emit: Emit) -> None:
    """Negotiate a format for the query's result and emit the answer, cut at ``job.max_rows``."""
    if isinstance(result, ox.QueryBoolean):
        fmt = _choose(BOOLEAN_FORMATS, job)
        emit(Start(fmt.content_type, job.max_rows))
        if not job.head:
            out = _chunks(emit)
            fmt.write_results(result, out)  # type: ignore[arg-type]
            out.flush()
        return
    if isinstance(result, ox.QuerySolutions):
        fmt = _choose(RESULT_FORMATS, job)
        tsv, cut = _serialise_limited(
            lambda output: result.serialize(output, ox.QueryResultsFormat.TSV), job.max_rows + 1
        )
        emit(Start(fmt.content_type, job.max_rows, cut))
        if job.head:
            return
        out = _chunks(emit)
        if fmt is SPARQL_TSV:
            out.write(tsv)
        else:
            fmt.write_results(ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV), out)  # type: ignore[arg-type]
        out.flush()
        return
    fmt = _choose(RDF_FORMATS, job)
    if isinstance(result, ox.QueryTriples):
        lines, cut = _serialise_limited(
            lambda output: result.serialize(output, ox.RdfFormat.N_TRIPLES), job.max_rows
        )
        triples: Iterator[ox.Triple] = (
            quad.triple for quad in ox.parse(lines, ox.RdfFormat.N_TRIPLES)
        )
    else:  # a remote store's triples, already parsed
        kept: list[ox.Triple] = []
        cut = False
        for triple in result:
            if len(kept) == job.max_rows:
                cut = True
                break
            kept.append(triple)
        triples = iter(kept)
    emit(Start(fmt.content_type, job.max_rows, cut))
    if job.head:
        return
    out = _chunks(emit)
    fmt.write_triples(triples, out)  # type: ignore[arg-type]
    out.flush()


def answer(store: GraphStore, job: QueryJob, emit: Emit) -> None:
    """Evaluate the job on ``store`` and emit its answer; every failure becomes an error message
    (a malformed query is the client's 400; anything else a 500 without internals).

    A failure of ``emit`` itself (the reader is gone) is raised to the caller as it came, neither
    logged nor answered, and never held here: its traceback holds this thread's frames and the
    pyoxigraph results in them, which must be dropped on this thread, not by a log record or a
    reference cycle on another."""
    reader_gone = False

    def delivered(message: Message) -> None:
        nonlocal reader_gone
        try:
            emit(message)
        except BaseException:
            reader_gone = True
            raise

    try:
        try:
            result = store.query(job.text, base_iri=job.base_iri, **job.dataset_arguments())
        except SyntaxError as error:
            emit(Failure(400, f"malformed query: {error}"))
            return
        write_answer(result, job, delivered)
    except NotAcceptableError as error:
        emit(Failure(406, str(error), negotiated=True))
        return
    except UnknownFormatError as error:
        emit(Failure(400, str(error), negotiated=True))
        return
    except OSError as error:
        if reader_gone:
            raise
        log.warning("query failed: %s", str(error))
        emit(Failure(502 if "SERVICE" in job.text.upper() else 500, _failure(error)))
        return
    except Exception as error:  # the worker must answer whatever happens, and go on
        if reader_gone:
            raise
        # As text: a log record holding the exception would hold its frames and their results.
        log.error("query failed\n%s", "".join(traceback.format_exception(error)))
        emit(Failure(500, _failure(error)))
        return
    emit(End())


def _failure(error: Exception) -> str:
    """A failure's message for the client: the kind of error, not the internals."""
    return f"the query could not be evaluated ({type(error).__name__})"


# --- the worker process -----------------------------------------------------------------------


# A message between the server and a worker: its pickle's length (8 bytes, network order), then
# the pickle. Jobs go one way, batches of messages the other.
_LENGTH = struct.Struct("!Q")


def _frame(item: object) -> bytes:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    """``size`` bytes from a blocking socket; None if it closes first."""
    data = bytearray()
    while len(data) < size:
        piece = connection.recv(size - len(data))
        if not piece:
            return None
        data += piece
    return bytes(data)


def _read_frame(connection: socket.socket) -> object | None:
    """The next message from a blocking socket; None once it is closed."""
    header = _read_exactly(connection, _LENGTH.size)
    if header is None:
        return None
    data = _read_exactly(connection, _LENGTH.unpack(header)[0])
    # The server's own pickles, over a socket pair only it and its worker hold.
    return None if data is None else pickle.loads(data)  # noqa: S301


def _next_job(
    connection: socket.socket, idle_seconds: float, when_idle: Callable[[], object]
) -> object | None:
    """The next message from a blocking socket, as ``_read_frame``; if none has begun to come
    within ``idle_seconds``, ``when_idle`` is called first, once, and the wait goes on."""
    waiting = select.poll()
    waiting.register(connection, select.POLLIN)
    if not waiting.poll(int(idle_seconds * 1000)):
        when_idle()
    return _read_frame(connection)


class FrameReader:
    """The messages of a stream (the server's end of a worker's socket), read on the event loop.

    A read cancelled halfway (its client gone) loses nothing: each read takes its bytes only
    once they are all there, and a length read before the cancelled read is kept for the next,
    so the next message read is the one that was being read."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._length: int | None = None

    async def next(self) -> object | None:
        """The next message; None once the stream has ended (the worker stopped, or died)."""
        try:
            if self._length is None:
                self._length = _LENGTH.unpack(await self._reader.readexactly(_LENGTH.size))[0]
            data = await self._reader.readexactly(self._length)
        except (asyncio.IncompleteReadError, OSError):
            return None
        self._length = None
        message: object = pickle.loads(data)  # noqa: S301 (our worker's, over our socket pair)
        return message


def _worker_main(connection: socket.socket, build: str, in_memory: bool = False) -> None:
    """A worker: open the build (read-only on disk, or copied into memory), say so, then answer
    jobs until the socket closes, handing freed memory back when idle (``allocator``).

    A job's messages go back in batches: a small answer (start, its one chunk, end) crosses the
    socket as one message, so the server wakes once per query, not once per message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    from atrocity_kg.storage.store import open_build

    store = open_build(Path(build), in_memory=in_memory)
    release = memory_release()
    connection.sendall(_frame([Ready()]))
    while True:
        try:
            job = _next_job(connection, RELEASE_AFTER_IDLE_SECONDS, release.when_idle)
        except OSError:
            return
        if job is None:
            return
        assert isinstance(job, QueryJob)
        batch: list[Message] = []
        size = 0

        def emit(message: Message) -> None:
            nonlocal batch, size
            batch.append(message)
            if isinstance(message, Chunk):
                size += len(message.data)
            if size >= CHUNK_SIZE or isinstance(message, End | Failure):
                connection.sendall(_frame(batch))
                batch, size = [], 0

        answer(store, job, emit)
        release.after_query()  # after the answer is sent: the client does not wait for it


WORKER_MODULE = "atrocity_kg.query.sandbox"
"""What a worker process runs (``python -m``): its name on the process's command line."""


def worker_processes(parent: int) -> set[int]:
    """The query worker processes that ``parent`` started, found in /proc by their command line
    (Linux; none elsewhere): for those that watch them from outside, the tests and the benchmark."""
    found = set()
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        # The parent's id is the second field after the command's name in parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and WORKER_MODULE.encode() in command:
            found.add(int(entry.name))
    return found


class _Worker:
    """One worker process (``python -m atrocity_kg.query.sandbox``, a fresh interpreter: nothing
    of the server's threads or state comes along) and the server's end of a socket pair to it.

    The server's event loop talks to the worker itself (``connect``, ``send``, ``receive``): no
    thread stands between a request and its worker, so a query's answer wakes the loop once,
    straight from the worker. Only the start (``wait_ready``, in a thread) reads the socket
    blocking."""

    def __init__(self, build: Path, generation: int, *, in_memory: bool = False) -> None:
        ours, theirs = socket.socketpair()
        self.generation = generation
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                WORKER_MODULE,
                str(theirs.fileno()),
                str(build),
                *([IN_MEMORY] if in_memory else []),
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=worker_environment(os.environ),
        )
        theirs.close()
        self._socket = ours
        self._writer: asyncio.StreamWriter | None = None
        self._frames: FrameReader | None = None
        self._deadline: float | None = None
        self._wake_at: float | None = None
        self._retired = False
        self._armed = threading.Condition()
        threading.Thread(target=self._watch, name="atrocity-kg-watchdog", daemon=True).start()

    def _watch(self) -> None:
        """Kill the process when the job it runs is past its deadline, whatever the request
        that reads its answer is doing (waiting for it, or for a slow client).

        The watchdog sleeps until the deadline it last saw (``_wake_at``), then looks again: a
        job's deadline is later than the last one's, so jobs that follow each other arm and
        disarm it without waking it (a wake-up per query cost the query's answer a switch
        between threads); it is woken only for a deadline earlier than its own, or to go."""
        with self._armed:
            while not self._retired:
                if self._deadline is None:
                    self._wake_at = None
                    self._armed.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._wake_at = self._deadline
                    self._armed.wait(remaining)
                    continue
                self._deadline = None
                with contextlib.suppress(OSError):
                    self.process.kill()

    def arm(self, deadline: float | None) -> None:
        """Kill the process at ``deadline`` (monotonic seconds); None: not at all."""
        with self._armed:
            self._deadline = deadline
            if deadline is not None and (self._wake_at is None or deadline < self._wake_at):
                self._armed.notify()

    def wait_ready(self, timeout: float) -> bool:
        """Wait (blocking: in a thread) until the worker has loaded its store."""
        try:
            self._socket.settimeout(timeout)
            ready = _read_frame(self._socket) == [Ready()]
        except OSError:  # the timeout included
            return False
        self._socket.settimeout(None)
        return ready

    async def connect(self) -> bool:
        """Hand the socket to the event loop, once the worker is ready (a first job does);
        False if the worker is gone."""
        if self._writer is None:
            try:
                reader, self._writer = await asyncio.open_connection(sock=self._socket)
            except OSError:
                return False
            self._frames = FrameReader(reader)
        return True

    def send(self, job: QueryJob) -> None:
        """Give the worker a job, at once (the event loop's transport writes it out: a job is
        small, and a worker that died between jobs is found by ``receive``)."""
        assert self._writer is not None, "connect first"
        self._writer.write(_frame(job))

    async def receive(self) -> list[Message] | None:
        """The worker's next batch of messages; None once it is gone (stopped, or died)."""
        assert self._frames is not None, "send a job first"
        return cast(list[Message] | None, await self._frames.next())

    def close(self) -> None:
        """Close the server's end of the socket (on the event loop, which may hold it)."""
        if self._writer is not None:
            self._writer.close()
        else:
            self._socket.close()

    def kill(self) -> None:
        """End the process (blocking: it waits for the process to go)."""
        with self._armed:
            self._retired = True
            self._armed.notify()
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _stopped(timeout: float, timed_out: bool) -> Failure:
    if timed_out:
        message = f"the query was stopped: it ran past this endpoint's time limit of {timeout:g} s"
    else:
        message = "the query's worker process ended unexpectedly; the query was not answered"
    return Failure(503, message)


class BusyError(Exception):
    """No worker is free and too many queries wait already; try again after ``retry_after``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryPool:
    """A fixed number of worker processes; at most one query each; a bounded wait for a free one.

    A worker killed at the time limit is replaced in the background. ``switch_to`` moves to a new
    build: new workers load it, and old ones leave as they finish their query.

    The free worker that last answered takes the next query (a stack, not a queue): its store's
    blocks and its processor's caches are still warm, so queries that come one at a time are
    answered by one warm process instead of each worker in turn (on the pool alone, a 4 ms query
    took 0.4 ms less at the median); queries that come together still use every worker.
    """

    def __init__(
        self,
        build: Path,
        *,
        size: int,
        timeout: float,
        max_waiting: int,
        max_wait: float,
        in_memory: bool = False,
    ) -> None:
        self.size = size
        self.in_memory = in_memory
        self.timeout = timeout
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self._build = build
        self._generation = 0
        self._idle: asyncio.LifoQueue[_Worker] = asyncio.LifoQueue()
        self._waiting = 0
        self._running = 0
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._workers: set[_Worker] = set()
        self._draining: set[asyncio.Task[None]] = set()
        for _ in range(size):
            self._spawn()

    def _spawn(self) -> None:
        """Start a worker; a thread waits for it to load its store, then offers it."""
        worker = _Worker(self._build, self._generation, in_memory=self.in_memory)
        self._workers.add(worker)

        def wait() -> None:
            ready = worker.wait_ready(timeout=600)
            if not ready:
                if not self._closed:
                    log.error("a query worker did not start (exit code %s)", worker.process.poll())
                worker.kill()
                worker.close()  # not yet the event loop's: closed here
                time.sleep(RESTART_DELAY)  # a store that cannot load now may load later
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app has stopped
                self._loop.call_soon_threadsafe(self._offer if ready else self._replace, worker)

        threading.Thread(target=wait, name="atrocity-kg-query-start", daemon=True).start()

    def _offer(self, worker: _Worker) -> None:
        if self._closed or worker.generation != self._generation:
            self._retire(worker)
        else:
            self._idle.put_nowait(worker)

    def _replace(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        if not self._closed and worker.generation == self._generation:
            self._spawn()

    def _retire(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        worker.close()
        threading.Thread(target=worker.kill, daemon=True).start()

    @property
    def running(self) -> int:
        """How many queries hold a worker now. Read-only, for monitoring and for tests, which
        must know that a query has reached a worker before they send the next one."""
        return self._running

    @property
    def waiting(self) -> int:
        """How many queries wait for a free worker now (read-only, like ``running``)."""
        return self._waiting

    @property
    def processes(self) -> list[int]:
        """The process ids of the workers started and not yet retired (read-only, for monitoring
        their memory, and for tests)."""
        return sorted(worker.process.pid for worker in self._workers)

    async def started(self, timeout: float = 300) -> None:
        """Wait until every worker has loaded its store (the server starts answering then)."""
        deadline = time.monotonic() + timeout
        while self._idle.qsize() < self.size and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def acquire(self) -> _Worker:
        """A free worker, waiting at most ``max_wait`` seconds, and only if few others wait."""
        if not self._waiting and not self._idle.empty():
            # Nobody is before us: no timer to set (asyncio.wait_for costs a task per call).
            self._running += 1
            return self._idle.get_nowait()
        if self._idle.empty() and self._waiting >= self.max_waiting:
            raise BusyError(
                f"too many queries are running or waiting ({self.size} running, "
                f"{self._waiting} waiting)",
                retry_after=max(1, round(self.timeout / 10)),
            )
        self._waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout=self.max_wait)
        except TimeoutError:
            raise BusyError(
                f"no query worker became free within {self.max_wait:g} s",
                retry_after=max(1, round(self.timeout / 2)),
            ) from None
        finally:
            self._waiting -= 1
        self._running += 1
        return worker

    def release(self, worker: _Worker, reusable: bool) -> None:
        """Give a worker back (on the event loop); a stopped one is replaced by a fresh one."""
        worker.arm(None)
        self._running -= 1
        if reusable:
            self._offer(worker)
            return
        self._retire(worker)
        if not self._closed and worker.generation == self._generation:
            self._spawn()

    async def answer(self, job: QueryJob) -> AsyncGenerator[Message, None]:
        """Run ``job`` on a free worker and yield its answer's messages, ``Start`` to ``End``
        (or a ``Failure``). Taking the worker comes first and may raise BusyError before any
        message. Past the time limit the watchdog kills the worker, and the answer ends with
        a Failure saying so. A reader that stops early (its client left) leaves the worker to
        finish unread (``_drain``), then to take the next job."""
        worker = await self.acquire()
        deadline = time.monotonic() + self.timeout
        worker.arm(deadline)
        ended = sent = False
        try:
            if not await worker.connect():
                ended = True
                self.release(worker, reusable=False)
                yield _stopped(self.timeout, timed_out=False)
                return
            worker.send(job)
            sent = True
            while not ended:
                batch = await worker.receive()
                if batch is None:
                    ended = True
                    self.release(worker, reusable=False)
                    yield _stopped(self.timeout, time.monotonic() >= deadline - 0.01)
                    return
                for message in batch:
                    if isinstance(message, End | Failure):
                        ended = True
                        self.release(worker, reusable=True)
                    yield message
        finally:
            if not sent and not ended:  # left before the job was sent: the worker has none
                self.release(worker, reusable=True)
            elif not ended:
                drain = self._loop.create_task(self._drain(worker))
                self._draining.add(drain)
                drain.add_done_callback(self._draining.discard)

    async def _drain(self, worker: _Worker) -> None:
        """Read a worker's answer to its end for nobody, then give the worker back (killed at
        its deadline still, if the query runs on)."""
        while True:
            batch = await worker.receive()
            if batch is None:
                self.release(worker, reusable=False)
                return
            if any(isinstance(message, End | Failure) for message in batch):
                self.release(worker, reusable=True)
                return

    def switch_to(self, build: Path, *, in_memory: bool) -> None:
        """Answer from ``build`` from now on (copied into memory or not, as given): start its
        workers, retire the idle old ones."""
        self._build = build
        self.in_memory = in_memory
        self._generation += 1
        while not self._idle.empty():
            self._retire(self._idle.get_nowait())
        for _ in range(self.size):
            self._spawn()

    def close(self) -> None:
        """Stop every worker (on the event loop)."""
        self._closed = True
        for drain in list(self._draining):
            drain.cancel()
        for worker in list(self._workers):
            worker.close()
            worker.kill()
        self._workers.clear()


if __name__ == "__main__":
    # Run as a script this file is ``__main__``; the worker runs the package's own module, so that
    # the messages it pickles name ``atrocity_kg.query.sandbox``'s classes, which the server has.
    from atrocity_kg.query.sandbox import _worker_main as worker_main

    worker_main(
        socket.socket(fileno=int(sys.argv[1])), sys.argv[2], in_memory=IN_MEMORY in sys.argv[3:]
    )
