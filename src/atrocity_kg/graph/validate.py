"""pySHACL over the asserted graphs, returning a typed report that points back to file and row."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pyoxigraph as ox
from pyshacl import __version__ as pyshacl_version
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from atrocity_kg.model.namespaces import AKG
from atrocity_kg.storage import durable

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


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
SHAPE_REFERENCES = (SH.node, SH["not"], SH.qualifiedValueShape)
SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)


def _referenced_shapes(shapes: Graph) -> set[Node]:
    """Shapes that other shapes use as values (sh:node, sh:not, sh:or ...), not only by target."""
    used: set[Node] = set()
    for predicate in SHAPE_REFERENCES:
        used.update(shapes.objects(None, predicate))
    for predicate in SHAPE_LISTS:
        for members in shapes.objects(None, predicate):
            used.update(shapes.items(members))
    return used


def flatten(shapes: Graph) -> Graph:
    """An equivalent shapes graph in which each property shape of a targeted node shape carries
    that node shape's targets itself, instead of being reached through sh:property.

    Both forms report the same results (the source shape is the property shape either way), but
    pySHACL runs a property shape reached through sh:property once per focus node, and one with
    its own targets once for all of them: 40,720 shape runs become 125 on release V3, and its
    validation takes a third of the time (bench/build_stages.py). Node shapes that other shapes
    use as values, or that are deactivated, are left as they are.
    """
    flat = Graph()
    flat += shapes
    keep = _referenced_shapes(flat)
    for node in set(flat.subjects(SH.property, None)):
        targets = [(p, t) for p in TARGETS for t in flat.objects(node, p)]
        if not targets or node in keep or (node, SH.deactivated, None) in flat:
            continue
        for prop in list(flat.objects(node, SH.property)):
            for predicate, target in targets:
                flat.add((prop, predicate, target))
            flat.remove((node, SH.property, prop))
    return flat


def validate(
    data: Graph, shapes: Graph, ontology: Graph, *, graph_name: URIRef | None = None
) -> ValidationReport:
    """Validate one data graph; the ontology supplies the class hierarchy for targets."""
    return _validate_with_ontology(data + ontology, flatten(shapes), data, graph_name)


def _validate_with_ontology(
    data_and_ontology: Graph, flat_shapes: Graph, data: Graph, graph_name: URIRef | None
) -> ValidationReport:
    """pySHACL over a data graph that already holds the ontology (targets and sh:class follow
    its rdfs:subClassOf), so pySHACL need not copy the data to mix the ontology in."""
    _conforms, results_graph, _text_report = shacl_validate(
        data_and_ontology,
        shacl_graph=flat_shapes,
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
    report.results.sort(key=_order)
    return report


def _order(result: ValidationResult) -> tuple[bool, str, str]:
    """Violations first, then by graph and focus node."""
    return (result.severity != "Violation", result.graph or "", result.focus_node)


def merge(reports: Iterable[ValidationReport]) -> ValidationReport:
    merged = ValidationReport()
    for report in reports:
        merged.extend(report)
    return merged


def _validate_serialised(job: tuple[str, bytes, bytes, bytes, bytes]) -> ValidationReport:
    """Worker side of validating(): graphs travel as N-Triples, which parse fastest; the data,
    its context and the ontology are parsed into one graph."""
    name, data, context, ontology, flat_shapes = job
    combined = Graph()
    for part in (data, context, ontology):
        combined.parse(data=part, format="nt")
    return _validate_with_ontology(
        combined, Graph().parse(data=flat_shapes, format="nt"), combined, URIRef(name)
    )


def fingerprint(ntriples: bytes) -> str:
    """SHA-256 of a graph's content, whatever the order of its lines and the labels of its
    blank nodes (rdflib gives them fresh labels at every parse; pyoxigraph's canonical form
    names them from the graph, deterministically for a given pyoxigraph version)."""
    if b"_:" in ntriples:
        dataset = ox.Dataset(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        lines = sorted(str(quad) for quad in dataset)
    else:
        lines = sorted(ntriples.decode("utf-8").splitlines())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


_CODE = hashlib.sha256(
    Path(__file__).read_bytes() + pyshacl_version.encode("utf-8") + ox.__version__.encode()
).hexdigest()


class ValidationCache:
    """Reports of graphs already validated, by the fingerprints of the data, its context, the
    ontology, the shapes and this code: a rebuild after one release is re-imported validates
    only that release (the import has validated it too, so not even that one)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if folder.is_dir():
            durable.sweep_temporaries(folder)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> ValidationReport | None:
        """The stored report, or None when there is none or it cannot be read whole (a damaged
        entry costs one validation again, never a failed build)."""
        try:
            rows = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(rows, list):
            return None
        results = [_result_from_json(row) for row in rows]
        if any(result is None for result in results):
            return None
        return ValidationReport([result for result in results if result is not None])

    def put(self, key: str, report: ValidationReport) -> None:
        """Written to a temporary name, flushed and renamed: a reader, or the cache after a
        crash, sees a whole entry or none."""
        data = json.dumps([asdict(r) for r in report.results]).encode("utf-8")
        durable.write_atomically(self._path(key), data)


