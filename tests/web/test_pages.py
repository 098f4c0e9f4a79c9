"""The home page: counts and links in plain HTML, and the SPARQL editor driven in a real browser.

The browser is Debian's Chromium (/usr/bin/chromium) under Playwright, against the app served by
uvicorn on loopback; the editor comes from ``node_modules`` (``npm ci``). Where either is missing,
as on a user's clone, the browser test is skipped with the reason; CI installs both.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox
import pytest

from atrocity_kg.config import Settings
from atrocity_kg.query.queries import load_catalogue
from atrocity_kg.storage import store
from atrocity_kg.web import create_app
from atrocity_kg.web.routes import pages
from browser import RECORD_VIOLATIONS, chromium, new_page, unavailable
from conftest import REPO, make_home
from queries_support import load_expected, run_catalogue_query
from server import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LINKS = ("/queries", "/ontology", "/dumps/", "/docs", "/sparql")
# Run in a browser page before its own scripts: records every content security policy violation
# as the page itself is told of it (the console reports only some kinds).
MALFORMED = "SELECT ?x WHERE { ?x ?y"
WRONG_TOKEN = "SELECT * WHERE { ?s ?p ?o } LIMIT many"

# Written apart from the page's own query, so that a slip in one does not hide in both.
COUNT_QUERIES = {
    "releases": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a akg:Release }",
    "tools": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a akg:PreventionTool }",
    "reviewed-tools": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a akg:ReviewedTool }",
    "studies": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a akg:Study }",
    "findings": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x akg:reportedIn ?study }",
    "factors": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?y akg:aboutFactor ?x }",
}


def expected_counts(settings: Settings) -> dict[str, int]:
    prologue = "PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>\n"
    counts = {}
    with store.opened(settings.store_root) as opened:
        for name, text in COUNT_QUERIES.items():
            answer = store.run_query(opened, prologue + text)
            assert isinstance(answer, ox.QuerySolutions)
            term = next(iter(answer))["n"]
            assert term is not None
            counts[name] = int(term.value)
    return counts


def counts_in(html: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r'data-count="([a-z-]+)">(\d+)<', html)}


def editor_installed() -> bool:
    return (REPO / pages.YASGUI_PACKAGE / "build" / "yasgui.min.js").is_file()


@pytest.fixture(scope="module")
def site(built: Settings) -> Iterator[str]:
    with serving(built) as base:
        yield base


def test_home_page_without_javascript(built: Settings, site: str) -> None:
    response = httpx.get(f"{site}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    counts = counts_in(html)
    assert counts == expected_counts(built)
    assert counts["reviewed-tools"] == 12
    assert counts["releases"] == 3
    for link in LINKS:
        assert f'href="{link}"' in html
    text = unescape(html)
    for name, entry in load_catalogue(built.queries_dir).items():
        assert f'href="/queries/{name}"' in html
        assert entry.title in text
    assert "V3 (2025-04)" in html
    assert 'action="/sparql"' in html  # the plain form, for readers without JavaScript
    expected_shared: dict[str, list[str]] = {}
    for row in load_expected(pages.SHARED_STRONG_QUERY)["rows"]:
        expected_shared.setdefault(row[1], []).append(row[4])
    table = html.split(f'id="{pages.SHARED_STRONG_QUERY}"', 1)[1].split("</table>", 1)[0]
    shown = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table)
    assert [(unescape(f), unescape(t)) for f, t in shown] == [
        (factor, ", ".join(tools)) for factor, tools in expected_shared.items()
    ]
    # The section says what the list is not: neither the review's lessons nor tools that work.
    section = html.split('id="shared-strong-heading"', 1)[1].split("</section>", 1)[0]
    section = " ".join(unescape(re.sub(r"<[^>]+>", " ", section)).split())
    assert "not the review's own summary of lessons across tools" in section
    assert "does not mean that a tool works" in section


def test_editor_bundle_is_served_from_node_modules(built: Settings, site: str) -> None:
    if not editor_installed():
        unavailable("node_modules/@zazuko/yasgui is missing: run `npm ci` in the checkout")
    script = httpx.get(f"{site}{pages.YASGUI_URL}/yasgui.min.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    html = httpx.get(f"{site}/").text
    assert f'src="{pages.YASGUI_URL}/yasgui.min.js"' in html
    assert "npm ci" not in html


def test_page_without_editor_or_store_says_what_to_do(tmp_path: Path) -> None:
    settings = make_home(tmp_path / "home", with_releases=False)

    async def fetch() -> tuple[httpx.Response, httpx.Response]:
        # ASGITransport runs no lifespan, so the store is never opened: as before a build.
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/"), await client.get(f"{pages.YASGUI_URL}/yasgui.min.js")

    page, bundle = asyncio.run(fetch())
    assert page.status_code == 200
    assert "npm ci" in page.text
    assert "atrocity-kg build" in page.text
    assert "yasgui.min.js" not in page.text
    assert bundle.status_code == 404


def test_page_escapes_every_value() -> None:
    hostile = "<script>alert(1)</script>"
    html = pages.render_home(
        counts=pages.GraphCounts(3, 23, 12, 479, 4156, 226),
        releases=[pages.ReleaseLine(hostile, '2025-04" onmouseover="x')],
        examples=[pages.Example("x", hostile, "a & b", f"SELECT * {{ }} # {hostile}")],
        with_editor=True,
    )
    assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '" onmouseover="' not in html
    assert "a &amp; b" in html
    # The editor's configuration sits in a script element: nothing in it may close that element.
    config = html.split('id="editor-config">', 1)[1].split("</script>", 1)[0]
    assert "<" not in config


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not editor_installed():
        unavailable("node_modules/@zazuko/yasgui is missing: run `npm ci` in the checkout")
    with chromium() as launched:
        yield launched


def plain(cell: str) -> str:
    """A result cell's value: YASR shows typed literals as "value"^^prefix:type."""
    match = re.fullmatch(r'"(.*)"\^\^\S+', cell.strip(), re.DOTALL)
    return match[1] if match else cell.strip()


