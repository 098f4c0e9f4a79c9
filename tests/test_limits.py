"""Query limits that really stop queries, over real HTTP against a real server (issue 7).

A query that would run for hours is stopped at the time limit (its worker process is killed and
replaced) while the server goes on answering others; long answers are cut at the row limit and say
so; oversized queries, too many queries at once and too many requests from one client are refused
with the status and Retry-After a client can act on; SERVICE reaches no private address.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from atrocity_kg.api.ratelimit import RateLimit
from atrocity_kg.config import Settings
from atrocity_kg.sandbox import ROW_LIMIT, TRUNCATED
from server import serving

# Every triple joined with every other twice: 150,000³ solutions to count, hours of work.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
QUICK = "ASK { ?s ?p ?o }"
TIMEOUT = 3.0


def with_limits(built: Settings, **limits: object) -> Settings:
    return built.model_copy(update=limits)


@pytest.fixture(scope="module")
def limited(built: Settings) -> Iterator[str]:
    settings = with_limits(
        built, query_timeout=TIMEOUT, max_result_rows=5, max_query_bytes=2048, query_workers=2
    )
    with serving(settings) as url:
        yield url


def sandbox_processes() -> set[int]:
    """The query worker processes of this test process (our server runs in a thread here)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"atrocity_kg.sandbox" in command:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_an_endless_query_is_stopped_at_the_limit_while_others_are_answered(limited: str) -> None:
    before = sandbox_processes()
    assert len(before) == 2, before
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        endless = pool.submit(httpx.get, f"{limited}/sparql", params={"query": ENDLESS}, timeout=60)
        time.sleep(0.5)
        quick_started = time.monotonic()
        quick = httpx.get(f"{limited}/sparql", params={"query": QUICK}, timeout=60)
        quick_took = time.monotonic() - quick_started
        response = endless.result()
        took = time.monotonic() - started
    assert quick.status_code == 200
    assert quick.json()["boolean"] is True
    assert quick_took < TIMEOUT, f"the other query waited {quick_took:.1f} s"
    assert response.status_code == 503, response.text
    assert "time limit" in response.text
    assert TIMEOUT <= took < TIMEOUT + 5, f"stopped after {took:.1f} s"
    # The worker that ran it is gone (killed, not left computing), and a fresh one replaced it.
    deadline = time.monotonic() + 30
    while len(sandbox_processes()) != 2 or sandbox_processes() == before:
        assert time.monotonic() < deadline, "no worker replaced the killed one"
        time.sleep(0.2)
    killed = before - sandbox_processes()
    assert len(killed) == 1
    assert not any(alive(pid) for pid in killed)
    again = httpx.get(f"{limited}/sparql", params={"query": QUICK}, timeout=60)
    assert again.status_code == 200


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
    with serving(
        with_limits(built, query_timeout=TIMEOUT, query_workers=1, max_queued_queries=0)
    ) as url:
        with ThreadPoolExecutor(max_workers=1) as pool:
            endless = pool.submit(httpx.get, f"{url}/sparql", params={"query": ENDLESS}, timeout=60)
            time.sleep(0.5)
            refused = httpx.get(f"{url}/sparql", params={"query": QUICK}, timeout=60)
            assert endless.result().status_code == 503
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert "too many queries" in refused.text


def test_a_queued_query_waits_for_a_free_worker(built: Settings) -> None:
    with serving(
        with_limits(built, query_timeout=TIMEOUT, query_workers=1, max_queued_queries=4)
    ) as url:
        with ThreadPoolExecutor(max_workers=1) as pool:
            endless = pool.submit(httpx.get, f"{url}/sparql", params={"query": ENDLESS}, timeout=60)
            time.sleep(0.5)
            waited = httpx.get(f"{url}/sparql", params={"query": QUICK}, timeout=60)
            assert endless.result().status_code == 503
        assert waited.status_code == 200


def test_a_client_over_its_rate_gets_429_with_retry_after(built: Settings) -> None:
    with serving(with_limits(built, rate_limit_per_minute=6, rate_limit_burst=3)) as url:
        statuses = [
            httpx.get(f"{url}/sparql", params={"query": QUICK}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 200]
        refused = httpx.get(f"{url}/queries")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "10"  # one request in 60/6 s
        assert httpx.get(f"{url}/static/site.css").status_code == 200  # assets are not counted


def test_the_token_bucket_refills_at_its_rate() -> None:
    limit = RateLimit(lambda *_: None, per_minute=60, burst=2)  # type: ignore[arg-type]
    assert limit.take("a", now=0.0) == 0
    assert limit.take("a", now=0.0) == 0
    assert limit.take("a", now=0.0) == pytest.approx(1.0)
    assert limit.take("b", now=0.0) == 0  # another client has its own bucket
    assert limit.take("a", now=0.5) == pytest.approx(0.5)
    assert limit.take("a", now=1.0) == 0


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
