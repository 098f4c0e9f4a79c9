"""Copy the embedded store's named graphs to a remote SPARQL 1.1 store, so that it equals ours.

Each graph is replaced whole (Graph Store Protocol ``PUT``, or ``DROP`` then ``INSERT DATA``), so
pushing again changes nothing; project graphs the local store no longer has are dropped; the
remote's per-graph triple counts are checked at the end.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.model.namespaces import GRAPH
from atrocity_kg.model.negotiation import N_TRIPLES
from atrocity_kg.storage import store
from atrocity_kg.storage.remote import RemoteStore

GRAPH_BASE = str(GRAPH)
"""Remote graphs under this IRI belong to the project: a push drops those we no longer have."""

BATCH = 2000
"""Triples per INSERT DATA request. Virtuoso's SPARQL parser runs out of stack ("SP030 memory
exhausted") a little before 5000 triples in one request."""

USER_VARIABLE = "ATROCITY_KG_PUSH_USER"
PASSWORD_VARIABLE = "ATROCITY_KG_PUSH_PASSWORD"  # noqa: S105 (a variable name)
_CHUNK = 1 << 20
SELECT_TIMEOUT = 60.0
"""Seconds a check of the remote's graphs may take."""
_NT = N_TRIPLES.media_type


class PushError(AtrocityKGError):
    """The remote store could not be reached, refused a request, or does not hold our graphs."""


class RemoteUnreachableError(PushError):
    """Nothing answered at the URL (connection refused, unknown host, timeout)."""


class RemoteRefusedError(PushError):
    """The remote answered with an HTTP error status."""


class RemoteMismatchError(PushError):
    """After the push the remote's triple counts differ from the local store's."""


class Method(StrEnum):
    gsp = "gsp"
    update = "update"


@dataclass(frozen=True)
class Target:
    """Where the graphs go: the query endpoint (for checks), the write endpoint the method uses."""

    endpoint: str
    method: Method = Method.gsp
    graph_store: str | None = None
    update: str | None = None
    auth: httpx.Auth | None = None

    def write_url(self) -> str:
        """The URL the method writes to, derived for an Oxigraph server when not given."""
        given = self.graph_store if self.method is Method.gsp else self.update
        service = "store" if self.method is Method.gsp else "update"
        url = given or oxigraph_service(self.endpoint, service)
        if url is None:
            option = "--graph-store" if self.method is Method.gsp else "--update"
            raise PushError(
                f"cannot derive the {service} URL from {self.endpoint} (only an Oxigraph "
                f"server's .../query is known): give {option}"
            )
        return url


@dataclass
class PushSummary:
    graphs: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def oxigraph_service(endpoint: str, service: str) -> str | None:
    """An Oxigraph server's sibling service: http://h:7878/query -> http://h:7878/store."""
    parts = urlsplit(endpoint)
    if not parts.path.endswith("/query"):
        return None
    path = parts.path[: -len("query")] + service
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def auth_from_environment(digest: bool = False) -> httpx.Auth | None:
    """Credentials from the environment, never from the command line (where ps shows them)."""
    user = os.environ.get(USER_VARIABLE)
    if not user:
        return None
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        raise PushError(f"{USER_VARIABLE} is set but {PASSWORD_VARIABLE} is not")
    return httpx.DigestAuth(user, password) if digest else httpx.BasicAuth(user, password)


def push_store(
    root: Path, target: Target, progress: Callable[[str], None] | None = None
) -> PushSummary:
    """Replace each local named graph on the remote, drop our graphs it alone has, then check."""
    say = progress or (lambda _message: None)
    url = target.write_url()
    summary = PushSummary()
    timeout = httpx.Timeout(600.0, connect=10.0)
    with store.opened(root) as local, httpx.Client(auth=target.auth, timeout=timeout) as http:
        for name in store.graph_names(local):
            say(f"pushing {name}")
            if target.method is Method.gsp:
                summary.graphs[name] = _put_graph(http, url, local, name)
            else:
                summary.graphs[name] = _update_graph(http, url, local, name)
        extra = sorted(set(remote_project_graphs(target.endpoint)) - set(summary.graphs))
        for name in extra:
            say(f"dropping {name}")
            if target.method is Method.gsp:
                _send(http, "DELETE", url, name, params={"graph": name}, missing_ok=True)
            else:
                _post_update(http, url, name, f"DROP SILENT GRAPH {_iri(name)}")
        summary.dropped = extra
    say("checking the remote's triple counts")
    verify(target.endpoint, summary.graphs)
    return summary


def _iri(name: str) -> str:
    """A graph name as a SPARQL IRI term; pyoxigraph refuses anything that is not an IRI."""
    try:
        return str(ox.NamedNode(name))
    except ValueError as error:
        raise PushError(f"not an IRI: {name!r} ({error})") from None


def _triples(local: ox.Store, name: str) -> Iterator[ox.Triple]:
    for quad in local.quads_for_pattern(None, None, None, ox.NamedNode(name)):
        yield quad.triple


def _counted(triples: Iterable[ox.Triple], tally: list[int]) -> Iterator[ox.Triple]:
    for triple in triples:
        tally[0] += 1
        yield triple


def _put_graph(http: httpx.Client, url: str, local: ox.Store, name: str) -> int:
    """PUT the graph as N-Triples, spooled to disk first so that memory stays flat and the
    request has a Content-Length (some stores refuse chunked uploads)."""
    tally = [0]
    with tempfile.TemporaryFile() as spool:
        ox.serialize(_counted(_triples(local, name), tally), spool, ox.RdfFormat.N_TRIPLES)
        size = spool.tell()
        spool.seek(0)
        _send(
            http,
            "PUT",
            url,
            name,
            params={"graph": name},
            content=_Rewound(spool),
            headers={"Content-Type": _NT, "Content-Length": str(size)},
        )
    return tally[0]


