"""/sparql: queries by GET and POST, answered from the store with SPARQL JSON results.

The full SPARQL 1.1 Protocol (content negotiation, dataset parameters, service description)
belongs to a later change; this is the part the README's first query needs.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from atrocity_kg import store as stores
from atrocity_kg.errors import QueryError

router = APIRouter(tags=["sparql"])

SPARQL_JSON = "application/sparql-results+json"


def get_store(request: Request) -> ox.Store:
    current: ox.Store | None = request.app.state.store
    if current is None:
        raise HTTPException(503, "the store is not open")
    return current


async def _query_text(request: Request) -> str:
    if request.method == "GET":
        text = request.query_params.get("query")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type == "application/sparql-query":
            text = (await request.body()).decode("utf-8")
        elif content_type == "application/x-www-form-urlencoded":
            form = parse_qs((await request.body()).decode("utf-8"))
            text = form.get("query", [""])[0] or None
        else:
            raise HTTPException(415, f"unsupported content type {content_type!r}")
    if not text:
        raise HTTPException(400, "missing 'query' parameter")
    return text


@router.api_route("/sparql", methods=["GET", "POST"], summary="Run a SPARQL query")
async def sparql_query(
    request: Request, store: Annotated[ox.Store, Depends(get_store)]
) -> Response:
    text = await _query_text(request)
    try:
        result = stores.run_query(store, text)
    except QueryError as error:
        raise HTTPException(400, str(error)) from None
    if isinstance(result, ox.QueryTriples):
        body = result.serialize(format=ox.RdfFormat.N_TRIPLES)
        return Response(body, media_type="application/n-triples")
    body = result.serialize(format=ox.QueryResultsFormat.JSON)
    return Response(body, media_type=SPARQL_JSON)
