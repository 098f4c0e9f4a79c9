"""What every page about a thing is made of: the URLs this server answers at, values as a page
shows them (``Term``), labels looked up in batches (``Labels``), and the releases.

The IRI ``https://w3id.org/atrocity-kg/id/{path}`` is answered at ``/id/{path}``, its page at
``/page/{path}`` and its RDF at ``/data/{path}``; links to other web IRIs stay as they are, and
an IRI of another scheme never becomes a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.model.citations import Piece
from atrocity_kg.model.namespaces import AKG as AKG_NS
from atrocity_kg.model.namespaces import BASE, PREFIXES
from atrocity_kg.model.negotiation import RDF_FORMATS, Format
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore

ID_BASE = BASE + "id/"
# One URL per format: the extension names the format.
EXTENSIONS: dict[str, Format] = {fmt.extension: fmt for fmt in RDF_FORMATS}

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = ox.NamedNode(RDF_NS + "type")
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
AKG = BASE + "ontology#"
LABELS = (
    ox.NamedNode(SKOS + "prefLabel"),
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.NamedNode(DCT + "title"),
)
DESCRIPTIONS = (ox.NamedNode(DCT + "description"), ox.NamedNode(SKOS + "definition"))
DOI = ox.NamedNode("http://purl.org/ontology/bibo/doi")
ISSUED = ox.NamedNode(DCT + "issued")
CREATOR = ox.NamedNode(DCT + "creator")
EDITOR = ox.NamedNode("http://purl.org/ontology/bibo/editor")
RELEASE_CODE = ox.NamedNode(AKG + "releaseCode")
RELEASE_CLASS = ox.NamedNode(AKG + "Release")
CURATED_GRAPH = ox.NamedNode(str(iris.graph("curated")))


# --- IRIs and URLs -----------------------------------------------------------------------------


def thing_node(path: str) -> ox.NamedNode | None:
    """The IRI named by a path under /id/, or None when the path makes no valid IRI."""
    if not path:
        return None
    try:
        return ox.NamedNode(ID_BASE + path)
    except ValueError:
        return None


def url_path(path: str) -> str:
    """A thing's path as it may stand in a URL or a header (keys are slugs: usually as is)."""
    return quote(path, safe="/-._~:@!$&'()*+,;=")


def page_url(path: str) -> str:
    return f"/page/{url_path(path)}"


def data_url(path: str, ext: str | None = None) -> str:
    return f"/data/{url_path(path)}" + (f".{ext}" if ext else "")


def local_href(iri: str) -> str | None:
    """Where this server answers for an IRI: /id/... for ours, the IRI itself for other web
    IRIs, nothing for other schemes (a ``javascript:`` IRI must never become a link)."""
    if iri.startswith(ID_BASE) and len(iri) > len(ID_BASE):
        return "/id/" + url_path(iri[len(ID_BASE) :])
    if iri.startswith(("http://", "https://")):
        return iri
    return None


@dataclass(frozen=True)
class Term:
    """A value as the page shows it: its text, a link if it has one, the IRI it stands for;
    ``pieces`` cut the text where a part is emphasised (a citation's venue)."""

    text: str
    href: str | None = None
    iri: str | None = None
    note: str = ""
    pieces: tuple[Piece, ...] = ()


@dataclass(frozen=True)
class Release:
    iri: str
    code: str
    issued: str

    @property
    def title(self) -> str:
        return f"{self.code} ({self.issued})" if self.issued else self.code

    @property
    def href(self) -> str | None:
        return local_href(self.iri)


def compact(iri: str) -> str:
    """``akg:Study`` for an IRI in a known namespace; ours as ``id/...``; else the IRI."""
    for prefix, namespace in PREFIXES.items():
        ns = str(namespace)
        if prefix != "id" and iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    if iri.startswith(ID_BASE):
        return iri[len(BASE) :]
    return iri


def _literal_rank(literal: ox.Literal) -> tuple[int, str]:
    language = literal.language or ""
    return (0 if language == "en" else 1 if not language else 2, literal.value)


PREFETCH_CHUNK = 400


def literals_of(
    store: GraphStore, nodes: Iterable[ox.NamedNode], predicates: Iterable[ox.NamedNode]
) -> dict[tuple[str, str], list[ox.Literal]]:
    """The literal values of many nodes for a few predicates, keyed by (node, predicate), in one
    query per few hundred nodes: a remote store answers each lookup in a round trip, so a page
    that looked its labels up one by one took over a thousand of them. The nodes and predicates
    are terms built by pyoxigraph, written into VALUES blocks in their N-Triples form. The
    embedded store answers index lookups in microseconds: it is asked node by node."""
    wanted = sorted({node.value: node for node in nodes}.items())
    chosen_predicates = list(predicates)
    found: dict[tuple[str, str], list[ox.Literal]] = {}
    if isinstance(store, ox.Store):
        for iri, node in wanted:
            for predicate in chosen_predicates:
                for quad in store.quads_for_pattern(node, predicate, None, None):
                    if isinstance(quad.object, ox.Literal):
                        found.setdefault((iri, predicate.value), []).append(quad.object)
        return found
    chosen = " ".join(str(predicate) for predicate in chosen_predicates)
    for start in range(0, len(wanted), PREFETCH_CHUNK):
        subjects = " ".join(str(node) for _, node in wanted[start : start + PREFETCH_CHUNK])
        answer = store.query(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {subjects} }} VALUES ?p {{ {chosen} }} "
            "?s ?p ?o FILTER(isLiteral(?o)) }",
            use_default_graph_as_union=True,
        )
        assert isinstance(answer, ox.QuerySolutions)
        for row in answer:
            literal = row["o"]
            if isinstance(literal, ox.Literal):
                found.setdefault((row["s"].value, row["p"].value), []).append(literal)
    return found


