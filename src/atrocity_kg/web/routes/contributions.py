"""The living review over HTTP: ``POST /admin/contributions`` and ``DELETE
/admin/contributions/{id}`` for the holder of the admin token; ``GET /contributions`` and
``/contributions/{id}`` (JSON) for everyone.

A contribution is posted as ``multipart/form-data``: ``records`` (the CSV), optionally
``bibliography``, ``note`` and ``curator``. ``?preview=true`` writes nothing. The answer is the
impact document (``curation.impact``) in every case, with ``written`` saying whether the
contribution was kept; a contribution that breaks the importer's rules is a 422 naming file, row
and column, and one whose graph does not conform a 422 with the SHACL report.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import re
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions, impact
from atrocity_kg.errors import (
    ContributionError,
    ContributionFormatError,
    GraphValidationError,
    StoreError,
)
from atrocity_kg.graph import graphs
from atrocity_kg.graph.validate import ValidationCache
from atrocity_kg.ingest.releases import draft_code, latest_release
from atrocity_kg.web import rendering
from atrocity_kg.web.dependencies import ServingDep, SettingsDep
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.protocol import PlainErrorRoute, ProtocolError, read_body
from atrocity_kg.web.routes.admin import BUILD_HEADER, require_admin, unwritable
from atrocity_kg.web.routes.sparql import content_type

MULTIPART = "multipart/form-data"
FILE_FIELDS = ("records", "bibliography")
TEXT_FIELDS = ("note", "curator")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")

admin_router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    route_class=PlainErrorRoute,
    dependencies=[Depends(require_admin)],
)
public_router = APIRouter(tags=["contributions"], route_class=PlainErrorRoute)
curator_router = APIRouter(tags=["admin"])
"""The curator's page, mounted with the admin routes (when a token is set)."""


