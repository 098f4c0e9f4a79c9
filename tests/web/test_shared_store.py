"""The app and its query workers read the build on disk, shared, not a copy each (issue 17),
unless it is small enough to copy.

Read on disk, the app's own store and every query worker open the current build read-only, so
the graph is held once, in the system's page cache, whatever the number of workers; a switch to
a new build reaches later queries, while a store opened on an old build still answers, even once
the sweep has removed its folder. By default (``store_in_memory`` "auto") a build whose store
takes at most ``store_in_memory_up_to_mb`` on disk is copied into memory instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from atrocity_kg.storage import store
from atrocity_kg.web import create_app
from atrocity_kg.web.serving import Serving

pytestmark = pytest.mark.slow  # apps with their own worker processes, and builds written

MARK_GRAPH = "https://example.org/test/shared-store"
SPARQL_RESULTS = "application/sparql-results+json"


def mark(number: int) -> ox.Quad:
    return ox.Quad(
        ox.NamedNode(f"https://example.org/test/build/{number}"),
        ox.NamedNode("https://example.org/test/written"),
        ox.Literal(str(number)),
        ox.NamedNode(MARK_GRAPH),
    )


def ask(number: int) -> str:
    quad = mark(number)
    return f"ASK {{ {quad.subject} {quad.predicate} {quad.object} }}"


def files_open_under(pid: int, folder: Path) -> set[str]:
    """The names of the files under ``folder`` the process has open (whether or not they are
    still linked there)."""
    found = set()
    fds = Path("/proc") / str(pid) / "fd"
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd).removesuffix(" (deleted)")
        except OSError:
            continue
        if Path(target).parent == folder:
            found.add(Path(target).name)
    return found


def write_build(root: Path, number: int) -> Path:
    """A new build of the store at ``root``: the current one with the mark ``number`` added."""
    copy = store.copy_of_build(store.current_path(root))
    copy.add(mark(number))
    return store.write_store(root, copy)


@pytest.fixture
def own_store(built: Settings, tmp_path: Path) -> Settings:
    """A copy of the session's store that this test may write new builds to."""
    root = tmp_path / "store"
    shutil.copytree(built.store_root, root, symlinks=True)
    return built.model_copy(update={"store_dir": root, "query_workers": 1})


