"""The reasoning stage: consistency, inferred strategies and classes, justifications, and the
inferred graph kept apart from the asserted ones."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from typer.testing import CliRunner

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.graph import evidence, graphs, reasoning
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.storage import store
from conftest import REPO, make_home
from queries_support import run_catalogue_query
from release_fixture import write_release

ID = "https://w3id.org/atrocity-kg/id/"
INFERRED = str(reasoning.INFERRED_GRAPH)
runner = CliRunner()


def _select(settings: Settings, query: str) -> list[tuple[str, ...]]:
    with store.opened(settings.store_root) as opened:
        return [
            tuple("" if term is None else term.value for term in row)
            for row in store.run_query(opened, query)  # type: ignore[union-attr]
        ]


def _curated_turtle() -> Graph:
    """The curated tool file read by rdflib's own parser, not through the project's loader."""
    return Graph().parse(REPO / "data" / "curated" / "tools.ttl")


def test_inferred_strategies_follow_the_curated_mechanisms(built: Settings) -> None:
    """Every reviewed tool supports exactly the strategies its mechanisms advance in
    data/curated, plus those the review states for it."""
    tools = _curated_turtle()
    expected: dict[str, set[str]] = defaultdict(set)
    for tool in tools.subjects(RDF.type, AKG.ReviewedTool):
        for mechanism in tools.objects(tool, AKG.hasMechanism):
            for strategy in tools.objects(mechanism, AKG.advancesStrategy):
                expected[str(tool)].add(str(strategy))
    stated = _select(
        built,
        "SELECT DISTINCT ?t ?s WHERE { GRAPH ?g { ?t "
        "<https://w3id.org/atrocity-kg/ontology#statedToSupport> ?s } }",
    )
    for tool_iri, strategy_iri in stated:
        expected[tool_iri].add(strategy_iri)
    inferred: dict[str, set[str]] = defaultdict(set)
    for tool_iri, strategy_iri in _select(
        built,
        f"SELECT ?t ?s WHERE {{ GRAPH <{INFERRED}> {{ ?t "
        "<https://w3id.org/atrocity-kg/ontology#supportsStrategy> ?s } }",
    ):
        inferred[tool_iri].add(strategy_iri)
    reviewed = {str(t) for t in tools.subjects(RDF.type, AKG.ReviewedTool)}
    assert len(reviewed) == 12
    assert {t: inferred[t] for t in reviewed} == {t: expected[t] for t in reviewed}
    peace = inferred[f"{ID}tool/peace-operations"]
    assert peace == {f"{ID}strategy/{s}" for s in ("dissuade", "degrade", "protect")}


def test_every_inferred_link_has_a_justification_naming_its_mechanisms(built: Settings) -> None:
    tools = _curated_turtle()
    rows = _select(
        built,
        f"""PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?t ?s ?m WHERE {{ GRAPH <{INFERRED}> {{
          ?t akg:supportsStrategy ?s .
          ?j a akg:Justification ; rdf:subject ?t ; rdf:predicate akg:supportsStrategy ;
             rdf:object ?s .
          OPTIONAL {{ ?j akg:viaMechanism ?m }} }} }}""",
    )
    mechanisms: dict[tuple[str, str], set[str]] = defaultdict(set)
    for tool, strategy, *mechanism in rows:
        mechanisms[(tool, strategy)].update(m for m in mechanism if m)
    assert mechanisms, "no justified links"
    for (tool, strategy), named in mechanisms.items():
        expected = {
            str(m)
            for m in tools.objects(URIRef(tool), AKG.hasMechanism)
            if (m, AKG.advancesStrategy, URIRef(strategy)) in tools
        }
        assert named == expected, (tool, strategy)


def test_inferred_graph_holds_no_asserted_triple(built: Settings) -> None:
    rows = _select(
        built,
        f"""SELECT (COUNT(*) AS ?n) WHERE {{
          GRAPH <{INFERRED}> {{ ?s ?p ?o }}
          GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED}>) }}""",
    )
    assert rows == [("0",)]
    sizes = _select(built, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }}")
    assert int(sizes[0][0]) > 10_000


def test_defined_classes(built: Settings) -> None:
    def members(cls: str) -> set[str]:
        query = f"SELECT DISTINCT ?x WHERE {{ ?x a <https://w3id.org/atrocity-kg/ontology#{cls}> }}"
        return {row[0] for row in _select(built, query)}

    protect = {
        row[0]
        for row in _select(
            built,
            "SELECT DISTINCT ?t WHERE { ?t <https://w3id.org/atrocity-kg/ontology#"
            f"supportsStrategy> <{ID}strategy/protect> }}",
        )
    }
    assert members("CivilianProtectionTool") == protect
    assert f"{ID}tool/peace-operations" in protect
    shared = run_catalogue_query(built, "factors-strong-for-several-tools")
    factors = {row["factor"].value for row in shared.rows}
    assert members("StrongFactorOfSeveralTools") == factors
    strong_tools = {row["tool"].value for row in shared.rows}
    assert strong_tools <= members("ToolWithStrongFactor")
    # The deprecated classes keep their members, so that queries written with them still answer:
    # HeadlineFactor by its equivalence, EvidenceBackedTool by its own axiom (every tool with a
    # strong factor is a reviewed tool, and every reviewed tool supports a strategy).
    assert members("HeadlineFactor") == factors
    assert members("EvidenceBackedTool") == members("ToolWithStrongFactor")


def test_derived_evidence_classes_equal_the_csv(built: Settings, shared_release: Path) -> None:
    """ToolWithStrongFactor: the tools that all_factors_3.csv (the latest release) rates
    Stronger for some factor from two or more findings; StrongFactorOfSeveralTools: as many
    factors as the file shows (Name.Final_research) Stronger, so, for two or more tools."""
    path = shared_release / "data" / "V3 - 2025_April" / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        strong = [
            row
            for row in csv.DictReader(handle)
            if row["count"] not in ("NA", "")
            and int(row["count"]) >= 2
            and row["research_qualitative"] == "Stronger"
        ]
    curated = _curated_turtle()
    labels = {
        str(label).casefold(): str(tool)
        for tool in curated.subjects(RDF.type, AKG.ReviewedTool)
        for label in curated.objects(tool, SKOS.prefLabel)
    }
    tools = {labels[row["tool_name"].casefold()] for row in strong}
    by_factor: dict[str, set[str]] = defaultdict(set)
    for row in strong:
        by_factor[row["Name.Final_research"]].add(row["tool_name"])
    several = [name for name, named in by_factor.items() if len(named) >= 2]

    def members(cls: str) -> set[str]:
        query = f"SELECT DISTINCT ?x WHERE {{ ?x a <https://w3id.org/atrocity-kg/ontology#{cls}> }}"
        return {row[0] for row in _select(built, query)}

    assert tools
    assert several
    assert members("ToolWithStrongFactor") == tools
    assert len(members("StrongFactorOfSeveralTools")) == len(several)


@pytest.mark.slow  # the reasoner (HermiT, in Java)
def test_rules_derive_what_hermit_derives(curated: Graph) -> None:
    """On the part HermiT gets, the RL rules alone reach every property value and type HermiT
    infers for an individual, so the rules can be trusted where HermiT cannot go."""
    settings = Settings(home=REPO)
    ontology = graphs.load_ontology(settings)
    releases = graphs.load_releases(settings)
    data = reasoning.dl_input(ontology, curated, releases) - ontology
    hermit = reasoning.run_hermit(reasoning.dl_input(ontology, curated, releases))
    rules = reasoning.materialize(ontology, [data])
    individuals = {t for t in hermit if (t[0], RDF.type, None) in data}
    assert individuals, "HermiT inferred nothing about individuals"
    assert individuals - set(rules) == set()
    assert (
        URIRef(f"{ID}tool/peace-operations"),
        AKG.supportsStrategy,
        URIRef(f"{ID}strategy/degrade"),
    ) in hermit


def _inconsistent_home(tmp_path: Path) -> Settings:
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    return settings


@pytest.mark.slow  # a build of its own
def test_a_factor_typed_contextual_and_design_stops_the_build(tmp_path: Path) -> None:
    settings = _inconsistent_home(tmp_path)
    pipeline.build_store(settings)
    first = store.current_path(settings.store_root)
    path = graphs.release_file(settings, "V3")
    spoilt = graphs.parse_turtle(path)
    factor = URIRef(f"{ID}factor/commitment")
    assert (factor, RDF.type, AKG.DesignFactor) in spoilt
    spoilt.add((factor, RDF.type, AKG.ContextualFactor))
    graphs.write_turtle_files({path: spoilt})
    with pytest.raises(reasoning.InconsistentGraphError) as caught:
        pipeline.build_store(settings)
    message = str(caught.value)
    assert f"{factor}: typed both akg:ContextualFactor and akg:DesignFactor" in message
    assert "declared disjoint" in message
    assert "analytic_guide_3.csv row" in message
    assert store.current_path(settings.store_root) == first


@pytest.mark.slow  # a build of its own
def test_a_factor_opposite_to_itself_is_named(tmp_path: Path) -> None:
    settings = _inconsistent_home(tmp_path)
    path = graphs.release_file(settings, "V3")
    spoilt = graphs.parse_turtle(path)
    factor = URIRef(f"{ID}factor/democracy")
    spoilt.add((factor, AKG.oppositeFactor, factor))
    graphs.write_turtle_files({path: spoilt})
    result = runner.invoke(app, ["reason"], env=_env(settings))
    assert result.exit_code == 1
    assert "inconsistent" in result.output
    assert f"{factor}: related to itself by akg:oppositeFactor" in _flat(result.output)


def _flat(text: str) -> str:
    """Console output with the terminal's line wrapping undone."""
    return " ".join(text.split())


