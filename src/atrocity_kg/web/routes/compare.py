"""/compare: two to four tools side by side; /compare/factors: which factors point the same way
across tools; /compare/releases: what changed for one tool between two releases. Each a page for
people (a form of checkboxes and choices filled from the graph's labels, no JavaScript) and a CSV
table for spreadsheets, by ``?format=csv`` or ``Accept``.

Tools are named by their short keys (``?tool=mediation&tool=peace-operations``) or full IRIs; a
key naming no reviewed tool answers 404 with the close matches. The data come from
``views/compare.py`` (SPARQL over the store, the tools as bound values).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from atrocity_kg.model.negotiation import preferred_media_type
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import answers, error_pages, rendering
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.protocol import get_store
from atrocity_kg.web.views import compare as view
from atrocity_kg.web.views import release_changes as changes_view
from atrocity_kg.web.views.terms import Labels, Release, releases

router = APIRouter(tags=["pages"], route_class=error_pages.PageErrorRoute)

HTML = "text/html"
CSV = "text/csv"
FORMATS = {"html": HTML, "csv": CSV}
StoreDep = Annotated[GraphStore, Depends(get_store)]


class FormatName(StrEnum):
    html = "html"
    csv = "csv"


class MinLevel(StrEnum):
    relatively_weak = "relatively-weak"
    moderate = "moderate"
    relatively_strong = "relatively-strong"


FormatQuery = Annotated[
    FormatName | None, Query(alias="format", description="html or csv; overrides Accept")
]
# A refusal is a line of text, or a page for a browser (error_pages.plain_or_page).
REFUSAL = {**answers.TEXT, **answers.HTML}
ANSWERS: answers.Declared = {
    200: {"description": "the page, or the table as CSV", "content": {HTML: {}, CSV: {}}},
    406: answers.answer("neither HTML nor CSV is acceptable", answers.TEXT),
}


def _chosen(request: Request, named: FormatName | None) -> str | None:
    if named is not None:
        return FORMATS[named.value]
    return preferred_media_type(request.headers.get("accept"), list(FORMATS.values()))


def csv_answer(columns: Sequence[str], rows: list[list[str]], filename: str) -> Response:
    """A table as CSV (RFC 4180, a header line), saved under ``filename``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    headers = {**VARY, "Content-Disposition": f'inline; filename="{filename}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def csv_link(request: Request) -> str:
    """This page's own address (path and query) asking for CSV."""
    url = request.url.include_query_params(format="csv")
    return f"{url.path}?{url.query}"


def not_acceptable() -> Response:
    return PlainTextResponse(
        f"acceptable media types: {', '.join(FORMATS.values())}\n", 406, headers=VARY
    )


@router.get(
    "/compare",
    summary="Two to four tools side by side: their factors, levels and directions per release",
    response_class=HTMLResponse,
    responses={
        **ANSWERS,
        400: answers.answer("fewer than two or more than four tools", REFUSAL),
        404: answers.answer("a key names no reviewed tool (with close matches)", REFUSAL),
    },
)
def compare_tools(
    request: Request,
    store: StoreDep,
    tool: Annotated[
        list[str] | None,
        Query(description="a tool's short key (mediation) or IRI; two to four of them"),
    ] = None,
    release: Annotated[
        str | None, Query(description="show one release (its code, V3); every one by default")
    ] = None,
    format_name: FormatQuery = None,
) -> Response:
    chosen_format = _chosen(request, format_name)
    if chosen_format is None:
        return not_acceptable()
    known_releases = releases(store)
    code = None
    if release:
        code = next((r.code for r in known_releases if r.code.lower() == release.lower()), None)
        if code is None:
            codes = ", ".join(r.code for r in known_releases)
            return PlainTextResponse(
                f"no release {release!r}; the releases are {codes}\n", 404, headers=VARY
            )
    known = view.reviewed_tools(store)
    chosen, unknown = view.chosen_tools(tool or [], known)
    problem, status = "", 200
    if unknown:
        status = 404
        problem = "No reviewed tool has the key " + ", ".join(repr(key) for key in unknown) + "."
    elif tool and not view.MIN_TOOLS <= len(chosen) <= view.MAX_TOOLS:
        status = 400
        problem = (
            f"Choose {view.MIN_TOOLS} to {view.MAX_TOOLS} tools to compare; "
            f"{len(chosen)} {'was' if len(chosen) == 1 else 'were'} chosen."
        )
    ready = status == 200 and len(chosen) >= view.MIN_TOOLS
    if chosen_format == CSV:
        if not ready:
            text = (
                problem or f"choose {view.MIN_TOOLS} to {view.MAX_TOOLS} tools: ?tool=...&tool=..."
            )
            return PlainTextResponse(text + "\n", status if status != 200 else 400, headers=VARY)
        table = view.compare(store, chosen, code)
        suffix = f"-{code.lower()}" if code else ""
        name = "compare-" + "-".join(t.key for t in chosen) + suffix + ".csv"
        rows = view.compare_csv_rows(table, Labels(store))
        return csv_answer(view.COMPARE_COLUMNS, rows, name)
    # Each close match replaces the unknown key, keeping the tools already chosen.
    kept = [("tool", t.key) for t in chosen]
    suggestions = [
        (t, "/compare?" + urlencode([*kept, ("tool", t.key)]))
        for key in unknown
        for t in view.close_keys(key, known)
    ]
    comparison = view.compare(store, chosen, code) if ready else None
    return rendering.page(
        "compare.html",
        status,
        VARY,
        nav="/compare",
        tools=known,
        chosen=chosen,
        problem=problem,
        suggestions=suggestions,
        comparison=comparison,
        matrix=view.matrix(comparison) if comparison is not None else None,
        releases=known_releases,
        chosen_release=code,
        csv_url=csv_link(request) if ready else None,
        min_tools=view.MIN_TOOLS,
        max_tools=view.MAX_TOOLS,
    )


@router.get(
    "/compare/factors",
    summary="Factors across tools: which point the same way for several tools",
    response_class=HTMLResponse,
    responses={**ANSWERS, 404: answers.answer("no such release", REFUSAL)},
)
def factors_across_tools(
    request: Request,
    store: StoreDep,
    release: Annotated[
        str | None, Query(description="a release's code (V3); the latest by default")
    ] = None,
    min_level: Annotated[
        MinLevel,
        Query(alias="level", description="count only ratings at this level or above"),
    ] = MinLevel.relatively_weak,
    min_tools: Annotated[
        int, Query(alias="tools", ge=2, le=20, description="list factors rated for this many tools")
    ] = 2,
    format_name: FormatQuery = None,
) -> Response:
    chosen_format = _chosen(request, format_name)
    if chosen_format is None:
        return not_acceptable()
    known = releases(store)
    if not known:
        return PlainTextResponse("the store holds no release\n", 404, headers=VARY)
    if release is None:
        picked = known[0]
    else:
        matching = [r for r in known if r.code.lower() == release.strip().lower()]
        if not matching:
            codes = ", ".join(r.code for r in known)
            return PlainTextResponse(
                f"no release {release!r}; the releases are {codes}\n", 404, headers=VARY
            )
        picked = matching[0]
    across = view.across_tools(store, picked, min_level.value, min_tools, known)
    if chosen_format == CSV:
        name = f"factors-across-tools-{picked.code.lower()}-{min_level.value}.csv"
        return csv_answer(view.ACROSS_COLUMNS, view.across_csv_rows(across), name)
    return rendering.page(
        "compare_factors.html",
        headers=VARY,
        nav="/compare",
        across=across,
        releases=known,
        levels=view.MIN_LEVELS,
        csv_url=csv_link(request),
    )


def _release_named(text: str | None, known: list[Release], default: Release) -> Release | None:
    if text is None or not text.strip():
        return default
    return next((r for r in known if r.code.lower() == text.strip().lower()), None)


@router.get(
    "/compare/releases",
    summary="What changed for one tool between two releases: studies, ratings, published ratings",
    response_class=HTMLResponse,
    responses={
        **ANSWERS,
        400: answers.answer("the same release twice, or CSV without a tool", REFUSAL),
        404: answers.answer("no such tool (with close matches) or release", REFUSAL),
    },
)
def compare_releases(
    request: Request,
    store: StoreDep,
    tool: Annotated[str | None, Query(description="a tool's short key (mediation) or IRI")] = None,
    from_release: Annotated[
        str | None,
        Query(
            alias="from",
            description="the earlier release's code (V2); the one before the latest by default",
        ),
    ] = None,
    to_release: Annotated[
        str | None,
        Query(alias="to", description="the later release's code (V3); the latest by default"),
    ] = None,
    format_name: FormatQuery = None,
) -> Response:
    chosen_format = _chosen(request, format_name)
    if chosen_format is None:
        return not_acceptable()
    known = releases(store)
    if len(known) < 2:
        return PlainTextResponse("the store holds fewer than two releases\n", 404, headers=VARY)
    earlier = _release_named(from_release, known, known[1])
    later = _release_named(to_release, known, known[0])
    tools = view.reviewed_tools(store)
    chosen, unknown = view.chosen_tools([tool] if tool else [], tools)
    problem, status = "", 200
    if earlier is None or later is None:
        status = 404
        bad = from_release if earlier is None else to_release
        codes = ", ".join(r.code for r in reversed(known))
        problem = f"No release has the code {bad!r}; the releases are {codes}."
        earlier, later = earlier or known[1], later or known[0]
    elif unknown:
        status = 404
        problem = f"No reviewed tool has the key {unknown[0]!r}."
    elif earlier == later:
        status = 400
        problem = f"Choose two different releases; both are {earlier.code}."
    changes = (
        changes_view.release_changes(store, chosen[0], earlier, later)
        if chosen and status == 200
        else None
    )
    if chosen_format == CSV:
        if changes is None:
            text = problem or "name a tool: ?tool=...&from=V2&to=V3"
            return PlainTextResponse(text + "\n", status if status != 200 else 400, headers=VARY)
        name = f"changes-{chosen[0].key}-{earlier.code.lower()}-{later.code.lower()}.csv"
        return csv_answer(changes_view.CSV_COLUMNS, changes_view.csv_rows(changes), name)
    pair = [("from", earlier.code), ("to", later.code)]
    suggestions = [
        (t, "/compare/releases?" + urlencode([("tool", t.key), *pair]))
        for key in unknown
        for t in view.close_keys(key, tools)
    ]
    return rendering.page(
        "compare_releases.html",
        status,
        VARY,
        nav="/compare",
        tools=tools,
        chosen=chosen[0] if chosen else None,
        earlier=earlier,
        later=later,
        releases=known,
        problem=problem,
        suggestions=suggestions,
        changes=changes,
        csv_url=csv_link(request) if changes is not None else None,
    )
