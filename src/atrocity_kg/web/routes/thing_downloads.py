"""/download/{tool|factor}/{key}.{csv|bib|ris}: everything about one tool or factor as files.

- ``.csv``: every finding about it (release, study, title, year, DOI, tool, factor, outcome,
  direction, and the IRIs), for a spreadsheet;
- ``.bib`` and ``.ris``: the studies reporting them, for reference managers (Zotero, EndNote,
  JabRef ...).

Each answer names its file (Content-Disposition). The RDF about the thing itself is at
``/data/{kind}/{key}.jsonld`` (and .ttl, .nt, .rdf), as for every thing. The thing's page links
them all (``templates/thing_downloads.html``).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Path, Response

from atrocity_kg.publish.bibliography import to_bibtex, to_ris
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import error_pages
from atrocity_kg.web.protocol import ProtocolError, get_store
from atrocity_kg.web.views import thing_downloads as view

router = APIRouter(tags=["linked data"], route_class=error_pages.PageErrorRoute)

StoreDep = Annotated[GraphStore, Depends(get_store)]
Kind = Annotated[str, Path(description="tool or factor", pattern="^(tool|factor)$")]
Key = Annotated[str, Path(description="the thing's key (mediation, commitment ...)")]
CSV = "text/csv; charset=utf-8"
BIBTEX = "application/x-bibtex; charset=utf-8"
RIS = "application/x-research-info-systems; charset=utf-8"


def _thing(store: GraphStore, kind: str, key: str) -> ox.NamedNode:
    node = view.downloadable(store, kind, key)
    if node is None:
        raise ProtocolError(
            404,
            f"no {kind} {key!r} in the graph: see /compare for the tools, or /sparql",
        )
    return node


def _file(body: str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/download/{kind}/{key}.csv",
    summary="Every finding about a tool or factor, as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 404: {"description": "no such tool or factor"}},
)
def findings_csv(store: StoreDep, kind: Kind, key: Key) -> Response:
    node = _thing(store, kind, key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(view.FINDING_COLUMNS)
    writer.writerows(view.finding_rows(store, node))
    return _file(out.getvalue(), CSV, f"{view.file_stem(kind, key)}-findings.csv")


@router.get(
    "/download/{kind}/{key}.bib",
    summary="The studies of a tool or factor, as BibTeX",
    response_class=Response,
    responses={
        200: {"content": {"application/x-bibtex": {}}},
        404: {"description": "no such tool or factor"},
    },
)
def bibliography_bibtex(store: StoreDep, kind: Kind, key: Key) -> Response:
    node = _thing(store, kind, key)
    return _file(
        to_bibtex(view.references(store, node)), BIBTEX, f"{view.file_stem(kind, key)}.bib"
    )


@router.get(
    "/download/{kind}/{key}.ris",
    summary="The studies of a tool or factor, as RIS",
    response_class=Response,
    responses={
        200: {"content": {"application/x-research-info-systems": {}}},
        404: {"description": "no such tool or factor"},
    },
)
def bibliography_ris(store: StoreDep, kind: Kind, key: Key) -> Response:
    node = _thing(store, kind, key)
    return _file(to_ris(view.references(store, node)), RIS, f"{view.file_stem(kind, key)}.ris")
