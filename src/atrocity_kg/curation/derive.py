"""An admin write's changes -> the derived graphs made again for them, in the store it commits.

The build derives graphs from the asserted ones (``pipeline.build_store``): each release's
evidence (``graph/evidence-v3``), the inferred graph, the catalogue (preferred factor labels, the
latest release, which releases each statement graph speaks for) and, with contributions, the
draft release's graphs. An admin write that changes a release's statements or the curated data
would leave them stale, so ``rederive`` makes them again, in the in-memory store the write will
commit, as a fresh build of the same asserted data would:

- a release's evidence incrementally where it can: the rubric reads, per tool, only that tool's
  findings and ratings (with the factors' opposites and the release node), so the assessments
  of the tools whose statements changed are made from a slice of the release holding those and
  put in place of their old ones; the rest of the evidence graph is kept. A change to a factor's
  opposite or to the release node touches every tool: then the whole release is assessed;
- the inferred graph over everything asserted (the rules run over the whole graph, there is no
  cheaper correct way), with HermiT's answer from its cache when its input is unchanged;
- the catalogue from the releases' names and statement graphs;
- the draft graphs from the contributions (``contributions.refresh_from_folder``), as the
  draft is read against the rest of the store;
- the summary (``graph.summary``), last, over the whole store as a build counts it.

A write to any other graph (the quality annotations, a graph of the admin's own) changes nothing
the build derives from, except the summary where the write states or takes away something in
the ontology's terms (the summary counts the whole store, as the aggregates over the findings
do); a write of anything else recomputes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions
from atrocity_kg.graph import catalogue, draft, evidence, graphs, reasoning, summary, validate
from atrocity_kg.ingest.releases import is_release_code, sort_codes
from atrocity_kg.model.namespaces import AKG, bind_prefixes
from atrocity_kg.storage import store

_TYPE = ox.NamedNode(str(RDF.type))
_ABOUT_TOOL = ox.NamedNode(str(AKG.aboutTool))
_OPPOSITE = ox.NamedNode(str(AKG.oppositeFactor))
_RELEASE = ox.NamedNode(str(AKG.Release))
_FACTOR_KINDS = frozenset(str(kind) for kind in catalogue.FACTOR_CLASSES)
_CATALOGUE_READS = frozenset(str(p) for p in (AKG.reviewName, AKG.oppositeFactor, AKG.dedooseCode))
"""What the catalogue reads of a release, beside the factors' types."""
_REASONER_READS = frozenset(str(p) for p in (AKG.statedToSupport, AKG.oppositeFactor))
"""What HermiT and the justifications read of a release, beside factor and release types."""


@dataclass(frozen=True)
class GraphChange:
    """The quads a write took out of one named graph and put into it."""

    removed: tuple[ox.Quad, ...] = ()
    added: tuple[ox.Quad, ...] = ()


def graph_change(before: bytes, after: bytes) -> GraphChange:
    """The difference of two N-Quads dumps of one graph (taken from one store, so a blank node
    keeps its label)."""
    old, new = set(before.splitlines()), set(after.splitlines())
    return GraphChange(_parse(old - new), _parse(new - old))


def _parse(lines: Iterable[bytes]) -> tuple[ox.Quad, ...]:
    data = b"\n".join(line for line in lines if line.strip())
    return tuple(ox.parse(data, format=ox.RdfFormat.N_QUADS)) if data else ()


@dataclass
class Derivation:
    """The derived graphs made again (IRIs, in the order made) and seconds per step."""

    recomputed: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)
    """The draft's validation (the contributions'), when the draft was made again."""


def release_codes(name: str) -> list[str]:
    """The releases a statement graph (graph/ushmm-v2-v3) speaks for, whichever releases the
    code knew of when it was written; none for other graphs (a draft's among them)."""
    prefix = str(graphs.release_graph_name("x"))[:-1]
    if not name.startswith(prefix):
        return []
    codes = [part.upper() for part in name.removeprefix(prefix).split("-")]
    return sort_codes(codes) if all(is_release_code(code) for code in codes) else []


def statement_graphs(memory: ox.Store) -> dict[str, list[str]]:
    """The store's non-empty statement graphs, each with the releases it speaks for."""
    found: dict[str, list[str]] = {}
    for name in store.graph_names(memory):
        codes = release_codes(name)
        if codes and _holds(memory.quads_for_pattern(None, None, None, ox.NamedNode(name))):
            found[name] = codes
    return found


def _holds(quads: Iterable[ox.Quad]) -> bool:
    return next(iter(quads), None) is not None


def release_graph(memory: ox.Store, code: str) -> Graph:
    """A release whole, as the build reads it from data/ushmm: its statement graphs together."""
    graph = bind_prefixes(Graph())
    for name, codes in statement_graphs(memory).items():
        if code in codes:
            graph += graphs.named_graph(memory, name)
    return graph


