"""Admin writes keep the graph derived (issue 16): after a write that changes a release's
findings, the store's evidence, inferred and catalogue graphs are those a build of the same
asserted graphs makes; a write to a graph nothing derives from recomputes nothing.

One write on the real data, to a copy of the session's store; the expected rating is counted
here from the store's asserted findings with the review's rubric (``contribution_csv.vote``)."""

from __future__ import annotations

from decimal import Decimal

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from atrocity_kg import pipeline, writes
from atrocity_kg.config import Settings
from atrocity_kg.graph import catalogue, evidence, graphs, reasoning, summary
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.storage import store
from broken_summary import BROKEN_TALLY, broken_summary
from conftest import writable_copy
from contribution_csv import level, vote
from graphdiff import assert_isomorphic

pytestmark = pytest.mark.slow  # a write of the whole store, the rules over every graph

V3 = "https://w3id.org/atrocity-kg/id/release/v3"
STATEMENTS = str(graphs.release_graph_name("x"))[:-1]
FINDINGS = f"""SELECT ?graph ?finding ?tool ?factor ?outcome ?direction WHERE {{
  GRAPH ?graph {{ ?finding a <{AKG}FactorFinding> ; <{AKG}inRelease> <{V3}> }}
  ?finding <{AKG}aboutTool> ?tool ; <{AKG}aboutFactor> ?factor ;
           <{AKG}outcome> ?outcome ; <{AKG}direction> ?direction .
  FILTER(STRSTARTS(STR(?graph), "{STATEMENTS}"))
}} ORDER BY ?finding"""


@pytest.fixture(scope="module")
def writable(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the session's store, with the caches the build left beside it."""
    root = tmp_path_factory.mktemp("derive")
    return writable_copy(built, root, contributions_dir=root / "contributions")


def v3_findings(settings: Settings) -> list[tuple[str, ...]]:
    with store.opened(settings.store_root) as disk:
        rows = disk.query(FINDINGS, use_default_graph_as_union=True)
        names = ("graph", "finding", "tool", "factor", "outcome", "direction")
        return [tuple(row[n].value for n in names) for row in rows]  # type: ignore[union-attr]


def score(rows: list[tuple[str, ...]]) -> Decimal:
    """The rubric over findings, counted here (outcome and direction keys from their IRIs)."""
    mass = {"mass-atrocities": "Mass atrocities"}
    return vote({(row[1], mass.get(iris.key(row[4]), row[4]), iris.key(row[5])) for row in rows})


@pytest.fixture(scope="module")
def deleted(writable: Settings) -> tuple[writes.WriteOutcome, list[tuple[str, ...]], str]:
    """Delete one V3 finding of the tool and factor with the most findings (and the study's
    link to it); the findings of that pair before the write, and the finding deleted."""
    rows = v3_findings(writable)
    pairs: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for row in rows:
        pairs.setdefault((row[2], row[3]), []).append(row)
    pair = max(pairs.values(), key=len)
    graph, finding = pair[0][0], pair[0][1]
    text = (
        f"DELETE WHERE {{ GRAPH <{graph}> {{ <{finding}> ?p ?o }} }} ;"
        f"DELETE WHERE {{ GRAPH <{graph}> {{ ?s ?q <{finding}> }} }}"
    )
    outcome = writes.update(writable, text)
    print({step: round(seconds, 2) for step, seconds in outcome.timings.items()})
    return outcome, pair, finding


def stored(settings: Settings, name: URIRef) -> Graph:
    return graphs.named_graph(store.in_memory_copy(settings.store_root), str(name))


def as_stored(graph: Graph) -> Graph:
    """A graph as the store gives it back (pyoxigraph keeps every integer as xsd:integer)."""
    memory = store.memory_store({graphs.CURATED_GRAPH: graph})
    return graphs.named_graph(memory, str(graphs.CURATED_GRAPH))


def test_the_write_recomputes_the_release_evidence_inferred_and_catalogue(
    deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str],
) -> None:
    outcome, _, _ = deleted
    assert outcome.committed
    assert set(outcome.recomputed) == {
        str(evidence.evidence_graph_name("V3")),
        str(reasoning.INFERRED_GRAPH),
        str(catalogue.CATALOGUE_GRAPH),
        str(summary.SUMMARY_GRAPH),
    }


def test_the_summary_after_the_write_counts_the_store_as_written(
    writable: Settings, deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str]
) -> None:
    """The summary graph the write committed is the summary of the store it committed, counted
    again here."""
    outcome, _, _ = deleted
    assert outcome.committed
    memory = store.in_memory_copy(writable.store_root)
    name = ox.NamedNode(str(summary.SUMMARY_GRAPH))
    kept = {quad.triple for quad in memory.quads_for_pattern(None, None, None, name)}
    memory.remove_graph(name)
    assert kept == set(summary.summarise(memory))


def test_the_rating_loses_the_finding_as_the_rubric_says(
    writable: Settings, deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str]
) -> None:
    _, pair, finding = deleted
    tool, factor = pair[0][2], pair[0][3]
    left = [row for row in pair if row[1] != finding]
    node = iris.recomputed_assessment("V3", "research", tool, factor)
    assessed = stored(writable, evidence.evidence_graph_name("V3"))
    assert assessed.value(node, AKG.findingCount) == Literal(len(pair) - 1)
    assert Decimal(str(assessed.value(node, AKG.voteScore))) == score(left)
    assert str(assessed.value(node, AKG.evidenceLevel)) == level(score(left))
    assert (node, AKG.restsOn, URIRef(finding)) not in assessed


