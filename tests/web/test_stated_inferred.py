"""What the review states and what this project infers, told apart on the strategy, study and
release pages and in every page's folded statements; and a rating's page named by what it rates.
Through the app in this process; the expected values counted from the review's files
(tests/release_csv.py, tests/release_changes_csv.py) and the facts file, never from the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from atrocity_kg.model import iris
from page_tables import read_page
from release_changes_csv import factor_rows, research_levels, tool_names
from release_csv import mechanism_strategies, stated_strategies

BROWSER = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def facts(shared_facts: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("strategy", ["degrade", "protect", "dissuade", "transition"])
def test_a_strategys_tools_are_stated_or_inferred(
    client: TestClient, shared_release: Path, facts: dict[str, Any], strategy: str
) -> None:
    stated = stated_strategies(shared_release, facts)
    implied = mechanism_strategies(facts)
    page = read_page(client.get(f"/page/strategy/{strategy}", headers=BROWSER).text)
    table = page.tables["supports"]
    assert table.columns[1] == "Stated or inferred"
    shown = {}
    for row in table.body:
        tool = row.attrs["data-tool"].rsplit("/", 1)[-1]
        basis = row.cells[1]
        shown[tool] = basis.attrs["data-basis"]
        assert basis.words.split()[0] == basis.attrs["data-basis"]
        # Each links to the justification, which says why.
        assert basis.links == [f"/id/justification/{tool}/{strategy}"]
    expected = {
        slug: "stated" if strategy in stated.get(slug, set()) else "inferred"
        for slug in {*stated, *implied}
        if strategy in stated.get(slug, set()) | implied.get(slug, set())
    }
    assert shown == expected
    inferred = sum(1 for v in expected.values() if v == "inferred")
    assert table.caption.endswith(
        f"{len(expected) - inferred} stated by the review, {inferred} inferred by this project"
    )


def test_peace_operations_degrading_capacity_is_marked_inferred(
    client: TestClient, shared_release: Path, facts: dict[str, Any]
) -> None:
    """The issue's example: the review does not state that peace operations can degrade
    perpetrators' capacity; the project infers it from a mechanism."""
    assert "degrade" not in stated_strategies(shared_release, facts)["peace-operations"]
    assert "degrade" in mechanism_strategies(facts)["peace-operations"]
    page = read_page(client.get("/page/strategy/degrade", headers=BROWSER).text)
    row = next(
        r
        for r in page.tables["supports"].body
        if r.attrs["data-tool"].endswith("/peace-operations")
    )
    assert row.cells[1].words == "inferred the justification"


def test_a_studys_findings_show_the_rating_each_counts_toward(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    tool = tool_names(shared_facts, "peace-operations")
    levels = {code: research_levels(shared_release, code, tool) for code in ("V1", "V2", "V3")}
    page = read_page(client.get("/page/study/peace-ops-101", headers=BROWSER).text)
    assert "stated" in page.elements["findings-basis"]
    assert "inferred" in page.elements["findings-basis"]
    table = page.tables["findings"]
    assert table.columns[-1] == "Counts toward inferred"
    rated = 0
    for row in table.body:
        release, factor_cell, rating = row.cells[0].words, row.cells[2], row.cells[6]
        if factor_cell.words == "overall effect":
            assert rating.words == "no rating"
            continue
        factor = "https://w3id.org/atrocity-kg" + factor_cell.links[0]
        assert rating.words == levels[release][factor][0], (release, factor)
        assert rating.links[0].startswith(f"/id/assessment/{release.lower()}/recomputed/research/")
        rated += 1
    assert rated > 0


def test_a_releases_counts_say_whose_they_are(client: TestClient) -> None:
    html = client.get("/page/release/v3", headers=BROWSER).text
    page = read_page(html)
    assert "stated" in page.elements["counts-basis"]
    for key, basis in (
        ("studies", "stated"),
        ("published", "stated"),
        ("recomputed", "inferred"),
        ("matching", "inferred"),
    ):
        assert f'data-basis="{basis}" data-count="{key}"' in html, key


def test_folded_statements_mark_what_only_the_reasoner_holds(
    client: TestClient, shared_release: Path, facts: dict[str, Any]
) -> None:
    """A tool's akg:supportsStrategy statements are the reasoner's (from the review's
    akg:statedToSupport and from mechanisms): each is marked and links to its justification;
    the review's own akg:statedToSupport are not marked."""
    stated = stated_strategies(shared_release, facts)["peace-operations"]
    implied = mechanism_strategies(facts)["peace-operations"]
    table = read_page(client.get("/page/tool/peace-operations", headers=BROWSER).text).tables[
        "properties"
    ]
    cells = {row.cells[0].words: row.cells[1] for row in table.body}
    supports = cells["akg:supportsStrategy"]
    assert supports.links == [
        link
        for strategy in sorted(stated | implied)
        for link in (f"/id/strategy/{strategy}", f"/id/justification/peace-operations/{strategy}")
    ]
    assert supports.words.count("inferred") == len(stated | implied)
    assert "inferred" not in cells["akg:statedToSupport"].words
    # An inferred type says so too, on a study's page.
    study = read_page(client.get("/page/study/peace-ops-101", headers=BROWSER).text)
    assert "inferred" in study.elements["raw"]


def test_a_ratings_page_is_named_by_what_it_rates(client: TestClient, shared_release: Path) -> None:
    (row,) = [
        r
        for r in factor_rows(shared_release, "V3")
        if r["tool_name"] == "Peace operations"
        and r["Dedoose.name_factor"] != "NA"
        and str(iris.factor(r["Dedoose.name_factor"])).endswith("/large-force")
    ]
    name = row["Name.Final_research"]
    for path, title in (
        (
            "/page/assessment/v3/recomputed/research/peace-operations/large-force",
            f"Peace operations × {name}, research, V3",
        ),
        (
            "/page/assessment/v3/research/peace-operations/large-force",
            f"Peace operations × {name}, research, V3 (published)",
        ),
    ):
        page = read_page(client.get(path, headers=BROWSER).text)
        assert page.elements["title"] == title, path
    assert name == "High quantity of troops"