def parse_form(header: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body -> field name -> (file name or None, bytes)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ProtocolError(400, f"the body is not {MULTIPART}")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if name in fields:
            raise ProtocolError(400, f"the field {name!r} is sent twice")
        payload = part.get_payload(decode=True)
        fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _file_name(given: str | None, default: str) -> str:
    """The name a file was sent under, reduced to a safe base name (it is shown in errors and
    kept in the contribution's metadata)."""
    name = _SAFE_NAME.sub("_", Path(given or "").name).strip(" .")
    return name or default


def _text(fields: dict[str, tuple[str | None, bytes]], name: str) -> str | None:
    if name not in fields:
        return None
    try:
        return fields[name][1].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the field {name!r} is not UTF-8 text") from None


PreviewParameter = Annotated[bool, Query(description="compute the impact and write nothing")]


@admin_router.post(
    "/contributions",
    summary="Add a contribution to the living review, or preview it (admin)",
    operation_id="admin_contribute",
    responses={
        200: {"description": "The impact (a preview, or not written)"},
        201: {"description": "Kept: the impact, and the new build in the header"},
        400: {"description": "Not multipart/form-data, or no records"},
        401: {"description": "No admin token, or a wrong one"},
        413: {"description": "The body is over the upload limit"},
        422: {"description": "The records break a rule (file, row, column) or do not conform"},
    },
)
async def admin_contribute(
    request: Request, settings: SettingsDep, serving: ServingDep, preview: PreviewParameter = False
) -> Response:
    media, _ = content_type(request)
    if media != MULTIPART:
        raise ProtocolError(415, f"send {MULTIPART} with a 'records' file")
    body = await read_body(request, settings.max_upload_bytes)
    fields = parse_form(request.headers.get("content-type", ""), body)
    if "records" not in fields:
        raise ProtocolError(400, "send the records as the form field 'records'")
    now = datetime.now(UTC)
    # Whoever the form names, else the name of the token the request carries.
    curator = _text(fields, "curator") or getattr(request.state, "admin_name", None)
    with tempfile.TemporaryDirectory(prefix="contribution-") as folder:
        paths: dict[str, Path] = {}
        for name in FILE_FIELDS:
            if name in fields:
                given, data = fields[name]
                path = Path(folder) / name / _file_name(given, f"{name}.csv")
                path.parent.mkdir()
                path.write_bytes(data)
                paths[name] = path
        submission = contributions.Submission(
            paths["records"],
            paths.get("bibliography"),
            _text(fields, "note") or "",
            curator or settings.curator,
        )

        def work() -> tuple[impact.Impact, contributions.WriteOutcome | None]:
            cache = None if preview else ValidationCache(settings.validation_cache)
            found = impact.preview(settings, submission, now, cache)
            if preview or not found.report.conforms:
                return found, None
            return found, contributions.contribute(settings, submission, now)

        try:
            found, written = await asyncio.to_thread(work)
        except ContributionFormatError as error:
            location = error.location
            return JSONResponse(
                {
                    "message": str(error),
                    "file": location.file,
                    "row": location.row,
                    "column": location.column,
                },
                status_code=422,
            )
        except GraphValidationError as error:
            return JSONResponse({"message": str(error)}, status_code=422)
        except ContributionError as error:
            raise ProtocolError(400, str(error)) from None
        except StoreError as error:
            raise unwritable(error, "a contribution") from None
    document: dict[str, Any] = found.document()
    document["lines"] = found.lines()
    document["written"] = written is not None
    if written is None:
        return JSONResponse(document, status_code=200 if found.report.conforms else 422)
    await serving.switch_to_current(settings.store_root)
    return JSONResponse(document, status_code=201, headers={BUILD_HEADER: written.build.name})


@admin_router.delete(
    "/contributions/{contribution_id}",
    summary="Withdraw a contribution (admin)",
    operation_id="admin_withdraw",
    response_class=Response,
    responses={
        204: {"description": "Withdrawn; the store is as it was before the contribution"},
        401: {"description": "No admin token, or a wrong one"},
        404: {"description": "No such contribution"},
    },
)
async def admin_withdraw(
    contribution_id: str, settings: SettingsDep, serving: ServingDep
) -> Response:
    known = {m.id for m in contributions.list_contributions(settings.contributions_root)}
    if contribution_id not in known:
        raise ProtocolError(404, f"no contribution {contribution_id!r}")
    try:
        outcome = await asyncio.to_thread(contributions.withdraw, settings, contribution_id)
    except ContributionError as error:
        raise ProtocolError(400, str(error)) from None
    except StoreError as error:
        raise unwritable(error, "a withdrawal") from None
    await serving.switch_to_current(settings.store_root)
    return Response(status_code=204, headers={BUILD_HEADER: outcome.build.name})


def _draft(settings: Settings) -> str:
    """The draft release's code: the one after the newest release data/ushmm holds."""
    imported = graphs.imported_releases(settings)
    return draft_code(latest_release(imported) if imported else None)


@public_router.get(
    "/contributions",
    summary="The contributions to the living review",
    operation_id="contributions",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def list_contributions(
    request: Request,
    settings: SettingsDep,
    format_name: Annotated[
        str | None, Query(alias="format", description="json, or html for the page")
    ] = None,
) -> Response:
    """JSON for programs; a page for a browser (or ``?format=html``)."""
    metas = contributions.list_contributions(settings.contributions_root)
    page = rendering.wants_page(request.headers.get("accept"))
    if format_name == "html" or (format_name is None and page):
        return rendering.page(
            "contributions.html", headers=VARY, contributions=metas, draft=_draft(settings)
        )
    return JSONResponse({"contributions": [asdict(meta) for meta in metas]}, headers=VARY)


@public_router.get(
    "/contributions/{contribution_id}",
    summary="One contribution to the living review",
    operation_id="contribution",
    responses={404: {"description": "No such contribution", "content": {"text/plain": {}}}},
)
async def one_contribution(contribution_id: str, settings: SettingsDep) -> JSONResponse:
    for meta in contributions.list_contributions(settings.contributions_root):
        if meta.id == contribution_id:
            return JSONResponse(asdict(meta))
    raise ProtocolError(404, f"no contribution {contribution_id!r}")


@curator_router.get(
    "/curate",
    summary="The curator's page: preview, keep and withdraw contributions",
    operation_id="curate",
    response_class=HTMLResponse,
)
async def curate(settings: SettingsDep) -> Response:
    """A form for the records and bibliography, the impact preview, and the contributions with
    a withdraw button each; the admin token is typed in the page and sent with each write."""
    metas = contributions.list_contributions(settings.contributions_root)
    return rendering.page("curate.html", contributions=metas, draft=_draft(settings))
