"""The code book: the curated vocabularies' notations are what the importer reads and the exporter
writes, their hidden labels what the importer also reads; expectations are read from the
vocabulary file with rdflib, apart from the code book's own query."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from atrocity_kg.graph import graphs
from atrocity_kg.ingest import codebook
from atrocity_kg.model.namespaces import AKG, ID
from atrocity_kg.quality.rules import rules_folder


@pytest.fixture(scope="module")
def vocabularies(repo: Path) -> Graph:
    return Graph().parse(repo / "data" / "curated" / "vocabularies.ttl")


@pytest.fixture(scope="module")
def codes(repo: Path) -> codebook.CodeBook:
    return codebook.code_book(graphs.load_curated(Settings(home=repo)))


def spellings(graph: Graph, column: str, prop: URIRef) -> dict[str, set[str]]:
    """Concept key -> its values of ``prop``, for the concepts a column may hold."""
    coded = codebook.COLUMNS[column]
    found: dict[str, set[str]] = {}
    for concept in graph.subjects(SKOS.inScheme, ID[f"scheme/{coded.scheme}"]):
        key = str(concept).rsplit("/", 1)[-1]
        if coded.concepts is not None and key not in coded.concepts:
            continue
        values = {str(value) for value in graph.objects(concept, prop)}
        if values:
            found[key] = values
    return found


@pytest.mark.parametrize("column", sorted(codebook.COLUMNS))
def test_the_exporter_writes_the_notations(
    vocabularies: Graph, codes: codebook.CodeBook, column: str
) -> None:
    notations = spellings(vocabularies, column, codebook.COLUMNS[column].notation)
    assert notations, f"no concept of column {column} has a notation"
    assert {key: {text} for key, text in codes.written(column).items()} == notations


@pytest.mark.parametrize("column", sorted(codebook.COLUMNS))
def test_the_importer_reads_notations_and_hidden_labels(
    vocabularies: Graph, codes: codebook.CodeBook, column: str
) -> None:
    notations = spellings(vocabularies, column, codebook.COLUMNS[column].notation)
    hidden = spellings(vocabularies, column, SKOS.hiddenLabel)
    expected = {
        " ".join(text.split()).lower(): key
        for table in (notations, {k: v for k, v in hidden.items() if k in notations})
        for key, texts in table.items()
        for text in texts
    }
    assert codes.reading(column) == expected


def test_a_variant_is_read_and_never_written(codes: codebook.CodeBook) -> None:
    assert codes.reading("Outcome")["conflict_outcome"] == "conflict"
    assert "conflict_outcome" not in codes.written("Outcome").values()


def test_no_or_mixed_is_spelt_once_per_column(codes: codebook.CodeBook) -> None:
    overall, factor = codes.written("overall"), codes.written("Factor_effect")
    assert set(overall) == {"decreases", "increases", "no-or-mixed"}
    assert set(factor) == {"greater-effectiveness", "lesser-effectiveness", "no-or-mixed"}
    assert overall["no-or-mixed"] != factor["no-or-mixed"]
    assert codebook.COLUMNS["Factor_effect"].notation == AKG.factorEffectNotation


def test_two_notations_in_one_system_are_an_error(vocabularies: Graph) -> None:
    graph = Graph() + vocabularies
    graph.add((ID["outcome/conflict"], SKOS.notation, Literal("War")))
    with pytest.raises(StoreError, match="two notations"):
        codebook.code_book(graph)


def test_the_quality_rule_checks_each_column_against_the_code_books_scheme() -> None:
    """value-not-in-code-book names, in SPARQL, the scheme each coded column is checked against:
    the same scheme the code book reads the column by."""
    rule = (rules_folder() / "value-not-in-code-book.rq").read_text(encoding="utf-8")
    pairs = re.findall(r"\(col:(\w+) scheme:([\w-]+)\)", rule)
    assert len(pairs) >= 8
    for column, scheme in pairs:
        assert codebook.COLUMNS[column].scheme == scheme, column
