"""Quality annotations: what the rules find, as W3C DQV in RDF, and read back as a report.

Each place a rule reports becomes a ``dqv:QualityAnnotation`` (a Web Annotation) motivated by
``dqv:qualityAssessment``, whose target (``oa:hasTarget``) is the release the file belongs to
and whose body (``oa:hasBody``) is the kind of slip, a SKOS concept
(``akg:QualityIssueKind``) in the scheme ``id:scheme/quality-kinds``, labelled and defined by
its rule's header. The place and what is there are on the annotation itself: ``akg:sourceFile``,
``akg:sourceRow`` and ``akg:sourceColumn`` (as the graph's other nodes are traced),
``akg:found`` and ``akg:action``; ``dct:subject`` names the study or factor concerned, where
the files say which. The graph is ``graph/quality``, kept in ``data/ushmm/quality.ttl``.

The report is read back with one SPARQL query (``report.rq``), so the command, the server and
a remote store read the same thing the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import resources

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from atrocity_kg.errors import QueryError
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, DQV, OA, bind_prefixes
from atrocity_kg.quality.rules import Issue, Rule
from atrocity_kg.storage.store import GraphStore

KINDS_SCHEME = iris.scheme("quality-kinds")
COLUMNS = ("release", "file", "row", "column", "kind", "found", "action")
"""The report's fields, in the order the CSV and text forms give them."""


def kind_iri(kind: str) -> URIRef:
    return iris.quality_kind(kind)


def annotation_graph(issues: Iterable[Issue], rules: Iterable[Rule]) -> Graph:
    """The quality graph: the kinds (every rule's, found or not) and one annotation per issue."""
    graph = bind_prefixes(Graph())
    graph.add((KINDS_SCHEME, RDF.type, SKOS.ConceptScheme))
    graph.add((KINDS_SCHEME, SKOS.prefLabel, Literal("quality issue kinds", lang="en")))
    graph.add(
        (
            KINDS_SCHEME,
            SKOS.definition,
            Literal(
                "The kinds of place where the review's release files contradict themselves, "
                "each other or an earlier release, one per rule of the quality report.",
                lang="en",
            ),
        )
    )
    for rule in rules:
        concept = kind_iri(rule.kind)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, RDF.type, AKG.QualityIssueKind))
        graph.add((concept, SKOS.inScheme, KINDS_SCHEME))
        graph.add((concept, SKOS.topConceptOf, KINDS_SCHEME))
        graph.add((KINDS_SCHEME, SKOS.hasTopConcept, concept))
        graph.add((concept, SKOS.notation, Literal(rule.kind)))
        graph.add((concept, SKOS.prefLabel, Literal(rule.title, lang="en")))
        graph.add((concept, SKOS.definition, Literal(rule.description, lang="en")))
    for issue in issues:
        node = iris.quality_annotation(issue.kind, issue.file, issue.row, issue.column, issue.found)
        graph.add((node, RDF.type, DQV.QualityAnnotation))
        graph.add((node, OA.motivatedBy, DQV.qualityAssessment))
        graph.add((node, OA.hasTarget, iris.release(issue.release)))
        graph.add((node, OA.hasBody, kind_iri(issue.kind)))
        graph.add((node, AKG.sourceFile, Literal(issue.file)))
        graph.add((node, AKG.sourceRow, Literal(issue.row, datatype=XSD.positiveInteger)))
        if issue.column:
            graph.add((node, AKG.sourceColumn, Literal(issue.column)))
        graph.add((node, AKG.found, Literal(issue.found)))
        graph.add((node, AKG.action, Literal(issue.action, lang="en")))
        for study in sorted(issue.studies):
            graph.add((node, DCTERMS.subject, iris.study(study)))
        for factor in sorted(issue.factors):
            graph.add((node, DCTERMS.subject, iris.factor(factor)))
    return graph


# --- reading the report back -----------------------------------------------------------------


def _query(name: str) -> str:
    return (resources.files("atrocity_kg.quality") / name).read_text(encoding="utf-8")


