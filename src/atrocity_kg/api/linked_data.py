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
from jinja2 import Environment, PackageLoader, StrictUndefined

from atrocity_kg import iris
from atrocity_kg.api.pages import CONTENT_SECURITY_POLICY, STATIC_URL
from atrocity_kg.api.protocol import (
    VARY,
    PlainErrorRoute,
    Plan,
    ProtocolError,
    get_store,
    stream,
)
from atrocity_kg.api.sparql import choose, format_parameter
from atrocity_kg.namespaces import BASE, PREFIXES
from atrocity_kg.negotiation import (
    JSON_LD,
    N_TRIPLES,
    RDF_FORMATS,
    RDF_XML,
    TURTLE,
    Format,
    preferred_media_type,
)

router = APIRouter(tags=["linked data"], route_class=PlainErrorRoute)

ID_BASE = BASE + "id/"
HTML = "text/html"
XHTML = "application/xhtml+xml"
# One URL per format: the extension names the format.
EXTENSIONS: dict[str, Format] = {"ttl": TURTLE, "nt": N_TRIPLES, "jsonld": JSON_LD, "rdf": RDF_XML}
EXTENSION_OF = {fmt.name: ext for ext, fmt in EXTENSIONS.items()}
FORMAT_LABELS = {"ttl": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD", "rdf": "RDF/XML"}
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
RELEASE_CODE = ox.NamedNode(AKG + "releaseCode")
RELEASE_CLASS = ox.NamedNode(AKG + "Release")
CURATED_GRAPH = ox.NamedNode(str(iris.graph("curated")))
# Our class -> the schema.org type of the page's embedded JSON-LD.
SCHEMA_TYPES = {
    AKG + "Study": "ScholarlyArticle",
    AKG + "Release": "Dataset",
    SKOS + "Concept": "DefinedTerm",
}

_TEMPLATES = Environment(
    loader=PackageLoader("atrocity_kg.api", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The releases (sorted newest first in Python, by dct:issued); no user input here.
RELEASES_QUERY = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?release ?code ?issued WHERE {
  ?release a akg:Release ; akg:releaseCode ?code .
  OPTIONAL { ?release dct:issued ?issued }
}"""

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


def exists(store: ox.Store, node: ox.NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None


def description(store: ox.Store, node: ox.NamedNode) -> list[ox.Triple]:
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


@router.api_route(
    "/id/{path:path}",
    methods=["GET", "HEAD"],
    summary="A thing of the graph: 303 See Other to its HTML page or its RDF, by Accept",
    response_class=Response,
)
def thing(request: Request, path: str, store: Annotated[ox.Store, Depends(get_store)]) -> Response:
    accept = request.headers.get("accept")
    node = thing_node(path)
    if node is None or not exists(store, node):
        return not_found(store, path, node, html=wants_html(accept))
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
    target = page_url(path) if fmt is None else data_url(path, EXTENSION_OF[fmt.name])
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


@router.api_route(
    "/data/{path:path}",
    methods=["GET", "HEAD"],
    summary="The RDF about a thing: what DESCRIBE answers (by extension, Accept or format)",
    response_class=Response,
)
async def data(
    request: Request,
    path: str,
    store: Annotated[ox.Store, Depends(get_store)],
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    """``/data/{path}.ttl`` (``.nt``, ``.jsonld``, ``.rdf``) is one format; ``/data/{path}``
    negotiates: Turtle by default, any RDF format by `Accept` or `format`."""
    thing_path, fixed = split_extension(path)
    node = thing_node(thing_path)
    if fixed is not None:
        chosen = fixed
        current = data_url(thing_path, EXTENSION_OF[fixed.name])
        headers = document_headers(thing_path, ID_BASE + thing_path, current)
    else:
        chosen = choose(RDF_FORMATS, request.headers.get("accept"), format_ or ())
        current = data_url(thing_path)
        headers = {
            **VARY,
            **document_headers(thing_path, ID_BASE + thing_path, current),
            "Content-Location": data_url(thing_path, EXTENSION_OF[chosen.name]),
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
    """A value as the page shows it: its text, a link if it has one, the IRI it stands for."""

    text: str
    href: str | None = None
    iri: str | None = None
    note: str = ""


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

    @property
    def graphs(self) -> frozenset[str]:
        return frozenset(str(iris.graph(f"{kind}-{self.code}")) for kind in ("ushmm", "evidence"))


@dataclass(frozen=True)
class GraphLine:
    iri: str
    release: Release | None
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


class Labels:
    """Labels of IRIs (skos:prefLabel, then rdfs:label, then dct:title), looked up once each."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self._known: dict[str, str | None] = {}

    def __call__(self, node: ox.NamedNode) -> str | None:
        if node.value not in self._known:
            self._known[node.value] = self._find(node)
        return self._known[node.value]

    def _find(self, node: ox.NamedNode) -> str | None:
        for predicate in LABELS:
            literals = [
                quad.object
                for quad in self._store.quads_for_pattern(node, predicate, None, None)
                if isinstance(quad.object, ox.Literal)
            ]
            if literals:
                return min(literals, key=_literal_rank).value
        return None

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


def releases(store: ox.Store) -> list[Release]:
    """The releases in the store, newest (greatest dct:issued) first."""
    answer = store.query(RELEASES_QUERY, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)
    found = {}
    for solution in answer:
        release, code, issued = solution["release"], solution["code"], solution["issued"]
        if isinstance(release, ox.NamedNode) and code is not None:
            found[release.value] = Release(
                release.value, code.value, issued.value if issued is not None else ""
            )
    return sorted(found.values(), key=lambda r: (r.issued, r.code), reverse=True)


def _first_literal(store: ox.Store, node: ox.NamedNode, predicates: Iterable[ox.NamedNode]) -> str:
    for predicate in predicates:
        literals = [
            quad.object
            for quad in store.quads_for_pattern(node, predicate, None, None)
            if isinstance(quad.object, ox.Literal)
        ]
        if literals:
            return min(literals, key=_literal_rank).value
    return ""


def schema_org(
    store: ox.Store, node: ox.NamedNode, title: str, types: Iterable[str], page: str
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
        authors = sorted(
            {
                q.object.value
                for q in store.quads_for_pattern(node, CREATOR, None, None)
                if isinstance(q.object, ox.Literal)
            }
        )
        if authors:
            described["author"] = [{"@type": "Person", "name": name} for name in authors]
    if schema_type == "Dataset":
        version = _first_literal(store, node, [RELEASE_CODE])
        if version:
            described["version"] = version
    return described


def doi_url(doi: str) -> str:
    return "https://doi.org/" + quote(doi, safe="/:;()._-")


def resource(store: ox.Store, node: ox.NamedNode, path: str, base_url: str) -> Resource:
    labels = Labels(store)
    quads = list(store.quads_for_pattern(node, None, None, None))
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

    pointing: set[tuple[str, str]] = set()
    for quad in store.quads_for_pattern(None, None, node, None):
        if isinstance(quad.subject, ox.NamedNode):
            pointing.add((quad.predicate.value, quad.subject.value))
    incoming = [
        Incoming(labels.term(ox.NamedNode(s)), Term(compact(p), local_href(p), p))
        for p, s in sorted(pointing, key=lambda pair: (compact(pair[0]), pair[1]))[:INCOMING_CAP]
    ]

    known = releases(store)
    latest = known[0] if known else None
    by_graph = {graph: release for release in known for graph in release.graphs}
    graphs = [
        GraphLine(
            name,
            by_graph.get(name),
            latest is not None and by_graph.get(name) == latest,
        )
        for name in sorted(graph_names)
    ]
    in_releases = [r for r in known if r.graphs & graph_names]
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
            (FORMAT_LABELS[ext], data_url(path, ext), fmt.media_type)
            for ext, fmt in EXTENSIONS.items()
        ],
        schema=schema_org(store, node, title, type_iris, page),
    )


def render_resource(item: Resource) -> str:
    return _TEMPLATES.get_template("resource.html").render(
        item=item,
        json_ld=item.schema,
        static_url=STATIC_URL,
        incoming_cap=INCOMING_CAP,
    )


def _html_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **(extra or {})}


@router.api_route(
    "/page/{path:path}",
    methods=["GET", "HEAD"],
    summary="The HTML page about a thing",
    response_class=HTMLResponse,
)
def page(request: Request, path: str, store: Annotated[ox.Store, Depends(get_store)]) -> Response:
    node = thing_node(path)
    if node is None or not exists(store, node):
        return not_found(store, path, node, html=True)
    item = resource(store, node, path, str(request.base_url))
    return HTMLResponse(
        render_resource(item),
        headers=_html_headers(document_headers(path, node.value, page_url(path))),
    )


# --- unknown IRIs ------------------------------------------------------------------------------


def close_matches(store: ox.Store, path: str) -> list[str]:
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


def pointed_at(store: ox.Store, node: ox.NamedNode | None) -> bool:
    """Does some statement have it as its value (an IRI used but not described)?"""
    if node is None:
        return False
    return next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None


def not_found_text(store: ox.Store, path: str, node: ox.NamedNode | None) -> str:
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


def not_found(store: ox.Store, path: str, node: ox.NamedNode | None, *, html: bool) -> Response:
    if not html:
        return PlainTextResponse(not_found_text(store, path, node) + "\n", 404, headers=VARY)
    matches = [Term(m[len(ID_BASE) :], local_href(m), m) for m in close_matches(store, path)]
    page_html = _TEMPLATES.get_template("resource.html").render(
        item=None,
        missing=ID_BASE + path,
        referenced=pointed_at(store, node),
        matches=matches,
        json_ld=None,
        static_url=STATIC_URL,
        incoming_cap=INCOMING_CAP,
    )
    return HTMLResponse(page_html, 404, headers=_html_headers(dict(VARY)))
