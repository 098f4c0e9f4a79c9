"""The page about one thing: every statement with the thing as subject, what points at it,
the graphs and releases that say it, its schema.org description, and the section its kind adds.

In: a store, a thing's IRI and path. Out: a ``Resource`` for ``resource.html``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from atrocity_kg.graph import catalogue, evidence
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG as NS
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import rendering
from atrocity_kg.web.views.sections import Section, section
from atrocity_kg.web.views.terms import (
    AKG,
    CREATOR,
    CURATED_GRAPH,
    DESCRIPTIONS,
    DOI,
    EDITOR,
    EXTENSIONS,
    ISSUED,
    RDF_TYPE,
    RELEASE_CLASS,
    RELEASE_CODE,
    SKOS,
    Labels,
    Release,
    Term,
    compact,
    data_url,
    doi_url,
    first_literal,
    local_href,
    page_url,
    rating_title,
    releases,
    replacement,
)

INCOMING_CAP = 20
"""Links pointing here listed on a page (a tool has thousands: its findings and ratings, which
the page's own section sums up; the rest are a SPARQL query away)."""
INCOMING_COUNT_CAP = 10_000
"""Links pointing here counted on a page, at most (the real data's most linked thing, a
release, has fewer than 5,000): a release or a concept is linked from every finding, millions in
a large graph, and counting them all took most of a release's page time at 10^7 triples. Past
the cap a page says "more than"."""
# Our class -> the schema.org type of the page's embedded JSON-LD.
SCHEMA_TYPES = {
    AKG + "Study": "ScholarlyArticle",
    AKG + "Release": "Dataset",
    SKOS + "Concept": "DefinedTerm",
}


@dataclass(frozen=True)
class Row:
    predicate: Term
    values: tuple[Term, ...]
    inferred: tuple[str | None, ...] = ()
    """Per value: None where a graph states it; where only the reasoner's graph holds it, the
    link to why (the justification, or the ontology's term)."""


@dataclass(frozen=True)
class Incoming:
    subject: Term
    predicate: Term


def speaks_for(graph_name: str, known: list[Release]) -> list[Release]:
    """The releases whose statements a named graph holds: those a release statement graph is
    named for (catalogue.py), or the one an evidence graph is computed from."""
    by_code = {release.code: release for release in known}
    codes = catalogue.releases_of(graph_name, by_code)
    codes += [c for c in by_code if graph_name == str(evidence.evidence_graph_name(c))]
    return [by_code[code] for code in codes]


@dataclass(frozen=True)
class GraphLine:
    iri: str
    releases: tuple[Release, ...]
    current: bool


@dataclass
class Resource:
    """Everything the page about one thing says."""

    iri: str
    path: str
    title: str
    types: list[Term]
    rows: list[Row]
    incoming: list[Incoming]
    incoming_count: int
    graphs: list[GraphLine]
    latest: Release | None
    former_releases: list[Release]
    formats: list[tuple[str, str, str]]
    schema: dict[str, Any] = field(default_factory=dict)
    section: Section | None = None
    replaced_by: Term | None = None
    inferred_types: dict[str, str] = field(default_factory=dict)
    """The types only the reasoner's graph holds, each with the link to why (the ontology's
    term for a class the thing is stated to have)."""
    incoming_more: bool = False
    """More links point here than ``incoming_count`` (``INCOMING_COUNT_CAP``), which were not
    counted."""

    @property
    def not_current(self) -> bool:
        return bool(self.former_releases)


def schema_org(
    store: GraphStore, node: ox.NamedNode, title: str, types: Iterable[str], page: str
) -> dict[str, Any]:
    """The page's schema.org description (a JSON-LD data block for search engines)."""
    schema_type = "Thing"
    for our_class, mapped in SCHEMA_TYPES.items():
        if our_class in types:
            schema_type = mapped
            break
    described: dict[str, Any] = {
        "@context": "https://schema.org",
        "@id": node.value,
        "@type": schema_type,
        "name": title,
        "url": page,
    }
    text = first_literal(store, node, DESCRIPTIONS)
    if text:
        described["description"] = text
    issued = first_literal(store, node, [ISSUED])
    if issued and schema_type in ("ScholarlyArticle", "Dataset"):
        described["datePublished"] = issued
    if schema_type == "ScholarlyArticle":
        doi = first_literal(store, node, [DOI])
        if doi:
            described["identifier"] = f"doi:{doi}"
            described["sameAs"] = doi_url(doi)
        for key, predicate in (("author", CREATOR), ("editor", EDITOR)):
            names = sorted(
                {
                    q.object.value
                    for q in store.quads_for_pattern(node, predicate, None, None)
                    if isinstance(q.object, ox.Literal)
                }
            )
            if names:
                described[key] = [{"@type": "Person", "name": name} for name in names]
    if schema_type == "Dataset":
        version = first_literal(store, node, [RELEASE_CODE])
        if version:
            described["version"] = version
    return described


INFERRED_GRAPH = str(iris.graph("inferred"))
SUPPORTS = str(NS.supportsStrategy)
SUPPORTED_BY = str(NS.supportedByTool)


def ontology_anchor(iri: str) -> str:
    """The ontology page's section on one of its own terms; the page's top for another's."""
    return "/ontology#" + iri[len(AKG) :] if iri.startswith(AKG) else "/ontology"


def why_inferred(node: ox.NamedNode, predicate: str, value: ox.NamedNode | None) -> str:
    """Where a page links an inferred statement: the reasoner's justification for a strategy a
    tool supports, else the ontology's term (the property, whose axioms imply it)."""
    if value is not None and predicate == SUPPORTS:
        return local_href(str(iris.justification(node.value, value.value))) or "/ontology"
    if value is not None and predicate == SUPPORTED_BY:
        return local_href(str(iris.justification(value.value, node.value))) or "/ontology"
    return ontology_anchor(predicate)


def incoming_links(store: GraphStore, node: ox.NamedNode) -> set[tuple[str, str]]:
    """The (property, subject) pairs linking to ``node`` from an IRI, at most one more than
    ``INCOMING_COUNT_CAP``: read with a LIMIT, so a thing linked from millions costs no more
    than one linked from ten thousand."""
    query = sparql.load("page-incoming") + f"LIMIT {INCOMING_COUNT_CAP + 1}\n"
    pairs = (
        (sparql.text_of(row["property"]), sparql.text_of(row["subject"]))
        for row in sparql.select(store, query, {"thing": node})
    )
    return {(p, s) for p, s in pairs if p is not None and s is not None}


def resource(store: GraphStore, node: ox.NamedNode, path: str, base_url: str) -> Resource:
    labels = Labels(store)
    quads = list(store.quads_for_pattern(node, None, None, None))
    pointing = incoming_links(store, node)
    shown_pointing = sorted(pointing, key=lambda pair: (compact(pair[0]), pair[1]))[:INCOMING_CAP]
    labels.prefetch([quad.object for quad in quads] + [s for _, s in shown_pointing])
    grouped: dict[str, dict[str, Term]] = {}
    predicates: dict[str, ox.NamedNode] = {}
    graph_names: set[str] = set()
    type_iris: dict[str, ox.NamedNode] = {}
    stated: set[tuple[str, str]] = set()
    for quad in quads:
        if isinstance(quad.graph_name, ox.NamedNode):
            graph_names.add(quad.graph_name.value)
            if quad.graph_name.value != INFERRED_GRAPH:
                stated.add((quad.predicate.value, str(quad.object)))
        if quad.predicate == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            type_iris[quad.object.value] = quad.object
            continue
        predicates[quad.predicate.value] = quad.predicate
        shown = labels.term(quad.object)
        if quad.predicate == DOI and isinstance(quad.object, ox.Literal):
            shown = Term(quad.object.value, doi_url(quad.object.value), note="DOI")
        grouped.setdefault(quad.predicate.value, {})[str(quad.object)] = shown

    def why(predicate: str, key: str) -> str | None:
        if (predicate, key) in stated:
            return None
        value = grouped[predicate][key]
        return why_inferred(node, predicate, ox.NamedNode(value.iri) if value.iri else None)

    rows = [
        Row(
            Term(compact(iri), local_href(iri), iri),
            tuple(grouped[iri][key] for key in sorted(grouped[iri])),
            tuple(why(iri, key) for key in sorted(grouped[iri])),
        )
        for iri in sorted(grouped, key=compact)
    ]
    # An inferred type follows from a class the thing is stated to have: its term says why.
    stated_classes = [iri for iri in type_iris if (RDF_TYPE.value, str(type_iris[iri])) in stated]
    own_class = next((iri for iri in sorted(stated_classes) if iri.startswith(AKG)), "")
    inferred_types = {
        iri: ontology_anchor(own_class or iri)
        for iri, t in type_iris.items()
        if (RDF_TYPE.value, str(t)) not in stated
    }
    types = sorted(
        (Term(compact(iri), local_href(iri), iri, labels(t) or "") for iri, t in type_iris.items()),
        key=lambda term: term.text,
    )

    incoming = [
        Incoming(labels.term(ox.NamedNode(s)), Term(compact(p), local_href(p), p))
        for p, s in shown_pointing
    ]

    known = releases(store)
    latest = known[0] if known else None
    graphs = []
    in_releases: list[Release] = []
    for name in sorted(graph_names):
        speaking = speaks_for(name, known)
        graphs.append(GraphLine(name, tuple(speaking), latest in speaking))
        in_releases += [r for r in speaking if r not in in_releases]
    former: list[Release] = []
    if (
        latest is not None
        and in_releases
        and latest not in in_releases
        and CURATED_GRAPH.value not in graph_names
        and RELEASE_CLASS.value not in type_iris
    ):
        former = in_releases

    title = labels(node) or rating_title(store, labels, node) or node.value
    page = base_url.rstrip("/") + page_url(path)
    successor = replacement(store, node)
    return Resource(
        iri=node.value,
        path=path,
        title=title,
        types=types,
        rows=rows,
        incoming=incoming,
        incoming_count=min(len(pointing), INCOMING_COUNT_CAP),
        incoming_more=len(pointing) > INCOMING_COUNT_CAP,
        graphs=graphs,
        latest=latest,
        former_releases=former,
        formats=[
            (fmt.label, data_url(path, ext), fmt.media_type) for ext, fmt in EXTENSIONS.items()
        ],
        schema=schema_org(store, node, title, type_iris, page),
        section=section(store, node, type_iris, known),
        replaced_by=None if successor is None else labels.term(successor),
        inferred_types=inferred_types,
    )


def render_resource(item: Resource) -> str:
    return rendering.render(
        "resource.html", item=item, json_ld=item.schema, incoming_cap=INCOMING_CAP
    )