def rederive(settings: Settings, memory: ox.Store, changes: dict[str, GraphChange]) -> Derivation:
    """Make again, in ``memory``, every derived graph that depends on the changed graphs."""
    derivation = Derivation()
    changed_releases = sorted(
        {code for name in changes for code in release_codes(name)},
        key=lambda code: catalogue.release_order([code]),
    )
    curated = str(graphs.CURATED_GRAPH) in changes
    if not changed_releases and not curated:
        if _in_ontology_terms(changes):
            _timed(derivation, "summary", partial(_resummarise, settings, memory, derivation))
        return derivation
    present = statement_graphs(memory)
    if changed_releases:
        _timed(derivation, "catalogue", partial(_recatalogue, memory, present, derivation))
    for code in changed_releases:
        work = partial(_reassess, memory, code, present, changes, derivation)
        _timed(derivation, f"evidence {code}", work)
    _timed(derivation, "inferred", partial(_reinfer, settings, memory, present, derivation))
    if draft_needed(settings, memory):
        _timed(derivation, "draft", partial(_redraft, settings, memory, derivation))
    _timed(derivation, "summary", partial(_resummarise, settings, memory, derivation))
    return derivation


def _timed(derivation: Derivation, step: str, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    derivation.timings[f"derive {step}"] = time.perf_counter() - started


def _put(memory: ox.Store, name: URIRef, graph: Graph, derivation: Derivation) -> None:
    """Replace a derived graph's content (removing it when there is none)."""
    node = ox.NamedNode(str(name))
    if memory.contains_named_graph(node):
        memory.remove_graph(node)
    memory.extend(graphs.ox_quads(graph, node))
    derivation.recomputed.append(str(name))


def _slices(
    memory: ox.Store, present: dict[str, list[str]], predicates: frozenset[str]
) -> dict[str, Graph]:
    """Per release, the triples of ``predicates`` and the types of factors and releases: what
    the catalogue, HermiT and the justifications read of a release, a few thousand triples of
    its tens of thousands."""
    sliced: dict[str, Graph] = {}
    for name, codes in present.items():
        for quad in memory.quads_for_pattern(None, None, None, ox.NamedNode(name)):
            predicate, kind = quad.predicate.value, quad.object
            wanted = predicate in predicates or (
                quad.predicate == _TYPE
                and isinstance(kind, ox.NamedNode)
                and (kind.value in _FACTOR_KINDS or kind == _RELEASE)
            )
            if not wanted:
                continue
            triple = (graphs.from_ox(quad.subject), graphs.from_ox(quad.predicate))
            for code in codes:
                graph = sliced.setdefault(code, bind_prefixes(Graph()))
                graph.add((*triple, graphs.from_ox(quad.object)))
    return {code: sliced[code] for code in catalogue.release_order(sliced)}


def _recatalogue(memory: ox.Store, present: dict[str, list[str]], derivation: Derivation) -> None:
    releases = _slices(memory, present, _CATALOGUE_READS)
    names = [URIRef(name) for name in present]
    _put(memory, catalogue.CATALOGUE_GRAPH, catalogue.catalogue_graph(releases, names), derivation)


def touched_tools(
    memory: ox.Store, code: str, present: dict[str, list[str]], changes: dict[str, GraphChange]
) -> set[str] | None:
    """The tools whose assessments in release ``code`` the changes may move: those the changed
    statements' subjects are about (before or after). None when every tool's may move: a
    factor's opposite or the release node changed."""
    names = [ox.NamedNode(name) for name, codes in present.items() if code in codes]
    tools: set[str] = set()
    for name, change in changes.items():
        if code not in release_codes(name):
            continue
        for quad in (*change.removed, *change.added):
            if quad.predicate == _OPPOSITE or (quad.predicate == _TYPE and quad.object == _RELEASE):
                return None
            if quad.predicate == _ABOUT_TOOL and isinstance(quad.object, ox.NamedNode):
                tools.add(quad.object.value)
            subject = quad.subject
            if isinstance(subject, ox.Triple):
                continue
            for graph in names:
                if _holds(memory.quads_for_pattern(subject, _TYPE, _RELEASE, graph)):
                    return None
                tools.update(
                    q.object.value
                    for q in memory.quads_for_pattern(subject, _ABOUT_TOOL, None, graph)
                    if isinstance(q.object, ox.NamedNode)
                )
    return tools


def _tool_slice(
    memory: ox.Store, code: str, present: dict[str, list[str]], tools: set[str]
) -> Graph:
    """What the rubric reads of release ``code`` for these tools: their findings and ratings
    whole, every factor's opposite, the release node's type."""
    names = [ox.NamedNode(name) for name, codes in present.items() if code in codes]
    sliced = bind_prefixes(Graph())

    def add(quads: Iterable[ox.Quad]) -> None:
        sliced.addN(
            (
                graphs.from_ox(q.subject),
                graphs.from_ox(q.predicate),
                graphs.from_ox(q.object),
                sliced,
            )
            for q in quads
        )

    for graph in names:
        add(memory.quads_for_pattern(None, _OPPOSITE, None, graph))
        add(memory.quads_for_pattern(None, _TYPE, _RELEASE, graph))
        for tool in sorted(tools):
            for about in memory.quads_for_pattern(None, _ABOUT_TOOL, ox.NamedNode(tool), graph):
                subject = about.subject
                if isinstance(subject, ox.Triple):
                    continue
                for other in names:
                    add(memory.quads_for_pattern(subject, None, None, other))
    return sliced


def _reassess(
    memory: ox.Store,
    code: str,
    present: dict[str, list[str]],
    changes: dict[str, GraphChange],
    derivation: Derivation,
) -> None:
    """Release ``code``'s evidence graph again: the touched tools' assessments, or all."""
    name = evidence.evidence_graph_name(code)
    if not any(code in codes for codes in present.values()):
        # The release is gone: a build of what is left would assess nothing of it.
        _put(memory, name, Graph(), derivation)
        return
    tools = touched_tools(memory, code, present, changes)
    if tools is not None and not tools:
        return
    if tools is None or not memory.contains_named_graph(ox.NamedNode(str(name))):
        _put(memory, name, evidence.assess_release(code, release_graph(memory, code)), derivation)
        return
    kept = graphs.named_graph(memory, str(name))
    for tool in tools:
        for node in list(kept.subjects(AKG.aboutTool, URIRef(tool))):
            kept.remove((node, None, None))
    fresh = evidence.assess_release(code, _tool_slice(memory, code, present, tools))
    _put(memory, name, bind_prefixes(kept + fresh), derivation)


def _reinfer(
    settings: Settings, memory: ox.Store, present: dict[str, list[str]], derivation: Derivation
) -> None:
    """The inferred graph over the ontology, the curated data, the releases and their evidence,
    as ``reasoning.infer`` makes it in a build."""
    ontology = graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH))
    curated = graphs.named_graph(memory, str(graphs.CURATED_GRAPH))
    releases = _slices(memory, present, _REASONER_READS)
    hermit = reasoning.hermit_stage(
        ontology, curated, releases, derivation.timings, settings.reasoning_cache
    )
    sources = [str(graphs.ONTOLOGY_GRAPH), str(graphs.CURATED_GRAPH), *present]
    sources += [str(evidence.evidence_graph_name(code)) for code in releases]
    data = [_dump(memory, name) for name in sources]
    started = time.perf_counter()
    inferred = reasoning.materialize_data(ontology, data, hermit, [curated])
    derivation.timings["rules"] = time.perf_counter() - started
    inferred += reasoning.justify(inferred, curated, releases)
    _put(memory, reasoning.INFERRED_GRAPH, bind_prefixes(inferred), derivation)


