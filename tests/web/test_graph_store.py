"""/graph-store: SPARQL 1.1 Graph Store Protocol reads, through the app in this process; a large
graph streamed over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from conftest import IN_PROCESS
from graphdiff import assert_isomorphic
from server import media

GRAPH = "https://w3id.org/atrocity-kg/graph/"
CURATED, V3 = GRAPH + "curated", GRAPH + "ushmm-v3"
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
NAMES = {"turtle": "text/turtle", "ntriples": "application/n-triples"}
NAMES |= {"jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}


STORE_URL = f"{IN_PROCESS}/graph-store"


@pytest.fixture(scope="module")
def store_url() -> str:
    """/graph-store as the in-process client (``client``) reaches it."""
    return STORE_URL


def count(client: httpx.Client, base: str, query: str, **params: str) -> int:
    response = client.get(f"{base}/sparql", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_curated_graph_is_the_curated_files(
    client: TestClient, store_url: str, curated: Graph
) -> None:
    response = client.get(store_url, params={"graph": CURATED})
    assert response.status_code == 200
    assert media(response) == "text/turtle"
    assert response.headers["vary"].startswith("Accept")
    assert_isomorphic(curated, Graph().parse(data=response.content, format="turtle"))


@pytest.mark.parametrize("accept", list(RDF_TYPES))
def test_each_rdf_format_by_accept(
    client: TestClient, store_url: str, curated: Graph, accept: str
) -> None:
    response = client.get(store_url, params={"graph": CURATED}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media(response) == accept
    assert_isomorphic(curated, Graph().parse(data=response.content, format=RDF_TYPES[accept]))


@pytest.mark.parametrize(("name", "expected"), list(NAMES.items()))
def test_each_rdf_format_by_parameter(
    client: TestClient, store_url: str, curated: Graph, name: str, expected: str
) -> None:
    response = client.get(
        store_url, params={"graph": CURATED, "format": name}, headers={"Accept": "text/turtle"}
    )
    assert media(response) == expected
    assert_isomorphic(curated, Graph().parse(data=response.content, format=RDF_TYPES[expected]))


def test_default_graph_is_the_union_without_repeats(client: TestClient, store_url: str) -> None:
    with client.stream(
        "GET", f"{store_url}?default", headers={"Accept": "application/n-triples"}
    ) as response:
        assert response.status_code == 200
        assert media(response) == "application/n-triples"
        lines = list(response.iter_lines())
    lines = [line for line in lines if line.strip()]
    assert len(set(lines)) == len(lines)
    distinct = count(
        client,
        IN_PROCESS,
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }",
    )
    assert len(lines) == distinct
    assert any(CURATED.removesuffix("graph/curated") + "id/tool/" in line for line in lines)
    assert any("/id/study/" in line for line in lines)


def test_a_release_graph_is_streamed(base: str) -> None:
    store_url = f"{base}/graph-store"
    with httpx.Client() as http:
        query = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
        size = count(http, base, query, **{"named-graph-uri": V3})
    assert size > 20_000
    chunks = lines = 0
    with httpx.stream("GET", store_url, params={"graph": V3, "format": "ntriples"}) as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_bytes():
            chunks += 1
            lines += chunk.count(b"\n")
    assert chunks > 10
    assert lines == size


def test_head_gives_the_headers_only(client: TestClient, store_url: str) -> None:
    response = client.head(
        store_url, params={"graph": CURATED}, headers={"Accept": "application/ld+json"}
    )
    assert response.status_code == 200
    assert media(response) == "application/ld+json"
    assert response.content == b""
    response = client.head(f"{store_url}?default")
    assert response.status_code == 200
    assert media(response) == "text/turtle"
    response = client.head(store_url, params={"graph": GRAPH + "nothing"})
    assert response.status_code == 404


def test_unknown_graph_is_a_404(client: TestClient, store_url: str) -> None:
    response = client.get(store_url, params={"graph": GRAPH + "nothing"})
    assert response.status_code == 404
    assert media(response) == "text/plain"
    assert GRAPH + "nothing" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "",
        f"default&graph={CURATED}",
        f"graph={CURATED}&graph={V3}",
        "graph=graph/curated",
        "graph=",
    ],
    ids=["neither", "both", "two-graphs", "relative", "empty"],
)
def test_naming_no_single_graph_is_a_400(client: TestClient, store_url: str, query: str) -> None:
    response = client.get(f"{store_url}?{query}")
    assert response.status_code == 400
    assert media(response) == "text/plain"


def test_unacceptable_format_is_a_406(client: TestClient, store_url: str) -> None:
    response = client.get(
        store_url, params={"graph": CURATED}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 406
    assert response.headers["vary"].startswith("Accept")
    response = client.get(store_url, params={"graph": CURATED, "format": "csv"})
    assert response.status_code == 406


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_writes_are_a_405_with_allow(
    client: TestClient, store_url: str, curated: Graph, method: str
) -> None:
    response = client.request(
        method,
        store_url,
        params={"graph": CURATED},
        content=b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .",
        headers={"Content-Type": "application/n-triples"},
    )
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
    assert "read-only" in response.text
    after = client.get(store_url, params={"graph": CURATED})
    assert_isomorphic(curated, Graph().parse(data=after.content, format="turtle"))


def test_options_and_cors(client: TestClient, store_url: str) -> None:
    response = client.options(store_url)
    assert response.status_code == 204
    assert "GET" in response.headers["allow"]
    response = client.get(
        store_url, params={"graph": CURATED}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_openapi_documents_the_graph_store(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/graph-store"]
    assert set(operations) == {"get", "head"}
    get = operations["get"]
    assert get["summary"]
    assert {p["name"] for p in get["parameters"]} == {"default", "graph", "format"}
    assert set(get["responses"]["200"]["content"]) == set(RDF_TYPES)
    assert {"400", "404", "406"} <= set(get["responses"])
