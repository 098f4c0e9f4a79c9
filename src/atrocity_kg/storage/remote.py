"""A remote SPARQL 1.1 store in place of the embedded one, for data that outgrows one machine.

The app reads its store through four calls of pyoxigraph's ``Store``: ``query`` (with the union
default graph, an explicit dataset, or substitutions), ``quads_for_pattern`` and
``named_graphs``. ``RemoteStore`` answers the same calls over the SPARQL 1.1 Protocol, so every
route and page works unchanged on Oxigraph server, Apache Jena Fuseki, Virtuoso or GraphDB.

The union default graph: the embedded store answers a query over the union of its named graphs.
A remote store is asked for that in one of two ways (``Settings.remote_union``):

- ``protocol`` (the default, standard): every named graph is sent as a ``default-graph-uri`` and
  a ``named-graph-uri``, so the query sees their merge as its default graph and each by name;
  the list of graphs is read from the store once, then read again in the background (see
  ``RemoteStore.graph_names``), so that no request waits for it;
- ``native``: the store's own default graph already is the union (Oxigraph server started with
  ``--union-default-graph``, Fuseki with ``tdb2:unionDefaultGraph true``, GraphDB and Virtuoso
  as they come), so nothing is sent and requests stay short.

Bound values are sent as a VALUES block at the top of the query's outer WHERE group (terms built
by pyoxigraph, never pasted into patterns). Blank nodes cannot be named across requests, so
``quads_for_pattern`` with a blank node finds nothing.

A base IRI (pyoxigraph's ``base_iri``: for a client's query, the URL of our endpoint) cannot be
sent as a parameter of the protocol: it goes as a BASE declaration in front of the query, the
standard way, and only when the query has a relative IRI to resolve (the remote parser's line
numbers matter little: the query was parsed here first, see below). A query's own BASE wins
over ours; a relative one is resolved against ours, as RFC 3986 says. Some stores (Virtuoso)
take one BASE only, in front of every PREFIX: a query with BASE declarations of its own has the
IRIs of its prologue made absolute here (by pyoxigraph, as the embedded store resolves them)
and one BASE in front.

Every query is first parsed here by pyoxigraph's parser, as the embedded store parses it: a
client's mistake is refused with the same message (and line and column) on every engine, and a
prefix the remote store happens to predeclare (Virtuoso knows dozens) is not declared for the
client's query, as it is not on the embedded store.

DESCRIBE: pyoxigraph (and the Oxigraph server) answer a resource's Concise Bounded Description
(its triples as subject, and those of the blank nodes they reach); Virtuoso by default also
gives the triples that name it as object. Told that a store is Virtuoso by its ``Server``
header, a DESCRIBE is sent with Virtuoso's ``define sql:describe-mode "CBD"`` in front.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pyoxigraph as ox

from atrocity_kg.config import UnionMode
from atrocity_kg.errors import StoreError
from atrocity_kg.model.namespaces import GRAPH
from atrocity_kg.model.negotiation import N_TRIPLES, SPARQL_XML
from atrocity_kg.query.queries import with_values

GRAPHS_TTL = 30.0
"""The least time between two readings of the list of graphs."""
LISTING_SHARE = 0.05
"""The most of the store's time the background listing may take: on Virtuoso it reads an index
of every subject (21 s at 10^7 triples, docs/scaling.md), so it is read again no sooner than 20
times its last duration."""
RESULTS = SPARQL_XML.media_type
"""Results are asked for as XML: Virtuoso 7.2 writes an xsd:boolean as "1" or "0" in its JSON
results (and "true" or "false", as stored, in XML)."""
TRIPLES = N_TRIPLES.media_type
ACCEPT = f"{RESULTS}, {TRIPLES};q=0.9"
"""For a query whose form is not recognised. Virtuoso weighs only the first type it is offered
(a CONSTRUCT asked for results first is a 406): a query's form chooses one type (``_accept``)."""
# A query's form: the keyword after its prologue (white space, comments, PREFIX and BASE
# declarations), each part matched where the last ended, so the scan is linear in any text.
_PROLOGUE_PART = re.compile(
    r"\s+|#[^\n]*|(?i:prefix)\s*[^\s:<>]*:\s*<[^<>\s]*>|(?i:base)\s*<[^<>\s]*>"
)
_FORM = re.compile(r"(select|ask|construct|describe)(?![\w:.-])", re.IGNORECASE)
GRAPH_BASE = str(GRAPH)
"""The project's graphs are named under this IRI; a store's other graphs (Virtuoso's own system
graphs, say) are not part of the union the app reads."""

