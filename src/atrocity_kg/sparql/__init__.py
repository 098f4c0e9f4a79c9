"""The project's own SPARQL: each query the code runs on a store is a ``.rq`` file of this folder.

A query is read once, with the project's prologue (``namespaces.sparql_prologue``) in front, so
no file repeats the PREFIX lines, and run through ``select``: values are bound in a VALUES block
of terms that pyoxigraph built (``queries.with_values``), never pasted into the patterns, over
the union of the named graphs or the merge of chosen ones. The same call serves the embedded
store and a remote one (``store.GraphStore``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING

import pyoxigraph as ox

from atrocity_kg.errors import StoreError
from atrocity_kg.namespaces import sparql_prologue
from atrocity_kg.queries import with_values

if TYPE_CHECKING:
    from atrocity_kg.store import GraphStore

Value = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Solution = dict[str, Value | None]
"""One row of a SELECT answer: each projected variable's value, None where it is unbound."""


@functools.cache
def query_text(name: str) -> str:
    """The text of ``{name}.rq`` of this folder, the project's prologue in front."""
    body = resources.files(__name__).joinpath(f"{name}.rq").read_text(encoding="utf-8")
    return sparql_prologue() + body


def select(
    store: GraphStore,
    name: str,
    *,
    graphs: Iterable[str] | None = None,
    **bound: ox.NamedNode | ox.Literal,
) -> list[Solution]:
    """Run the SELECT ``{name}.rq`` with ``bound`` variables, over the merge of ``graphs``
    (each statement is in one graph, so the merge holds it once) or over the union of all."""
    text = query_text(name)
    if bound:
        text = with_values(text, {ox.Variable(key): value for key, value in bound.items()})
    if graphs is None:
        answer = store.query(text, use_default_graph_as_union=True)
    else:
        answer = store.query(text, default_graph=[ox.NamedNode(graph) for graph in graphs])
    if not isinstance(answer, ox.QuerySolutions):
        raise StoreError(f"{name}.rq: expected SELECT results")
    names = [variable.value for variable in answer.variables]
    return [{key: solution[key] for key in names} for solution in answer]


def text_of(value: Value | None) -> str | None:
    """A value's lexical form (an IRI's string, a literal's text), or None if unbound."""
    if value is None or isinstance(value, ox.Triple):
        return None if value is None else str(value)
    return value.value
