"""The W3C's SPARQL 1.1 Protocol and Service Description tests, query side, run offline against a
real server of the app, on the embedded store and on a remote one.

The requests each test makes, and what it expects back, are data: tests/w3c/protocol.toml, one
entry per W3C test under the name its manifest gives it (w3c/rdf-tests,
sparql/sparql11/protocol/manifest.ttl and sparql/sparql11/service-description/manifest.ttl). The
server holds the dataset the protocol manifest's dataset tests load (its ut:graphData graphs,
written in the same file), so the answers can be checked for what they say, not only for their
status and media type.

Omitted: every test of the update operation. The public endpoint is read-only: it refuses SPARQL
Update whatever the request (tests/test_protocol.py checks that), so the positive update tests
cannot pass and the negative ones would pass for the wrong reason (read-only, not the defect each
one sends). They are:

- update_dataset_default_graph, update_dataset_default_graphs, update_dataset_named_graphs,
  update_dataset_full, update_post_form, update_post_direct, update_base_uri: each sends an
  update that must succeed (some then query what it wrote);
- bad_update_get, bad_multiple_updates, bad_update_wrong_media_type, bad_update_missing_form_type,
  bad_update_non_utf8, bad_update_syntax, bad_update_dataset_conflict: each sends a faulty update
  that must be refused for its fault.

The file lists every entry of both manifests, and the test of completeness below fails when a
W3C test is neither run nor listed here as omitted.
"""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Namespace, URIRef

from atrocity_kg.config import Settings
from atrocity_kg.storage import push, store
from conftest import REPO, TEST_LIMITS
from graphdiff import assert_isomorphic
from server import media, oxigraph_server, serving

CASES = Path(__file__).parent / "w3c" / "protocol.toml"
SUITES = tomllib.loads(CASES.read_text(encoding="utf-8"))
TESTS: list[dict[str, Any]] = SUITES["test"]
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

# What each expected format may come as (this endpoint's formats, by the protocol's media types).
BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
RESULTS_XML = "{http://www.w3.org/2005/sparql-results#}"


# --- the server, holding the tests' dataset -----------------------------------------------------


def dataset() -> ox.Store:
    """The named graphs of the file's [dataset], each parsed from its Turtle."""
    memory = ox.Store()
    for name, turtle in SUITES["dataset"].items():
        memory.load(turtle.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(name))
    return memory


@pytest.fixture(scope="module")
def served_settings(
    tmp_path_factory: pytest.TempPathFactory, store_mode: str
) -> Iterator[Settings]:
    """The app's settings over a store holding only the tests' dataset (``base`` serves them):
    the build itself in embedded mode, or an Oxigraph server it was pushed to."""
    settings = Settings(home=REPO, store_dir=tmp_path_factory.mktemp("w3c-store"), **TEST_LIMITS)
    store.write_store(settings.store_root, dataset())
    if store_mode == "embedded":
        yield settings
        return
    with oxigraph_server(union_default_graph=False) as url:
        endpoint = f"{url}/query"
        push.push_store(settings.store_root, push.Target(endpoint))
        yield settings.model_copy(update={"sparql_endpoint": endpoint})


@pytest.fixture(scope="module")
def base(served_settings: Settings) -> Iterator[str]:
    """The app over real HTTP on loopback, serving the tests' dataset (these are tests of the
    protocol on the wire)."""
    with serving(served_settings) as url:
        yield url


@pytest.fixture(scope="module")
def endpoint(base: str) -> str:
    return f"{base}/sparql"


# --- the checks ---------------------------------------------------------------------------------


def send(endpoint: str, case: dict[str, Any]) -> httpx.Response:
    body = case.get("body")
    content = body.encode(case.get("body_encoding", "utf-8")) if body is not None else None
    response = httpx.request(
        case["method"],
        endpoint,
        params=case.get("params", {}),
        headers=case.get("headers", {}),
        content=content,
    )
    if not any(name.lower() == "content-type" for name in case.get("headers", {})):
        # The tests without a media type must not get one from the client library.
        assert "content-type" not in response.request.headers
    return response


