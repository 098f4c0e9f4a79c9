"""Tools side by side (/compare) and factors across tools (/compare/factors), over real HTTP on
the embedded and a remote store, and the compare page in headless Chromium.

What the pages and their CSV say is checked against what is counted here from the release's own
all_factors file with the csv module (the review's published ratings: a factor it lists for a
tool, two or more findings, shown as the factor or as its opposite), never against the app's
queries.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from atrocity_kg.model import iris
from browser import RECORD_VIOLATIONS, chromium, new_page
from release_csv import RELEASE_FOLDERS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ID = "https://w3id.org/atrocity-kg/id/"
STRONG_ENOUGH = {"moderate": {"Stronger", "Moderate"}, "relatively-weak": None}


def published_ratings(shared: Path, code: str = "V3") -> list[dict[str, str]]:
    """The ratings the review's site shows in a release: all_factors rows with two or more
    findings, each with our factor IRI (from the factor's code), its tool's name, whether it is
    shown as its opposite, and the published level."""
    folder = shared / "data" / RELEASE_FOLDERS[code]
    with (folder / f"all_factors_{code[1]}.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    shown = []
    for row in rows:
        if row["count"] in ("NA", "") or int(row["count"]) < 2:
            continue
        shown.append(
            {
                "factor": str(iris.factor(row["Dedoose.name_factor"])),
                "tool": row["tool_name"],
                "direction": "against" if row["Name.Final_research"] != row["Name"] else "for",
                "level": row["research_qualitative"],
                "findings": row["count"],
            }
        )
    return shown


def across_from_csv(shared: Path, level: str) -> dict[str, tuple[set[str], set[str]]]:
    """Factor -> (tools for, tools against) among the ratings at ``level`` or above."""
    allowed = STRONG_ENOUGH[level]
    grouped: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for rating in published_ratings(shared):
        if allowed is None or rating["level"] in allowed:
            grouped[rating["factor"]][rating["direction"] == "against"].add(rating["tool"])
    return grouped


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize("level", ["relatively-weak", "moderate"])
def test_factors_across_tools_equal_the_csv(base: str, shared_release: Path, level: str) -> None:
    expected = {
        factor: (sorted(favour), sorted(against))
        for factor, (favour, against) in across_from_csv(shared_release, level).items()
        if len(favour) + len(against) >= 2
    }
    response = httpx.get(f"{base}/compare/factors", params={"level": level, "format": "csv"})
    disposition = response.headers["content-disposition"]
    assert f'filename="factors-across-tools-v3-{level}.csv"' in disposition
    shown = {
        row["factor_iri"]: (
            sorted(filter(None, row["tools_for"].split("; "))),
            sorted(filter(None, row["tools_against"].split("; "))),
        )
        for row in csv_rows(response)
    }
    assert shown == expected


def test_the_issue_questions_answered(base: str, shared_release: Path) -> None:
    """Issue 15 asked which factors point the same way across tools: counting the ratings of
    moderate or stronger evidence in V3, committed implementer is 6 of 6 tools for, and
    international support or coordination 6 tools, one against. The CSV files say so, and the
    page says what they say."""
    moderate = across_from_csv(shared_release, "moderate")
    committed, support = (
        moderate[str(iris.factor("Commitment"))],
        moderate[str(iris.factor("International support or coordination"))],
    )
    assert (len(committed[0]), len(committed[1])) == (6, 0)
    assert (len(support[0]), len(support[1])) == (5, 1)
    html = httpx.get(f"{base}/compare/factors", params={"level": "moderate"}).text
    for factor, (favour, against) in (
        ("commitment", committed),
        ("international-support-or-coordination", support),
    ):
        row = html.split(f'data-factor="{ID}factor/{factor}"', 1)[1].split("</tr>", 1)[0]
        tools = len(favour) + len(against)
        assert f'data-tools="{tools}" data-for="{len(favour)}" data-against="{len(against)}"' in row
        words = (
            f"{tools} tools, all for"
            if not against
            else (f"{tools} tools, {len(favour)} for, {len(against)} against")
        )
        assert words in row


def test_compare_two_tools_equals_the_csv(base: str, shared_release: Path) -> None:
    names = {"peace-operations": "Peace operations", "mediation": "Mediation"}
    expected = {
        (r["tool"], r["factor"]): (r["direction"], r["findings"])
        for r in published_ratings(shared_release)
        if r["tool"] in names.values()
    }
    response = httpx.get(f"{base}/compare", params={"tool": list(names), "format": "csv"})
    assert (
        'filename="compare-peace-operations-mediation.csv"'
        in response.headers["content-disposition"]
    )
    rows = csv_rows(response)
    assert {r["release"] for r in rows} <= set(RELEASE_FOLDERS)
    shown = {
        (r["tool"], r["factor_iri"]): (r["direction"], r["findings"])
        for r in rows
        if r["release"] == "V3"
    }
    assert shown == expected
    # Shared or unique, same or opposite: as the release's ratings say.
    by_factor: dict[str, dict[str, str]] = defaultdict(dict)
    for (tool, factor), (direction, _) in expected.items():
        by_factor[factor][tool] = direction
    for row in rows:
        tools = by_factor.get(row["factor_iri"], {})
        if len(tools) == 1:
            assert row["comparison_in_latest_release"] == f"only {next(iter(tools))}"
        elif len(tools) == 2:
            same = len(set(tools.values())) == 1
            assert row["comparison_in_latest_release"] == (
                "2 tools, same direction" if same else "2 tools, opposite directions"
            )
        else:
            assert row["comparison_in_latest_release"] == "earlier releases only"

    # The page: one row per factor, with the summary's counts.
    html = httpx.get(f"{base}/compare", params={"tool": list(names)}).text
    statuses = [
        "only" if len(t) == 1 else "same" if len(set(t.values())) == 1 else "opposite"
        for t in by_factor.values()
    ]
    for status in ("same", "opposite"):
        assert f'<span data-count="{status}">{statuses.count(status)}</span>' in html
    for key, name in names.items():
        alone = sum(1 for t in by_factor.values() if list(t) == [name])
        assert f'data-count="only" data-tool="{key}">{alone}</span>' in html
    # The picture: one square per rating of the latest release, its direction as the CSV says,
    # each with its words in a <title>; no script in it.
    svg = html.split('id="matrix"', 1)[1].split("</figure>", 1)[0]
    assert "<script" not in svg
    for direction in ("for", "against"):
        squares = len(re.findall(f'<rect [^>]*data-direction="{direction}"', svg))
        assert squares == sum(1 for d, _ in expected.values() if d == direction), direction
    assert svg.count("<title>") >= len(expected)
    assert html.count('data-status="same"') == statuses.count("same")
    assert html.count('data-status="opposite"') == statuses.count("opposite")


def test_compare_one_release_only(base: str, shared_release: Path) -> None:
    params = {"tool": ["prosecutions", "arms-embargoes", "mediation"], "release": "v3"}
    rows = csv_rows(httpx.get(f"{base}/compare", params={**params, "format": "csv"}))
    assert {r["release"] for r in rows} == {"V3"}
    names = {"Prosecutions", "Arms embargoes", "Mediation"}
    assert len(rows) == sum(1 for r in published_ratings(shared_release) if r["tool"] in names)


def test_compare_refuses_what_it_cannot_compare(base: str) -> None:
    page = {"accept": "text/html"}
    one = httpx.get(f"{base}/compare", params={"tool": "mediation"}, headers=page)
    assert one.status_code == 400
    assert "Choose 2 to 4 tools" in one.text
    five = httpx.get(
        f"{base}/compare",
        params={
            "tool": ["mediation", "prosecutions", "peace-operations", "fact", "arms-embargoes"]
        },
        headers=page,
    )
    assert five.status_code == 404  # 'fact' names no reviewed tool
    assert "&#39;fact&#39;" in five.text
    unknown = httpx.get(
        f"{base}/compare", params={"tool": ["mediation", "sanctions"]}, headers=page
    )
    assert unknown.status_code == 404
    # Close matches: the tools whose key or label has the word, each keeping the tools chosen.
    assert 'href="/compare?tool=mediation&amp;tool=targeted-sanctions"' in unknown.text
    assert 'href="/compare?tool=mediation&amp;tool=diplomatic-sanctions"' in unknown.text
    as_csv = httpx.get(f"{base}/compare", params={"tool": "mediation", "format": "csv"})
    assert as_csv.status_code == 400
    assert httpx.get(f"{base}/compare", params={"release": "V9"}).status_code == 404
    # The form alone: every reviewed tool is a checkbox with its label.
    form = httpx.get(f"{base}/compare", headers=page)
    assert form.status_code == 200
    assert 'name="tool" value="peace-operations"' in form.text


def test_every_csv_answer_is_a_named_file(base: str) -> None:
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/atrocity-kg/ontology#ReviewedTool> }"
    for name, extension in (("csv", "csv"), ("tsv", "tsv")):
        response = httpx.get(f"{base}/sparql", params={"query": query, "format": name})
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (
            f'inline; filename="sparql-results.{extension}"'
        )
    json_answer = httpx.get(f"{base}/sparql", params={"query": query})
    assert "content-disposition" not in json_answer.headers
    # Every other CSV answer of the app names its file too: the catalogue's and the report's.
    for path, filename in (
        ("/queries/tool-mechanisms?format=csv", "tool-mechanisms.csv"),
        ("/quality?format=csv", "quality.csv"),
    ):
        response = httpx.get(f"{base}{path}")
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="{filename}"' in response.headers["content-disposition"]


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_compare_page_in_a_browser(base: str, browser: Browser, store_mode: str) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: problems.append(message.text))
    page.goto(f"{base}/compare")
    # Tick two tools and submit the form, as a person would.
    page.get_by_label("Peace operations").check()
    page.get_by_label("Mediation", exact=True).check()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#comparison")).to_be_visible()
    assert "tool=peace-operations" in page.url or "tool=mediation" in page.url
    expect(page.locator("#comparison caption")).to_contain_text("per factor, tool and release")
    expect(page.locator("#comparison thead th.tool")).to_have_count(2)
    assert page.locator('#comparison tbody tr[data-status="opposite"]').count() > 0
    expect(page.locator("#csv-link")).to_have_attribute("type", "text/csv")
    page.screenshot(path=f"/tmp/compare-page-{store_mode}.png", full_page=False)
    page.goto(f"{base}/compare/factors?level=moderate")
    expect(page.locator("#across caption")).to_contain_text("most tools first")
    row = page.locator(f'#across tr[data-factor="{ID}factor/commitment"]')
    expect(row.locator("td.summary")).to_have_text("6 tools, all for")
    page.screenshot(path=f"/tmp/compare-factors-{store_mode}.png", full_page=False)
    violations = page.evaluate("window.__violations")
    assert violations == []
    assert problems == []
