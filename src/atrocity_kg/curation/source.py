"""The store -> what a draft release is made from: the latest release's findings, opposites and
practitioner ratings, and the studies every release has (``graph.draft.DraftInput``)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pyoxigraph as ox
from rdflib import URIRef

from atrocity_kg.errors import ReleaseFormatError, StoreError
from atrocity_kg.graph import evidence
from atrocity_kg.graph.draft import CONTRIBUTION_GRAPH_PREFIX, DraftInput
from atrocity_kg.ingest.contributions import DraftBase
from atrocity_kg.ingest.releases import spec_of
from atrocity_kg.ingest.ushmm import ToolCatalogue
from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore


def _value(row: sparql.Solution, name: str) -> str:
    text = sparql.text_of(row[name])
    if text is None:
        raise StoreError(f"the store's answer lacks ?{name}")
    return text


def read_draft_input(store: GraphStore, tools: ToolCatalogue) -> DraftInput:
    """The latest release and the studies of every release, as the store holds them."""
    latest_rows = sparql.select(store, sparql.load("draft-latest"))
    if not latest_rows:
        raise StoreError("the store has no latest release (graph/catalogue): import one first")
    code = _value(latest_rows[0], "code")
    sources = {_value(row, "source") for row in latest_rows if row["source"]}
    try:
        spec = spec_of(code, sources)
    except (ValueError, ReleaseFormatError) as error:
        raise StoreError(f"the latest release in the store: {error}") from None
    release = ox.NamedNode(_value(latest_rows[0], "release"))
    latest_graphs = sorted({_value(row, "graph") for row in latest_rows if row["graph"]})
    factors = frozenset(
        _value(row, "code")
        for row in sparql.select(store, sparql.load("draft-factor-codes"), graphs=latest_graphs)
    )
    studies: set[str] = set()
    contributed: dict[str, str] = {}
    for row in sparql.select(store, sparql.load("draft-studies")):
        graph = _value(row, "graph")
        if graph.startswith(CONTRIBUTION_GRAPH_PREFIX):
            contributed[_value(row, "number")] = graph
        else:
            studies.add(_value(row, "number"))
    base = DraftBase(code, factors, frozenset(studies), tools, spec)
    findings = read_findings(store, release, latest_graphs)
    opposites = {
        _value(row, "factor"): URIRef(_value(row, "opposite"))
        for row in sparql.select(store, sparql.load("draft-opposites"), graphs=latest_graphs)
    }
    interviews = {}
    for row in sparql.select(
        store, sparql.load("draft-interviews"), {"release": release}, graphs=latest_graphs
    ):
        level = sparql.text_of(row["level"])
        interviews[(_value(row, "tool"), _value(row, "factor"))] = evidence.Interviews(
            URIRef(_value(row, "rating")),
            Decimal(_value(row, "share")),
            URIRef(level) if level is not None else None,
        )
    return DraftInput(base, findings, opposites, interviews, contributed)


def read_findings(
    store: GraphStore, release: ox.NamedNode, graphs: Iterable[str] | None = None
) -> list[evidence.FindingRow]:
    """The factor findings of a release (a draft's: the contributed ones) as the rubric reads
    them."""
    return [
        (
            _value(row, "finding"),
            _value(row, "tool"),
            _value(row, "factor"),
            iris.key(_value(row, "outcome")),
            iris.key(_value(row, "direction")),
        )
        for row in sparql.select(
            store, sparql.load("draft-findings"), {"release": release}, graphs=graphs
        )
    ]
