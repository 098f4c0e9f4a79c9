"""Safe pages (issue 7): hostile literals show as text, every answer carries the security
headers, the API explorer works under the content security policy, and a failure nobody foresaw
answers 500 with a reference, never a traceback or a path.

The hostile data is the session's build with one study's title and one tool's label replaced by
markup, written as a store of its own; pages are fetched over real HTTP from uvicorn and opened
in Debian's Chromium under Playwright (skipped with the reason where it is missing, as on a
user's clone; CI has it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi import Response

from atrocity_kg.config import Settings
from atrocity_kg.publish import export
from atrocity_kg.query import queries
from atrocity_kg.storage import store
from atrocity_kg.web import create_app, protocol
from atrocity_kg.web.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from atrocity_kg.web.routes import pages
from browser import RECORD_VIOLATIONS, chromium, new_page, unavailable
from conftest import make_home
from server import served, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

HOSTILE_TITLE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
HOSTILE_LABEL = '"><img src=x onerror=alert(2)> <script>alert(2)</script> Peace operations'
# What no page may hold raw: either would run if the markup were pasted in unescaped.
RAW_MARKUP = ("<script>alert", "<img src=x")
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
TOOL = "https://w3id.org/atrocity-kg/id/tool/peace-operations"
STUDY_QUERY = "studies-behind-tool-factor"  # lists study titles; its default tool is TOOL
INTERNAL_PATH = "/srv/atrocity-kg/secrets/credentials.ttl"
# Signs of an exception's internals in an answer.
INTERNALS = ("Traceback", 'File "', "RuntimeError", INTERNAL_PATH, ".py")


def replaced(memory: ox.Store, subject: ox.NamedNode, predicate: ox.NamedNode, text: str) -> int:
    """Give ``subject`` the value ``text`` for ``predicate`` in every graph where it has one,
    keeping the literal's language or datatype; how many statements were replaced."""
    quads = list(memory.quads_for_pattern(subject, predicate, None, None))
    for quad in quads:
        old = quad.object
        assert isinstance(old, ox.Literal)
        new = (
            ox.Literal(text, language=old.language)
            if old.language
            else ox.Literal(text, datatype=old.datatype)
        )
        memory.remove(quad)
        memory.add(ox.Quad(subject, predicate, new, quad.graph_name))
    return len(quads)


def hostile_study(memory: ox.Store, settings: Settings) -> ox.NamedNode:
    """The first study the catalogue query lists (so the query's page shows it too)."""
    entry = queries.load_catalogue(settings.queries_dir)[STUDY_QUERY]
    answer = store.run_query(memory, entry.bound_text({}))
    assert isinstance(answer, ox.QuerySolutions)
    study = next(iter(answer))["study"]
    assert isinstance(study, ox.NamedNode)
    return study


def page_path(iri: str) -> str:
    return "/page/" + iri.split("/id/", 1)[1]


