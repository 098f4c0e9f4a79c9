"""What the tests of a remote store compare it with: the embedded store's graphs, counted apart
from the code under test, and answers as plain values (blank-node labels differ between
stores)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.config import Settings
from atrocity_kg.query.results import Table
from atrocity_kg.storage import store

REPO = Path(__file__).resolve().parents[1]
NAMES = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))
Row = tuple[tuple[str, str, str | None, str | None], ...]
BLANK_LINKS = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?b . ?b ?q ?o FILTER(isBlank(?b)) } }"
)


def local_counts(settings: Settings) -> dict[str, int]:
    """Triples per graph in the embedded store, counted apart from the push code."""
    with store.opened(settings.store_root) as local:
        return {
            name: sum(1 for _ in local.quads_for_pattern(None, None, None, ox.NamedNode(name)))
            for name in store.graph_names(local)
        }


def plain(table: Table) -> tuple[list[str], list[Row]]:
    """Variables and rows as plain values; blank-node labels differ between stores, so go."""
    rows = [
        tuple(
            (cell.type, "" if cell.type == "bnode" else cell.value, cell.datatype, cell.lang)
            if (cell := row.get(v)) is not None
            else ("unbound", "", None, None)
            for v in table.variables
        )
        for row in table.rows
    ]
    return table.variables, rows


def local_blank_links(settings: Settings) -> int:
    with store.opened(settings.store_root) as local:
        solutions = store.run_query(local, BLANK_LINKS)
        assert isinstance(solutions, ox.QuerySolutions)
        term = next(iter(solutions))["n"]
        assert isinstance(term, ox.Literal)
        return int(term.value)
