"""/queries: the research-question catalogue as an API, one documented operation per question.

The catalogue (``queries/*.rq``) is read once, when the app is built, and kept on
``app.state.catalogue``. Each file becomes its own route, ``/queries/{name}``, so that the OpenAPI
document shows every question with its title, description and typed parameters; a generic
``/queries/{name}`` route, registered after them and left out of the document, redirects a
query's former name (308, query string kept) and answers any other name with a 404 listing the
catalogue. ``/queries/{name}.rq`` serves a file's text.

Parameters come from the URL query string and are bound as RDF terms in a VALUES block
(``CatalogueQuery.bound_text``), never pasted into the query text. A parameter declared by a class
(``?tool akg:ReviewedTool``) takes one of the class's members in the store being served, named
by key (``?tool=mediation``), label or full IRI; a value that names none is a 404 naming the
closest (``query.choices``), and the pages offer the members by label in a picker.

Results are negotiated by ``?format=`` or, failing that, the Accept header: ``json`` (SPARQL
JSON results, the default), ``rows`` (plain JSON rows, ``application/json``), ``csv`` and ``html``
(a page of the site, rendered by the templates ``queries.html`` and ``query.html``, with the
bound SPARQL and a link opening it in the home page's editor; every value escaped).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from atrocity_kg.config import Settings
from atrocity_kg.errors import QueryError
from atrocity_kg.model.negotiation import preferred_media_type
from atrocity_kg.query.choices import Choice, UnknownValueError, choices, resolve
from atrocity_kg.query.queries import CatalogueQuery, Parameter, former_names, load_catalogue
from atrocity_kg.query.results import Cell, Table
from atrocity_kg.query.sandbox import QueryJob
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import rendering
from atrocity_kg.web.dependencies import MaybeStore, ServingDep, SettingsDep
from atrocity_kg.web.headers import ROW_LIMIT, TRUNCATED, VARY
from atrocity_kg.web.protocol import ProtocolError, get_store
from atrocity_kg.web.serving import Serving
from atrocity_kg.web.views.terms import compact, local_href

Catalogue = Mapping[str, CatalogueQuery]

SPARQL_JSON = "application/sparql-results+json"
SPARQL_QUERY = "application/sparql-query"
JSON = "application/json"
CSV = "text/csv"
HTML = "text/html"
TEXT = "text/plain"

# Output formats by ?format= name, in the order a client with no preference gets them.
RESULT_FORMATS = {"json": SPARQL_JSON, "rows": JSON, "csv": CSV, "html": HTML}
LISTING_FORMATS = {"json": JSON, "html": HTML}
FORMAT_PARAMETER = "format"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SCHEMAS: dict[str, dict[str, str]] = {
    "iri": {"type": "string", "format": "uri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
}


class ParameterInfo(BaseModel):
    name: str
    type: str
    default: str | None
    description: str
    kind: str | None = None
    """The class whose member the value names (its key, label or IRI), for a parameter
    declared by a class; None for a plain IRI, text or number."""


class QueryLinks(BaseModel):
    self: str
    text: str
    html: str
    csv: str


class QueryInfo(BaseModel):
    name: str
    title: str
    description: str
    parameters: list[ParameterInfo]
    links: QueryLinks


class CatalogueListing(BaseModel):
    queries: list[QueryInfo]


def get_catalogue(request: Request) -> Catalogue:
    """The catalogue read when the app was built (never re-read per request)."""
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


# --- content negotiation --------------------------------------------------------------------


def _chosen_format(request: Request, formats: Mapping[str, str]) -> str:
    """The format named by ?format=, else the one the Accept header prefers."""
    named = request.query_params.getlist(FORMAT_PARAMETER)
    if named:
        if len(named) > 1 or named[0] not in formats:
            raise HTTPException(
                400, f"format must be one of {', '.join(formats)}; got {', '.join(named)!r}"
            )
        return named[0]
    media = preferred_media_type(request.headers.get("accept"), list(formats.values()))
    if media is None:
        raise HTTPException(406, f"acceptable media types: {', '.join(formats.values())}")
    return next(name for name, value in formats.items() if value == media)


# --- HTML -----------------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
# Datatypes whose values a table aligns right, as numbers.
NUMERIC = frozenset(
    ("integer", "decimal", "double", "float", "long", "int", "short", "nonNegativeInteger")
)
# The other formats of a query's results, as its page links them.
OTHER_FORMATS = (("json", "SPARQL JSON"), ("rows", "JSON rows"), ("csv", "CSV"))


@dataclass(frozen=True)
class ShownValue:
    """A result value as a page shows it. An IRI reads compacted (``akg:Study``,
    ``id/tool/mediation``) with the full IRI on hover, and links where terms.local_href
    says (ours to this server's /id/, other web IRIs as they are, never another scheme); a
    typed literal shows its datatype on hover, a tagged one carries its language."""

    text: str
    kind: str
    href: str | None = None
    title: str | None = None
    lang: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class ShownTable:
    columns: list[str]
    rows: list[list[ShownValue | None]]

    @property
    def numeric(self) -> list[bool]:
        """Per column: is every value in it a number (so that its heading aligns with them)?"""
        columns = []
        for i in range(len(self.columns)):
            values = [value for row in self.rows if (value := row[i]) is not None]
            columns.append(bool(values) and all(value.numeric for value in values))
        return columns


def shown_value(cell: Cell) -> ShownValue:
    if cell.type == "uri":
        return ShownValue(compact(cell.value), "iri", local_href(cell.value), cell.value)
    if cell.type == "bnode":
        return ShownValue(f"_:{cell.value}", "bnode")
    numeric = cell.datatype is not None and cell.datatype.removeprefix(XSD) in NUMERIC
    return ShownValue(cell.value, "literal", title=cell.datatype, lang=cell.lang, numeric=numeric)


def shown_table(table: Table) -> ShownTable:
    return ShownTable(
        list(table.variables),
        [
            [shown_value(row[name]) if name in row else None for name in table.variables]
            for row in table.rows
        ],
    )


@dataclass(frozen=True)
class Option:
    """One member of a parameter's class in its picker: its key is what the form sends."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FormField:
    """A parameter as a form shows it: a picker of its class's members (``options``), else a
    text field; the value asked for, else its default."""

    name: str
    type: str
    label: str
    value: str
    required: bool
    options: list[Option]


@dataclass(frozen=True)
class QueryForm:
    """One question's form: where it is sent and its fields (``ident`` keeps the ids of the
    listing's many forms apart)."""

    ident: str
    action: str
    fields: list[FormField]


Members = Mapping[str, list[Choice]]
"""Each class's members, by class IRI."""


def members_of(
    store: GraphStore | None, parameters: Iterable[Parameter]
) -> dict[str, list[Choice]]:
    """The members of each class the parameters are declared by, read once per class."""
    found: dict[str, list[Choice]] = {}
    if store is None:
        return found
    for parameter in parameters:
        if parameter.of_class is not None and parameter.of_class not in found:
            found[parameter.of_class] = choices(store, parameter.of_class)
    return found


def _form_field(parameter: Parameter, value: str, members: Members) -> FormField:
    described = parameter.description or parameter.name
    options: list[Option] = []
    known = members.get(parameter.of_class or "")
    if known is not None:
        try:
            chosen = resolve(parameter, value, known).iri if value else None
        except UnknownValueError:
            chosen = None
        options = [Option(c.key, c.label, c.iri == chosen) for c in known]
    return FormField(
        parameter.name,
        parameter.type,
        described[:1].upper() + described[1:],
        value,
        parameter.default is None,
        options,
    )


def query_form(
    entry: CatalogueQuery, action: str, values: Mapping[str, str], members: Members, ident: str
) -> QueryForm:
    fields = [
        _form_field(p, values.get(p.name, p.default or ""), members) for p in entry.parameters
    ]
    return QueryForm(ident, action, fields)


def editor_url(text: str, name: str) -> str:
    """The home page's editor opening ``text`` in a tab called ``name`` (YASGUI reads a query
    from the page's fragment; spaces as %20, which it decodes, never as +)."""
    return "/#" + urlencode({"query": text, "tabTitle": name}, quote_via=quote)


def _listing_html(
    request: Request, listing: CatalogueListing, catalogue: Catalogue, store: GraphStore | None
) -> HTMLResponse:
    json_url = str(
        request.url_for("list_queries").include_query_params(**{FORMAT_PARAMETER: "json"})
    )
    members = members_of(store, (p for e in catalogue.values() for p in e.parameters))
    forms = {
        entry.name: query_form(
            entry,
            str(request.url_for("catalogue_query", name=entry.name)),
            {},
            members,
            f"{entry.name}-",
        )
        for entry in catalogue.values()
    }
    return rendering.page(
        "queries.html",
        headers=VARY,
        listing=listing,
        forms=forms,
        format_parameter=FORMAT_PARAMETER,
        json_url=json_url,
    )


def _results_html(
    request: Request,
    entry: CatalogueQuery,
    values: Mapping[str, str],
    bound: Bound,
    table: Table,
    answer_headers: Mapping[str, str],
) -> HTMLResponse:
    formats = [
        (
            label,
            str(request.url.include_query_params(**{FORMAT_PARAMETER: name})),
            RESULT_FORMATS[name],
        )
        for name, label in OTHER_FORMATS
    ]
    truncated = TRUNCATED in answer_headers
    return rendering.page(
        "query.html",
        headers=VARY,
        entry=entry,
        form=query_form(entry, request.url.path, values, bound.members, ""),
        format_parameter=FORMAT_PARAMETER,
        sparql=bound.text,
        editor_url=editor_url(bound.text, entry.name),
        formats=formats,
        text_url=str(request.url_for("query_text", name=entry.name)),
        listing_url=str(request.url_for("list_queries")),
        table=shown_table(table),
        row_limit=answer_headers.get(ROW_LIMIT) if truncated else None,
    )


# --- running a query ------------------------------------------------------------------------


def _parameter_values(request: Request) -> dict[str, str]:
    """The query string, less ``format``; a parameter given twice is refused, not guessed."""
    values: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name == FORMAT_PARAMETER:
            continue
        if name in values:
            raise HTTPException(400, f"parameter {name!r} is given more than once")
        values[name] = value
    return values


@dataclass(frozen=True)
class Bound:
    """A query with the request's values bound: its text, and the members of the classes its
    parameters are declared by (for the pickers)."""

    text: str
    members: Members


def bind(entry: CatalogueQuery, values: Mapping[str, str], store: GraphStore) -> Bound:
    """The query's text with the values bound, each value of a class-declared parameter first
    resolved to its member's IRI (400 for a value of the wrong type, 404 for one that names no
    member, with the closest)."""
    members = members_of(store, entry.parameters)
    resolved = dict(values)
    try:
        for parameter in entry.parameters:
            value = values.get(parameter.name, parameter.default)
            if parameter.of_class is not None and value is not None:
                known = members[parameter.of_class]
                resolved[parameter.name] = resolve(parameter, value, known).iri
        return Bound(entry.bound_text(resolved), members)
    except UnknownValueError as error:
        raise HTTPException(404, str(error)) from None
    except QueryError as error:
        raise HTTPException(400, str(error)) from None


async def _run(
    text: str, entry: CatalogueQuery, settings: Settings, serving: Serving
) -> tuple[Table, Mapping[str, str]]:
    """Run the bound query where users' queries run (stopped at the time limit, cut at the row
    limit): its table and the headers that say whether it was cut."""
    job = QueryJob(text, formats=("json",), max_rows=settings.max_result_rows)
    try:
        return await serving.table(job)
    except ProtocolError as error:
        if error.status == 400:  # the catalogue's own text is at fault, not the client
            raise HTTPException(500, f"catalogue query {entry.name!r} failed") from None
        raise HTTPException(error.status, error.message, error.headers) from None


async def answer_query(
    request: Request,
    entry: CatalogueQuery,
    store: GraphStore,
    settings: Settings,
    serving: Serving,
) -> Response:
    """Run one catalogue query with the request's parameters, in the negotiated format."""
    chosen = _chosen_format(request, RESULT_FORMATS)
    values = _parameter_values(request)
    bound = bind(entry, values, store)
    table, answer_headers = await _run(bound.text, entry, settings, serving)
    headers = dict(VARY)
    headers.update((k, v) for k, v in answer_headers.items() if k.startswith("Atrocity-KG-"))
    if chosen == "html":
        page = _results_html(request, entry, values, bound, table, answer_headers)
        page.headers.update(headers)
        return page
    if chosen == "csv":
        headers["Content-Disposition"] = f'inline; filename="{entry.name}.csv"'
        return Response(table.to_csv(), media_type=CSV, headers=headers)
    if chosen == "rows":
        rows = {"variables": table.variables, "rows": table.plain_rows()}
        return JSONResponse(rows, headers=headers)
    return Response(table.to_json(), media_type=SPARQL_JSON, headers=headers)


def _moved(request: Request, url: Any) -> RedirectResponse:
    """A permanent redirect from a query's former name, the client's query string kept."""
    target = str(url)
    if request.url.query:
        target = f"{target}?{request.url.query}"
    return RedirectResponse(target, status_code=308)


def _unknown(name: str, catalogue: Catalogue) -> HTTPException:
    return HTTPException(
        404, f"no catalogue query {name!r}; the catalogue has: {', '.join(sorted(catalogue))}"
    )


# --- OpenAPI --------------------------------------------------------------------------------


def _default_value(parameter: Parameter) -> str | int | float | None:
    if parameter.default is None:
        return None
    if parameter.type == "integer":
        return int(parameter.default)
    if parameter.type == "decimal":
        return float(parameter.default)
    return parameter.default


def _openapi_parameters(entry: CatalogueQuery) -> list[dict[str, Any]]:
    """The query's typed parameters for the OpenAPI document (FastAPI cannot infer them, as the
    handler reads the query string itself to answer 400, not 422, naming the parameter)."""
    described = []
    for parameter in entry.parameters:
        schema: dict[str, Any] = dict(_SCHEMAS[parameter.type])
        description = parameter.description or parameter.name
        if parameter.of_class is not None:
            # A key or a label is no URI: the value is any text naming a member.
            schema = {"type": "string"}
            description += (
                f" (a member of <{parameter.of_class}>: its key, the last part of its IRI, "
                "its label or its full IRI)"
            )
        if parameter.default is not None:
            schema["default"] = _default_value(parameter)
        described.append(
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.default is None,
                "description": description,
                "schema": schema,
            }
        )
    described.append(
        {
            "name": FORMAT_PARAMETER,
            "in": "query",
            "required": False,
            "description": "output format; overrides the Accept header",
            "schema": {"type": "string", "enum": list(RESULT_FORMATS)},
        }
    )
    return described


_RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the results: SPARQL JSON, JSON rows, CSV or an HTML table",
        "content": {media: {} for media in RESULT_FORMATS.values()},
    },
    400: {
        "description": "a parameter that the query does not declare, or a value not of its type",
        "content": {JSON: {}},
    },
    404: {
        "description": "a value that names no member of its parameter's class; the message "
        "names the closest members",
        "content": {JSON: {}, HTML: {}},
    },
    406: {"description": "none of the result formats is acceptable", "content": {JSON: {}}},
    429: {
        "description": "too many requests from this client: wait as Retry-After says",
        "content": {TEXT: {}},
    },
    503: {
        "description": "the query ran past the time limit, or every worker is busy "
        "(with Retry-After)",
        "content": {JSON: {}},
    },
}


def _check(entry: CatalogueQuery) -> None:
    """Refuse at start-up what would make a route ambiguous or a default unusable."""
    if not _NAME.match(entry.name):
        raise QueryError(f"catalogue query {entry.name!r}: a name is letters, digits, - and _")
    for parameter in entry.parameters:
        if parameter.name == FORMAT_PARAMETER:
            raise QueryError(f"catalogue query {entry.name!r}: 'format' is a reserved parameter")
        if parameter.default is not None:
            parameter.term(parameter.default)


def _endpoint_for(name: str) -> Callable[..., Awaitable[Response]]:
    """The handler of one query's own route; it finds the query in the app's catalogue."""

    async def endpoint(
        request: Request,
        catalogue: Annotated[Catalogue, Depends(get_catalogue)],
        store: Annotated[GraphStore, Depends(get_store)],
        settings: SettingsDep,
        serving: ServingDep,
    ) -> Response:
        return await answer_query(request, catalogue[name], store, settings, serving)

    return endpoint


