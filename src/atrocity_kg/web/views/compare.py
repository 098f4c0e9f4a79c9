"""Tools side by side, and factors across tools: what the review's ratings say when read across
tools rather than one tool at a time.

In: a store (``query/sparql/compare-ratings.rq``: the recomputed research ratings the review's
site shows, two or more findings). Out: plain data for ``compare.html`` and
``compare_factors.html``, and the rows of their CSV forms.

A rating has a direction: the findings point to the factor as the review codes it ("for"), or to
its opposite ("against": the review then shows the opposite, ``akg:inverted``). Two tools agree on
a factor when both ratings point the same way in the same release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.sections import LEVEL_RANK, RESEARCH
from atrocity_kg.web.views.terms import ID_BASE, Labels, Release, Term, local_href, releases

TOOL_PREFIX = ID_BASE + "tool/"
MIN_TOOLS, MAX_TOOLS = 2, 4
FOR, AGAINST = "for", "against"
# The lowest level a rating may have to count in the view across tools, by the name in the URL.
MIN_LEVELS = {
    "relatively-weak": "every rating shown (2+ findings)",
    "moderate": "moderate or relatively strong",
    "relatively-strong": "relatively strong only",
}


@dataclass(frozen=True)
class Tool:
    key: str
    """The short key of the URL (``mediation`` for ``id/tool/mediation``)."""
    iri: str
    label: str

    @property
    def term(self) -> Term:
        return Term(self.label, local_href(self.iri), self.iri)


@dataclass(frozen=True)
class Rating:
    """One rating: a tool, a factor as coded, a release; its level, findings and direction."""

    tool: str
    factor: str
    release: str
    """The release's code (V3)."""
    shown: str
    direction: str
    level: str
    level_key: str
    findings: int
    assessment: str

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


def reviewed_tools(store: GraphStore) -> list[Tool]:
    """The reviewed tools by label, each with its short key."""
    found = {}
    for row in sparql.select(store, sparql.load("reviewed-tools")):
        tool, label = row["tool"], row["label"]
        if isinstance(tool, ox.NamedNode) and tool.value.startswith(TOOL_PREFIX) and label:
            key = tool.value[len(TOOL_PREFIX) :]
            found[key] = Tool(key, tool.value, sparql.text_of(label) or key)
    return sorted(found.values(), key=lambda t: t.label.lower())


def ratings(
    store: GraphStore, labels: Labels, known: list[Release], tool: str | None = None
) -> list[Rating]:
    """Every rating shown on the review's site (of one tool, if given), in every release."""
    codes = {release.iri: release.code for release in known}
    bound: dict[str, ox.NamedNode] = {"research": ox.NamedNode(RESEARCH)}
    if tool is not None:
        bound["tool"] = ox.NamedNode(tool)
    rows = sparql.select(store, sparql.load("compare-ratings"), bound)
    labels.prefetch(row["level"] for row in rows)
    found = []
    for row in rows:
        values = [row[name] for name in ("tool", "factor", "release", "shown", "level")]
        if not all(isinstance(value, ox.NamedNode) for value in values):
            continue
        level = row["level"]
        assert isinstance(level, ox.NamedNode)
        found.append(
            Rating(
                tool=sparql.text_of(row["tool"]) or "",
                factor=sparql.text_of(row["factor"]) or "",
                release=codes.get(sparql.text_of(row["release"]) or "", ""),
                shown=sparql.text_of(row["shown"]) or "",
                direction=AGAINST if sparql.text_of(row["inverted"]) == "true" else FOR,
                level=labels(level) or level.value.rsplit("/", 1)[-1],
                level_key=level.value.rsplit("/", 1)[-1],
                findings=int(sparql.text_of(row["findings"]) or 0),
                assessment=sparql.text_of(row["assessment"]) or "",
            )
        )
    return [rating for rating in found if rating.release]


# --- tools side by side ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareRow:
    """A factor: its ratings per tool (in the order of the chosen tools) and release (oldest
    first), and how the tools stand on it in the release compared."""

    factor: Term
    cells: tuple[tuple[Rating | None, ...], ...]
    status: str
    """``same``, ``opposite``, ``only`` (one tool) or ``absent`` (none in the release)."""
    status_text: str


