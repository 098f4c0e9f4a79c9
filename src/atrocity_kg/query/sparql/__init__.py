"""The project's own SPARQL, run one way: the prologue, bound values, the dataset, typed rows.

The longer queries the code runs on a store are ``.rq`` files of this folder (``load``); short
ones stay beside their code. Either way ``select`` puts the project's prologue in front
(``namespaces.sparql_prologue``), so no query repeats the PREFIX lines, binds values in a VALUES
block of terms that pyoxigraph built (``queries.with_values``), never pasted into the patterns,
and reads the union of the named graphs or the merge of chosen ones. The same call serves the
embedded store and a remote one (``store.GraphStore``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import pyoxigraph as ox

from atrocity_kg.errors import StoreError
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.query.queries import with_values

if TYPE_CHECKING:
    from atrocity_kg.storage.store import GraphStore

Value = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Solution = dict[str, Value | None]
"""One row of a SELECT answer: each projected variable's value, None where it is unbound."""
PROLOGUE = sparql_prologue()


@functools.cache
def load(name: str) -> str:
    """The text of ``{name}.rq`` of this folder."""
    return resources.files(__name__).joinpath(f"{name}.rq").read_text(encoding="utf-8")


def select(
    store: GraphStore,
    query: str,
    bound: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
    *,
    graphs: Iterable[str] | None = None,
) -> list[Solution]:
    """Run a SELECT (a ``load``-ed file or a short text, without PREFIX lines) with the
    ``bound`` variables' values, over the merge of ``graphs`` (each statement is in one graph,
    so the merge holds it once) or over the union of all named graphs."""
    text = PROLOGUE + query
    if bound:
        text = with_values(text, {ox.Variable(key): value for key, value in bound.items()})
    if graphs is None:
        answer = store.query(text, use_default_graph_as_union=True)
    else:
        answer = store.query(text, default_graph=[ox.NamedNode(graph) for graph in graphs])
    if not isinstance(answer, ox.QuerySolutions):
        raise StoreError(f"expected SELECT results from: {query.strip()[:80]}")
    names = [variable.value for variable in answer.variables]
    return [{key: solution[key] for key in names} for solution in answer]


def text_of(value: Value | None) -> str | None:
    """A value's lexical form (an IRI's string, a literal's text), or None if unbound."""
    if value is None or isinstance(value, ox.Triple):
        return None if value is None else str(value)
    return value.value


@dataclass(frozen=True)
class Release:
    """A release as the graph describes it (``releases.rq``)."""

    iri: str
    code: str
    title: str
    issued: str
    """Its date as written (``2025-04``), empty where the graph gives none."""


def releases(store: GraphStore) -> list[Release]:
    """The releases in the store, newest (greatest dct:issued) first; one entry per release."""
    found = {}
    for row in select(store, load("releases")):
        release, code = row["release"], row["code"]
        if isinstance(release, ox.NamedNode) and code is not None:
            found[release.value] = Release(
                release.value,
                text_of(code) or "",
                text_of(row["title"]) or "",
                text_of(row["issued"]) or "",
            )
    return sorted(found.values(), key=lambda r: (r.issued, r.code), reverse=True)


def graph_sizes(store: GraphStore) -> dict[str, int]:
    """Triples per named graph, by graph name in order."""
    sizes = {}
    for row in select(store, load("graph-sizes")):
        graph, size = row["g"], row["n"]
        if isinstance(graph, ox.NamedNode) and size is not None:
            sizes[graph.value] = int(text_of(size) or 0)
    return sizes
