"""Release graphs -> the store's layout of them: each statement once, and one name per factor.

Each release graph holds what that release says, whole (``data/ushmm/v*.ttl``; validation,
evidence and reasoning read them so). Kept so in the store, a statement several releases make
alike (a study's title, a factor's code) would sit in several named graphs, and the default
graph, the union of the named graphs, would give it once per release: a researcher's COUNT would
be wrong unless they knew to write DISTINCT. So the store holds each statement once:

- ``graph/ushmm-v2`` holds what only V2 states (its findings, ratings and memberships above all);
- ``graph/ushmm-v2-v3`` what V2 and V3 state alike and no other release, and so on; the
  catalogue says which releases each such graph speaks for (``akg:statementsOf``), so the
  statements of V2 are those of every graph that names V2, and none is lost.

Releases rename factors and reuse one name for several, so the name a release gives a factor is
``akg:reviewName`` in its graph, and the catalogue (``graph/catalogue``) gives each factor one
``skos:prefLabel``, unique across factors: the latest release's wording, with what it is the
opposite of, or its code, added where the review gives several factors that wording. The other
wordings are ``skos:altLabel``. The catalogue also types the newest release ``akg:LatestRelease``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.term import Node

from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.graph import graphs
from atrocity_kg.ingest.releases import sort_codes
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, bind_prefixes

CATALOGUE_GRAPH = iris.graph("catalogue")
FACTOR_CLASSES = (AKG.ContextualFactor, AKG.DesignFactor)


def release_order(codes: Iterable[str]) -> list[str]:
    """Oldest first: by the release's number (V2 before V10), then anything else by code."""
    return sort_codes(codes)


def statement_graph_name(codes: Iterable[str]) -> URIRef:
    """The graph of the statements exactly these releases make: 'ushmm-v2', 'ushmm-v1-v2-v3'."""
    return graphs.release_graph_name("-".join(code.lower() for code in release_order(codes)))


def statement_graphs(releases: Mapping[str, Graph]) -> dict[URIRef, Graph]:
    """The release graphs re-cut so that each statement is in one graph: the one named for the
    releases that make it."""
    stated_by: dict[tuple[Node, Node, Node], list[str]] = defaultdict(list)
    for code in release_order(releases):
        for triple in releases[code]:
            stated_by[triple].append(code)
    cut: dict[URIRef, Graph] = {}
    for triple, codes in stated_by.items():
        name = statement_graph_name(codes)
        if name not in cut:
            cut[name] = bind_prefixes(Graph())
        cut[name].add(triple)
    return cut


class DuplicateStatementError(AtrocityKGError):
    """Raised when the graphs of a build would state one triple twice."""


def check_each_statement_once(named: Mapping[URIRef, Graph]) -> None:
    """A triple in two named graphs would be counted twice over the default graph: stop the
    build, naming the first such triples and their graphs."""
    seen: dict[tuple[Node, Node, Node], URIRef] = {}
    twice: list[str] = []
    for name, graph in named.items():
        for triple in graph:
            first = seen.setdefault(triple, name)
            if first != name and len(twice) < 5:
                twice.append(f"{' '.join(t.n3() for t in triple)} in {first} and {name}")
    if twice:
        raise DuplicateStatementError(
            "the build would state a triple in two named graphs (counted twice over the default "
            "graph): " + "; ".join(twice)
        )


def catalogue_graph(
    releases: Mapping[str, Graph], statement_graph_names: Iterable[URIRef]
) -> Graph:
    """The preferred names of the factors, the latest release, and which releases each
    statement graph speaks for."""
    catalogue = bind_prefixes(Graph())
    order = release_order(releases)
    if order:
        catalogue.add((iris.release(order[-1]), RDF.type, AKG.LatestRelease))
    for name in statement_graph_names:
        for code in releases_of(name, order):
            catalogue.add((name, AKG.statementsOf, iris.release(code)))
    for factor, label in preferred_labels(releases).items():
        catalogue.add((factor, SKOS.prefLabel, Literal(label, lang="en")))
        for wording in _wordings(releases, factor):
            if _tidy(wording) != label:
                catalogue.add((factor, SKOS.altLabel, Literal(wording, lang="en")))
    return catalogue


def releases_of(name: str, codes: Iterable[str]) -> list[str]:
    """Which of these releases a statement graph speaks for, by its name (the inverse of
    statement_graph_name); none for a graph that is not one."""
    prefix = str(graphs.release_graph_name("x"))[:-1]
    if not str(name).startswith(prefix):
        return []
    parts = str(name).removeprefix(prefix).split("-")
    return [code for code in release_order(codes) if code.lower() in parts]


def _tidy(wording: str) -> str:
    """A wording as a preferred label: runs of white space as one, no final full stop."""
    return " ".join(wording.split()).rstrip(".").strip()


def _wordings(releases: Mapping[str, Graph], factor: URIRef) -> list[str]:
    """The names the releases give a factor, latest release first, each once."""
    found: list[str] = []
    for code in reversed(release_order(releases)):
        for name in releases[code].objects(factor, AKG.reviewName):
            if str(name) not in found:
                found.append(str(name))
    return found


def preferred_labels(releases: Mapping[str, Graph]) -> dict[URIRef, str]:
    """One label per factor, unique across factors (compared without case)."""
    order = release_order(releases)
    latest: dict[URIRef, str] = {}
    opposite_of: dict[URIRef, URIRef] = {}
    code: dict[URIRef, str] = {}
    for release_code in order:
        graph = releases[release_code]
        for kind in FACTOR_CLASSES:
            for factor in graph.subjects(RDF.type, kind):
                assert isinstance(factor, URIRef)
                name = graph.value(factor, AKG.reviewName)
                if name is not None:
                    latest[factor] = _tidy(str(name))
                other = graph.value(factor, AKG.oppositeFactor)
                if isinstance(other, URIRef) and iris.is_opposite_factor(str(factor)):
                    opposite_of[factor] = other
                coded = graph.value(factor, AKG.dedooseCode)
                if coded is not None:
                    code[factor] = str(coded)
    sharing: dict[str, list[URIRef]] = defaultdict(list)
    for factor, label in latest.items():
        sharing[label.casefold()].append(factor)
    labels = dict(latest)
    shared = {factor for group in sharing.values() if len(group) > 1 for factor in group}
    for factor in sorted(shared):
        if factor not in opposite_of:
            labels[factor] = f"{latest[factor]} ({code.get(factor) or iris.key(str(factor))})"
    for factor in sorted(shared):
        if factor in opposite_of:
            labels[factor] = f"{latest[factor]} (opposite of {labels[opposite_of[factor]]})"
    _check_unique(labels)
    return labels


def _check_unique(labels: Mapping[URIRef, str]) -> None:
    owners: dict[str, URIRef] = {}
    for factor, label in sorted(labels.items()):
        other = owners.setdefault(label.casefold(), factor)
        if other != factor:
            raise AtrocityKGError(
                f"factors {other} and {factor} would both be labelled {label!r}: "
                "give the review's wording a distinguishing addition in catalogue.py"
            )
