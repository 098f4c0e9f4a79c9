"""The build: validate, then swap a new store in whole; a failed build leaves the old one."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.errors import GraphValidationError, ReleaseFormatError
from atrocity_kg.graph import catalogue, evidence, graphs, reasoning, summary
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.publish import export
from atrocity_kg.storage import store
from broken_summary import BROKEN_TALLY, broken_summary, broken_tally
from conftest import make_home
from literals import integer
from release_fixture import write_release


def _count(settings: Settings, query: str) -> int:
    with store.opened(settings.store_root) as opened:
        solutions = store.run_query(opened, query)
        return int(next(iter(solutions))[0].value)  # type: ignore[arg-type]


RELEASE_FILES = {"V1": "v1.ttl", "V2": "v2.ttl", "V3": "v3.ttl"}


def _releases(repo: Path) -> dict[str, Graph]:
    return {
        code: Graph().parse(repo / "data" / "ushmm" / name) for code, name in RELEASE_FILES.items()
    }


def test_store_holds_one_named_graph_per_source_and_per_set_of_releases(
    built: Settings, repo: Path
) -> None:
    """The sources' graphs; the catalogue; and for each set of releases that states some triple
    alike (and no other release does), one graph named for them."""
    stated_by: dict[tuple[object, ...], list[str]] = {}
    for code, release in _releases(repo).items():
        for triple in release:
            stated_by.setdefault(triple, []).append(code.lower())
    with store.opened(built.store_root) as opened:
        names = store.graph_names(opened)
    expected = {str(graphs.ONTOLOGY_GRAPH), str(graphs.CURATED_GRAPH), str(graphs.SHAPES_GRAPH)}
    expected |= {str(graphs.release_graph_name("-".join(codes))) for codes in stated_by.values()}
    expected |= {str(evidence.evidence_graph_name(code)) for code in ("V1", "V2", "V3")}
    expected |= {str(reasoning.INFERRED_GRAPH), str(catalogue.CATALOGUE_GRAPH)}
    expected |= {str(graphs.QUALITY_GRAPH), str(summary.SUMMARY_GRAPH)}
    assert set(names) == expected
    assert str(graphs.release_graph_name("v1-v2-v3")) in names


def test_a_releases_statements_in_the_store_equal_its_file(built: Settings, repo: Path) -> None:
    """The graphs the catalogue says hold V2's statements hold exactly the release file, each
    statement once over all of them (the file read as the store reads it: Oxigraph keeps
    integers of derived types as xsd:integer, and decimals in canonical form)."""
    as_stored = ox.Store()
    as_stored.load(path=str(repo / "data" / "ushmm" / "v2.ttl"), format=ox.RdfFormat.TURTLE)
    release = {str(quad.triple) for quad in as_stored}
    query = f"""SELECT ?s ?p ?o WHERE {{
      ?g <{AKG.statementsOf}> <{iris.release("V2")}> . GRAPH ?g {{ ?s ?p ?o }} }}"""
    with store.opened(built.store_root) as opened:
        solutions = store.run_query(opened, query)
        assert isinstance(solutions, ox.QuerySolutions)
        stored = [str(ox.Triple(row[0], row[1], row[2])) for row in solutions]
    assert len(stored) == len(set(stored)), "a statement of V2 in two of its graphs"
    assert set(stored) == release


@pytest.mark.slow  # builds of its own
def test_failed_build_leaves_the_previous_store(tmp_path: Path) -> None:
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    pipeline.build_store(settings)
    first = store.current_path(settings.store_root)
    studies = (
        "SELECT (COUNT(?s) AS ?n) WHERE { ?s a <https://w3id.org/atrocity-kg/ontology#Study> }"
    )
    before = _count(settings, studies)

    spoilt = graphs.parse_turtle(graphs.release_file(settings, "V3"))
    study = URIRef("https://w3id.org/atrocity-kg/id/study/peace-ops-001")
    spoilt.remove((study, AKG.indexNumber, None))
    spoilt.add((study, AKG.publicationType, URIRef("https://example.org/not-a-type")))
    graphs.write_turtle_files({graphs.release_file(settings, "V3"): spoilt})
    with pytest.raises(GraphValidationError, match="left as it was"):
        pipeline.build_store(settings)
    assert store.current_path(settings.store_root) == first
    assert _count(settings, studies) == before


@pytest.mark.slow  # builds of its own
def test_rebuild_swaps_the_current_store_and_prunes_old_ones(tmp_path: Path) -> None:
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    paths = [pipeline.build_store(settings).store for _ in range(3)]
    assert store.current_path(settings.store_root) == paths[-1]
    kept = sorted(p.name for p in (settings.store_root / "builds").iterdir())
    assert len(kept) == 2
    assert paths[-1] is not None
    assert paths[-1].name in kept
    assert paths[0] is not None
    assert not paths[0].exists()


@pytest.mark.slow  # builds of its own
def test_validation_report_points_to_file_and_row(tmp_path: Path) -> None:
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    data = graphs.parse_turtle(graphs.release_file(settings, "V3"))
    finding = next(data.subjects(RDF.type, AKG.FactorFinding))
    data.remove((finding, AKG.outcome, None))
    spoilt = tmp_path / "spoilt.ttl"
    data.serialize(spoilt, format="turtle")
    report = pipeline.validate_files(settings, [spoilt])
    assert not report.conforms
    at_fault = [r for r in report.violations if r.focus_node == str(finding)]
    assert at_fault, report.results
    assert at_fault[0].source_file == "data/V3 - 2025_April/all_sources_3.csv"
    assert at_fault[0].source_row == integer(next(iter(data.objects(finding, AKG.sourceRow))))
    assert at_fault[0].path == str(AKG.outcome)


def test_broken_turtle_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix a: <http://example.org/> .\na:b a:c a:d .\na:e a:f "open .\n')
    with pytest.raises(ReleaseFormatError, match=r"broken\.ttl: bad Turtle: .*line 3"):
        graphs.parse_turtle(broken)


@pytest.mark.slow  # builds of its own
def test_a_failure_writing_the_dumps_leaves_the_previous_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dumps are written into the new build before it becomes current: if they fail, the
    new build is removed and the old one stays current, with its dumps."""
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    first = pipeline.build_store(settings).store
    assert first is not None
    assert (first / export.DUMPS / "manifest.json").is_file()

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_dumps", broken)
    with pytest.raises(OSError, match="disk full"):
        pipeline.build_store(settings)
    assert store.current_path(settings.store_root) == first
    assert [p.name for p in (settings.store_root / "builds").iterdir()] == [first.name]