def _dump(memory: ox.Store, name: str) -> bytes:
    data = memory.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
    return data or b""


def draft_needed(settings: Settings, memory: ox.Store) -> bool:
    """Is there a draft to make again (contributions kept), or one to take away?"""
    if contributions.list_contributions(settings.contributions_root):
        return True
    return any(draft.is_draft_graph(name) for name in store.graph_names(memory))


def _redraft(settings: Settings, memory: ox.Store, derivation: Derivation) -> None:
    before = {name for name in store.graph_names(memory) if draft.is_draft_graph(name)}
    cache = validate.ValidationCache(settings.validation_cache)
    outcome = contributions.refresh_from_folder(memory, settings.contributions_root, cache)
    derivation.report.extend(outcome.report)
    derivation.recomputed.extend(sorted(before | set(outcome.graphs)))


def _in_ontology_terms(changes: dict[str, GraphChange]) -> bool:
    """Does a change state or take away a triple in the ontology's terms (an ``akg:`` property,
    or a type that is an ``akg:`` class), which the summary may count?"""
    terms = str(AKG)
    return any(
        quad.predicate.value.startswith(terms)
        or (
            quad.predicate == _TYPE
            and isinstance(quad.object, ox.NamedNode)
            and quad.object.value.startswith(terms)
        )
        for change in changes.values()
        for quad in (*change.removed, *change.added)
    )


def _resummarise(settings: Settings, memory: ox.Store, derivation: Derivation) -> None:
    """The summary over everything, the graphs made again above included (it reads the whole
    store, as in a build: a fraction of a second at the real data's size), validated as the
    build validates it (a summary that changed: a few seconds at the real data's size)."""
    cache = validate.ValidationCache(settings.validation_cache)
    derivation.report.extend(summary.recount(memory, cache))
    derivation.recomputed.append(str(summary.SUMMARY_GRAPH))


def recomputed_header(names: Sequence[str]) -> str:
    """The graphs a write recomputed, for the ``Atrocity-KG-Recomputed`` header: IRIs in angle
    brackets, space-separated (none: empty)."""
    return " ".join(f"<{name}>" for name in names)
