"""The SHACL shapes against example data: each shape must accept its valid examples and report the
focus node of each invalid one, so a rule that never fires or fires on good data is caught.

Examples live in tests/shapes/{valid,invalid}/, named after the node shape they exercise
(`StudyShape.ttl`, `StudyShape-doi-with-resolver.ttl`). An invalid example says what it breaks:

    # expect: akgsh:Study-doi
    # focus: <https://w3id.org/atrocity-kg/id/study/...>

The expect line names the shape or SPARQL constraint that must fire, then the severity if it is not
sh:Violation (`# expect: akgsh:Study-title-present sh:Warning`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from atrocity_kg.graph.validate import flatten

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = HERE / "shapes"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
ONTOLOGY_FILE = ROOT / "ontology" / "atrocity.ttl"
VOCABULARIES_FILE = ROOT / "data" / "curated" / "vocabularies.ttl"

SH = Namespace("http://www.w3.org/ns/shacl#")
AKGSH = Namespace("https://w3id.org/atrocity-kg/shapes#")
CURIE_PREFIXES = {"sh": SH, "akgsh": AKGSH}
SEVERITIES = {SH.Violation, SH.Warning, SH.Info}


@cache
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE)


@cache
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


@cache
def vocabularies() -> Graph:
    """The curated vocabulary if it exists, so the examples also check it against the shapes."""
    return Graph().parse(VOCABULARIES_FILE) if VOCABULARIES_FILE.exists() else Graph()


def example_files(kind: str) -> list[Path]:
    return sorted((EXAMPLES / kind).glob("*.ttl"))


def shape_of(path: Path) -> str:
    """The node shape an example is for: its file name up to the first hyphen."""
    return path.stem.split("-", 1)[0]


def data_graph(path: Path) -> Graph:
    """The example plus the curated vocabulary, less the vocabulary's triples about any node the
    example describes itself: an example may restate or break a term without clashing with the
    curated wording (two labels would be a violation of their own)."""
    data = Graph().parse(path)
    owned = set(data.subjects())
    for triple in vocabularies():
        if triple[0] not in owned:
            data.add(triple)
    return data


@cache
def flat_shapes() -> Graph:
    return flatten(shapes())


def run(path: Path, shapes_graph: Graph | None = None) -> tuple[bool, Graph, str]:
    conforms, report, text = validate(
        data_graph(path),
        shacl_graph=shapes() if shapes_graph is None else shapes_graph,
        ont_graph=ontology(),
        inference="none",
        advanced=True,
    )
    return bool(conforms), report, str(text)


@cache
def run_as_built(path: Path) -> tuple[bool, Graph, str]:
    """``run`` with the shapes as the build validates with them (``validate.flatten``), once per
    example."""
    return run(path, flat_shapes())


def result_set(report: Graph) -> set[tuple[object, ...]]:
    """A report's results, comparable across shapes graphs (results are blank nodes)."""
    keys = (SH.focusNode, SH.sourceShape, SH.resultPath, SH.resultSeverity, SH.value)
    return {
        tuple(report.value(result, key) for key in keys)
        for result in report.subjects(RDF.type, SH.ValidationResult)
    }


def term(token: str) -> URIRef:
    """A term from an example's header: <iri>, akgsh:Name or sh:Name."""
    if token.startswith("<") and token.endswith(">"):
        return URIRef(token[1:-1])
    prefix, _, local = token.partition(":")
    if prefix in CURIE_PREFIXES:
        return CURIE_PREFIXES[prefix][local]
    return URIRef(token)


@dataclass(frozen=True)
class Expectation:
    """What an invalid example must produce: a result on `focus` from `source` with `severity`."""

    focus: URIRef
    source: URIRef
    severity: URIRef


def expectation(path: Path) -> Expectation:
    text = path.read_text(encoding="utf-8")
    expect = re.search(r"^# expect:\s*(.+?)\s*$", text, re.MULTILINE)
    focus = re.search(r"^# focus:\s*(\S+)\s*$", text, re.MULTILINE)
    assert expect, f"{path.name} needs an '# expect:' line"
    assert focus, f"{path.name} needs a '# focus:' line"
    terms = [term(token) for token in expect.group(1).split()]
    severities = [t for t in terms if t in SEVERITIES]
    sources = [t for t in terms if t not in SEVERITIES]
    assert len(sources) == 1, f"{path.name}: '# expect:' must name one shape or constraint"
    assert len(severities) <= 1, f"{path.name}: '# expect:' names more than one severity"
    severity = severities[0] if severities else SH.Violation
    return Expectation(term(focus.group(1)), sources[0], severity)


