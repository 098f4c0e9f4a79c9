"""/ontology, /dumps/ and /dataset: the ontology, the dump files and the dataset's description.

All read the open store or the dumps written beside it by the build, so what they offer is what
/sparql answers from. The ontology is streamed like any graph of the graph store; a browser gets
its documentation page instead (ontology.html). /dumps/ lists the dump files (each release and
the whole graph, gzip, four RDF formats; see export.py) with their size and SHA-256, and each
named graph with a link per RDF format; /dumps/{name} serves a file named in the manifest, and no
other. /dataset (also /.well-known/void, RFC 8615 and the VoID note, section 7) describes the
whole in DCAT 3 and VoID: licence, publisher, sources, the releases as versions, the SPARQL
endpoint, every dump with its size and checksum, triples per named graph and the outgoing link
sets; a browser gets the same description as a page (dataset_page.py). Every page is rendered
by the site's templates (rendering.py).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from rdflib import Graph

from atrocity_kg.errors import StoreError
from atrocity_kg.graph.build import PUBLISHER, UPSTREAM, USHMM
from atrocity_kg.graph.graphs import (
    CURATED_GRAPH,
    ONTOLOGY_GRAPH,
    SHAPES_GRAPH,
    from_ox,
    release_graph_name,
)
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import BASE
from atrocity_kg.model.negotiation import RDF_FORMATS
from atrocity_kg.publish import export
from atrocity_kg.publish.ontology_docs import build_page
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import answers, error_pages, failures, rendering
from atrocity_kg.web.dependencies import ServingDep
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.protocol import Plan, ProtocolError, get_store, stream
from atrocity_kg.web.routes.dataset_page import (
    DCAT,
    DCT,
    FOAF,
    IANA,
    PROV,
    RDF,
    SPDX,
    VOID,
    XSD,
    dataset_page,
)
from atrocity_kg.web.routes.linked_data import wants_html
from atrocity_kg.web.routes.sparql import choose, format_parameter
from atrocity_kg.web.serving import Serving

router = APIRouter(tags=["downloads"], route_class=error_pages.PageErrorRoute)

HTML_TYPE = "text/html; charset=utf-8"


ONTOLOGY_ANSWERS: answers.Declared = {
    200: answers.answer(
        "The ontology in RDF, or its documentation in HTML", {**answers.RDF, **answers.HTML}
    ),
    400: answers.FORMAT_REFUSED,
    406: answers.NOT_ACCEPTABLE,
}
DESCRIPTION_ANSWERS: answers.Declared = {
    200: answers.answer(
        "The description in RDF, or as a page for browsers", {**answers.RDF, **answers.HTML}
    ),
    400: answers.FORMAT_REFUSED,
    406: answers.NOT_ACCEPTABLE,
}
DUMP_ANSWERS: answers.Declared = {
    200: answers.answer("The gzipped dump file", answers.GZIP),
    404: answers.answer("No dump file of that name", answers.TEXT),
}


@router.get(
    "/ontology",
    summary="The OWL ontology, in any RDF format",
    response_class=Response,
    responses=ONTOLOGY_ANSWERS,
)
@router.head(
    "/ontology",
    summary="Headers of the ontology",
    response_class=Response,
    responses=ONTOLOGY_ANSWERS,
)
async def ontology(
    request: Request,
    store: Annotated[GraphStore, Depends(get_store)],
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    """Turtle by default; HTML documentation for browsers (`Accept: text/html` preferred, or
    `format=html`); N-Triples, JSON-LD or RDF/XML by `Accept` or `format`."""
    accept = request.headers.get("accept")
    requested = tuple(format_ or ())
    name = ox.NamedNode(str(ONTOLOGY_GRAPH))
    if for_people(accept, requested):
        if request.method == "HEAD":
            return Response(media_type=HTML_TYPE, headers=VARY)
        return HTMLResponse(ontology_page(request, store, name), headers=VARY)
    chosen = choose(RDF_FORMATS, accept, requested)

    def write(output: IO[bytes]) -> None:
        triples = (quad.triple for quad in store.quads_for_pattern(None, None, None, name))
        chosen.write_triples(triples, output)

    return await stream(lambda: Plan(chosen, write), head=request.method == "HEAD")


def for_people(accept: str | None, requested: tuple[str, ...]) -> bool:
    """Is the HTML page asked for, rather than RDF: ``format=html``, or (no format named) an
    Accept header that names HTML and prefers it to the RDF formats (a browser's)."""
    if requested:
        return requested == ("html",)
    return accept is not None and "html" in accept.lower() and wants_html(accept)


def render_ontology_html(ontology: Graph, *, base_path: str = "/ontology") -> str:
    """The documentation page of the ontology in ``ontology`` (ontology_docs.build_page, laid
    out by ontology.html); the RDF links point at ``base_path?format=<name>``. Raises
    ValueError if the graph declares no owl:Ontology."""
    return rendering.render("ontology.html", page=build_page(ontology, base_path=base_path))


def ontology_page(request: Request, store: GraphStore, name: ox.NamedNode) -> str:
    """The documentation of the ontology graph being served, rendered once per app (about a
    second) from the store, so it documents what /sparql answers from."""
    page: str | None = getattr(request.app.state, "ontology_html", None)
    if page is None:
        graph = Graph()
        graph.addN(
            (from_ox(q.subject), from_ox(q.predicate), from_ox(q.object), graph)
            for q in store.quads_for_pattern(None, None, None, name)
        )
        page = render_ontology_html(graph)
        request.app.state.ontology_html = page
    return page


def _query(graph: str, format_name: str) -> str:
    return urlencode({"graph": graph, "format": format_name})


def dumps_folder(serving: Serving) -> Path | None:
    """The dumps the build wrote beside the store being served (not a newer build's, which
    this app does not serve until it is restarted); none when the app reads a remote store,
    whose data this server did not build."""
    build = serving.build
    return None if build is None else build / export.DUMPS


def dump_files(serving: Serving) -> list[export.DumpFile]:
    """The manifest of the current store's dumps; empty if the store was built without them,
    or is remote."""
    folder = dumps_folder(serving)
    if folder is None:
        return []
    try:
        return export.read_manifest(folder)
    except StoreError as error:
        reference = failures.report(error, "reading the dumps' manifest")
        raise ProtocolError(500, failures.client_message(reference)) from None


@dataclass(frozen=True)
class DumpGroup:
    """The dump files of one release (or of the whole graph): the same graphs, four formats."""

    release: str | None
    graphs: tuple[str, ...]
    files: tuple[export.DumpFile, ...]


@dataclass(frozen=True)
class GraphDownloads:
    """A named graph of the store, its size, and a /graph-store link per RDF format."""

    iri: str
    triples: int
    links: tuple[tuple[str, str], ...]


def dump_groups(files: Iterable[export.DumpFile]) -> list[DumpGroup]:
    """The files by release, in the manifest's order, the whole graph first."""
    grouped: dict[str | None, list[export.DumpFile]] = {}
    for file in files:
        grouped.setdefault(file.release, []).append(file)
    groups = [DumpGroup(code, chunk[0].graphs, tuple(chunk)) for code, chunk in grouped.items()]
    return sorted(groups, key=lambda group: group.release is not None)


def graph_downloads(store: GraphStore) -> list[GraphDownloads]:
    return [
        GraphDownloads(
            name,
            size,
            tuple((f.label, f"/graph-store?{_query(name, f.name)}") for f in RDF_FORMATS),
        )
        for name, size in sparql.graph_sizes(store).items()
    ]


@router.get("/dumps/", summary="Every dump file and named graph", response_class=HTMLResponse)
def dumps(store: Annotated[GraphStore, Depends(get_store)], serving: ServingDep) -> HTMLResponse:
    """The dump files (name, release, format, graphs, statements, size, SHA-256, link), then one
    row per named graph: its IRI, its number of triples and a link per RDF format."""
    return rendering.page(
        "dumps.html",
        groups=dump_groups(dump_files(serving)),
        graphs=graph_downloads(store),
    )


@router.get(
    "/dumps/{name}",
    summary="One dump file (gzip)",
    response_class=FileResponse,
    responses=DUMP_ANSWERS,
)
@router.head(
    "/dumps/{name}",
    summary="Headers of one dump file",
    response_class=FileResponse,
    responses=DUMP_ANSWERS,
)
def dump_file(name: str, serving: ServingDep) -> FileResponse:
    """A file listed in the dumps' manifest, as `application/gzip`, to save; any other name,
    whatever it holds, is a 404."""
    listed = {file.name: file for file in dump_files(serving)}
    file = listed.get(name)
    folder = dumps_folder(serving)
    path = folder / name if folder is not None else None
    if file is None or path is None or path.parent != folder or not path.is_file():
        raise ProtocolError(404, f"no dump file {name!r}; see /dumps/")
    checksum = base64.b64encode(bytes.fromhex(file.sha256)).decode("ascii")
    return FileResponse(
        path,
        media_type=export.GZIP_MEDIA_TYPE,
        filename=file.name,
        headers={"Repr-Digest": f"sha-256=:{checksum}:"},
    )


# --- the dataset description: DCAT 3 and VoID ---------------------------------------------------

DESCRIPTION_PREFIXES = {
    "rdf": RDF,
    "xsd": XSD,
    "dcat": DCAT,
    "dct": DCT,
    "void": VOID,
    "spdx": SPDX,
    "prov": PROV,
    "foaf": FOAF,
}
# The description's own IRIs: fixed, so that a rebuild names everything the same.
DATASET = str(iris.DATASET)
PROJECT = str(iris.PROJECT)
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
LINK_TARGETS = (
    ("doi", iris.DOI_RESOLVER, iris.DOI_RESOLVER),
    ("wikidata", iris.WIKIDATA_ENTITY, "https://www.wikidata.org/"),
)
"""Outgoing link sets: (key, object IRI prefix, the target dataset)."""
RIGHTS = (
    "Ontology, shapes and curated data: CC BY 4.0. The USHMM data are the museum's (United States "
    "Holocaust Memorial Museum, Tools for Atrocity Prevention); this graph republishes facts "
    "derived from them, with their source. The code that builds the graph is Apache-2.0."
)
RELEASE_RIGHTS = (
    "The USHMM data are the museum's; this graph republishes facts derived from them, with "
    "their source (file and row)."
)
TOTAL = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
LINKS = (
    "SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
    'FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{prefix}") '
    "&& ?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#object>) }} }}"
)


def release_dataset(code: str) -> str:
    return str(iris.dataset_version(code))


def distribution(name: str) -> str:
    return str(iris.distribution(name))


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _literal(value: object, datatype: str | None = None, language: str | None = None) -> ox.Literal:
    if language is not None:
        return ox.Literal(str(value), language=language)
    if datatype is not None:
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype))
    return ox.Literal(str(value))


