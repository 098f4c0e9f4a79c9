"""The catalogue without SPARQL: pickers filled from the graph, short keys, a 404 naming close
matches for a value that names nothing, and the SPARQL shown with a link into the editor; over
real HTTP, on the embedded store and on a remote one. The reviewed tools expected in the pickers
come from the review's facts file, not from the graph."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from atrocity_kg.config import Settings
from atrocity_kg.web.routes import pages
from browser import chromium, new_page, unavailable
from conftest import REPO
from queries_support import as_plain, run_catalogue_query
from release_csv import tool_iris
from server import serving

MEDIATION = "https://w3id.org/atrocity-kg/id/tool/mediation"
V2 = "https://w3id.org/atrocity-kg/id/release/v2"
SPARQL_JSON = "application/sparql-results+json"


def options(page: str, ident: str) -> dict[str, str]:
    """The picker's options (value -> shown label) of the <select> with this id."""
    select = page.split(f'<select id="{ident}"', 1)[1].split("</select>", 1)[0]
    found = re.findall(r'<option value="([^"]*)"(?: selected)?>(.*?)</option>', select)
    return {unescape(value): unescape(label) for value, label in found if value}


def test_a_tool_by_key_label_or_iri_gives_one_answer(built: Settings, base: str) -> None:
    expected = as_plain(run_catalogue_query(built, "tool-mechanisms", {"tool": MEDIATION}))
    for value in ("mediation", "Mediation", "MEDIATION", MEDIATION):
        response = httpx.get(f"{base}/queries/tool-mechanisms", params={"tool": value})
        assert response.status_code == 200, response.text
        rows = response.json()["results"]["bindings"]
        assert [[b[v]["value"] for v in expected["variables"]] for b in rows] == expected["rows"]
    both = httpx.get(
        f"{base}/queries/release-studies-added", params={"from": "v1", "to": "V2", "format": "csv"}
    )
    full = httpx.get(
        f"{base}/queries/release-studies-added",
        params={"from": "https://w3id.org/atrocity-kg/id/release/v1", "to": V2, "format": "csv"},
    )
    assert both.status_code == 200
    assert both.text == full.text


def test_a_value_naming_nothing_is_a_404_with_close_matches(base: str) -> None:
    response = httpx.get(f"{base}/queries/tool-mechanisms", params={"tool": "arms-embargo"})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "'tool'" in detail
    assert "'arms-embargo'" in detail
    assert "close matches: arms-embargoes (Arms embargoes)" in detail
    typo = httpx.get(f"{base}/queries/tool-mechanisms", params={"tool": "mediaton"})
    assert "mediation (Mediation)" in typo.json()["detail"]
    # Nothing near: a class this small is listed whole.
    far = httpx.get(f"{base}/queries/tool-mechanisms", params={"tool": "qqqq", "format": "csv"})
    assert far.status_code == 404
    assert "the reviewed tools are: " in far.json()["detail"]
    page = httpx.get(
        f"{base}/queries/tool-mechanisms",
        params={"tool": "arms-embargo"},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "arms-embargoes (Arms embargoes)" in unescape(page.text)


def test_pickers_offer_the_reviewed_tools_by_label(base: str, shared_facts: Path) -> None:
    expected_keys = {iri.rsplit("/", 1)[1] for iri in tool_iris(shared_facts).values()}
    page = httpx.get(
        f"{base}/queries/studies-behind-tool-factor",
        params={"tool": "mediation", "release": "v2", "format": "html"},
    ).text
    tools = options(page, "parameter-tool")
    assert set(tools) == expected_keys
    assert tools["mediation"] == "Mediation"
    assert '<option value="mediation" selected>' in page
    assert '<option value="v2" selected>' in page
    releases = options(page, "parameter-release")
    assert set(releases) == {"v1", "v2", "v3"}
    factors = options(page, "parameter-factor")
    assert factors["large-force"] == "High quantity of troops"
    assert len(factors) == len(set(factors.values()))  # one label per factor
    assert "https://w3id.org" not in "".join(factors.values())
    listing = httpx.get(f"{base}/queries", params={"format": "html"}).text
    assert options(listing, "parameter-tool-mechanisms-tool") == tools


def test_the_page_shows_the_bound_sparql_and_opens_it_in_the_editor(base: str) -> None:
    page = httpx.get(
        f"{base}/queries/tool-mechanisms", params={"tool": "mediation", "format": "html"}
    ).text
    shown = unescape(re.split(r'id="sparql"[^>]*><code>', page)[1].split("</code>", 1)[0])
    assert f"VALUES (?tool) {{ (<{MEDIATION}>) }}" in shown
    link = unescape(re.search(r'href="([^"]*)" id="open-in-editor"', page)[1])  # type: ignore[index]
    assert link.startswith("/#")
    fragment = parse_qs(urlsplit(link).fragment)
    assert fragment["query"] == [shown]
    assert fragment["tabTitle"] == ["tool-mechanisms"]
    assert "+" not in urlsplit(link).fragment  # spaces as %20, which YASGUI decodes
    # The shown text is the query that ran: sent to /sparql, it gives the page's answer.
    direct = httpx.post(f"{base}/sparql", data={"query": shown}, headers={"Accept": SPARQL_JSON})
    ran = httpx.get(f"{base}/queries/tool-mechanisms", params={"tool": "mediation"})
    assert direct.json()["results"] == ran.json()["results"]


def test_the_editor_link_opens_the_query_in_the_editor(built: Settings) -> None:
    """In Chromium: the page's link leads to the home page's editor holding the query that ran."""
    if not (REPO / pages.YASGUI_PACKAGE / "build" / "yasgui.min.js").is_file():
        unavailable("node_modules/@zazuko/yasgui is missing: run `npm ci` in the checkout")
    with serving(built) as site, chromium() as browser:
        page = new_page(browser)
        page.goto(f"{site}/queries/tool-mechanisms?tool=mediation&format=html")
        shown = page.locator("#sparql").inner_text()
        page.click("#open-in-editor")
        page.wait_for_function("() => window.atrocityKgEditor && window.atrocityKgEditor.getTab()")
        query = page.evaluate("() => window.atrocityKgEditor.getTab().getQuery()")
        assert query.strip() == shown.strip()
        assert f"<{MEDIATION}>" in query
        # The page shows the editor, not its top (which clearing the fragment would go back to).
        page.wait_for_function(
            "() => document.getElementById('yasgui').getBoundingClientRect().top"
            " < window.innerHeight"
        )