log = logging.getLogger(__name__)

Term = ox.NamedNode | ox.BlankNode | ox.Literal
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
QueryAnswer = ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]

NO_GRAPH = "urn:x-atrocity-kg:no-graph"
"""Named for a part of a query's dataset that is to be empty."""
GRAPH_NAMES = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
GRAPH_NAMES_BY_TRIPLES = (
    "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
    f'FILTER(STRSTARTS(STR(?g), "{GRAPH_BASE}")) }}'
)
"""For stores (Virtuoso) where ``GRAPH ?g { }`` matches none of the project's graphs: the graphs
with a triple. The filter on the name is what makes it quick on Virtuoso (0.2 s, against 10 s
without, for 150k triples on two cores): it reads the graphs' index rather than every quad."""
_VIRTUOSO_BNODE = b"<bnode>nodeID://"
"""Virtuoso names a blank node ``nodeID://b123`` in its results, which is no blank node label:
the prefix is dropped as the answer streams through."""
QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
VIRTUOSO_CBD = 'define sql:describe-mode "CBD"'
"""Virtuoso's pragma for a DESCRIBE answered as pyoxigraph answers it (see the module's notes)."""
_SERVICE = re.compile(r"(?i)\bservice\b")
_PARSER = ox.Store()
_ANY_BASE = "http://localhost/"
"""An empty store in memory: parses queries (and resolves IRIs) as the embedded store does."""

# SPARQL's IRIREF token, and the scheme that makes an IRI absolute (RFC 3987).
_IRI_REF = re.compile(r"<([^<>\"{}|^`\\\x00-\x20]*)>")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class GraphListing:
    """The project's graphs as read at ``read_at`` (the store's clock), in ``took`` seconds."""

    names: tuple[str, ...]
    read_at: float
    took: float

    @property
    def due(self) -> float:
        """When to read the list again: GRAPHS_TTL after, and no sooner than LISTING_SHARE
        allows."""
        return self.read_at + max(GRAPHS_TTL, self.took / LISTING_SHARE)

    def retried(self, now: float) -> GraphListing:
        """The same names, due again a GRAPHS_TTL from now (a reading failed)."""
        return GraphListing(self.names, now, 0.0)