_REQUIRED_TEXT = ("focus_node", "message", "severity")
_OPTIONAL_TEXT = ("path", "shape", "value", "graph", "source_file")


def _result_from_json(row: object) -> ValidationResult | None:
    """One cached result, if the entry holds exactly the fields of one, with their types."""
    if not isinstance(row, dict) or set(row) != {f.name for f in fields(ValidationResult)}:
        return None
    if not all(isinstance(row[name], str) for name in _REQUIRED_TEXT):
        return None
    if not all(row[name] is None or isinstance(row[name], str) for name in _OPTIONAL_TEXT):
        return None
    source_row = row["source_row"]
    if source_row is not None and type(source_row) is not int:
        return None
    return ValidationResult(**row)


@contextmanager
def validating(
    jobs: Sequence[tuple[URIRef, Graph | bytes]],
    shapes: Graph,
    ontology: Graph,
    context: Graph | None = None,
    workers: int | None = None,
    cache: ValidationCache | None = None,
) -> Iterator[Callable[[], ValidationReport]]:
    """Start validating independent graphs in worker processes (one per core unless told) and
    give the caller a function that waits for the merged report: pySHACL is pure Python and
    single-threaded, so the graphs are checked in parallel, and the caller may work meanwhile
    (the build recomputes evidence and reasons). With ``workers=0`` the graphs are validated
    here, one after the other, when the report is asked for. Each graph is validated together
    with ``context`` (the curated data a release points into). A graph may come as N-Triples
    already (a store's dump), which then travels as it is. With a cache, a graph whose report it
    holds is not validated again, and new reports are added to it."""
    around = context if context is not None else Graph()

    def nt(graph: Graph) -> bytes:
        return graph.serialize(format="nt", encoding="utf-8")

    shared = (nt(around), nt(ontology), nt(flatten(shapes)))
    shared_key = _CODE + "".join(fingerprint(part) for part in shared) if cache else ""
    serialised = [(name, data if isinstance(data, bytes) else nt(data)) for name, data in jobs]
    # The largest first, so that no worker is left with a big graph at the end.
    serialised.sort(key=lambda job: len(job[1]), reverse=True)
    known: list[ValidationReport] = []
    pending: list[tuple[str, tuple[str, bytes, bytes, bytes, bytes]]] = []
    for name, data in serialised:
        payload = (str(name), data, *shared)
        key = ""
        if cache is not None:
            text = shared_key + str(name) + fingerprint(payload[1])
            key = hashlib.sha256(text.encode("utf-8")).hexdigest()
            found = cache.get(key)
            if found is not None:
                known.append(found)
                continue
        pending.append((key, payload))

    def merged(fresh: Iterable[tuple[str, ValidationReport]]) -> ValidationReport:
        reports = list(known)
        for key, report in fresh:
            if cache is not None:
                cache.put(key, report)
            reports.append(report)
        result = merge(reports)
        result.results.sort(key=_order)
        return result

    workers = min(len(pending), os.cpu_count() or 1 if workers is None else workers)
    if workers <= 0:
        yield lambda: merged((key, _validate_serialised(payload)) for key, payload in pending)
        return
    start = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=start) as pool:
        futures = [(key, pool.submit(_validate_serialised, payload)) for key, payload in pending]
        try:
            yield lambda: merged((key, future.result()) for key, future in futures)
        finally:
            for _, future in futures:
                future.cancel()


def validate_many(
    jobs: Sequence[tuple[URIRef, Graph | bytes]],
    shapes: Graph,
    ontology: Graph,
    context: Graph | None = None,
    cache: ValidationCache | None = None,
) -> ValidationReport:
    """Validate independent graphs side by side and wait for the merged report."""
    workers = None if len(jobs) > 1 else 0
    with validating(jobs, shapes, ontology, context, workers, cache) as report:
        return report()
