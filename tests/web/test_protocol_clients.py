"""/sparql to real clients over real HTTP, the app served by uvicorn on loopback: SPARQLWrapper and
rdflib's SPARQLStore in every format they speak, and streaming to a slow or departing reader
(what the protocol says of requests and answers is tests/web/test_protocol.py)."""

from __future__ import annotations

import csv
import gc
import io
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import ResultRow
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, TSV, TURTLE, XML, SPARQLWrapper

from atrocity_kg.config import Settings
from atrocity_kg.query import sandbox
from atrocity_kg.web import create_app, protocol
from atrocity_kg.web.serving import Serving
from graphdiff import assert_isomorphic
from literals import integer
from protocol_support import AKG, CURATED, PROLOGUE, TOOL_LABELS, TOOL_TRIPLES, TOOLS, V1, V3
from server import HANG_GUARD_S, served, wait_until


@pytest.fixture(scope="module")
def served_endpoint(base: str) -> str:
    """/sparql over real HTTP, for real clients (SPARQLWrapper, rdflib) and for streaming."""
    return f"{base}/sparql"


# --- real clients -------------------------------------------------------------------------------


def sparqlwrapper(endpoint: str, query: str, fmt: str, method: str = "GET") -> Any:
    client = SPARQLWrapper(endpoint)
    client.setMethod(method)
    client.setReturnFormat(fmt)
    client.setQuery(query)
    return client.query()


def expected_labels(curated: Graph) -> set[tuple[str, str]]:
    return {
        (str(tool), str(label))
        for tool in curated.subjects(RDF.type, AKG.ReviewedTool)
        for label in curated.objects(tool, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))
    }


def tsv_term(text: str) -> str:
    """The value of a term in SPARQL TSV, for the IRIs and language-tagged strings used here."""
    if text.startswith("<"):
        return text[1:-1]
    return text[1 : text.rindex('"')]


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select_in_every_results_format(
    served_endpoint: str, curated: Graph, method: str
) -> None:
    expected = expected_labels(curated)
    assert len(expected) == 12

    data = sparqlwrapper(served_endpoint, TOOL_LABELS, JSON, method).convert()
    rows = data["results"]["bindings"]
    assert {(r["tool"]["value"], r["label"]["value"]) for r in rows} == expected

    document = sparqlwrapper(served_endpoint, TOOL_LABELS, XML, method).convert()
    found = set()
    for result in document.getElementsByTagName("result"):
        values = {
            b.getAttribute("name"): b.firstChild.firstChild.data
            for b in result.getElementsByTagName("binding")
        }
        found.add((values["tool"], values["label"]))
    assert found == expected

    text = sparqlwrapper(served_endpoint, TOOL_LABELS, CSV, method).convert().decode("utf-8")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["tool", "label"]
    assert {(row[0], row[1]) for row in table[1:]} == expected

    text = sparqlwrapper(served_endpoint, TOOL_LABELS, TSV, method).convert().decode("utf-8")
    lines = [line.split("\t") for line in text.splitlines()]
    assert lines[0] == ["?tool", "?label"]
    assert {(tsv_term(a), tsv_term(b)) for a, b in lines[1:]} == expected


@pytest.mark.parametrize("fmt", [TURTLE, N3, JSONLD, XML])
def test_sparqlwrapper_construct_in_every_rdf_format(
    served_endpoint: str, curated: Graph, fmt: str
) -> None:
    expected = curated.query(TOOL_TRIPLES).graph
    assert expected is not None
    assert len(expected) > 12 * 5
    client = SPARQLWrapper(served_endpoint)
    client.setReturnFormat(fmt)
    client.setQuery(TOOL_TRIPLES)
    client.addDefaultGraph(CURATED)
    if fmt == N3:  # SPARQLWrapper has no N-Triples format: ask for it by content negotiation
        client.setOnlyConneg(True)
        client.addCustomHttpHeader("Accept", "application/n-triples")
    result = client.query()
    content_type = result.info()["content-type"]
    answer = result.convert()
    if fmt == N3:
        assert content_type == "application/n-triples"
        assert isinstance(answer, bytes | str)
        answer = Graph().parse(data=answer, format="nt")
    elif fmt == TURTLE:
        assert content_type.startswith("text/turtle")
        assert isinstance(answer, bytes | str)
        answer = Graph().parse(data=answer, format="turtle")
    assert isinstance(answer, Graph)
    assert_isomorphic(expected, answer)


def test_rdflib_sparqlstore_reads_through_the_endpoint(served_endpoint: str) -> None:
    store = SPARQLStore(served_endpoint)
    curated = Graph(store, identifier=URIRef(CURATED))
    assert len(list(curated.triples((None, RDF.type, AKG.ReviewedTool)))) == 12
    (row,) = curated.query(TOOLS)
    assert isinstance(row, ResultRow)
    assert integer(row[0]) == 12
    release = Graph(store, identifier=URIRef(V1))
    (row,) = release.query(
        PROLOGUE + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?f akg:reportedIn ?s }"
    )
    assert isinstance(row, ResultRow)
    assert integer(row[0]) == 310
    tools = release.query(TOOL_TRIPLES).graph
    assert tools is not None
    assert len(tools) == 0  # the tools are described in the curated graph


# --- streaming ----------------------------------------------------------------------------------


def writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "atrocity-kg-writer"]


