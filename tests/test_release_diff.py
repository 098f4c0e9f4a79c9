"""Releases compared: the release-* catalogue queries and `atrocity-kg diff`.

The expected results (V2 to V3) are recomputed from the USHMM files with the csv module, and the
queries are run for other pairs of releases on the built store and checked the same way (skipped
without ../shared): studies from all_sources_N.csv (Tool, Index.Number), research levels and
finding counts from all_factors_N.csv (tool_name, Name, Dedoose.name_factor, count,
research_qualitative), never from our own output.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from queries_support import as_plain, load_expected, run_catalogue_query
from test_release_data import ID, RELEASE_FOLDERS, _rows

runner = CliRunner()

STUDIES, CHANGES, APPEARED = (
    "release-studies-added",
    "release-level-changes",
    "release-factors-appeared-vanished",
)
RANK = {"None available": 0, "Weaker": 1, "Moderate": 2, "Stronger": 3}
LEVEL_LABELS = {
    "Stronger": "relatively strong",
    "Moderate": "moderate",
    "Weaker": "relatively weak",
    "None available": "none available",
}
OTHER_PAIRS = [("V1", "V2"), ("V1", "V3"), ("V3", "V2"), ("V3", "V3")]

Level = tuple[str, int]
"""A research level as the site codes it, and the number of findings behind it."""


def _slug(text: str) -> str:
    """The key an IRI ends with: ASCII, lower case, runs of other characters turned into '-'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join("".join(c if c.isalnum() else " " for c in folded.lower()).split())


def _release(code: str) -> str:
    return f"{ID}release/{code.lower()}"


@pytest.fixture(scope="module")
def tools(shared_facts: Path) -> dict[str, str]:
    """Tool IRIs by the tool's Dedoose code (Tool columns) and by its name (tool_name)."""
    entries = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))["tools"]
    keys = {t["dedoose_code"]: f"{ID}tool/{t['slug']}" for t in entries}
    keys.update({t["name"].lower(): f"{ID}tool/{t['slug']}" for t in entries})
    return keys


@pytest.fixture(scope="module")
def tool_names(shared_facts: Path) -> dict[str, str]:
    entries = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))["tools"]
    return {f"{ID}tool/{t['slug']}": t["name"] for t in entries}


def studies_from_csv(shared: Path, tools: dict[str, str], code: str) -> dict[str, set[str]]:
    """Per tool, the index numbers of the studies its findings in all_sources_N.csv cite."""
    studies: dict[str, set[str]] = {}
    for row in _rows(shared, code):
        studies.setdefault(tools[row["Tool"]], set()).add(row["Index.Number"])
    return studies


def _factor_rows(shared: Path, code: str) -> list[dict[str, str]]:
    path = shared / "data" / RELEASE_FOLDERS[code] / f"all_factors_{code[1]}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _coded_pairs(shared: Path, tools: dict[str, str], code: str) -> set[tuple[str, str]]:
    """(tool, factor) for every factor finding of all_sources_N.csv."""
    return {
        (tools[row["Tool"]], f"{ID}factor/{_slug(row['CD'])}")
        for row in _rows(shared, code)
        if row.get("effects_type", "Contextual or design") != "Average"
    }