class _Rewound:
    """The spool as a request body that reads from its start each time it is sent: digest
    authentication (Virtuoso's /sparql-graph-crud-auth) sends the request again after the
    server's challenge, and a generator would be spent by then."""

    def __init__(self, spool: IO[bytes]) -> None:
        self._spool = spool

    def __iter__(self) -> Iterator[bytes]:
        self._spool.seek(0)
        while chunk := self._spool.read(_CHUNK):
            yield chunk


def _update_graph(http: httpx.Client, url: str, local: ox.Store, name: str) -> int:
    """DROP the graph, then INSERT DATA in batches. Blank-node labels hold only within one
    request, so every triple with a blank node goes in one last request, keeping them linked:
    an ``INSERT {...} WHERE {}``, whose template makes new blank nodes for its one solution
    (Virtuoso refuses blank nodes in INSERT DATA, the standard allows both)."""
    graph = _iri(name)
    _post_update(http, url, name, f"DROP SILENT GRAPH {graph}")
    count = 0
    ground: list[ox.Triple] = []
    blank: list[ox.Triple] = []
    for triple in _triples(local, name):
        count += 1
        if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
            blank.append(triple)
            continue
        ground.append(triple)
        if len(ground) >= BATCH:
            _insert(http, url, name, graph, ground)
            ground = []
    if ground:
        _insert(http, url, name, graph, ground)
    if blank:
        _insert(http, url, name, graph, blank, template=True)
    return count


def _insert(
    http: httpx.Client,
    url: str,
    name: str,
    graph: str,
    triples: list[ox.Triple],
    *,
    template: bool = False,
) -> None:
    body = io.BytesIO()
    ox.serialize(triples, body, ox.RdfFormat.N_TRIPLES)
    data = f"{{ GRAPH {graph} {{\n{body.getvalue().decode('utf-8')}}} }}"
    text = f"INSERT {data} WHERE {{}}" if template else f"INSERT DATA {data}"
    _post_update(http, url, name, text)


def _post_update(http: httpx.Client, url: str, name: str, text: str) -> None:
    headers = {"Content-Type": "application/sparql-update; charset=utf-8"}
    _send(http, "POST", url, name, content=text.encode("utf-8"), headers=headers)


def _send(
    http: httpx.Client,
    method: str,
    url: str,
    graph: str,
    *,
    params: dict[str, str] | None = None,
    content: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    missing_ok: bool = False,
) -> httpx.Response:
    """One request; any failure becomes a one-line PushError naming URL, graph and status."""
    try:
        response = http.request(method, url, params=params, content=content, headers=headers)
    except httpx.TransportError as error:
        raise RemoteUnreachableError(
            f"cannot reach {url} ({method} graph {graph}): {str(error) or type(error).__name__}"
        ) from None
    if response.is_error and not (missing_ok and response.status_code == 404):
        lines = response.text.strip().splitlines()
        detail = f": {lines[0][:300]}" if lines else ""
        raise RemoteRefusedError(
            f"{url} answered {response.status_code} {response.reason_phrase} "
            f"to {method} graph {graph}{detail}"
        )
    return response


def _select(endpoint: str, text: str) -> list[dict[str, str]]:
    """A SELECT on the remote, through the same httpx client as the writes (``remote.py``);
    each row holds its bound variables' values as text."""
    remote = RemoteStore(endpoint, union="native", timeout=SELECT_TIMEOUT)
    try:
        answer = remote.query(text)
        if not isinstance(answer, ox.QuerySolutions):
            raise PushError(f"{endpoint} answered a SELECT query with a boolean")
        names = [variable.value for variable in answer.variables]
        return [
            {name: term.value for name in names if (term := row[name]) is not None}
            for row in answer
        ]
    except (AtrocityKGError, SyntaxError) as error:
        if isinstance(error, PushError):
            raise
        first = str(error).strip().splitlines()
        raise RemoteUnreachableError(first[0] if first else f"{endpoint} failed") from None
    finally:
        remote.close()


def remote_project_graphs(endpoint: str) -> list[str]:
    """The non-empty named graphs under GRAPH_BASE that the remote holds."""
    text = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{GRAPH_BASE}")) }}'
    )
    return sorted(row["g"] for row in _select(endpoint, text) if "g" in row)


def remote_counts(endpoint: str, names: Iterable[str]) -> dict[str, int]:
    """Triples per named graph on the remote; a graph it lacks is absent from the answer."""
    values = " ".join(_iri(name) for name in names)
    if not values:
        return {}
    text = (
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g"
    )
    return {row["g"]: int(row["n"]) for row in _select(endpoint, text) if "g" in row}


def verify(endpoint: str, expected: dict[str, int]) -> None:
    """Fail naming the first graph whose remote count differs, or our graph the remote kept."""
    counted = remote_counts(endpoint, expected)
    for name, triples in sorted(expected.items()):
        found = counted.get(name, 0)
        if found != triples:
            raise RemoteMismatchError(
                f"the remote {endpoint} holds {found} triples in {name}, the local store {triples}"
            )
    for name in remote_project_graphs(endpoint):
        if name not in expected:
            raise RemoteMismatchError(
                f"the remote {endpoint} still holds {name}, which the local store has not"
            )
