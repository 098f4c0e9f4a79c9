"""/chart/{tool|factor}/{key}.svg: the research levels across releases of every row of a tool's
table of factors (or a factor's table of tools), as one SVG picture (``views/charts.py``, drawn
by ``templates/evidence_chart.svg``).

The page shows each row's chart as an ``<img>`` naming the row's view in its fragment, with the
levels in words as ``alt``: one request for the whole table, which the browser caches (ETag,
revalidated) rather than one per row, each counted by the rate limit.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from atrocity_kg.model.negotiation import SVG
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import error_pages, rendering
from atrocity_kg.web.protocol import ProtocolError, get_store
from atrocity_kg.web.views import charts, sections
from atrocity_kg.web.views.terms import Labels, releases
from atrocity_kg.web.views.thing_downloads import downloadable

router = APIRouter(tags=["pages"], route_class=error_pages.PageErrorRoute)

StoreDep = Annotated[GraphStore, Depends(get_store)]
Kind = Annotated[str, Path(description="tool or factor", pattern="^(tool|factor)$")]
Key = Annotated[str, Path(description="the tool's or factor's key (peace-operations)")]
CACHE = "public, max-age=300, must-revalidate"


@router.get(
    "/chart/{kind}/{key}.svg",
    summary="The research level per release of each row of a tool's or factor's table, as SVG",
    response_class=Response,
    responses={
        200: {"content": {SVG: {}}},
        304: {"description": "the picture the client holds is current (If-None-Match)"},
        404: {"description": "no such tool or factor"},
    },
)
def evidence_chart(request: Request, store: StoreDep, kind: Kind, key: Key) -> Response:
    node = downloadable(store, kind, key)
    if node is None:
        raise ProtocolError(404, f"no {kind} {key!r} in the graph: see /compare, or /sparql")
    known = releases(store)
    codes = [release.code for release in reversed(known)]
    row_kind = "factor" if kind == "tool" else "tool"
    rows = [
        (
            charts.key_of(row.subject.iri or "", row_kind) or "",
            row.subject.text,
            charts.levels_of(codes, row.cells),
        )
        for row in sections.evidence_rows(store, known, kind, node)
    ]
    name = Labels(store)(node) or key
    title = f"Research level per release of each {row_kind} on the {kind} page of {name}"
    picture = charts.sheet(title, rows)
    body = rendering.render("evidence_chart.svg", s=picture).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=SVG, headers=headers)
