"""Every kind of page passes axe-core, the accessibility checker from npm, in Chromium: no
serious or critical violation (headings in order, tables with headers and captions, links and
form fields that say what they are, contrast...).

axe is loaded from ``node_modules/axe-core`` (a devDependency: ``npm ci`` installs it) into each
page; the page's content security policy, which refuses any script it did not send, is bypassed
for that alone (the policy has its own tests). The editor's widget (YASGUI, from npm, built by
others) and the API explorer's (Swagger UI) are left out of the check: their markup is not ours
to fix. The same page loads check that nothing is wider than a 1280-pixel window.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from atrocity_kg.config import Settings
from browser import RECORD_VIOLATIONS, chromium, new_page, unavailable
from conftest import REPO
from server import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

# One page of each kind, by what a reader would call it.
PAGES = {
    "home": "/",
    "catalogue": "/queries",
    "question": "/queries/studies-behind-tool-factor?tool=mediation&format=html",
    "tool": "/id/tool/peace-operations",
    "factor": "/id/factor/large-force",
    "factor-across-tools": "/id/factor/international-support-or-coordination",
    "rating": "/id/assessment/v3/recomputed/research/peace-operations/large-force",
    "mechanism": "/id/mechanism/peace-operations/physical-protection",
    "study": "/id/study/peace-ops-101",
    "strategy": "/id/strategy/protect",
    "release": "/id/release/v3",
    "compare": "/compare?tool=peace-operations&tool=mediation&tool=arms-embargoes",
    "compare-factors": "/compare/factors",
    "compare-releases": "/compare/releases?tool=peace-operations&from=V2&to=V3",
    "api-explorer": "/docs",
    "dataset": "/dataset",
    "dumps": "/dumps/",
    "quality": "/quality",
    "contributions": "/contributions",
    "ontology": "/ontology",
    "error": "/id/tool/no-such-tool",
}

DESKTOP = {"width": 1280, "height": 900}

# The widths that overflow, in CSS pixels: the page itself, and any table that scrolls in its box
# without keeping its row headers in sight (a sticky first column).
OVERFLOWS = """() => {
  const overflows = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) overflows.push(`page ${page.scrollWidth}`);
  for (const box of document.querySelectorAll(".table-scroll, .scroll")) {
    const table = box.querySelector("table");
    const rowHeader = table && table.querySelector("tbody th");
    const sticky = rowHeader && getComputedStyle(rowHeader).position === "sticky";
    if (box.scrollWidth > box.clientWidth && !sticky) {
      overflows.push(`${table ? table.id || table.className : "box"} ${box.scrollWidth}`);
    }
  }
  return overflows;
}"""

RUN_AXE = """async () => {
  const results = await axe.run(
    { exclude: [["#yasgui"], ["#api-explorer"]] },
    { resultTypes: ["violations"] }
  );
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    count: v.nodes.length,
  }));
}"""


@pytest.fixture(scope="module")
def site(built: Settings) -> Iterator[str]:
    with serving(built) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.is_file():
        unavailable(f"{AXE} is missing: run `npm ci` in the checkout")
    with chromium() as launched:
        yield launched


def violations(browser: Browser, url: str) -> list[dict[str, Any]]:
    """axe's violations on the page at ``url``, as a browser asks for it."""
    page = new_page(browser, bypass_csp=True, extra_http_headers={"Accept": "text/html"})
    try:
        page.goto(url)
        page.add_script_tag(path=str(AXE))
        found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    finally:
        page.close()
    return found


@pytest.mark.parametrize("kind", list(PAGES))
def test_no_serious_accessibility_violation(site: str, browser: Browser, kind: str) -> None:
    found = violations(browser, site + PAGES[kind])
    serious = [v for v in found if v["impact"] in SERIOUS]
    assert not serious, "\n".join(
        f"{v['impact']} {v['id']} ({v['count']}x): {v['help']} at {v['targets']}" for v in serious
    )


@pytest.mark.parametrize("kind", list(PAGES))
def test_no_console_error_no_csp_violation_and_no_overflow(
    site: str, browser: Browser, kind: str
) -> None:
    """Each kind of page as a browser loads it, under the content security policy the app sends:
    nothing refused, nothing logged as an error (the error page's own status aside). And at 1280
    pixels nothing scrolls sideways: not the page, and not a table in its own box (a tool's
    latest release, in the last columns of its table, would be out of sight), unless the table
    keeps its row headers in sight as it scrolls (four tools compared in every release are wider
    than any window)."""
    problems: list[str] = []
    page = new_page(browser, viewport=DESKTOP, extra_http_headers={"Accept": "text/html"})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        answer = page.goto(site + PAGES[kind])
        # goto returns at the load event: every image and script has arrived (no wait for the
        # network to fall quiet, which a page that keeps asking never does).
        assert answer is not None
        violations: list[str] = page.evaluate("window.__violations")
        broken = page.evaluate(
            "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src)"
        )
        overflows: list[str] = [] if kind == "api-explorer" else page.evaluate(OVERFLOWS)
    finally:
        page.close()
    if kind == "error":
        assert answer.status == 404
        problems = [p for p in problems if "status of 404" not in p]
    assert violations == []
    assert problems == []
    assert broken == []

    assert overflows == [], f"wider than {DESKTOP['width']} px: {overflows}"
