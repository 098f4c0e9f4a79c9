"""The published N-Quads dump, loaded into a real Virtuoso by its bulk loader (the way
docs/scaling.md gives for graphs too large to push by the Graph Store Protocol), holds every
graph of the embedded store with its triples, its blank nodes still linked, and answers every
catalogue query with the embedded store's rows."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from atrocity_kg.config import Settings
from atrocity_kg.model.negotiation import N_QUADS
from atrocity_kg.publish import export
from atrocity_kg.query import queries
from atrocity_kg.query.results import table_from_solutions
from atrocity_kg.storage import store
from atrocity_kg.storage.remote import RemoteStore
from queries_support import run_catalogue_query
from remote_support import BLANK_LINKS, NAMES, local_blank_links, local_counts, plain
from server import VIRTUOSO, VIRTUOSO_ISQL, Virtuoso, virtuoso_database, virtuoso_sql

pytestmark = pytest.mark.slow  # a real Virtuoso

DUMP = export.dump_name("all", N_QUADS)


@pytest.fixture(scope="module")
def loaded(built: Settings) -> Iterator[Virtuoso]:
    """A new Virtuoso database holding the session build's whole N-Quads dump, bulk loaded."""
    if VIRTUOSO is None or VIRTUOSO_ISQL is None:
        missing = "Virtuoso is not installed (apt-get install virtuoso-opensource)"
        if os.environ.get("REQUIRE_VIRTUOSO"):  # CI, which installs it (.ci/run)
            pytest.fail(missing)
        pytest.skip(missing)
    with virtuoso_database() as virtuoso:
        shutil.copy(store.current_path(built.store_root) / "dumps" / DUMP, virtuoso.folder)
        virtuoso_sql(virtuoso, f"ld_dir('.', '{DUMP}', 'urn:x-test:no-graph'); rdf_loader_run();")
        errors = virtuoso_sql(
            virtuoso, "select ll_file, ll_error from DB.DBA.LOAD_LIST where ll_error is not null;"
        )
        assert "0 Rows." in errors, errors
        yield virtuoso


def remote_counts(remote: RemoteStore) -> dict[str, int]:
    """Triples per project graph in Virtuoso, counted by a query."""
    answer = remote.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", only_ours=True
    )
    assert isinstance(answer, ox.QuerySolutions)
    return {solution["g"].value: int(solution["n"].value) for solution in answer}


@pytest.fixture(scope="module")
def remote(loaded: Virtuoso) -> Iterator[RemoteStore]:
    """The app's own client of a remote store, on the loaded Virtuoso."""
    client = RemoteStore(f"{loaded.base}/sparql")
    yield client
    client.close()


def test_the_dump_holds_every_graph_with_its_triples(built: Settings, remote: RemoteStore) -> None:
    expected = local_counts(built)
    assert len(expected) > 10
    assert remote_counts(remote) == expected


def test_blank_nodes_stay_linked(built: Settings, remote: RemoteStore) -> None:
    """Two triples that share a blank node in a graph share it after the load too (the dump
    gives it one label)."""
    answer = remote.query(BLANK_LINKS, only_ours=True)
    assert isinstance(answer, ox.QuerySolutions)
    found = int(next(iter(answer))["n"].value)
    assert found == local_blank_links(built) > 0


@pytest.mark.parametrize("name", NAMES)
def test_each_catalogue_query_gives_the_store_rows(
    built: Settings, remote: RemoteStore, name: str
) -> None:
    local_vars, local_rows = plain(run_catalogue_query(built, name))
    text = queries.load_catalogue(built.queries_dir)[name].bound_text({})
    answer = remote.query(text, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)
    remote_vars, remote_rows = plain(table_from_solutions(answer))
    assert remote_vars == local_vars
    assert local_rows, f"{name} has no rows: the comparison could not fail"
    if "ORDER BY" in text.upper():
        assert remote_rows == local_rows
    else:
        assert sorted(remote_rows, key=str) == sorted(local_rows, key=str)


def test_the_docs_name_the_file_the_loader_reads() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "scaling.md").read_text()
    assert DUMP in text
    assert "rdf_loader_run" in text
