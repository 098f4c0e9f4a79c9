"""The evidence gap map: findings counted per row (a tool, or a tool's factor) and outcome, the
share in favour as a shade and the count as a circle's area, drawn by ``gap_map.html``.

The home page draws one row per reviewed tool and a tool's page the tool's row, both from the
summary's finding tallies (``gap_tallies``); a factor's page draws a row per tool listing the
factor, from the factor's findings (``factor_findings``: which factor a finding is coded on
matters there).
In: a store and the latest release. Out: a ``GapMap`` ready for the template.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore

# The outcomes the review codes, in its order (the grouping concept "closely related outcome"
# is never a finding's outcome).
GAP_OUTCOMES = (
    "mass atrocities",
    "violence against civilians",
    "conflict",
    "human rights violations",
    "adverse consequences",
)
# A finding "in favour": an overall effect that the tool decreased the outcome, or a factor
# finding that the factor (as coded) goes with greater effectiveness.
FAVOURABLE = frozenset(
    str(iris.concept("direction", name)) for name in ("decreases", "greater effectiveness")
)
LESSER = str(iris.concept("direction", "lesser effectiveness"))
# Five shades for the share of findings in favour (PuOr, readable on white, colour-blind safe).
SHADES = ("#b35806", "#f1a340", "#d9d9d9", "#998ec3", "#542788")
GAP_LABEL_CHARS = 44
GAP_CELL = 92
GAP_ROW = 34
GAP_HEADER = 56
GAP_RADIUS = 15.0

REVIEWED_TOOLS_QUERY = (
    "SELECT DISTINCT ?tool ?label WHERE { ?tool a akg:ReviewedTool ; skos:prefLabel ?label }"
)


class Counted(Protocol):
    """What a map's cell adds up: findings on an outcome in a direction."""

    @property
    def outcome(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def findings(self) -> int: ...


@dataclass(frozen=True)
class GapFinding:
    """One finding as the map counts it (a factor's map: which factor it is coded on matters)."""

    iri: str
    tool: str
    outcome: str
    direction: str
    factor: str | None
    findings: ClassVar[int] = 1


@dataclass(frozen=True)
class GapTally:
    """A tool's findings on one outcome in one direction, as the summary counted them (the home
    page's and a tool's maps: read from the tallies, they do not grow with the findings)."""

    tool: str
    outcome: str
    direction: str
    findings: int


@dataclass(frozen=True)
class GapRow:
    """A row of the map: a tool, or a factor as shown; its findings are picked by ``key``."""

    label: str
    href: str | None
    key: str
    inverted: bool = False

    @property
    def short(self) -> str:
        if len(self.label) <= GAP_LABEL_CHARS:
            return self.label
        return self.label[: GAP_LABEL_CHARS - 1].rstrip() + "\u2026"


@dataclass(frozen=True)
class GapCell:
    """The findings of one row on one outcome: how many, how many in favour, and the drawing."""

    row: int
    column: int
    findings: int
    favourable: int
    x: float = 0.0
    y: float = 0.0
    radius: float = 0.0

    @property
    def share(self) -> float:
        return self.favourable / self.findings if self.findings else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.share)

    @property
    def shade(self) -> str:
        return SHADES[min(int(self.share * len(SHADES)), len(SHADES) - 1)]


