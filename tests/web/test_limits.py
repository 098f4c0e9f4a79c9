"""Query limits that really stop queries, over real HTTP against a real server (issue 7).

A query that would run for hours is stopped at the time limit (its worker process is killed and
replaced) while the server goes on answering others; long answers are cut at the row limit and say
so; oversized queries, too many queries at once and too many requests from one client are refused
with the status and Retry-After a client can act on; SERVICE reaches no private address.
"""

from __future__ import annotations

import asyncio
import http.server
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from atrocity_kg.config import Settings
from atrocity_kg.query import sandbox
from atrocity_kg.query.sandbox import QueryPool
from atrocity_kg.web import create_app
from atrocity_kg.web.headers import ROW_LIMIT, TRUNCATED
from atrocity_kg.web.ratelimit import RateLimit
from server import HANG_GUARD_S, query_pool, served, serving, wait_until

pytestmark = pytest.mark.slow  # real servers with real limits, timeouts and worker processes

# Every triple joined with every other twice: 150,000³ solutions to count, hours of work.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
QUICK = "ASK { ?s ?p ?o }"
TIMEOUT = 3.0


def with_limits(built: Settings, **limits: object) -> Settings:
    return built.model_copy(update=limits)


@pytest.fixture(scope="module")
def other_workers() -> set[int]:
    """The query workers this process already runs (the apps the session shares among modules),
    counted before ``limited`` starts its own: they are not the limited server's."""
    return sandbox_processes()


@pytest.fixture(scope="module")
def limited(built: Settings, other_workers: set[int]) -> Iterator[str]:
    settings = with_limits(
        built, query_timeout=TIMEOUT, max_result_rows=5, max_query_bytes=2048, query_workers=2
    )
    with serving(settings) as url:
        yield url


def sandbox_processes() -> set[int]:
    """The query worker processes of this test process (our server runs in a thread here)."""
    return sandbox.worker_processes(os.getpid())


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_an_endless_query_is_stopped_at_the_limit(limited: str, other_workers: set[int]) -> None:
    def workers() -> set[int]:
        """The limited server's query workers."""
        return sandbox_processes() - other_workers

    before = workers()
    assert len(before) == 2, before
    started = time.monotonic()
    response = httpx.get(f"{limited}/sparql", params={"query": ENDLESS})
    took = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert "time limit" in response.text
    # A lower bound only, which no load can break: the watchdog never kills before the limit.
    # (How soon after it the answer comes depends on how busy the machine is.)
    assert took >= TIMEOUT, f"stopped after {took:.1f} s, before the limit"
    # The worker that ran it is gone (killed, not left computing), and a fresh one replaced it.
    wait_until(
        lambda: len(workers()) == 2 and workers() != before,
        "no worker replaced the killed one",
    )
    killed = before - workers()
    assert len(killed) == 1
    assert not any(alive(pid) for pid in killed)
    again = httpx.get(f"{limited}/sparql", params={"query": QUICK})
    assert again.status_code == 200


@dataclass
class Busy:
    """A server of its own whose one endless query holds a worker."""

    url: str
    queries: QueryPool
    workers: set[int]
    endless: Future[httpx.Response]

    def crash_workers(self) -> httpx.Response:
        """SIGKILL the server's query workers, as a crash would, and return the endless query's
        answer, which that ends."""
        for pid in self.workers & sandbox_processes():  # ours still, never a reused number
            os.kill(pid, signal.SIGKILL)
        self.workers.clear()
        return self.endless.result(timeout=HANG_GUARD_S)


@contextmanager
def busy(settings: Settings) -> Iterator[Busy]:
    """Serve ``settings`` and send an endless query; yield once it holds a worker.

    Its time limit is only a guard against a hang: the query ends when the test crashes the
    workers (at the latest when it leaves), so what the test sees while it runs does not depend
    on how fast the machine is."""
    app = create_app(settings.model_copy(update={"query_timeout": HANG_GUARD_S}))
    others = sandbox_processes()
    with served(app) as url, ThreadPoolExecutor(max_workers=1) as pool:
        queries = app.state.serving.pool
        assert isinstance(queries, QueryPool)
        workers = sandbox_processes() - others
        assert len(workers) == settings.query_workers, workers
        endless = pool.submit(httpx.get, f"{url}/sparql", params={"query": ENDLESS})
        server = Busy(url, queries, workers, endless)
        try:
            wait_until(lambda: queries.running == 1, "the endless query did not reach a worker")
            yield server
        finally:
            server.crash_workers()


def test_other_queries_are_answered_while_an_endless_one_runs(built: Settings) -> None:
    with busy(with_limits(built, query_workers=2)) as server:
        quick = httpx.get(f"{server.url}/sparql", params={"query": QUICK})
        # Answered while the endless query still held its worker: it cannot end before the
        # test crashes that worker.
        assert not server.endless.done()
        assert quick.status_code == 200
        assert quick.json()["boolean"] is True
        stopped = server.crash_workers()
    # A worker that dies under a query is an answer too, not a hang.
    assert stopped.status_code == 503
    assert "not answered" in stopped.text