class RemoteStore:
    """The calls of ``pyoxigraph.Store`` that the app makes, answered by a SPARQL endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        union: UnionMode = "protocol",
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.union = union
        self._client = client or httpx.Client(
            timeout=timeout, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
        )
        self._clock = clock
        self._graphs: GraphListing | None = None
        self._graphs_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._server: str | None = None

    def close(self) -> None:
        self._client.close()

    # --- pyoxigraph's calls ---------------------------------------------------------------

    def query(
        self,
        query: str,
        *,
        use_default_graph_as_union: bool = False,
        default_graph: GraphName | Iterable[GraphName] | None = None,
        named_graphs: Iterable[ox.NamedNode | ox.BlankNode] | None = None,
        substitutions: Mapping[ox.Variable, Term | ox.Triple] | None = None,
        base_iri: str | None = None,
        only_ours: bool = False,
    ) -> QueryAnswer:
        """Run a query; SELECT and ASK give pyoxigraph's own result objects, CONSTRUCT and
        DESCRIBE an iterator of triples. A query the store rejects raises SyntaxError, as the
        embedded store does, with the store's message; a base IRI that is not an absolute IRI
        raises ValueError, as there. ``only_ours`` (not pyoxigraph's) asks, with the protocol's
        union, for the project's named graphs only, as ``GRAPH ?g``'s graphs."""
        check_syntax(query, base_iri)
        form = query_form(query)
        if substitutions:
            bound: dict[ox.Variable, ox.NamedNode | ox.Literal] = {}
            for variable, term in substitutions.items():
                if not isinstance(term, ox.NamedNode | ox.Literal):
                    kind = "blank node" if isinstance(term, ox.BlankNode) else "triple"
                    raise ValueError(f"a {kind} cannot be bound in a query to a remote store")
                bound[variable] = term
            query = with_values(query, bound)
        if base_iri is not None:
            query = with_base(query, base_iri)
        if form == "describe" and self.is_virtuoso():
            query = f"{VIRTUOSO_CBD} {query}"
        parameters: list[tuple[str, str]] = [("query", query)]
        if default_graph is not None or named_graphs is not None:
            defaults = (
                [default_graph]
                if isinstance(default_graph, ox.NamedNode | ox.BlankNode | ox.DefaultGraph)
                else list(default_graph or ())
            )
            named = list(named_graphs or ())
            # A part of the dataset left empty is named by a graph no store holds: Virtuoso
            # takes a part not named at all as every graph it has.
            parameters += [("default-graph-uri", _graph_iri(g)) for g in defaults] or [
                ("default-graph-uri", NO_GRAPH)
            ]
            parameters += [("named-graph-uri", _graph_iri(g)) for g in named] or [
                ("named-graph-uri", NO_GRAPH)
            ]
        elif self.union == "protocol" and (use_default_graph_as_union or only_ours):
            names = self.graph_names()
            parameters += [("default-graph-uri", name) for name in names]
            parameters += [("named-graph-uri", name) for name in names]
        return self._answer(self._post(parameters, form))

    def quads_for_pattern(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        object: Term | None,
        graph_name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads of the named graphs that match (the remote default graph is not read)."""
        bound = {"s": subject, "p": predicate, "o": object}
        if isinstance(graph_name, ox.DefaultGraph):
            return iter(())
        if graph_name is not None:
            bound["g"] = graph_name
        given = {ox.Variable(name): term for name, term in bound.items() if term is not None}
        if any(isinstance(term, ox.BlankNode) for term in given.values()):
            return iter(())
        answer = self.query(QUADS, substitutions=given, only_ours=True)
        assert isinstance(answer, ox.QuerySolutions)
        return (ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in answer)

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        return (ox.NamedNode(name) for name in self.graph_names(fresh=True))

    def contains_named_graph(self, graph_name: ox.NamedNode | ox.BlankNode) -> bool:
        """One of ``graph_names`` (Virtuoso answers ``ASK { GRAPH <g> { } }`` true for any IRI)."""
        if isinstance(graph_name, ox.BlankNode):
            return False
        return graph_name.value in self.graph_names()

    # --- the protocol ---------------------------------------------------------------------

    def graph_names(self, *, fresh: bool = False) -> tuple[str, ...]:
        """The store's named graphs under GRAPH_BASE.

        Read from the store on the first call and whenever ``fresh`` is asked (the app's own
        writes ask, and see what they wrote). Otherwise the list in hand is answered at once,
        and once it is older than ``GraphListing.due`` a thread reads it again for later calls: a
        graph written by someone else shows after a minute or so, and no request waits for a
        listing that may take seconds on a large store."""
        with self._graphs_lock:
            listing = self._graphs
            if fresh or listing is None:
                listing = self._graphs = self._listing()
            elif self._clock() >= listing.due and self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh, name="graph-listing", daemon=True
                )
                self._refresher.start()
            return listing.names

    def settle(self) -> None:
        """Wait for a listing under way in the background, if any, to end (for the tests: a
        server never waits for it)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join()

    def _refresh(self) -> None:
        try:
            listing: GraphListing | None = self._listing()
        except Exception as error:  # a thread of its own: nobody else would see it
            # Whatever failed, the list in hand stays and the next reading is due after
            # GRAPHS_TTL: a failure must not leave ``_refresher`` set, which would stop the
            # readings for good.
            log.warning("the list of graphs was not read again: %s", error)
            listing = None
        with self._graphs_lock:
            current = self._graphs
            if listing is not None and (current is None or listing.read_at >= current.read_at):
                self._graphs = listing
            elif listing is None and current is not None:
                self._graphs = current.retried(self._clock())
            self._refresher = None

    def _listing(self) -> GraphListing:
        started = self._clock()
        names = self._project_graphs(GRAPH_NAMES) or self._project_graphs(GRAPH_NAMES_BY_TRIPLES)
        return GraphListing(tuple(names), started, self._clock() - started)

    def is_virtuoso(self) -> bool:
        """Whether the store names itself Virtuoso in its ``Server`` header (asked once)."""
        if self._server is None:
            self._answer(self._post([("query", "ASK {}")], "ask"))
        return (self._server or "").startswith("Virtuoso/")

    def _project_graphs(self, query: str) -> list[str]:
        answer = self._answer(self._post([("query", query)], "select"))
        assert isinstance(answer, ox.QuerySolutions)
        return sorted(
            name
            for row in answer
            if isinstance(row["g"], ox.NamedNode)
            and (name := row["g"].value).startswith(GRAPH_BASE)
        )

    def _post(self, parameters: list[tuple[str, str]], form: str | None) -> httpx.Response:
        """Send the query, of the given form (``query_form``); the answer's body is left to
        stream (closed by ``_answer``'s reader, or here on an error)."""
        request = self._client.build_request(
            "POST", self.endpoint, data=_form(parameters), headers={"Accept": _accept(form)}
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise StoreError(
                f"the remote store at {self.endpoint} did not answer: {error}"
            ) from None
        self._server = response.headers.get("server", "")
        if response.status_code == 200:
            return response
        try:
            response.read()
        finally:
            response.close()
        if response.status_code == 400:
            raise SyntaxError(_message(response))
        raise StoreError(
            f"the remote store at {self.endpoint} answered {response.status_code}: "
            f"{_message(response)}"
        )

    def _answer(self, response: httpx.Response) -> QueryAnswer:
        """pyoxigraph's parsers pull the body as they are read, so an answer far larger than
        memory streams through; the connection closes when the parser is dropped."""
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        body = io.BufferedReader(_Body(response), buffer_size=64 * 1024)
        if media == RESULTS:
            parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)
            assert isinstance(parsed, ox.QuerySolutions | ox.QueryBoolean)
            return parsed
        if media == TRIPLES:
            quads = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
            return (quad.triple for quad in quads)
        body.close()
        raise StoreError(f"the remote store at {self.endpoint} answered in {media or 'no type'}")


class _Body(io.RawIOBase):
    """A streamed response body as a file for pyoxigraph's parsers; closing it (explicitly, at
    the end, or when it is dropped) closes the response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__()
        self._response = response
        self._chunks = _without(response.iter_bytes(), _VIRTUOSO_BNODE, b"<bnode>")
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._response.close()
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


def _without(chunks: Iterator[bytes], old: bytes, new: bytes) -> Iterator[bytes]:
    """The chunks with ``old`` replaced by ``new``, also where ``old`` spans two chunks. ``old``
    starts with a byte it has nowhere else, so a partial match can only be a chunk's tail."""
    held = b""
    for chunk in chunks:
        raw = held + chunk
        start = raw.rfind(old[:1], max(len(raw) - len(old) + 1, 0))
        cut = start if start != -1 and old.startswith(raw[start:]) else len(raw)
        held = raw[cut:]
        if cut:
            yield raw[:cut].replace(old, new)
    if held:
        yield held


def with_base(query: str, base_iri: str) -> str:
    """The query with ``BASE <base_iri>`` in front when it has a relative IRI reference (see the
    module's notes). The scan may count an IRI-like piece of a string or a
    comment too: the BASE added for it changes nothing. A query with BASE declarations of its
    own has the IRIs of its prologue resolved here and one absolute BASE in front (the last
    one's, which the rest of the query resolves against); the declarations it replaces keep
    their line breaks."""
    declaration = str(ox.NamedNode(base_iri))  # refuses what is not an absolute IRI
    parts = list(_prologue(query))
    if not any(kind == "base" for kind, _ in parts):
        relative = any(not _SCHEME.match(iri.group(1)) for iri in _IRI_REF.finditer(query))
        return f"BASE {declaration}\n{query}" if relative else query
    current = base_iri
    pieces: list[str] = []
    position = 0
    for kind, part in parts:
        pieces.append(query[position : part.start()])
        position = part.end()
        text = part.group(0)
        iri = _IRI_REF.search(text) if kind else None
        if iri is None:
            pieces.append(text)
        elif kind == "base":
            current = _resolve(iri.group(1), current)
            pieces.append("\n" * text.count("\n"))
        else:
            absolute = _resolve(iri.group(1), current)
            pieces.append(f"{text[: iri.start()]}<{absolute}>{text[iri.end() :]}")
    pieces.append(query[position:])
    return f"BASE <{current}> " + "".join(pieces)


def _prologue(query: str) -> Iterator[tuple[str, re.Match[str]]]:
    """The parts of a query's prologue in order, each with its kind ("base", "prefix", or ""
    for white space and comments), each matched where the last ended (linear in any text)."""
    position = 0
    while (part := _PROLOGUE_PART.match(query, position)) and part.end() > position:
        word = part.group(0)[:6].lower()
        kind = "base" if word.startswith("base") else "prefix" if word == "prefix" else ""
        yield kind, part
        position = part.end()


def _resolve(iri: str, base_iri: str) -> str:
    """``iri`` resolved against ``base_iri`` by pyoxigraph, as the embedded store resolves it."""
    answer = _PARSER.query(f"SELECT (<{iri}> AS ?i) {{}}", base_iri=base_iri)
    assert isinstance(answer, ox.QuerySolutions)
    term = next(iter(answer))["i"]
    assert isinstance(term, ox.NamedNode)
    return term.value


def query_form(query: str) -> str | None:
    """The query's form ("select", "ask", "construct", "describe"), read after its prologue;
    None where it is none of them (the store's parser then says what is wrong)."""
    position = 0
    for _, part in _prologue(query):
        position = part.end()
    form = _FORM.match(query, position)
    return form.group(1).lower() if form else None


def check_syntax(query: str, base_iri: str | None) -> None:
    """Raise SyntaxError, with pyoxigraph's message, for a query the embedded store would
    refuse, before any remote store sees it (see the module's notes); ValueError for a base IRI
    that is no absolute IRI. An ASK is evaluated as it is parsed, so one that calls a SERVICE is
    left to the remote store (on an empty store it would still call the service)."""
    if query_form(query) == "ask" and _SERVICE.search(query):
        return
    # Without a base of ours, the remote store resolves relative IRIs against its own URL:
    # any absolute IRI lets the parser accept them.
    _PARSER.query(query, base_iri=_ANY_BASE if base_iri is None else base_iri)


def _accept(form: str | None) -> str:
    """The one media type a query's answer comes in, by its form: results for SELECT and ASK,
    N-Triples for CONSTRUCT and DESCRIBE (the form is read before anything, a Virtuoso pragma
    say, is put in front of the query)."""
    if form is None:
        return ACCEPT
    return RESULTS if form in ("select", "ask") else TRIPLES


def _graph_iri(graph: GraphName) -> str:
    """A graph named in a dataset, as the protocol names it: by IRI only (a blank node or the
    default graph cannot be named across requests)."""
    if not isinstance(graph, ox.NamedNode):
        raise ValueError("only graphs named by an IRI can be sent to a remote store")
    return graph.value


def _form(parameters: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The parameters as httpx's form data (repeated names as lists)."""
    form: dict[str, list[str]] = {}
    for name, value in parameters:
        form.setdefault(name, []).append(value)
    return form


def _message(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:500]
