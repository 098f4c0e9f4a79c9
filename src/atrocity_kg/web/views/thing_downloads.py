"""Everything about one tool or factor, for a spreadsheet or a reference manager: its findings
as table rows, and the bibliography of the studies reporting them.

In: a store and the thing (``query/sparql/thing-findings.rq`` and ``thing-bibliography.rq``, the
thing a bound value). Out: CSV rows and ``publish.bibliography.Reference`` records. A factor's
findings include those the review codes under its opposite's factor (the review codes one
factor; the page of its opposite shows the same findings the other way round).
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from atrocity_kg.model.namespaces import AKG as NS
from atrocity_kg.publish.bibliography import Reference, ordered_names
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.sections import section_kind
from atrocity_kg.web.views.terms import RDF_TYPE, Labels, thing_node

KINDS = ("tool", "factor")
OVERALL = str(NS.OverallEffectFinding)
FINDING_COLUMNS = (
    "release",
    "study",
    "title",
    "year",
    "doi",
    "tool",
    "factor",
    "outcome",
    "direction",
    "finding",
    "study_iri",
    "tool_iri",
    "factor_iri",
)


def downloadable(store: GraphStore, kind: str, key: str) -> ox.NamedNode | None:
    """The tool or factor ``kind/key`` names, if the graph has it as that kind."""
    node = thing_node(f"{kind}/{key}") if kind in KINDS and key else None
    if node is None:
        return None
    types = [
        quad.object.value
        for quad in store.quads_for_pattern(node, RDF_TYPE, None, None)
        if isinstance(quad.object, ox.NamedNode)
    ]
    return node if section_kind(types) == kind else None


def _text(row: dict[str, Any], name: str) -> str:
    return sparql.text_of(row.get(name)) or ""


def finding_rows(store: GraphStore, node: ox.NamedNode) -> list[list[str]]:
    """One line per finding, oldest release first, then by study, tool, factor and outcome."""
    rows = sparql.select(store, sparql.load("thing-findings"), {"thing": node})
    labels = Labels(store)
    labels.prefetch(
        row[name] for row in rows for name in ("tool", "factor", "outcome", "direction")
    )

    def label(row: dict[str, Any], name: str) -> str:
        value = row.get(name)
        if isinstance(value, ox.NamedNode):
            return labels(value) or value.value
        return ""

    lines = {}
    for row in rows:
        finding = _text(row, "finding")
        lines[finding] = [
            _text(row, "code"),
            _text(row, "index"),
            _text(row, "title"),
            _text(row, "year"),
            _text(row, "doi"),
            label(row, "tool"),
            label(row, "factor") if _text(row, "kind") != OVERALL else "overall effect",
            label(row, "outcome"),
            label(row, "direction"),
            finding,
            _text(row, "study"),
            _text(row, "tool"),
            _text(row, "factor"),
        ]
    return sorted(lines.values(), key=lambda line: (line[0], line[1], line[5], line[6], line[7]))


def _key(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def references(store: GraphStore, node: ox.NamedNode) -> list[Reference]:
    """The studies reporting the thing's findings, newest first, then by title."""
    fields: dict[str, dict[str, set[str]]] = {}
    for row in sparql.select(store, sparql.load("thing-bibliography"), {"thing": node}):
        study = _text(row, "study")
        if not study:
            continue
        found = fields.setdefault(study, {})
        for name in ("index", "type", "title", "year", "venue", "doi", "creator", "editor"):
            if value := _text(row, name):
                found.setdefault(name, set()).add(value)
        if citation := _text(row, "citation"):
            found.setdefault("citation", set()).add(citation)

    def first(found: dict[str, set[str]], name: str) -> str:
        return min(found.get(name, {""}))

    made = []
    for study, found in fields.items():
        citation = first(found, "citation")
        made.append(
            Reference(
                key=_key(study),
                iri=study,
                index=first(found, "index"),
                kind=_key(first(found, "type")),
                title=first(found, "title"),
                year=first(found, "year"),
                venue=first(found, "venue"),
                doi=first(found, "doi"),
                authors=ordered_names(found.get("creator", set()), citation),
                editors=ordered_names(found.get("editor", set()), citation),
                citation=citation,
            )
        )
    return sorted(made, key=lambda r: (-_year(r.year), r.title.lower(), r.key))


def _year(text: str) -> int:
    digits = text[:4]
    return int(digits) if digits.isdigit() else 0


def file_stem(kind: str, key: str) -> str:
    return f"{kind}-{key}"
