"""Release folder -> the records graph: every CSV record's fact columns as RDF, for the rules.

One node per data record (``iris.record``), typed by the kind of file it comes from
(``iris.table``: sources, factors, guide, bibliography), with ``akg:inRelease``,
``akg:sourceFile`` and ``akg:sourceRow`` (counted from 1 after the header, as the importer
counts, which is also the files' unnamed first column) and one property per column
(``iris.column``: the header as the file spells it). A value is the cell stripped of surrounding
blanks; an empty cell or ``NA`` gives no triple, as the importer reads them.

Only fact columns are read (codes, names, numbers, DOIs, keys, citations): never the review's
prose. Where a rule must tell whether two prose cells say the same thing (a factor's
description, to recognise a renamed code), the graph holds a digest of the cell instead
(``iris.column_part(column, "digest")``). The bibliography's ``Extra`` cell is read only for the
index numbers it names (``documentName: A; B``), one value each
(``iris.column_part("Extra", "documentName")``).

The graph lives in memory for the rules and is never written or stored: what the rules find
becomes the quality annotations (``report.py``), which are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from atrocity_kg.graph import graphs
from atrocity_kg.ingest import zotero
from atrocity_kg.ingest.csvfiles import read_rows
from atrocity_kg.ingest.releases import ReleaseSpec, discover
from atrocity_kg.ingest.ushmm import (
    FACTOR_COLUMNS_COMMON,
    GUIDE_COLUMNS,
    SOURCE_COLUMNS_COMMON,
)
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG

# The records are the store's default graph, which the preparation update (rules/prepare.ru)
# reads and adds to; the vocabularies are a named graph beside it, seen by the rules' union.
RECORDS_GRAPH = ox.DefaultGraph()
VOCABULARIES_GRAPH = ox.NamedNode(str(iris.graph("curated")))

_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_XSD_GYEARMONTH = ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYearMonth")
_XSD_GYEAR = ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_ISSUED = ox.NamedNode("http://purl.org/dc/terms/issued")
_IN_RELEASE = ox.NamedNode(str(AKG.inRelease))
_SOURCE_FILE = ox.NamedNode(str(AKG.sourceFile))
_SOURCE_ROW = ox.NamedNode(str(AKG.sourceRow))
_RELEASE_CODE = ox.NamedNode(str(AKG.releaseCode))


@dataclass(frozen=True)
class TableSpec:
    """One kind of release file: where it is, and which of its columns the rules may read."""

    kind: str
    file_of: Callable[[ReleaseSpec], str | None]
    columns: tuple[str, ...]
    digests: tuple[str, ...] = ()
    document_names: bool = False


# Fact columns only. A column that a release file lacks is simply absent from its records.
TABLES = (
    TableSpec(
        "sources",
        lambda spec: spec.sources_file,
        (
            *SOURCE_COLUMNS_COMMON,
            "effects_type",
            "overall",
            "count",
            "count_adverse",
            "count_without_adverse",
        ),
    ),
    TableSpec(
        "factors",
        lambda spec: spec.factors_file,
        (
            *FACTOR_COLUMNS_COMMON,
            "Tool",
            "count_without_adverse",
            "greater_practitioner",
            "lesser_practitioner",
            "no_mixed_practitioner",
        ),
        digests=("Description",),
    ),
    TableSpec("guide", lambda spec: spec.guide_file, GUIDE_COLUMNS, digests=("Description",)),
    TableSpec(
        "bibliography",
        lambda spec: spec.bibliography_file,
        (*(c for c in zotero.COLUMNS if c != "Extra"), "Item Type"),
        document_names=True,
    ),
)


def digest(text: str) -> str:
    """A prose cell as the rules may compare it: the same words, whatever the case and spacing,
    give the same digest, and the words themselves stay out of the graph."""
    normal = " ".join(text.split()).casefold()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def present_releases(root: Path) -> list[ReleaseSpec]:
    """The releases whose study file is in the folder, oldest first."""
    return list(discover(root).values())


def _literal(value: str) -> ox.Literal:
    return ox.Literal(value)


def _release_quads(spec: ReleaseSpec) -> Iterator[ox.Quad]:
    release = ox.NamedNode(str(iris.release(spec.code)))
    yield ox.Quad(release, _RELEASE_CODE, _literal(spec.code), RECORDS_GRAPH)
    kind = _XSD_GYEARMONTH if spec.issued_month else _XSD_GYEAR
    yield ox.Quad(release, _ISSUED, ox.Literal(spec.issued, datatype=kind), RECORDS_GRAPH)


def _table_quads(root: Path, spec: ReleaseSpec, table: TableSpec) -> Iterator[ox.Quad]:
    relative = table.file_of(spec)
    if relative is None or not (root / relative).is_file():
        return
    kind = ox.NamedNode(str(iris.table(table.kind)))
    release = ox.NamedNode(str(iris.release(spec.code)))
    columns = [(name, ox.NamedNode(str(iris.column(name)))) for name in table.columns]
    digests = [
        (name, ox.NamedNode(str(iris.column_part(name, "digest")))) for name in table.digests
    ]
    named = ox.NamedNode(str(iris.column_part("Extra", "documentName")))
    for row in read_rows(root, relative, ()):
        node = ox.NamedNode(str(iris.record(relative, row.record)))
        yield ox.Quad(node, _RDF_TYPE, kind, RECORDS_GRAPH)
        yield ox.Quad(node, _IN_RELEASE, release, RECORDS_GRAPH)
        yield ox.Quad(node, _SOURCE_FILE, _literal(relative), RECORDS_GRAPH)
        yield ox.Quad(
            node, _SOURCE_ROW, ox.Literal(str(row.record), datatype=_XSD_INTEGER), RECORDS_GRAPH
        )
        for name, prop in columns:
            value = row.text(name)
            if value is not None:
                yield ox.Quad(node, prop, _literal(value), RECORDS_GRAPH)
        for name, prop in digests:
            value = row.text(name)
            if value is not None:
                yield ox.Quad(node, prop, _literal(digest(value)), RECORDS_GRAPH)
        if table.document_names:
            for index_number in zotero.document_names(row):
                yield ox.Quad(node, named, _literal(index_number), RECORDS_GRAPH)


def records_store(root: Path, vocabularies: Graph) -> tuple[ox.Store, list[ReleaseSpec]]:
    """Every release present in the folder as records, beside the curated vocabularies (whose
    ``skos:notation`` are the spellings the rules check coded values against), in one in-memory
    store whose union the rules query."""
    store = ox.Store()
    releases = present_releases(root)
    for spec in releases:
        store.extend(_release_quads(spec))
        for table in TABLES:
            store.extend(_table_quads(root, spec, table))
    store.extend(graphs.ox_quads(vocabularies, VOCABULARIES_GRAPH))
    return store, releases