def test_the_catalogue_is_stopped_at_the_limit_too(limited: str) -> None:
    """A catalogue query runs where users' queries run: it answers, under the same limits."""
    response = httpx.get(f"{limited}/queries/tool-study-counts", timeout=60)
    assert response.status_code == 200
    assert response.headers[ROW_LIMIT] == "5"


@pytest.mark.parametrize(
    ("query", "accept", "lines_per_row", "header_lines"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "text/tab-separated-values", 1, 1),
        ("SELECT ?s WHERE { ?s ?p ?o }", "text/csv", 1, 1),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", 1, 0),
    ],
)
def test_a_long_answer_is_cut_at_the_row_limit_and_says_so(
    limited: str, query: str, accept: str, lines_per_row: int, header_lines: int
) -> None:
    response = httpx.get(
        f"{limited}/sparql", params={"query": query}, headers={"Accept": accept}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers[TRUNCATED] == "true; rows=5"
    assert response.headers[ROW_LIMIT] == "5"
    lines = [line for line in response.text.splitlines() if line]
    assert len(lines) == header_lines + 5 * lines_per_row


def test_a_json_answer_is_cut_and_still_well_formed(limited: str) -> None:
    response = httpx.get(
        f"{limited}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=60
    )
    assert response.headers[TRUNCATED] == "true; rows=5"
    assert len(response.json()["results"]["bindings"]) == 5


def test_an_answer_within_the_limit_is_not_marked(limited: str) -> None:
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"
    response = httpx.get(f"{limited}/sparql", params={"query": query}, timeout=60)
    assert response.status_code == 200
    assert TRUNCATED not in response.headers
    assert len(response.json()["results"]["bindings"]) == 5


def test_an_oversized_query_is_refused(limited: str) -> None:
    padding = "#" + "x" * 2100 + "\n"
    by_get = httpx.get(f"{limited}/sparql", params={"query": padding + QUICK}, timeout=60)
    assert by_get.status_code == 414
    assert "at most 2048 bytes" in by_get.text
    by_post = httpx.post(
        f"{limited}/sparql",
        content=padding + QUICK,
        headers={"Content-Type": "application/sparql-query"},
        timeout=60,
    )
    assert by_post.status_code == 413
    by_form = httpx.post(f"{limited}/sparql", data={"query": padding + QUICK}, timeout=60)
    assert by_form.status_code == 413


def test_too_many_queries_at_once_are_refused_with_retry_after(built: Settings) -> None:
    with busy(with_limits(built, query_workers=1, max_queued_queries=0)) as server:
        refused = httpx.get(f"{server.url}/sparql", params={"query": QUICK})
        assert not server.endless.done()
        assert server.crash_workers().status_code == 503
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too many queries" in refused.text


def test_a_queued_query_waits_for_a_free_worker(built: Settings) -> None:
    limits = with_limits(built, query_workers=1, max_queued_queries=4, max_queue_wait=HANG_GUARD_S)
    # The pool is left last: by then the workers are crashed and the waiting query answered.
    with ThreadPoolExecutor(max_workers=1) as pool, busy(limits) as server:
        waiting = pool.submit(httpx.get, f"{server.url}/sparql", params={"query": QUICK})
        wait_until(lambda: server.queries.waiting == 1, "the second query did not wait")
        assert not waiting.done()
        assert server.crash_workers().status_code == 503
        # The worker that replaces the crashed one takes the waiting query.
        waited = waiting.result(timeout=HANG_GUARD_S)
    assert waited.status_code == 200, waited.text


def test_a_client_over_its_rate_gets_429_with_retry_after(built: Settings) -> None:
    # The slowest rate there is, one request a minute: the fourth request comes before a token
    # does on any machine that is not hung.
    per_minute, burst = 1, 3
    limits = with_limits(built, rate_limit_per_minute=per_minute, rate_limit_burst=burst)
    with serving(limits) as url:
        statuses = [
            httpx.get(f"{url}/sparql", params={"query": QUICK}).status_code for _ in range(burst)
        ]
        assert statuses == [200] * burst
        refused = httpx.get(f"{url}/queries")
        assert refused.status_code == 429
        # A token's 60 s less the time the requests took, which depends on the machine's load
        # (the exact value is tested on a clock of the test's own, below).
        assert 1 <= int(refused.headers["Retry-After"]) <= 60 / per_minute
        assert httpx.get(f"{url}/static/site.css").status_code == 200  # assets are not counted


def test_the_token_bucket_refills_at_its_rate() -> None:
    limit = RateLimit(lambda *_: None, per_minute=60, burst=2)  # type: ignore[arg-type]
    assert limit.take("a", now=0.0) == 0
    assert limit.take("a", now=0.0) == 0
    assert limit.take("a", now=0.0) == pytest.approx(1.0)
    assert limit.take("b", now=0.0) == 0  # another client has its own bucket
    assert limit.take("a", now=0.5) == pytest.approx(0.5)
    assert limit.take("a", now=1.0) == 0


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_retry_after_says_when_the_next_token_comes() -> None:
    """The middleware on a clock of the test's own: the exact Retry-After, whatever the load."""
    now = [100.0]
    per_minute, burst = 15, 3
    limit = RateLimit(_ok, per_minute=per_minute, burst=burst, clock=lambda: now[0])

    def request(path: str = "/sparql") -> tuple[int, str | None]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "path": path, "client": ("192.0.2.1", 1234), "headers": []}
        asyncio.run(limit(scope, receive, send))
        headers = dict(sent[0]["headers"])
        retry_after = headers.get(b"retry-after")
        return sent[0]["status"], None if retry_after is None else retry_after.decode()

    every = 60 / per_minute  # seconds for one token to come back: 4 (binary floats exactly)
    assert [request() for _ in range(burst)] == [(200, None)] * burst
    assert request() == (429, f"{every:.0f}")
    assert request("/static/site.css") == (200, None)  # assets are not counted
    now[0] += 1
    assert request() == (429, f"{every - 1:.0f}")
    now[0] += 0.5  # 2.5 s to go: told in whole seconds, the client waits the rest of the second
    assert request() == (429, f"{math.ceil(every - 1.5)}")
    now[0] += every - 1.5
    assert request() == (200, None)
    assert request() == (429, f"{every:.0f}")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture(scope="module")
