"""/sparql to the SPARQL 1.1 Protocol: what the protocol says of requests and answers through the
app in this process (``client``), which is all the same over HTTP, and the URL as a client
addressed it over real HTTP. Real clients and streaming: tests/web/test_protocol_clients.py."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Namespace, URIRef

from atrocity_kg.config import Settings
from atrocity_kg.storage import store
from conftest import IN_PROCESS
from graphdiff import assert_isomorphic
from literals import integer
from protocol_support import CURATED, GRAPH, PROLOGUE, STUDIES, TOOL_TRIPLES, TOOLS, V1, V3
from server import media

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DIRECT = {"Content-Type": "application/sparql-query"}


@pytest.fixture(scope="module")
def endpoint() -> str:
    """/sparql as the in-process client (``client``) reaches it."""
    return f"{IN_PROCESS}/sparql"


@pytest.fixture(scope="module")
def served_endpoint(base: str) -> str:
    """/sparql over real HTTP, for real clients (SPARQLWrapper, rdflib) and for streaming."""
    return f"{base}/sparql"


def release_graphs(client: httpx.Client, endpoint: str, code: str) -> list[str]:
    """The graphs holding a release's statements: the one of what only it states, and those of
    what it states alike with other releases (each statement of the store is in one graph)."""
    release = f"https://w3id.org/atrocity-kg/id/release/{code}"
    query = PROLOGUE + f"SELECT ?g WHERE {{ ?g akg:statementsOf <{release}> }}"
    response = client.get(endpoint, params={"query": query})
    names = sorted(row["g"]["value"] for row in response.json()["results"]["bindings"])
    assert GRAPH + f"ushmm-{code}" in names
    assert GRAPH + "ushmm-v1-v2-v3" in names
    return names


@pytest.fixture(scope="module")
def v1_graphs(client: TestClient, endpoint: str) -> list[str]:
    return release_graphs(client, endpoint, "v1")


@pytest.fixture(scope="module")
def store_graph_names(built: Settings) -> list[str]:
    """The store's named graphs, read from the store itself, not through the protocol."""
    with store.opened(built.store_root) as opened:
        return store.graph_names(opened)


