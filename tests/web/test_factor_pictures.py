"""A factor's page lists the same factor as rated for every tool (for it or against it), and the
tables of a tool's factors and a factor's tools draw each row's research level per release as a
picture (/chart/...svg, a view per row, its levels in words as alt text).

Expected values come from the review's CSV files (``all_factors_N.csv``: the level the review
publishes for each tool and factor, the factor shown as its opposite where the findings point
against it), read here with the csv module, never from the app's queries.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from atrocity_kg.model import iris
from browser import RECORD_VIOLATIONS, chromium, new_page
from release_csv import LEVEL_LABELS, RELEASE_FOLDERS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ID = "https://w3id.org/atrocity-kg/id/"
CODES = tuple(RELEASE_FOLDERS)
NAME_COLUMN = {"V1": "Name.Final", "V2": "Name.Final", "V3": "Name.Final_research"}
STEPS = {"relatively weak": 1, "moderate": 2, "relatively strong": 3}
PAGE_LIMIT = 150_000


def published(shared: Path, code: str) -> list[dict[str, str]]:
    """The rows of a release's all_factors file that the review's site shows (2+ findings)."""
    path = shared / "data" / RELEASE_FOLDERS[code] / f"all_factors_{code[1]}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle)
            if row["count"] not in ("NA", "") and int(row["count"]) >= 2
        ]


def shown_iri(row: dict[str, str]) -> str:
    """The factor as the review shows it: its opposite where the findings point against it."""
    code = row["Dedoose.name_factor"]
    if row["inversion_with_neg_strength"] == "1":
        return str(iris.opposite_factor(code))
    return str(iris.factor(code))


def in_words(levels: list[str]) -> str:
    """'V1 relatively weak, V2–V3 moderate': releases with the same level run together."""
    runs: list[list[str]] = []
    for code, level in zip(CODES, levels, strict=True):
        if runs and runs[-1][2] == level:
            runs[-1][1] = code
        else:
            runs.append([code, code, level])
    return ", ".join(
        f"{first}{'' if first == last else '–' + last} {level}" for first, last, level in runs
    )


def get(client: TestClient, path: str) -> str:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, (path, response.text[:300])
    text: str = response.text
    return text


def part(html: str, ident: str, end: str) -> str:
    return html.split(f'id="{ident}"', 1)[1].split(end, 1)[0]


# --- the same factor for every tool ---------------------------------------------------------------

ACROSS_ROW = re.compile(
    r'<tr data-tool="([^"]*)" data-direction="(for|against)"><th scope="row">'
    r'<a href="[^"]*">([^<]*)</a></th><td>(?:for|against)</td><td><a href="([^"]*)"[^>]*>'
    r"([^<]*)</a></td><td>(\d+)</td><td><a href=\"/id/factor/([^\"]*)\">"
)


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("international-support-or-coordination", "International support or coordination"),
        ("biased-intervener-or-intervention--opposite", "Biased intervener or intervention"),
        ("large-force", "Large_force"),
    ],
)
def test_factor_page_lists_the_factor_for_every_tool(
    client: TestClient, shared_release: Path, key: str, code: str
) -> None:
    """Every tool with a V3 rating on the factor or its opposite: the level and findings the
    review publishes, for it where the review shows this factor, against it where it shows the
    opposite; each level links to the tool's rating."""
    this = f"{ID}factor/{key}"
    expected = {
        row["tool_name"]: (
            "for" if shown_iri(row) == this else "against",
            LEVEL_LABELS[row["research_qualitative"]],
            int(row["count"]),
        )
        for row in published(shared_release, "V3")
        if row["Dedoose.name_factor"] == code
    }
    assert expected, code
    html = get(client, f"/page/factor/{key}")
    rows = ACROSS_ROW.findall(part(html, "factor-across", "</table>"))
    shown = {
        unescape(name): (way, unescape(level), int(n)) for _, way, name, _, level, n, _ in rows
    }
    assert shown == expected
    rating = str(
        iris.recomputed_assessment("V3", "research", ID + "tool/x", str(iris.factor(code)))
    )
    for tool, way, _, href, _, _, shown_key in rows:
        tool_key = tool.rsplit("/", 1)[1]
        assert href == "/id/" + rating.removeprefix(ID).replace("/x/", f"/{tool_key}/"), href
        assert (shown_key == key) == (way == "for")
    favour = sum(1 for way, _, _ in expected.values() if way == "for")
    summary = " ".join(
        unescape(re.sub(r"<[^>]+>", "", part(html, "across-summary", "</p>"))).split()
    )
    tools = f"{len(expected)} tool{'s' if len(expected) != 1 else ''}"
    assert f"rated for {tools}: the findings point for it for {favour}," in summary
    assert f"against it for {len(expected) - favour}" in summary


@pytest.mark.parametrize("code", ["V2", "V3"])
def test_rating_page_lists_the_factor_for_the_other_tools(
    client: TestClient, shared_release: Path, code: str
) -> None:
    """A rating's page lists the factor it rates, as shown, for every other tool rated on it in
    the rating's release, with the direction read for the factor shown here."""
    factor = "International support or coordination"
    this = str(iris.factor(factor))
    expected = {
        row["tool_name"]: (
            "for" if shown_iri(row) == this else "against",
            LEVEL_LABELS[row["research_qualitative"]],
            int(row["count"]),
        )
        for row in published(shared_release, code)
        if row["Dedoose.name_factor"] == factor and row["tool_name"] != "Peace operations"
    }
    assert len(expected) > 3
    key = this.rsplit("/", 1)[1]
    html = get(
        client, f"/page/assessment/{code.lower()}/recomputed/research/peace-operations/{key}"
    )
    rows = ACROSS_ROW.findall(part(html, "rating-other-tools", "</table>"))
    shown = {
        unescape(name): (way, unescape(level), int(n)) for _, way, name, _, level, n, _ in rows
    }
    assert shown == expected
    assert all(href.startswith(f"/id/assessment/{code.lower()}/") for _, _, _, href, *_ in rows)


