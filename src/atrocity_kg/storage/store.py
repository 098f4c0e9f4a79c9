"""The embedded store (pyoxigraph on disk), written whole and swapped in atomically.

Each build is written to a hidden folder ``builds/.partial-<name>``, flushed to disk, and renamed
to ``builds/<name>`` only when its store and its dumps are complete; a symbolic link named
``current`` is then replaced in one rename, so readers see the old store or the new one, never
a half-written one, and a process killed at any moment leaves ``current`` on a whole build.
The link ``previous`` names the build that was current before, which readers may still hold.
A build in progress holds a lock on its partial folder (see ``durable.folder_lock``), so a sweep
tells a dead writer's leftovers from a live writer's work without trusting process ids.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Literal, Protocol

import pyoxigraph as ox
from rdflib import Graph, URIRef

from atrocity_kg.errors import QueryError, StoreError
from atrocity_kg.storage import durable

Bindable = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
QueryAnswer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | Iterator[ox.Triple]


class GraphStore(Protocol):
    """What the app reads a store through: the four calls of ``pyoxigraph.Store`` it makes.

    The embedded store (``ox.Store``) has them, and ``remote.RemoteStore`` answers them over the
    SPARQL 1.1 Protocol, so that every route and page works on either. CONSTRUCT and DESCRIBE
    give pyoxigraph's triples, or an iterator of triples from a remote store.
    """

    def query(
        self,
        query: str,
        *,
        use_default_graph_as_union: bool = False,
        default_graph: GraphName | list[GraphName] | None = None,
        named_graphs: list[ox.NamedNode | ox.BlankNode] | None = None,
        substitutions: dict[ox.Variable, Bindable] | None = None,
        base_iri: str | None = None,
    ) -> QueryAnswer: ...

    def quads_for_pattern(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        object: ox.NamedNode | ox.BlankNode | ox.Literal | None,
        graph_name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None,
    ) -> Iterator[ox.Quad]: ...

    def named_graphs(self) -> Iterator[ox.NamedNode | ox.BlankNode]: ...

    def contains_named_graph(self, graph_name: ox.NamedNode | ox.BlankNode) -> bool: ...


CURRENT = "current"
PREVIOUS = "previous"
BUILDS = "builds"
PARTIAL = ".partial-"
LOCK = ".lock"


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
    graphs: Mapping[URIRef, Graph] | ox.Store,
    before_swap: Callable[[Path, ox.Store], None] | None = None,
) -> Path:
    """Write every named graph to a new on-disk store and make it the current one; files that
    belong with the store (its dumps) are written by ``before_swap`` into its folder first, from
    an in-memory copy of the same quads.

    The on-disk write runs in a thread (pyoxigraph's bulk loader releases the GIL), beside
    ``before_swap``; a failure of either removes the new folder and leaves the current store.
    Leftovers of builds killed earlier are swept first (see ``sweep``).
    """
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    partial = builds / f"{PARTIAL}{name}"
    with ExitStack() as writing:
        with _locked(root):
            _sweep(root)
            # Made and locked under the store's lock, so that no sweep ever sees it unlocked.
            partial.mkdir()
            writing.enter_context(durable.folder_lock(partial, exclusive=True))
        try:
            # An admin write hands over the in-memory store it changed (writes.py), as is.
            memory = graphs if isinstance(graphs, ox.Store) else memory_store(graphs)
            quads = memory.dump(format=ox.RdfFormat.N_QUADS)
            assert quads is not None
            with ThreadPoolExecutor(max_workers=1) as pool:
                written = pool.submit(_write_disk_store, partial, quads)
                try:
                    if before_swap is not None:
                        before_swap(partial, memory)
                finally:
                    written.result()
            durable.fsync_tree(partial)
            return _make_current(root, partial, name)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise


def _make_current(root: Path, partial: Path, name: str) -> Path:
    """Rename the finished build into place, then point ``previous`` at the build ``current``
    names (at the new one when there was none) and ``current`` at the new one, each step flushed
    before the next. A crash between steps leaves ``current`` on the old build, and the finished
    but unused folder is swept by the next build. Under the store's lock, so that no sweep runs
    between the steps."""
    builds = root / BUILDS
    target = builds / name
    with _locked(root):
        os.rename(partial, target)
        durable.fsync_dir(builds)
        before = _link_target(root / CURRENT)
        first = before is None or not (builds / before).is_dir()
        _point(root, PREVIOUS, name if first else str(before))
        _point(root, CURRENT, name)
        _sweep(root)
    return target


def _point(root: Path, link_name: str, build_name: str) -> None:
    """Replace the link ``link_name`` by one to ``builds/<build_name>`` in one rename; the new
    link is flushed before the rename and the rename after it, so that a power cut too leaves
    the link whole, on the old build or the new one."""
    staged = root / f".{link_name}.{os.getpid()}"
    if staged.is_symlink() or staged.exists():
        staged.unlink()
    staged.symlink_to(Path(BUILDS) / build_name)
    durable.fsync_dir(root)
    os.replace(staged, root / link_name)
    durable.fsync_dir(root)


def _link_target(link: Path) -> str | None:
    """The build folder name a link of the store root points to, or None."""
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """The store root's lock, held while builds are swapped and swept. The system drops it when
    its holder dies, so a killed build never leaves the store locked."""
    with (root / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep(root: Path) -> None:
    """Remove what killed builds left (see ``_sweep``), under the store's lock."""
    with _locked(root):
        _sweep(root)


def _sweep(root: Path) -> None:
    """Remove what killed or finished builds left: partial folders nobody holds locked (their
    writer is gone), finished builds that are neither ``current`` nor ``previous`` (readers may
    hold those two), and staged links. Called under the store's lock, which the link switch
    holds too: a finished build that is not current, or a staged link, seen here was left by a
    writer that died."""
    builds = root / BUILDS
    keep = {_link_target(root / CURRENT), _link_target(root / PREVIOUS)}
    if _link_target(root / PREVIOUS) is None:
        keep.add(_newest_other(builds, keep))
    for entry in builds.iterdir():
        if entry.name.startswith(PARTIAL):
            if _abandoned(entry):
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
    for link_name in (CURRENT, PREVIOUS):
        for staged in root.glob(f".{link_name}.*"):
            staged.unlink(missing_ok=True)


def _newest_other(builds: Path, keep: set[str | None]) -> str | None:
    """For a store written before ``previous`` existed: the newest finished build besides
    ``current``, kept in its place."""
    others = [p for p in builds.iterdir() if not p.name.startswith(PARTIAL) and p.name not in keep]
    return max(others, key=lambda p: p.stat().st_mtime).name if others else None


def _abandoned(partial: Path) -> bool:
    """A partial build nobody is writing: no process holds its lock."""
    try:
        with durable.folder_lock(partial, exclusive=True, wait=False) as locked:
            return locked
    except (FileNotFoundError, NotADirectoryError):
        return True


def current_path(root: Path) -> Path:
    """The folder of the current build; a clear error when there is none or the link dangles."""
    link = root / CURRENT
    if not link.is_symlink() and not link.exists():
        raise StoreError(f"no store at {root}: run `atrocity-kg build` first")
    target = link.resolve()
    if not target.is_dir():
        raise StoreError(
            f"the store at {root} is broken: {link} points to {target}, which is missing; "
            "run `atrocity-kg build` to write a new one"
        )
    return target


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


MB = 1_000_000


def store_bytes(build: Path) -> int:
    """What a build's store takes on disk: the files of its folder, not its dumps (a
    subfolder). A folder swept meanwhile counts what was left; one gone counts 0."""
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(build):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def copies_into_memory(build: Path, setting: Literal["auto"] | bool, up_to_mb: int) -> bool:
    """Whether ``build`` is served from a copy in memory: as ``store_in_memory`` says, and
    with "auto" when its store takes at most ``up_to_mb`` MB on disk. A copy makes the catalogue
    2 to 5 times faster but costs every process the graph, so only a small graph is copied."""
    if setting != "auto":
        return bool(setting)
    return store_bytes(build) <= up_to_mb * MB


def open_build(build: Path, *, in_memory: bool = False) -> ox.Store:
    """One build's store to serve from: opened read-only on disk (the default: every process
    reading it shares the system's page cache, so none holds a copy of the graph), or an
    in-memory copy of it (``in_memory``).

    A build opened read-only stays readable after the sweep removes its folder: Oxigraph opens
    every file of a read-only store when it opens it and reads through those descriptors
    (tests/web/test_shared_store.py). A folder swept before it is opened is a ``StoreError``.
    """
    if in_memory:
        return copy_of_build(build)
    try:
        return ox.Store.read_only(str(build))
    except OSError as error:
        raise StoreError(f"cannot open the store at {build}: {error}") from error


def graph_names(store: ox.Store) -> list[str]:
    return sorted(node.value for node in store.named_graphs() if isinstance(node, ox.NamedNode))


def run_query(store: GraphStore, text: str) -> QueryAnswer:
    """Run a SPARQL query; the default graph is the union of the named graphs."""
    try:
        return store.query(text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"malformed query: {error}") from None