def test_editor_runs_a_catalogue_query_and_shows_an_error(
    built: Settings, site: str, browser: Browser
) -> None:
    from playwright.sync_api import expect

    requests: list[str] = []
    problems: list[str] = []
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{site}/")

    counts = expected_counts(built)
    for name, value in counts.items():
        expect(page.locator(f'[data-count="{name}"]')).to_have_text(str(value))

    expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    page.select_option("#examples", "studies-per-release")
    text = page.evaluate("() => window.atrocityKgEditor.getTab().getQuery()")
    assert "# title: Studies per release" in text
    page.locator(".yasqe_queryButton").click()

    expected = run_catalogue_query(built, "studies-per-release")
    rows = page.locator(".yasr table.dataTable tbody tr")
    expect(rows).to_have_count(len(expected.rows))
    headers = [h.strip() for h in page.locator(".yasr table.dataTable thead th").all_inner_texts()]
    for row, answer in zip(rows.all(), expected.rows, strict=True):
        cells = dict(zip(headers, row.locator("td").all_inner_texts(), strict=True))
        for column in ("code", "studies", "findings"):
            assert plain(cells[column]) == answer[column].value

    page.click(".yasqe .CodeMirror-code")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(MALFORMED)
    page.locator(".yasqe_queryButton").click()
    refusal = httpx.post(f"{site}/sparql", data={"query": MALFORMED})
    assert refusal.status_code == 400
    try:  # the endpoint's reason, as text or as FastAPI's JSON detail
        reason = str(refusal.json()["detail"])
    except (ValueError, KeyError, TypeError):
        reason = refusal.text
    assert "malformed" in reason
    expect(page.locator(".yasr .errorResult")).to_contain_text(reason.splitlines()[0][:60])
    # The editor's own syntax check marks a line with a wrong token; its tooltip lists the
    # expected ones, styled inline (the policy allows that style by its hash).
    page.click(".yasqe .CodeMirror-code")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(WRONG_TOKEN)
    page.locator(".parseErrorIcon").hover()
    expect(page.locator(".yasqe_tooltip strong").first).to_be_visible()
    problems.extend(page.evaluate("window.__violations"))
    page.close()

    assert f"{site}/sparql" in requests
    assert [url for url in requests if not url.startswith(f"{site}/")] == []
    assert problems == []
