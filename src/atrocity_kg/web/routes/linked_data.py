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

from typing import IO, Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.convertors import PathConvertor, register_url_convertor

from atrocity_kg.model.negotiation import RDF_FORMATS, Format, preferred_media_type
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import answers, error_pages, rendering
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.protocol import Plan, ProtocolError, get_store, stream
from atrocity_kg.web.routes.sparql import choose, format_parameter
from atrocity_kg.web.views.resource import INCOMING_CAP, render_resource, resource
from atrocity_kg.web.views.terms import (
    EXTENSIONS,
    ID_BASE,
    Term,
    data_url,
    exists,
    local_href,
    page_url,
    replacement,
    thing_node,
)


class AnyPath(PathConvertor):
    """A path that may hold any character, a line break included, where starlette's ``path``
    stops at one: every path under /id/, /page/ and /data/ then reaches these routes and is
    answered as they document (404 in text or HTML), not by the app's generic JSON 404."""

    regex = "(?s:.*)"


register_url_convertor("anypath", AnyPath())

router = APIRouter(tags=["linked data"], route_class=error_pages.PageErrorRoute)

HTML = "text/html"
XHTML = "application/xhtml+xml"
CLOSE_MATCHES = 10


# Things of one kind whose IRI starts as the unknown one does; the prefix is a bound value.
CLOSE_QUERY = """SELECT DISTINCT ?thing ?prefix WHERE {
  ?thing a ?type .
  FILTER(isIRI(?thing) && STRSTARTS(STR(?thing), ?prefix))
} ORDER BY ?thing LIMIT """ + str(CLOSE_MATCHES)


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
    "/id/{path:anypath}",
    summary="A thing of the graph: 303 See Other to its HTML page or its RDF, by Accept",
    response_class=Response,
    responses=THING_ANSWERS,
    operation_id="thing_get",
)
@router.head(
    "/id/{path:anypath}",
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
    "/data/{path:anypath}",
    summary="The RDF about a thing: what DESCRIBE answers (by extension, Accept or format)",
    response_class=Response,
    responses=DATA_ANSWERS,
    operation_id="data_get",
)
@router.head(
    "/data/{path:anypath}",
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


@router.get(
    "/page/{path:anypath}",
    summary="The HTML page about a thing",
    response_class=HTMLResponse,
    responses=PAGE_ANSWERS,
    operation_id="page_get",
)
@router.head(
    "/page/{path:anypath}",
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
