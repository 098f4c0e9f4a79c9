"""What changed for one tool between two releases, counted from the review's own files with the
csv module: the page /compare/releases and its CSV are checked against this, never against the
app's queries.

Studies come from all_sources_N.csv (a tool's rows and their Index.Number); research levels and
finding counts from all_factors_N.csv (research_qualitative, count), the factor keyed by its
code; the published ratings' levels and scores from all_factors_N.csv too (a research rating is
a row with a count, a practitioners' rating a row with number_practitioners). Only which tool and
factor a published rating row means is asked of the importer (``read_release``, by the row's
number), as tests/graph/test_release_diff.py does, so that the keys follow however the importer
reconciles factors named two ways.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import yaml

from atrocity_kg.config import Settings
from atrocity_kg.graph import build, graphs
from atrocity_kg.ingest.ushmm import ReleaseRecords, read_release
from atrocity_kg.model import iris
from release_csv import RELEASE_FOLDERS, release_rows

REPO = Path(__file__).resolve().parents[1]
LEVEL_LABELS = {
    "Stronger": "relatively strong",
    "Moderate": "moderate",
    "Weaker": "relatively weak",
    "None available": "none available",
}
RANK = {"none available": 0, "relatively weak": 1, "moderate": 2, "relatively strong": 3}

Levels = dict[str, tuple[str, Decimal | None]]
"""Factor IRI -> (level as the pages write it, findings or score)."""


@dataclass(frozen=True)
class ToolNames:
    iri: str
    name: str
    code: str
    """The tool's code in the release files (Tool, Dedoose.name_tool): Arms embargoes_tool."""


def tool_names(facts: Path, slug: str) -> ToolNames:
    for tool in yaml.safe_load(facts.read_text(encoding="utf-8"))["tools"]:
        if tool["slug"] == slug:
            return ToolNames(str(iris.tool(slug)), tool["name"], tool["dedoose_code"])
    raise KeyError(slug)


def factor_rows(shared: Path, code: str) -> list[dict[str, str]]:
    path = shared / "data" / RELEASE_FOLDERS[code] / f"all_factors_{code[1]}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _of_tool(row: dict[str, str], tool: ToolNames) -> bool:
    return row["tool_name"].lower() == tool.name.lower() or tool.code in (
        row.get("Tool"),
        row.get("Dedoose.name_tool"),
    )


def studies(shared: Path, code: str, tool: ToolNames) -> set[str]:
    """The IRIs of the studies behind the tool's findings in a release."""
    return {
        str(iris.study(row["Index.Number"]))
        for row in release_rows(shared, code)
        if row["Tool"] == tool.code
    }


def research_levels(shared: Path, code: str, tool: ToolNames) -> Levels:
    """The tool's research ratings resting on one finding or more: level and finding count. A
    row naming no factor (V2's all_factors row 107, Targeted sanctions) rates the factor the
    tool's findings code that no named row rates."""
    levels: Levels = {}
    nameless = []
    for row in factor_rows(shared, code):
        if not _of_tool(row, tool) or row["count"] in ("NA", "") or int(row["count"]) < 1:
            continue
        value = (LEVEL_LABELS[row["research_qualitative"]], Decimal(row["count"]))
        if row["Dedoose.name_factor"] == "NA":
            nameless.append(value)
            continue
        levels[str(iris.factor(row["Dedoose.name_factor"]))] = value
    coded = {
        str(iris.factor(row["CD"]))
        for row in release_rows(shared, code)
        if row["Tool"] == tool.code and row.get("effects_type", "Contextual or design") != "Average"
    }
    for value in nameless:
        (factor,) = coded - set(levels)
        levels[factor] = value
    return levels


def _hundredths(share: str) -> Decimal:
    """A share to two decimals, halves rounded up."""
    hundreds = (Decimal(share) * 100 + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
    return hundreds / 100


@functools.cache
def _records(shared: Path, code: str) -> ReleaseRecords:
    catalogue = build.tool_catalogue(graphs.load_curated(Settings(home=REPO)))
    return read_release(shared, code, catalogue)


def published(shared: Path, code: str, tool: ToolNames) -> dict[str, Levels]:
    """The review's published ratings of the tool, per basis ("research", "practitioners"):
    level and score as compared (research: the vote score, negative where the row is inverted;
    practitioners: the share to two decimals)."""
    rows = {int(row[""]): row for row in factor_rows(shared, code)}
    records = _records(shared, code)
    result: dict[str, Levels] = {"research": {}, "practitioners": {}}
    for basis, ratings in (
        ("research", records.research),
        ("practitioners", records.practitioner),
    ):
        for (slug, factor), rating in ratings.items():
            if str(iris.tool(slug)) != tool.iri:
                continue
            row = rows[rating.row]
            if basis == "research":
                level, score = row["research_qualitative"], Decimal(row["vote_count_factor"])
                if row["inversion_with_neg_strength"] == "1":
                    score = -abs(score)
            else:
                level, score = (
                    row["practitioner_qualitative"],
                    _hundredths(row["proportion_practitioner"]),
                )
            result[basis][str(iris.factor(factor))] = (LEVEL_LABELS[level], score)
    return result


Change = tuple[str, str, str, str, str]
"""(factor IRI, change, direction, level before, level after); '' where none."""


def changes(before: Levels, after: Levels, *, scores: bool) -> set[Change]:
    """Appeared, vanished, level changed (stronger or weaker) and, with ``scores``, score
    changed at the same level."""
    found: set[Change] = set()
    for factor in before.keys() | after.keys():
        a, b = before.get(factor), after.get(factor)
        if a is None and b is not None:
            found.add((factor, "appeared", "", "", b[0]))
        elif b is None and a is not None:
            found.add((factor, "vanished", "", a[0], ""))
        elif a is not None and b is not None and a[0] != b[0]:
            direction = "stronger" if RANK[b[0]] > RANK[a[0]] else "weaker"
            found.add((factor, "level changed", direction, a[0], b[0]))
        elif scores and a is not None and b is not None and a[1] != b[1]:
            found.add((factor, "score changed", "", a[0], b[0]))
    return found


@dataclass
class Expected:
    """What changed for a tool from one release to another, by the files."""

    studies: tuple[set[str], set[str]]
    recomputed: dict[str, set[Change]]
    published: dict[str, set[Change]]
    published_scores: dict[str, tuple[Levels, Levels]]

    @property
    def added(self) -> set[str]:
        return self.studies[1] - self.studies[0]

    @property
    def removed(self) -> set[str]:
        return self.studies[0] - self.studies[1]


def expected(shared: Path, facts: Path, slug: str, earlier: str, later: str) -> Expected:
    tool = tool_names(facts, slug)
    before, after = published(shared, earlier, tool), published(shared, later, tool)
    practitioner_levels: list[Levels] = [
        {factor: (level, None) for factor, (level, _) in ratings["practitioners"].items()}
        for ratings in (before, after)
    ]
    return Expected(
        (studies(shared, earlier, tool), studies(shared, later, tool)),
        {
            "research": changes(
                research_levels(shared, earlier, tool),
                research_levels(shared, later, tool),
                scores=False,
            ),
            "practitioners": changes(*practitioner_levels, scores=False),
        },
        {
            basis: changes(before[basis], after[basis], scores=True)
            for basis in ("research", "practitioners")
        },
        {basis: (before[basis], after[basis]) for basis in ("research", "practitioners")},
    )