def number(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def ask(
    client: httpx.Client, endpoint: str, method: str, query: str, **params: Any
) -> httpx.Response:
    """One query by each of the protocol's three ways, dataset parameters alongside."""
    if method == "GET":
        return client.get(endpoint, params={"query": query, **params})
    if method == "form":
        return client.post(endpoint, data={"query": query, **params}, headers=FORM)
    return client.post(endpoint, params=params, content=query.encode(), headers=DIRECT)


# --- the three ways in, and the dataset ---------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_query_by_each_way_of_the_protocol(client: TestClient, endpoint: str, method: str) -> None:
    response = ask(client, endpoint, method, TOOLS)
    assert media(response) == "application/sparql-results+json"
    assert number(response) == 12


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_default_graph_uri_chooses_the_release(
    client: TestClient, endpoint: str, method: str, v1_graphs: list[str]
) -> None:
    assert number(ask(client, endpoint, method, STUDIES, **{"default-graph-uri": v1_graphs})) == 310
    v3 = release_graphs(client, endpoint, "v3")
    assert number(ask(client, endpoint, method, STUDIES, **{"default-graph-uri": v3})) == 474
    union = number(ask(client, endpoint, method, STUDIES))
    assert union > 474


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_repeated_default_graph_uri_merges_the_graphs(
    client: TestClient, endpoint: str, method: str
) -> None:
    """Findings are minted per release (V1 926, V3 1602), so two releases add up."""
    findings = PROLOGUE + "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f akg:reportedIn ?s }"
    assert number(ask(client, endpoint, method, findings, **{"default-graph-uri": V1})) == 926
    assert (
        number(ask(client, endpoint, method, findings, **{"default-graph-uri": [V1, V3]})) == 2528
    )


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_named_graph_uri_limits_the_named_graphs(
    client: TestClient, endpoint: str, method: str
) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = ask(client, endpoint, method, query, **{"named-graph-uri": [CURATED, V3]})
    assert response.status_code == 200, response.text
    names = [row["g"]["value"] for row in response.json()["results"]["bindings"]]
    assert names == [CURATED, V3]
    # With only named graphs given, the default graph is empty ...
    response = ask(client, endpoint, method, "ASK { ?s ?p ?o }", **{"named-graph-uri": CURATED})
    assert response.json()["boolean"] is False
    # ... and with only default graphs given, there is no named graph.
    response = ask(client, endpoint, method, query, **{"default-graph-uri": CURATED})
    assert response.json()["results"]["bindings"] == []


def test_without_dataset_every_named_graph_is_reachable(
    client: TestClient, endpoint: str, store_graph_names: list[str]
) -> None:
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert number(client.get(endpoint, params={"query": query})) == len(store_graph_names)


def test_from_in_the_query_is_honoured_and_the_protocol_overrides_it(
    client: TestClient, endpoint: str, v1_graphs: list[str]
) -> None:
    froms = " ".join(f"FROM <{g}>" for g in v1_graphs)
    from_v1 = PROLOGUE + f"SELECT (COUNT(DISTINCT ?s) AS ?n) {froms} WHERE {{ ?s a akg:Study }}"
    assert number(ask(client, endpoint, "GET", from_v1)) == 310
    v3_only = PROLOGUE + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?f akg:reportedIn ?s }"
    assert number(ask(client, endpoint, "GET", v3_only, **{"default-graph-uri": V3})) == 474
    from_named = (
        PROLOGUE + f"SELECT (COUNT(DISTINCT ?s) AS ?n) FROM NAMED <{V3}> "
        "WHERE { GRAPH ?g { ?f akg:reportedIn ?s } }"
    )
    assert number(ask(client, endpoint, "GET", from_named)) == 474


def test_the_word_from_elsewhere_keeps_the_union(client: TestClient, endpoint: str) -> None:
    """'from' in a comment, a string, an IRI, a prefix and a variable is no FROM clause."""
    query = (
        "# FROM <https://w3id.org/atrocity-kg/graph/ushmm-v1>\n"
        "PREFIX from: <https://w3id.org/atrocity-kg/ontology#>\n"
        "SELECT (COUNT(DISTINCT ?from) AS ?n) WHERE { ?from a from:Study "
        'FILTER(?from != <http://example.org/FROM> && "FROM <x>" != """FROM""") }'
    )
    assert number(ask(client, endpoint, "GET", query)) == number(
        ask(client, endpoint, "GET", STUDIES)
    )


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"], ids=["default", "named"])
def test_a_relative_graph_iri_is_a_400(client: TestClient, endpoint: str, name: str) -> None:
    response = client.get(endpoint, params={"query": TOOLS, name: "graph/curated"})
    assert response.status_code == 400
    assert "absolute IRI" in response.text


def bindings(response: httpx.Response) -> dict[str, str]:
    """The values of the one solution of a SELECT answered in SPARQL JSON."""
    assert response.status_code == 200, response.text
    (row,) = response.json()["results"]["bindings"]
    return {name: term["value"] for name, term in row.items()}


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_relative_iris_resolve_against_the_endpoint_url(
    client: TestClient, endpoint: str, method: str
) -> None:
    """A query without BASE was retrieved from the endpoint's URL, its base (RFC 3986, 5.1.3):
    ``<>`` is the endpoint itself, ``<s>`` a sibling of it, ``<#x>`` a fragment of it.
    (urljoin resolves as RFC 3986 says, independently of the server.)"""
    query = "SELECT (<> AS ?here) (<s> AS ?sibling) (<#x> AS ?fragment) WHERE {}"
    assert bindings(ask(client, endpoint, method, query)) == {
        "here": endpoint,
        "sibling": urljoin(endpoint, "s"),
        "fragment": urljoin(endpoint, "#x"),
    }


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_a_query_s_own_base_comes_first(client: TestClient, endpoint: str, method: str) -> None:
    """An absolute BASE replaces the endpoint's URL; a relative one is resolved against it."""
    absolute = "BASE <http://example.org/a/> SELECT (<s> AS ?s) WHERE {}"
    assert bindings(ask(client, endpoint, method, absolute)) == {"s": "http://example.org/a/s"}
    relative = "BASE <data/> SELECT (<s> AS ?s) WHERE {}"
    assert bindings(ask(client, endpoint, method, relative)) == {"s": urljoin(endpoint, "data/s")}


