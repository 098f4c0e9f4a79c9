"""The remote store in place of the embedded one: the same answers by either way of asking for
the union default graph, the store's own errors passed on, and the serve command's check. (Every
API test also runs on a remote store: see the store_mode fixture in conftest.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from atrocity_kg.query import queries
from atrocity_kg.query.results import table_from_solutions
from atrocity_kg.storage import push, store
from atrocity_kg.storage.remote import (
    GRAPH_BASE,
    GRAPHS_TTL,
    LISTING_SHARE,
    GraphListing,
    RemoteStore,
    check_syntax,
    query_form,
    with_base,
)
from queries_support import as_plain, run_catalogue_query
from server import closed_port, oxigraph_server

pytestmark = pytest.mark.slow  # real Oxigraph servers

REPO = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))
TOOL = ox.NamedNode("https://w3id.org/atrocity-kg/id/tool/mediation")


@pytest.fixture(scope="module")
def native_endpoint(built: Settings) -> Iterator[str]:
    """An Oxigraph server whose default graph is the union of its named graphs."""
    with oxigraph_server(union_default_graph=True) as url:
        endpoint = f"{url}/query"
        push.push_store(built.store_root, push.Target(endpoint))
        yield endpoint


@pytest.mark.parametrize("name", NAMES)
def test_both_ways_to_the_union_give_the_embedded_answers(
    built: Settings, remote_endpoint: str, native_endpoint: str, name: str
) -> None:
    entry = queries.load_catalogue(built.queries_dir)[name]
    expected = as_plain(run_catalogue_query(built, name))
    for remote in (
        RemoteStore(remote_endpoint, union="protocol"),
        RemoteStore(native_endpoint, union="native"),
    ):
        answer = store.run_query(remote, entry.bound_text({}))
        assert isinstance(answer, ox.QuerySolutions)
        assert as_plain(table_from_solutions(answer)) == expected, remote.union
        remote.close()


def test_without_the_union_the_named_graphs_are_out_of_sight(remote_endpoint: str) -> None:
    """The check that the protocol way matters: the server's own default graph is empty."""
    remote = RemoteStore(remote_endpoint, union="native")
    answer = remote.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(answer, ox.QueryBoolean)
    assert not bool(answer)
    remote.close()


def test_quads_for_pattern_and_graphs_match_the_embedded_store(
    built: Settings, remote_endpoint: str
) -> None:
    remote = RemoteStore(remote_endpoint)
    with store.opened(built.store_root) as embedded:
        local = {str(q) for q in embedded.quads_for_pattern(TOOL, None, None, None)}
        names = store.graph_names(embedded)
    assert {str(q) for q in remote.quads_for_pattern(TOOL, None, None, None)} == local
    assert sorted(n.value for n in remote.named_graphs()) == names
    assert list(remote.quads_for_pattern(ox.BlankNode(), None, None, None)) == []
    remote.close()


def test_the_stores_parser_message_comes_back_as_a_syntax_error(remote_endpoint: str) -> None:
    remote = RemoteStore(remote_endpoint)
    with pytest.raises(SyntaxError) as caught:
        remote.query("SELECT WHERE nonsense")
    assert "error at 1:" in str(caught.value)
    remote.close()


def test_an_unreachable_store_is_a_store_error_naming_it() -> None:
    with closed_port() as port:
        endpoint = f"http://127.0.0.1:{port}/query"
        remote = RemoteStore(endpoint, timeout=5)
        with pytest.raises(StoreError) as caught:
            remote.query("ASK {}")
    assert endpoint in str(caught.value)
    remote.close()


