"""Alignments: every Wikidata item the curated data names is one the checked list verifies, no
recorded wrong guess is used, each mapping is recorded with its check date and evidence, and each
study with a DOI links to exactly that DOI's resolver IRI."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef, namespace
from rdflib.namespace import DCTERMS, RDF, SKOS

from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.graph.build import release_graph, tool_catalogue
from atrocity_kg.ingest.ushmm import read_release
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, BIBO
from release_fixture import Tables, write_release

REPO = Path(__file__).resolve().parents[2]
CHECKED = REPO.parent / "shared" / "domain" / "wikidata-checked.csv"
ALIGNMENTS = REPO / "data" / "curated" / "alignments.ttl"
MATCHES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
# The three wrong guesses the checked list's notes record (README of shared/domain): an item that
# turned up for peacekeeping, one for international sanctions and one for economic sanctions.
WRONG_GUESSES = ("Q154697", "Q1127126", "Q618779")
SAME_AS = namespace.SDO.sameAs
SOURCE_ROW = re.compile(r"^shared/domain/wikidata-checked\.csv, row (\d+): (.+) = (Q\d+) \(")


@dataclass(frozen=True)
class Row:
    number: int
    concept: str
    qid: str
    note: str


@cache
def checked_rows() -> tuple[Row, ...]:
    with CHECKED.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Row(number, row["concept"], row["qid"].strip(), row["note"])
            for number, row in enumerate(csv.DictReader(handle), start=1)
        )


@pytest.fixture(scope="module")
def checked() -> tuple[Row, ...]:
    if not CHECKED.is_file():
        pytest.skip(f"the checked identifier list is not at {CHECKED}")
    return checked_rows()


@pytest.fixture(scope="module")
def curated() -> Graph:
    return graphs.load_curated(Settings(home=REPO))


def wikidata_items(graph: Graph) -> set[str]:
    """Every Wikidata entity the graph names, in any position."""
    return {
        str(term).removeprefix(iris.WIKIDATA_ENTITY)
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(iris.WIKIDATA_ENTITY)
    }


def mapping_triples(graph: Graph) -> set[tuple[URIRef, URIRef, URIRef]]:
    return {
        (s, p, o)
        for p in MATCHES
        for s, o in graph.subject_objects(p)
        if isinstance(s, URIRef) and isinstance(o, URIRef)
    }


def test_the_alignments_file_is_curated_data(curated: Graph) -> None:
    """load_curated reads it, and it maps something: an empty file would pass every test below."""
    assert ALIGNMENTS.is_file()
    assert len(mapping_triples(graphs.parse_turtle(ALIGNMENTS))) >= 10
    assert mapping_triples(graphs.parse_turtle(ALIGNMENTS)) <= mapping_triples(curated)


def test_every_wikidata_item_is_verified(curated: Graph, checked: tuple[Row, ...]) -> None:
    verified = {row.qid for row in checked if row.qid.startswith("Q")}
    assert wikidata_items(curated) - verified == set()


def test_no_wrong_guess_is_used(repo: Path, checked: tuple[Row, ...]) -> None:
    notes = " ".join(row.note for row in checked)
    for qid in WRONG_GUESSES:
        assert qid in notes, f"{qid} is not a wrong guess the list records"
        assert all(row.qid != qid for row in checked)
    texts = [path.read_text(encoding="utf-8") for path in sorted(repo.glob("data/**/*.ttl"))]
    for qid in WRONG_GUESSES:
        assert not any(re.search(rf"\b{qid}\b", text) for text in texts), f"{qid} is used"


def test_unverified_concepts_are_not_mapped(curated: Graph, checked: tuple[Row, ...]) -> None:
    """No mapping goes to an item the list names only in the note of an unverified row as what
    the concept is not (e.g. 'Q1534084 is NOT peacekeeping')."""
    denied = {
        qid
        for row in checked
        if not row.qid
        for qid in re.findall(r"(Q\d+)[^;]*?\b(?:is NOT|is '[^']*', not|unrelated)", row.note)
    }
    assert "Q1534084" in denied
    used = {str(o).removeprefix(iris.WIKIDATA_ENTITY) for _, _, o in mapping_triples(curated)}
    assert used & denied == set()


def test_every_mapping_is_recorded_dated_and_sourced(
    curated: Graph, checked: tuple[Row, ...]
) -> None:
    by_number = {row.number: row for row in checked}
    asserted = {t for t in mapping_triples(curated) if str(t[2]).startswith(iris.WIKIDATA_ENTITY)}
    recorded = set()
    for node in curated.subjects(RDF.type, AKG.Mapping):
        statement = tuple(curated.value(node, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        assert all(isinstance(term, URIRef) for term in statement), node
        subject, predicate, target = statement
        assert node == iris.mapping(str(subject), str(target))
        recorded.add((subject, predicate, target))
        dates = list(curated.objects(node, DCTERMS.date))
        assert len(dates) == 1, f"{node}: one date"
        assert isinstance(dates[0], Literal), node
        assert dates[0].datatype == namespace.XSD.date, node
        assert dates[0].value is not None, f"{node}: not a valid xsd:date"
        sources = [str(source) for source in curated.objects(node, DCTERMS.source)]
        assert len(sources) == 1, f"{node}: one evidence row"
        match = SOURCE_ROW.match(sources[0])
        assert match, f"{node}: dct:source does not name a row of the list: {sources[0]}"
        row = by_number[int(match.group(1))]
        assert (row.concept, row.qid) == (match.group(2), match.group(3))
        assert str(target) == iris.WIKIDATA_ENTITY + row.qid
    assert recorded == asserted


def test_partial_matches_are_not_exact(curated: Graph, checked: tuple[Row, ...]) -> None:
    """The list marks some items as matching only partly; those are never skos:exactMatch."""
    partial = {row.qid for row in checked if row.qid and row.note.startswith("partial")}
    assert partial
    exact = {
        str(o).removeprefix(iris.WIKIDATA_ENTITY) for o in curated.objects(None, SKOS.exactMatch)
    }
    assert exact & partial == set()


@pytest.mark.parametrize(
    ("doi", "expected"),
    [
        ("10.1177/0022343319898241", "https://doi.org/10.1177/0022343319898241"),
        (
            "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0",
            "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8%3C693::AID-ASI4%3E3.0.CO;2-0",
        ),
        ("10.1000/50%#x?y", "https://doi.org/10.1000/50%25%23x%3Fy"),
        ("10.1000/é[1]", "https://doi.org/10.1000/%C3%A9%5B1%5D"),
    ],
)
def test_doi_iri(doi: str, expected: str) -> None:
    assert iris.doi(doi) == URIRef(expected)


@pytest.mark.parametrize(
    "doi", ["10.1177/0022343319898241", "10.1002/(SICI)1097-4571(1998)49:8<693::A>3.0.CO;2-0"]
)
def test_the_shape_rebuilds_the_same_doi_iri(repo: Path, doi: str) -> None:
    """akgsh:StudyDoiShape computes the IRI in SPARQL: it must agree with iris.doi, and fail on
    any other IRI."""
    study = iris.study("Peace Ops.999")
    shapes = Graph().parse(repo / "ontology" / "shapes.ttl")
    for target, conforms in ((iris.doi(doi), True), (URIRef(f"https://doi.org/{doi}x"), False)):
        data = Graph()
        data.add((study, BIBO.doi, Literal(doi)))
        data.add((study, SAME_AS, target))
        result = validate(data, shacl_graph=shapes, inference="none", advanced=True)
        assert bool(result[0]) is conforms, result[2]


def test_the_importer_links_a_study_to_its_doi(tmp_path: Path, repo: Path) -> None:
    def odd_doi(tables: Tables) -> None:
        tables["bibliography"][0]["DOI"] = "doi:10.1234/tests<1>"

    catalogue = tool_catalogue(graphs.load_curated(Settings(home=repo)))
    graph = release_graph(read_release(write_release(tmp_path, odd_doi), "V3", catalogue))
    study = iris.study("Peace Ops.001")
    assert graph.value(study, BIBO.doi) == Literal("10.1234/tests<1>")
    assert list(graph.objects(study, SAME_AS)) == [URIRef("https://doi.org/10.1234/tests%3C1%3E")]
    others = set(graph.subjects(RDF.type, AKG.Study)) - {study}
    assert others
    assert all(graph.value(s, SAME_AS) is None for s in others)


RELEASES = sorted((REPO / "data" / "ushmm").glob("v*.ttl"))


@pytest.mark.parametrize("path", RELEASES, ids=lambda path: path.stem)
def test_every_study_with_a_doi_has_exactly_its_doi_iri(path: Path) -> None:
    graph = graphs.parse_turtle(path)
    studies = set(graph.subjects(RDF.type, AKG.Study))
    with_doi = 0
    for study in studies:
        dois = [str(d) for d in graph.objects(study, BIBO.doi)]
        links = {
            str(o) for o in graph.objects(study, SAME_AS) if str(o).startswith(iris.DOI_RESOLVER)
        }
        assert links == {str(iris.doi(d)) for d in dois}, study
        with_doi += bool(dois)
    assert {s for s, _ in graph.subject_objects(SAME_AS)} <= studies
    if path.stem == "v3":
        assert with_doi > 200
