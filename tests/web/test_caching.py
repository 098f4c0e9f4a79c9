"""Validators for HTTP caches (``web.caching``): an answer only the build decides carries a weak
ETag, and a request holding it is answered 304 without being evaluated; anything else (another
form, a volatile query, a POST, a remote store, a page that reads more than the build) is not
tagged. That a write changes every validator is in test_admin.py, where writes are made."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from atrocity_kg.config import Settings
from atrocity_kg.web import caching
from conftest import in_process

JSON = "application/sparql-results+json"
HTML = "text/html"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?study a akg:Study }"


def sparql(text: str) -> str:
    return "/sparql?query=" + quote(text)


TAGGED = [
    (sparql(COUNT), JSON),
    ("/sparql", "text/turtle"),  # the service description
    ("/", HTML),
    ("/page/tool/peace-operations", HTML),
    ("/data/tool/peace-operations", "text/turtle"),
    ("/page/release/v3", HTML),
    ("/queries/tool-study-counts", "text/csv"),
    ("/compare/releases?from=V2&to=V3", HTML),
    ("/dataset", HTML),
    ("/quality", "application/json"),
]


@pytest.mark.parametrize(("path", "accept"), TAGGED)
def test_an_answer_of_the_build_is_tagged_and_revalidated_with_a_304(
    embedded_client: TestClient, path: str, accept: str
) -> None:
    first = embedded_client.get(path, headers={"Accept": accept})
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{40}"', tag), tag
    assert first.headers["cache-control"] == "public, no-cache"
    again = embedded_client.get(path, headers={"Accept": accept, "If-None-Match": tag})
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "public, no-cache"
    # The validator depends on Accept: both say so, alike (a 304 says what the 200 says).
    assert "Accept" in [part.strip() for part in first.headers["vary"].split(",")]
    assert again.headers["vary"] == first.headers["vary"]
    # Compared weakly, in a list, as caches send it.
    listed = f'"other", {tag.removeprefix("W/")}'
    held = embedded_client.get(path, headers={"Accept": accept, "If-None-Match": listed})
    assert held.status_code == 304


def test_head_has_the_validator_of_get(embedded_client: TestClient) -> None:
    path = sparql(COUNT)
    tag = embedded_client.get(path, headers={"Accept": JSON}).headers["etag"]
    head = embedded_client.head(path, headers={"Accept": JSON})
    assert head.status_code == 200
    assert head.headers["etag"] == tag
    held = embedded_client.head(path, headers={"Accept": JSON, "If-None-Match": tag})
    assert held.status_code == 304


def test_another_form_of_the_same_answer_has_another_validator(
    embedded_client: TestClient,
) -> None:
    as_json = embedded_client.get(sparql(COUNT), headers={"Accept": JSON})
    as_csv = embedded_client.get(
        sparql(COUNT), headers={"Accept": "text/csv", "If-None-Match": as_json.headers["etag"]}
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["etag"] != as_json.headers["etag"]


def test_a_stale_validator_gets_the_whole_answer(embedded_client: TestClient) -> None:
    answer = embedded_client.get(sparql(COUNT), headers={"Accept": JSON, "If-None-Match": 'W/"0"'})
    assert answer.status_code == 200
    assert answer.json()["results"]["bindings"]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT (NOW() AS ?t) WHERE {}",
        "SELECT (rand() AS ?r) WHERE {}",
        "SELECT (UUID() AS ?u) WHERE {}",
        "SELECT (STRUUID() AS ?u) WHERE {}",
        "SELECT (BNODE() AS ?b) WHERE {}",
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ],
)
def test_a_query_whose_answer_changes_from_run_to_run_is_not_tagged(
    embedded_client: TestClient, text: str
) -> None:
    answer = embedded_client.get(sparql(text), headers={"Accept": JSON})
    assert "etag" not in answer.headers, answer.text
    assert answer.headers.get("cache-control") is None


def test_a_variable_or_a_string_named_like_a_function_is_no_volatile_query(
    embedded_client: TestClient,
) -> None:
    text = 'SELECT ?now WHERE { VALUES ?now { "NOW() RAND()" } }'
    answer = embedded_client.get(sparql(text), headers={"Accept": JSON})
    assert answer.status_code == 200
    assert "etag" in answer.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/sparql"),
        ("GET", "/contributions"),
        ("GET", "/page/tool/no-such-tool"),
        ("GET", "/sparql?query=SELEKT"),
    ],
)
def test_writes_errors_and_pages_reading_more_than_the_build_are_not_tagged(
    embedded_client: TestClient, method: str, path: str
) -> None:
    if method == "POST":
        answer = embedded_client.post(
            path, content=COUNT, headers={"Content-Type": "application/sparql-query"}
        )
        assert answer.status_code == 200
    else:
        answer = embedded_client.get(path, headers={"Accept": HTML})
    assert "etag" not in answer.headers


def test_a_remote_store_answer_is_not_tagged(remote_client: TestClient) -> None:
    """The remote store changes without this server knowing: nothing to validate against."""
    answer = remote_client.get(sparql(COUNT), headers={"Accept": JSON})
    assert answer.status_code == 200
    assert "etag" not in answer.headers
    assert "cache-control" not in answer.headers
    page = remote_client.get("/page/tool/peace-operations", headers={"Accept": HTML})
    assert page.status_code == 200
    assert "etag" not in page.headers


@pytest.fixture(scope="module")
def remote_kept_a_minute(built: Settings, remote_endpoint: str) -> Iterator[TestClient]:
    update = {"sparql_endpoint": remote_endpoint, "cache_max_age": 60}
    with in_process(built.model_copy(update=update)) as test_client:
        yield test_client


def test_an_operator_gives_a_remote_store_answers_a_lifetime(
    remote_kept_a_minute: TestClient,
) -> None:
    """No validator, but caches may keep the answer as long as the operator says."""
    answer = remote_kept_a_minute.get(sparql(COUNT), headers={"Accept": JSON})
    assert answer.status_code == 200
    assert "etag" not in answer.headers
    assert answer.headers["cache-control"] == "public, max-age=60"
    volatile = remote_kept_a_minute.get(sparql("SELECT (NOW() AS ?t) {}"), headers={"Accept": JSON})
    assert "cache-control" not in volatile.headers
    held = remote_kept_a_minute.get(sparql(COUNT), headers={"Accept": JSON, "If-None-Match": "*"})
    assert held.status_code == 200


@pytest.fixture(scope="module")
def kept_a_minute(built: Settings) -> Iterator[TestClient]:
    with in_process(built.model_copy(update={"cache_max_age": 60})) as test_client:
        yield test_client


def test_an_operator_lets_caches_keep_answers_for_a_while(kept_a_minute: TestClient) -> None:
    answer = kept_a_minute.get(sparql(COUNT), headers={"Accept": JSON})
    assert answer.headers["cache-control"] == "public, max-age=60"


def test_replicas_of_the_same_code_and_settings_share_validators(built: Settings) -> None:
    """A shared cache in front of several servers holds one copy per answer, wherever they are
    installed; another row limit makes other answers, so other validators."""
    elsewhere = built.model_copy(
        update={"store_dir": built.store_root.parent / "replica", "port": 8123, "query_workers": 7}
    )
    assert caching.code_fingerprint(elsewhere) == caching.code_fingerprint(built)
    assert not caching.UNSHAPING_SETTINGS - set(Settings.model_fields)
    other = built.model_copy(update={"max_result_rows": built.max_result_rows + 1})
    assert caching.code_fingerprint(other) != caching.code_fingerprint(built)


@pytest.mark.parametrize(
    ("header", "held"),
    [
        ('W/"a"', True),
        ('"a"', True),
        ('"b", W/"a"', True),
        ("*", True),
        ('W/"b"', False),
        ('W/"ab"', False),
        ("", False),
    ],
)
def test_if_none_match_is_compared_weakly(header: str, held: bool) -> None:
    assert caching.matches(header, 'W/"a"') is held


# --- a real shared cache in front (Debian's nginx) ------------------------------------------------


@pytest.fixture(scope="module")
def behind_nginx(built: Settings) -> Iterator[str]:
    """The app over real HTTP, letting caches keep its answers an hour, behind nginx."""
    from server import NGINX, nginx_cache, serving

    if NGINX is None:
        missing = "nginx is not installed (apt-get install nginx-light)"
        if os.environ.get("REQUIRE_NGINX"):  # CI, which installs it (.ci/run)
            pytest.fail(missing)
        pytest.skip(missing)
    with serving(built.model_copy(update={"cache_max_age": 3600})) as app, nginx_cache(app) as url:
        yield url


def test_a_shared_cache_answers_again_from_what_it_holds(behind_nginx: str) -> None:
    from server import CACHE_STATUS

    asked = {"query": COUNT + " # asked through nginx"}
    first = httpx.get(f"{behind_nginx}/sparql", params=asked, headers={"Accept": JSON})
    again = httpx.get(f"{behind_nginx}/sparql", params=asked, headers={"Accept": JSON})
    assert first.headers[CACHE_STATUS] == "MISS"
    assert again.headers[CACHE_STATUS] == "HIT"
    assert again.json() == first.json()
    # Another form is another answer (Vary: Accept), not the one the cache holds.
    as_csv = httpx.get(f"{behind_nginx}/sparql", params=asked, headers={"Accept": "text/csv"})
    assert as_csv.headers[CACHE_STATUS] == "MISS"
    assert as_csv.headers["content-type"].startswith("text/csv")


def test_a_shared_cache_revalidates_an_expired_answer_with_a_304(behind_nginx: str) -> None:
    """nginx keeps /expiring/ answers one second, counted in whole seconds of its clock (so up
    to two); past that (waited for: a lower bound, not a race), it asks the app with the ETag it
    holds, and the app says 304."""
    from server import CACHE_STATUS

    path = f"{behind_nginx}/expiring/page/tool/peace-operations"
    first = httpx.get(path, headers={"Accept": HTML})
    assert first.headers[CACHE_STATUS] == "MISS"
    time.sleep(2.5)
    later = httpx.get(path, headers={"Accept": HTML})
    assert later.status_code == 200
    assert later.headers[CACHE_STATUS] == "REVALIDATED"
    assert later.text == first.text


def test_the_same_path_on_another_host_has_another_validator(embedded_client: TestClient) -> None:
    """The service description names the endpoint by the URL it was asked at."""
    here = embedded_client.get("/sparql", headers={"Accept": "text/turtle"})
    there = embedded_client.get(
        "/sparql",
        headers={
            "Accept": "text/turtle",
            "Host": "mirror.example",
            "If-None-Match": here.headers["etag"],
        },
    )
    assert there.status_code == 200
    assert "mirror.example" in there.text
    assert there.headers["etag"] != here.headers["etag"]


def test_an_answer_made_while_the_build_changed_is_not_tagged(tmp_path: Path) -> None:
    """A write may switch builds between the validator and the answer: the answer may then be
    the new build's, and the old build's validator must not vouch for it."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def switching(request: Request) -> PlainTextResponse:
        if request.query_params.get("switch"):
            request.app.state.build = tmp_path / "later-build"
        return PlainTextResponse(str(request.app.state.build))

    app = Starlette(routes=[Route("/page/{thing}", switching)])
    app.state.build = tmp_path / "a-build"
    app.add_middleware(caching.ConditionalGet, fingerprint="code", max_age=0)
    with TestClient(app) as test_client:
        assert "etag" in test_client.get("/page/steady").headers
        switched = test_client.get("/page/switched?switch=1")
        assert switched.status_code == 200
        assert "etag" not in switched.headers
        assert "etag" in test_client.get("/page/steady").headers  # on the later build now
