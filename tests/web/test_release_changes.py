"""What changed for one tool between two releases (/compare/releases), through the app in this
process: the page's tables and its CSV against what tests/release_changes_csv.py counts from the
review's files, the links to it, and what it refuses; and the page in headless Chromium (no
console error, no CSP violation, no serious axe-core violation).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from browser import RECORD_VIOLATIONS, chromium, new_page, unavailable
from conftest import REPO
from page_tables import Page, read_page
from release_changes_csv import Change, Expected, expected, tool_names

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BROWSER = {"Accept": "text/html"}
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    count: v.nodes.length,
  }));
}"""
CASES = [
    ("peace-operations", "V2", "V3"),
    ("mediation", "V1", "V3"),
    ("targeted-sanctions", "V2", "V3"),
    ("arms-embargoes", "V3", "V1"),
]
BASIS_WORDS = {"research": "research", "practitioners": "practitioners' interviews"}
EXTRA = re.compile(r" (\d+ findings?|score \S+|share \S+)$")


def page_changes(page: Page, key: str) -> set[Change]:
    """(factor, change, direction, level before, level after) of one table of the page."""
    table = page.tables.get(key)
    if table is None:
        return set()
    found = set()
    for row in table.body:
        levels = [EXTRA.sub("", cell.words) for cell in row.cells[2:4]]
        levels = ["" if level == "not rated" else level for level in levels]
        found.add(
            (
                row.attrs["data-factor"],
                row.attrs["data-change"],
                row.attrs.get("data-direction", ""),
                levels[0],
                levels[1],
            )
        )
    return found


def csv_changes(rows: list[dict[str, str]], what: str, basis: str) -> set[Change]:
    return {
        (r["subject_iri"], r["change"], r["direction"], r["from_level"], r["to_level"])
        for r in rows
        if r["what"] == what and r["basis"] == BASIS_WORDS[basis]
    }


@pytest.fixture(scope="module")
def facts_file(shared_facts: Path) -> Path:
    return shared_facts