# --- the router -----------------------------------------------------------------------------


def build_router(catalogue: Catalogue) -> APIRouter:
    """The routes for one catalogue: listing, query texts, one route per query, then the 404."""
    router = APIRouter(tags=["queries"])
    former = former_names(catalogue)

    @router.get(
        "/queries",
        name="list_queries",
        summary="The catalogue of research questions",
        response_model=CatalogueListing,
        responses={200: {"content": {HTML: {}}}, 406: {"description": "no acceptable format"}},
    )
    def list_queries(
        request: Request,
        catalogue: Annotated[Catalogue, Depends(get_catalogue)],
        store: MaybeStore,
    ) -> Response:
        """Every catalogue query with its parameters and links; JSON, or HTML by Accept or
        ?format=html (each question with a form, its pickers filled from the store)."""
        chosen = _chosen_format(request, LISTING_FORMATS)
        listing = CatalogueListing(queries=[_info(request, e) for e in catalogue.values()])
        if chosen == "html":
            return _listing_html(request, listing, catalogue, store)
        return JSONResponse(listing.model_dump(mode="json"), headers=VARY)

    @router.get(
        "/queries/{name}.rq",
        name="query_text",
        summary="The SPARQL text of a catalogue query",
        response_class=Response,
        responses={200: {"content": {SPARQL_QUERY: {}, TEXT: {}}}, 404: {}},
    )
    def query_text(
        request: Request, name: str, catalogue: Annotated[Catalogue, Depends(get_catalogue)]
    ) -> Response:
        """The file as written, header included (text/plain unless application/sparql-query is
        asked for, so that a browser shows it)."""
        if name in former:
            return _moved(request, request.url_for("query_text", name=former[name]))
        if name not in catalogue:
            raise _unknown(name, catalogue)
        media = preferred_media_type(request.headers.get("accept"), [TEXT, SPARQL_QUERY]) or TEXT
        return Response(
            catalogue[name].text,
            media_type=f"{media}; charset=utf-8",
            headers=VARY,
        )

    for name, entry in catalogue.items():
        _check(entry)
        router.add_api_route(
            f"/queries/{name}",
            _endpoint_for(name),
            methods=["GET"],
            name=f"query:{name}",
            operation_id=f"query_{name.replace('-', '_')}",
            summary=entry.title,
            description=entry.description,
            response_class=Response,
            responses=_RESULT_RESPONSES,
            openapi_extra={"parameters": _openapi_parameters(entry)},
        )

    @router.get("/queries/{name}", name="catalogue_query", include_in_schema=False)
    def catalogue_query(
        request: Request, name: str, catalogue: Annotated[Catalogue, Depends(get_catalogue)]
    ) -> Response:
        """Reached only by names without their own route: a query's former name is redirected
        to its route, any other gets a 404 naming the catalogue's queries.

        Registered last so that each query keeps its own, documented operation; it also names the
        URL pattern the listing's links are built from.
        """
        if name in former:
            return _moved(request, request.url_for("catalogue_query", name=former[name]))
        raise _unknown(name, catalogue)

    return router


def _info(request: Request, entry: CatalogueQuery) -> QueryInfo:
    own = request.url_for("catalogue_query", name=entry.name)
    return QueryInfo(
        name=entry.name,
        title=entry.title,
        description=entry.description,
        parameters=[
            ParameterInfo(
                name=p.name,
                type=p.type,
                default=p.default,
                description=p.description,
                kind=p.of_class,
            )
            for p in entry.parameters
        ],
        links=QueryLinks(
            self=str(own),
            text=str(request.url_for("query_text", name=entry.name)),
            html=str(own.include_query_params(**{FORMAT_PARAMETER: "html"})),
            csv=str(own.include_query_params(**{FORMAT_PARAMETER: "csv"})),
        ),
    )


def catalogue_router(app: FastAPI) -> APIRouter:
    """Read the catalogue of the app's settings once, keep it on ``app.state``, and route it."""
    settings: Settings = app.state.settings
    catalogue = load_catalogue(settings.queries_dir)
    app.state.catalogue = catalogue
    return build_router(catalogue)