def boolean_answer(response: httpx.Response) -> bool:
    """The answer of an ASK, read from SPARQL JSON or XML."""
    if media(response) == "application/sparql-results+json":
        value = json.loads(response.content)["boolean"]
        assert isinstance(value, bool)
        return value
    element = ET.fromstring(response.content).find(f"{RESULTS_XML}boolean")
    assert element is not None, response.text
    assert element.text in ("true", "false")
    return element.text == "true"


def tabular_answer(response: httpx.Response) -> None:
    """A SELECT's answer: parsed in its format, it has variables (or a header line)."""
    kind = media(response)
    if kind == "application/sparql-results+json":
        assert json.loads(response.content)["head"]["vars"]
    elif kind == "application/sparql-results+xml":
        assert ET.fromstring(response.content).find(f"{RESULTS_XML}head") is not None
    else:
        assert response.text.splitlines()[0]


def rdf_answer(response: httpx.Response) -> Graph:
    """An RDF answer, parsed in its format (with no base: its IRIs must be absolute)."""
    return Graph().parse(data=response.content, format=RDF_TYPES[media(response)])


def endpoint_is_the_url_requested(description: Graph, endpoint: str) -> None:
    """has-endpoint-triple: some service has the URL the description was read from as its
    sd:endpoint."""
    assert list(description.subjects(SD.endpoint, URIRef(endpoint))), description.serialize()


def named_graphs_have_names(description: Graph, endpoint: str) -> None:
    """conforms-to-schema (the part the validator checks): every sd:NamedGraph has an sd:name;
    here, the names of the graphs the store holds."""
    named = list(description.subjects(RDF.type, SD.NamedGraph))
    assert named, "no sd:NamedGraph described: nothing to check"
    names = {str(name) for graph in named for name in description.objects(graph, SD.name)}
    assert all(description.value(graph, SD.name) is not None for graph in named)
    assert names == set(SUITES["dataset"])


CHECKS: dict[str, Callable[[Graph, str], None]] = {
    "endpoint-is-the-url-requested": endpoint_is_the_url_requested,
    "named-graphs-have-names": named_graphs_have_names,
}


# --- the tests ----------------------------------------------------------------------------------


def test_every_w3c_test_is_run_or_omitted_with_a_reason() -> None:
    run = {(case["manifest"], case["name"]) for case in TESTS}
    assert len(run) == len(TESTS), "a test is written twice"
    omitted = {("protocol", name) for name in SUITES["omitted"]}
    listed = {(suite, name) for suite, names in SUITES["manifests"].items() for name in names}
    assert not run & omitted
    assert run | omitted == listed
    for name, reason in SUITES["omitted"].items():
        assert reason, f"{name}: no reason given in {CASES.name}"
        assert name in (__doc__ or ""), f"{name}: say why in the module docstring"
    assert all(case["status"] in ("2xx", "4xx") for case in TESTS)


@pytest.mark.parametrize("case", TESTS, ids=[case["name"] for case in TESTS])
def test_w3c(endpoint: str, case: dict[str, Any]) -> None:
    response = send(endpoint, case)
    assert f"{response.status_code // 100}xx" == case["status"], response.text
    if case["status"] != "2xx":
        return
    expected = case["format"]
    if expected == "boolean":
        assert media(response) in BOOLEAN_TYPES
        answer = boolean_answer(response)
        if "boolean" in case:
            assert answer is case["boolean"]
    elif expected == "tabular":
        assert media(response) in TABULAR_TYPES
        tabular_answer(response)
    else:
        assert expected == "RDF"
        assert media(response) in RDF_TYPES
        graph = rdf_answer(response)
        if "graph" in case:
            wanted = Graph().parse(data=case["graph"], format="turtle", publicID=endpoint)
            assert_isomorphic(wanted, graph)
        for check in case.get("checks", []):
            CHECKS[check](graph, endpoint)
