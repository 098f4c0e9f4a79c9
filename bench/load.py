"""The load test: many clients at once on loopback, asking the catalogue's questions for a while.

The app runs as uvicorn would run it in production (its own process, the store already built,
rate limiting off so that one address may send everything, every other limit at its default).
``clients`` clients each keep one request in flight for ``seconds``: every catalogue query at
/queries/{name} with its default parameters, and the same text sent to /sparql, in turn. Any
answer but 200 (a 503 from the query limits included) and any failed or timed-out request is an
error; the verdict is "no errors". Latency is measured by the client, request sent to answer
read whole.

One failure is not the server's: a request sent on a kept-alive connection just as the server
closes it for being idle (uvicorn closes one after 5 s) meets a closed connection before any
answer. A client may send such a request again on a new connection (RFC 9112, 9.3.1, for
idempotent requests, as browsers do); these clients do so once and count it apart ("retried").
A client that stalls past the keep-alive meets it, and so do some runs whose clients never
stalled (docs/scaling.md, runs AB and AD): the clients' longest stall is reported, to tell
the two apart.

Run alone: .venv/bin/python bench/load.py [--seconds 60] [--clients 50] [--store-dir DIR]
In the suite: bench/suite.py --only load (--quick: 15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    catalogue_texts,
    child_server,
    free_port,
    heading,
    line,
    percentile,
    server_env,
)

from atrocity_kg.config import Settings

CLIENTS = 50
SECONDS = 60.0
QUICK_SECONDS = 15.0
REQUEST_TIMEOUT_S = 120.0
SERVER_LOG = REPO / "var" / "bench" / "load-server.log"
"""What the server wrote during the last load run (its warnings and errors: no access log)."""
LOG_LINES_SHOWN = 20
SPARQL_JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class Work:
    """One request the clients send: a catalogue query by its route, or its text at /sparql."""

    kind: str
    name: str
    path: str
    params: dict[str, str]


@dataclass
class Figures:
    """What one kind of request (or all of them) did during the run."""

    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    per_second: float


@dataclass
class LoadResult:
    clients: int
    seconds: float
    figures: dict[str, Figures]
    errors_by_cause: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    server_log: str = ""
    retried: int = 0
    """Requests sent again after their kept-alive connection closed before any answer."""
    client_stall_ms: float = 0.0
    """The longest the clients' event loop was late (their own stall, not the server's)."""

    @property
    def errors(self) -> int:
        return self.figures["all"].errors

    def as_json(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "figures": {kind: asdict(f) for kind, f in self.figures.items()},
            "errors_by_cause": self.errors_by_cause,
            "first_errors": self.first_errors,
            "server_log": self.server_log,
            "retried": self.retried,
            "client_stall_ms": self.client_stall_ms,
        }


def work_list() -> list[Work]:
    """Every catalogue query twice: by its own route, and as SPARQL text at /sparql."""
    work = []
    for name, text in sorted(catalogue_texts().items()):
        work.append(Work("catalogue", name, f"/queries/{name}", {}))
        work.append(Work("sparql", name, "/sparql", {"query": text}))
    return work


@dataclass
class _Log:
    """Each finished request: its kind, its latency and whether it failed (and why)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    failed_by_kind: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    retried: int = 0
    stall: float = 0.0

    def record(self, work: Work, seconds: float, cause: str | None, detail: str = "") -> None:
        self.latencies.setdefault(work.kind, []).append(seconds)
        if cause is not None:
            self.failures[cause] += 1
            self.failed_by_kind[work.kind] += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{work.kind} {work.name}: {cause} {detail}".strip())


class _Attempt:
    """What httpcore's trace says of one attempt: whether it opened a connection of its own,
    and whether an answer's head came back."""

    def __init__(self) -> None:
        self.connected = False
        self.answered = False

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.connected = True
        elif event == "http11.receive_response_headers.complete":
            self.answered = True

    @property
    def closed_while_idle(self) -> bool:
        """The failure was a kept-alive connection closed before the request reached the
        server's application: sent on a connection opened earlier, with no answer at all."""
        return not self.connected and not self.answered


