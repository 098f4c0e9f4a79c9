"""/admin: writes to the embedded store, for the holder of the admin token only.

Mounted only when the ``admin_token`` setting is given (without it /admin/... is a plain 404).
``POST /admin/sparql`` runs a SPARQL 1.1 Update; ``PUT``, ``POST`` and ``DELETE`` on
``/admin/graph-store?graph=IRI`` replace, merge into and drop a named graph (SPARQL 1.1 Graph Store
HTTP Protocol). Every request carries ``Authorization: Bearer <token>``, checked in constant time
before the body is read. Each write is one transaction of ``writes.py``: validated with the SHACL
shapes, committed as a new build swapped in atomically, then served.

The default graph is the union of the named graphs here, as on /sparql: a write names its graph
(``GRAPH <IRI>`` or ``WITH <IRI>`` in an update, ``?graph=IRI`` in the graph store). LOAD and
SERVICE are refused, as they would make the server fetch URLs of the client's choosing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from atrocity_kg import writes
from atrocity_kg.config import Settings
from atrocity_kg.curation import derive
from atrocity_kg.errors import StoreError
from atrocity_kg.storage import safeparse
from atrocity_kg.web import failures
from atrocity_kg.web.dependencies import ServingDep, SettingsDep
from atrocity_kg.web.protocol import PlainErrorRoute, ProtocolError, read_body
from atrocity_kg.web.routes.sparql import content_type, keywords
from atrocity_kg.web.serving import Serving

log = logging.getLogger(__name__)

SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
BUILD_HEADER = "Atrocity-KG-Build"
RECOMPUTED_HEADER = "Atrocity-KG-Recomputed"
CHALLENGE = 'Bearer realm="atrocity-kg admin"'
FETCHING_KEYWORDS = ("LOAD", "SERVICE")
DATASET_PARAMETERS = ("using-graph-uri", "using-named-graph-uri")


def install(app: FastAPI) -> None:
    """Add the admin routes to ``app`` (called by create_app only when a token is set)."""
    app.include_router(router)


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """Let the request through only with the admin token (compared in constant time), and only
    when the app serves the embedded store, the one writes go to."""
    tokens = dict(settings.admin_tokens)
    if settings.admin_token is not None:
        tokens.setdefault("", settings.admin_token)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not tokens or scheme.lower() != "bearer" or not given.strip():
        raise ProtocolError(
            401,
            "this endpoint needs the admin token: send Authorization: Bearer <token>",
            {"WWW-Authenticate": CHALLENGE},
        )
    sent = given.strip().encode("utf-8")
    # Every token is compared (in constant time), so the time taken says nothing of which.
    matched = [
        name
        for name, token in sorted(tokens.items())
        if hmac.compare_digest(sent, token.get_secret_value().encode("utf-8"))
    ]
    if not matched:
        raise ProtocolError(
            401,
            "the admin token was not accepted",
            {"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'},
        )
    # The token's name (none for the unnamed admin_token): whom a contribution is attributed to.
    request.state.admin_name = matched[0] or None
    if settings.sparql_endpoint:
        raise ProtocolError(
            501, "this server reads a remote store; admin writes go to the embedded store only"
        )


def unwritable(error: StoreError, context: str) -> ProtocolError:
    """A write the store could not take: 503 with a reference, the details in the log."""
    reference = failures.report(error, context)
    return ProtocolError(503, "the store cannot be written: " + failures.client_message(reference))


router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    route_class=PlainErrorRoute,
    dependencies=[Depends(require_admin)],
)


async def _read_body(request: Request, settings: Settings) -> bytes:
    return await read_body(request, settings.max_upload_bytes)


def refuse_fetching(text: str) -> None:
    """Refuse LOAD and SERVICE anywhere in an update (outside strings, IRIs and comments):
    pyoxigraph would fetch the IRIs they name, a server-side request of the client's choosing."""
    found = [word for word in FETCHING_KEYWORDS if word in keywords(text)]
    if found:
        raise ProtocolError(
            400,
            f"{' and '.join(found)} refused: this server does not fetch URLs for a client; "
            "send the data in the request (INSERT DATA, or PUT/POST to /admin/graph-store)",
        )