@dataclass
class GapMap:
    """Rows x outcomes of one release: circle area is the number of findings, shade the share
    in favour. Numbers and geometry are computed here; the template only draws them."""

    ident: str
    caption: str
    release: str
    row_heading: str
    rows: list[GapRow]
    cells: list[GapCell] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return GAP_OUTCOMES

    @property
    def label_width(self) -> int:
        longest = max((len(row.short) for row in self.rows), default=10)
        return min(40 + 7 * longest, 340)

    @property
    def width(self) -> int:
        return self.label_width + GAP_CELL * len(GAP_OUTCOMES) + 10

    @property
    def height(self) -> int:
        return GAP_HEADER + GAP_ROW * len(self.rows) + 10

    @property
    def largest(self) -> int:
        return max((cell.findings for cell in self.cells), default=0)

    def column_x(self, column: int) -> float:
        return self.label_width + GAP_CELL * column + GAP_CELL / 2

    def row_y(self, row: int) -> float:
        return GAP_HEADER + GAP_ROW * row + GAP_ROW / 2

    def cell(self, row: int, column: int) -> GapCell | None:
        for found in self.cells:
            if found.row == row and found.column == column:
                return found
        return None

    @property
    def legend_sizes(self) -> list[tuple[int, float]]:
        """Three reference circles: the largest cell, about a quarter of it, one finding."""
        top = self.largest
        sizes = sorted({top, max(top // 4, 1), 1}, reverse=True) if top else []
        return [(n, radius(n, top)) for n in sizes]

    @property
    def legend_shades(self) -> list[tuple[str, str]]:
        step = 100 // len(SHADES)
        return [
            (shade, f"{i * step}\u2013{100 if i == len(SHADES) - 1 else (i + 1) * step - 1}%")
            for i, shade in enumerate(SHADES)
        ]


def radius(findings: int, largest: int) -> float:
    """Circle area proportional to the number of findings; the largest fills the cell."""
    if findings <= 0 or largest <= 0:
        return 0.0
    return round(GAP_RADIUS * math.sqrt(findings / largest), 2)


def outcome_iris() -> list[str]:
    return [str(iris.concept("outcome", name)) for name in GAP_OUTCOMES]


def favourable(finding: Counted, inverted: bool = False) -> bool:
    """In favour of the row: for a factor shown as its opposite, lesser effectiveness is."""
    if inverted:
        return finding.direction == LESSER
    return finding.direction in FAVOURABLE


def latest_release(current: GraphStore) -> tuple[ox.NamedNode, str] | None:
    """The newest release with a date, and its code."""
    for release in sparql.releases(current):
        if release.issued:
            return ox.NamedNode(release.iri), release.code
    return None


def factor_findings(
    current: GraphStore, release: ox.NamedNode, factors: Iterable[str]
) -> list[GapFinding]:
    """The release's findings coded on any of ``factors`` (a factor's page: its own and its
    opposite's), found from the factors, not among the release's findings; bound values, never
    pasted into the text."""
    found = {}
    for factor in sorted(set(factors)):
        bound = {"release": release, "factor": ox.NamedNode(factor)}
        for s in sparql.select(current, sparql.load("gap-factor-findings"), bound):
            finding, about, outcome, direction = (
                sparql.text_of(s[name]) for name in ("finding", "tool", "outcome", "direction")
            )
            if finding is None or about is None or outcome is None or direction is None:
                continue
            found[finding] = GapFinding(finding, about, outcome, direction, factor)
    return sorted(found.values(), key=lambda f: f.iri)


def gap_tallies(
    current: GraphStore, release: ox.NamedNode, tool: ox.NamedNode | None = None
) -> list[GapTally]:
    """The release's findings per tool, outcome and direction, or only those on ``tool``, from
    the summary's finding tallies."""
    tallies = []
    for s in sparql.select(current, sparql.load("gap-tallies"), {"release": release}):
        about, outcome, direction, findings = (
            sparql.text_of(s[name]) for name in ("tool", "outcome", "direction", "findings")
        )
        if about is None or outcome is None or direction is None or findings is None:
            continue
        if tool is None or about == tool.value:
            tallies.append(GapTally(about, outcome, direction, int(findings)))
    return tallies


def fill_map(gap: GapMap, findings_of: Sequence[Sequence[Counted]]) -> GapMap:
    """Count each row's findings per outcome and lay the cells out."""
    columns = {iri: i for i, iri in enumerate(outcome_iris())}
    counts: dict[tuple[int, int], list[int]] = {}
    for r, (row, findings) in enumerate(zip(gap.rows, findings_of, strict=True)):
        for finding in findings:
            column = columns.get(finding.outcome)
            if column is None:
                continue
            tally = counts.setdefault((r, column), [0, 0])
            tally[0] += finding.findings
            tally[1] += finding.findings if favourable(finding, row.inverted) else 0
    largest = max((n for n, _ in counts.values()), default=0)
    gap.cells = [
        GapCell(
            r,
            c,
            n,
            k,
            gap.column_x(c),
            gap.row_y(r),
            radius(n, largest),
        )
        for (r, c), (n, k) in sorted(counts.items())
    ]
    return gap


def tools_gap_map(current: GraphStore) -> GapMap | None:
    """The home page's map: every reviewed tool x outcome, latest release."""
    latest = latest_release(current)
    if latest is None:
        return None
    release, code = latest
    tools = {
        str(sparql.text_of(s["tool"])): str(sparql.text_of(s["label"]))
        for s in sparql.select(current, REVIEWED_TOOLS_QUERY)
        if s["tool"] and s["label"]
    }
    rows = [
        GapRow(label, "/id/" + iri.split("/id/", 1)[1], iri)
        for iri, label in sorted(tools.items(), key=lambda item: item[1].lower())
    ]
    findings = gap_tallies(current, release)
    gap = GapMap(
        "gap-map",
        f"Findings per tool and outcome, release {code}",
        code,
        "Tool",
        rows,
    )
    return fill_map(gap, [[f for f in findings if f.tool == row.key] for row in rows])