def _env(settings: Settings) -> dict[str, str]:
    return {
        "ATROCITY_KG_HOME": str(settings.home),
        "ATROCITY_KG_STORE_DIR": str(settings.store_root),
    }


@pytest.mark.slow  # the reasoner over the whole graph
def test_reason_lists_stated_versus_derived_differences(built: Settings) -> None:
    result = runner.invoke(app, ["reason"], env=_env(built))
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    assert "consistent: yes" in output
    assert (
        "peace-operations / degrade: implied by the mechanism(s) capacity-degradation, "
        "but the review does not state it" in output
    )
    assert "mediation / transition: stated by the review in V1, V2, V3" in output


def test_reason_explain_names_mechanisms_and_evidence(built: Settings) -> None:
    result = runner.invoke(
        app, ["reason", "--explain", "Peace operations", "--format", "csv"], env=_env(built)
    )
    assert result.exit_code == 0, result.output
    assert "guarding civilians" in result.output
    assert "Protecting vulnerable civilian populations" in result.output
    unknown = runner.invoke(app, ["reason", "--explain", "no-such-tool"], env=_env(built))
    assert unknown.exit_code == 1
    assert "no tool called 'no-such-tool'" in unknown.output


def test_evidence_graph_per_release_rests_on_findings(built: Settings) -> None:
    graph = evidence.evidence_graph_name("V3")
    rows = _select(
        built,
        f"""PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
        SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{
          GRAPH <{graph}> {{ ?a akg:restsOn ?f }}
          GRAPH <{graphs.release_graph_name("V3")}> {{ ?f a akg:FactorFinding }} }}""",
    )
    factor_findings = _select(
        built,
        f"""SELECT (COUNT(?f) AS ?n) WHERE {{ GRAPH <{graphs.release_graph_name("V3")}> {{
          ?f a <https://w3id.org/atrocity-kg/ontology#FactorFinding> }} }}""",
    )
    assert rows == factor_findings


