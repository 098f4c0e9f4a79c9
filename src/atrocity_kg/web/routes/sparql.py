"""/sparql: the SPARQL 1.1 Protocol (query operation only) and the service description.

Queries come by GET (``?query=``), by POST of a form (``query=``) or by POST of the query itself
(``Content-Type: application/sparql-query``), with the dataset given by ``default-graph-uri`` and
``named-graph-uri`` (https://www.w3.org/TR/sparql11-protocol/#query-operation). Answers are
negotiated (``negotiation.py``) and streamed (``protocol.py``). The service is read-only: an
update is refused. GET without a query answers the SPARQL 1.1 Service Description.

The project's own prefixes (``namespaces.PREFIXES``: ``akg:``, ``skos:``, ``dct:`` ...) are
declared for a query that uses one without declaring it, as the command line and the home page's
editor do, so that a name copied from a page (``akg:Study``) works as written; a query that
declares a prefix itself keeps its own, and one that needs none is sent as it came. Any other
undeclared prefix is a 400 naming it and the line to add (docs/querying.md says why).

The dataset of a query, most specific first:

- the protocol's ``default-graph-uri`` / ``named-graph-uri`` (they override FROM and FROM NAMED,
  as the protocol says; with only one of them given, the other part of the dataset is empty);
- else the query's own FROM / FROM NAMED;
- else the default graph is the union of all named graphs (``sd:UnionDefaultGraph``) and every
  named graph can be reached with GRAPH.

Relative IRIs in a query without BASE are resolved against the endpoint's URL as the client
addressed it (scheme, host, path: the URL the service description gives as ``sd:endpoint``), the
URL the query was retrieved from in RFC 3986's terms. A query body must be UTF-8, the only charset
the protocol allows: a body declaring another is refused (415) rather than decoded.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import URL, QueryParams

from atrocity_kg.config import Settings
from atrocity_kg.model.namespaces import PREFIXES
from atrocity_kg.model.negotiation import (
    FORMATS,
    FORMATS_NS,
    RDF_FORMATS,
    Format,
    NotAcceptableError,
    UnknownFormatError,
    negotiate,
)
from atrocity_kg.query import sparql
from atrocity_kg.query.netguard import ForbiddenDestinationError, check_destination
from atrocity_kg.query.sandbox import Failure, Message, QueryJob
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.dependencies import get_serving, get_settings
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.protocol import (
    PlainErrorRoute,
    Plan,
    ProtocolError,
    get_store,
    read_body,
    relay,
    stream,
)
from atrocity_kg.web.serving import Serving

router = APIRouter(tags=["sparql"], route_class=PlainErrorRoute)

SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted"
NO_FEDERATION = "SERVICE is not supported: this endpoint does not query other endpoints"

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SD_PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS_NS, "rdf": RDF, "xsd": XSD}


# --- the request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """The protocol's RDF dataset parameters, as absolute IRIs (checked on arrival)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @classmethod
    def from_parameters(cls, default: Iterable[str], named: Iterable[str]) -> Dataset:
        dataset = cls(tuple(default), tuple(named))
        for iri in (*dataset.default_graphs, *dataset.named_graphs):
            try:
                ox.NamedNode(iri)
            except ValueError as error:
                raise ProtocolError(400, f"not an absolute IRI: {iri!r} ({error})") from None
        return dataset

    @property
    def given(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)

    def query_arguments(self, text: str) -> dict[str, Any]:
        """The dataset arguments of ``Store.query`` for this query (see the module's notes)."""
        if self.given:
            return {
                "default_graph": [ox.NamedNode(iri) for iri in self.default_graphs],
                "named_graphs": [ox.NamedNode(iri) for iri in self.named_graphs],
            }
        if declares_dataset(text):
            # pyoxigraph ignores FROM when asked for the union default graph.
            return {}
        return {"use_default_graph_as_union": True}