@pytest.mark.parametrize(("tool", "earlier", "later"), CASES, ids="-".join)
def test_the_page_and_its_csv_say_what_the_files_say(
    client: TestClient,
    shared_release: Path,
    facts_file: Path,
    tool: str,
    earlier: str,
    later: str,
) -> None:
    files: Expected = expected(shared_release, facts_file, tool, earlier, later)
    params = {"tool": tool, "from": earlier, "to": later}
    response = client.get("/compare/releases", params=params, headers=BROWSER)
    assert response.status_code == 200, response.text[:300]
    page = read_page(response.text)
    # The studies: counts in the summary, each added or removed one in the table.
    summary = page.elements["summary"]
    before, after = files.studies
    assert (
        f"Studies: {len(before)} in {earlier}, {len(after)} in {later}; "
        f"{len(files.added)} added, {len(files.removed)} removed."
    ) in summary
    shown = (
        {
            (row.attrs["data-study"], row.attrs["data-change"])
            for row in page.tables["study-changes"].body
        }
        if "study-changes" in page.tables
        else set()
    )
    assert shown == {(s, "added") for s in files.added} | {(s, "removed") for s in files.removed}
    # The ratings, recomputed and published, on each basis.
    for basis in ("research", "practitioners"):
        assert page_changes(page, f"recomputed-{basis}") == files.recomputed[basis], basis
        assert page_changes(page, f"published-{basis}") == files.published[basis], basis

    # The same as CSV, a named file.
    as_csv = client.get("/compare/releases", params={**params, "format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    name = f"changes-{tool}-{earlier.lower()}-{later.lower()}.csv"
    assert as_csv.headers["content-disposition"] == f'inline; filename="{name}"'
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {(r["tool"], r["from_release"], r["to_release"]) for r in rows} == {
        (tool_names(facts_file, tool).name, earlier, later)
    }
    assert {(r["subject_iri"], r["change"]) for r in rows if r["what"] == "study"} == {
        (s, "added") for s in files.added
    } | {(s, "removed") for s in files.removed}
    for basis in ("research", "practitioners"):
        assert csv_changes(rows, "recomputed rating", basis) == files.recomputed[basis], basis
        assert csv_changes(rows, "published rating", basis) == files.published[basis], basis
        # Published scores as the files print them (research: the vote score; practitioners:
        # the share to two decimals).
        old, new = files.published_scores[basis]
        for r in rows:
            if r["what"] == "published rating" and r["basis"] == BASIS_WORDS[basis]:
                factor = r["subject_iri"]
                if r["from_score"]:
                    assert Decimal(r["from_score"]) == old[factor][1], (basis, factor)
                if r["to_score"]:
                    assert Decimal(r["to_score"]) == new[factor][1], (basis, factor)


def test_links_lead_to_the_page(client: TestClient) -> None:
    tool = client.get("/page/tool/mediation", headers=BROWSER).text
    links = re.findall(r'href="(/compare/releases\?[^"]+)"', tool)
    assert "/compare/releases?tool=mediation&amp;from=V2&amp;to=V3" in links
    assert "/compare/releases?tool=mediation&amp;from=V1&amp;to=V2" in links
    release = client.get("/page/release/v3", headers=BROWSER).text
    assert 'href="/compare/releases?tool=mediation&amp;from=V2&amp;to=V3"' in release
    first = client.get("/page/release/v1", headers=BROWSER).text
    assert "/compare/releases" not in first  # no release before the first
    compare = client.get("/compare", headers=BROWSER).text
    assert 'href="/compare/releases"' in compare
    # The form alone, the latest release and the one before chosen.
    form = read_page(client.get("/compare/releases", headers=BROWSER).text)
    assert "summary" not in form.elements
    html = client.get("/compare/releases", headers=BROWSER).text
    assert '<option value="V2" selected>' in html
    assert '<option value="V3" selected>' in html


def test_what_it_refuses(client: TestClient) -> None:
    unknown = client.get("/compare/releases", params={"tool": "sanction"}, headers=BROWSER)
    assert unknown.status_code == 404
    problem = read_page(unknown.text).elements["problem"]
    assert "No reviewed tool has the key 'sanction'." in problem
    # Close matches: the tools whose key holds the word, keeping the releases chosen.
    assert 'href="/compare/releases?tool=targeted-sanctions&amp;from=V2&amp;to=V3"' in (
        unknown.text
    )
    assert "Diplomatic sanctions" in problem
    release = client.get(
        "/compare/releases", params={"tool": "mediation", "from": "V9"}, headers=BROWSER
    )
    assert release.status_code == 404
    assert read_page(release.text).elements["problem"] == (
        "No release has the code 'V9'; the releases are V1, V2, V3."
    )
    same = client.get("/compare/releases", params={"tool": "mediation", "from": "v3", "to": "V3"})
    assert same.status_code == 400
    as_csv = client.get("/compare/releases", params={"tool": "nothing", "format": "csv"})
    assert as_csv.status_code == 404
    assert as_csv.text == "No reviewed tool has the key 'nothing'.\n"
    no_tool = client.get("/compare/releases", params={"format": "csv"})
    assert no_tool.status_code == 400
    assert client.get("/compare/releases", headers={"Accept": "image/png"}).status_code == 406


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.is_file():
        unavailable(f"{AXE} is missing: run `npm ci` in the checkout")
    with chromium() as launched:
        yield launched


def test_the_page_in_a_browser(embedded_base: str, browser: Browser) -> None:
    """Chosen with the form as a person would; no console error, no content-security-policy
    violation, no serious accessibility violation (axe-core)."""
    from playwright.sync_api import expect

    problems: list[str] = []
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: problems.append(message.text))
    page.goto(f"{embedded_base}/compare/releases")
    page.get_by_label("Tool", exact=True).select_option(label="Peace operations")
    page.get_by_label("from", exact=True).select_option("V2")
    page.get_by_label("to", exact=True).select_option("V3")
    page.get_by_role("button", name="Show the changes").click()
    expect(page.locator("h1")).to_have_text("Peace operations: what changed from V2 to V3")
    assert "tool=peace-operations" in page.url
    expect(page.locator("#published-research caption")).to_contain_text("Published ratings")
    expect(page.locator("#csv-link")).to_have_attribute("type", "text/csv")
    page.screenshot(path="/tmp/release-changes-page.png", full_page=True)
    assert page.evaluate("window.__violations") == []
    assert problems == []
    page.close()
    checked = new_page(browser, bypass_csp=True, extra_http_headers={"Accept": "text/html"})
    checked.goto(f"{embedded_base}/compare/releases?tool=peace-operations&from=V2&to=V3")
    checked.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = checked.evaluate(RUN_AXE)
    checked.close()
    serious = [v for v in found if v["impact"] in SERIOUS]
    assert not serious, "\n".join(
        f"{v['impact']} {v['id']} ({v['count']}x): {v['help']} at {v['targets']}" for v in serious
    )
