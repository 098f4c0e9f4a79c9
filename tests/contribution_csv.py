"""A contribution the tests make from the V3 CSV files in ../shared: one record of a new study,
one mass-atrocity finding of greater effectiveness about the tool and factor with the most V3
findings; and the review's rubric, written here from its published description, to compute
what the contribution should change."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from atrocity_kg.model import iris
from release_csv import RELEASE_FOLDERS

GREATER = (
    "The factor is associated with greater effectiveness of the tool in reducing mass "
    "atrocities or CROs"
)
NEW_STUDY = "Contribution.Test.1"
LEVELS = {"relatively-strong": 3, "moderate": 1}


def sources_path(shared: Path) -> Path:
    return shared / "data" / RELEASE_FOLDERS["V3"] / "all_sources_3.csv"


def v3_rows(shared: Path) -> list[dict[str, str]]:
    with sources_path(shared).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def is_factor_row(row: dict[str, str]) -> bool:
    return row.get("effects_type", "Contextual or design") != "Average"


def vote(findings: set[tuple[str, str, str]]) -> Decimal:
    """The review's vote score of (study, outcome, direction) findings."""
    provisional, pull = Decimal(0), Decimal(0)
    for _, outcome, direction in findings:
        weight = Decimal(1) if outcome == "Mass atrocities" else Decimal("0.5")
        if direction == "greater-effectiveness":
            provisional += weight
        elif direction == "lesser-effectiveness":
            provisional -= weight
        else:
            pull += weight / 2
    if provisional == 0:
        return Decimal(0)
    sign = 1 if provisional > 0 else -1
    total = provisional - sign * pull
    return Decimal(0) if total * sign < 0 else total


def level(score: Decimal) -> str:
    size = abs(score)
    key = next((k for k, floor in LEVELS.items() if size > floor), "relatively-weak")
    return str(iris.concept("evidence-level", key))


def chosen_pair(rows: list[dict[str, str]]) -> tuple[str, str]:
    """The tool and factor (codes) with the most factor findings in V3: an existing rating."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if is_factor_row(row):
            counts[(row["Tool"], row["CD"])] += 1
    return max(sorted(counts), key=lambda pair: counts[pair])


def write_contribution(shared: Path, target: Path, **changes: str) -> Path:
    """One record of a new study: one mass-atrocity, greater-effectiveness finding about the
    chosen tool and factor, in the layout of all_sources_3.csv (a V3 row, changed)."""
    rows = v3_rows(shared)
    tool, factor = chosen_pair(rows)
    template = next(r for r in rows if (r["Tool"], r["CD"]) == (tool, factor))
    record = dict(template)
    record.update(
        {
            "Index.Number": NEW_STUDY,
            "Outcome": "Mass atrocities",
            "Factor_effect": GREATER,
            "Year": "2026",
            "full_citation": "Example, Ada. *A Contributed Study*. Example Press, 2026.",
        }
    )
    record.update(changes)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(template))
        writer.writeheader()
        writer.writerow(record)
    return target
