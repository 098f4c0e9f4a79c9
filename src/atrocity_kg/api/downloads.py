"""/ontology and /dumps/: the ontology file and every named graph as downloads.

Both read the open store, so what they offer is always what /sparql answers from. The ontology is
streamed like any graph of the graph store; /dumps/ lists each named graph with its size and a
link per RDF format.
"""

from __future__ import annotations

import html
from typing import IO, Annotated
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from atrocity_kg.api.protocol import PlainErrorRoute, Plan, get_store, stream
from atrocity_kg.api.sparql import choose, format_parameter
from atrocity_kg.graphs import ONTOLOGY_GRAPH
from atrocity_kg.negotiation import RDF_FORMATS

router = APIRouter(tags=["downloads"], route_class=PlainErrorRoute)

SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@router.get("/ontology", summary="The OWL ontology, in any RDF format", response_class=Response)
@router.head("/ontology", summary="Headers of the ontology", response_class=Response)
async def ontology(
    request: Request,
    store: Annotated[ox.Store, Depends(get_store)],
    format_: Annotated[list[str] | None, format_parameter(RDF_FORMATS)] = None,
) -> Response:
    """Turtle by default; N-Triples, JSON-LD or RDF/XML by `Accept` or `format`."""
    chosen = choose(RDF_FORMATS, request.headers.get("accept"), format_ or ())
    name = ox.NamedNode(str(ONTOLOGY_GRAPH))

    def write(output: IO[bytes]) -> None:
        triples = (quad.triple for quad in store.quads_for_pattern(None, None, None, name))
        chosen.write_triples(triples, output)

    return await stream(lambda: Plan(chosen, write), head=request.method == "HEAD")


def _query(graph: str, format_name: str) -> str:
    return urlencode({"graph": graph, "format": format_name})


@router.get("/dumps/", summary="Every named graph as a download", response_class=HTMLResponse)
def dumps(store: Annotated[ox.Store, Depends(get_store)]) -> HTMLResponse:
    """One row per named graph: its IRI, its number of triples and a link per RDF format."""
    rows = []
    for solution in store.query(SIZES):  # type: ignore[union-attr]
        graph, size = solution["g"], solution["n"]
        if not isinstance(graph, ox.NamedNode) or size is None:
            continue
        links = " ".join(
            f'<a href="/graph-store?{html.escape(_query(graph.value, f.name))}">'
            f"{html.escape(f.name)}</a>"
            for f in RDF_FORMATS
        )
        rows.append(
            f"<tr><td><code>{html.escape(graph.value)}</code></td>"
            f'<td class="number">{html.escape(size.value)}</td><td>{links}</td></tr>'
        )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Downloads - '
        'atrocity-kg</title><link rel="stylesheet" href="/static/site.css"></head><body><main>'
        "<h1>Downloads</h1><p>Each named graph of the store, whole, in any RDF format. The same "
        'graphs answer <a href="/sparql">/sparql</a>.</p>'
        "<table><thead><tr><th>graph</th><th>triples</th><th>download</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></main></body></html>"
    )
    return HTMLResponse(body)