def test_the_base_is_the_url_as_the_client_addressed_it(served_endpoint: str) -> None:
    """The host is the one the client named (a proxy's name, say), not the socket's address;
    and it is the URL the service description gives as the endpoint."""
    named = {"Host": "kg.example.org:8443"}
    here = "http://kg.example.org:8443/sparql"
    response = httpx.get(
        served_endpoint, params={"query": "SELECT (<> AS ?here) WHERE {}"}, headers=named
    )
    assert bindings(response) == {"here": here}
    description = Graph().parse(
        data=httpx.get(served_endpoint, headers=named).content, format="turtle"
    )
    assert set(description.objects(None, SD.endpoint)) == {URIRef(here)}


# --- content negotiation ------------------------------------------------------------------------


@pytest.mark.parametrize("accept", list(RESULT_TYPES))
def test_select_in_each_results_format(client: TestClient, endpoint: str, accept: str) -> None:
    response = client.get(endpoint, params={"query": TOOLS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media(response) == accept
    assert response.headers["vary"].startswith("Accept")
    assert "12" in response.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*;q=0.8, text/csv;q=0.1", "text/tab-separated-values"),
        ("text/html, application/xhtml+xml, */*;q=0.8", "application/sparql-results+json"),
        ("application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
        ("text/csv; charset=utf-8", "text/csv"),
    ],
)
def test_accept_with_q_values_and_wildcards(
    client: TestClient, endpoint: str, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(endpoint, params={"query": TOOLS}, headers=headers)
    assert response.status_code == 200
    assert media(response) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_format_parameter_overrides_accept(
    client: TestClient, endpoint: str, value: str, expected: str
) -> None:
    for response in (
        client.get(
            endpoint,
            params={"query": TOOLS, "format": value},
            headers={"Accept": "application/sparql-results+json;q=0.1, text/turtle"},
        ),
        client.post(endpoint, data={"query": TOOLS, "format": value}, headers=FORM),
    ):
        assert response.status_code == 200
        assert media(response) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("turtle", "text/turtle"),
        ("ntriples", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdfxml", "application/rdf+xml"),
        ("json", "application/ld+json"),
        ("xml", "application/rdf+xml"),
    ],
)
def test_format_parameter_for_graphs(
    client: TestClient, endpoint: str, value: str, expected: str
) -> None:
    response = client.get(endpoint, params={"query": TOOL_TRIPLES, "format": value})
    assert response.status_code == 200
    assert media(response) == expected


@pytest.mark.parametrize("accept", [a for a in RDF_TYPES if a != "text/turtle"])
def test_construct_in_each_rdf_format(client: TestClient, endpoint: str, accept: str) -> None:
    default = client.get(endpoint, params={"query": TOOL_TRIPLES})
    assert media(default) == "text/turtle"
    expected = Graph().parse(data=default.content, format="turtle")
    assert len(expected) > 12 * 5
    response = client.get(endpoint, params={"query": TOOL_TRIPLES}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media(response) == accept
    assert response.headers["vary"].startswith("Accept")
    assert_isomorphic(expected, Graph().parse(data=response.content, format=RDF_TYPES[accept]))


def test_ask_in_json_and_xml(client: TestClient, endpoint: str) -> None:
    query = PROLOGUE + "ASK { ?t a akg:ReviewedTool }"
    response = client.get(endpoint, params={"query": query})
    assert media(response) == "application/sparql-results+json"
    assert response.json() == {"head": {}, "boolean": True}
    response = client.get(
        endpoint, params={"query": query}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert media(response) == "application/sparql-results+xml"
    assert "<boolean>true</boolean>" in response.text


@pytest.mark.parametrize(
    ("query", "accept", "params"),
    [
        ("ASK { ?s ?p ?o }", "text/csv", {}),
        ("ASK { ?s ?p ?o }", "text/tab-separated-values", {}),
        ("ASK { ?s ?p ?o }", None, {"format": "csv"}),
        (TOOLS, "text/turtle", {}),
        (TOOLS, "application/sparql-results+json;q=0, text/html", {}),
        (TOOL_TRIPLES, "application/sparql-results+json", {}),
        (TOOL_TRIPLES, None, {"format": "tsv"}),
    ],
    ids=["ask-csv", "ask-tsv", "ask-format-csv", "select-turtle", "q0", "construct-json", "tsv"],
)
def test_unacceptable_is_a_406(
    client: TestClient, endpoint: str, query: str, accept: str | None, params: dict[str, str]
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(endpoint, params={"query": query, **params}, headers=headers)
    assert response.status_code == 406
    assert media(response) == "text/plain"
    assert "available" in response.text


def test_unknown_format_name_is_a_400(client: TestClient, endpoint: str) -> None:
    response = client.get(endpoint, params={"query": TOOLS, "format": "yaml"})
    assert response.status_code == 400
    assert "unknown format 'yaml'" in response.text


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_malformed_query_is_a_400_with_the_parsers_message(
    client: TestClient, endpoint: str, method: str
) -> None:
    response = ask(client, endpoint, method, "SELECT WHERE {")
    assert response.status_code == 400
    assert media(response) == "text/plain"
    assert response.text.startswith("malformed query: error at 1:")


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
def test_an_update_sent_as_a_query_is_refused(
    client: TestClient, endpoint: str, method: str
) -> None:
    update = "PREFIX ex: <http://example.org/>\nINSERT DATA { ex:a ex:b ex:c }"
    response = ask(client, endpoint, method, update)
    assert response.status_code == 400
    assert "malformed query" in response.text
    assert "read-only" in response.text
    assert (
        number(
            ask(client, endpoint, "GET", "SELECT (COUNT(*) AS ?n) { <http://example.org/a> ?p ?o }")
        )
        == 0
    )


def test_service_is_refused_without_a_request_going_out(client: TestClient, endpoint: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        # A request the server made would be in the queue by the time it answered: a check
        # without waiting sees it as surely as any wait would.
        listener.setblocking(False)
        target = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        query = f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"
        for text in (query, f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"):
            response = client.get(endpoint, params={"query": text})
            assert response.status_code == 400
            assert "SERVICE is not supported" in response.text
        with pytest.raises(BlockingIOError):
            listener.accept()


def cpu_seconds() -> float:
    """The CPU time this process (the server runs in it) and its children (query workers, a
    remote store's server) have used: unlike the wall clock, no other load adds to it."""
    total = time.process_time()
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_pathological_query_is_answered_quickly(client: TestClient, endpoint: str) -> None:
    """Unterminated strings everywhere, up to the size limit: a scan that restarted at each quote
    would take half a minute of CPU; the linear one takes a millisecond. Counted in CPU seconds,
    which a loaded machine does not inflate as it does the wall clock."""
    before = cpu_seconds()
    response = client.post(endpoint, content='"\\' * 32_000, headers=DIRECT)
    assert response.status_code == 400
    assert cpu_seconds() - before < 5


def test_an_update_parameter_is_refused(client: TestClient, endpoint: str) -> None:
    update = "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }"
    for response in (
        client.post(endpoint, data={"update": update}, headers=FORM),
        client.get(endpoint, params={"update": update}),
    ):
        assert response.status_code == 400
        assert "read-only" in response.text
    response = client.post(
        endpoint, content=update, headers={"Content-Type": "application/sparql-update"}
    )
    assert response.status_code == 415
    assert "read-only" in response.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json", None], ids=["text", "json", "none"]
)
def test_other_request_types_are_a_415(
    client: TestClient, endpoint: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(endpoint, content=TOOLS, headers=headers)
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_missing_empty_and_repeated_queries_are_a_400(client: TestClient, endpoint: str) -> None:
    cases = [
        client.post(endpoint, data={"format": "json"}, headers=FORM),
        client.post(endpoint, data={"query": ""}, headers=FORM),
        client.post(endpoint, content=b"", headers=DIRECT),
        client.get(endpoint, params={"query": ""}),
        client.get(endpoint, params={"query": [TOOLS, TOOLS]}),
        client.post(endpoint, data={"query": [TOOLS, TOOLS]}, headers=FORM),
        client.post(endpoint, params={"query": TOOLS}, content=TOOLS, headers=DIRECT),
    ]
    for response in cases:
        assert response.status_code == 400, response.request
        assert media(response) == "text/plain"


def test_too_large_a_body_is_a_413(client: TestClient, endpoint: str) -> None:
    query = TOOLS + " #" + "x" * (1024 * 1024)
    response = client.post(endpoint, content=query, headers=DIRECT)
    assert response.status_code == 413


COTE = 'SELECT ("Côte d’Ivoire" AS ?x) WHERE {}'


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF-8", "Utf-8", '"utf-8"'])
def test_a_utf8_body_is_read_whatever_the_spelling_of_its_charset(
    client: TestClient, endpoint: str, charset: str | None
) -> None:
    declared = f"; charset={charset}" if charset else ""
    for content_type, data in (
        ("application/sparql-query", COTE.encode()),
        ("application/x-www-form-urlencoded", urlencode({"query": COTE}).encode()),
    ):
        response = client.post(
            endpoint, content=data, headers={"Content-Type": content_type + declared}
        )
        assert response.status_code == 200, response.text
        assert response.json()["results"]["bindings"][0]["x"]["value"] == "Côte d’Ivoire"


@pytest.mark.parametrize("charset", ["UTF-16", "iso-8859-1", "utf8", "us-ascii"])
def test_a_body_in_another_charset_is_a_415_naming_it(
    client: TestClient, endpoint: str, charset: str
) -> None:
    """The protocol allows UTF-8 only; even a body whose bytes happen to be UTF-8 (ASCII) is
    refused when it says it is something else, as the next endpoint would refuse it too."""
    python_codec = {"utf8": "utf-8", "us-ascii": "ascii"}.get(charset, charset)
    query = "ASK {}" if charset == "us-ascii" else 'SELECT ("Côte" AS ?x) WHERE {}'
    for content_type, data in (
        ("application/sparql-query", query.encode(python_codec)),
        (
            "application/x-www-form-urlencoded",
            urlencode({"query": query}, encoding=python_codec).encode(),
        ),
    ):
        response = client.post(
            endpoint, content=data, headers={"Content-Type": f"{content_type}; charset={charset}"}
        )
        assert response.status_code == 415, (content_type, response.text)
        assert media(response) == "text/plain"
        assert f"charset '{charset}'" in response.text
        assert "UTF-8" in response.text
        assert response.text.count("\n") == 1


def test_a_body_that_is_not_utf8_is_a_400(client: TestClient, endpoint: str) -> None:
    response = client.post(
        endpoint, content=b"\xff\xfe\xfa", headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 400
    assert "not UTF-8" in response.text


def test_other_methods_are_a_405_naming_the_allowed_ones(client: TestClient, endpoint: str) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.request(method, endpoint, content=TOOLS, headers=DIRECT)
        assert response.status_code == 405
        assert {m.strip() for m in response.headers["allow"].split(",")} >= {
            "GET",
            "HEAD",
            "POST",
        }


def test_head_answers_the_headers_only(client: TestClient, endpoint: str) -> None:
    response = client.head(endpoint, params={"query": TOOLS}, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert media(response) == "text/csv"
    assert response.content == b""
    response = client.head(endpoint, params={"query": "SELECT WHERE {"})
    assert response.status_code == 400


# --- the service description --------------------------------------------------------------------


def service_description(client: httpx.Client, endpoint: str, accept: str = "text/turtle") -> Graph:
    response = client.get(endpoint, headers={"Accept": accept})
    assert response.status_code == 200
    assert media(response) == accept
    assert response.headers["vary"].startswith("Accept")
    return Graph().parse(data=response.content, format=RDF_TYPES[accept])


def test_service_description(
    client: TestClient, endpoint: str, curated: Graph, store_graph_names: list[str]
) -> None:
    response = client.get(endpoint)
    assert media(response) == "text/turtle"
    description = Graph().parse(data=response.content, format="turtle")
    (service,) = description.subjects(RDF.type, SD.Service)
    assert description.value(service, SD.endpoint) == URIRef(endpoint)
    assert description.value(service, SD.supportedLanguage) == SD.SPARQL11Query
    assert set(description.objects(service, SD.feature)) == {SD.UnionDefaultGraph}
    assert set(description.objects(service, SD.resultFormat)) == {
        FORMATS[name]
        for name in (
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "N-Triples",
            "JSON-LD",
            "RDF_XML",
        )
    }
    dataset = description.value(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in description
    default = description.value(dataset, SD.defaultGraph)
    distinct = number(
        client.get(
            endpoint,
            params={
                "query": "SELECT (COUNT(*) AS ?n) WHERE "
                "{ SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
            },
        )
    )
    assert integer(description.value(default, VOID.triples)) == distinct
    sizes = {}
    for named in description.objects(dataset, SD.namedGraph):
        assert (named, RDF.type, SD.NamedGraph) in description
        graph = description.value(named, SD.graph)
        sizes[str(description.value(named, SD.name))] = integer(
            description.value(graph, VOID.triples)
        )
    assert set(sizes) == set(store_graph_names)
    assert sizes[CURATED] == len(curated)
    count_v3 = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert sizes[V3] == number(ask(client, endpoint, "GET", count_v3, **{"default-graph-uri": V3}))
    assert sum(sizes.values()) == distinct  # each statement is in one graph


@pytest.mark.parametrize("accept", [a for a in RDF_TYPES if a != "text/turtle"])
def test_service_description_in_each_rdf_format(
    client: TestClient, endpoint: str, accept: str
) -> None:
    assert_isomorphic(
        service_description(client, endpoint), service_description(client, endpoint, accept)
    )


def test_service_description_by_format_head_and_406(client: TestClient, endpoint: str) -> None:
    response = client.get(endpoint, params={"format": "jsonld"})
    assert media(response) == "application/ld+json"
    response = client.head(endpoint)
    assert response.status_code == 200
    assert media(response) == "text/turtle"
    assert response.content == b""
    response = client.get(endpoint, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 406


# --- CORS and OpenAPI ---------------------------------------------------------------------------


def test_cors_for_reads(client: TestClient, endpoint: str) -> None:
    origin = {"Origin": "https://example.org"}
    response = client.get(endpoint, params={"query": TOOLS}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    response = client.options(
        endpoint,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "HEAD", "OPTIONS"}
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    response = client.options(endpoint, headers={**origin, "Access-Control-Request-Method": "PUT"})
    assert response.status_code == 400


def test_openapi_documents_the_protocol(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = spec["paths"]["/sparql"]
    assert set(operations) >= {"get", "head", "post"}
    get = operations["get"]
    assert get["summary"]
    assert {p["name"] for p in get["parameters"]} == {
        "query",
        "default-graph-uri",
        "named-graph-uri",
        "format",
    }
    assert set(get["responses"]["200"]["content"]) == set(RESULT_TYPES) | set(RDF_TYPES)
    assert {"400", "406"} <= set(get["responses"])
    post = operations["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/sparql-query",
    }
    assert {"400", "406", "415"} <= set(post["responses"])
    assert client.get("/docs").status_code == 200
