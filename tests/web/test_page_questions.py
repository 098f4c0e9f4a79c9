"""The three questions a researcher asked in the first ten minutes (issue 15), answered through the
pages alone, as a person would: open a page, read its tables or follow its download link. Each
expected answer is counted here from the review's CSV files (../shared/ushmm-data), never from
the app; without them the tests are skipped.

(a) Which factors point the same way for several tools? /compare/factors, release V3, ratings of
    moderate or stronger evidence: committed implementer 6 of 6 tools for; international
    support or coordination 6 tools, one against.
(b) What changed for one tool between two releases, published ratings included?
    /compare/releases for peace operations, V2 to V3.
(c) Everything about arms embargoes as a spreadsheet: the CSV the tool's page links.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from atrocity_kg.model import iris
from page_tables import read_page
from release_changes_csv import Change, expected, factor_rows
from release_csv import OUTCOME_LABELS, RELEASE_FOLDERS, finding_key, release_rows

BROWSER = {"Accept": "text/html"}
MODERATE_OR_STRONGER = {"Stronger", "Moderate"}


def slugs(facts: Path) -> dict[str, str]:
    """A tool's name in the files -> its key in the site's addresses."""
    tools = yaml.safe_load(facts.read_text(encoding="utf-8"))["tools"]
    return {t["name"]: t["slug"] for t in tools}


# --- (a) factors pointing the same way across tools -------------------------------------------


def across_from_files(shared: Path, facts: Path) -> dict[str, tuple[set[str], set[str]]]:
    """Factor IRI -> (tools whose findings point for it, tools pointing against it), over the
    ratings V3's all_factors file publishes with two or more findings (the ones the review's
    site shows) at moderate or relatively strong evidence. A rating points against its factor
    where the review shows the opposite (Name.Final_research is not the factor's Name)."""
    keys = slugs(facts)
    grouped: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for row in factor_rows(shared, "V3"):
        if row["count"] in ("NA", "") or int(row["count"]) < 2:
            continue
        if row["research_qualitative"] not in MODERATE_OR_STRONGER:
            continue
        against = row["Name.Final_research"] != row["Name"]
        factor = str(iris.factor(row["Dedoose.name_factor"]))
        grouped[factor][against].add(keys[row["tool_name"]])
    return grouped


def test_a_which_factors_point_the_same_way(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    files = {
        factor: sides
        for factor, sides in across_from_files(shared_release, shared_facts).items()
        if len(sides[0]) + len(sides[1]) >= 2
    }
    response = client.get(
        "/compare/factors", params={"release": "V3", "level": "moderate"}, headers=BROWSER
    )
    assert response.status_code == 200
    table = read_page(response.text).tables["across"]
    assert table.columns == ["Factor", "Tools", "In short", "For", "Against"]
    shown = {}
    for row in table.body:
        favour, against = (
            {href.removeprefix("/id/tool/") for href in cell.links if href.startswith("/id/tool/")}
            for cell in row.cells[3:5]
        )
        shown[row.attrs["data-factor"]] = (favour, against, row.cells[2].words)
        assert int(row.cells[1].words) == len(favour) + len(against)
    assert {f: (a, b) for f, (a, b, _) in shown.items()} == files
    # Most tools first.
    counts = [int(row.cells[1].words) for row in table.body]
    assert counts == sorted(counts, reverse=True)

    # The answers: as the files count them, and in the page's words.
    committed = str(iris.factor("Commitment"))
    support = str(iris.factor("International support or coordination"))
    assert (len(files[committed][0]), len(files[committed][1])) == (6, 0)
    assert (len(files[support][0]), len(files[support][1])) == (5, 1)
    assert shown[committed][2] == "6 tools, all for"
    assert shown[support][2] == "6 tools, 5 for, 1 against"
    # No factor is rated for more tools at this level.
    assert max(counts) == 6
    # The same answer as CSV, a named file.
    as_csv = client.get("/compare/factors?release=V3&level=moderate&format=csv")
    assert (
        'filename="factors-across-tools-v3-moderate.csv"' in (as_csv.headers["content-disposition"])
    )
    rows = {r["factor_iri"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert (rows[committed]["for"], rows[committed]["against"]) == ("6", "0")
    assert (rows[support]["for"], rows[support]["against"]) == ("5", "1")


# --- (b) what changed for one tool between two releases ----------------------------------------


def counts(changes: set[Change]) -> dict[str, int]:
    return {
        "appeared": sum(1 for c in changes if c[1] == "appeared"),
        "vanished": sum(1 for c in changes if c[1] == "vanished"),
        "stronger": sum(1 for c in changes if c[2] == "stronger"),
        "weaker": sum(1 for c in changes if c[2] == "weaker"),
        "another score": sum(1 for c in changes if c[1] == "score changed"),
    }


def test_b_what_changed_for_peace_operations_from_v2_to_v3(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    files = expected(shared_release, shared_facts, "peace-operations", "V2", "V3")
    tool_page = client.get("/page/tool/peace-operations", headers=BROWSER).text
    # The tool's page leads there.
    link = "/compare/releases?tool=peace-operations&amp;from=V2&amp;to=V3"
    assert f'href="{link}"' in tool_page
    page = read_page(client.get(link.replace("&amp;", "&"), headers=BROWSER).text)
    before, after = files.studies
    assert page.elements["summary-studies"] == (
        f"Studies: {len(before)} in V2, {len(after)} in V3; "
        f"{len(files.added)} added, {len(files.removed)} removed."
    )
    for key, changes in (
        ("recomputed-research", files.recomputed["research"]),
        ("recomputed-practitioners", files.recomputed["practitioners"]),
        ("published-research", files.published["research"]),
        ("published-practitioners", files.published["practitioners"]),
    ):
        n = counts(changes)
        words = page.elements[f"summary-{key}"]
        for change in ("appeared", "vanished", "stronger", "weaker"):
            assert f" {n[change]} {change}" in words, (key, words)
        if key.startswith("published"):
            assert f" {n['another score']} with another score at the same level" in words
        # Each change is a row of its table, named by its factor.
        table = page.tables.get(key)
        assert len(table.body if table else []) == len(changes), key
    # What the files say, which the page says: V3 drops studies and adds none, and changes a
    # published research rating of peace operations.
    assert files.removed
    assert not files.added
    assert files.published["research"]


# --- (c) everything about arms embargoes as a spreadsheet --------------------------------------


def test_c_everything_about_arms_embargoes_as_a_spreadsheet(
    client: TestClient, shared_release: Path
) -> None:
    found = client.get("/id/tool/arms-embargoes", headers=BROWSER)
    assert found.status_code == 303
    page = read_page(client.get(found.headers["location"], headers=BROWSER).text)
    link = page.links["download-csv"]
    assert page.elements["download-csv"] == "Every finding about Arms embargoes (CSV)"
    # The studies for reference managers, and the graph's own description, beside it.
    assert {page.links[k] for k in ("download-bibtex", "download-ris", "download-jsonld")} == {
        "/download/tool/arms-embargoes.bib",
        "/download/tool/arms-embargoes.ris",
        "/data/tool/arms-embargoes.jsonld",
    }
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="tool-arms-embargoes-findings.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        *("release", "study", "title", "year", "doi", "tool", "factor", "outcome"),
        *("direction", "finding", "study_iri", "tool_iri", "factor_iri"),
    ]
    # Every finding on arms embargoes in every release, as the files count them (identical
    # records once): release, study, outcome and direction, on a factor or the overall effect.
    files: Counter[tuple[str, str, bool, str, str]] = Counter()
    for code in RELEASE_FOLDERS:
        keys = {
            finding_key(r)
            for r in release_rows(shared_release, code)
            if r["Tool"].startswith("Arms embargoes")
        }
        for study, _, factor, outcome, direction in keys:
            files[(code, study, factor == "overall", OUTCOME_LABELS[outcome], direction)] += 1
    shown = Counter(
        (r["release"], r["study"], r["factor_iri"] == "", r["outcome"], r["direction"])
        for r in rows
    )
    assert shown == files
    assert {r["tool"] for r in rows} == {"Arms embargoes"}
    assert {r["factor"] for r in rows if not r["factor_iri"]} == {"overall effect"}