def research_levels(shared: Path, tools: dict[str, str], code: str) -> dict[tuple[str, str], Level]:
    """(tool, factor) -> (research level, findings) from all_factors_N.csv, the factor keyed by
    its code (Dedoose.name_factor; Name where there is none, for practitioner-only factors)."""
    levels: dict[tuple[str, str], Level] = {}
    nameless = []
    for row in _factor_rows(shared, code):
        level, count = row["research_qualitative"], row["count"]
        unnamed = row["Name"] == "NA" and row["Dedoose.name_factor"] == "NA"
        if unnamed and count == "NA":
            continue  # a row about a tool only (its strategies), no factor
        # tool_name is NA on V2's practitioner-only rows, which give the tool's code in Tool.
        name = row["tool_name"].lower()
        tool = tools[name] if name in tools else tools[row.get("Tool", row["Dedoose.name_tool"])]
        if unnamed:
            nameless.append((tool, level, int(count)))
            continue
        if level == "NA":
            # V2 leaves research_qualitative NA, rather than "None available", for factors that
            # only practitioners cite (rows 410-436); V1 and V3 write "None available".
            assert count == "NA", row[""]
            assert row["number_practitioners"] != "NA", row[""]
            level = "None available"
        code_or_name = row["Dedoose.name_factor"]
        key = (tool, f"{ID}factor/{_slug(code_or_name if code_or_name != 'NA' else row['Name'])}")
        value = (level, 0 if count == "NA" else int(count))
        # A release may list the same tool and factor twice (V2 rows 382 and 426); they agree.
        assert levels.setdefault(key, value) == value, (code, row[""])
    coded = _coded_pairs(shared, tools, code)
    for tool, level, count in nameless:
        # Upstream quirk, V2 only: all_factors_2.csv row 107 rates a Targeted sanctions factor
        # with neither Name nor Dedoose.name_factor. The factor is the one that the tool's findings
        # in all_sources_2.csv code and no named row rates (see evidence.KNOWN_DIFFERENCES).
        candidates = {f for t, f in coded if t == tool} - {f for t, f in levels if t == tool}
        assert len(candidates) == 1, (code, tool, candidates)
        levels[(tool, candidates.pop())] = (level, count)
    return levels


