"""pySHACL over the asserted graphs, returning a typed report that points back to file and row."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from atrocity_kg.namespaces import AKG

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result, with the release file and row of the focus node where it was imported."""

    focus_node: str
    path: str | None
    message: str
    severity: str
    shape: str | None
    value: str | None = None
    graph: str | None = None
    source_file: str | None = None
    source_row: int | None = None

    def __str__(self) -> str:
        where = f" [{self.source_file}, row {self.source_row}]" if self.source_file else ""
        path = f" {self.path}" if self.path else ""
        value = f" (value {self.value})" if self.value else ""
        return f"{self.severity}: <{self.focus_node}>{path}{where}: {self.message}{value}"


@dataclass
class ValidationReport:
    results: list[ValidationResult] = field(default_factory=list)

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        """Warnings and infos are reported but do not block a build."""
        return not self.violations

    def extend(self, other: ValidationReport) -> None:
        self.results.extend(other.results)

    def summary(self) -> str:
        counts = {
            name: sum(r.severity == name for r in self.results) for name in SEVERITIES.values()
        }
        return ", ".join(f"{n} {name.lower()}{'s' if n != 1 else ''}" for name, n in counts.items())


def _text(node: Node | None) -> str | None:
    return None if node is None else str(node)


def _locate(data: Graph, focus: Node) -> tuple[str | None, int | None]:
    file = data.value(focus, AKG.sourceFile)
    rows = sorted(int(r) for r in data.objects(focus, AKG.sourceRow) if isinstance(r, Literal))
    return (_text(file), rows[0] if rows else None)


def validate(
    data: Graph, shapes: Graph, ontology: Graph, *, graph_name: URIRef | None = None
) -> ValidationReport:
    """Validate one data graph; the ontology supplies the class hierarchy for targets."""
    _conforms, results_graph, _text_report = shacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
    )
    report = ValidationReport()
    for result in results_graph.subjects(RDF.type, SH.ValidationResult):
        focus = results_graph.value(result, SH.focusNode)
        source_file, source_row = _locate(data, focus) if focus is not None else (None, None)
        messages = sorted(str(m) for m in results_graph.objects(result, SH.resultMessage))
        report.results.append(
            ValidationResult(
                focus_node=_text(focus) or "",
                path=_text(results_graph.value(result, SH.resultPath)),
                message="; ".join(messages) or "constraint not met",
                severity=SEVERITIES.get(
                    results_graph.value(result, SH.resultSeverity), "Violation"
                ),
                shape=_text(results_graph.value(result, SH.sourceShape)),
                value=_text(results_graph.value(result, SH.value)),
                graph=_text(graph_name),
                source_file=source_file,
                source_row=source_row,
            )
        )
    report.results.sort(key=lambda r: (r.severity != "Violation", r.graph or "", r.focus_node))
    return report


def merge(reports: Iterable[ValidationReport]) -> ValidationReport:
    merged = ValidationReport()
    for report in reports:
        merged.extend(report)
    return merged


def _validate_serialised(job: tuple[bytes, bytes, bytes, str]) -> ValidationReport:
    """Worker side of validate_many: graphs travel as N-Triples, which parse fastest."""
    data, shapes, ontology, name = job
    return validate(
        Graph().parse(data=data, format="nt"),
        Graph().parse(data=shapes, format="nt"),
        Graph().parse(data=ontology, format="nt"),
        graph_name=URIRef(name),
    )


def validate_many(
    jobs: Sequence[tuple[URIRef, Graph]], shapes: Graph, ontology: Graph
) -> ValidationReport:
    """Validate independent graphs side by side, one process per core: pySHACL is pure Python
    and single-threaded, so the releases of a build are checked in parallel."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return merge(validate(data, shapes, ontology, graph_name=name) for name, data in jobs)
    shapes_nt = shapes.serialize(format="nt", encoding="utf-8")
    ontology_nt = ontology.serialize(format="nt", encoding="utf-8")
    payloads = [
        (data.serialize(format="nt", encoding="utf-8"), shapes_nt, ontology_nt, str(name))
        for name, data in jobs
    ]
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return merge(pool.map(_validate_serialised, payloads))
