"""/sparql over real HTTP: the app served by uvicorn on loopback, queried by real clients."""

from __future__ import annotations

import httpx
import pytest
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from atrocity_kg.config import Settings
from atrocity_kg.query.client import remote_select
from atrocity_kg.query.results import Table
from queries_support import as_plain, run_catalogue_query

TOOLS = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
SELECT (COUNT(?t) AS ?n) WHERE { ?t a akg:ReviewedTool }"""


@pytest.fixture(scope="module")
def endpoint(embedded_base: str) -> str:
    """/sparql of the session's real server on the embedded store."""
    return f"{embedded_base}/sparql"


def test_sparqlwrapper_get_and_post(endpoint: str) -> None:
    for method in ("GET", POST):
        client = SPARQLWrapper(endpoint)
        client.setMethod(method)
        client.setReturnFormat(JSON)
        client.setQuery(TOOLS)
        data = client.query().convert()
        assert isinstance(data, dict)
        assert data["results"]["bindings"][0]["n"]["value"] == "12"


def test_direct_sparql_query_body(endpoint: str) -> None:
    response = httpx.post(
        endpoint, content=TOOLS, headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "12"


def test_malformed_query_is_a_400_with_the_reason(endpoint: str) -> None:
    response = httpx.get(endpoint, params={"query": "SELECT WHERE {"})
    assert response.status_code == 400
    assert "malformed query" in response.text


def test_missing_query_and_wrong_body_type(endpoint: str) -> None:
    # A GET without a query is the service description (tests/test_protocol.py); a POST is a 400.
    assert httpx.get(endpoint).headers["content-type"].startswith("text/turtle")
    assert httpx.post(endpoint, data={"format": "json"}).status_code == 400
    response = httpx.post(endpoint, content=TOOLS, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_catalogue_query_through_the_endpoint_matches_the_store(
    built: Settings, endpoint: str
) -> None:
    from atrocity_kg.query import queries

    entry = queries.load_catalogue(built.queries_dir)["tool-study-counts"]
    remote = remote_select(endpoint, entry.bound_text({}))
    assert isinstance(remote, Table)
    assert as_plain(remote) == as_plain(run_catalogue_query(built, "tool-study-counts"))