@pytest.fixture(scope="module")
def hostile(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    """The session's build with markup in a study's title and a tool's label, as a store of its
    own, with a dump manifest that cannot be read (an internal failure for /dumps/)."""
    with store.opened(built.store_root) as disk:
        memory = ox.Store()
        memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    study = hostile_study(memory, built)
    assert replaced(memory, study, TITLE, HOSTILE_TITLE) > 0
    assert replaced(memory, ox.NamedNode(TOOL), PREF_LABEL, HOSTILE_LABEL) > 0

    settings = built.model_copy(update={"store_dir": tmp_path_factory.mktemp("hostile")})
    build = settings.store_root / store.BUILDS / "hostile"
    build.parent.mkdir()
    disk = ox.Store(str(build))
    disk.bulk_extend(memory)
    disk.flush()
    del disk
    (build / export.DUMPS).mkdir()
    (build / export.DUMPS / export.MANIFEST).write_text("{not json", encoding="utf-8")
    (settings.store_root / store.CURRENT).symlink_to(build.relative_to(settings.store_root))
    return settings, study.value


@pytest.fixture(scope="module")
def site(hostile: tuple[Settings, str]) -> Iterator[str]:
    with serving(hostile[0]) as base:
        yield base


def fetched(url: str) -> str:
    response = httpx.get(url, follow_redirects=True, headers={"Accept": "text/html"})
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def assert_shown_as_text(html: str, text: str, where: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in html, f"{where}: raw {raw!r} in the markup"
    assert text in unescape(html), f"{where}: the text is not shown"


def test_every_page_escapes_hostile_literals(site: str, hostile: tuple[Settings, str]) -> None:
    _, study = hostile
    assert_shown_as_text(fetched(site + page_path(study)), HOSTILE_TITLE, "study page")
    tool_page = fetched(site + page_path(TOOL))
    assert_shown_as_text(tool_page, HOSTILE_TITLE, "tool page")
    assert_shown_as_text(tool_page, HOSTILE_LABEL, "tool page")
    query_page = fetched(f"{site}/queries/{STUDY_QUERY}?format=html")
    assert_shown_as_text(query_page, HOSTILE_TITLE, "query page")
    home = fetched(f"{site}/")
    assert_shown_as_text(home, HOSTILE_LABEL, "home page")


def test_json_ld_in_a_page_cannot_close_its_element(
    site: str, hostile: tuple[Settings, str]
) -> None:
    html = fetched(site + page_path(hostile[1]))
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block
    assert "alert(1)" in block  # the title is there, its markup written as \u escapes


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def watched_page(browser: Browser, dialogs: list[str], violations: list[str]) -> Page:
    """A page that dismisses and records every dialog, and records policy violations."""
    page = new_page(browser)
    page.add_init_script(RECORD_VIOLATIONS)

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page


def test_hostile_pages_run_no_script_in_chromium(
    site: str, hostile: tuple[Settings, str], browser: Browser
) -> None:
    dialogs: list[str] = []
    violations: list[str] = []
    page = watched_page(browser, dialogs, violations)
    for path in (page_path(hostile[1]), page_path(TOOL), "/"):
        page.goto(site + path, wait_until="load")
        if path == page_path(hostile[1]):
            assert page.locator("h1#title").inner_text() == HOSTILE_TITLE
        assert page.locator('img[src="x"]').count() == 0, path
        assert page.locator("script:not([src]):not([type])").count() == 0, path
        violations.extend(page.evaluate("window.__violations"))
    page.close()
    assert dialogs == []
    assert violations == []


# --- headers -------------------------------------------------------------------------------


def test_policy_is_strict() -> None:
    directives = dict(part.partition(" ")[::2] for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def assert_secured(response: httpx.Response, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (
            f"{what}: {name} is {response.headers.get(name)!r}"
        )
    # Set once, by the middleware: a route's own copy would be a second policy to keep in step.
    assert len(response.headers.get_list("content-security-policy")) == 1, what


def test_security_headers_on_every_kind_of_answer(site: str, hostile: tuple[Settings, str]) -> None:
    study = hostile[1].split("/id/", 1)[1]
    select = {"data": {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}}
    turtle = {"headers": {"Accept": "text/turtle"}}
    answers: dict[str, tuple[str, str, dict[str, Any], int]] = {
        "home page": ("GET", "/", {}, 200),
        "thing page": ("GET", page_path(TOOL), {}, 200),
        "ontology page": ("GET", "/ontology?format=html", {}, 200),
        "catalogue page": ("GET", f"/queries/{STUDY_QUERY}?format=html", {}, 200),
        "API explorer": ("GET", "/docs", {}, 200),
        "SPARQL results": ("GET", "/sparql?query=ASK%20%7B%7D", {}, 200),
        "SPARQL POST": ("POST", "/sparql", select, 200),
        "SPARQL refusal": ("GET", "/sparql?query=SELECT%20%3Fx%20WHERE%20%7B", {}, 400),
        "data file": ("GET", f"/data/{study}.ttl", {}, 200),
        "data, negotiated": ("GET", f"/data/{study}", turtle, 200),
        "ontology in Turtle": ("GET", "/ontology", {}, 200),
        "OpenAPI document": ("GET", "/openapi.json", {}, 200),
        "static file": ("GET", "/static/site.css", {}, 200),
        "HEAD": ("HEAD", "/ontology", {}, 200),
        "method not allowed": ("DELETE", "/", {}, 405),
        "not found": ("GET", "/no/such/thing", {}, 404),
        "thing not found": ("GET", "/page/tool/no-such-tool", {}, 404),
        "internal error": ("GET", "/dumps/", {}, 500),
    }
    for what, (method, path, extra, status) in answers.items():
        response = httpx.request(method, site + path, **extra)
        assert response.status_code == status, (what, response.text[:300])
        assert_secured(response, what)


# --- internal errors -------------------------------------------------------------------------


def test_unreadable_dump_manifest_answers_without_its_path(
    site: str, hostile: tuple[Settings, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="atrocity_kg.web.failures")
    response = httpx.get(f"{site}/dumps/")
    assert response.status_code == 500
    body = response.text
    assert str(hostile[0].store_root) not in body
    assert export.MANIFEST not in body
    for sign in INTERNALS:
        assert sign not in body
    reference = reference_in(body)
    assert any(reference in record.getMessage() for record in caplog.records)


def reference_in(body: str) -> str:
    """The error's reference, as the client is told it."""
    assert body.startswith("internal server error (reference "), body
    return body.split("(reference ", 1)[1].split(")", 1)[0]


@pytest.fixture(scope="module")
def failing_site(hostile: tuple[Settings, str]) -> Iterator[str]:
    """The app with two extra routes that fail as nothing in it should: one raising, one whose
    streamed answer fails in the protocol's worker thread. Served by uvicorn on loopback."""
    app = create_app(hostile[0])

    def raising() -> None:
        raise RuntimeError(f"cannot open {INTERNAL_PATH}")

    async def streamed() -> Response:
        def prepare() -> protocol.Plan:
            raise RuntimeError(f"cannot read {INTERNAL_PATH}")

        return await protocol.stream(prepare)

    app.add_api_route("/raising", raising)
    app.add_api_route("/streamed", streamed)
    with served(app, log_level="critical") as base:
        yield base


@pytest.mark.parametrize("path", ["/raising", "/streamed"])
def test_internal_error_answers_500_with_a_reference_only(
    failing_site: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="atrocity_kg.web.failures")
    response = httpx.get(failing_site + path)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert_secured(response, path)
    for sign in INTERNALS:
        assert sign not in response.text, (sign, response.text)
    reference = reference_in(response.text)
    logged = [r.getMessage() for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1
    assert "Traceback" in logged[0]
    assert INTERNAL_PATH in logged[0]


def test_two_failures_get_two_references(failing_site: str) -> None:
    first = reference_in(httpx.get(f"{failing_site}/raising").text)
    second = reference_in(httpx.get(f"{failing_site}/raising").text)
    assert first != second


def test_client_mistakes_keep_their_reason(site: str) -> None:
    response = httpx.get(f"{site}/sparql", params={"query": "SELECT ?x WHERE {"})
    assert response.status_code == 400
    assert "malformed" in response.text


# --- the API explorer --------------------------------------------------------------------------


def test_api_explorer_renders_under_the_policy_in_chromium(
    site: str, hostile: tuple[Settings, str], browser: Browser
) -> None:
    from playwright.sync_api import expect

    if not pages.swagger_installed(hostile[0]):
        unavailable("node_modules/swagger-ui-dist is missing: run `npm ci` in the checkout")
    dialogs: list[str] = []
    violations: list[str] = []
    requests: list[str] = []
    page = watched_page(browser, dialogs, violations)
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    page.goto(f"{site}/docs")
    expect(page.locator("#api-explorer .info .title")).to_contain_text("atrocity-kg")
    sparql = page.locator(".opblock-summary-path", has_text="/sparql").first
    expect(sparql).to_be_visible()
    operations = httpx.get(f"{site}/openapi.json").json()["paths"]
    assert page.locator(".opblock").count() >= len(operations)
    sparql.click()  # an operation opens, with its parameters
    expect(page.locator(".opblock.is-open .parameters").first).to_be_visible()
    violations.extend(page.evaluate("window.__violations"))
    page.close()
    assert violations == []
    assert dialogs == []
    assert [url for url in requests if not url.startswith(f"{site}/")] == []


def test_api_explorer_without_its_package_says_what_to_do(tmp_path: Path) -> None:
    app = create_app(make_home(tmp_path / "home", with_releases=False))

    async def fetch() -> httpx.Response:
        # ASGITransport runs no lifespan, so no store is opened: this page needs none.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/docs")

    # In a thread of its own: Playwright's sync API may keep an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(asyncio.run, fetch()).result()
    assert response.status_code == 200
    assert_secured(response, "/docs without Swagger UI")
    assert "npm ci" in response.text
    assert 'href="/openapi.json"' in response.text
    assert "swagger-ui-bundle.js" not in response.text
