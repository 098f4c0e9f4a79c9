"""The expected results of the catalogue queries, recomputed from the USHMM files and the review's
facts with the csv module (skipped without ../shared): expected files are checked, not trusted."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from queries_support import load_expected
from release_csv import (
    ID,
    LEVEL_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    RELEASE_FOLDERS,
    counts_from_csv,
    finding_key,
    mechanism_strategies,
    release_rows,
    stated_strategies,
)


@pytest.fixture(scope="module")
def facts(shared_facts: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def v3(shared_release: Path) -> list[dict[str, str]]:
    return release_rows(shared_release, "V3")


def _names(facts: dict[str, Any]) -> dict[str, str]:
    return {t["dedoose_code"]: t["name"] for t in facts["tools"]}


def _rows_of(name: str) -> list[list[str | None]]:
    rows: list[list[str | None]] = load_expected(name)["rows"]
    return rows


def test_studies_per_release(shared_release: Path) -> None:
    expected = []
    for code in ("V1", "V2", "V3"):
        rows = release_rows(shared_release, code)
        expected.append(
            [
                code,
                str(len({r["Index.Number"] for r in rows})),
                str(len({finding_key(r) for r in rows})),
            ]
        )
    assert [[r[1], r[3], r[4]] for r in _rows_of("studies-per-release")] == expected


def test_tool_study_counts(shared_release: Path, shared_facts: Path) -> None:
    counts = counts_from_csv(shared_release, shared_facts, "V3")
    expected = {
        tool: [str(c["studies"]), str(c.get("ma", 0)), str(c.get("other", 0))]
        for tool, c in counts.items()
    }
    assert {r[0]: r[2:] for r in _rows_of("tool-study-counts")} == expected


def test_findings_by_outcome_direction(v3: list[dict[str, str]], facts: dict[str, Any]) -> None:
    names = _names(facts)
    expected: Counter[tuple[str, ...]] = Counter()
    for key in {finding_key(r) for r in v3}:
        kind = "overall" if key[2] == "overall" else "factor"
        expected[(names[key[1]], kind, OUTCOME_LABELS[key[3]], key[4])] += 1
    actual = {tuple(r[:4]): int(r[4] or 0) for r in _rows_of("findings-by-outcome-direction")}
    assert actual == dict(expected)


def test_adverse_consequence_studies(v3: list[dict[str, str]], facts: dict[str, Any]) -> None:
    names = _names(facts)
    expected: Counter[tuple[str, str, str]] = Counter()
    years = {r["Index.Number"]: r["Year"] for r in v3}
    for key in {finding_key(r) for r in v3}:
        if key[3] == "Adverse consequences":
            expected[(names[key[1]], key[0], years[key[0]])] += 1
    actual = {(r[0], r[2], r[3]): int(r[4] or 0) for r in _rows_of("adverse-consequence-studies")}
    assert actual == dict(expected)


def test_factors_across_tools(v3: list[dict[str, str]]) -> None:
    tools: dict[str, set[str]] = defaultdict(set)
    findings: Counter[str] = Counter()
    for key in {finding_key(r) for r in v3 if r["effects_type"] != "Average"}:
        tools[key[2]].add(key[1])
        findings[key[2]] += 1
    expected = sorted((len(tools[f]), findings[f]) for f in tools if len(tools[f]) > 1)
    actual = sorted((int(r[2] or 0), int(r[3] or 0)) for r in _rows_of("factors-across-tools"))
    assert actual == expected


def test_strongest_factors_for_peace_operations(shared_release: Path) -> None:
    path = shared_release / "data" / RELEASE_FOLDERS["V3"] / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["Dedoose.name_tool"] == "Peace operations_tool"
            and r["count"] != "NA"
            and int(r["count"]) >= 2
        ]
    expected = sorted(
        (
            r["Name.Final_research"].strip(),
            LEVEL_LABELS[r["research_qualitative"]],
            abs(Decimal(r["vote_count_factor"])),
            int(r["count"]),
        )
        for r in rows
    )
    actual = sorted(
        (str(r[1]).strip(), str(r[2]), Decimal(str(r[3])), int(r[4] or 0))
        for r in _rows_of("strongest-factors-for-tool")
    )
    assert actual == expected


def test_studies_behind_peace_operations_and_troop_numbers(v3: list[dict[str, str]]) -> None:
    keys = {
        finding_key(r)
        for r in v3
        if r["Tool"] == "Peace operations_tool" and r["CD"] == "Large_force"
    }
    expected = sorted((k[0], OUTCOME_LABELS[k[3]], k[4]) for k in keys)
    actual = sorted(
        (str(r[1]), str(r[4]), str(r[5])) for r in _rows_of("studies-behind-tool-factor")
    )
    assert actual == expected


def test_research_versus_practitioners(shared_release: Path) -> None:
    path = shared_release / "data" / RELEASE_FOLDERS["V3"] / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["number_practitioners"] != "NA"]
    expected = sorted(
        (
            r["tool_name"],
            LEVEL_LABELS[r["practitioner_qualitative"]],
            round(float(r["proportion_practitioner"]), 9),
            LEVEL_LABELS.get(r["research_qualitative"]),
        )
        for r in rows
    )
    actual = sorted(
        (str(r[0]), str(r[3]), round(float(str(r[4])), 9), None if r[5] is None else str(r[5]))
        for r in _rows_of("research-versus-practitioners")
    )
    assert actual == expected


def test_studies_by_method(v3: list[dict[str, str]], facts: dict[str, Any]) -> None:
    names = _names(facts)
    methods: dict[str, set[str]] = defaultdict(set)
    for row in v3:
        for column in ("Qual", "Quant", "Method"):
            if row[column] != "NA":
                methods[row["Index.Number"]].add(METHOD_LABELS[row[column]])
    studies: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in v3:
        for method in methods[row["Index.Number"]]:
            studies[(names[row["Tool"]], method)].add(row["Index.Number"])
    expected = {key: len(members) for key, members in studies.items()}
    actual = {(str(r[0]), str(r[1])): int(r[2] or 0) for r in _rows_of("studies-by-method")}
    assert actual == expected


def test_tool_mechanisms_of_peace_operations(facts: dict[str, Any]) -> None:
    tool = next(t for t in facts["tools"] if t["slug"] == "peace-operations")
    keys = {
        "S1_dissuade": "dissuade",
        "S2_degrade": "degrade",
        "S3_protect": "protect",
        "S4_transition": "transition",
    }
    expected = sorted(
        (
            f"{ID}mechanism/peace-operations/{m['id'].replace('_', '-')}",
            f"{ID}strategy/{keys[m['strategy']]}",
        )
        for m in tool["theory_of_change"]["mechanisms"]
    )
    assert sorted((str(r[0]), str(r[2])) for r in _rows_of("tool-mechanisms")) == expected


def test_tools_supporting_protection(shared_release: Path, facts: dict[str, Any]) -> None:
    implied = mechanism_strategies(facts)
    stated = stated_strategies(shared_release, facts)
    tools = {**{s: None for s in implied}, **{s: None for s in stated}}
    expected = sorted(
        (f"{ID}tool/{slug}", "true" if "protect" in stated.get(slug, set()) else "false")
        for slug in tools
        if "protect" in implied.get(slug, set()) or "protect" in stated.get(slug, set())
    )
    assert sorted((str(r[0]), str(r[3])) for r in _rows_of("tools-supporting-strategy")) == expected


def test_stated_versus_mechanism_strategies(shared_release: Path, facts: dict[str, Any]) -> None:
    names = {t["slug"]: t["name"] for t in facts["tools"]}
    implied = mechanism_strategies(facts)
    stated = stated_strategies(shared_release, facts)
    expected = sorted(
        (
            names[slug],
            strategy,
            str(strategy in stated[slug]).lower(),
            str(strategy in implied[slug]).lower(),
        )
        for slug in names
        for strategy in ("dissuade", "degrade", "protect", "transition")
        if (strategy in stated[slug]) != (strategy in implied[slug])
    )
    labels = {
        "Dissuading": "dissuade",
        "Degrading": "degrade",
        "Protecting": "protect",
        "Facilitating": "transition",
    }
    actual = sorted(
        (str(r[0]), labels[str(r[1]).split()[0]], str(r[2]), str(r[3]))
        for r in _rows_of("stated-versus-mechanism-strategies")
    )
    assert actual == expected


def _factors_v3(shared_release: Path) -> list[dict[str, str]]:
    path = shared_release / "data" / RELEASE_FOLDERS["V3"] / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["count"] not in ("NA", "")]


def test_factors_strong_for_several_tools(shared_release: Path) -> None:
    """Factors the V3 file rates Stronger, from two or more findings, for two or more tools; named
    as the site shows them (Name.Final_research)."""
    tools: dict[str, set[str]] = defaultdict(set)
    for row in _factors_v3(shared_release):
        if row["research_qualitative"] == "Stronger" and int(row["count"]) >= 2:
            tools[row["Name.Final_research"]].add(row["tool_name"])
    expected = sorted(
        (name, str(len(members)), tool)
        for name, members in tools.items()
        if len(members) >= 2
        for tool in members
    )
    rows = _rows_of("factors-strong-for-several-tools")
    actual = sorted((str(r[1]), str(r[2]), str(r[4])) for r in rows)
    assert actual == expected


def test_explain_peace_operations(shared_release: Path, facts: dict[str, Any]) -> None:
    """Per strategy: how many mechanisms advance it (facts.yaml), in how many releases the review
    states it, and the tool's V3 factors listed on the site (two or more findings) by level."""
    keys = {"S1_dissuade": "dissuade", "S2_degrade": "degrade", "S3_protect": "protect"}
    keys["S4_transition"] = "transition"
    tool = next(t for t in facts["tools"] if t["slug"] == "peace-operations")
    mechanisms = Counter(keys[m["strategy"]] for m in tool["theory_of_change"]["mechanisms"])
    stating: Counter[str] = Counter()
    for code, folder in RELEASE_FOLDERS.items():
        path = shared_release / "data" / folder / f"all_factors_{code[1]}.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            listed = [r for r in csv.DictReader(handle) if r["tool_name"] == "Peace operations"]
        stating.update(s for s in mechanisms if any(r[s] == "1" for r in listed))
    levels = Counter(
        r["research_qualitative"]
        for r in {
            r["Name"]: r
            for r in _factors_v3(shared_release)
            if r["tool_name"] == "Peace operations" and int(r["count"]) >= 2
        }.values()
    )
    labels = {"Dissuading": "dissuade", "Degrading": "degrade", "Protecting": "protect"}
    labels["Facilitating"] = "transition"
    rows = _rows_of("explain-tool-strategies")
    actual = Counter(labels[str(r[0]).split()[0]] for r in rows)
    assert actual == mechanisms
    for row in rows:
        strategy = labels[str(row[0]).split()[0]]
        assert int(str(row[3])) == stating[strategy], strategy
        assert [int(str(v)) for v in row[4:7]] == [
            levels["Stronger"],
            levels["Moderate"],
            levels["Weaker"],
        ]
