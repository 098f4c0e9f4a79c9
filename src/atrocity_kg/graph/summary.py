"""The built store -> the summary graph (``graph/summary``): what the catalogue counts, once.

The catalogue's aggregate queries count every finding of a release at query time, so their cost
grows with the data. The build counts once what they need, over the whole store (the union of
its named graphs, each statement once), and the rewritten queries look it up:

- tallies, each a SPARQL CONSTRUCT (``query/sparql/summary-*-tallies.rq``): studies and findings
  per release (``akg:ReleaseTally``); studies per tool and release, by outcome group
  (``akg:ToolTally``); findings per tool, release, kind, outcome and direction
  (``akg:FindingTally``); studies per tool, release and analysis method
  (``akg:MethodTally``); tools and factor findings per factor and release (``akg:FactorTally``);
  displayed research ratings per tool, release and level (``akg:LevelTally``);
- listings (``summary-rating-listings.rq``, ``akg:RatingListing``), one per rating a catalogue
  question lists (published research ratings with two or more findings, published
  practitioners' ratings with the research level beside, recomputed relatively strong ratings),
  with the factor as shown and the score: what the question joined at query time, looked up by
  release and tool instead of through every assessment;
- comparisons of every two releases, from two flat SELECTs (each tool's studies per release,
  every recomputed research rating) set against each other here: the studies a tool gained and
  lost (``akg:StudyComparison``), the factors that appeared or vanished
  (``akg:FactorPresenceChange``), the levels that changed (``akg:LevelChange``); and, as a
  CONSTRUCT too, the published ratings that appeared, vanished or changed
  (``akg:PublishedRatingChange``); and for every two releases compared, a node comprising all
  of these between them (``akg:ReleaseComparison``), where a question about two releases
  starts.

The graph is derived: made by the build after everything else (the draft release included),
then validated against its shapes (``check``: a violation stops the build, naming the node), made
again and validated after each admin write and contribution (``recount``: a violation refuses
it), and refused to writers (``writes``).
``bench/scale.py`` runs the same ``refresh`` on its larger graphs.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyoxigraph as ox
from rdflib import Graph

from atrocity_kg.errors import GraphValidationError, StoreError
from atrocity_kg.graph import graphs, validate
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, sparql_prologue
from atrocity_kg.query import sparql

SUMMARY_GRAPH = iris.graph("summary")
TALLIES = (
    "summary-release-tallies",
    "summary-tool-tallies",
    "summary-finding-tallies",
    "summary-method-tallies",
    "summary-factor-tallies",
    "summary-level-tallies",
    "summary-rating-changes",
    "summary-rating-listings",
)
LEVEL_RANKS = {
    str(iris.concept("evidence-level", label)): rank
    for rank, label in enumerate(
        ("none available", "relatively weak", "moderate", "relatively strong")
    )
}
"""The research levels, weakest first (release-level-changes)."""

_PROLOGUE = sparql_prologue()
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
Term = ox.NamedNode | ox.BlankNode | ox.Literal


def _node(kind: str, *keys: Term) -> ox.NamedNode:
    """A summary node, keyed like the tallies' CONSTRUCTs key theirs (MD5 of the keys' strings
    joined by spaces)."""
    digest = hashlib.md5(" ".join(key.value for key in keys).encode(), usedforsecurity=False)
    return ox.NamedNode(str(iris.summary_node(kind, digest.hexdigest())))


def _p(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def _select(memory: ox.Store, name: str) -> list[dict[str, Term | None]]:
    answer = memory.query(_PROLOGUE + sparql.load(name), use_default_graph_as_union=True)
    if not isinstance(answer, ox.QuerySolutions):
        raise StoreError(f"{name}.rq: expected solutions")
    names = [variable.value for variable in answer.variables]
    rows: list[dict[str, Term | None]] = []
    for solution in answer:
        row: dict[str, Term | None] = {}
        for key in names:
            value = solution[key]
            if isinstance(value, ox.Triple):
                raise StoreError(f"{name}.rq: RDF-star triples are not used in this project")
            row[key] = value
        rows.append(row)
    return rows


def tallies(memory: ox.Store) -> Iterator[ox.Triple]:
    """The tallies (release, tool, finding, method, factor, level), the published ratings'
    changes and the rating listings, from their CONSTRUCT queries."""
    for name in TALLIES:
        answer = memory.query(_PROLOGUE + sparql.load(name), use_default_graph_as_union=True)
        if not isinstance(answer, ox.QueryTriples):
            raise StoreError(f"{name}.rq: expected triples")
        yield from answer


def _releases(memory: ox.Store, *seen: set[ox.NamedNode]) -> list[ox.NamedNode]:
    found = {row["release"] for row in _select(memory, "summary-releases")}
    found.update(*seen)
    return sorted((r for r in found if isinstance(r, ox.NamedNode)), key=lambda r: r.value)


def study_comparisons(memory: ox.Store) -> Iterator[ox.Triple]:
    """For every tool and every two releases (the same one twice too) where the tool has a study
    in either: its studies in each, those the later added and those it dropped."""
    studies: dict[tuple[ox.NamedNode, ox.NamedNode], set[Term]] = defaultdict(set)
    for row in _select(memory, "summary-release-studies"):
        tool, release, study = row["tool"], row["release"], row["study"]
        if isinstance(tool, ox.NamedNode) and isinstance(release, ox.NamedNode) and study:
            studies[(tool, release)].add(study)
    tools = sorted({tool for tool, _ in studies}, key=lambda t: t.value)
    releases = _releases(memory, {release for _, release in studies})
    for tool in tools:
        for earlier in releases:
            for later in releases:
                before, after = (
                    studies.get((tool, earlier), set()),
                    studies.get((tool, later), set()),
                )
                if not before and not after:
                    continue
                node = _node("study-comparison", tool, earlier, later)
                yield ox.Triple(node, _RDF_TYPE, _p(AKG.StudyComparison))
                yield ox.Triple(node, _p(AKG.summarisesTool), tool)
                yield ox.Triple(node, _p(AKG.comparedFrom), earlier)
                yield ox.Triple(node, _p(AKG.comparedTo), later)
                yield ox.Triple(node, _p(AKG.studiesFrom), ox.Literal(len(before)))
                yield ox.Triple(node, _p(AKG.studiesTo), ox.Literal(len(after)))
                yield ox.Triple(node, _p(AKG.studiesAdded), ox.Literal(len(after - before)))
                yield ox.Triple(node, _p(AKG.studiesRemoved), ox.Literal(len(before - after)))


Rating = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode, Term | None, ox.Literal]
"""A recomputed research rating: tool, factor, release, level (None without one), findings."""


def _ratings(memory: ox.Store) -> list[Rating]:
    ratings: list[Rating] = []
    for row in _select(memory, "summary-research-ratings"):
        tool, factor, release, findings = (
            row["tool"],
            row["factor"],
            row["release"],
            row["findings"],
        )
        if (
            isinstance(tool, ox.NamedNode)
            and isinstance(factor, ox.NamedNode)
            and isinstance(release, ox.NamedNode)
            and isinstance(findings, ox.Literal)
        ):
            ratings.append((tool, factor, release, row["level"], findings))
    return ratings


def _count(literal: ox.Literal) -> float | None:
    try:
        return float(literal.value)
    except ValueError:
        return None


def factor_changes(ratings: list[Rating]) -> Iterator[ox.Triple]:
    """For every two releases, each rating with one or more findings in one of them whose tool and
    factor have none such in the other: appeared (in the later) or vanished (from it)."""
    counted = [r for r in ratings if (_count(r[4]) or 0) >= 1]
    present: dict[ox.NamedNode, set[tuple[ox.NamedNode, ox.NamedNode]]] = defaultdict(set)
    for tool, factor, release, _, _ in counted:
        present[release].add((tool, factor))
    releases = sorted(present, key=lambda r: r.value)
    for earlier in releases:
        for later in releases:
            if earlier == later:
                continue
            for tool, factor, release, _, findings in counted:
                if release not in (earlier, later):
                    continue
                other = later if release == earlier else earlier
                if (tool, factor) in present[other]:
                    continue
                change = "appeared" if release == later else "vanished"
                node = _node("factor-change", tool, factor, earlier, later)
                yield ox.Triple(node, _RDF_TYPE, _p(AKG.FactorPresenceChange))
                yield ox.Triple(node, _p(AKG.summarisesTool), tool)
                yield ox.Triple(node, _p(AKG.summarisesFactor), factor)
                yield ox.Triple(node, _p(AKG.comparedFrom), earlier)
                yield ox.Triple(node, _p(AKG.comparedTo), later)
                yield ox.Triple(node, _p(AKG.change), ox.Literal(change))
                yield ox.Triple(node, _p(AKG.findingsCounted), findings)


def level_changes(ratings: list[Rating]) -> Iterator[ox.Triple]:
    """For every two distinct releases, each tool and factor rated in both at different levels:
    the two levels, stronger or weaker, and the findings in each."""
    rated: dict[ox.NamedNode, dict[tuple[ox.NamedNode, ox.NamedNode], list[Rating]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for rating in ratings:
        tool, factor, release, level, _ = rating
        if level is not None and level.value in LEVEL_RANKS:
            rated[release][(tool, factor)].append(rating)
    releases = sorted(rated, key=lambda r: r.value)
    for earlier in releases:
        for later in releases:
            if earlier == later:
                continue
            for key, befores in rated[earlier].items():
                for before in befores:
                    for after in rated[later].get(key, []):
                        old, new = before[3], after[3]
                        if old is None or new is None or old == new:
                            continue
                        direction = (
                            "stronger"
                            if LEVEL_RANKS[new.value] > LEVEL_RANKS[old.value]
                            else "weaker"
                        )
                        node = _node("level-change", *key, earlier, later)
                        yield ox.Triple(node, _RDF_TYPE, _p(AKG.LevelChange))
                        yield ox.Triple(node, _p(AKG.summarisesTool), key[0])
                        yield ox.Triple(node, _p(AKG.summarisesFactor), key[1])
                        yield ox.Triple(node, _p(AKG.comparedFrom), earlier)
                        yield ox.Triple(node, _p(AKG.comparedTo), later)
                        yield ox.Triple(node, _p(AKG.levelFrom), old)
                        yield ox.Triple(node, _p(AKG.levelTo), new)
                        yield ox.Triple(node, _p(AKG.change), ox.Literal(direction))
                        yield ox.Triple(node, _p(AKG.findingsFrom), before[4])
                        yield ox.Triple(node, _p(AKG.findingsTo), after[4])


def release_comparisons(triples: list[ox.Triple]) -> Iterator[ox.Triple]:
    """One node per two releases compared, comprising every summary node between them: a
    question about two releases starts from it and reads that pair's few changes, instead of
    matching the two releases on the changes of every pair (hundreds each)."""
    compared: dict[ox.NamedNode, dict[str, ox.NamedNode]] = defaultdict(dict)
    ends = {_p(AKG.comparedFrom).value: "from", _p(AKG.comparedTo).value: "to"}
    for triple in triples:
        end = ends.get(triple.predicate.value)
        subject, release = triple.subject, triple.object
        if end and isinstance(subject, ox.NamedNode) and isinstance(release, ox.NamedNode):
            compared[subject][end] = release
    made: set[ox.NamedNode] = set()
    for node, pair in sorted(compared.items(), key=lambda item: item[0].value):
        if len(pair) != 2:
            continue  # one release only: no pair to file it under
        comparison = _node("release-comparison", pair["from"], pair["to"])
        if comparison not in made:
            made.add(comparison)
            yield ox.Triple(comparison, _RDF_TYPE, _p(AKG.ReleaseComparison))
            yield ox.Triple(comparison, _p(AKG.comparedFrom), pair["from"])
            yield ox.Triple(comparison, _p(AKG.comparedTo), pair["to"])
        yield ox.Triple(comparison, _p(AKG.comprises), node)


def summarise(memory: ox.Store) -> list[ox.Triple]:
    """The summary of the store as it is (its summary graph, if any, left out: it holds none of
    what is counted)."""
    triples: list[ox.Triple] = []
    triples.extend(tallies(memory))
    triples.extend(study_comparisons(memory))
    ratings = _ratings(memory)  # one pass over the ratings for both comparisons
    triples.extend(factor_changes(ratings))
    triples.extend(level_changes(ratings))
    triples.extend(list(release_comparisons(triples)))
    return triples


def refresh(memory: ox.Store) -> int:
    """Make the summary graph of ``memory`` again, in place; the number of its triples."""
    name = ox.NamedNode(str(SUMMARY_GRAPH))
    if memory.contains_named_graph(name):
        memory.remove_graph(name)
    triples = summarise(memory)
    memory.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
    return len(set(triples))


class SummaryValidationError(GraphValidationError):
    """The summary counted again does not conform to its shapes (``report`` says where)."""

    def __init__(self, report: validate.ValidationReport) -> None:
        self.report = report
        first = report.violations[0] if report.violations else None
        super().__init__(
            f"the summary graph does not conform to its shapes: {report.summary()}"
            + (f"; first: {first}" if first is not None else "")
        )


def recount(
    memory: ox.Store, cache: validate.ValidationCache | None = None
) -> validate.ValidationReport:
    """Make the summary again (``refresh``) and validate it (``check``) against the store's own
    shapes and ontology, as the build does with the ones it loaded: an admin write or a
    contribution lands only with a summary that conforms. The report (warnings and infos), or
    SummaryValidationError naming the first violation."""
    refresh(memory)
    report = check(
        memory,
        graphs.named_graph(memory, str(graphs.SHAPES_GRAPH)),
        graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH)),
        cache,
    )
    if not report.conforms:
        raise SummaryValidationError(report)
    return report


def check(
    memory: ox.Store,
    shapes: Graph,
    ontology: Graph,
    cache: validate.ValidationCache | None = None,
) -> validate.ValidationReport:
    """The summary graph of ``memory`` validated against the shapes (``akgsh:SummaryShape`` and
    the shapes of each kind of summary), as the build validates the other graphs: with the
    ontology for the class hierarchy, and with the cache, so an unchanged summary is not
    validated again. The graph goes to the validator as the store dumps it (N-Triples)."""
    with checking(memory, shapes, ontology, cache, beside=False) as report:
        return report()


@contextmanager
def checking(
    memory: ox.Store,
    shapes: Graph,
    ontology: Graph,
    cache: validate.ValidationCache | None = None,
    *,
    beside: bool = True,
) -> Iterator[Callable[[], validate.ValidationReport]]:
    """``check``, begun in a process of its own (``beside``) while the caller goes on (the
    build writes the store meanwhile): the function given waits for the report. The graph is
    dumped here first, so later changes to ``memory`` do not reach it."""
    name = ox.NamedNode(str(SUMMARY_GRAPH))
    dumped = memory.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name) or b""
    jobs = [(SUMMARY_GRAPH, dumped)]
    with validate.validating(
        jobs, shapes, ontology, workers=1 if beside else 0, cache=cache
    ) as report:
        yield report