def test_the_summary_check_reports_a_broken_node_by_name(built: Settings) -> None:
    """summary.check validates the summary graph against its shapes: the store's own summary
    conforms, and a tally whose release is a string is reported, naming the tally."""
    ontology, shapes = graphs.load_ontology(built), graphs.load_shapes(built)
    memory = store.in_memory_copy(built.store_root)
    assert summary.check(memory, shapes, ontology).conforms
    graph = ox.NamedNode(str(summary.SUMMARY_GRAPH))
    memory.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in broken_tally())
    report = summary.check(memory, shapes, ontology)
    assert not report.conforms
    assert {r.focus_node for r in report.violations} == {BROKEN_TALLY.value}
    assert {r.shape for r in report.violations} == {
        "https://w3id.org/atrocity-kg/shapes#Summary-summarisesRelease"
    }


@pytest.mark.slow  # builds of its own
def test_a_build_with_a_broken_summary_stops_naming_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(tmp_path / "release"), ["V3"])
    pipeline.build_store(settings)
    first = store.current_path(settings.store_root)
    monkeypatch.setattr(summary, "summarise", broken_summary(summary.summarise))
    with pytest.raises(GraphValidationError, match="left as it was") as stopped:
        pipeline.build_store(settings)
    assert BROKEN_TALLY.value in str(stopped.value)
    assert "summary" in str(stopped.value)
    assert store.current_path(settings.store_root) == first
