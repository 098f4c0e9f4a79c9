"""What the tests compute from the review's own CSV files, shared by the modules that compare the
graph with them: the release folders, the rows of a release, and the review's spellings of
outcomes, directions, levels and methods as the graph labels them."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from atrocity_kg.ingest.ushmm import SOURCE_COLUMNS_COMMON

RELEASE_FOLDERS = {"V1": "V1 - 2022", "V2": "V2 - 2024", "V3": "V3 - 2025_April"}
CLOSELY_RELATED = {"Violence against civilians", "Conflict", "Human rights violations"}


ID = "https://w3id.org/atrocity-kg/id/"


def release_rows(shared: Path, code: str) -> list[dict[str, str]]:
    number = code[1]
    path = shared / "data" / RELEASE_FOLDERS[code] / f"all_sources_{number}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tool_iris(facts: Path) -> dict[str, str]:
    tools = yaml.safe_load(facts.read_text(encoding="utf-8"))["tools"]
    return {t["dedoose_code"]: f"{ID}tool/{t['slug']}" for t in tools}


def direction_key(text: str) -> str:
    lowered = text.lower()
    if "greater effectiveness" in lowered:
        return "greater-effectiveness"
    if "lesser effectiveness" in lowered:
        return "lesser-effectiveness"
    return "no-or-mixed"


def counts_from_csv(shared: Path, facts: Path, code: str) -> dict[str, dict[str, int]]:
    """Per tool: studies; studies with mass-atrocity, closely-related and other-than-MA findings;
    factor findings by direction (identical records counted once, as the review does)."""
    tools = tool_iris(facts)
    sets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    factor_rows: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in release_rows(shared, code):
        tool, study, outcome = tools[row["Tool"]], row["Index.Number"], row["Outcome"]
        sets[tool]["studies"].add(study)
        if outcome == "Mass atrocities":
            sets[tool]["ma"].add(study)
        else:
            sets[tool]["other"].add(study)
        if outcome in CLOSELY_RELATED:
            sets[tool]["cro"].add(study)
        if row.get("effects_type", "Contextual or design") == "Contextual or design":
            factor_rows[tool].add((study, row["CD"], outcome, direction_key(row["Factor_effect"])))
    result: dict[str, dict[str, int]] = {}
    for tool, named in sets.items():
        result[tool] = {name: len(members) for name, members in named.items()}
        for direction in ("greater-effectiveness", "lesser-effectiveness", "no-or-mixed"):
            result[tool][direction] = sum(1 for r in factor_rows[tool] if r[3] == direction)
    return result


OUTCOME_LABELS = {
    "Mass atrocities": "mass atrocities",
    "Violence against civilians": "violence against civilians",
    "Conflict": "conflict",
    "Human rights violations": "human rights violations",
    "Adverse consequences": "adverse consequences",
}


DIRECTION_LABELS = {
    "greater-effectiveness": "greater effectiveness",
    "lesser-effectiveness": "lesser effectiveness",
    "no-or-mixed": "no or mixed effect",
}


OVERALL_LABELS = {
    "decreases": "decreases",
    "increases": "increases",
    "no or mixed effects": "no or mixed effect",
}


LEVEL_LABELS = {
    "Stronger": "relatively strong",
    "Moderate": "moderate",
    "Weaker": "relatively weak",
    "None available": "none available",
}


METHOD_LABELS = {
    "Process tracing": "process tracing",
    "Structured case comparison": "structured case comparison",
    "Regression": "regression",
    "Simple probability": "simple probability",
    "Statistics with an identification strategy": "statistics with an identification strategy",
    "Multivariate regression": "multivariate regression",
    "No discernible method": "no discernible method",
}


def finding_key(row: dict[str, str]) -> tuple[str, ...]:
    if row.get("effects_type", "Contextual or design") == "Average":
        direction = row["overall"].strip().split(" ")[0].lower()
        return (
            row["Index.Number"],
            row["Tool"],
            "overall",
            row["Outcome"],
            OVERALL_LABELS.get(direction, "no or mixed effect"),
        )
    return (
        row["Index.Number"],
        row["Tool"],
        row["CD"],
        row["Outcome"],
        DIRECTION_LABELS[direction_key(row["Factor_effect"])],
    )


def mechanism_strategies(facts: dict[str, Any]) -> dict[str, set[str]]:
    keys = {
        "S1_dissuade": "dissuade",
        "S2_degrade": "degrade",
        "S3_protect": "protect",
        "S4_transition": "transition",
    }
    return {
        t["slug"]: {keys[m["strategy"]] for m in t["theory_of_change"]["mechanisms"]}
        for t in facts["tools"]
    }


def stated_strategies(shared_release: Path, facts: dict[str, Any]) -> dict[str, set[str]]:
    """The strategies each tool's rows in any release's all_factors file list."""
    slugs = {
        t["name"].lower(): t.get("slug") or t["id"].replace("_", "-")
        for t in facts["tools"] + facts["tools_without_review"]
    }
    stated: dict[str, set[str]] = defaultdict(set)
    for code, folder in RELEASE_FOLDERS.items():
        path = shared_release / "data" / folder / f"all_factors_{code[1]}.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                slug = slugs.get(row["tool_name"].lower())
                for column in ("dissuade", "degrade", "protect", "transition"):
                    if slug and row[column] == "1":
                        stated[slug].add(column)
    return stated


def write_records(path: Path, rows: list[dict[str, str]]) -> Path:
    """Study-level records in the all_sources layout (the columns the importer reads), every
    column a row leaves out written as the release files' own "NA"."""
    columns = ["effects_type", *SOURCE_COLUMNS_COMMON, "overall"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "NA") for column in columns})
    return path