@dataclass
class Comparison:
    tools: list[Tool]
    codes: tuple[str, ...]
    release: str
    """The release whose ratings say shared or unique, same or opposite (the latest)."""
    rows: list[CompareRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def only(self, tool: Tool) -> int:
        return sum(
            1
            for row in self.rows
            if row.status == "only" and row.status_text == f"only {tool.label}"
        )


STATUS_ORDER = {"opposite": 0, "same": 1, "only": 2, "absent": 3}


def _status(tools: list[Tool], ratings_now: list[Rating | None]) -> tuple[str, str]:
    present = [(tool, rating) for tool, rating in zip(tools, ratings_now, strict=True) if rating]
    if not present:
        return "absent", "earlier releases only"
    if len(present) == 1:
        return "only", f"only {present[0][0].label}"
    directions = {rating.direction for _, rating in present}
    if len(directions) == 1:
        return "same", f"{len(present)} tools, same direction"
    return "opposite", f"{len(present)} tools, opposite directions"


def compare(store: GraphStore, tools: list[Tool], release: str | None = None) -> Comparison:
    """The chosen tools' factors side by side: one row per factor any of them has a rating for
    in some release shown (every release, or the one named); shared or unique, same or
    opposite, as the latest release shown says."""
    known = releases(store)
    labels = Labels(store)
    codes = tuple(r.code for r in reversed(known) if release is None or r.code == release)
    latest = codes[-1] if codes else ""
    by_key: dict[tuple[str, str, str], Rating] = {}
    for tool in tools:
        for rating in ratings(store, labels, known, tool.iri):
            if rating.release not in codes:
                continue
            by_key[(rating.tool, rating.factor, rating.release)] = rating
    factors = {factor for _, factor, _ in by_key}
    labels.prefetch(factors)
    comparison = Comparison(tools, codes, latest)
    for factor in factors:
        cells = tuple(
            tuple(by_key.get((tool.iri, factor, code)) for code in codes) for tool in tools
        )
        status, text = _status(tools, [cell[-1] if cell else None for cell in cells])
        comparison.rows.append(CompareRow(labels.term(ox.NamedNode(factor)), cells, status, text))
    comparison.rows.sort(key=lambda row: (STATUS_ORDER[row.status], row.factor.text.lower()))
    return comparison


COMPARE_COLUMNS = (
    "factor",
    "factor_iri",
    "tool",
    "tool_iri",
    "release",
    "level",
    "findings",
    "direction",
    "shown_as",
    "comparison_in_latest_release",
    "assessment",
)


def compare_csv_rows(comparison: Comparison, labels: Labels) -> list[list[str]]:
    """The comparison as a table of one line per factor, tool and release with a rating."""
    lines = []
    for row in comparison.rows:
        for tool, cells in zip(comparison.tools, row.cells, strict=True):
            for rating in cells:
                if rating is None:
                    continue
                lines.append(
                    [
                        row.factor.text,
                        row.factor.iri or "",
                        tool.label,
                        tool.iri,
                        rating.release,
                        rating.level,
                        str(rating.findings),
                        rating.direction,
                        labels(ox.NamedNode(rating.shown)) or rating.shown,
                        row.status_text,
                        rating.assessment,
                    ]
                )
    return lines


# --- the matrix picture -------------------------------------------------------------------------

# Fill per direction and level: green for, red against, darker for stronger evidence.
SHADES = {
    FOR: {"relatively-strong": "#1b7a3a", "moderate": "#5fae74", "relatively-weak": "#b9dcc1"},
    AGAINST: {"relatively-strong": "#a4231a", "moderate": "#d9675c", "relatively-weak": "#f2bdb6"},
}
NO_EVIDENCE = "#c9ced3"
LABEL_WIDTH, CELL_WIDTH, ROW_HEIGHT, HEADER_HEIGHT, CELL_SIZE = 370, 110, 24, 48, 18
LABEL_CHARACTERS = 52


@dataclass(frozen=True)
class MatrixCell:
    x: int
    y: int
    fill: str
    title: str
    direction: str
    level_key: str
    href: str | None


@dataclass(frozen=True)
class MatrixRow:
    label: str
    short: str
    """The label cut to fit the picture's first column (the full one is its <title>)."""
    href: str | None
    y: int
    status: str


@dataclass(frozen=True)
class MatrixColumn:
    lines: tuple[str, ...]
    x: int


@dataclass
class Matrix:
    """The comparison in its latest release as a picture: a square per factor and tool, its
    colour the direction, its shade the level; drawn by ``compare_matrix.html`` as SVG."""

    release: str
    width: int
    height: int
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    cells: list[MatrixCell]
    legend: list[tuple[str, str]]


def _two_lines(label: str) -> tuple[str, ...]:
    words = label.split(" ")
    half = (len(words) + 1) // 2
    return tuple(line for line in (" ".join(words[:half]), " ".join(words[half:])) if line)


def matrix(comparison: Comparison) -> Matrix:
    """The rows rated in the comparison's release, in the table's order."""
    shown = [row for row in comparison.rows if row.status != "absent"]
    columns = [
        MatrixColumn(_two_lines(tool.label), LABEL_WIDTH + i * CELL_WIDTH + CELL_WIDTH // 2)
        for i, tool in enumerate(comparison.tools)
    ]
    rows, cells = [], []
    for index, row in enumerate(shown):
        y = HEADER_HEIGHT + index * ROW_HEIGHT
        label = row.factor.text
        short = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
        rows.append(MatrixRow(label, short, row.factor.href, y, row.status))
        for column, (tool, ratings_of_tool) in enumerate(
            zip(comparison.tools, row.cells, strict=True)
        ):
            rating = ratings_of_tool[-1] if ratings_of_tool else None
            if rating is None:
                continue
            fill = SHADES[rating.direction].get(rating.level_key, NO_EVIDENCE)
            cells.append(
                MatrixCell(
                    columns[column].x - CELL_SIZE // 2,
                    y + (ROW_HEIGHT - CELL_SIZE) // 2,
                    fill,
                    f"{row.factor.text}, {tool.label}: {rating.level}, {rating.direction}, "
                    f"{rating.findings} finding{'s' if rating.findings != 1 else ''}",
                    rating.direction,
                    rating.level_key,
                    rating.href,
                )
            )
    legend = [
        (SHADES[direction][level], f"{level.replace('-', ' ')}, {direction}")
        for direction in (FOR, AGAINST)
        for level in ("relatively-strong", "moderate", "relatively-weak")
    ]
    return Matrix(
        comparison.release,
        LABEL_WIDTH + CELL_WIDTH * len(comparison.tools) + 8,
        HEADER_HEIGHT + ROW_HEIGHT * len(shown) + 4,
        columns,
        rows,
        cells,
        legend,
    )


# --- factors across tools ----------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """A factor rated for several tools in one release: which tools point which way."""

    factor: Term
    favour: tuple[tuple[Tool, Rating], ...]
    against: tuple[tuple[Tool, Rating], ...]

    @property
    def tools(self) -> int:
        return len(self.favour) + len(self.against)

    @property
    def majority(self) -> int:
        return max(len(self.favour), len(self.against))

    @property
    def consistent(self) -> bool:
        return not self.favour or not self.against

    @property
    def summary(self) -> str:
        """In words: '8 tools, all for', '8 tools, 1 against'."""
        if not self.against:
            return f"{self.tools} tool{'s' if self.tools != 1 else ''}, all for"
        if not self.favour:
            return f"{self.tools} tool{'s' if self.tools != 1 else ''}, all against"
        return f"{self.tools} tools, {len(self.favour)} for, {len(self.against)} against"


@dataclass
class Across:
    release: Release
    min_level: str
    min_tools: int
    agreements: list[Agreement] = field(default_factory=list)


def at_least(level_key: str, min_level: str) -> bool:
    return LEVEL_RANK.get(level_key, 9) <= LEVEL_RANK[min_level]


def across_tools(
    store: GraphStore, release: Release, min_level: str, min_tools: int, known: list[Release]
) -> Across:
    """Each factor rated (at ``min_level`` or above) for ``min_tools`` tools or more in
    ``release``: the tools whose findings point to it and those pointing to its opposite. Most
    tools first, then the most one-sided."""
    labels = Labels(store)
    tools = {tool.iri: tool for tool in reviewed_tools(store)}
    grouped: dict[str, list[Rating]] = {}
    for rating in ratings(store, labels, known):
        counted = at_least(rating.level_key, min_level) and rating.tool in tools
        if rating.release == release.code and counted:
            grouped.setdefault(rating.factor, []).append(rating)
    labels.prefetch(grouped)
    agreements = []
    for factor, found in grouped.items():
        if len(found) < min_tools:
            continue
        ordered = sorted(found, key=lambda r: tools[r.tool].label.lower())
        agreements.append(
            Agreement(
                labels.term(ox.NamedNode(factor)),
                tuple((tools[r.tool], r) for r in ordered if r.direction == FOR),
                tuple((tools[r.tool], r) for r in ordered if r.direction == AGAINST),
            )
        )
    agreements.sort(
        key=lambda a: (-a.tools, -a.majority / a.tools, a.factor.text.lower()),
    )
    return Across(release, min_level, min_tools, agreements)


ACROSS_COLUMNS = (
    "factor",
    "factor_iri",
    "release",
    "tools",
    "for",
    "against",
    "summary",
    "tools_for",
    "tools_against",
)


def across_csv_rows(across: Across) -> list[list[str]]:
    return [
        [
            a.factor.text,
            a.factor.iri or "",
            across.release.code,
            str(a.tools),
            str(len(a.favour)),
            str(len(a.against)),
            a.summary,
            "; ".join(tool.label for tool, _ in a.favour),
            "; ".join(tool.label for tool, _ in a.against),
        ]
        for a in across.agreements
    ]


def chosen_tools(keys: Iterable[str], known: list[Tool]) -> tuple[list[Tool], list[str]]:
    """The tools named by short keys (or full IRIs), in the order given, each once; and the
    keys that name no reviewed tool."""
    by_key = {tool.key: tool for tool in known}
    by_iri = {tool.iri: tool for tool in known}
    chosen: list[Tool] = []
    unknown = []
    for key in keys:
        tool = by_key.get(key.strip().lower()) or by_iri.get(key.strip())
        if tool is None:
            unknown.append(key)
        elif tool not in chosen:
            chosen.append(tool)
    return chosen, unknown


def close_keys(key: str, known: list[Tool]) -> list[Tool]:
    """Tools whose key or label shares a word with an unknown key, for the 404's suggestions."""
    words = {word for word in key.lower().replace("_", "-").split("-") if len(word) > 2}
    return [
        tool
        for tool in known
        if words & {*tool.key.split("-"), *tool.label.lower().split()} or key.lower() in tool.key
    ]