@pytest.fixture
def streaming(store_mode: str, built: Settings, request: pytest.FixtureRequest) -> Iterator[App]:
    """The app in this store mode with one query worker (or remote slot), served over real
    HTTP in this process: its threads, their stacks, its memory and its counts of running
    queries are ours to see."""
    update: dict[str, object] = {"query_workers": 1}
    if store_mode != "embedded":
        update["sparql_endpoint"] = request.getfixturevalue(f"{store_mode}_endpoint")
    app = create_app(built.model_copy(update=update))
    with served(app) as url:
        yield App(f"{url}/sparql", app.state.serving)


@dataclass(frozen=True)
class App:
    endpoint: str
    serving: Serving


def test_a_large_construct_is_streamed(served_endpoint: str) -> None:
    with httpx.Client() as http:
        count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
        answer = http.get(served_endpoint, params={"query": count, "default-graph-uri": V3})
        assert answer.status_code == 200, answer.text
        size = int(answer.json()["results"]["bindings"][0]["n"]["value"])
    assert size > 20_000
    lines = 0
    chunks = 0
    with httpx.stream(
        "GET",
        served_endpoint,
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "default-graph-uri": V3},
        headers={"Accept": "application/n-triples"},
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        for chunk in response.iter_bytes():
            chunks += 1
            lines += chunk.count(b"\n")
    assert chunks > 10
    assert lines == size


def test_an_answer_of_several_chunks_under_the_bound_comes_whole(served_endpoint: str) -> None:
    """Larger than a worker's chunk, smaller than the bound: sent with its length, not chunked."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 2000"
    with httpx.stream("GET", served_endpoint, params={"query": query}) as response:
        assert response.status_code == 200
        body = response.read()
    assert sandbox.CHUNK_SIZE < len(body) <= protocol.WHOLE_ANSWER_BYTES, len(body)
    assert "transfer-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(body)
    assert len(response.json()["results"]["bindings"]) == 2000


def resident_megabytes() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def waiting_on_a_full_pipe(thread: threading.Thread) -> bool:
    """Is ``thread`` held in the answer pipe's ``send`` because the pipe is full? Its stack then
    ends in Condition.wait, called by Semaphore.acquire, called by _Pipe.send: the semaphore
    waits only when the pipe has no room left."""
    frame = sys._current_frames().get(thread.ident or -1)
    calls = []  # innermost first
    while frame is not None:
        calls.append(frame.f_code)
        frame = frame.f_back
    held = [
        threading.Condition.wait.__code__,
        threading.Semaphore.acquire.__code__,
        protocol._Pipe.send.__code__,
    ]
    return any(calls[at : at + 3] == held for at in range(len(calls)))


def asleep(pid: int) -> bool:
    """Is the process waiting for something (state S), not running?"""
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "S"


def held_back(app: App) -> bool:
    """Is the answer being written held back by the reader that does not read?

    Embedded, the worker process writes it into its socket, which the server reads only as the
    client takes the answer: a worker still on its job (the server has not read its end) and
    asleep is waiting for room in the socket, the only thing it can wait for once it has its
    job. Remote, a writer thread is held on the full pipe to the event loop."""
    pool = app.serving.pool
    if pool is not None:
        return pool.running == 1 and all(asleep(pid) for pid in pool.processes)
    running = writers()
    assert running, "the writer ended: it did not wait for the reader"
    return any(waiting_on_a_full_pipe(thread) for thread in running)


HUGE = PROLOGUE + "SELECT * WHERE { ?a a akg:Study . ?b a akg:Study . ?c a akg:Study }"
"""474 cubed rows: far more than the row limit lets through, and than memory would hold."""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux's /proc")
def test_a_slow_reader_holds_the_answer_back_and_leaving_lets_it_go(streaming: App) -> None:
    """The answer is written only as fast as the reader reads: held back (see ``held_back``;
    a server reading it whole would never be), without the server's memory growing; once the
    reader leaves, its query's worker (or remote slot) is free again, and the same worker
    answers the next query."""
    workers = streaming.serving.pool.processes if streaming.serving.pool else []
    with httpx.stream("GET", streaming.endpoint, params={"query": HUGE}) as response:
        chunks = response.iter_raw()
        assert next(chunks).startswith(b'{"head":{"vars":["a","b","c"]}')
        before = resident_megabytes()
        wait_until(lambda: held_back(streaming), "the answer was never held back by the reader")
        assert resident_megabytes() - before < 50
    wait_until(lambda: streaming.serving.running == 0, "the query was not let go")
    answer = httpx.get(streaming.endpoint, params={"query": "ASK {}"})
    assert answer.status_code == 200, answer.text
    if streaming.serving.pool is not None:
        assert streaming.serving.pool.processes == workers, "the worker was not reused"


def test_a_reader_leaving_is_no_failure_and_leaves_no_results_behind(
    streaming: App, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that leaves mid-answer is not a failed query: nothing is logged with its
    exception, whose traceback would keep the writer's frames and the pyoxigraph results in
    them alive until whoever holds the record drops them, on a thread pyoxigraph refuses."""
    with httpx.stream("GET", streaming.endpoint, params={"query": HUGE}) as response:
        assert next(response.iter_raw()).startswith(b'{"head":')
    wait_until(lambda: streaming.serving.running == 0, "the query was not let go")
    assert protocol.WRITERS.wait_all_idle(HANG_GUARD_S), "a writer is still writing"
    kept = [
        record
        for record in caplog.records
        if record.exc_info or any(isinstance(arg, BaseException) for arg in record.args or ())
    ]
    assert not kept, [record.getMessage() for record in kept]
    dropped: list[BaseException | None] = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda raised: dropped.append(raised.exc_value)
    try:
        caplog.clear()
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert not dropped