def test_rules_find_clashes_among_findings_and_assessments(repo: Path) -> None:
    """What HermiT never sees is checked by the rules: a finding of both kinds, and an
    assessment with two vote scores, stop the stage with the node and the axiom named."""
    ontology = graphs.load_ontology(Settings(home=repo))
    finding = URIRef(f"{ID}finding/v3/0000000000000000")
    assessment = URIRef(f"{ID}assessment/v3/recomputed/research/mediation/commitment")
    data = Graph()
    data.add((finding, RDF.type, AKG.OverallEffectFinding))
    data.add((finding, RDF.type, AKG.FactorFinding))
    data.add((assessment, RDF.type, AKG.RecomputedAssessment))
    data.add((assessment, AKG.voteScore, Literal(Decimal("1.5"))))
    data.add((assessment, AKG.voteScore, Literal(Decimal("2"))))
    data.add((assessment, AKG.provisionalVoteScore, Literal(Decimal("2.0"))))
    data.add((assessment, AKG.provisionalVoteScore, Literal(Decimal("2"))))
    with pytest.raises(reasoning.InconsistentGraphError) as caught:
        reasoning.materialize(ontology, [data])
    found = {(clash.individual, clash.axiom) for clash in caught.value.clashes}
    assert found == {
        (
            str(finding),
            "typed both akg:FactorFinding and akg:OverallEffectFinding, declared disjoint",
        ),
        (str(assessment), "two values for akg:voteScore (1.5 and 2), declared functional"),
    }
