"""Writes to the embedded store (the admin endpoints' engine): one transaction per write.

A write holds the store's write lock (``writelock.py``: other threads and other processes wait)
from reading the current build to swapping in the new one, so that two writers cannot lose each
other's changes. Inside it: an in-memory copy of the
current build is changed, the named graphs whose content changed are found and validated with the
SHACL shapes as the build validates them, and only if they conform is the whole dataset written as
a new build and swapped in by ``store.write_store`` (readers, and a crash, see the old build or
the new one). The graphs the build derives (evidence, inferred) and the ones it loads from
``ontology/`` cannot be written here: a write to them is refused before anything is committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH, XSD

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.curation import derive
from atrocity_kg.errors import AtrocityKGError, GraphValidationError, StoreError
from atrocity_kg.graph import catalogue, draft, evidence, graphs, reasoning, summary, validate
from atrocity_kg.storage import store
from atrocity_kg.storage.writelock import exclusive


class _DerivedGraphs:
    """The inferred graph, the catalogue, the summary and every published release's evidence
    graph, whichever releases the store holds (so a release imported since this was written is
    covered too)."""

    def __contains__(self, name: object) -> bool:
        text = str(name)
        return text in (
            str(reasoning.INFERRED_GRAPH),
            str(catalogue.CATALOGUE_GRAPH),
            str(summary.SUMMARY_GRAPH),
        ) or evidence.is_release_evidence_graph(text)


DERIVED_GRAPHS = _DerivedGraphs()
"""Computed from the asserted graphs, by the build and after each write (curation.derive)."""

SOURCE_GRAPHS = frozenset({str(graphs.ONTOLOGY_GRAPH), str(graphs.SHAPES_GRAPH)})
"""Loaded by the build from ontology/: the terms and shapes every other graph is checked with."""


class WriteRefusedError(AtrocityKGError):
    """The write was not committed; the store is as it was."""


class ProtectedGraphError(WriteRefusedError):
    """The write would change a graph that only the build may make."""


class DefaultGraphWriteError(WriteRefusedError):
    """The write put triples in the default graph, which here is the union of the named graphs."""


class MalformedUpdateError(WriteRefusedError):
    """The SPARQL Update does not parse, or pyoxigraph could not run it."""


class NoSuchGraphError(WriteRefusedError):
    """The graph to drop is not in the store."""


class UnderivableWriteError(WriteRefusedError):
    """What the build derives cannot be made from the data as written (an inconsistency the
    reasoner finds, a finding the rubric cannot read, a contribution the change breaks)."""


class DuplicateStatementWriteError(WriteRefusedError):
    """The write would state a triple another named graph states already: over the default
    graph (their union) it would be counted twice."""


class NonConformingWriteError(WriteRefusedError):
    """The changed graphs, or the summary counted again from them, do not conform to the
    shapes (``what`` says which)."""

    def __init__(self, report: validate.ValidationReport, what: str = "the write") -> None:
        self.report = report
        super().__init__(f"{what} does not conform to the shapes: {report.summary()}")


def protection(name: str) -> str | None:
    """Why the graph ``name`` may not be written, or None when it may."""
    if name in DERIVED_GRAPHS:
        return (
            f"<{name}> is derived from the asserted graphs: it is recomputed by "
            "`atrocity-kg build` and after each write, not written"
        )
    if draft.is_draft_graph(name):
        return (
            f"<{name}> is made from the contributions in data/contributions: change it with "
            "`atrocity-kg contribute` and `atrocity-kg withdraw`"
        )
    if name in SOURCE_GRAPHS:
        return (
            f"<{name}> is loaded from the ontology/ folder by `atrocity-kg build`: change the "
            "files and rebuild"
        )
    return None


@dataclass(frozen=True)
class WriteOutcome:
    """What a write did: the build now current (the old one when nothing changed), the graphs
    whose content changed, those among them that are new, the validation report (warnings
    and infos; a violation refuses the write), seconds per step, and the derived graphs made
    again for the change (curation.derive)."""

    build: Path
    changed: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)
    timings: dict[str, float] = field(default_factory=dict)
    recomputed: tuple[str, ...] = ()

    @property
    def committed(self) -> bool:
        return bool(self.changed)


Change = Callable[[ox.Store], None]
"""Changes an in-memory copy of the store in place; raises WriteRefusedError to refuse."""


def update(settings: Settings, text: str) -> WriteOutcome:
    """Run a SPARQL 1.1 Update. It is run as given: the caller refuses LOAD and SERVICE, which
    would make pyoxigraph fetch URLs."""

    def run(memory: ox.Store) -> None:
        try:
            memory.update(text)
        except SyntaxError as error:
            raise MalformedUpdateError(f"malformed update: {error}") from None
        except (OSError, RuntimeError, ValueError) as error:
            # pyoxigraph's own refusals, e.g. DROP of a graph that is not there (without SILENT)
            raise MalformedUpdateError(f"the update could not be run: {error}") from None

    return transact(settings, run)


def replace_graph(settings: Settings, name: str, triples: Iterable[ox.Triple]) -> WriteOutcome:
    """Make the named graph hold exactly ``triples`` (Graph Store Protocol PUT)."""
    graph = _named(name)

    def put(memory: ox.Store) -> None:
        memory.clear_graph(graph)
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)

    return transact(settings, put)


def add_to_graph(settings: Settings, name: str, triples: Iterable[ox.Triple]) -> WriteOutcome:
    """Add ``triples`` to the named graph, creating it if need be (Graph Store Protocol POST)."""
    graph = _named(name)

    def post(memory: ox.Store) -> None:
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)

    return transact(settings, post)


def drop_graph(settings: Settings, name: str) -> WriteOutcome:
    """Remove the named graph and its triples (Graph Store Protocol DELETE)."""
    graph = _named(name)

    def drop(memory: ox.Store) -> None:
        if not memory.contains_named_graph(graph):
            raise NoSuchGraphError(f"no graph named <{name}> in this store")
        memory.remove_graph(graph)

    return transact(settings, drop)


def _named(name: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(name)
    except ValueError as error:
        raise WriteRefusedError(f"not an absolute IRI: {name!r} ({error})") from None


def transact(settings: Settings, change: Change) -> WriteOutcome:
    """Apply ``change`` to the current build under the write lock; validate what changed;
    commit a new build if it conforms. Blocking: run it off the event loop."""
    root = settings.store_root
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    with exclusive(root):
        timings["lock wait"] = _lap(clock)
        clock = time.perf_counter()
        current = store.current_path(root)
        memory = store.copy_of_build(current)
        before = _contents(memory)
        timings["copy"] = _lap(clock)
        clock = time.perf_counter()
        change(memory)
        after = _contents(memory)
        timings["apply"] = _lap(clock)
        if _has_default_graph_triples(memory):
            raise DefaultGraphWriteError(
                "the write put triples in the default graph, which here is the union of the "
                "named graphs: name a graph (INSERT DATA { GRAPH <IRI> { ... } }, or WITH <IRI>)"
            )
        changed = sorted(
            name
            for name in before.keys() | after.keys()
            if _differ(before.get(name, b""), after.get(name, b""))
        )
        if not changed:
            return WriteOutcome(build=current, timings=timings)
        refusals = [reason for name in changed if (reason := protection(name)) is not None]
        if refusals:
            raise ProtectedGraphError("; ".join(refusals))
        changes = {
            name: derive.graph_change(before.get(name, b""), after.get(name, b""))
            for name in changed
        }
        _refuse_statements_made_twice(memory, changes)
        clock = time.perf_counter()
        report = _validate(settings, memory, changed)
        timings["validate"] = _lap(clock)
        if not report.conforms:
            raise NonConformingWriteError(report)
        derivation = _derive(settings, memory, changes)
        timings.update(derivation.timings)
        report.extend(derivation.report)
        clock = time.perf_counter()
        build = store.write_store(root, memory, before_swap=pipeline.write_build_dumps)
        timings["commit"] = _lap(clock)
    created = tuple(name for name in changed if name not in before and name in after)
    recomputed = tuple(derivation.recomputed)
    return WriteOutcome(build, tuple(changed), created, report, timings, recomputed)


def _refuse_statements_made_twice(
    memory: ox.Store, changes: dict[str, derive.GraphChange], shown: int = 5
) -> None:
    """As the build does (catalogue.check_each_statement_once): each triple in one named graph,
    so that a COUNT over the default graph needs no DISTINCT. Only the added quads can break it."""
    twice: list[str] = []
    for name, change in changes.items():
        for quad in change.added:
            for other in memory.quads_for_pattern(quad.subject, quad.predicate, quad.object, None):
                if isinstance(other.graph_name, ox.NamedNode) and other.graph_name.value != name:
                    twice.append(f"{quad.triple} in <{name}> and {other.graph_name}")
                    break
            if len(twice) == shown:
                break
    if twice:
        raise DuplicateStatementWriteError(
            "the write would state a triple that another graph states already (counted twice "
            "over the default graph, their union): " + "; ".join(twice)
        )


def _derive(
    settings: Settings, memory: ox.Store, changes: dict[str, derive.GraphChange]
) -> derive.Derivation:
    """The derived graphs made again for the changes; refused when they cannot be."""
    try:
        return derive.rederive(settings, memory, changes)
    except summary.SummaryValidationError as error:
        raise NonConformingWriteError(
            error.report, what=f"the summary graph <{summary.SUMMARY_GRAPH}> counted after it"
        ) from None
    except StoreError:
        raise
    except GraphValidationError as error:
        raise UnderivableWriteError(f"the contributions no longer conform: {error}") from None
    except (AtrocityKGError, ValueError) as error:
        raise UnderivableWriteError(f"the derived graphs cannot be made: {error}") from None


def _lap(start: float) -> float:
    return time.perf_counter() - start


def _contents(memory: ox.Store) -> dict[str, bytes]:
    """Each non-empty named graph's N-Quads, to compare before and after (a blank node keeps its
    label within one store, so the same graph gives the same lines)."""
    contents = {}
    for name in store.graph_names(memory):
        quads = memory.dump(format=ox.RdfFormat.N_QUADS, from_graph=ox.NamedNode(name))
        if quads:
            contents[name] = quads
    return contents


def _differ(before: bytes, after: bytes) -> bool:
    """Do two dumps of a graph hold different quads? Equal bytes are the common case; otherwise
    the lines are compared as sets, as the store need not list them in the same order twice."""
    if before == after:
        return False
    return set(before.splitlines()) != set(after.splitlines())


def _has_default_graph_triples(memory: ox.Store) -> bool:
    in_default = memory.quads_for_pattern(None, None, None, ox.DefaultGraph())
    return next(iter(in_default), None) is not None


def _validate(
    settings: Settings, memory: ox.Store, changed: list[str]
) -> validate.ValidationReport:
    """Validate the changed data graphs as the build does: each with the curated data as its
    context, against the store's own ontology and shapes (the ones the build loaded). A change
    to the curated data changes every graph's context, so then all data graphs are validated;
    a dropped graph needs none, but the releases it spoke for do. A statement graph
    (graph/ushmm-v2-v3) is validated within the whole of each release it speaks for, as the
    build validates a release: alone it lacks what its nodes need (a study's title is stated
    once for the releases sharing it)."""
    present = set(store.graph_names(memory))
    data_graphs = sorted(name for name in present if protection(name) is None)
    curated_name = str(graphs.CURATED_GRAPH)
    chosen = data_graphs if curated_name in changed else [n for n in changed if n in present]
    codes = {code for name in [*changed, *chosen] for code in derive.release_codes(name)}
    others = [n for n in chosen if n != curated_name and not derive.release_codes(n)]
    if not codes and not others and curated_name not in chosen:
        return validate.ValidationReport()
    curated = graphs.named_graph(memory, curated_name)
    ontology = graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH))
    shapes = graphs.named_graph(memory, str(graphs.SHAPES_GRAPH))
    releases = {code: derive.release_graph(memory, code) for code in sorted(codes)}
    releases = {code: as_written(graph, shapes) for code, graph in releases.items() if len(graph)}
    jobs = pipeline.validation_jobs(releases, curated)
    if curated_name not in chosen:
        jobs = jobs[1:]
    jobs += [(URIRef(name), graphs.named_graph(memory, name)) for name in others]
    cache = validate.ValidationCache(settings.validation_cache)
    return validate.validate_many(jobs, shapes, ontology, context=curated, cache=cache)


_INTEGERS = frozenset(
    str(XSD[name])
    for name in ("nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger")
)


def as_written(graph: Graph, shapes: Graph) -> Graph:
    """A graph read from the store with the integer types its shapes ask for: pyoxigraph keeps
    every integer as xsd:integer (a release's "3"^^xsd:positiveInteger comes back so), which
    the shapes' sh:datatype would refuse. Only the values of a path whose shape names such a
    type are given it back, as the release's file has them."""
    wanted: dict[URIRef, URIRef] = {}
    for shape, datatype in shapes.subject_objects(SH.datatype):
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef) and str(datatype) in _INTEGERS:
            wanted[path] = URIRef(str(datatype))
    for path, datatype in wanted.items():
        for s, o in list(graph.subject_objects(path)):
            if isinstance(o, Literal) and o.datatype == XSD.integer:
                graph.remove((s, path, o))
                graph.add((s, path, Literal(str(o), datatype=datatype)))
    return graph
