"""Running catalogue queries on a store and reading their expected results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from atrocity_kg.config import Settings
from atrocity_kg.query import queries
from atrocity_kg.query.results import Table, table_from_solutions
from atrocity_kg.storage import store

EXPECTED = Path(__file__).parent / "queries" / "expected"


def run_catalogue_query(
    settings: Settings, name: str, values: dict[str, str] | None = None
) -> Table:
    entry = queries.load_catalogue(settings.queries_dir)[name]
    with store.opened(settings.store_root) as opened:
        answer = store.run_query(opened, entry.bound_text(values or {}))
        assert isinstance(answer, ox.QuerySolutions)
        return table_from_solutions(answer)


def as_plain(table: Table) -> dict[str, Any]:
    return {
        "variables": table.variables,
        "rows": [
            [row[v].value if v in row else None for v in table.variables] for row in table.rows
        ],
    }


def load_expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))
    return data


def write_expected(name: str, table: Table) -> None:
    (EXPECTED / f"{name}.json").write_text(
        json.dumps(as_plain(table), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
