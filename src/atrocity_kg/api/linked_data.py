"""/id/, /page/, /data/: every thing in the graph answers at its IRI (Cool URIs, the 303 way).

A thing's IRI is ``https://w3id.org/atrocity-kg/id/{path}``; this server answers for it at
``/id/{path}``. Following the W3C note "Cool URIs for the Semantic Web" (section 4.3, 303 URIs
forwarding to different documents), the IRI names the thing, not a document, so ``/id/{path}``
answers ``303 See Other`` to a document about it, chosen by ``Accept``:

- ``/page/{path}``: HTML for people (a browser, or no ``Accept`` at all);
- ``/data/{path}.{ttl|nt|jsonld|rdf}``: the RDF, one URL per format (links and downloads);
- ``/data/{path}``: the RDF in the format ``Accept`` (or ``?format=``) asks for.

The RDF of a thing is what ``DESCRIBE <iri>`` answers on the union default graph: every triple
with the thing as subject, once (the union repeats a triple once per named graph that has it).
A thing exists when the store has at least one such triple.

Headers (RFC 8288 web linking): the 303 names the documents describing the thing with
``rel="describedby"`` (POWDER, in the IANA link relation registry); each document names the
thing with ``rel="describes"`` (RFC 6903) and its other formats with ``rel="alternate"``. Every
negotiated answer carries ``Vary: Accept``.

User input (the path) only ever becomes an ``ox.NamedNode`` looked up with
``quads_for_pattern``, or a bound value of a query: it is never pasted into SPARQL text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Annotated, Any
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from atrocity_kg import catalogue, evidence, iris, sparql
from atrocity_kg.api import answers, error_pages, pages, rendering
from atrocity_kg.api.headers import VARY
from atrocity_kg.api.protocol import (
    Plan,
    ProtocolError,
    get_store,
    stream,
)
from atrocity_kg.api.sparql import choose, format_parameter
from atrocity_kg.citations import Piece, emphasis_pieces
from atrocity_kg.namespaces import AKG as NS
from atrocity_kg.namespaces import BASE, PREFIXES
from atrocity_kg.negotiation import RDF_FORMATS, Format, preferred_media_type
from atrocity_kg.store import GraphStore

router = APIRouter(tags=["linked data"], route_class=error_pages.PageErrorRoute)

ID_BASE = BASE + "id/"
HTML = "text/html"
XHTML = "application/xhtml+xml"
# One URL per format: the extension names the format.
EXTENSIONS: dict[str, Format] = {fmt.extension: fmt for fmt in RDF_FORMATS}
INCOMING_CAP = 200
CLOSE_MATCHES = 10

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
# Our class -> the schema.org type of the page's embedded JSON-LD.
SCHEMA_TYPES = {
    AKG + "Study": "ScholarlyArticle",
    AKG + "Release": "Dataset",
    SKOS + "Concept": "DefinedTerm",
}


# Things of one kind whose IRI starts as the unknown one does; the prefix is a bound value.
CLOSE_QUERY = """SELECT DISTINCT ?thing ?prefix WHERE {
  ?thing a ?type .
  FILTER(isIRI(?thing) && STRSTARTS(STR(?thing), ?prefix))
} ORDER BY ?thing LIMIT """ + str(CLOSE_MATCHES)


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


def exists(store: GraphStore, node: ox.NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None


REPLACED_BY = ox.NamedNode("http://purl.org/dc/terms/isReplacedBy")


def replacement(store: GraphStore, node: ox.NamedNode) -> ox.NamedNode | None:
    """The IRI that now names what ``node`` named (dct:isReplacedBy), if it was replaced."""
    for quad in store.quads_for_pattern(node, REPLACED_BY, None, None):
        if isinstance(quad.object, ox.NamedNode):
            return quad.object
    return None


def description(store: GraphStore, node: ox.NamedNode) -> list[ox.Triple]:
    """What DESCRIBE <iri> answers on the union default graph, each triple once, sorted."""
    triples = {quad.triple for quad in store.quads_for_pattern(node, None, None, None)}
    return sorted(triples, key=str)


def _link(target: str, rel: str, media_type: str | None = None) -> str:
    return f'<{target}>; rel="{rel}"' + (f'; type="{media_type}"' if media_type else "")


def document_links(path: str, rel: str, current: str | None = None) -> list[str]:
    """Links to the page and to each format's URL, leaving out the answer's own URL."""
    links = []
    if page_url(path) != current:
        links.append(_link(page_url(path), rel, HTML))
    for ext, fmt in EXTENSIONS.items():
        if data_url(path, ext) != current:
            links.append(_link(data_url(path, ext), rel, fmt.media_type))
    return links


def document_headers(path: str, iri: str, current: str) -> dict[str, str]:
    """The Link header of a document about a thing: the thing it describes, its alternates."""
    return {
        "Link": ", ".join([_link(iri, "describes"), *document_links(path, "alternate", current)])
    }


# --- /id/: the thing itself --------------------------------------------------------------------

OFFERED = (HTML, XHTML, *(media for fmt in RDF_FORMATS for media in fmt.media_types))


def _format_for(media_type: str) -> Format | None:
    for fmt in RDF_FORMATS:
        if media_type in fmt.media_types:
            return fmt
    return None


def wants_html(accept: str | None) -> bool:
    chosen = preferred_media_type(accept, OFFERED)
    return chosen is None or chosen in (HTML, XHTML)


THING_ANSWERS: answers.Declared = {
    301: answers.answer("Moved Permanently: the IRI was replaced by another", answers.TEXT),
    303: answers.answer("See Other: the thing's HTML page or its RDF", answers.TEXT),
    404: answers.answer("Not in the graph", {**answers.TEXT, **answers.HTML}),
    406: answers.NOT_ACCEPTABLE,
}
DATA_ANSWERS: answers.Declared = {
    200: answers.answer("What the graph says about the thing", answers.RDF),
    400: answers.FORMAT_REFUSED,
    404: answers.answer("Not in the graph", answers.TEXT),
    406: answers.NOT_ACCEPTABLE,
}
PAGE_ANSWERS: answers.Declared = {
    200: answers.answer("The page", answers.HTML),
    404: answers.answer("Not in the graph (a page with close matches)", answers.HTML),
}


# GET and HEAD are declared one by one, as one route with both would give both the same
# operation id in the OpenAPI document, where each must be unique.
@router.get(
    "/id/{path:path}",
    summary="A thing of the graph: 303 See Other to its HTML page or its RDF, by Accept",
    response_class=Response,
    responses=THING_ANSWERS,
    operation_id="thing_get",
)
@router.head(
    "/id/{path:path}",
    summary="Headers of the redirection from a thing's IRI",
    response_class=Response,
    responses=THING_ANSWERS,
    operation_id="thing_head",
)
def thing(
    request: Request, path: str, store: Annotated[GraphStore, Depends(get_store)]
) -> Response:
    accept = request.headers.get("accept")
    node = thing_node(path)
    if node is None or not exists(store, node):
        return not_found(store, path, node, html=wants_html(accept))
    successor = replacement(store, node)
    if successor is not None and (moved := local_href(successor.value)) is not None:
        # A factor once published under two IRIs: this one keeps resolving, to the one that
        # stays; its own statements (why it was replaced) stay at /data/ and /page/.
        links = ", ".join([_link(moved, "successor-version"), *document_links(path, "describedby")])
        return PlainTextResponse(
            f"301 Moved Permanently: {node.value} is now {successor.value}\n",
            301,
            headers={**VARY, "Location": moved, "Link": links},
        )
    chosen = preferred_media_type(accept, OFFERED)
    headers = {**VARY, "Link": ", ".join(document_links(path, "describedby"))}
    if chosen is None:
        offered = ", ".join([HTML, *(fmt.media_type for fmt in RDF_FORMATS)])
        return PlainTextResponse(
            f"none of the acceptable media types describes {node.value}; available: {offered}\n",
            406,
            headers=headers,
        )
    fmt = _format_for(chosen)
    target = page_url(path) if fmt is None else data_url(path, fmt.extension)
    return PlainTextResponse(
        f"303 See Other: {target}\n", 303, headers={**headers, "Location": target}
    )


# --- /data/: the RDF ---------------------------------------------------------------------------


def split_extension(path: str) -> tuple[str, Format | None]:
    """``tool/mediation.ttl`` -> (``tool/mediation``, Turtle); keys never contain a dot."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and ext in EXTENSIONS:
        return stem, EXTENSIONS[ext]
    return path, None


