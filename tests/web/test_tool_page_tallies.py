"""A tool's page and the home page read their counts from the summary graph's tallies; counted
again here from every finding (tests/web/aggregate/page-tool-findings.rq and gap-findings.rq,
the queries they counted from before), they are the same: on the real data and on a
larger graph made as bench/scale.py makes it, for every reviewed tool."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from atrocity_kg.model.namespaces import AKG
from atrocity_kg.query import sparql
from atrocity_kg.web.views import gap_map, sections, tool_page
from atrocity_kg.web.views.terms import Labels, Release, releases

AGGREGATE = Path(__file__).resolve().parent / "aggregate"
OVERALL = str(AKG.OverallEffectFinding)
Cells = dict[tuple[int, int], tuple[int, int]]


@pytest.fixture(params=["real_copy", "larger_copy"], ids=["real", "larger"])
def graph(request: pytest.FixtureRequest) -> ox.Store:
    found: ox.Store = request.getfixturevalue(request.param)
    return found


def aggregate(name: str) -> str:
    return (AGGREGATE / f"{name}.rq").read_text(encoding="utf-8")


def findings_of(
    graph: ox.Store, release: ox.NamedNode, tool: ox.NamedNode | None = None
) -> list[gap_map.GapFinding]:
    """The release's findings (on ``tool``), each once, as the maps counted them before."""
    bound = {"release": release} if tool is None else {"release": release, "tool": tool}
    found = {}
    for row in sparql.select(graph, aggregate("gap-findings"), bound):
        finding, about, outcome, direction = (
            str(sparql.text_of(row[name])) for name in ("finding", "tool", "outcome", "direction")
        )
        factor = sparql.text_of(row["factor"])
        found[finding] = gap_map.GapFinding(finding, about, outcome, direction, factor)
    return list(found.values())


def reviewed_tools(graph: ox.Store) -> list[ox.NamedNode]:
    rows = sparql.select(graph, "SELECT DISTINCT ?tool WHERE { ?tool a akg:ReviewedTool }")
    tools = sorted(row["tool"].value for row in rows if isinstance(row["tool"], ox.NamedNode))
    assert len(tools) >= 10
    return [ox.NamedNode(tool) for tool in tools]


def group_of(outcome: str, broader: str | None) -> str | None:
    for candidate in (outcome, broader):
        if candidate in tool_page.GROUP_IRIS:
            return candidate
    return None


def counted_from_findings(
    graph: ox.Store, tool: ox.NamedNode, known: list[Release]
) -> dict[str, object]:
    """What the page showed when it counted every finding of the tool."""
    studies: dict[str, set[str]] = defaultdict(set)
    by_group: dict[tuple[str, str], set[str]] = defaultdict(set)
    outcomes_of: dict[str, set[str]] = defaultdict(set)
    overall_group: dict[str, set[tuple[str, str]]] = defaultdict(set)
    overall_outcome: dict[str, set[tuple[str, str]]] = defaultdict(set)
    latest = known[0].iri
    for row in sparql.select(graph, aggregate("page-tool-findings"), {"thing": tool}):
        study, release, outcome, finding, direction, kind = (
            str(sparql.text_of(row[name]))
            for name in ("study", "release", "outcome", "finding", "direction", "kind")
        )
        group = group_of(outcome, sparql.text_of(row["group"]))
        studies[release].add(study)
        outcomes_of[study].add(outcome.rsplit("/", 1)[-1])
        if group is not None:
            by_group[(release, group)].add(study)
        if release == latest and kind == OVERALL:
            if group is not None:
                overall_group[group].add((finding, direction))
            overall_outcome[outcome.rsplit("/", 1)[-1]].add((finding, direction))

    def directions(found: set[tuple[str, str]]) -> tuple[int, ...]:
        seen = Counter(direction for _, direction in found)
        return tuple(seen[iri] for iri, _, _ in tool_page.DIRECTIONS)

    return {
        "studies per release and group": [
            (
                release.code,
                len(studies[release.iri]),
                tuple(len(by_group[(release.iri, iri)]) for iri, _, _ in tool_page.GROUPS),
            )
            for release in reversed(known)
            if studies[release.iri]
        ],
        "headline": {
            key: directions(overall_group[iri])
            for iri, key, _ in tool_page.GROUPS
            if iri != tool_page.ADVERSE or overall_group[iri]
        },
        "verdicts": {outcome: directions(found) for outcome, found in overall_outcome.items()},
        "outcomes of each study": {study: tuple(sorted(o)) for study, o in outcomes_of.items()},
    }


