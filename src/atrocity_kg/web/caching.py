"""Validators for HTTP caches: an ``ETag`` on every answer that only the served build decides,
and ``304 Not Modified`` for a client (or a shared cache in front of the server) that already
holds it.

What a page, a dump's listing or a query's answer says depends on four things only: the build
being served, the code and settings serving it, the URL (with its host: a service description
names the endpoint's), and the ``Accept`` header that chose its form. The validator is a digest
of the four, computed before the request reaches its route, so a request holding the current
one is answered at once, without evaluating anything. Every write makes a new build
(``serving.Serving.switch_to``), so every validator changes with it. An answer made while the
served build changed is left untagged: it may have been read from either.

Left untagged: writes and POSTs; answers other than 200; a remote store's (it changes without
this server knowing: they get only the lifetime ``cache_max_age`` gives, if any, as Wikidata's
query service does); the contributions and admin pages (they read more than the build); the
answers of a query that asks for the time, a random number or a fresh identifier (``NOW``,
``RAND``, ``UUID``, ``STRUUID``, ``BNODE``) or another service (``SERVICE``); and answers that
set their own (the dump files, the charts, the static files).

Validators are weak (``W/``): an answer is the same graph or the same solutions, not always the
same bytes (a blank node's label, the order of an unordered SELECT). ``Cache-Control`` says
``no-cache`` by default (store it, but ask before each use, which costs a 304); an operator whose
shared cache may serve an answer for a while after a write sets ``cache_max_age``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atrocity_kg import __version__
from atrocity_kg.config import Settings
from atrocity_kg.web.headers import VARY
from atrocity_kg.web.routes.sparql import (  # the endpoint's own readers of a query
    keywords,
    query_string_parameters,
)

CACHED_PREFIXES = (
    "/sparql",
    "/page/",
    "/data/",
    "/compare",
    "/queries",
    "/dataset",
    "/ontology",
    "/.well-known/void",
    "/download/",
    "/dumps/",
    "/graph-store",
    "/quality",
)
"""The paths whose answers only the build decides (with ``/``, the home page)."""
VOLATILE_KEYWORDS = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE", "SERVICE"})
"""Words that make a query's answer change from one evaluation to the next."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


UNSHAPING_SETTINGS = frozenset(
    {
        "home",
        "store_dir",
        "cache_dir",
        "contributions_dir",
        "host",
        "port",
        "access_log",
        "query_workers",
        "store_in_memory",
        "store_in_memory_up_to_mb",
        "remote_timeout",
        "max_queued_queries",
        "max_queue_wait",
        "rate_limit_per_minute",
        "rate_limit_burst",
        "curator",
    }
)
"""Settings that change where and how fast answers are made, never what a 200 answer says: left
out of the fingerprint, so that replicas installed in other folders or on other ports share
validators. A setting not named here counts (a new one included)."""


def code_fingerprint(settings: Settings) -> str:
    """A digest of what serves the build: the package's files (code, templates, queries), the
    catalogue's queries, the version and the settings that shape answers (secrets masked). Two
    servers of the same code and settings give the same validators, so a shared cache in front
    of several replicas holds one copy of each answer."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(settings.model_dump_json(exclude=set(UNSHAPING_SETTINGS)).encode())
    package = Path(__file__).resolve().parents[1]
    for folder in (package, settings.queries_dir):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_control(max_age: int) -> str:
    """The Cache-Control of a tagged answer."""
    return f"public, max-age={max_age}" if max_age > 0 else "public, no-cache"


def cacheable_path(path: str) -> bool:
    return path == "/" or path.startswith(CACHED_PREFIXES)


def volatile_query(scope: Scope) -> bool:
    """Does a GET of /sparql carry a query whose answer changes from run to run? (Its URL and
    its words are read once per text, by the endpoint's own readers.)"""
    if scope["path"] != "/sparql":
        return False
    texts = query_string_parameters(scope.get("query_string", b"")).get("query", ())
    return any(keywords(text) & VOLATILE_KEYWORDS for text in texts)


def served_build(scope: Scope) -> Path | None:
    """The build the app serves now (``app.state.build``, set by ``serving``; None for a remote
    store)."""
    state = getattr(scope.get("app"), "state", None)
    build: Path | None = getattr(state, "build", None)
    return build


def _vary_by_accept(headers: MutableHeaders) -> None:
    """Name Accept in the answer's Vary: a tagged answer's validator depends on it, and a 304
    must say what the 200 says (RFC 9110, section 15.4.5)."""
    named = [part.strip().lower() for part in headers.get("vary", "").split(",")]
    if "accept" not in named:
        headers.add_vary_header("Accept")


def matches(if_none_match: str, tag: str) -> bool:
    """Does an If-None-Match header hold ``tag`` (compared weakly, as RFC 9110 says for it)?"""
    wanted = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


class ConditionalGet:
    """Tags build-decided answers and answers a request that holds the tag with 304."""

    def __init__(self, app: ASGIApp, *, fingerprint: str, max_age: int) -> None:
        self.app = app
        self._fingerprint = fingerprint.encode()
        self._max_age = max_age
        self._cache_control = cache_control(max_age)

    def _tag(self, scope: Scope, headers: Headers, build: Path) -> str:
        digest = hashlib.sha256(self._fingerprint)
        for part in (
            build.name.encode(),
            # The whole URL: a service description or a relative IRI names the endpoint by it.
            scope.get("scheme", "http").encode(),
            headers.get("host", "").encode("latin-1"),
            scope["path"].encode(),
            scope.get("query_string", b""),
            headers.get("accept", "").encode("latin-1"),
        ):
            digest.update(len(part).to_bytes(8, "big") + part)
        return f'W/"{digest.hexdigest()[:40]}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] in SAFE_METHODS
            and cacheable_path(scope["path"])
            and not volatile_query(scope)
        ):
            await self.app(scope, receive, send)
            return
        build = served_build(scope)
        if build is None:
            # A remote store: no validator, but a lifetime if the operator gave one.
            if self._max_age:
                await self.app(scope, receive, self._sending(scope, send, None, None))
            else:
                await self.app(scope, receive, send)
            return
        asked = Headers(scope=scope)
        tag = self._tag(scope, asked, build)
        held = asked.get("if-none-match", "")
        if held and matches(held, tag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [
                        (b"etag", tag.encode()),
                        (b"cache-control", self._cache_control.encode()),
                        *((k.lower().encode(), v.encode()) for k, v in VARY.items()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, self._sending(scope, send, tag, build))

    def _sending(self, scope: Scope, send: Send, tag: str | None, build: Path | None) -> Send:
        """``send``, adding to a 200 answer ``tag`` and Cache-Control where it set neither; with
        no tag (a remote store), Cache-Control only. The tag is left out if the build served is
        no longer ``build``, the one it names: the answer may be either build's."""

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if tag is None or ("etag" not in headers and served_build(scope) == build):
                    if tag is not None:
                        _vary_by_accept(headers)
                        headers["etag"] = tag
                    if "cache-control" not in headers:
                        headers["cache-control"] = self._cache_control
            await send(message)

        return headed