def preferred(
    found: dict[tuple[str, str], list[ox.Literal]], iri: str, predicates: Iterable[ox.NamedNode]
) -> str | None:
    """The value of the first predicate that has one (English first), from literals_of."""
    for predicate in predicates:
        literals = found.get((iri, predicate.value))
        if literals:
            return min(literals, key=_literal_rank).value
    return None


class Labels:
    """Labels of IRIs (skos:prefLabel, then rdfs:label, then dct:title), looked up once each;
    ``prefetch`` looks many up in one query before a table is drawn."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._known: dict[str, str | None] = {}

    def __call__(self, node: ox.NamedNode) -> str | None:
        if node.value not in self._known:
            self.prefetch([node])
        return self._known[node.value]

    def prefetch(self, nodes: Iterable[object]) -> None:
        """Look up the labels of the IRIs among ``nodes`` (IRIs or their strings) at once."""
        missing = {
            iri: ox.NamedNode(iri)
            for iri in (
                node.value if isinstance(node, ox.NamedNode) else node
                for node in nodes
                if isinstance(node, ox.NamedNode | str)
            )
            if iri not in self._known
        }
        if not missing:
            return
        found = literals_of(self._store, missing.values(), LABELS)
        for iri in missing:
            self._known[iri] = preferred(found, iri, LABELS)

    def term(self, node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Term:
        if isinstance(node, ox.NamedNode):
            label = self(node)
            return Term(label or compact(node.value), local_href(node.value), node.value)
        if isinstance(node, ox.Literal):
            if node.language:
                note = f"@{node.language}"
            elif node.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
                note = compact(node.datatype.value)
            else:
                note = ""
            return Term(node.value, note=note)
        return Term(str(node))


def releases(store: GraphStore) -> list[Release]:
    """The releases in the store, newest (greatest dct:issued) first."""
    return [Release(r.iri, r.code, r.issued) for r in sparql.releases(store)]


def doi_url(doi: str) -> str:
    return str(iris.doi(doi))


def exists(store: GraphStore, node: ox.NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None


REPLACED_BY = ox.NamedNode("http://purl.org/dc/terms/isReplacedBy")


def replacement(store: GraphStore, node: ox.NamedNode) -> ox.NamedNode | None:
    """The IRI that now names what ``node`` named (dct:isReplacedBy), if it was replaced."""
    for quad in store.quads_for_pattern(node, REPLACED_BY, None, None):
        if isinstance(quad.object, ox.NamedNode):
            return quad.object
    return None


def first_literal(store: GraphStore, node: ox.NamedNode, predicates: Iterable[ox.NamedNode]) -> str:
    chosen = list(predicates)
    return preferred(literals_of(store, [node], chosen), node.value, chosen) or ""


RATING_PARTS = {
    name: ox.NamedNode(str(term))
    for name, term in (
        ("tool", AKG_NS.aboutTool),
        ("shown", AKG_NS.shownAsFactor),
        ("factor", AKG_NS.aboutFactor),
        ("basis", AKG_NS.evidenceBasis),
        ("release", AKG_NS.inRelease),
    )
}
RECOMPUTED_CLASS = ox.NamedNode(str(AKG_NS.RecomputedAssessment))


def rating_parts(store: GraphStore, node: ox.NamedNode) -> dict[str, ox.NamedNode]:
    """What a rating rates, by the names of RATING_PARTS (tool, shown, factor, basis, release),
    those it states."""
    parts: dict[str, ox.NamedNode] = {}
    for name, predicate in RATING_PARTS.items():
        value = next(iter(store.quads_for_pattern(node, predicate, None, None)), None)
        if value is not None and isinstance(value.object, ox.NamedNode):
            parts[name] = value.object
    return parts


def rating_title(store: GraphStore, labels: Labels, node: ox.NamedNode) -> str | None:
    """A rating's name as a person reads it, from what it rates: "Peace operations × High
    quantity of troops, research, V3" (the factor as the pages show it), "(published)" after
    the review's own; None for what rates no tool and factor."""
    parts = rating_parts(store, node)
    factor = parts.get("shown") or parts.get("factor")
    if "tool" not in parts or factor is None:
        return None
    labels.prefetch(parts.values())
    words = [
        f"{labels(parts['tool']) or compact(parts['tool'].value)} × "
        f"{labels(factor) or compact(factor.value)}"
    ]
    if "basis" in parts:
        words.append(labels(parts["basis"]) or compact(parts["basis"].value))
    if "release" in parts:
        code = first_literal(store, parts["release"], [RELEASE_CODE])
        words.append(code or labels(parts["release"]) or compact(parts["release"].value))
    recomputed = next(iter(store.quads_for_pattern(node, RDF_TYPE, RECOMPUTED_CLASS, None)), None)
    return ", ".join(words) + ("" if recomputed is not None else " (published)")