# Strings, IRIs and comments, which may contain any word; then words; then anything else. A
# string always matches, up to its closing quote or wherever an unterminated one stops (the
# parser rejects those anyway), so no text is scanned twice and the scan is linear on any input.
_TOKENS = re.compile(
    r"""
    (?P<masked>
        \"\"\"(?:[^"\\]|\\.|"(?!""))*+(?:\"\"\")?
      | '''(?:[^'\\]|\\.|'(?!''))*+(?:''')?
      | "(?:[^"\\\n\r]|\\.)*+"?
      | '(?:[^'\\\n\r]|\\.)*+'?
      | <[^<>"{}|^`\\\x00-\x20]*+>
      | \#[^\n\r]*+
    )
    | (?P<word>[^\s{}()\[\],;<>"'\#=!&|+*/^]++)
    | .
    """,
    re.VERBOSE | re.DOTALL,
)
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)


def _words(text: str) -> Iterator[str]:
    """The bare words of a SPARQL text (keywords, names, variables), outside strings, IRIs and
    comments: enough to see its form without a second parser."""
    for match in _TOKENS.finditer(text):
        if match.group("word"):
            yield match.group("word")


@lru_cache(maxsize=256)
def keywords(text: str) -> frozenset[str]:
    """The query's words in upper case, scanned once per text (the same catalogue queries come
    again and again, and each request asks two questions of them)."""
    return frozenset(word.upper() for word in _words(text))


def declares_dataset(text: str) -> bool:
    """Does the query have a FROM or FROM NAMED clause?"""
    return "FROM" in keywords(text)


def calls_service(text: str) -> bool:
    """Does the query use SERVICE? pyoxigraph would fetch the IRI it names, letting anyone
    make this server send HTTP requests where they like; federation is not offered."""
    return "SERVICE" in keywords(text)


def looks_like_update(text: str) -> bool:
    """Does the text, after its prologue, start as a SPARQL Update would?"""
    words = _words(text)
    for word in words:
        keyword = word.upper()
        if keyword == "PREFIX":
            next(words, None)  # the prefix name; its IRI is not a word
        elif keyword != "BASE":
            return keyword in UPDATE_KEYWORDS
    return False


_PREFIXED_NAME = re.compile(r"^(?P<prefix>(?:[A-Za-z][\w.-]*)?):")
_POSITION = re.compile(r"\bat (?P<line>\d+):(?P<column>\d+)")


def prefixes_of(text: str) -> tuple[set[str], set[str]]:
    """The prefixes a query declares, and those its prefixed names use (outside strings, IRIs
    and comments; ``_:`` blank nodes are no prefix)."""
    declared: set[str] = set()
    used: set[str] = set()
    words = _words(text)
    for word in words:
        if word.upper() == "PREFIX":
            name = next(words, "")
            declared.add(name.split(":", 1)[0])
            continue
        match = _PREFIXED_NAME.match(word)
        if match is not None and not word.startswith("_:"):
            used.add(match.group("prefix"))
    return declared, used


@dataclass(frozen=True)
class Prologue:
    """The PREFIX lines put before a client's query for the project's prefixes it uses and
    does not declare, and the undeclared prefixes that are not the project's."""

    lines: str
    unknown: tuple[str, ...]

    @property
    def added(self) -> int:
        return self.lines.count("\n")

    def explain(self, message: str) -> str:
        """The parser's message with its positions in the client's own lines; for a query with
        an undeclared prefix, what to add instead of the parser's list of expected characters."""
        if self.added:

            def shifted(match: re.Match[str]) -> str:
                line = max(1, int(match.group("line")) - self.added)
                return f"at {line}:{match.group('column')}"

            message = _POSITION.sub(shifted, message)
        if not self.unknown or "prefix" not in message.lower():
            return message
        where = _POSITION.search(message)
        lines = "; ".join(f"PREFIX {prefix}: <its namespace IRI>" for prefix in self.unknown)
        names = ", ".join(f"'{prefix}:'" for prefix in self.unknown)
        several = len(self.unknown) > 1
        return (
            f"malformed query{' ' + where.group(0) if where else ''}: the "
            f"{'prefixes' if several else 'prefix'} {names} {'are' if several else 'is'} used "
            f"but not declared; add {'these lines' if several else 'this line'} at the top of "
            f"the query: {lines} (the project's own prefixes need no line: "
            f"{', '.join(PREFIXES)})"
        )


@lru_cache(maxsize=256)
def prologue_for(text: str) -> Prologue:
    """Scanned once per text, as ``keywords`` is (a scan of a catalogue query took about as
    long as its worker's round trip)."""
    declared, used = prefixes_of(text)
    missing = sorted(used - declared)
    lines = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing if p in PREFIXES)
    return Prologue(lines, tuple(p for p in missing if p not in PREFIXES))