def _count(store: GraphStore, text: str) -> int:
    # With the union asked for, a remote store's GRAPH ?g sees the project's graphs only (not
    # Virtuoso's own); the embedded store's named graphs are the same either way.
    solutions = store.query(text, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    for solution in solutions:
        value = solution["n"]
        return int(value.value) if value is not None else 0
    return 0


def _release_facts(store: GraphStore, code: str) -> dict[str, list[ox.NamedNode | ox.Literal]]:
    """What the release's graph says of the release node: title, issued, version."""
    node = ox.NamedNode(str(iris.release(code)))
    graph = ox.NamedNode(str(release_graph_name(code)))
    facts: dict[str, list[ox.NamedNode | ox.Literal]] = {}
    for quad in store.quads_for_pattern(node, None, None, graph):
        if isinstance(quad.object, ox.NamedNode | ox.Literal):
            facts.setdefault(quad.predicate.value, []).append(quad.object)
    return facts


def dataset_description(
    store: GraphStore, files: list[export.DumpFile], base: str
) -> list[ox.Triple]:
    """The DCAT 3 and VoID description of the whole graph, its releases and its dumps.

    ``base`` is the server's root URL (``http://host:port/``): the SPARQL endpoint and the
    download URLs are absolute. Triple counts are distinct triples (the union is a set).
    """
    out: list[ox.Triple] = []

    def add(subject: str | ox.BlankNode, predicate: str, obj: object) -> None:
        node = _iri(subject) if isinstance(subject, str) else subject
        value = obj if isinstance(obj, ox.NamedNode | ox.Literal | ox.BlankNode) else _literal(obj)
        out.append(ox.Triple(node, _iri(predicate), value))

    def a(subject: str, *classes: str) -> None:
        for cls in classes:
            add(subject, RDF + "type", _iri(cls))

    def integer(value: int) -> ox.Literal:
        return _literal(value, XSD + "nonNegativeInteger")

    endpoint = base + "sparql"
    sizes = sparql.graph_sizes(store)
    releases = [s for s in export.selections(sizes) if s.release is not None]

    # the whole graph
    a(DATASET, DCAT + "Catalog", DCAT + "Dataset", VOID + "Dataset")
    add(DATASET, DCT + "title", _literal("atrocity-kg", language="en"))
    add(
        DATASET,
        DCT + "description",
        _literal(
            "The open knowledge graph of atrocity-prevention evidence: the USHMM Tools for "
            "Atrocity Prevention review (studies, findings, success factors, published evidence "
            "ratings) in RDF, with an OWL ontology, curated vocabularies and tools, ratings "
            "recomputed from the findings, and what a reasoner derives.",
            language="en",
        ),
    )
    # No one licence covers the whole: CC BY 4.0 is on the project's own graphs (below); the
    # USHMM facts are the museum's, which dct:rights says.
    add(DATASET, DCT + "rights", _literal(RIGHTS, language="en"))
    add(DATASET, DCT + "publisher", _iri(PROJECT))
    a(PROJECT, FOAF + "Agent")
    add(PROJECT, FOAF + "name", _literal("atrocity-kg contributors"))
    add(DATASET, DCT + "source", _iri(str(UPSTREAM)))
    add(DATASET, PROV + "wasDerivedFrom", _iri(str(UPSTREAM)))
    add(DATASET, VOID + "sparqlEndpoint", _iri(endpoint))
    add(DATASET, VOID + "uriSpace", _literal(BASE + "id/"))
    add(DATASET, VOID + "triples", integer(_count(store, TOTAL)))
    add(DATASET, VOID + "rootResource", _iri(str(ONTOLOGY_GRAPH)))
    a(endpoint, DCAT + "DataService")
    add(endpoint, DCAT + "endpointURL", _iri(endpoint))
    add(endpoint, DCT + "conformsTo", _iri("https://www.w3.org/TR/sparql11-protocol/"))
    add(endpoint, DCAT + "servesDataset", _iri(DATASET))
    add(DATASET, DCAT + "service", _iri(endpoint))

    # one subset per named graph
    for name, size in sorted(sizes.items()):
        a(name, VOID + "Dataset")
        add(DATASET, VOID + "subset", _iri(name))
        add(name, VOID + "triples", integer(size))
        if name in (str(ONTOLOGY_GRAPH), str(SHAPES_GRAPH), str(CURATED_GRAPH)):
            add(name, DCT + "license", _iri(CC_BY))

    # the releases, as versions (DCAT 3, section 11)
    a(str(USHMM), FOAF + "Organization")
    add(str(USHMM), FOAF + "name", _literal(PUBLISHER))
    previous: str | None = None
    for selection in releases:
        code = selection.release or ""
        node = release_dataset(code)
        facts = _release_facts(store, code)
        a(node, DCAT + "Dataset", VOID + "Dataset")
        add(DATASET, DCAT + "hasVersion", _iri(node))
        add(DATASET, DCAT + "dataset", _iri(node))
        add(node, DCT + "isVersionOf", _iri(DATASET))
        for title in facts.get(DCT + "title", []):
            add(node, DCT + "title", title)
        for issued in facts.get(DCT + "issued", []):
            add(node, DCT + "issued", issued)
        for version in facts.get(DCAT + "version", [_literal(code)]):
            add(node, DCAT + "version", version)
        add(node, DCT + "publisher", _iri(str(USHMM)))
        add(node, DCT + "rights", _literal(RELEASE_RIGHTS, language="en"))
        add(node, DCT + "source", _iri(str(UPSTREAM)))
        add(node, PROV + "wasDerivedFrom", _iri(str(iris.release(code))))
        add(node, VOID + "sparqlEndpoint", _iri(endpoint))
        for graph in selection.graphs:
            add(node, VOID + "subset", _iri(graph))
        add(node, VOID + "triples", integer(_count_union(store, selection.graphs)))
        if previous is not None:
            add(node, DCAT + "previousVersion", _iri(previous))
        previous = node
    if previous is not None:
        add(DATASET, DCAT + "hasCurrentVersion", _iri(previous))

    # the dumps
    for number, file in enumerate(files):
        fmt = export.dump_format(file.format)
        node = distribution(file.name)
        url = _iri(base + "dumps/" + quote(file.name))
        owner = DATASET if file.release is None else release_dataset(file.release)
        a(node, DCAT + "Distribution")
        add(owner, DCAT + "distribution", _iri(node))
        add(owner, VOID + "dataDump", url)
        add(node, DCT + "title", _literal(file.name))
        add(node, DCAT + "downloadURL", url)
        add(node, DCAT + "accessURL", url)
        add(node, DCAT + "mediaType", _iri(IANA + fmt.media_type))
        add(node, DCAT + "compressFormat", _iri(IANA + export.GZIP_MEDIA_TYPE))
        add(node, DCT + "format", _iri(fmt.iri))
        add(node, DCAT + "byteSize", integer(file.size))
        add(node, VOID + "triples", integer(file.triples))
        add(node, DCT + "rights", _literal(RIGHTS if file.release is None else RELEASE_RIGHTS))
        checksum = ox.BlankNode(f"checksum{number}")
        add(node, SPDX + "checksum", checksum)
        add(checksum, RDF + "type", _iri(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", _iri(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", _literal(file.sha256, XSD + "hexBinary"))

    # outgoing link sets
    for key, prefix, target in LINK_TARGETS:
        links = _count(store, LINKS.format(prefix=prefix))
        if not links:
            continue
        node = f"{DATASET}/links/{key}"
        a(node, VOID + "Linkset")
        add(DATASET, VOID + "subset", _iri(node))
        add(node, VOID + "subjectsTarget", _iri(DATASET))
        add(node, VOID + "objectsTarget", _iri(target))
        add(node, VOID + "triples", integer(links))
        a(target, VOID + "Dataset")
        add(target, VOID + "uriSpace", _literal(prefix))
    # Grouped by subject (a stable sort keeps each subject's order) so that Turtle reads well.
    out.sort(key=lambda triple: str(triple.subject))
    return out


def _count_union(store: GraphStore, graphs: Iterable[str]) -> int:
    names = " ".join(f"<{g}>" for g in graphs)
    return _count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { "
        f"VALUES ?g {{ {names} }} GRAPH ?g {{ ?s ?p ?o }} }} }}",
    )


@router.get(
    "/dataset",
    summary="The dataset's description (DCAT, VoID)",
    response_class=Response,
    responses=DESCRIPTION_ANSWERS,
)
@router.head(
    "/dataset",
    summary="Headers of the dataset's description",
    response_class=Response,
    responses=DESCRIPTION_ANSWERS,
)
@router.get(
    "/.well-known/void",
    summary="The VoID description (same as /dataset)",
    response_class=Response,
    responses=DESCRIPTION_ANSWERS,
)
@router.head(
    "/.well-known/void",
    summary="Headers of the VoID description",
    response_class=Response,
    responses=DESCRIPTION_ANSWERS,
)
async def dataset(
    request: Request,
    store: Annotated[GraphStore, Depends(get_store)],
    serving: ServingDep,
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    """The dataset in DCAT 3 and VoID: licence, publisher, sources, each USHMM release as a
    version, the SPARQL endpoint, every dump file with its size and SHA-256, the triples of each
    named graph and the outgoing link sets. Turtle by default, any RDF format by `Accept` or
    `format`; for browsers (`Accept: text/html` preferred, or `format=html`), the same
    description as a page."""
    accept = request.headers.get("accept")
    requested = tuple(format_ or ())
    if for_people(accept, requested):
        if request.method == "HEAD":
            return Response(media_type=HTML_TYPE, headers=VARY)
        files = dump_files(serving)
        base = str(request.base_url)
        triples = await asyncio.to_thread(dataset_description, store, files, base)
        return rendering.page(
            "dataset.html",
            headers=VARY,
            dataset=dataset_page(triples, DATASET),
            formats=[
                (
                    f.label,
                    f"{request.url.path}?format={f.name}",
                    f.media_type,
                )
                for f in RDF_FORMATS
            ],
        )
    chosen = choose(RDF_FORMATS, accept, requested)
    files = dump_files(serving)
    base = str(request.base_url)

    def write(output: IO[bytes]) -> None:
        triples = dataset_description(store, files, base)
        chosen.write_triples(triples, output, prefixes=DESCRIPTION_PREFIXES)

    return await stream(lambda: Plan(chosen, write), head=request.method == "HEAD")