def expected_studies(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> dict[str, tuple[int, int, int, int]]:
    before = studies_from_csv(shared, tools, earlier)
    after = studies_from_csv(shared, tools, later)
    result = {}
    for tool in before.keys() | after.keys():
        a, b = before.get(tool, set()), after.get(tool, set())
        result[tool] = (len(a), len(b), len(b - a), len(a - b))
    return result


def expected_changes(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> set[tuple[str, str, str, str, str, int, int]]:
    before = research_levels(shared, tools, earlier)
    after = research_levels(shared, tools, later)
    result = set()
    for key in before.keys() & after.keys():
        (a, m), (b, n) = before[key], after[key]
        if a != b:
            direction = "stronger" if RANK[b] > RANK[a] else "weaker"
            result.add((*key, LEVEL_LABELS[a], LEVEL_LABELS[b], direction, m, n))
    return result


def expected_appeared(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> set[tuple[str, str, str, int]]:
    studied = {
        code: {k: n for k, (_, n) in research_levels(shared, tools, code).items() if n >= 1}
        for code in {earlier, later}
    }
    before, after = studied[earlier], studied[later]
    return {(*k, "appeared", after[k]) for k in after.keys() - before.keys()} | {
        (*k, "vanished", before[k]) for k in before.keys() - after.keys()
    }


def check_studies(
    rows: list[list[Any]], shared: Path, tools: dict[str, str], names: dict[str, str], pair: Any
) -> None:
    actual = {r[0]: tuple(int(v) for v in r[2:6]) for r in rows}
    assert len(actual) == len(rows), "one row per tool"
    assert actual == expected_studies(shared, tools, *pair)
    assert {r[0]: r[1] for r in rows} == {r[0]: names[r[0]] for r in rows}


def check_changes(rows: list[list[Any]], shared: Path, tools: dict[str, str], pair: Any) -> None:
    actual = {(r[0], r[2], r[4], r[5], r[6], int(r[7]), int(r[8])) for r in rows}
    assert len(actual) == len(rows), "one row per tool and factor"
    assert actual == expected_changes(shared, tools, *pair)
    assert rows == sorted(rows, key=lambda r: (r[1], r[3], r[2]))


def check_appeared(rows: list[list[Any]], shared: Path, tools: dict[str, str], pair: Any) -> None:
    actual = {(r[0], r[2], r[4], int(r[5])) for r in rows}
    assert len(actual) == len(rows), "one row per tool and factor"
    assert actual == expected_appeared(shared, tools, *pair)
    assert rows == sorted(rows, key=lambda r: (r[1], r[4], r[3], r[2]))


# The expected results of the catalogue queries (their defaults: V2 to V3).


def test_expected_studies_added_equal_the_csv(
    shared_release: Path, tools: dict[str, str], tool_names: dict[str, str]
) -> None:
    rows = load_expected(STUDIES)["rows"]
    check_studies(rows, shared_release, tools, tool_names, ("V2", "V3"))
    # V3 adds no study; it drops five (one of them, Mediation.2023.19, from five tools).
    assert sum(int(r[4]) for r in rows) == 0
    assert sum(int(r[5]) for r in rows) == 8


def test_expected_level_changes_equal_the_csv(shared_release: Path, tools: dict[str, str]) -> None:
    rows = load_expected(CHANGES)["rows"]
    check_changes(rows, shared_release, tools, ("V2", "V3"))
    assert {r[6] for r in rows} == {"stronger", "weaker"}


def test_expected_factors_appeared_vanished_equal_the_csv(
    shared_release: Path, tools: dict[str, str]
) -> None:
    rows = load_expected(APPEARED)["rows"]
    check_appeared(rows, shared_release, tools, ("V2", "V3"))


def test_the_nameless_v2_rating_is_resolved_from_the_sources(
    shared_release: Path, tools: dict[str, str]
) -> None:
    """V2's nameless rating (all_factors_2.csv row 107) matters here: without it the factor would
    seem to appear in V3."""
    levels = research_levels(shared_release, tools, "V2")
    key = (f"{ID}tool/targeted-sanctions", f"{ID}factor/atrocity-justifying-ideology-or-revenge")
    assert levels[key] == ("Weaker", 1)


# The same queries for other pairs of releases, run on the built store.


@pytest.mark.parametrize("pair", OTHER_PAIRS, ids="-".join)
def test_queries_for_other_releases_equal_the_csv(
    built: Settings,
    shared_release: Path,
    tools: dict[str, str],
    tool_names: dict[str, str],
    pair: tuple[str, str],
) -> None:
    values = {"from": _release(pair[0]), "to": _release(pair[1])}

    def rows(name: str) -> list[list[Any]]:
        result: list[list[Any]] = as_plain(run_catalogue_query(built, name, values))["rows"]
        return result

    check_studies(rows(STUDIES), shared_release, tools, tool_names, pair)
    changes, appeared = rows(CHANGES), rows(APPEARED)
    check_changes(changes, shared_release, tools, pair)
    check_appeared(appeared, shared_release, tools, pair)
    if pair[0] == pair[1]:
        assert changes == []
        assert appeared == []
    else:
        assert changes
        assert appeared


# The command line.


@pytest.fixture
def in_built(built: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(built.store_root))
    return built


def test_diff_prints_three_titled_tables(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "v2", "V3"])
    assert result.exit_code == 0, result.output
    positions = []
    for name, title in (
        (STUDIES, "Studies added and removed between two releases, per tool: V2 to V3"),
        (CHANGES, "Factors whose research evidence level changed between two releases: V2 to V3"),
        (APPEARED, "Factors that appeared or vanished between two releases: V2 to V3"),
    ):
        assert title in result.stdout
        positions.append(result.stdout.index(title))
        assert f"{len(load_expected(name)['rows'])} rows" in result.stdout
    assert positions == sorted(positions)


def test_diff_csv_holds_the_three_queries_bound_to_the_releases(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "V1", "v2", "--format", "csv"])
    assert result.exit_code == 0, result.output
    values = {"from": _release("V1"), "to": _release("V2")}
    expected = [run_catalogue_query(in_built, n, values) for n in (STUDIES, CHANGES, APPEARED)]
    assert result.stdout == "\n".join(table.to_csv() for table in expected)
    parts = result.stdout.split("\n\n")
    assert [next(csv.reader(io.StringIO(p))) for p in parts] == [t.variables for t in expected]
    assert "Studies added and removed between two releases, per tool: V1 to V2" in result.stderr


def test_diff_json_is_three_documents(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "V2", "V3", "-f", "json"])
    assert result.exit_code == 0, result.output
    decoder, text, documents = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    assert [d["head"]["vars"] for d in documents] == [
        load_expected(n)["variables"] for n in (STUDIES, CHANGES, APPEARED)
    ]


@pytest.mark.parametrize(
    ("codes", "bad"), [(["V2", "V4"], "V4"), (["2", "V3"], "2"), (["V1", "all"], "all")]
)
def test_diff_rejects_an_unknown_release(in_built: Settings, codes: list[str], bad: str) -> None:
    result = runner.invoke(app, ["diff", *codes])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"error: unknown release {bad!r}; expected one of V1, V2, V3" in lines[0]
    assert result.stdout == ""
