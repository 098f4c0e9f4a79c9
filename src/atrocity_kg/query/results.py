"""Query results as a plain table, the same whichever store answered, for printing and comparing.

A table is data: CSV and JSON are written here; a page shows it with the site's templates
(``results_table.html``, see atrocity_kg.web.routes.queries), like every page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox


@dataclass(frozen=True)
class Cell:
    """One bound value in SPARQL JSON terms: type (uri, literal, bnode), value, datatype, lang."""

    type: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def as_json(self) -> dict[str, str]:
        data = {"type": self.type, "value": self.value}
        if self.datatype:
            data["datatype"] = self.datatype
        if self.lang:
            data["xml:lang"] = self.lang
        return data


@dataclass(frozen=True)
class Table:
    variables: list[str]
    rows: list[dict[str, Cell]]

    def as_sparql_json(self) -> dict[str, Any]:
        return {
            "head": {"vars": self.variables},
            "results": {
                "bindings": [{k: v.as_json() for k, v in row.items()} for row in self.rows]
            },
        }

    def plain_rows(self) -> list[dict[str, str]]:
        return [{var: row[var].value for var in self.variables if var in row} for row in self.rows]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow([row[v].value if v in row else "" for v in self.variables])
        return out.getvalue()

    def to_json(self) -> str:
        return json.dumps(self.as_sparql_json(), indent=2, ensure_ascii=False)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def cell_from_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Cell:
    if isinstance(term, ox.NamedNode):
        return Cell("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return Cell("bnode", term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Cell("literal", term.value, lang=term.language)
        datatype = term.datatype.value
        return Cell(
            "literal", term.value, None if datatype in (_XSD_STRING, _LANG_STRING) else datatype
        )
    return Cell("literal", str(term))


def table_from_solutions(solutions: ox.QuerySolutions) -> Table:
    variables = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in variables:
            term = solution[name]
            if term is not None:
                row[name] = cell_from_term(term)
        rows.append(row)
    return Table(variables, rows)


def table_from_sparql_json(data: Mapping[str, Any]) -> Table:
    variables = list(data["head"].get("vars", []))
    rows = []
    for binding in data.get("results", {}).get("bindings", []):
        row = {}
        for name, value in binding.items():
            kind = (
                "uri"
                if value["type"] == "uri"
                else ("bnode" if value["type"] == "bnode" else "literal")
            )
            datatype = value.get("datatype")
            row[name] = Cell(
                kind,
                value["value"],
                None if datatype in (_XSD_STRING, _LANG_STRING) else datatype,
                value.get("xml:lang"),
            )
        rows.append(row)
    return Table(variables, rows)