@router.get(
    "/data/{path:path}",
    summary="The RDF about a thing: what DESCRIBE answers (by extension, Accept or format)",
    response_class=Response,
    responses=DATA_ANSWERS,
    operation_id="data_get",
)
@router.head(
    "/data/{path:path}",
    summary="Headers of the RDF about a thing",
    response_class=Response,
    responses=DATA_ANSWERS,
    operation_id="data_head",
)
async def data(
    request: Request,
    path: str,
    store: Annotated[GraphStore, Depends(get_store)],
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    """``/data/{path}.ttl`` (``.nt``, ``.jsonld``, ``.rdf``) is one format; ``/data/{path}``
    negotiates: Turtle by default, any RDF format by `Accept` or `format`."""
    thing_path, fixed = split_extension(path)
    node = thing_node(thing_path)
    if fixed is not None:
        chosen = fixed
        current = data_url(thing_path, fixed.extension)
        headers = document_headers(thing_path, ID_BASE + thing_path, current)
    else:
        chosen = choose(RDF_FORMATS, request.headers.get("accept"), format_ or ())
        current = data_url(thing_path)
        headers = {
            **VARY,
            **document_headers(thing_path, ID_BASE + thing_path, current),
            "Content-Location": data_url(thing_path, chosen.extension),
        }

    def prepare() -> Plan:
        if node is None or not exists(store, node):
            raise ProtocolError(404, not_found_text(store, thing_path, node), VARY)
        triples = description(store, node)

        def write(output: IO[bytes]) -> None:
            chosen.write_triples(triples, output)

        return Plan(chosen, write, headers)

    return await stream(prepare, head=request.method == "HEAD")


# --- /page/: the HTML --------------------------------------------------------------------------


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
class Row:
    predicate: Term
    values: tuple[Term, ...]


@dataclass(frozen=True)
class Incoming:
    subject: Term
    predicate: Term


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

    @property
    def not_current(self) -> bool:
        return bool(self.former_releases)


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


def _preferred(
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
            self._known[iri] = _preferred(found, iri, LABELS)

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


def _first_literal(
    store: GraphStore, node: ox.NamedNode, predicates: Iterable[ox.NamedNode]
) -> str:
    chosen = list(predicates)
    return _preferred(literals_of(store, [node], chosen), node.value, chosen) or ""


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
    text = _first_literal(store, node, DESCRIPTIONS)
    if text:
        described["description"] = text
    issued = _first_literal(store, node, [ISSUED])
    if issued and schema_type in ("ScholarlyArticle", "Dataset"):
        described["datePublished"] = issued
    if schema_type == "ScholarlyArticle":
        doi = _first_literal(store, node, [DOI])
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
        version = _first_literal(store, node, [RELEASE_CODE])
        if version:
            described["version"] = version
    return described


def doi_url(doi: str) -> str:
    return str(iris.doi(doi))


def resource(store: GraphStore, node: ox.NamedNode, path: str, base_url: str) -> Resource:
    labels = Labels(store)
    quads = list(store.quads_for_pattern(node, None, None, None))
    pointing: set[tuple[str, str]] = set()
    for quad in store.quads_for_pattern(None, None, node, None):
        if isinstance(quad.subject, ox.NamedNode):
            pointing.add((quad.predicate.value, quad.subject.value))
    shown_pointing = sorted(pointing, key=lambda pair: (compact(pair[0]), pair[1]))[:INCOMING_CAP]
    labels.prefetch([quad.object for quad in quads] + [s for _, s in shown_pointing])
    grouped: dict[str, dict[str, Term]] = {}
    predicates: dict[str, ox.NamedNode] = {}
    graph_names: set[str] = set()
    type_iris: dict[str, ox.NamedNode] = {}
    for quad in quads:
        if isinstance(quad.graph_name, ox.NamedNode):
            graph_names.add(quad.graph_name.value)
        if quad.predicate == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            type_iris[quad.object.value] = quad.object
            continue
        predicates[quad.predicate.value] = quad.predicate
        shown = labels.term(quad.object)
        if quad.predicate == DOI and isinstance(quad.object, ox.Literal):
            shown = Term(quad.object.value, doi_url(quad.object.value), note="DOI")
        grouped.setdefault(quad.predicate.value, {})[str(quad.object)] = shown

    rows = [
        Row(
            Term(compact(iri), local_href(iri), iri),
            tuple(grouped[iri][key] for key in sorted(grouped[iri])),
        )
        for iri in sorted(grouped, key=compact)
    ]
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

    title = labels(node) or node.value
    page = base_url.rstrip("/") + page_url(path)
    successor = replacement(store, node)
    return Resource(
        iri=node.value,
        path=path,
        title=title,
        types=types,
        rows=rows,
        incoming=incoming,
        incoming_count=len(pointing),
        graphs=graphs,
        latest=latest,
        former_releases=former,
        formats=[
            (fmt.label, data_url(path, ext), fmt.media_type) for ext, fmt in EXTENSIONS.items()
        ],
        schema=schema_org(store, node, title, type_iris, page),
        section=section(store, node, type_iris, known),
        replaced_by=None if successor is None else labels.term(successor),
    )


# --- sections for people: what a tool, factor, study, strategy or release page adds ------------

RESEARCH = str(iris.concept("evidence basis", "research"))
LEVEL_RANK = {
    key: rank
    for rank, key in enumerate(
        ("relatively-strong", "moderate", "relatively-weak", "none-available")
    )
}

PUBLICATION_NAME = ox.NamedNode("http://prismstandard.org/namespaces/basic/2.0/publicationName")
CITATION = ox.NamedNode(DCT + "bibliographicCitation")
INDEX_NUMBER = ox.NamedNode(str(NS.indexNumber))
IN_RELEASE = ox.NamedNode(str(NS.inRelease))
PUBLICATION_TYPE = ox.NamedNode(str(NS.publicationType))
EMPIRICAL_BASIS = ox.NamedNode(str(NS.empiricalBasis))
USES_METHOD = ox.NamedNode(str(NS.usesMethod))
OPPOSITE = ox.NamedNode(str(NS.oppositeFactor))
FAMILY = ox.NamedNode(str(NS.factorFamily))
SECTION_TYPES = {
    str(NS.PreventionTool): "tool",
    str(NS.SuccessFactor): "factor",
    str(NS.ContextualFactor): "factor",
    str(NS.DesignFactor): "factor",
    str(NS.Study): "study",
    str(NS.Strategy): "strategy",
    str(NS.Release): "release",
}


def select(store: GraphStore, name: str, **bound: ox.NamedNode) -> list[dict[str, Any]]:
    """The rows of the page query ``sparql/{name}.rq`` with ``bound`` values."""
    return sparql.select(store, sparql.load(name), bound)


def _value(term: Any) -> str:
    return str(term.value) if term is not None else ""


@dataclass(frozen=True)
class Mechanism:
    mechanism: Term
    description: str
    strategy: Term


@dataclass(frozen=True)
class EvidenceCell:
    """One recomputed rating: level, number of findings and score, and the factor as coded."""

    level: str
    level_key: str
    findings: int
    score: str
    coded: str
    assessment: str

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


@dataclass(frozen=True)
class EvidenceRow:
    """A factor (tool page) or a tool (factor page), with its rating in each release."""

    subject: Term
    cells: tuple[EvidenceCell | None, ...]


@dataclass(frozen=True)
class StudyLine:
    study: Term
    year: str
    releases: tuple[str, ...]
    tools: tuple[Term, ...] = ()


@dataclass(frozen=True)
class FindingLine:
    finding: Term
    release: str
    tool: Term
    factor: Term | None
    outcome: str
    direction: str


@dataclass(frozen=True)
class Support:
    """Why a tool supports a strategy: its mechanisms, and the releases stating it."""

    tool: Term
    justification: Term
    mechanisms: tuple[Term, ...]
    stated_in: tuple[str, ...]


@dataclass(frozen=True)
class ToolCount:
    tool: Term
    studies: int
    findings: int


@dataclass
class Section:
    """The kind-specific part of a page; which fields are filled depends on ``kind``."""

    kind: str
    codes: tuple[str, ...] = ()
    description: str = ""
    mechanisms: list[Mechanism] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    gap_maps: list[pages.GapMap] = field(default_factory=list)
    studies: list[StudyLine] = field(default_factory=list)
    opposite: Term | None = None
    family: Term | None = None
    record: list[tuple[str, list[Term]]] = field(default_factory=list)
    findings: list[FindingLine] = field(default_factory=list)
    supports: list[Support] = field(default_factory=list)
    counts: list[tuple[str, str, int]] = field(default_factory=list)
    tool_counts: list[ToolCount] = field(default_factory=list)


def section_kind(types: Iterable[str]) -> str | None:
    for type_iri in types:
        if type_iri in SECTION_TYPES:
            return SECTION_TYPES[type_iri]
    return None


def _codes(known: list[Release]) -> dict[str, str]:
    return {release.iri: release.code for release in known}


def _evidence_rows(
    store: GraphStore, labels: Labels, known: list[Release], subject: str, **bound: ox.NamedNode
) -> list[EvidenceRow]:
    """Rows keyed by ``subject`` (``shown`` or ``tool``), one column per release oldest first,
    strongest first in the latest release."""
    order = [release.iri for release in reversed(known)]
    cells: dict[str, dict[str, EvidenceCell]] = {}
    scores: dict[tuple[str, str], float] = {}
    for row in select(store, "page-evidence", research=ox.NamedNode(RESEARCH), **bound):
        key, release, level = row[subject], row["release"], row["level"]
        if key is None or release is None or level is None or row["coded"] is None:
            continue
        cells.setdefault(key.value, {})[release.value] = EvidenceCell(
            labels(level) or compact(level.value),
            level.value.rsplit("/", 1)[-1],
            int(_value(row["findings"]) or 0),
            _value(row["vote"]),
            row["coded"].value,
            _value(row["assessment"]),
        )
        scores[(key.value, release.value)] = abs(float(_value(row["vote"]) or 0))
    latest = order[-1] if order else ""

    def strength(key: str) -> tuple[int, int, float, int, str]:
        cell = cells[key].get(latest)
        if cell is None:
            return (1, 9, 0.0, 0, (labels(ox.NamedNode(key)) or key).lower())
        return (
            0,
            LEVEL_RANK.get(cell.level_key, 9),
            -scores[(key, latest)],
            -cell.findings,
            (labels(ox.NamedNode(key)) or key).lower(),
        )

    labels.prefetch(cells)
    return [
        EvidenceRow(
            labels.term(ox.NamedNode(key)), tuple(cells[key].get(release) for release in order)
        )
        for key in sorted(cells, key=strength)
    ]


def _study_lines(
    store: GraphStore, labels: Labels, rows: list[dict[str, Any]], codes: dict[str, str]
) -> list[StudyLine]:
    releases: dict[str, set[str]] = {}
    tools: dict[str, set[str]] = {}
    for row in rows:
        study, release = row["study"], row["release"]
        if study is None or release is None:
            continue
        releases.setdefault(study.value, set()).add(codes.get(release.value, release.value))
        tool = row.get("tool")
        tools.setdefault(study.value, set())
        if tool is not None:
            tools[study.value].add(tool.value)
    labels.prefetch([*releases, *(tool for found in tools.values() for tool in found)])
    issued = literals_of(store, (ox.NamedNode(study) for study in releases), [ISSUED])
    lines = []
    for study, found in releases.items():
        node = ox.NamedNode(study)
        lines.append(
            StudyLine(
                labels.term(node),
                _preferred(issued, study, [ISSUED]) or "",
                tuple(sorted(found)),
                tuple(
                    labels.term(ox.NamedNode(t))
                    for t in sorted(tools[study], key=lambda t: labels(ox.NamedNode(t)) or t)
                ),
            )
        )
    return sorted(lines, key=lambda line: (line.year, line.study.text.lower()), reverse=True)


def tool_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    mechanisms = []
    for row in select(store, "page-mechanisms", thing=node):
        mechanism, strategy = row["mechanism"], row["strategy"]
        if isinstance(mechanism, ox.NamedNode) and isinstance(strategy, ox.NamedNode):
            mechanisms.append(
                Mechanism(
                    labels.term(mechanism),
                    _first_literal(store, mechanism, DESCRIPTIONS),
                    labels.term(strategy),
                )
            )
    mechanisms.sort(key=lambda m: (m.strategy.text, m.mechanism.text))
    evidence = _evidence_rows(store, labels, known, "shown", tool=node)
    studies = _study_lines(store, labels, select(store, "page-tool-studies", thing=node), codes)
    return Section(
        "tool",
        codes=tuple(release.code for release in reversed(known)),
        description=_first_literal(store, node, DESCRIPTIONS),
        mechanisms=mechanisms,
        evidence=evidence,
        gap_maps=tool_gap_maps(store, node, known, evidence, labels),
        studies=studies,
    )


def tool_gap_maps(
    store: GraphStore,
    node: ox.NamedNode,
    known: list[Release],
    evidence: list[EvidenceRow],
    labels: Labels,
) -> list[pages.GapMap]:
    """The tool's row of the home page's map, then its factors shown in the latest release x
    outcomes (each map with its own scale: the tool's totals would shrink every factor's circle
    to a dot). A factor shown as its opposite counts lesser-effectiveness findings in favour."""
    if not known:
        return []
    latest = known[0]
    findings = [
        f for f in pages.gap_findings(store, ox.NamedNode(latest.iri)) if f.tool == node.value
    ]
    name = labels(node) or node.value
    overall = pages.GapMap(
        "tool-row-gap-map",
        f"All findings on {name} per outcome, release {latest.code}",
        latest.code,
        "Tool",
        [pages.GapRow(name, None, node.value)],
    )
    rows = []
    chosen = []
    for row in evidence:
        cell = row.cells[-1]
        if cell is None or row.subject.iri is None:
            continue
        rows.append(
            pages.GapRow(
                row.subject.text,
                row.subject.href,
                row.subject.iri,
                inverted=cell.coded != row.subject.iri,
            )
        )
        chosen.append([f for f in findings if f.factor == cell.coded])
    factors = pages.GapMap(
        "tool-gap-map",
        f"Factor findings per success factor and outcome, release {latest.code}",
        latest.code,
        "Factor",
        rows,
    )
    return [pages.fill_map(overall, [findings]), pages.fill_map(factors, chosen)]


def factor_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    opposite = next(iter(store.quads_for_pattern(node, OPPOSITE, None, None)), None)
    family = next(iter(store.quads_for_pattern(node, FAMILY, None, None)), None)
    rows = select(store, "page-factor-studies", thing=node)
    return Section(
        "factor",
        codes=tuple(release.code for release in reversed(known)),
        description=_first_literal(store, node, DESCRIPTIONS),
        evidence=_evidence_rows(store, labels, known, "tool", shown=node),
        studies=_study_lines(store, labels, rows, _codes(known)),
        opposite=labels.term(opposite.object) if opposite is not None else None,
        family=labels.term(family.object) if family is not None else None,
    )


def _literals(store: GraphStore, node: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
    values = {
        quad.object.value
        for quad in store.quads_for_pattern(node, predicate, None, None)
        if isinstance(quad.object, ox.Literal)
    }
    return [Term(value) for value in sorted(values)]


def _linked(
    store: GraphStore, labels: Labels, node: ox.NamedNode, predicate: ox.NamedNode
) -> list[Term]:
    values = {
        quad.object.value: quad.object
        for quad in store.quads_for_pattern(node, predicate, None, None)
        if isinstance(quad.object, ox.NamedNode)
    }
    return sorted((labels.term(value) for value in values.values()), key=lambda t: t.text)


def _citations(
    store: GraphStore, node: ox.NamedNode, venue: list[Term], title: list[Term]
) -> list[Term]:
    """The study's citations (plain text in the graph), each cut where the page emphasises its
    venue, or the title of a book or report, as the review's own citations do."""
    return [
        Term(
            citation.text,
            pieces=emphasis_pieces(
                citation.text,
                venue[0].text if venue else None,
                title[0].text if title else None,
            ),
        )
        for citation in _literals(store, node, CITATION)
    ]


def study_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    dois = _literals(store, node, DOI)
    title = _literals(store, node, ox.NamedNode(DCT + "title"))
    venue = _literals(store, node, PUBLICATION_NAME)
    record = [
        ("Title", title),
        ("Authors", _literals(store, node, CREATOR)),
        ("Editors", _literals(store, node, EDITOR)),
        ("Year", _literals(store, node, ISSUED)),
        ("Published in", venue),
        ("Publication type", _linked(store, labels, node, PUBLICATION_TYPE)),
        ("Empirical basis", _linked(store, labels, node, EMPIRICAL_BASIS)),
        ("Methods", _linked(store, labels, node, USES_METHOD)),
        ("DOI", [Term(d.text, doi_url(d.text), note="DOI") for d in dois]),
        ("Citation", _citations(store, node, venue, title)),
        ("Review index number", _literals(store, node, INDEX_NUMBER)),
        ("In releases", _linked(store, labels, node, IN_RELEASE)),
    ]
    findings = []
    rows = select(store, "page-study-findings", thing=node)
    labels.prefetch(term for row in rows for term in row.values())
    for row in rows:
        finding, release, tool = row["finding"], row["release"], row["tool"]
        outcome, direction, factor = row["outcome"], row["direction"], row["factor"]
        if None in (finding, release, tool, outcome, direction):
            continue
        findings.append(
            FindingLine(
                Term("finding", local_href(finding.value), finding.value),
                codes.get(release.value, release.value),
                labels.term(tool),
                labels.term(factor) if isinstance(factor, ox.NamedNode) else None,
                labels(outcome) or compact(outcome.value),
                labels(direction) or compact(direction.value),
            )
        )
    findings.sort(
        key=lambda f: (
            f.release,
            f.tool.text,
            f.factor.text if f.factor else "",
            f.outcome,
            f.direction,
        )
    )
    return Section(
        "study", record=[(name, terms) for name, terms in record if terms], findings=findings
    )


def strategy_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    grouped: dict[str, tuple[str, set[str], set[str]]] = {}
    for row in select(store, "page-justifications", thing=node):
        justification, tool = row["justification"], row["tool"]
        if not isinstance(justification, ox.NamedNode) or not isinstance(tool, ox.NamedNode):
            continue
        entry = grouped.setdefault(tool.value, (justification.value, set(), set()))
        if isinstance(row["mechanism"], ox.NamedNode):
            entry[1].add(row["mechanism"].value)
        if isinstance(row["stating"], ox.NamedNode):
            entry[2].add(codes.get(row["stating"].value, row["stating"].value))
    labels.prefetch(
        [*grouped, *(mechanism for entry in grouped.values() for mechanism in entry[1])]
    )
    supports = [
        Support(
            labels.term(ox.NamedNode(tool)),
            Term("justification", local_href(justification), justification),
            tuple(sorted((labels.term(ox.NamedNode(m)) for m in mechanisms), key=lambda t: t.text)),
            tuple(sorted(stating)),
        )
        for tool, (justification, mechanisms, stating) in grouped.items()
    ]
    supports.sort(key=lambda s: s.tool.text.lower())
    return Section(
        "strategy", description=_first_literal(store, node, DESCRIPTIONS), supports=supports
    )


def release_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    findings = select(store, "page-release-findings", thing=node)
    overall = str(NS.OverallEffectFinding)
    by_tool: dict[str, tuple[set[str], set[str]]] = {}
    for row in findings:
        tool = row["tool"]
        if tool is None or row["study"] is None or row["finding"] is None:
            continue
        studies, found = by_tool.setdefault(tool.value, (set(), set()))
        studies.add(row["study"].value)
        found.add(row["finding"].value)
    assessments = select(
        store, "page-release-assessments", thing=node, research=ox.NamedNode(RESEARCH)
    )
    published = {
        _value(r["assessment"])
        for r in assessments
        if _value(r["kind"]) == str(NS.ResearchAssessment)
    }
    recomputed = [r for r in assessments if _value(r["kind"]) == str(NS.RecomputedAssessment)]
    counts = [
        ("studies", "Studies", len({_value(r["study"]) for r in findings})),
        ("findings", "Findings", len({_value(r["finding"]) for r in findings})),
        (
            "overall-findings",
            "Overall-effect findings",
            len({_value(r["finding"]) for r in findings if _value(r["kind"]) == overall}),
        ),
        (
            "factor-findings",
            "Factor findings",
            len({_value(r["finding"]) for r in findings if _value(r["kind"]) != overall}),
        ),
        ("tools", "Tools with findings", len(by_tool)),
        (
            "factors",
            "Factors in findings",
            len({_value(r["factor"]) for r in findings if r["factor"] is not None}),
        ),
        ("published", "Research ratings published", len(published)),
        (
            "recomputed",
            "Research ratings recomputed",
            len({_value(r["assessment"]) for r in recomputed}),
        ),
        (
            "matching",
            "Recomputed ratings matching the published one",
            len({_value(r["assessment"]) for r in recomputed if _value(r["matches"]) == "true"}),
        ),
    ]
    labels.prefetch(by_tool)
    tool_counts = sorted(
        (
            ToolCount(labels.term(ox.NamedNode(tool)), len(studies), len(found))
            for tool, (studies, found) in by_tool.items()
        ),
        key=lambda line: line.tool.text.lower(),
    )
    return Section(
        "release",
        description=_first_literal(store, node, DESCRIPTIONS),
        counts=counts,
        tool_counts=tool_counts,
    )


SECTIONS = {
    "tool": tool_section,
    "factor": factor_section,
    "study": study_section,
    "strategy": strategy_section,
    "release": release_section,
}


def section(
    store: GraphStore, node: ox.NamedNode, types: Iterable[str], known: list[Release]
) -> Section | None:
    """The kind-specific section of a page, from SPARQL on the store, or None for other kinds."""
    kind = section_kind(types)
    return SECTIONS[kind](store, node, known) if kind is not None else None


def render_resource(item: Resource) -> str:
    return rendering.render(
        "resource.html", item=item, json_ld=item.schema, incoming_cap=INCOMING_CAP
    )


@router.get(
    "/page/{path:path}",
    summary="The HTML page about a thing",
    response_class=HTMLResponse,
    responses=PAGE_ANSWERS,
    operation_id="page_get",
)
@router.head(
    "/page/{path:path}",
    summary="Headers of the HTML page about a thing",
    response_class=HTMLResponse,
    responses=PAGE_ANSWERS,
    operation_id="page_head",
)
def page(request: Request, path: str, store: Annotated[GraphStore, Depends(get_store)]) -> Response:
    node = thing_node(path)
    if node is None or not exists(store, node):
        return not_found(store, path, node, html=True)
    item = resource(store, node, path, str(request.base_url))
    return HTMLResponse(
        render_resource(item),
        headers=document_headers(path, node.value, page_url(path)),
    )


# --- unknown IRIs ------------------------------------------------------------------------------


def close_matches(store: GraphStore, path: str) -> list[str]:
    """Things of the same kind whose key starts with the same letters (or any of the kind)."""
    kind, slash, rest = path.partition("/")
    if not slash or not kind:
        return []
    for prefix in (f"{kind}/{rest[:3]}", f"{kind}/"):
        try:
            bound = ox.Literal(ID_BASE + prefix)
        except ValueError:
            return []
        answer = store.query(
            CLOSE_QUERY,
            use_default_graph_as_union=True,
            substitutions={ox.Variable("prefix"): bound},
        )
        assert isinstance(answer, ox.QuerySolutions)
        found = [s["thing"].value for s in answer if s["thing"] is not None]
        if found:
            return found
    return []


def pointed_at(store: GraphStore, node: ox.NamedNode | None) -> bool:
    """Does some statement have it as its value (an IRI used but not described)?"""
    if node is None:
        return False
    return next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None


def not_found_text(store: GraphStore, path: str, node: ox.NamedNode | None) -> str:
    iri = ID_BASE + path
    lines = [
        f"not found: {iri} is not in the graph (no statement has it as its subject).",
        "Browse the query catalogue at /queries, or ask the SPARQL endpoint at /sparql.",
    ]
    if pointed_at(store, node):
        lines.append("Some statements name it as a value, but none describes it.")
    matches = close_matches(store, path)
    if matches:
        lines.append("Close matches:")
        lines.extend(f"  {match}" for match in matches)
    return "\n".join(lines)


def not_found(store: GraphStore, path: str, node: ox.NamedNode | None, *, html: bool) -> Response:
    if not html:
        return PlainTextResponse(not_found_text(store, path, node) + "\n", 404, headers=VARY)
    matches = [Term(m[len(ID_BASE) :], local_href(m), m) for m in close_matches(store, path)]
    return rendering.page(
        "resource.html",
        404,
        VARY,
        item=None,
        missing=ID_BASE + path,
        referenced=pointed_at(store, node),
        matches=matches,
        json_ld=None,
        incoming_cap=INCOMING_CAP,
    )
