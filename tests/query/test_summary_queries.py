"""The catalogue queries rewritten to answer at scale give exactly the rows their aggregate forms
(tests/queries/aggregate/*.rq, the queries as they were before the rewrite) give: on the real
data, for every release, every two releases and three tools; and on a larger graph made as
bench/scale.py makes it (the per-study nodes copied), with the summary counted again on it.
All but two read the summary graph; adverse-consequence-studies and studies-behind-tool-factor
still match the findings, with the release (and tool) compared after the match
(NOT_FROM_SUMMARY)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from atrocity_kg.graph import summary
from atrocity_kg.model import iris
from atrocity_kg.query import queries

REPO = Path(__file__).resolve().parents[2]
AGGREGATE = REPO / "tests" / "queries" / "aggregate"
NAMES = sorted(path.stem for path in AGGREGATE.glob("*.rq"))
RELEASES = [str(iris.release(code)) for code in ("V1", "V2", "V3")]
TOOLS = ("peace-operations", "mediation", "targeted-sanctions")
NOT_FROM_SUMMARY = {"adverse-consequence-studies", "studies-behind-tool-factor"}
"""Rewritten without the summary: the same pattern, matched in another order."""

Rows = Counter[tuple[str | None, ...]]


def parameter_sets(
    entry: queries.CatalogueQuery, pairs: list[tuple[str, str]]
) -> list[dict[str, str]]:
    names = {parameter.name for parameter in entry.parameters}
    if {"from", "to"} <= names:
        return [{"from": earlier, "to": later} for earlier, later in pairs]
    if "release" in names:
        return [{"release": release} for release in RELEASES]
    if "tool" in names:
        return [{"tool": str(iris.tool(tool))} for tool in TOOLS]
    return [{}]


def rows(memory: ox.Store, entry: queries.CatalogueQuery, values: dict[str, str]) -> Rows:
    answer = memory.query(entry.bound_text(values), use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)
    names = [variable.value for variable in answer.variables]
    counted: Rows = Counter()
    for solution in answer:
        counted[tuple(None if solution[n] is None else str(solution[n]) for n in names)] += 1
    return counted


def compare(memory: ox.Store, name: str, pairs: list[tuple[str, str]]) -> None:
    """Every parameter set: the two forms' rows as multisets, the difference printed."""
    aggregate = queries.load_catalogue(AGGREGATE)[name]
    catalogue = queries.load_catalogue(REPO / "queries")[name]
    for values in parameter_sets(aggregate, pairs):
        expected = rows(memory, aggregate, values)
        actual = rows(memory, catalogue, values)
        if expected != actual:
            print(f"{name} {values}")
            print("  only in the aggregate form:", sorted((expected - actual).elements()))
            print("  only in the summary form:", sorted((actual - expected).elements()))
        assert expected == actual, f"{name} {values}: the summary's rows differ (printed above)"
        same_release = "from" in values and values["from"] == values["to"]
        assert sum(expected.values()) > 0 or same_release, (
            f"{name} {values}: no rows, the comparison could not fail"
        )


def test_each_aggregate_form_is_a_catalogue_query_reading_the_summary() -> None:
    catalogue = queries.load_catalogue(REPO / "queries")
    assert NAMES
    for name in NAMES:
        assert name in catalogue, name
        text = catalogue[name].text
        head = queries.load_catalogue(AGGREGATE)[name]
        assert text != head.text, f"{name}: the catalogue form is still the aggregate form"
        if name not in NOT_FROM_SUMMARY:
            assert "akg:summarises" in text, f"{name} does not read the summary"
        assert head.parameters == catalogue[name].parameters, name


@pytest.mark.parametrize("name", NAMES)
def test_on_the_real_data_the_summary_gives_the_aggregate_rows(
    real_copy: ox.Store, name: str
) -> None:
    pairs = [(earlier, later) for earlier in RELEASES for later in RELEASES]
    compare(real_copy, name, pairs)


def test_the_stored_summary_is_the_summary_of_the_store(real_copy: ox.Store) -> None:
    memory = ox.Store()
    memory.extend(real_copy)
    graph = ox.NamedNode(str(summary.SUMMARY_GRAPH))
    kept = {quad.triple for quad in memory.quads_for_pattern(None, None, None, graph)}
    memory.remove_graph(graph)
    again = set(summary.summarise(memory))
    assert kept == again
    assert kept


@pytest.mark.parametrize("name", NAMES)
def test_on_a_larger_graph_the_summary_gives_the_aggregate_rows(
    larger_copy: ox.Store, name: str
) -> None:
    v1, v2, v3 = RELEASES
    compare(larger_copy, name, [(v2, v3), (v1, v3), (v3, v2), (v3, v3)])


def test_each_change_between_two_releases_is_in_the_comparison_of_those_two(
    real_copy: ox.Store,
) -> None:
    """The release queries start from the comparison (akg:ReleaseComparison): a change it did not
    comprise, or comprised under other releases, would be lost to them or shown for the wrong
    pair, with their rows still matching the aggregate forms' on the pairs tried above."""
    prologue = (
        "PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>\n"
        f"PREFIX summary: <{summary.SUMMARY_GRAPH}>\n"
    )

    def solutions(text: str) -> list[ox.QuerySolution]:
        answer = real_copy.query(prologue + text)
        assert isinstance(answer, ox.QuerySolutions)
        return list(answer)

    changes = """
        SELECT ?change ?from ?to ?comparison WHERE { GRAPH summary: {
          ?change akg:comparedFrom ?from ; akg:comparedTo ?to .
          FILTER NOT EXISTS { ?change a akg:ReleaseComparison }
          OPTIONAL {
            ?comparison akg:comprises ?change ; akg:comparedFrom ?from ; akg:comparedTo ?to .
          }
        } }"""
    found = solutions(changes)
    kinds = """
        SELECT DISTINCT ?kind WHERE { GRAPH summary: {
          ?comparison akg:comprises ?change . ?change a ?kind } }"""
    not_comprised = [row["change"] for row in found if row["comparison"] is None]
    assert not_comprised == [], f"changes in no comparison of their releases: {not_comprised[:5]}"
    per_change = Counter(row["change"] for row in found)
    assert max(per_change.values()) == 1, "a change is in several comparisons"
    comprised = "SELECT * WHERE { GRAPH summary: { ?comparison akg:comprises ?c } }"
    assert len(solutions(comprised)) == len(found)
    assert {str(row["kind"]).rsplit("#", 1)[1].rstrip(">") for row in solutions(kinds)} == {
        "StudyComparison",
        "FactorPresenceChange",
        "LevelChange",
        "PublishedRatingChange",
    }