def _refuse_update(parameters: Mapping[str, list[str]]) -> None:
    if "update" in parameters:
        raise ProtocolError(400, READ_ONLY)


def _one_query(values: list[str]) -> str:
    if not values:
        raise ProtocolError(400, "missing 'query' parameter")
    if len(values) > 1:
        raise ProtocolError(400, "more than one 'query' parameter")
    if not values[0].strip():
        raise ProtocolError(400, "empty 'query' parameter")
    return values[0]


def content_type(request: Request) -> tuple[str, dict[str, str]]:
    media, *params = (part.strip() for part in request.headers.get("content-type", "").split(";"))
    options = {}
    for param in params:
        key, _, value = param.partition("=")
        options[key.strip().lower()] = value.strip().strip('"')
    return media.lower(), options


def _check_charset(media: str, options: Mapping[str, str]) -> None:
    """A query body is UTF-8, the only charset the protocol allows (for a form too: its
    percent-encoded bytes are UTF-8). A body declared in another is refused, not decoded: a
    server that decoded it would accept what other endpoints refuse."""
    charset = options.get("charset")
    if charset is not None and charset.lower() != "utf-8":
        raise ProtocolError(
            415,
            f"unsupported charset {charset!r} in the {media} body: "
            "the SPARQL Protocol takes queries in UTF-8 only",
        )


def body_limit(settings: Settings) -> int:
    """The largest body a query may come in: room for a percent-encoded query and parameters."""
    return 3 * settings.max_query_bytes + 64 * 1024


async def _body(request: Request, settings: Settings) -> bytes:
    return await read_body(request, body_limit(settings))


@dataclass(frozen=True)
class PostedQuery:
    """A query sent by POST, either way, with the parameters that came with it."""

    text: str
    dataset: Dataset
    formats: tuple[str, ...]


async def read_post(request: Request, settings: Settings) -> PostedQuery:
    """Read a POSTed query: a form (parameters in the body, and in the URL too) or the query
    itself as the body (parameters in the URL)."""
    url = url_parameters(request)
    _refuse_update(url)
    media, options = content_type(request)
    if media == SPARQL_QUERY:
        if "query" in url:
            raise ProtocolError(400, "the query is the request body: no 'query' parameter too")
        _check_charset(media, options)
        try:
            text = (await _body(request, settings)).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the query is not UTF-8: {error}") from None
        parameters = url
        text = _one_query([text])
        check_size(text, settings)
    elif media == FORM:
        _check_charset(media, options)
        try:
            body = await _body(request, settings)
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the form is not UTF-8: {error}") from None
        _refuse_update(form)
        parameters = {key: form.get(key, []) + url.get(key, []) for key in {*form, *url}}
        text = _one_query(parameters.get("query", []))
        check_size(text, settings)
    elif media == SPARQL_UPDATE:
        raise ProtocolError(415, READ_ONLY)
    else:
        raise ProtocolError(
            415,
            f"unsupported Content-Type {media or '(none)'!r}: send {SPARQL_QUERY} or {FORM}",
        )
    dataset = Dataset.from_parameters(
        parameters.get("default-graph-uri", []), parameters.get("named-graph-uri", [])
    )
    return PostedQuery(text, dataset, tuple(parameters.get("format", [])))


# --- the answer -------------------------------------------------------------------------------


def choose(offered: tuple[Format, ...], accept: str | None, requested: Iterable[str]) -> Format:
    """Negotiate, answering 406 or 400 in the protocol's way when it fails."""
    try:
        return negotiate(offered, accept, tuple(requested))
    except NotAcceptableError as error:
        raise ProtocolError(406, str(error), VARY) from None
    except UnknownFormatError as error:
        raise ProtocolError(400, str(error), VARY) from None


def service_targets(text: str) -> list[str]:
    """What each SERVICE in the query names, as written: ``<iri>``, a prefixed name or a
    variable (after an optional SILENT)."""
    targets: list[str] = []
    expecting = False
    for match in _TOKENS.finditer(text):
        token = match.group(0)
        if token.isspace() or token.startswith("#"):
            continue
        word = (match.group("word") or "").upper()
        if expecting and word == "SILENT":
            continue
        if expecting:
            targets.append(token)
        expecting = word == "SERVICE"
    return targets