def listener() -> Iterator[str]:
    """A real HTTP server on loopback, recording any request the endpoint is tricked into."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()


def _service(endpoint: str) -> str:
    return f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"


def test_service_is_refused_when_federation_is_off(limited: str, listener: str) -> None:
    response = httpx.get(f"{limited}/sparql", params={"query": _service(listener)})
    assert response.status_code == 400
    assert "SERVICE is not supported" in response.text
    assert _Recorder.hits == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "LISTENER",
        "http://localhost:{port}/sparql",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/sparql",
        "http://10.0.0.1/sparql",
        "http://2130706433:{port}/sparql",
    ],
)
def test_service_to_a_private_address_is_refused_even_when_allowed(
    built: Settings, listener: str, endpoint: str
) -> None:
    port = listener.split(":")[2].split("/")[0]
    target = listener if endpoint == "LISTENER" else endpoint.format(port=port)
    with serving(with_limits(built, federation=True, federation_allow=(target,))) as url:
        response = httpx.get(f"{url}/sparql", params={"query": _service(target)}, timeout=60)
        assert response.status_code == 403, response.text
        assert "refused" in response.text
    assert _Recorder.hits == []


def test_service_must_name_an_allowed_endpoint_as_an_iri(built: Settings, listener: str) -> None:
    allowed = "https://query.wikidata.org/sparql"
    with serving(with_limits(built, federation=True, federation_allow=(allowed,))) as url:
        other = httpx.get(f"{url}/sparql", params={"query": _service(listener)})
        assert other.status_code == 403, other.text
        variable = httpx.get(
            f"{url}/sparql", params={"query": "SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }"}
        )
        assert variable.status_code == 400
        assert "full IRI" in variable.text
        prefixed = (
            "PREFIX x: <http://127.0.0.1/>\nSELECT * WHERE { SERVICE SILENT x:y { ?s ?p ?o } }"
        )
        assert httpx.get(f"{url}/sparql", params={"query": prefixed}).status_code == 400
    assert _Recorder.hits == []


def test_a_shorter_deadline_wakes_a_watchdog_asleep_until_a_longer_one(built: Settings) -> None:
    """Jobs that follow each other arm a worker's watchdog without waking it (it sleeps until
    the deadline it last saw); a job whose deadline comes sooner than that must still be
    stopped at its own. Bounded by the hang guard only: were the watchdog left asleep, the
    endless job would run for the hour of the first."""

    async def scenario() -> tuple[list[sandbox.Message], list[sandbox.Message]]:
        async with query_pool(built, size=1, timeout=3600.0) as pool:
            answered = [message async for message in pool.answer(sandbox.QueryJob(QUICK))]
            pool.timeout = 1.0  # the same worker, now armed for a second
            stopped = [message async for message in pool.answer(sandbox.QueryJob(ENDLESS))]
            return answered, stopped

    answered, stopped = asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    assert isinstance(answered[-1], sandbox.End)
    failure = stopped[-1]
    assert isinstance(failure, sandbox.Failure)
    assert failure.status == 503
    assert "time limit" in failure.message
