"""/graph-store: SPARQL 1.1 Graph Store HTTP Protocol, reads only, indirect graph identification.

``?default`` names the default graph, which here is the union of the named graphs (as for
/sparql); ``?graph=IRI`` names one named graph (https://www.w3.org/TR/sparql11-http-rdf-update/).
A whole graph can be large (a release graph is about 36,000 triples), so it is streamed straight
from the store. The service is read-only: PUT, POST, DELETE and PATCH answer 405.
"""

from __future__ import annotations

from typing import IO, Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request, Response

from atrocity_kg.model.negotiation import RDF_FORMATS
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.protocol import PlainErrorRoute, Plan, ProtocolError, get_store, stream
from atrocity_kg.web.routes.sparql import choose, format_parameter

router = APIRouter(tags=["graph store"], route_class=PlainErrorRoute)

ALLOW = {"Allow": "GET, HEAD, OPTIONS"}
UNION = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def target(request: Request, store: GraphStore) -> ox.NamedNode | None:
    """The graph the request names: None for the default graph, or a named graph of the store."""
    graphs = request.query_params.getlist("graph")
    default = "default" in request.query_params
    if default == bool(graphs) or len(graphs) > 1:
        raise ProtocolError(400, "name one graph: either ?default or ?graph=IRI")
    if default:
        return None
    try:
        name = ox.NamedNode(graphs[0])
    except ValueError as error:
        raise ProtocolError(400, f"not an absolute IRI: {graphs[0]!r} ({error})") from None
    if not store.contains_named_graph(name):
        raise ProtocolError(404, f"no graph named <{name.value}> in this store")
    return name


DOC = (
    "`?default` for the default graph (the union of all named graphs) or `?graph=IRI` for one "
    "named graph, in any RDF format by `Accept` or `format` (Turtle by default); HEAD gives the "
    "same headers without the body. The graph store is read-only: PUT, POST, DELETE and PATCH "
    "answer 405."
)
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The graph",
        "content": {f.media_type: {"schema": {"type": "string"}} for f in RDF_FORMATS},
    },
    400: {"description": "Neither or both of `default` and `graph`, or a bad IRI"},
    404: {"description": "No such named graph"},
    406: {"description": "No acceptable RDF format"},
}


@router.get(
    "/graph-store",
    summary="Read a graph (SPARQL 1.1 Graph Store Protocol)",
    description=DOC,
    response_class=Response,
    responses=ANSWERS,
    operation_id="graph_store_get",
)
@router.head(
    "/graph-store",
    summary="Headers of a graph's representation",
    description=DOC,
    response_class=Response,
    responses=ANSWERS,
    operation_id="graph_store_head",
)
async def read_graph(
    request: Request,
    store: Annotated[GraphStore, Depends(get_store)],
    default: Annotated[
        str | None, Query(description="Present (without a value) for the default graph")
    ] = None,
    graph: Annotated[str | None, Query(description="The IRI of a named graph")] = None,
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    name = target(request, store)
    graph_format = choose(RDF_FORMATS, request.headers.get("accept"), format_ or ())

    def write(output: IO[bytes]) -> None:
        # The iterators are made here, in the writer thread, which alone may use them.
        triples: Any
        if name is None:
            triples = store.query(UNION, use_default_graph_as_union=True)
        else:
            triples = (quad.triple for quad in store.quads_for_pattern(None, None, None, name))
        graph_format.write_triples(triples, output)

    return await stream(lambda: Plan(graph_format, write), head=request.method == "HEAD")


@router.api_route(
    "/graph-store", methods=["PUT", "POST", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False
)
async def refuse_change(request: Request) -> Response:
    """The store is built offline and swapped whole; it takes no writes over HTTP."""
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=ALLOW)
    raise ProtocolError(
        405, f"{request.method} is not allowed: this graph store is read-only", ALLOW
    )