def check_federation(text: str, settings: Settings) -> None:
    """SERVICE is refused unless federation is on; then only allow-listed endpoints written as
    full IRIs, whose host resolves to public addresses only (``netguard``)."""
    if not calls_service(text):
        return
    if not settings.federation:
        raise ProtocolError(400, NO_FEDERATION)
    for target in service_targets(text):
        if not (target.startswith("<") and target.endswith(">")):
            raise ProtocolError(
                400,
                f"SERVICE {target}: name the endpoint as a full IRI in angle brackets; "
                "only these are allowed: " + (", ".join(settings.federation_allow) or "(none)"),
            )
        try:
            check_destination(target[1:-1], settings.federation_allow)
        except ForbiddenDestinationError as error:
            raise ProtocolError(403, f"SERVICE {target} is refused: {error}") from None


def check_size(text: str, settings: Settings, status: int = 413) -> None:
    size = len(text.encode("utf-8"))
    if size > settings.max_query_bytes:
        raise ProtocolError(
            status,
            f"the query is {size} bytes; this endpoint takes queries of at most "
            f"{settings.max_query_bytes} bytes",
        )


def endpoint_url(request: Request) -> str:
    """This endpoint's URL as the client addressed it: scheme, host (from the Host header, or
    from the proxy's headers when uvicorn is told to trust them) and path, without the query."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")  # a list from some servers and test clients
    return _endpoint_url(
        scope.get("scheme", "http"), None if server is None else tuple(server), scope["path"], host
    )


@lru_cache(maxsize=256)
def _endpoint_url(
    scheme: str, server: tuple[str, int | None] | None, path: str, host: bytes | None
) -> str:
    """Made once per way of addressing the endpoint (it took some 8 microseconds a request), by
    Starlette's own reading of a request's URL, from what that reading depends on."""
    scope = {
        "scheme": scheme,
        "server": server,
        "path": path,
        "headers": [] if host is None else [(b"host", host)],
        "query_string": b"",
    }
    return str(URL(scope=scope).replace(query="", fragment=""))


def base_iri(request: Request) -> str | None:
    """What relative IRIs in the request's query resolve against: the endpoint's URL, or None
    when a strange Host header makes no IRI of it (relative IRIs are then refused, as a query
    cannot be said to come from a URL that is no IRI)."""
    return _iri_or_none(endpoint_url(request))


@lru_cache(maxsize=256)
def _iri_or_none(url: str) -> str | None:
    try:
        ox.NamedNode(url)
    except ValueError:
        return None
    return url


async def answer(
    request: Request,
    text: str,
    dataset: Dataset,
    formats: Iterable[str],
    settings: Settings,
    serving: Serving,
) -> Response:
    """Check the query, wait for room to run it, and stream its answer (``sandbox`` writes it,
    in a worker process that is stopped at the time limit)."""
    check_federation(text, settings)
    prologue = prologue_for(text)
    job = QueryJob(
        prologue.lines + text,
        dataset.default_graphs,
        dataset.named_graphs,
        union_default_graph=not declares_dataset(text),
        accept=request.headers.get("accept"),
        formats=tuple(formats),
        max_rows=settings.max_result_rows,
        head=request.method == "HEAD",
        base_iri=base_iri(request),
    )

    async def explained() -> AsyncGenerator[Message, None]:
        """Say so when a malformed query looks like an update: this service is read-only."""
        async with contextlib.aclosing(serving.answer(job)) as messages:
            async for message in messages:
                if isinstance(message, Failure) and message.status == 400:
                    message = replace(message, message=prologue.explain(message.message))
                    if looks_like_update(text):
                        message = replace(message, message=f"{message.message} ({READ_ONLY})")
                yield message

    return await relay(explained(), head=job.head)


# --- the service description ------------------------------------------------------------------


def _select(store: GraphStore, text: str, **arguments: Any) -> ox.QuerySolutions:
    solutions = store.query(text, **arguments)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _sizes(store: GraphStore) -> tuple[int, dict[str, int]]:
    """Distinct triples in the default graph (the union is a set), and triples per graph."""
    (total,) = _select(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
        use_default_graph_as_union=True,
    )
    return int(total["n"].value), sparql.graph_sizes(store)


def service_description(store: GraphStore, endpoint: str) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of this endpoint, with the store's graphs and sizes.

    The default graph's size counts distinct triples, as the union of the named graphs is a set.
    """
    rdf_type = ox.NamedNode(RDF + "type")
    triples_of = ox.NamedNode(VOID + "triples")
    service, dataset, default = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        *(ox.Triple(service, sd("resultFormat"), ox.NamedNode(f.iri)) for f in FORMATS),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, rdf_type, sd("Graph")),
    ]
    total, sizes = _sizes(store)
    triples.append(ox.Triple(default, triples_of, _integer(total)))
    for name, size in sorted(sizes.items()):
        named, graph = ox.BlankNode(), ox.BlankNode()
        triples += [
            ox.Triple(dataset, sd("namedGraph"), named),
            ox.Triple(named, rdf_type, sd("NamedGraph")),
            ox.Triple(named, sd("name"), ox.NamedNode(name)),
            ox.Triple(named, sd("graph"), graph),
            ox.Triple(graph, rdf_type, sd("Graph")),
            ox.Triple(graph, triples_of, _integer(size)),
        ]
    return triples


def sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


async def describe(request: Request, store: GraphStore, formats: Iterable[str]) -> Response:
    accept = request.headers.get("accept")
    endpoint = endpoint_url(request)
    description_format = choose(RDF_FORMATS, accept, formats)

    def write(output: Any) -> None:
        triples = service_description(store, endpoint)
        description_format.write_triples(triples, output, prefixes=SD_PREFIXES)

    return await stream(lambda: Plan(description_format, write), head=request.method == "HEAD")


# --- the routes -------------------------------------------------------------------------------

DATASET_NOTE = (
    "Without `default-graph-uri` and `named-graph-uri` (and without FROM in the query) the "
    "default graph is the union of all named graphs."
)
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SELECT and ASK: SPARQL results (JSON by default; CSV and TSV for SELECT "
        "only). CONSTRUCT and DESCRIBE: RDF (Turtle by default). Chosen by `Accept` or `format`.",
        "content": {f.media_type: {"schema": {"type": "string"}} for f in FORMATS},
    },
    400: {
        "description": "Malformed query (the parser's message), missing or repeated query, "
        "an IRI that is not absolute, an unknown `format`, SERVICE (no federation), or an "
        "update (read-only service)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    403: {
        "description": "A SERVICE endpoint that is not allowed (federation on: docs/security.md)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    406: {
        "description": "No acceptable format can carry this answer",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    414: {
        "description": "A query by GET over the size limit (setting max_query_bytes)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    429: {
        "description": "Too many requests from this client: wait as Retry-After says",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    503: {
        "description": "The query ran past the time limit and was stopped (setting "
        "query_timeout), or every worker is busy and too many queries wait (with Retry-After)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
}


def format_parameter(formats: Iterable[Format]) -> Any:
    """The ``format`` query parameter, documented with the names that apply."""
    return Query(alias="format", description=format_description(formats))


def format_description(formats: Iterable[Format]) -> str:
    return (
        "The answer's format, for links and browsers that cannot set Accept "
        "(it overrides Accept): " + ", ".join(f.name for f in formats)
    )


def _documented(name: str, description: str, *, repeatable: bool) -> dict[str, Any]:
    """A query parameter in OpenAPI's words (the routes read their parameters by hand)."""
    schema: dict[str, Any] = {"type": "string"}
    if repeatable:
        schema = {"type": "array", "items": schema}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **({"style": "form", "explode": True} if repeatable else {}),
    }


QUERY_PARAMETER = _documented("query", "The SPARQL query", repeatable=False)
DATASET_PARAMETERS = [
    _documented(
        "default-graph-uri",
        "A graph of the query's default graph (repeatable). " + DATASET_NOTE,
        repeatable=True,
    ),
    _documented("named-graph-uri", "A named graph of the dataset (repeatable).", repeatable=True),
    _documented("format", format_description(FORMATS), repeatable=True),
]
"""The parameters every /sparql request may carry in its URL, for the API's description."""


def url_parameters(request: Request) -> dict[str, list[str]]:
    """The URL's parameters, each with every value it was given (a dict of the caller's own)."""
    read = query_string_parameters(request.scope.get("query_string", b""))
    return {key: list(values) for key, values in read.items()}


CACHED_QUERY_STRING_BYTES = 16 * 1024
"""A URL's query string up to this size is read once (``query_string_parameters``): the
catalogue's queries fit several times over, and the cache holds at most 256 of them."""


def query_string_parameters(query_string: bytes) -> Mapping[str, tuple[str, ...]]:
    """A URL's parameters as Starlette reads them (``QueryParams``: percent-decoded as UTF-8,
    blank values kept), each with its values in order. The same catalogue queries come again
    and again, and reading one's URL took some 30 microseconds a request: a short one is read
    once, for the endpoint and for the validator of its answer (``caching``) alike."""
    if len(query_string) > CACHED_QUERY_STRING_BYTES:
        return _read_query_string(query_string)
    return _read_query_string_cached(query_string)


def _read_query_string(query_string: bytes) -> Mapping[str, tuple[str, ...]]:
    read = QueryParams(query_string)
    return MappingProxyType({key: tuple(read.getlist(key)) for key in read})


_read_query_string_cached = lru_cache(maxsize=256)(_read_query_string)


GET_DOC = (
    "SPARQL 1.1 Protocol query by GET (HEAD: the same headers, no body). Without `query`, the "
    "answer is the SPARQL 1.1 Service Description of this endpoint (Turtle by default, any RDF "
    "format by negotiation). " + DATASET_NOTE
)


@router.get(
    "/sparql",
    summary="Run a SPARQL query, or describe the service",
    description=GET_DOC,
    response_class=Response,
    responses=ANSWERS,
    operation_id="sparql_get",
    openapi_extra={"parameters": [QUERY_PARAMETER, *DATASET_PARAMETERS]},
)
@router.head(
    "/sparql",
    summary="Headers of a query's answer, or of the service description",
    description=GET_DOC,
    response_class=Response,
    responses=ANSWERS,
    operation_id="sparql_head",
    openapi_extra={"parameters": [QUERY_PARAMETER, *DATASET_PARAMETERS]},
)
async def sparql_get(request: Request) -> Response:
    # The parameters are read here, not declared to FastAPI: solving them as dependencies cost
    # about a tenth of a millisecond a request, as much as a small query's evaluation.
    parameters = url_parameters(request)
    _refuse_update(parameters)
    formats = parameters.get("format", [])
    if "query" not in parameters:
        return await describe(request, await get_store(request), formats)
    settings = await get_settings(request)
    text = _one_query(parameters["query"])
    check_size(text, settings, status=414)
    dataset = Dataset.from_parameters(
        parameters.get("default-graph-uri", []), parameters.get("named-graph-uri", [])
    )
    serving = await get_serving(request)
    return await answer(request, text, dataset, formats, settings, serving)


@router.post(
    "/sparql",
    summary="Run a SPARQL query sent by POST",
    description=f"The query as a form (`{FORM}`: `query`, `default-graph-uri`, "
    f"`named-graph-uri`, `format`) or as the body itself (`{SPARQL_QUERY}`, the dataset and "
    "format in the URL). Updates are refused: this service is read-only. " + DATASET_NOTE,
    response_class=Response,
    operation_id="sparql_post",
    responses={
        **ANSWERS,
        413: {
            "description": "The query is over the size limit (setting max_query_bytes)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        415: {
            "description": "Any other Content-Type (SPARQL Update included), or a charset "
            "other than UTF-8",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    },
    openapi_extra={
        "parameters": DATASET_PARAMETERS,
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "format": {"type": "string"},
                        },
                    }
                },
                SPARQL_QUERY: {"schema": {"type": "string"}},
            },
        },
    },
)
async def sparql_post(request: Request) -> Response:
    settings = await get_settings(request)
    posted = await read_post(request, settings)
    serving = await get_serving(request)
    return await answer(request, posted.text, posted.dataset, posted.formats, settings, serving)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False)
async def sparql_other(request: Request) -> Response:
    """Say which methods there are (Starlette would name only the first route's)."""
    allow = {"Allow": "GET, HEAD, POST, OPTIONS"}
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=allow)
    raise ProtocolError(405, f"{request.method} is not allowed: {READ_ONLY}", allow)