REPORT_QUERY = _query("report.rq")
KINDS_QUERY = _query("kinds.rq")


@dataclass(frozen=True)
class QualityRecord:
    """One line of the report."""

    release: str
    file: str
    row: int
    column: str
    kind: str
    kind_label: str
    found: str
    action: str
    annotation: str
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSummary:
    """A kind of slip, with how many places the report lists."""

    kind: str
    label: str
    definition: str
    count: int


@dataclass
class QualityReport:
    release: str | None
    records: list[QualityRecord] = field(default_factory=list)
    kinds: list[KindSummary] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "release": self.release,
                "kinds": [asdict(kind) for kind in self.kinds],
                "records": [
                    {**asdict(record), "subjects": list(record.subjects)} for record in self.records
                ],
            },
            indent=2,
            ensure_ascii=False,
        )

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for record in self.records:
            writer.writerow([getattr(record, name) for name in COLUMNS])
        return out.getvalue()

    def to_text(self) -> str:
        """Grouped by kind: its label and count, then one line per place and what is done."""
        lines = []
        for kind in self.kinds:
            mine = [r for r in self.records if r.kind == kind.kind]
            lines.append(f"{kind.label} ({kind.kind}): {len(mine)}")
            for record in mine:
                column = f", column {record.column!r}" if record.column else ""
                lines.append(f"  {record.file}, row {record.row}{column}: {record.found}")
                lines.append(f"    -> {record.action}")
        lines.append(f"{len(self.records)} records")
        return "\n".join(lines) + "\n"


def _value(solution: ox.QuerySolution, name: str) -> str:
    term = solution[name]
    return term.value if term is not None else ""


def _release_code(iri: str) -> str:
    return iris.key(iri).upper()


def read_report(source: GraphStore, release: str | None = None) -> QualityReport:
    """The report from a store holding ``graph/quality`` (the embedded one, a remote one, or an
    in-memory one loaded from quality.ttl), for one release or all; the release is bound as a
    value, never pasted into the query."""
    try:
        if release is None:
            answer = source.query(REPORT_QUERY, use_default_graph_as_union=True)
        else:
            answer = source.query(
                REPORT_QUERY,
                use_default_graph_as_union=True,
                substitutions={ox.Variable("release"): ox.NamedNode(str(iris.release(release)))},
            )
        kinds_answer = source.query(KINDS_QUERY, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"the quality report query failed: {error}") from None
    assert isinstance(answer, ox.QuerySolutions)
    assert isinstance(kinds_answer, ox.QuerySolutions)
    grouped: dict[str, list[str]] = {}
    rows: dict[str, QualityRecord] = {}
    for solution in answer:
        annotation = _value(solution, "annotation")
        subject = _value(solution, "subject")
        if subject:
            grouped.setdefault(annotation, []).append(subject)
        if annotation in rows:
            continue
        rows[annotation] = QualityRecord(
            release=_release_code(_value(solution, "release")),
            file=_value(solution, "file"),
            row=int(_value(solution, "row")),
            column=_value(solution, "column"),
            kind=_value(solution, "kindKey"),
            kind_label=_value(solution, "kindLabel"),
            found=_value(solution, "found"),
            action=_value(solution, "action"),
            annotation=annotation,
        )
    records = [
        QualityRecord(**{**asdict(r), "subjects": tuple(sorted(set(grouped.get(a, []))))})
        for a, r in rows.items()
    ]
    records.sort(key=lambda r: (r.kind_label.casefold(), r.release, r.file, r.row, r.column))
    counts: dict[str, int] = {}
    for record in records:
        counts[record.kind] = counts.get(record.kind, 0) + 1
    kinds = [
        KindSummary(
            _value(s, "kindKey"),
            _value(s, "label"),
            _value(s, "definition"),
            counts.get(_value(s, "kindKey"), 0),
        )
        for s in kinds_answer
    ]
    kinds.sort(key=lambda k: k.label.casefold())
    return QualityReport(release, records, kinds)