@contextmanager
def app_on(settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app


def asked(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": SPARQL_RESULTS})
    assert response.status_code == 200, response.text
    answer: bool = response.json()["boolean"]
    return answer


def test_the_app_and_its_workers_read_the_build_on_disk(own_store: Settings) -> None:
    assert own_store.store_in_memory is False  # as the tests' settings ask (conftest.py)
    build = store.current_path(own_store.store_root)
    tables = {path.name for path in build.glob("*.sst")}
    with app_on(own_store) as (client, app):
        assert asked(client, "ASK { ?s ?p ?o }")
        serving: Serving = app.state.serving
        assert serving.pool is not None
        workers = serving.pool.processes
        assert len(workers) == 1
        # A copy would have closed the build's files once copied; a store on disk keeps them.
        assert files_open_under(workers[0], build) == tables
        assert files_open_under(os.getpid(), build) >= tables
        # The build opened read-only cannot be written to.
        with pytest.raises(RuntimeError, match="read-write"):
            app.state.store.add(mark(0))


def test_store_in_memory_copies_the_build_instead(own_store: Settings) -> None:
    settings = own_store.model_copy(update={"store_in_memory": True})
    build = store.current_path(settings.store_root)
    with app_on(settings) as (client, app):
        assert asked(client, "ASK { ?s ?p ?o }")
        serving: Serving = app.state.serving
        assert serving.pool is not None
        assert files_open_under(serving.pool.processes[0], build) == set()
        app.state.store.add(mark(0))  # an in-memory copy takes writes, which reach no build
    assert not store.open_build(build).contains_named_graph(ox.NamedNode(MARK_GRAPH))


def test_a_store_on_disk_is_its_own_files_not_its_dumps(built: Settings) -> None:
    build = store.current_path(built.store_root)
    own = sum(path.stat().st_size for path in build.iterdir() if path.is_file())
    dumps = sum(path.stat().st_size for path in (build / "dumps").rglob("*") if path.is_file())
    assert own > 0
    assert dumps > 0
    assert store.store_bytes(build) == own
    assert store.store_bytes(build / "swept-meanwhile") == 0


def test_the_default_copies_a_build_up_to_the_size_given(built: Settings) -> None:
    build = store.current_path(built.store_root)
    size = store.store_bytes(build)
    assert Settings().store_in_memory == "auto"
    assert store.copies_into_memory(build, "auto", -(-size // store.MB))
    assert not store.copies_into_memory(build, "auto", (size - 1) // store.MB)
    assert store.copies_into_memory(build, True, 0)
    assert not store.copies_into_memory(build, False, 10**6)


@pytest.mark.parametrize("copied", [True, False], ids=["small enough", "too large"])
def test_auto_copies_a_small_build_and_reads_a_larger_one_on_disk(
    own_store: Settings, copied: bool
) -> None:
    build = store.current_path(own_store.store_root)
    size = store.store_bytes(build)
    up_to_mb = -(-size // store.MB) if copied else (size - 1) // store.MB
    settings = own_store.model_copy(
        update={"store_in_memory": "auto", "store_in_memory_up_to_mb": up_to_mb}
    )
    tables = {path.name for path in build.glob("*.sst")}
    with app_on(settings) as (client, app):
        assert asked(client, "ASK { ?s ?p ?o }")
        serving: Serving = app.state.serving
        assert serving.pool is not None
        assert serving.in_memory is copied
        worker = serving.pool.processes[0]
        assert files_open_under(worker, build) == (set() if copied else tables)


def test_a_switch_chooses_again_for_the_new_build(own_store: Settings) -> None:
    # The real build is over 1 MB, read on disk; the next is one quad, copied.
    settings = own_store.model_copy(
        update={"store_in_memory": "auto", "store_in_memory_up_to_mb": 1}
    )
    root = settings.store_root
    first = store.current_path(root)
    tables = {path.name for path in first.glob("*.sst")}
    with app_on(settings) as (client, app):
        serving: Serving = app.state.serving
        assert serving.pool is not None
        assert files_open_under(serving.pool.processes[0], first) == tables
        tiny = ox.Store()
        tiny.add(mark(1))
        build = store.write_store(root, tiny)
        client.portal.call(serving.switch_to_current, root)  # type: ignore[union-attr]
        assert serving.build == build
        assert serving.in_memory
        assert asked(client, ask(1))
        assert files_open_under(serving.pool.processes[0], build) == set()


def test_a_switch_reaches_later_queries_while_a_held_old_build_still_answers(
    own_store: Settings,
) -> None:
    root = own_store.store_root
    first = store.current_path(root)
    with app_on(own_store) as (client, app):
        serving: Serving = app.state.serving
        held = app.state.store  # as a request that began before the switch holds it
        assert not asked(client, ask(1))

        write_build(root, 1)
        client.portal.call(serving.switch_to_current, root)  # type: ignore[union-attr]
        assert serving.build != first
        assert asked(client, ask(1))  # the workers read the new build
        assert app.state.store.query(ask(1), use_default_graph_as_union=True)  # the pages too

        write_build(root, 2)  # the first build is now neither current nor previous: swept
        assert not first.exists()
        assert not held.query(ask(1), use_default_graph_as_union=True)
        assert held.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True)
        assert len(held) > 0

        client.portal.call(serving.switch_to_current, root)  # type: ignore[union-attr]
        assert asked(client, ask(2))


def test_a_build_opened_read_only_answers_after_its_folder_is_swept(own_store: Settings) -> None:
    root = own_store.store_root
    first = store.current_path(root)
    opened = store.open_build(first)
    quads = len(opened)
    write_build(root, 1)
    write_build(root, 2)
    assert not first.exists()
    assert len(opened) == quads
    assert sum(1 for _ in opened.quads_for_pattern(None, None, None, None)) == quads
    with pytest.raises(StoreError):
        store.open_build(first)  # once swept, a build cannot be opened anew