# --- the pictures ---------------------------------------------------------------------------------

IMAGE_ROW = re.compile(
    r'<tr><th scope="row"><a href="/id/factor/([^"]*)">[^<]*</a></th>'
    r'<td><img src="(/chart/tool/peace-operations\.svg)#([^"]*)" alt="([^"]*)"></td>'
)


def expected_levels(shared: Path, tool_name: str) -> dict[str, list[str]]:
    """Per factor as shown (IRI): the published research level in V1, V2, V3 ('no rating')."""
    levels: dict[str, list[str]] = {}
    for n, code in enumerate(CODES):
        for row in published(shared, code):
            if row["tool_name"] == tool_name:
                levels.setdefault(shown_iri(row), ["no rating"] * len(CODES))[n] = LEVEL_LABELS[
                    row["research_qualitative"]
                ]
    return levels


def test_tool_table_draws_each_factor_across_releases(
    client: TestClient, shared_release: Path
) -> None:
    """Each row of the peace-operations table shows its view of the table's one picture, with
    the published levels of V1 to V3 in words; the picture draws them as bars one step high per
    level, and the page stays under 150 KB."""
    response = client.get("/page/tool/peace-operations")
    assert len(response.content) < PAGE_LIMIT
    rows = IMAGE_ROW.findall(part(response.text, "evidence", "</table>"))
    table_rows = part(response.text, "evidence", "</table>").count('<tr><th scope="row">')
    assert len(rows) == table_rows > 40
    published_levels = expected_levels(shared_release, "Peace operations")
    # A row the review rates in no release: a factor only practitioners cite.
    expected = {
        factor: published_levels.get(f"{ID}factor/{factor}", ["no rating"] * len(CODES))
        for factor, _, _, _ in rows
    }
    assert sum(1 for levels in expected.values() if set(levels) != {"no rating"}) > 40
    for factor, _, view, alt in rows:
        assert view == factor
        assert unescape(alt) == in_words(expected[factor]), factor

    picture = client.get("/chart/tool/peace-operations.svg")
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/svg+xml"
    assert "<script" not in picture.text
    assert "<style" not in picture.text
    again = client.get(
        "/chart/tool/peace-operations.svg", headers={"If-None-Match": picture.headers["etag"]}
    )
    assert again.status_code == 304
    for factor, _, view, _ in rows:
        drawn = picture.text.split(f'<view id="{view}" ', 1)[1].split("</g>", 1)[0]
        heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', drawn)]
        steps = [STEPS.get(level, 0) for level in expected[factor]]
        assert [h // 6 for h in heights] == steps, factor
        assert [unescape(c) for c in re.findall(r'font-size="8"[^>]*>(V\d)<', drawn)] == list(CODES)


def test_factor_table_draws_each_tool(client: TestClient, shared_release: Path) -> None:
    """On a factor's page, the rows are tools: each row's alt text is that tool's published
    levels of the factor in V1 to V3."""
    html = get(client, "/page/factor/large-force")
    rows = re.findall(
        r'<tr><th scope="row"><a href="/id/tool/([^"]*)">([^<]*)</a></th>'
        r'<td><img src="/chart/factor/large-force\.svg#([^"]*)" alt="([^"]*)"></td>',
        part(html, "factor-tools", "</table>"),
    )
    assert rows
    for tool, name, view, alt in rows:
        assert view == tool
        levels = expected_levels(shared_release, unescape(name))[f"{ID}factor/large-force"]
        assert unescape(alt) == in_words(levels), tool
    assert client.get("/chart/factor/large-force.svg").status_code == 200


def test_an_unknown_chart_is_a_404(client: TestClient) -> None:
    assert client.get("/chart/tool/no-such-tool.svg").status_code == 404
    assert client.get("/chart/study/peace-ops-101.svg").status_code in (404, 422)


# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_the_pictures_in_a_browser(base: str, browser: Browser) -> None:
    """The tool's and a factor's tables show their pictures from one request each, every row's
    picture drawn at the size of one chart; no console error, no CSP violation."""
    problems: list[str] = []
    charts: list[str] = []
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request", lambda request: charts.append(request.url) if "/chart/" in request.url else None
    )
    for path, table in (
        ("/page/tool/peace-operations", "#evidence"),
        ("/page/factor/international-support-or-coordination", "#factor-tools"),
    ):
        charts.clear()
        page.goto(base + path)  # returns at the load event: every image has arrived
        images = page.locator(f"{table} td > img")
        assert images.count() > 0
        sizes = images.evaluate_all(
            "all => all.map(i => [i.complete, i.naturalWidth > 0, i.width, i.height])"
        )
        assert all(done and loaded for done, loaded, _, _ in sizes), path
        assert {(w, h) for _, _, w, h in sizes} == {(50, 32)}, path
        assert len({url for url in charts if "/chart/" in url}) == 1, charts
        problems.extend(page.evaluate("window.__violations"))
    page.close()
    assert problems == []
