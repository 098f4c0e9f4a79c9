"""The embedded store (pyoxigraph on disk), written whole and swapped in atomically.

Each build goes to a fresh folder under the store root; a symbolic link named ``current`` is then
replaced in one rename, so readers see the old store or the new one, never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from atrocity_kg.errors import QueryError, StoreError
from atrocity_kg.remote import RemoteStore

GraphStore = ox.Store | RemoteStore
"""What the app reads: the embedded store, or a remote one answering the same calls."""

CURRENT = "current"
BUILDS = "builds"
KEEP_BUILDS = 2


def memory_store(graphs: Mapping[URIRef, Graph]) -> ox.Store:
    """The named graphs in an in-memory store (through N-Triples, which both sides write and
    read fastest)."""
    memory = ox.Store()
    for name, graph in graphs.items():
        data = graph.serialize(format="nt", encoding="utf-8")
        memory.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(name)))
    return memory


def _write_disk_store(target: Path, quads: bytes) -> None:
    store = ox.Store(str(target))
    try:
        store.bulk_load(quads, format=ox.RdfFormat.N_QUADS)
        store.flush()
        store.optimize()
    finally:
        del store


def write_store(
    root: Path,
    graphs: Mapping[URIRef, Graph],
    before_swap: Callable[[Path, ox.Store], None] | None = None,
) -> Path:
    """Write every named graph to a new on-disk store and make it the current one; files that
    belong with the store (its dumps) are written by ``before_swap`` into its folder first, from
    an in-memory copy of the same quads.

    The on-disk write runs in a thread (pyoxigraph's bulk loader releases the GIL), beside
    ``before_swap``; a failure of either removes the new folder and leaves the current store.
    """
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    target = builds / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        memory = memory_store(graphs)
        quads = memory.dump(format=ox.RdfFormat.N_QUADS)
        assert quads is not None
        with ThreadPoolExecutor(max_workers=1) as pool:
            written = pool.submit(_write_disk_store, target, quads)
            try:
                if before_swap is not None:
                    target.mkdir(exist_ok=True)
                    before_swap(target, memory)
            finally:
                written.result()
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    link = root / CURRENT
    staged = root / f".{CURRENT}.{os.getpid()}"
    if staged.is_symlink() or staged.exists():
        staged.unlink()
    staged.symlink_to(Path(BUILDS) / target.name)
    os.replace(staged, link)
    _prune(builds, keep=target)
    return target


def _prune(builds: Path, keep: Path) -> None:
    """Drop old builds, keeping the newest few so that open readers are not pulled from under."""
    olds = sorted((p for p in builds.iterdir() if p != keep), key=lambda p: p.stat().st_mtime)
    for old in olds[: max(0, len(olds) - (KEEP_BUILDS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def current_path(root: Path) -> Path:
    link = root / CURRENT
    if not link.exists():
        raise StoreError(f"no store at {root}: run `atrocity-kg build` first")
    return link.resolve()


@contextmanager
def opened(root: Path) -> Iterator[ox.Store]:
    """The current store, read-only, so a build can run beside a server."""
    try:
        store = ox.Store.read_only(str(current_path(root)))
    except OSError as error:
        raise StoreError(f"cannot open the store at {root}: {error}") from error
    try:
        yield store
    finally:
        del store


def in_memory_copy(root: Path) -> ox.Store:
    """An in-memory copy of the current store: scans are several times faster than on disk."""
    return copy_of_build(current_path(root))


def copy_of_build(build: Path) -> ox.Store:
    """An in-memory copy of one build's store (its folder under builds/)."""
    try:
        disk = ox.Store.read_only(str(build))
    except OSError as error:
        raise StoreError(f"cannot open the store at {build}: {error}") from error
    memory = ox.Store()
    memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    del disk
    return memory


def graph_names(store: ox.Store) -> list[str]:
    return sorted(node.value for node in store.named_graphs() if isinstance(node, ox.NamedNode))


def run_query(
    store: GraphStore, text: str
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | Iterator[ox.Triple]:
    """Run a SPARQL query; the default graph is the union of the named graphs."""
    try:
        return store.query(text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"malformed query: {error}") from None
