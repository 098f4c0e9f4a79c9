"""The review's code book: how the release files spell each coded value, one source for the
importer, which reads the spellings, and the exporter, which writes them back.

The spellings are the curated vocabularies' (data/curated/vocabularies.ttl): a concept's
``skos:notation`` is its code as the files spell it, in the notation system of the columns coded
in its scheme (``akg:factorEffectNotation`` for the Factor_effect column, whose sentences differ
from the overall column's codes for the one direction both hold). A ``skos:hiddenLabel`` is a
variant spelling some file uses instead: read as the concept, never written, and still reported
by the quality rule value-not-in-code-book, which checks values against the notations only.

Variants are hidden labels, not further notations: a notation is a code of the review's scheme,
and the rule must go on telling the files' slips ("conflict_outcome") from their codes. SKOS
gives hidden labels exactly this role, spellings that are searched for but never shown.

Values are compared as the files' readers compare them (``fold``): spaces collapsed, case
ignored. Two coded columns name classes of the ontology, not concepts of a vocabulary: the kind
of finding (effects_type) and of factor; their spellings are here, in ``CLASS_CODES``, so that the
ontology stays free of one source's codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from atrocity_kg.errors import StoreError
from atrocity_kg.graph import graphs
from atrocity_kg.ingest.csvfiles import fold
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore


@dataclass(frozen=True)
class Coded:
    """A release-file column coded in one of the vocabularies: the scheme, the notation system
    its spellings are written in, and, where a scheme is split over several columns (the
    methods), the concepts this column holds."""

    scheme: str
    notation: URIRef = SKOS.notation
    concepts: frozenset[str] | None = None


_QUALITATIVE = frozenset({"process-tracing", "structured-case-comparison"})
_QUANTITATIVE = frozenset(
    {
        "multivariate-regression",
        "regression",
        "statistics-with-an-identification-strategy",
        "fixed-or-random-effects",
        "simple-probability",
    }
)
COLUMNS: dict[str, Coded] = {
    "Outcome": Coded("outcomes"),
    "overall": Coded("directions"),
    "Factor_effect": Coded("directions", AKG.factorEffectNotation),
    "Publication": Coded("publication-types"),
    "Empirical": Coded("empirical-bases"),
    "Qual": Coded("analysis-methods", concepts=_QUALITATIVE),
    "Quant": Coded("analysis-methods", concepts=_QUANTITATIVE),
    "Method": Coded("analysis-methods", concepts=frozenset({"no-discernible-method"})),
    "research_qualitative": Coded("evidence-levels"),
    "practitioner_qualitative": Coded("evidence-levels"),
}
METHOD_COLUMNS = ("Qual", "Quant", "Method")


@dataclass(frozen=True)
class ClassCode:
    """A coded value that names a class of the ontology: its spelling, the importer's key, the
    class, and the variant spellings read as it."""

    spelling: str
    key: str
    cls: URIRef
    variants: tuple[str, ...] = ()


CLASS_CODES: dict[str, tuple[ClassCode, ...]] = {
    "effects_type": (
        ClassCode("Average", "overall", AKG.OverallEffectFinding),
        ClassCode("Contextual or design", "factor", AKG.FactorFinding),
    ),
    "factor kind": (
        ClassCode("Contextual", "contextual", AKG.ContextualFactor, ("Context",)),
        ClassCode("Design", "design", AKG.DesignFactor),
    ),
}


def class_reading(kind: str) -> dict[str, str]:
    """Folded spelling (or variant) -> the importer's key, for one of ``CLASS_CODES``."""
    return {
        fold(spelling): code.key
        for code in CLASS_CODES[kind]
        for spelling in (code.spelling, *code.variants)
    }


def class_spellings(kind: str) -> dict[str, str]:
    """Class IRI -> the spelling the files use, for one of ``CLASS_CODES``."""
    return {str(code.cls): code.spelling for code in CLASS_CODES[kind]}


def class_of(kind: str, key: str) -> URIRef:
    """The class an importer's key stands for, for one of ``CLASS_CODES``."""
    return next(code.cls for code in CLASS_CODES[kind] if code.key == key)


@dataclass(frozen=True)
class CodeBook:
    """Each coded column's spellings: concept key -> the notation written, and folded spelling
    (notation or variant) -> concept key, read."""

    spellings: Mapping[str, Mapping[str, str]]
    readings: Mapping[str, Mapping[str, str]]

    def reading(self, column: str) -> dict[str, str]:
        """Folded spelling -> concept key, every spelling the importer accepts in ``column``."""
        return dict(self.readings[column])

    def written(self, column: str) -> dict[str, str]:
        """Concept key -> the spelling the exporter writes in ``column``."""
        return dict(self.spellings[column])


def _scheme_key(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def from_solutions(solutions: list[sparql.Solution]) -> CodeBook:
    """The code book from the rows of ``codebook.rq``; a concept with two notations in one
    system, or two concepts with one spelling in a column, is an error in the vocabularies."""
    found = sorted(
        (_scheme_key(str(sparql.text_of(s["scheme"]))), str(sparql.text_of(s["property"])),
         iris.key(str(sparql.text_of(s["concept"]))), str(sparql.text_of(s["spelling"])))
        for s in solutions
    )  # fmt: skip
    spellings: dict[str, dict[str, str]] = {}
    readings: dict[str, dict[str, str]] = {}
    for column, coded in COLUMNS.items():
        mine = [
            (prop, key, spelling)
            for scheme, prop, key, spelling in found
            if scheme == coded.scheme and (coded.concepts is None or key in coded.concepts)
        ]
        written = spellings[column] = {}
        for prop, key, spelling in mine:
            if prop == str(coded.notation) and written.setdefault(key, spelling) != spelling:
                raise StoreError(
                    f"concept {key!r} has two notations for column {column}: "
                    f"{written[key]!r} and {spelling!r}"
                )
        read = readings[column] = {}
        read_as = (str(coded.notation), str(SKOS.hiddenLabel))
        for prop, key, spelling in mine:
            if key not in written or prop not in read_as:
                continue
            if read.setdefault(fold(spelling), key) != key:
                raise StoreError(
                    f"{spelling!r} spells two concepts of column {column}: "
                    f"{read[fold(spelling)]!r} and {key!r}"
                )
    return CodeBook(spellings, readings)


def read_code_book(store: GraphStore) -> CodeBook:
    """The code book of the curated graph of a store (the graph it was built from)."""
    found = sparql.select(store, sparql.load("codebook"), graphs=[str(graphs.CURATED_GRAPH)])
    return from_solutions(found)


def code_book(curated: Graph) -> CodeBook:
    """The code book of the curated data, as the import reads it."""
    memory = ox.Store()
    memory.extend(graphs.ox_quads(curated, ox.NamedNode(str(graphs.CURATED_GRAPH))))
    return read_code_book(memory)
