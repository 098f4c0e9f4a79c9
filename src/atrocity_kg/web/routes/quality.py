"""/quality: the review's own slips, as the quality annotations of the graph being served.

One record per place where the USHMM release files contradict themselves, each other or an
earlier release (atrocity_kg.quality), read from ``graph/quality`` of the store with the same
query the command uses. HTML for people (the site's header, one table per kind), JSON or CSV by
``Accept`` or ``?format=``; ``?release=V3`` keeps one release's files (any release the store
holds: a release imported since the code was written too).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse

from atrocity_kg.ingest.releases import CODE_PATTERN, RELEASES, is_release_code, sort_codes
from atrocity_kg.model.negotiation import preferred_media_type
from atrocity_kg.quality.report import KindSummary, QualityRecord, QualityReport, read_report
from atrocity_kg.query import sparql
from atrocity_kg.web import rendering
from atrocity_kg.web.dependencies import MaybeStore
from atrocity_kg.web.headers import VARY

router = APIRouter(tags=["quality"])

HTML = "text/html"
JSON = "application/json"
CSV = "text/csv"
# By ?format= name, in the order a client with no preference gets them: a browser, or curl.
FORMATS = {"html": HTML, "json": JSON, "csv": CSV}


class FormatName(StrEnum):
    html = "html"
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class ActionGroup:
    """The records of a kind that the graph handles one way: the action is said once."""

    action: str
    records: list[QualityRecord]


@dataclass(frozen=True)
class KindSection:
    """One kind on the page: its records, grouped by what the graph does about them."""

    kind: KindSummary
    records: list[QualityRecord]

    @property
    def anchor(self) -> str:
        return f"kind-{self.kind.kind}"

    @property
    def groups(self) -> list[ActionGroup]:
        grouped: dict[str, list[QualityRecord]] = {}
        for record in self.records:
            grouped.setdefault(record.action, []).append(record)
        return [ActionGroup(action, records) for action, records in grouped.items()]


def sections(report: QualityReport) -> list[KindSection]:
    return [
        KindSection(kind, [r for r in report.records if r.kind == kind.kind])
        for kind in report.kinds
        if kind.count
    ]


def _chosen(request: Request, named: FormatName | None) -> str | None:
    if named is not None:
        return FORMATS[named.value]
    return preferred_media_type(request.headers.get("accept"), list(FORMATS.values()))


@router.get(
    "/quality",
    summary="Where the review's release files contradict themselves, each other or an earlier "
    "release",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "the quality report: HTML, JSON or CSV",
            "content": {HTML: {}, JSON: {}, CSV: {}},
        },
        406: {"description": "none of HTML, JSON and CSV is acceptable", "content": {}},
    },
)
def quality(
    request: Request,
    current: MaybeStore,
    release: Annotated[
        str | None,
        Query(description="keep the records of one release's files", pattern=f"^{CODE_PATTERN}$"),
    ] = None,
    format_name: Annotated[
        FormatName | None, Query(alias="format", description="output format; overrides Accept")
    ] = None,
) -> Response:
    """One record per place: release, file (its path inside the release folder), row (from 1
    after the header), column, kind, what the files say there and what the graph does about it.
    Read from the store's graph/quality."""
    chosen = _chosen(request, format_name)
    if chosen is None:
        return PlainTextResponse(
            f"acceptable media types: {', '.join(FORMATS.values())}\n", 406, headers=VARY
        )
    # The releases known when the code was written and those the store holds (a newer one).
    stored = sparql.releases(current) if current is not None else []
    held = sort_codes({*RELEASES, *(r.code for r in stored if is_release_code(r.code))})
    if release is not None and release not in held:
        # As FastAPI refuses a malformed value: the same JSON (or page), the same contract.
        message = f"no release {release!r} here; releases: {', '.join(held)}"
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "release"), "msg": message, "input": release}]
        )
    code = release
    report = read_report(current, code) if current is not None else QualityReport(code)
    suffix = f"-{code.lower()}" if code else ""
    if chosen == CSV:
        headers = {**VARY, "Content-Disposition": f'inline; filename="quality{suffix}.csv"'}
        return Response(report.to_csv(), media_type="text/csv; charset=utf-8", headers=headers)
    if chosen == JSON:
        return Response(report.to_json(), media_type=JSON, headers=VARY)
    return rendering.page(
        "quality.html",
        headers=VARY,
        report=report,
        sections=sections(report),
        releases=held,
        chosen_release=code,
        served=current is not None,
    )