ALL_EXAMPLES = example_files("valid") + example_files("invalid")


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def merged_examples() -> Graph:
    """Every example in one graph, with the curated vocabulary as each example sees it
    (``data_graph``): one validation instead of one per example."""
    merged = Graph()
    for path in ALL_EXAMPLES:
        merged += data_graph(path)
    return merged


def test_flattened_shapes_report_the_same() -> None:
    """The build validates with validate.flatten(shapes): it must find exactly what the shapes
    as written find. Compared on all the examples at once (one validation each, not one per
    example): on the same data, whatever it is, both shapes graphs must give the same results."""
    data = merged_examples()
    results = {}
    for name, shapes_graph in (("as written", shapes()), ("flattened", flat_shapes())):
        _, report, _ = validate(
            data, shacl_graph=shapes_graph, ont_graph=ontology(), inference="none", advanced=True
        )
        results[name] = result_set(report)
    assert results["as written"], "the invalid examples gave no result at all to compare"
    only_written = sorted(map(str, results["as written"] - results["flattened"]))
    only_flat = sorted(map(str, results["flattened"] - results["as written"]))
    assert (only_written, only_flat) == ([], []), (
        f"only as written: {only_written}\nonly flattened: {only_flat}"
    )


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=example_id)
def test_example(path: Path) -> None:
    """Valid examples conform; invalid ones are reported on their focus node by the named rule,
    with the shapes as the build uses them (test_flattened_shapes_report_the_same shows that
    the shapes as written report the same)."""
    if path.parent.name == "valid":
        conforms, _, text = run_as_built(path)
        assert conforms, f"{path.name} should conform:\n{text}"
        return
    expected = expectation(path)
    assert (expected.source, RDF.type, None) in shapes(), f"{expected.source} is not in shapes.ttl"
    conforms, report, text = run_as_built(path)
    assert not conforms, f"{path.name} should not conform"
    for result in report.subjects(SH.focusNode, expected.focus):
        sources = {
            report.value(result, SH.sourceShape),
            report.value(result, SH.sourceConstraint),
            report.value(result, SH.sourceConstraintComponent),
        }
        severity = report.value(result, SH.resultSeverity)
        if expected.source in sources and severity == expected.severity:
            return
    pytest.fail(
        f"{path.name}: no {expected.severity.fragment} from {expected.source} "
        f"on {expected.focus}:\n{text}"
    )


def named_shapes(kind: URIRef) -> set[str]:
    return {
        str(node).removeprefix(str(AKGSH))
        for node in shapes().subjects(RDF.type, kind)
        if str(node).startswith(str(AKGSH))
    }


def test_every_node_shape_has_examples() -> None:
    """A new shape without valid and invalid data fails here, and so does an example of no shape."""
    node_shapes = named_shapes(SH.NodeShape)
    valid = {shape_of(path) for path in example_files("valid")}
    invalid = {shape_of(path) for path in example_files("invalid") if "-" in path.stem}
    assert sorted(node_shapes - valid) == [], "node shapes without a valid example"
    assert sorted(node_shapes - invalid) == [], "node shapes without an invalid example"
    assert sorted((valid | invalid) - node_shapes) == [], "examples named after no node shape"


def test_every_rule_is_exercised() -> None:
    """Each named property shape and SPARQL constraint is what some invalid example expects, so a
    rule with a mistyped path or value, which would never fire, cannot go unnoticed."""
    rules = named_shapes(SH.PropertyShape) | named_shapes(SH.SPARQLConstraint)
    expected = {
        str(expectation(path).source).removeprefix(str(AKGSH)) for path in example_files("invalid")
    }
    assert sorted(rules - expected) == []


def test_shapes_are_documented() -> None:
    """Reports are read by people: every node shape needs a label and a comment, every property
    shape a name and a message."""
    graph = shapes()
    missing = [
        f"{node} lacks {prop.n3(graph.namespace_manager)}"
        for kind, props in (
            (SH.NodeShape, (RDFS.label, RDFS.comment)),
            (SH.PropertyShape, (SH.name, SH.message)),
            (SH.SPARQLConstraint, (SH.message,)),
        )
        for node in graph.subjects(RDF.type, kind)
        for prop in props
        if (node, prop, None) not in graph
    ]
    assert missing == []