async def _update_text(request: Request, settings: Settings) -> str:
    """The update from the body (application/sparql-update) or from a form (``update=``)."""
    url = {key: request.query_params.getlist(key) for key in request.query_params}
    media, options = content_type(request)
    if media == SPARQL_UPDATE:
        parameters = url
        try:
            updates = [
                (await _read_body(request, settings)).decode(options.get("charset", "utf-8"))
            ]
        except (LookupError, UnicodeDecodeError) as error:
            raise ProtocolError(400, f"cannot decode the update: {error}") from None
    elif media == FORM:
        try:
            body = await _read_body(request, settings)
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the form is not UTF-8: {error}") from None
        parameters = {key: form.get(key, []) + url.get(key, []) for key in {*form, *url}}
        updates = form.get("update", [])
    else:
        raise ProtocolError(
            415, f"unsupported Content-Type {media or '(none)'!r}: send {SPARQL_UPDATE} or {FORM}"
        )
    given = [name for name in DATASET_PARAMETERS if name in parameters]
    if given:
        raise ProtocolError(
            400, f"{', '.join(given)} not supported: name the graphs in the update (WITH, GRAPH)"
        )
    if len(updates) != 1 or not updates[0].strip():
        raise ProtocolError(400, "send exactly one non-empty 'update'")
    return updates[0]


async def _write(
    settings: Settings,
    serving: Serving,
    work: Callable[[], writes.WriteOutcome],
    *,
    graph_store: bool = False,
) -> Response:
    """Run one write transaction off the event loop, answer for it, and serve the new build.
    The graph store answers 201 when the write created its graph, as its protocol says."""
    try:
        outcome = await asyncio.to_thread(work)
    except writes.NonConformingWriteError as error:
        return JSONResponse(
            {"message": str(error), "results": [asdict(r) for r in error.report.results]},
            status_code=422,
        )
    except writes.UnderivableWriteError as error:
        raise ProtocolError(422, str(error)) from None
    except (writes.ProtectedGraphError, writes.DuplicateStatementWriteError) as error:
        raise ProtocolError(409, str(error)) from None
    except writes.NoSuchGraphError as error:
        raise ProtocolError(404, str(error)) from None
    except writes.WriteRefusedError as error:
        raise ProtocolError(400, str(error)) from None
    except StoreError as error:
        raise unwritable(error, "an admin write") from None
    timings = dict(outcome.timings)
    if outcome.committed:
        log.info(
            "admin write: graphs %s now in build %s", ", ".join(outcome.changed), outcome.build.name
        )
        started = time.perf_counter()
        await serving.switch_to_current(settings.store_root)
        timings["switch"] = time.perf_counter() - started
    timing = ", ".join(
        f"{step.replace(' ', '-')};dur={1000 * s:.0f}" for step, s in timings.items()
    )
    headers = {BUILD_HEADER: outcome.build.name, "Server-Timing": timing}
    # The derived graphs the write made again (evidence, inferred, catalogue, draft): none for a
    # write to a graph nothing is derived from.
    headers[RECOMPUTED_HEADER] = derive.recomputed_header(outcome.recomputed)
    status = 201 if graph_store and outcome.created else 204
    return Response(status_code=status, headers=headers)


def _target(request: Request) -> str:
    """The named graph of a graph-store write; refused early if only the build may write it."""
    names = request.query_params.getlist("graph")
    if "default" in request.query_params:
        raise ProtocolError(
            400,
            "the default graph is the union of the named graphs and cannot be written: "
            "name a graph with ?graph=IRI",
        )
    if len(names) != 1:
        raise ProtocolError(400, "name one graph with ?graph=IRI")
    try:
        name = ox.NamedNode(names[0]).value
    except ValueError as error:
        raise ProtocolError(400, f"not an absolute IRI: {names[0]!r} ({error})") from None
    reason = writes.protection(name)
    if reason is not None:
        raise ProtocolError(409, reason)
    return name