def read_from_tallies(
    graph: ox.Store, tool: ox.NamedNode, known: list[Release]
) -> dict[str, object]:
    """What the page shows now."""
    labels = Labels(graph)
    summary = tool_page.Summary()
    tool_page.findings_summary(graph, labels, tool, known, summary)
    rows = sections.select(graph, "page-tool-studies", thing=tool)
    lines = sections._study_lines(graph, labels, rows, {r.iri: r.code for r in known})
    return {
        "studies per release and group": [
            (counts.release, counts.studies, counts.per_group) for counts in summary.outcome_counts
        ],
        "headline": {verdict.key: verdict.counts for verdict in summary.headline},
        "verdicts": {verdict.key: verdict.counts for verdict in summary.verdicts},
        "outcomes of each study": {str(line.study.iri): line.outcomes for line in lines},
    }


def cells(gap: gap_map.GapMap) -> Cells:
    return {(cell.row, cell.column): (cell.findings, cell.favourable) for cell in gap.cells}


def tool_map(rows: list[gap_map.GapRow], found: list[gap_map.Counted]) -> Cells:
    gap = gap_map.GapMap("m", "", "", "Tool", rows)
    return cells(gap_map.fill_map(gap, [found]))


def test_a_tool_page_counts_from_the_tallies_what_it_counted_from_the_findings(
    graph: ox.Store,
) -> None:
    known = releases(graph)
    latest = ox.NamedNode(known[0].iri)
    differing = []
    shown_any = 0
    for tool in reviewed_tools(graph):
        expected = counted_from_findings(graph, tool, known)
        actual = read_from_tallies(graph, tool, known)
        for part, value in expected.items():
            if actual[part] != value:
                differing.append(
                    f"{tool.value} {part}:\n  findings {value}\n  tallies {actual[part]}"
                )
        rows = [gap_map.GapRow("tool", None, tool.value)]
        from_findings = tool_map(rows, list(findings_of(graph, latest, tool)))
        from_tallies = tool_map(rows, list(gap_map.gap_tallies(graph, latest, tool=tool)))
        if from_findings != from_tallies:
            differing.append(f"{tool.value} map:\n  {from_findings}\n  {from_tallies}")
        counted = expected["studies per release and group"]
        assert isinstance(counted, list)
        shown_any += sum(studies for _, studies, _ in counted)
    assert differing == [], "\n".join(differing)
    assert shown_any > 0, "no studies counted: the comparison could not fail"


def test_the_home_page_map_counts_from_the_tallies_what_it_counted_from_the_findings(
    graph: ox.Store,
) -> None:
    drawn = gap_map.tools_gap_map(graph)
    assert drawn is not None
    latest = gap_map.latest_release(graph)
    assert latest is not None
    findings = findings_of(graph, latest[0])
    again = gap_map.GapMap("m", "", "", "Tool", drawn.rows)
    gap_map.fill_map(again, [[f for f in findings if f.tool == row.key] for row in drawn.rows])
    assert cells(drawn) == cells(again)
    assert sum(n for n, _ in cells(drawn).values()) == len(findings) > 0


def test_a_factor_map_finds_from_the_factor_the_findings_it_found_among_the_release(
    graph: ox.Store,
) -> None:
    latest = gap_map.latest_release(graph)
    assert latest is not None
    findings = findings_of(graph, latest[0])
    factors = sorted({f.factor for f in findings if f.factor is not None})
    assert len(factors) > 100
    pairs = [factors[i : i + 2] for i in range(0, len(factors), 2)]
    for chosen in pairs:
        expected = sorted((f for f in findings if f.factor in chosen), key=lambda f: f.iri)
        assert gap_map.factor_findings(graph, latest[0], chosen) == expected, chosen
