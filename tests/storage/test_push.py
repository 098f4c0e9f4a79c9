"""`atrocity-kg push` against a real Oxigraph server on loopback: the remote answers every
catalogue query as the embedded store does, and pushing again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.query import queries
from atrocity_kg.query.client import remote_select
from atrocity_kg.query.results import Table
from atrocity_kg.storage import push
from queries_support import run_catalogue_query
from remote_support import BLANK_LINKS, NAMES, local_blank_links, local_counts, plain
from server import closed_port, oxigraph_server

pytestmark = pytest.mark.slow  # real Oxigraph servers

REPO = Path(__file__).resolve().parents[2]
NT = {"Content-Type": "application/n-triples"}
STALE = f"{push.GRAPH_BASE}retired"
FOREIGN = "https://example.org/not-ours"
SEED = b"<https://example.org/s> <https://example.org/p> <https://example.org/o> .\n"


def seed(base: str) -> None:
    """A project graph the local store has not (to be dropped) and a foreign one (to be kept)."""
    for graph in (STALE, FOREIGN):
        response = httpx.put(
            f"{base}/store",
            params={"graph": graph},
            content=SEED,
            headers=NT,
        )
        assert response.is_success, response.text


def remote_table(endpoint: str, name: str) -> Table:
    entry = queries.load_catalogue(REPO / "queries")[name]
    answer = remote_select(endpoint, entry.bound_text({}))
    assert isinstance(answer, Table)
    return answer


def assert_same_answers(built: Settings, endpoint: str, name: str) -> None:
    local_vars, local_rows = plain(run_catalogue_query(built, name))
    remote_vars, remote_rows = plain(remote_table(endpoint, name))
    assert remote_vars == local_vars
    assert local_rows, f"{name} has no rows: the comparison could not fail"
    text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    if "ORDER BY" in text.upper():
        assert remote_rows == local_rows
    else:
        assert sorted(remote_rows, key=str) == sorted(local_rows, key=str)


def blank_links(endpoint: str) -> int:
    answer = remote_select(endpoint, BLANK_LINKS)
    assert isinstance(answer, Table)
    return int(answer.rows[0]["n"].value)


@pytest.fixture(scope="module")
def gsp_remote(built: Settings) -> Iterator[tuple[str, push.PushSummary]]:
    """A seeded Oxigraph server the built store was pushed to once, through the Graph Store
    Protocol; yields its query endpoint and the push's summary."""
    with oxigraph_server() as base:
        seed(base)
        endpoint = f"{base}/query"
        summary = push.push_store(built.store_root, push.Target(endpoint))
        yield endpoint, summary


@pytest.mark.parametrize("name", NAMES)
def test_remote_answers_every_catalogue_query_as_the_embedded_store(
    built: Settings, gsp_remote: tuple[str, push.PushSummary], name: str
) -> None:
    assert_same_answers(built, gsp_remote[0], name)


def test_push_replaces_graphs_and_drops_only_our_stale_ones(
    built: Settings, gsp_remote: tuple[str, push.PushSummary]
) -> None:
    endpoint, summary = gsp_remote
    expected = local_counts(built)
    assert len(expected) >= 5
    assert summary.graphs == expected
    assert summary.dropped == [STALE]
    assert push.remote_counts(endpoint, [*expected, STALE, FOREIGN]) == {**expected, FOREIGN: 1}
    assert blank_links(endpoint) == local_blank_links(built) > 0


def test_pushing_twice_changes_nothing(
    built: Settings,
    gsp_remote: tuple[str, push.PushSummary],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, _ = gsp_remote
    before = {name: plain(remote_table(endpoint, name)) for name in NAMES}
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(built.store_root))
    result = CliRunner().invoke(app, ["push", "--endpoint", endpoint])
    assert result.exit_code == 0, result.output
    assert "the remote holds the same" in result.output
    assert "dropped" not in result.output
    expected = local_counts(built)
    assert push.remote_counts(endpoint, [*expected, FOREIGN]) == {**expected, FOREIGN: 1}
    assert push.remote_project_graphs(endpoint) == sorted(expected)
    assert blank_links(endpoint) == local_blank_links(built)
    for name in NAMES:
        assert plain(remote_table(endpoint, name)) == before[name], name


def test_sparql_update_method_gives_the_same_store(built: Settings) -> None:
    expected = local_counts(built)
    with oxigraph_server() as base:
        seed(base)
        endpoint = f"{base}/query"
        target = push.Target(endpoint, push.Method.update)
        first = push.push_store(built.store_root, target)
        assert first.dropped == [STALE]
        second = push.push_store(built.store_root, target)
        assert second.dropped == []
        assert first.graphs == second.graphs == expected
        assert push.remote_counts(endpoint, [*expected, FOREIGN]) == {**expected, FOREIGN: 1}
        # Blank nodes split over two INSERT DATA requests would come apart.
        assert blank_links(endpoint) == local_blank_links(built) > 0
        for name in NAMES:
            assert_same_answers(built, endpoint, name)
        curated = f"{push.GRAPH_BASE}curated"
        httpx.post(
            f"{base}/store", params={"graph": curated}, content=SEED, headers=NT
        ).raise_for_status()
        with pytest.raises(push.RemoteMismatchError, match=curated) as caught:
            push.verify(endpoint, expected)
        assert "\n" not in str(caught.value)


def test_a_closed_port_fails_with_one_clear_line(built: Settings) -> None:
    with closed_port() as port, pytest.raises(push.RemoteUnreachableError) as caught:
        push.push_store(built.store_root, push.Target(f"http://127.0.0.1:{port}/query"))
    message = str(caught.value)
    assert "\n" not in message
    assert "/store" in message
    assert "refused" in message.lower()


def test_the_cli_reports_a_closed_port_in_one_line(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(built.store_root))
    with closed_port() as port:
        endpoint = f"http://127.0.0.1:{port}/query"
        result = CliRunner().invoke(app, ["push", "--endpoint", endpoint, "--method", "update"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: cannot reach")
    assert "/update" in lines[0]


def test_an_http_error_names_the_url_and_status(
    built: Settings, gsp_remote: tuple[str, push.PushSummary]
) -> None:
    endpoint, _ = gsp_remote
    wrong = endpoint.replace("/query", "/nowhere")
    with pytest.raises(push.RemoteRefusedError) as caught:
        push.push_store(built.store_root, push.Target(endpoint, graph_store=wrong))
    message = str(caught.value)
    assert "\n" not in message
    assert wrong in message
    assert " 404 " in message


def test_an_endpoint_not_like_oxigraph_needs_the_write_url(built: Settings) -> None:
    target = push.Target("http://127.0.0.1:3030/atrocity/sparql")
    with pytest.raises(push.PushError, match="give --graph-store"):
        push.push_store(built.store_root, target)


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(push.USER_VARIABLE, raising=False)
    assert push.auth_from_environment() is None
    monkeypatch.setenv(push.USER_VARIABLE, "dba")
    with pytest.raises(push.PushError, match=push.PASSWORD_VARIABLE):
        push.auth_from_environment()
    monkeypatch.setenv(push.PASSWORD_VARIABLE, "secret")
    assert isinstance(push.auth_from_environment(), httpx.BasicAuth)
    assert isinstance(push.auth_from_environment(digest=True), httpx.DigestAuth)