def test_serve_refuses_to_start_on_an_unreachable_store(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    with closed_port() as port:
        endpoint = f"http://127.0.0.1:{port}/query"
        result = CliRunner().invoke(app, ["serve", "--endpoint", endpoint])
    assert result.exit_code == 1
    assert "did not answer" in result.output


def test_a_base_iri_goes_to_the_remote_store_as_a_base_declaration(remote_endpoint: str) -> None:
    """The protocol has no parameter for a base: it travels as BASE (only when the query has a
    relative IRI), and a query's own BASE still comes first."""
    remote = RemoteStore(remote_endpoint)
    base = "http://example.org/dir/endpoint"
    query = "SELECT (<> AS ?here) (<s> AS ?s) WHERE {}"
    answer = remote.query(query, base_iri=base)
    assert isinstance(answer, ox.QuerySolutions)
    assert [(row["here"].value, row["s"].value) for row in answer] == [
        (base, "http://example.org/dir/s")
    ]
    answer = remote.query("BASE <http://example.net/> SELECT (<s> AS ?s) WHERE {}", base_iri=base)
    assert isinstance(answer, ox.QuerySolutions)
    assert [row["s"].value for row in answer] == ["http://example.net/s"]
    # Without it, the remote store resolves against its own URL, not ours.
    answer = remote.query(query)
    assert isinstance(answer, ox.QuerySolutions)
    assert [row["here"].value for row in answer] == [remote_endpoint]
    with pytest.raises(ValueError, match="Invalid"):
        remote.query(query, base_iri="not absolute")
    remote.close()


def test_a_querys_own_bases_become_one_absolute_base_in_front() -> None:
    """Virtuoso takes one BASE only, before every PREFIX: the prologue's IRIs are resolved here,
    each against the BASE before it, as SPARQL says; the line breaks stay where they were."""
    query = (
        "PREFIX a: <x/>\nBASE <http://example.net/d/>\nPREFIX b: <y/>\nBASE <../e/>\n"
        "ASK { <s> a:p b:o }"
    )
    rewritten = with_base(query, "http://example.org/sparql")
    assert rewritten == (
        "BASE <http://example.net/e/> PREFIX a: <http://example.org/x/>\n\n"
        "PREFIX b: <http://example.net/d/y/>\n\nASK { <s> a:p b:o }"
    )
    store = ox.Store()
    store.add(
        ox.Quad(
            ox.NamedNode("http://example.net/e/s"),
            ox.NamedNode("http://example.org/x/p"),
            ox.NamedNode("http://example.net/d/y/o"),
        )
    )
    assert bool(store.query(query, base_iri="http://example.org/sparql"))
    assert bool(store.query(rewritten))


def test_a_query_is_parsed_here_before_a_remote_store_sees_it() -> None:
    """As the embedded store parses it: the same message, and no prefix the store predeclares."""
    with pytest.raises(SyntaxError, match="error at 1:"):
        check_syntax("SELECT * WHERE { ?s rdfs:label ?o }", "http://example.org/sparql")
    with pytest.raises(ValueError, match="Invalid"):
        check_syntax("ASK {}", "not absolute")
    check_syntax("SELECT (<> AS ?here) {}", None)  # the remote store resolves it
    assert query_form("# c\nPREFIX a: <x:> BASE <http://b/> describe <a>") == "describe"
    assert query_form("INSERT DATA {}") is None


def test_a_base_that_is_not_needed_leaves_the_error_positions_alone(remote_endpoint: str) -> None:
    remote = RemoteStore(remote_endpoint)
    with pytest.raises(SyntaxError) as caught:
        remote.query("SELECT WHERE nonsense", base_iri="http://example.org/sparql")
    assert "error at 1:" in str(caught.value)
    assert with_base("ASK { <http://example.org/a> ?p ?o }", "http://example.org/") == (
        "ASK { <http://example.org/a> ?p ?o }"
    )
    assert with_base("ASK { <a> ?p ?o }", "http://example.org/") == (
        "BASE <http://example.org/>\nASK { <a> ?p ?o }"
    )
    remote.close()


class Clock:
    """The remote store's clock, moved on by the test rather than by waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def write_graph(base: str, name: str) -> None:
    update = f"INSERT DATA {{ GRAPH <{name}> {{ <urn:x:s> <urn:x:p> <urn:x:o> }} }}"
    response = httpx.post(f"{base}/update", data={"update": update})
    assert response.status_code == 204, response.text


def test_the_list_of_graphs_is_read_again_off_the_request_path() -> None:
    """A request answers with the list in hand; a listing past its time runs in a thread, and
    the requests after it see its graphs. A listing that fails keeps the list in hand."""
    first, second = (f"{GRAPH_BASE}test/{n}" for n in ("first", "second"))
    clock = Clock()
    with oxigraph_server(union_default_graph=False) as base:
        write_graph(base, first)
        remote = RemoteStore(f"{base}/query", clock=clock)
        assert remote.graph_names() == (first,)
        write_graph(base, second)
        assert remote.graph_names() == (first,)  # not yet due
        remote.settle()  # nothing under way: returns at once
        clock.now += GRAPHS_TTL
        assert remote.graph_names() == (first,)  # answered at once; a listing starts
        remote.settle()
        assert remote.graph_names() == (first, second)
        assert remote.graph_names(fresh=True) == (first, second)
    # The server is gone: the list in hand stays, and only a fresh listing fails.
    clock.now += GRAPHS_TTL
    assert remote.graph_names() == (first, second)
    remote.settle()
    assert remote.graph_names() == (first, second)
    with pytest.raises(StoreError):
        remote.graph_names(fresh=True)
    remote.close()


def test_a_slow_listing_is_read_again_less_often() -> None:
    """No sooner than its duration over LISTING_SHARE, so that the listing takes at most that
    share of the store's time."""
    assert GraphListing((), 100.0, 0.001).due == 100.0 + GRAPHS_TTL
    assert GraphListing((), 100.0, 21.0).due == pytest.approx(100.0 + 21.0 / LISTING_SHARE)
    assert GraphListing(("g",), 100.0, 21.0).retried(200.0) == GraphListing(("g",), 200.0, 0.0)
