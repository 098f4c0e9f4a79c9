"""The protocol's hot path: /sparql served by plain Starlette routes to its functions, in front
of FastAPI's routes that describe it; and the readers of a request it keeps from one request to
the next (the URL's parameters, the endpoint's URL), each the same as the reading it stands for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams
from starlette.routing import Route

from atrocity_kg.config import Settings
from atrocity_kg.web import create_app
from atrocity_kg.web.protocol import PlainErrorRoute, ProtocolError, serve_plainly
from atrocity_kg.web.routes import sparql
from atrocity_kg.web.routes.sparql import (
    CACHED_QUERY_STRING_BYTES,
    endpoint_url,
    query_string_parameters,
    url_parameters,
)


@pytest.fixture
def app_without_fastapi_sparql(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with FastAPI's own /sparql routes made to fail if they are ever reached."""
    handle = APIRoute.handle

    async def unless_sparql(route: APIRoute, scope: Any, receive: Any, send: Any) -> None:
        if route.path == "/sparql":
            raise AssertionError(f"FastAPI's route answered {scope['method']} /sparql")
        await handle(route, scope, receive, send)

    monkeypatch.setattr(APIRoute, "handle", unless_sparql)
    with TestClient(create_app(built)) as client:
        yield client


def test_fastapi_s_routes_would_be_caught(
    app_without_fastapi_sparql: TestClient, built: Settings
) -> None:
    """The fixture's trap works: a FastAPI route to /sparql, reached, fails the request."""
    app = create_app(built)
    app.router.routes[:] = [r for r in app.router.routes if type(r) is not Route]
    with TestClient(app) as client, pytest.raises(AssertionError, match="FastAPI's route"):
        client.get("/sparql", params={"query": "ASK {}"})


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_sparql_is_answered_by_the_plain_routes(
    app_without_fastapi_sparql: TestClient, method: str
) -> None:
    client = app_without_fastapi_sparql
    if method == "POST":
        response = client.post("/sparql", data={"query": "ASK {}"})
    else:
        response = client.request(method, "/sparql", params={"query": "ASK {}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    if method != "HEAD":
        assert response.json()["boolean"] is True
    # What the middlewares add is there, as on any other route.
    assert "etag" in response.headers or method == "POST"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_protocol_error_on_a_plain_route_is_plain_text(
    app_without_fastapi_sparql: TestClient,
) -> None:
    response = app_without_fastapi_sparql.get("/sparql", params={"query": "ASK {"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("malformed query")
    other = app_without_fastapi_sparql.put("/sparql", content=b"x")
    assert other.status_code == 405
    assert other.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_the_plain_routes_come_first_and_stay_out_of_the_description(built: Settings) -> None:
    app = create_app(built)
    first = next(r for r in app.routes if getattr(r, "path", None) == "/sparql")
    assert type(first) is Route
    assert not first.include_in_schema
    operations = app.openapi()["paths"]["/sparql"]
    assert {op["operationId"] for op in operations.values()} == {
        "sparql_get",
        "sparql_head",
        "sparql_post",
    }


def test_a_function_asking_for_more_than_the_request_is_refused() -> None:
    router = APIRouter(route_class=PlainErrorRoute)

    @router.get("/answer")
    async def answer(request: Request, limit: int = 3) -> Response:
        raise ProtocolError(400, "never called")

    with pytest.raises(TypeError, match="answer takes"):
        serve_plainly(FastAPI(), router)


# --- the URL's parameters ---------------------------------------------------------------------

QUERY_STRINGS = [
    b"",
    b"query=ASK+%7B%7D",
    b"query=ASK%20%7B%7D&format=json&format=xml",
    b"default-graph-uri=a&named-graph-uri=b&default-graph-uri=c",
    b"query=&format",
    b"query=caf%C3%A9+%22%E2%9C%93%22&x=%ZZ&y=%E9",
    b"a=1;b=2&c=%2B+%26",
    "query=ÿ&é=1".encode("latin-1"),
]


@pytest.mark.parametrize("query_string", QUERY_STRINGS)
def test_the_urls_parameters_are_read_as_starlette_reads_them(query_string: bytes) -> None:
    expected = QueryParams(query_string)
    read = query_string_parameters(query_string)
    assert list(read) == list(dict.fromkeys(expected.keys()))
    for key in expected:
        assert list(read[key]) == expected.getlist(key)


def test_a_long_query_string_is_read_without_being_kept() -> None:
    query_string = b"query=" + b"x" * CACHED_QUERY_STRING_BYTES
    kept = sparql._read_query_string_cached.cache_info().currsize
    assert query_string_parameters(query_string)["query"] == ("x" * CACHED_QUERY_STRING_BYTES,)
    assert sparql._read_query_string_cached.cache_info().currsize == kept
    short = b"query=" + b"y" * (CACHED_QUERY_STRING_BYTES - 6)
    assert query_string_parameters(short) is query_string_parameters(short)


def test_the_parameters_a_route_gets_are_its_own() -> None:
    """What is kept is read-only; each request gets lists of its own to change."""
    query_string = b"query=ASK+%7B%7D&format=json"
    with pytest.raises(TypeError):
        query_string_parameters(query_string)["format"] = ("xml",)  # type: ignore[index]
    first = url_parameters(Request(_scope(query_string=query_string)))
    first["format"].append("xml")
    first["extra"] = ["1"]
    assert url_parameters(Request(_scope(query_string=query_string))) == {
        "query": ["ASK {}"],
        "format": ["json"],
    }


# --- the endpoint's URL -----------------------------------------------------------------------


def _scope(
    *,
    scheme: str = "http",
    server: tuple[str, int | None] | None = ("127.0.0.1", 8000),
    path: str = "/sparql",
    host: bytes | None = b"127.0.0.1:8000",
    query_string: bytes = b"query=ASK+%7B%7D",
) -> dict[str, Any]:
    headers = [(b"accept", b"*/*")] + ([] if host is None else [(b"host", host)])
    return {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "server": server,
        "path": path,
        "root_path": "",
        "query_string": query_string,
        "headers": headers,
    }


ADDRESSINGS = [
    {},
    {"host": b"kg.example.org"},
    {"host": b"kg.example.org:8443", "scheme": "https"},
    {"host": None},
    {"host": None, "server": ("::1", 8000)},
    {"host": None, "server": ("example.org", 443), "scheme": "https"},
    {"host": None, "server": None},
    {"host": None, "server": ["example.org", 8080]},
    {"host": b"[::1]:8000"},
    {"host": b"bad host:port"},
    {"host": b"example.org:99999"},
    {"path": "/sparql?/#x"},
    {"path": "/mounted/sparql", "host": b"proxy.example"},
]


@pytest.mark.parametrize("addressing", ADDRESSINGS)
def test_the_endpoints_url_is_the_requests_url_without_its_query(
    addressing: dict[str, Any],
) -> None:
    request = Request(_scope(**addressing))
    expected = str(request.url.replace(query="", fragment=""))
    assert endpoint_url(request) == expected
    assert endpoint_url(Request(_scope(**addressing))) == expected  # and once kept