async def _triples(request: Request, settings: Settings, name: str) -> list[ox.Triple]:
    """The body's RDF, parsed by safeparse (off the event loop): one graph, as triples."""
    media, _ = content_type(request)
    body = await _read_body(request, settings)
    source = f"the {request.method} body for <{name}>"
    try:
        parsed = await asyncio.to_thread(
            safeparse.read_rdf,
            body,
            media,
            source=source,
            max_bytes=settings.max_upload_bytes,
            base_iri=name,
        )
    except safeparse.UnsupportedMediaTypeError as error:
        raise ProtocolError(415, str(error)) from None
    except safeparse.InputTooLargeError as error:
        raise ProtocolError(413, str(error)) from None
    except safeparse.UnsafeInputError as error:
        raise ProtocolError(400, str(error)) from None
    triples = []
    for item in parsed:
        if isinstance(item, ox.Quad):
            if not isinstance(item.graph_name, ox.DefaultGraph):
                raise ProtocolError(
                    400,
                    f"{source}: holds a named graph; the body of a graph-store write is one graph",
                )
            item = item.triple
        triples.append(item)
    return triples


UPDATE_DOC = (
    f"A SPARQL 1.1 Update as the body (`{SPARQL_UPDATE}`) or as the form parameter `update` "
    f"(`{FORM}`). Write into named graphs (`GRAPH <IRI>`, `WITH <IRI>`): the default graph is "
    "the union of the named graphs. LOAD and SERVICE are refused. The changed graphs are "
    "validated with the SHACL shapes; the write is committed as a new build only if they conform."
)
WRITE_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"description": "Committed; a new graph was created"},
    204: {
        "description": f"Committed (or nothing changed); `{BUILD_HEADER}` names the build, "
        f"`{RECOMPUTED_HEADER}` the derived graphs made again for the change"
    },
    400: {"description": "Malformed request or data, LOAD or SERVICE, or a default-graph write"},
    401: {"description": "No admin token, or a wrong one"},
    409: {
        "description": "A graph only `atrocity-kg build` makes (derived, ontology, shapes), or a "
        "triple another graph states already"
    },
    413: {"description": "The body is over the upload limit"},
    415: {"description": "A Content-Type that is not accepted"},
    422: {
        "description": "The data does not conform to the shapes (JSON: the results), or what "
        "the build derives cannot be made from it"
    },
}


@router.post(
    "/sparql",
    summary="Run a SPARQL 1.1 Update (admin)",
    description=UPDATE_DOC,
    response_class=Response,
    responses=WRITE_ANSWERS,
    operation_id="admin_update",
)
async def admin_update(request: Request, settings: SettingsDep, serving: ServingDep) -> Response:
    text = await _update_text(request, settings)
    refuse_fetching(text)
    return await _write(settings, serving, lambda: writes.update(settings, text))


async def _graph_write(
    request: Request,
    settings: Settings,
    serving: Serving,
    write: Callable[[Settings, str, list[ox.Triple]], writes.WriteOutcome],
) -> Response:
    """A graph store PUT or POST: the triples of the body into the named graph of ``?graph``."""
    name = _target(request)
    triples = await _triples(request, settings, name)
    return await _write(settings, serving, lambda: write(settings, name, triples), graph_store=True)


GraphParameter = Annotated[str | None, Query(alias="graph", description="The IRI of a named graph")]


@router.put(
    "/graph-store",
    summary="Replace a named graph (admin)",
    response_class=Response,
    responses=WRITE_ANSWERS,
    operation_id="admin_graph_put",
)
async def admin_put(
    request: Request, settings: SettingsDep, serving: ServingDep, graph: GraphParameter = None
) -> Response:
    return await _graph_write(request, settings, serving, writes.replace_graph)


@router.post(
    "/graph-store",
    summary="Add to a named graph (admin)",
    response_class=Response,
    responses=WRITE_ANSWERS,
    operation_id="admin_graph_post",
)
async def admin_post(
    request: Request, settings: SettingsDep, serving: ServingDep, graph: GraphParameter = None
) -> Response:
    return await _graph_write(request, settings, serving, writes.add_to_graph)


@router.delete(
    "/graph-store",
    summary="Drop a named graph (admin)",
    response_class=Response,
    responses={**WRITE_ANSWERS, 404: {"description": "No such graph"}},
    operation_id="admin_graph_delete",
)
async def admin_delete(
    request: Request, settings: SettingsDep, serving: ServingDep, graph: GraphParameter = None
) -> Response:
    name = _target(request)
    return await _write(settings, serving, lambda: writes.drop_graph(settings, name))
