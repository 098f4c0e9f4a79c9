"""Reading a release folder: what is mapped, and bad input stopped with file, row and column."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF
from rdflib.term import Node

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.errors import ReleaseFormatError
from atrocity_kg.graph import graphs
from atrocity_kg.graph.build import release_graph, tool_catalogue
from atrocity_kg.ingest.ushmm import ToolCatalogue, read_release
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, BIBO
from atrocity_kg.storage import store
from literals import integer
from release_fixture import FILES, Tables, write_release


@pytest.fixture(scope="module")
def catalogue(repo: Path) -> ToolCatalogue:
    return tool_catalogue(graphs.load_curated(Settings(home=repo)))


def test_tiny_release_maps_to_the_model(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    records = read_release(write_release(tmp_path), "V3", catalogue)
    graph = release_graph(records)
    commitment = iris.factor("Commitment")
    assert (commitment, RDF.type, AKG.DesignFactor) in graph
    assert (iris.factor("Democracy"), RDF.type, AKG.ContextualFactor) in graph
    opposite = graph.value(commitment, AKG.oppositeFactor)
    assert opposite == iris.opposite_factor("Commitment")
    assert graph.value(opposite, AKG.reviewName) == Literal("Uncommitted implementer", lang="en")
    assert (opposite, AKG.oppositeFactor, commitment) in graph
    study = iris.study("Peace Ops.001")
    assert graph.value(study, DCTERMS.title) == Literal("Keeping the peace")
    assert graph.value(study, BIBO.doi) == Literal("10.1234/tests.1")
    assert set(graph.objects(study, DCTERMS.creator)) == {
        Literal("Doe, Jane"),
        Literal("Roe, Richard"),
    }
    assert len(set(graph.subjects(RDF.type, AKG.FactorFinding))) == 3
    assert len(set(graph.subjects(RDF.type, AKG.OverallEffectFinding))) == 1
    assert (iris.tool("peace-operations"), AKG.statedToSupport, iris.strategy("protect")) in graph
    practitioner = iris.assessment(
        "V3", "practitioner-interviews", "peace-operations", "Commitment"
    )
    interviewed = graph.value(practitioner, AKG.practitionersInterviewed)
    assert isinstance(interviewed, Literal)
    assert interviewed.toPython() == 13


def test_identical_records_are_one_finding_with_both_rows(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    def repeat_first(tables: Tables) -> None:
        tables["sources"].append(dict(tables["sources"][0]))

    records = read_release(write_release(tmp_path, repeat_first), "V3", catalogue)
    graph = release_graph(records)
    assert len(set(graph.subjects(RDF.type, AKG.FactorFinding))) == 3
    rows = {
        integer(r)
        for f in graph.subjects(RDF.type, AKG.FactorFinding)
        for r in graph.objects(f, AKG.sourceRow)
    }
    assert {1, 5} <= rows


def _set(table: str, row: int, column: str, value: str) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        tables[table][row][column] = value

    return change


def _drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        for row in tables[table]:
            row.pop(column, None)

    return change


BAD_INPUTS = {
    "unknown tool": (
        _set("sources", 2, "Tool", "Orbital lasers_tool"),
        "sources",
        3,
        "Tool",
        "unknown tool 'Orbital lasers_tool'",
    ),
    "non-numeric count": (
        _set("factors", 1, "count", "two"),
        "factors",
        2,
        "count",
        "expected a number, found 'two'",
    ),
    "fractional count": (
        _set("factors", 0, "greater_findings", "1.5"),
        "factors",
        1,
        "greater_findings",
        "expected a whole number",
    ),
    "DOI that is not a DOI": (
        _set("bibliography", 0, "DOI", "see the journal"),
        "bibliography",
        1,
        "DOI",
        "is not a DOI",
    ),
    "unknown outcome": (
        _set("sources", 0, "Outcome", "Weather"),
        "sources",
        1,
        "Outcome",
        "unknown value 'Weather'",
    ),
    "unknown direction": (
        _set("sources", 1, "Factor_effect", "Sideways"),
        "sources",
        2,
        "Factor_effect",
        "unknown value 'Sideways'",
    ),
    "year that is not a year": (
        _set("sources", 3, "Year", "circa 2019"),
        "sources",
        4,
        "Year",
        "expected a number",
    ),
    "factor finding for an undescribed factor": (
        _set("sources", 0, "CD", "Telepathy"),
        "sources",
        1,
        "CD",
        "'Telepathy' is not described",
    ),
    "missing column": (
        _drop_column("sources", "Outcome"),
        "sources",
        None,
        "Outcome",
        "missing column",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_row_and_column(
    tmp_path: Path, catalogue: ToolCatalogue, case: str
) -> None:
    change, table, row, column, message = BAD_INPUTS[case]
    folder = write_release(tmp_path, change)
    with pytest.raises(ReleaseFormatError) as caught:
        read_release(folder, "V3", catalogue)
    error = caught.value
    assert error.location.file == FILES[table]
    assert error.location.row == row
    assert error.location.column == column
    assert message in str(error)
    assert FILES[table] in str(error)


def test_missing_file(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    folder = write_release(tmp_path)
    (folder / FILES["sources"]).unlink()
    with pytest.raises(ReleaseFormatError, match="missing file") as caught:
        read_release(folder, "V3", catalogue)
    assert caught.value.location.file == FILES["sources"]


@pytest.mark.slow  # a real import and build
def test_failed_import_writes_nothing_and_leaves_the_store(
    tmp_path: Path, empty_home: Settings
) -> None:
    good = write_release(tmp_path / "good")
    pipeline.import_ushmm(empty_home, good, ["V3"])
    pipeline.build_store(empty_home)
    written = graphs.release_file(empty_home, "V3")
    before_file = written.read_bytes()
    before_store = store.current_path(empty_home.store_root)

    bad = write_release(tmp_path / "bad", _set("factors", 1, "count", "lots"))
    with pytest.raises(ReleaseFormatError):
        pipeline.import_ushmm(empty_home, bad, ["V3"])
    assert written.read_bytes() == before_file
    assert store.current_path(empty_home.store_root) == before_store
    with store.opened(empty_home.store_root) as opened:
        ask = store.run_query(opened, "ASK { ?s a <https://w3id.org/atrocity-kg/ontology#Study> }")
        assert bool(ask)
    assert sorted(p.name for p in written.parent.iterdir()) == ["quality.ttl", "v3.ttl"], (
        "no stray temp files"
    )


def _interview_only(name: str, description: str = "NA") -> dict[str, str]:
    """A ratings row as the files give a factor only practitioners cite: a name, no code."""
    return {
        "tool_name": "Targeted sanctions",
        "Dedoose.name_tool": "Targeted sanctions_tool",
        "Dedoose.name_factor": "NA",
        "Name": name,
        "Description": description,
        "Inverse.factor": "NA",
        "Contextual.or.design.factor": "Design",
        "Family": "Implementer characteristics",
        "count": "NA",
        "practitioner_qualitative": "Moderate",
        "count_practitioner": "5",
        "number_practitioners": "10",
        "proportion_practitioner": "0.5",
    }


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _replaced(graph: Graph, old: str) -> tuple[Node | None, Node | None]:
    node = iris.factor(old)
    return graph.value(node, DCTERMS.isReplacedBy), graph.value(node, AKG.matchBasis)


def test_a_row_naming_a_code_book_factor_by_name_gets_its_iri(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    def cite_by_name(tables: Tables) -> None:
        tables["factors"].append(_interview_only("committed  Implementer"))

    records = read_release(write_release(tmp_path, cite_by_name), "V3", catalogue)
    assert ("targeted-sanctions", "Commitment") in records.practitioner
    assert "committed  Implementer" not in records.factors
    graph = release_graph(records)
    assert _replaced(graph, "committed  Implementer") == (
        iris.factor("Commitment"),
        iris.concept("match-basis", "name"),
    )
    assert graph.value(iris.factor("committed  Implementer"), RDF.type) is None


def test_a_row_with_a_code_book_description_gets_its_iri(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    def describe(tables: Tables) -> None:
        tables["guide"][1]["Description"] = "The one who acts means it."
        tables["factors"].append(
            _interview_only("Devoted implementer", "The one who acts  means it")
        )

    records = read_release(write_release(tmp_path, describe), "V3", catalogue)
    graph = release_graph(records)
    assert _replaced(graph, "Devoted implementer") == (
        iris.factor("Commitment"),
        iris.concept("match-basis", "description"),
    )


def test_a_factor_no_code_book_lists_is_its_own(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    def cite_new(tables: Tables) -> None:
        tables["factors"].append(_interview_only("Clear communication", "Says what it wants."))

    records = read_release(write_release(tmp_path, cite_new), "V3", catalogue)
    graph = release_graph(records)
    assert (iris.factor("Clear communication"), RDF.type, AKG.DesignFactor) in graph
    assert _replaced(graph, "Clear communication") == (None, None)


def test_a_factor_renamed_since_an_earlier_release_keeps_its_first_iri(
    tmp_path: Path,
    catalogue: ToolCatalogue,
) -> None:
    def renamed(tables: Tables) -> None:
        tables["factors"].append(
            _interview_only("Peacekeeping mission has a plan", "A plan,  agreed.")
        )

    root = write_release(tmp_path, renamed)
    v2 = {"": "1", "Name": "PK mission has a plan", "Dedoose.name_factor": "NA"}
    _write_csv(
        root / "data" / "V2 - 2024" / "all_factors_2.csv", [v2 | {"Description": "A plan, agreed."}]
    )
    _write_csv(
        root / "auxiliary" / "V2 - 2024" / "analytic_guide_2.csv",
        [
            {
                "": "1",
                "Name": "Peace operations",
                "Type": "Tool",
                "Dedoose name": "Peace operations_tool",
            }
        ],
    )
    records = read_release(root, "V3", catalogue)
    assert ("targeted-sanctions", "PK mission has a plan") in records.practitioner
    graph = release_graph(records)
    assert _replaced(graph, "Peacekeeping mission has a plan") == (
        iris.factor("PK mission has a plan"),
        iris.concept("match-basis", "earlier-description"),
    )