async def get_once_more_if_closed_while_idle(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> tuple[httpx.Response, bool]:
    """A GET; if its kept-alive connection was closed before any answer, the same GET again,
    once, on a new connection. The response and whether it was sent again."""
    attempt = _Attempt()
    try:
        response = await client.get(path, params=params, extensions={"trace": attempt.trace})
    except (httpx.ReadError, httpx.RemoteProtocolError):
        if not attempt.closed_while_idle:
            raise
        return await client.get(path, params=params), True
    return response, False


async def _client(
    client: httpx.AsyncClient, work: list[Work], slot: int, stop: float, log: _Log
) -> None:
    """One client: the work list in turn (each client starting elsewhere in it), one request
    at a time, until the time is up."""
    index = slot
    while time.monotonic() < stop:
        item = work[index % len(work)]
        index += 1
        start = time.perf_counter()
        try:
            response, again = await get_once_more_if_closed_while_idle(
                client, item.path, item.params
            )
            elapsed = time.perf_counter() - start
        except httpx.HTTPError as error:
            log.record(item, time.perf_counter() - start, type(error).__name__, str(error)[:200])
            continue
        log.retried += again
        if response.status_code == 200:
            log.record(item, elapsed, None)
        else:
            log.record(item, elapsed, f"HTTP {response.status_code}", response.text[:200])


STALL_PROBE_S = 0.05


async def _watch_stalls(stop: float, log: _Log) -> None:
    """How late the clients' own event loop wakes from a short sleep, at its worst: a client
    that stalls holds its idle connections past the server's keep-alive."""
    while time.monotonic() < stop:
        asked = time.monotonic()
        await asyncio.sleep(STALL_PROBE_S)
        log.stall = max(log.stall, time.monotonic() - asked - STALL_PROBE_S)


async def _drive(base: str, clients: int, seconds: float) -> tuple[_Log, float]:
    work = work_list()
    log = _Log()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Accept": SPARQL_JSON},
        timeout=REQUEST_TIMEOUT_S,
        limits=limits,
    ) as client:
        started = time.monotonic()
        stop = started + seconds
        await asyncio.gather(
            _watch_stalls(stop, log),
            *(_client(client, work, slot, stop, log) for slot in range(clients)),
        )
        elapsed = time.monotonic() - started
    return log, elapsed


def _figures(latencies: list[float], errors: int, elapsed: float) -> Figures:
    if not latencies:
        return Figures(0, errors, 0.0, 0.0, 0.0, 0.0)
    return Figures(
        requests=len(latencies),
        errors=errors,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=max(latencies) * 1000,
        per_second=(len(latencies) - errors) / elapsed,
    )


def run_load(store_root: Path, *, clients: int = CLIENTS, seconds: float = SECONDS) -> LoadResult:
    """Serve the store built at ``store_root`` with uvicorn and load it; the figures."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "atrocity_kg.web:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = server_env(store_root)
    base = f"http://127.0.0.1:{port}"
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with child_server(command, f"{base}/sparql?query=ASK%7B%7D", env, log_path=SERVER_LOG):
        log, elapsed = asyncio.run(_drive(base, clients, seconds))
    figures = {
        kind: _figures(latencies, log.failed_by_kind[kind], elapsed)
        for kind, latencies in sorted(log.latencies.items())
    }
    every = [latency for latencies in log.latencies.values() for latency in latencies]
    figures["all"] = _figures(every, sum(log.failures.values()), elapsed)
    return LoadResult(
        clients,
        elapsed,
        figures,
        dict(log.failures),
        log.first_errors,
        str(SERVER_LOG),
        retried=log.retried,
        client_stall_ms=log.stall * 1000,
    )


def print_result(result: LoadResult) -> None:
    line("requests", "count", "errors", "p50 ms", "p99 ms", "max ms", "answers/s")
    for kind, f in result.figures.items():
        line(kind, f.requests, f.errors, f.p50_ms, f.p99_ms, f.max_ms, f.per_second)
    print(
        f"  sent again after a kept-alive connection closed: {result.retried}; "
        f"the clients' longest stall: {result.client_stall_ms:.0f} ms"
    )
    if result.errors_by_cause:
        causes = ", ".join(f"{cause}: {n}" for cause, n in sorted(result.errors_by_cause.items()))
        print(f"  errors by cause: {causes}")
        for error in result.first_errors:
            print(f"  e.g. {error}")
        # What the server said meanwhile: a client that lost its connection sees only that.
        written = Path(result.server_log).read_text(errors="replace").splitlines()
        print(f"  the server's log ({result.server_log}), its last {LOG_LINES_SHOWN} lines:")
        for written_line in written[-LOG_LINES_SHOWN:]:
            print(f"    {written_line}")


def verdict(result: LoadResult) -> tuple[bool, str, str]:
    """The target: (passed, what was measured, what was wanted)."""
    total = result.figures["all"]
    measured = (
        f"{total.errors} errors in {total.requests} requests from {result.clients} clients over "
        f"{result.seconds:.0f} s; p50 {total.p50_ms:.0f} ms, p99 {total.p99_ms:.0f} ms; "
        f"{result.retried} sent again after a kept-alive connection closed"
    )
    return total.errors == 0 and total.requests > 0, measured, "no errors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument(
        "--store-dir", type=Path, default=None, help="a built store (default: the settings')"
    )
    args = parser.parse_args()
    store_root = args.store_dir or Settings().store_root
    heading(f"load: {args.clients} clients for {args.seconds:.0f} s of catalogue queries")
    result = run_load(store_root, clients=args.clients, seconds=args.seconds)
    print_result(result)
    passed, measured, wanted = verdict(result)
    print(f"{'PASS' if passed else 'FAIL'}  load with no errors: {measured} (wanted {wanted})")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
