"""The ontology terms declared in Python match the ontology file, both ways, and the file is
well-formed OWL with the metadata and axioms the model relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from atrocity_kg.model.namespaces import AKG, ONTOLOGY_IRI


@pytest.fixture(scope="module")
def ontology(repo: Path) -> Graph:
    return Graph().parse(repo / "ontology" / "atrocity.ttl")


def declared_in_python() -> set[URIRef]:
    return {AKG[name] for name in AKG.__annotations__}


def declared_in_file(ontology: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    return {
        s
        for kind in kinds
        for s in ontology.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(AKG._NS))
    }


def test_python_and_file_declare_the_same_terms(ontology: Graph) -> None:
    in_python, in_file = declared_in_python(), declared_in_file(ontology)
    assert in_python - in_file == set(), "declared in namespaces.py but not in the ontology"
    assert in_file - in_python == set(), "declared in the ontology but not in namespaces.py"


def test_a_misspelt_term_is_an_error() -> None:
    with pytest.raises(AttributeError):
        _ = AKG.suportsStrategy


@pytest.mark.parametrize("term", sorted(declared_in_python()))
def test_every_term_has_a_label_and_a_definition(ontology: Graph, term: URIRef) -> None:
    assert ontology.value(term, RDFS.label) is not None, f"{term} has no rdfs:label"
    assert ontology.value(term, SKOS.definition) is not None, f"{term} has no skos:definition"


def test_ontology_metadata(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) is not None
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) is not None
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.creator) is not None


def test_object_properties_have_domain_or_range(ontology: Graph) -> None:
    for prop in ontology.subjects(RDF.type, OWL.ObjectProperty):
        if str(prop).startswith(str(AKG._NS)):
            assert ontology.value(prop, RDFS.range) is not None, f"{prop} has no range"


def test_supports_strategy_is_the_mechanism_chain(ontology: Graph) -> None:
    chain = ontology.value(AKG.supportsStrategy, OWL.propertyChainAxiom)
    assert chain is not None
    assert list(Collection(ontology, chain)) == [AKG.hasMechanism, AKG.advancesStrategy]


def test_contextual_and_design_factors_are_disjoint(ontology: Graph) -> None:
    assert (AKG.ContextualFactor, OWL.disjointWith, AKG.DesignFactor) in ontology