def test_the_derived_graphs_are_those_a_build_of_the_same_data_makes(
    writable: Settings, deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str]
) -> None:
    """The releases as the store now holds them, derived from scratch by the build's own
    stages (HermiT's answer from the build's cache: the write left its input as it was)."""
    memory = store.in_memory_copy(writable.store_root)
    names = [n for n in store.graph_names(memory) if n.startswith(STATEMENTS)]
    releases: dict[str, Graph] = {}
    for name in names:
        for code in name.removeprefix(STATEMENTS).split("-"):
            releases.setdefault(code.upper(), Graph())
            releases[code.upper()] += graphs.named_graph(memory, name)
    releases = {code: releases[code] for code in sorted(releases)}
    ontology = graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH))
    curated = graphs.named_graph(memory, str(graphs.CURATED_GRAPH))
    fresh = pipeline.derived_graphs(ontology, curated, releases, {}, writable.reasoning_cache)
    for name in (evidence.evidence_graph_name("V3"), reasoning.INFERRED_GRAPH):
        assert_isomorphic(as_stored(fresh[name]), graphs.named_graph(memory, str(name)))
    expected = catalogue.catalogue_graph(releases, [URIRef(n) for n in names])
    actual = graphs.named_graph(memory, str(catalogue.CATALOGUE_GRAPH))
    assert_isomorphic(as_stored(expected), actual)


def test_a_write_nothing_derives_from_recomputes_nothing(
    writable: Settings, deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str]
) -> None:
    outcome = writes.update(
        writable,
        "INSERT DATA { GRAPH <https://example.org/notes> { <https://example.org/a> "
        '<https://example.org/p> "a note" } }',
    )
    assert outcome.committed
    assert outcome.recomputed == ()
    assert not any(step.startswith("derive") for step in outcome.timings)


def test_a_write_in_the_ontologys_terms_elsewhere_is_counted_by_the_summary(
    writable: Settings, deleted: tuple[writes.WriteOutcome, list[tuple[str, ...]], str]
) -> None:
    """A finding stated in a graph of the admin's own counts in the aggregates over the findings
    (the default graph is every graph), so the summary counts it too: its tool's tally in V3
    gains the new study, as the summary of the store written counts it."""
    tool = str(iris.tool("peace-operations"))
    tallies = f"""SELECT ?studies WHERE {{ GRAPH <{summary.SUMMARY_GRAPH}> {{
      ?tally a <{AKG}ToolTally> ; <{AKG}summarisesTool> <{tool}> ;
             <{AKG}summarisesRelease> <{V3}> ; <{AKG}studiesCounted> ?studies }} }}"""

    def studies_counted() -> int:
        with store.opened(writable.store_root) as disk:
            solutions = disk.query(tallies)
            assert isinstance(solutions, ox.QuerySolutions)
            rows = [row["studies"] for row in solutions]
        assert len(rows) == 1, rows
        return int(rows[0].value)

    before = studies_counted()
    outcome = writes.update(
        writable,
        f"""INSERT DATA {{ GRAPH <https://example.org/own-findings> {{
          <https://example.org/finding/1> <{AKG}inRelease> <{V3}> ; <{AKG}aboutTool> <{tool}> ;
            <{AKG}reportedIn> <https://example.org/study/1> ;
            <{AKG}outcome> <{iris.concept("outcome", "mass-atrocities")}> }} }}""",
    )
    assert outcome.committed
    assert outcome.recomputed == (str(summary.SUMMARY_GRAPH),)
    assert studies_counted() == before + 1
    memory = store.in_memory_copy(writable.store_root)
    name = ox.NamedNode(str(summary.SUMMARY_GRAPH))
    kept = {quad.triple for quad in memory.quads_for_pattern(None, None, None, name)}
    memory.remove_graph(name)
    assert kept == set(summary.summarise(memory))


def test_the_summary_graph_is_derived_and_refused_to_writers() -> None:
    name = str(summary.SUMMARY_GRAPH)
    assert name in writes.DERIVED_GRAPHS
    reason = writes.protection(name)
    assert reason is not None
    assert "recomputed by `atrocity-kg build`" in reason


def test_a_write_whose_summary_does_not_conform_is_refused_naming_the_node(
    writable: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary counted again after a write is validated as the build validates it: one that
    does not conform refuses the write, naming the node, and the store stays as it was."""
    before = store.current_path(writable.store_root)
    monkeypatch.setattr(summary, "summarise", broken_summary(summary.summarise))
    tool = str(iris.tool("peace-operations"))
    with pytest.raises(writes.NonConformingWriteError) as refused:
        writes.update(
            writable,
            f"""INSERT DATA {{ GRAPH <https://example.org/refused> {{
              <https://example.org/finding/2> <{AKG}aboutTool> <{tool}> }} }}""",
        )
    assert {v.focus_node for v in refused.value.report.violations} == {BROKEN_TALLY.value}
    assert "summary" in str(refused.value)
    assert store.current_path(writable.store_root) == before


def test_recount_validates_the_summary_against_the_stores_own_shapes(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a contribution and an admin write call: the store's own summary, counted again,
    conforms; a broken one is an error naming the node."""
    memory = store.in_memory_copy(built.store_root)
    assert summary.recount(memory).conforms
    monkeypatch.setattr(summary, "summarise", broken_summary(summary.summarise))
    with pytest.raises(summary.SummaryValidationError, match=BROKEN_TALLY.value):
        summary.recount(memory)
