"""The review's vote-count rubric: findings about one tool and factor -> a vote score and a level.

Weights: a finding on mass atrocities counts 1, one on any other outcome 0.5 (closely related
outcomes and, as the release files show, adverse consequences too). Greater-effectiveness
findings add their weight and lesser ones subtract it; the sum is the provisional score.
No-or-mixed findings then pull half their weight against the provisional score's sign (nothing
when it is 0), and a total whose sign they flip becomes 0. Levels: |score| > 3 relatively strong,
1 < |score| <= 3 moderate, otherwise relatively weak.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD
from rdflib.term import Node

from atrocity_kg.ingest.columns import COUNT_PROPERTIES
from atrocity_kg.ingest.releases import is_release_code
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, BASE, bind_prefixes

MASS_ATROCITIES = "mass-atrocities"
GREATER = "greater-effectiveness"
LESSER = "lesser-effectiveness"
NO_OR_MIXED = "no-or-mixed"


@dataclass(frozen=True)
class VoteScore:
    provisional: Decimal
    score: Decimal

    @property
    def level(self) -> str:
        size = abs(self.score)
        if size > 3:
            return "relatively-strong"
        if size > 1:
            return "moderate"
        return "relatively-weak"


def _weight(outcome: str) -> Decimal:
    return Decimal(1) if outcome == MASS_ATROCITIES else Decimal("0.5")


def vote_score(findings: Iterable[tuple[str, str]]) -> VoteScore:
    """Score (outcome key, direction key) pairs, one per finding, by the review's rubric."""
    provisional = Decimal(0)
    pull = Decimal(0)
    for outcome, direction in findings:
        weight = _weight(outcome)
        if direction == GREATER:
            provisional += weight
        elif direction == LESSER:
            provisional -= weight
        elif direction == NO_OR_MIXED:
            pull += weight / 2
        else:
            raise ValueError(f"unknown direction {direction!r}")
    if provisional == 0:
        return VoteScore(provisional, provisional)
    sign = 1 if provisional > 0 else -1
    total = provisional - sign * pull
    if total * sign < 0:
        total = Decimal(0)
    return VoteScore(provisional, total)


PRACTITIONER_STRONG = Decimal(2) / 3
PRACTITIONER_MODERATE = Decimal(1) / 3
CLOSELY_RELATED = frozenset({"violence-against-civilians", "conflict", "human-rights-violations"})
ADVERSE = "adverse-consequences"
NONE_AVAILABLE = "none-available"
DISPLAY_MINIMUM = 2
"""The review lists a factor on a tool's page only when two or more findings back it."""


def practitioner_level(share: Decimal) -> str:
    """The interview rubric: the size of the net share of practitioners citing the factor sets
    the level; a negative share (the opposite cited more) is graded as the opposite's."""
    size = abs(share)
    if size > PRACTITIONER_STRONG:
        return "relatively-strong"
    if size > PRACTITIONER_MODERATE:
        return "moderate"
    return "relatively-weak"


@dataclass(frozen=True)
class FactorEvidence:
    """The findings of one release about one tool and factor, and what the rubric makes of them."""

    tool: str
    factor: str
    findings: tuple[tuple[str, str, str], ...]
    """(finding IRI, outcome key, direction key), sorted."""

    @property
    def score(self) -> VoteScore:
        return vote_score((outcome, direction) for _, outcome, direction in self.findings)

    @property
    def counts(self) -> dict[str, int]:
        """The counts the release files publish, under the importer's names for them."""
        counts = dict.fromkeys(COUNT_PROPERTIES, 0)
        for _, outcome, direction in self.findings:
            short = _SHORT_DIRECTION[direction]
            counts["finding"] += 1
            counts[short] += 1
            if outcome == ADVERSE:
                counts["adverse"] += 1
            kind = "ma" if outcome == MASS_ATROCITIES else "cro"
            counts[f"{kind}-{short}"] += 1
        return counts

    @property
    def displayed(self) -> bool:
        return len(self.findings) >= DISPLAY_MINIMUM


_SHORT_DIRECTION = {GREATER: "greater", LESSER: "lesser", NO_OR_MIXED: "no-or-mixed"}


RUBRIC = URIRef(BASE + "id/activity/evidence-rubric")
"""The activity that generates every recomputed assessment: this module's rubric."""


def evidence_graph_name(code: str) -> URIRef:
    return iris.graph(f"evidence-{code}")


def is_release_evidence_graph(name: str) -> bool:
    """Whether ``name`` is the evidence graph of a published release (graph/evidence-v4), any
    release, known when this was written or imported since; a draft's is not."""
    prefix = str(evidence_graph_name("V1"))[: -len("v1")]
    return name.startswith(prefix) and is_release_code(name[len(prefix) :].upper())


def factor_evidence(release: Graph) -> Iterator[FactorEvidence]:
    """Group a release's factor findings by tool and factor."""
    grouped: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for finding in release.subjects(RDF.type, AKG.FactorFinding):
        tool = release.value(finding, AKG.aboutTool)
        factor = release.value(finding, AKG.aboutFactor)
        outcome = release.value(finding, AKG.outcome)
        direction = release.value(finding, AKG.direction)
        if None in (tool, factor, outcome, direction):
            raise ValueError(
                f"factor finding {finding} lacks its tool, factor, outcome or direction"
            )
        grouped[(str(tool), str(factor))].append(
            (str(finding), iris.key(str(outcome)), iris.key(str(direction)))
        )
    for (tool_iri, factor_iri), findings in sorted(grouped.items()):
        yield FactorEvidence(tool_iri, factor_iri, tuple(sorted(findings)))


def assess_release(code: str, release: Graph) -> Graph:
    """A release graph -> the graph of its recomputed assessments (research and interviews).

    Each research assessment counts the findings it rests on, scores them, applies the display
    rule and the inversion to the opposite factor, and says whether it matches the rating the
    release publishes. Practitioner assessments re-derive the level from the published share.
    """
    graph = bind_prefixes(Graph())
    release_node = next(release.subjects(RDF.type, AKG.Release), None)
    if release_node is None:
        raise ValueError(f"release graph {code} has no akg:Release node")
    opposites = {
        str(a): b for a, b in release.subject_objects(AKG.oppositeFactor) if isinstance(b, URIRef)
    }
    published = _published(release, AKG.ResearchAssessment)
    researched: set[tuple[str, str]] = set()
    for evidence in factor_evidence(release):
        researched.add((evidence.tool, evidence.factor))
        node = _research(graph, code, evidence, release_node, opposites)
        rating = published.get((evidence.tool, evidence.factor))
        if rating is not None:
            graph.add((node, AKG.recomputes, rating))
            agrees = not research_differences(code, release, rating, graph, node)
            graph.add((node, AKG.matchesPublished, Literal(agrees)))
    practitioner = _published(release, AKG.PractitionerAssessment)
    for (tool, factor), rating in sorted(practitioner.items()):
        share = release.value(rating, AKG.practitionerShare)
        if share is None:
            raise ValueError(f"practitioner rating {rating} has no akg:practitionerShare")
        published_level = release.value(rating, AKG.evidenceLevel)
        interviews = Interviews(rating, Decimal(str(share)), published_level)
        _practitioner(graph, code, tool, factor, interviews, release_node, opposites)
        if (tool, factor) not in researched:
            _none_available(graph, code, tool, factor, release_node)
    return graph


@dataclass(frozen=True)
class Interviews:
    """A published practitioner rating: its node, the net share citing the factor, its level."""

    rating: URIRef
    share: Decimal
    level: Node | None


FindingRow = tuple[str, str, str, str, str]
"""One factor finding: (finding IRI, tool IRI, factor IRI, outcome key, direction key)."""


def group_findings(rows: Iterable[FindingRow]) -> list[FactorEvidence]:
    """Factor findings -> the evidence about each tool and factor, as ``factor_evidence``."""
    grouped: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for finding, tool, factor, outcome, direction in rows:
        grouped[(tool, factor)].add((finding, outcome, direction))
    return [
        FactorEvidence(tool, factor, tuple(sorted(findings)))
        for (tool, factor), findings in sorted(grouped.items())
    ]


def assess_draft(
    code: str,
    findings: Iterable[FindingRow],
    opposites: Mapping[str, URIRef],
    interviews: Mapping[tuple[str, str], Interviews],
) -> Graph:
    """The assessments of a draft release (the latest release's findings and the contributions'):
    the research evidence by the same rubric as ``assess_release``, and the practitioner
    interviews the latest release published, which contributions do not change. A draft
    publishes no research rating, so its research assessments recompute none."""
    graph = bind_prefixes(Graph())
    release_node = iris.release(code)
    researched: set[tuple[str, str]] = set()
    for evidence in group_findings(findings):
        researched.add((evidence.tool, evidence.factor))
        _research(graph, code, evidence, release_node, opposites)
    for (tool, factor), interview in sorted(interviews.items()):
        _practitioner(graph, code, tool, factor, interview, release_node, opposites)
        if (tool, factor) not in researched:
            _none_available(graph, code, tool, factor, release_node)
    return graph


def _research(
    graph: Graph,
    code: str,
    evidence: FactorEvidence,
    release_node: Node,
    opposites: Mapping[str, URIRef],
) -> URIRef:
    """One recomputed research assessment: counts, scores, level, inversion, display, basis."""
    node = iris.recomputed_assessment(code, "research", evidence.tool, evidence.factor)
    _core(graph, node, "research", evidence.tool, evidence.factor, release_node)
    score = evidence.score
    for name, value in evidence.counts.items():
        graph.add((node, COUNT_PROPERTIES[name], Literal(value, datatype=XSD.nonNegativeInteger)))
    graph.add((node, AKG.provisionalVoteScore, decimal_literal(score.provisional)))
    graph.add((node, AKG.voteScore, decimal_literal(score.score)))
    graph.add((node, AKG.evidenceLevel, iris.concept("evidence-level", score.level)))
    opposite = opposites.get(evidence.factor)
    inverted = score.provisional < 0 and opposite is not None
    graph.add((node, AKG.inverted, Literal(inverted)))
    shown = opposite if opposite is not None and inverted else URIRef(evidence.factor)
    graph.add((node, AKG.shownAsFactor, shown))
    graph.add((node, AKG.displayed, Literal(evidence.displayed)))
    for finding, _, _ in evidence.findings:
        graph.add((node, AKG.restsOn, URIRef(finding)))
    return node


def _practitioner(
    graph: Graph,
    code: str,
    tool: str,
    factor: str,
    interviews: Interviews,
    release_node: Node,
    opposites: Mapping[str, URIRef],
) -> None:
    node = iris.recomputed_assessment(code, "practitioner-interviews", tool, factor)
    _core(graph, node, "practitioner-interviews", tool, factor, release_node)
    level = iris.concept("evidence-level", practitioner_level(interviews.share))
    graph.add((node, AKG.evidenceLevel, level))
    opposite = opposites.get(factor)
    inverted = interviews.share < 0 and opposite is not None
    graph.add((node, AKG.inverted, Literal(inverted)))
    shown = opposite if opposite is not None and inverted else URIRef(factor)
    graph.add((node, AKG.shownAsFactor, shown))
    graph.add((node, AKG.recomputes, interviews.rating))
    graph.add((node, AKG.matchesPublished, Literal(level == interviews.level)))


def _none_available(graph: Graph, code: str, tool: str, factor: str, release: Node) -> None:
    """Practitioners cite the factor but no study does: the research level is 'none available'."""
    node = iris.recomputed_assessment(code, "research", tool, factor)
    _core(graph, node, "research", tool, factor, release)
    graph.add((node, AKG.findingCount, Literal(0, datatype=XSD.nonNegativeInteger)))
    graph.add((node, AKG.evidenceLevel, iris.concept("evidence-level", NONE_AVAILABLE)))
    graph.add((node, AKG.displayed, Literal(False)))


def _core(graph: Graph, node: URIRef, basis: str, tool: str, factor: str, release: Node) -> None:
    graph.add((node, RDF.type, AKG.RecomputedAssessment))
    graph.add((node, PROV.wasGeneratedBy, RUBRIC))
    graph.add((node, AKG.inRelease, release))
    graph.add((node, AKG.aboutTool, URIRef(tool)))
    graph.add((node, AKG.aboutFactor, URIRef(factor)))
    graph.add((node, AKG.evidenceBasis, iris.concept("evidence-basis", basis)))


def _published(release: Graph, kind: URIRef) -> dict[tuple[str, str], URIRef]:
    result: dict[tuple[str, str], URIRef] = {}
    for rating in release.subjects(RDF.type, kind):
        tool, factor = release.value(rating, AKG.aboutTool), release.value(rating, AKG.aboutFactor)
        if isinstance(rating, URIRef) and tool is not None and factor is not None:
            result[(str(tool), str(factor))] = rating
    return result


MATCHED_PROPERTIES = (
    *COUNT_PROPERTIES.values(),
    AKG.provisionalVoteScore,
    AKG.voteScore,
    AKG.evidenceLevel,
    AKG.inverted,
)
SEEN_FROM_OPPOSITE = frozenset({"V3"})
"""Releases that publish an inverted factor's rating as seen from its opposite: greater and
lesser counts swapped, vote score with its sign turned (V1 and V2 keep the coded factor's)."""
_SWAPPED = {
    AKG.greaterCount: AKG.lesserCount,
    AKG.massAtrocityGreaterCount: AKG.massAtrocityLesserCount,
    AKG.relatedOutcomeGreaterCount: AKG.relatedOutcomeLesserCount,
}
_SWAPPED.update({b: a for a, b in list(_SWAPPED.items())})


def research_differences(
    code: str, release: Graph, rating: URIRef, ours: Graph, node: URIRef
) -> dict[str, tuple[object, object]]:
    """Where a recomputed research assessment and the published rating disagree:
    property name -> (published, recomputed), after the release's inversion convention."""
    as_opposite = code.upper() in SEEN_FROM_OPPOSITE and release.value(
        rating, AKG.inverted
    ) == Literal(True)
    differences: dict[str, tuple[object, object]] = {}
    for prop in MATCHED_PROPERTIES:
        theirs = _value(release.value(rating, prop))
        mine = _value(ours.value(node, _SWAPPED.get(prop, prop) if as_opposite else prop))
        if as_opposite and prop == AKG.voteScore and isinstance(mine, Decimal):
            mine = -mine
        if theirs != mine:
            differences[prop.removeprefix(str(AKG))] = (theirs, mine)
    return differences


def _value(term: Node | None) -> object:
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool):
            return value
        return Decimal(str(value)) if isinstance(value, (int, float, Decimal)) else value
    return term


def decimal_literal(value: Decimal) -> Literal:
    """A decimal in its shortest form, so that equal values are equal terms."""
    return Literal(value.normalize() if value != 0 else Decimal(0), datatype=XSD.decimal)


KNOWN_DIFFERENCES = {
    ("V2", "targeted-sanctions", "atrocity-justifying-ideology-or-revenge"): (
        "upstream: all_factors_2.csv row 107 rates this pair (1 finding, score -1, relatively "
        "weak, as recomputed) but names no factor, so the import cannot attach it"
    ),
    ("V2", "mediation", "atrocities-by-government"): (
        "upstream: all_factors_2.csv row 190 gives no Inverse.factor for this factor, so V2 "
        "shows it uninverted despite its negative provisional score; V3 (row 165) inverts it"
    ),
}
"""Published ratings that the rubric does not reproduce, each with its documented cause."""


@dataclass(frozen=True)
class Mismatch:
    """A recomputed assessment that disagrees with the published rating it recomputes."""

    release: str
    basis: str
    tool: str
    factor: str
    differences: dict[str, tuple[object, object]]
    cause: str | None

    def __str__(self) -> str:
        parts = ", ".join(
            f"{name}: published {theirs}, recomputed {mine}"
            for name, (theirs, mine) in self.differences.items()
        )
        because = self.cause or "unexplained"
        return f"{self.release} {self.basis} {self.tool} / {self.factor}: {parts} ({because})"


@dataclass
class ReleaseCheck:
    """How the recomputed assessments of one release compare with the published ratings."""

    release: str
    recomputed: dict[str, int]
    published: dict[str, int]
    matching: dict[str, int]
    mismatches: list[Mismatch]
    unpublished: list[Mismatch]
    """Assessments with findings behind them for which the release publishes no rating."""


def check_release(code: str, release: Graph, assessed: Graph) -> ReleaseCheck:
    """Compare each recomputed assessment with the published rating it recomputes."""
    check = ReleaseCheck(code, defaultdict(int), defaultdict(int), defaultdict(int), [], [])
    for kind, basis in (
        (AKG.ResearchAssessment, "research"),
        (AKG.PractitionerAssessment, "practitioner-interviews"),
    ):
        check.published[basis] = sum(1 for _ in release.subjects(RDF.type, kind))
    for node in sorted(assessed.subjects(RDF.type, AKG.RecomputedAssessment), key=str):
        basis = iris.key(str(assessed.value(node, AKG.evidenceBasis)))
        check.recomputed[basis] += 1
        rating = assessed.value(node, AKG.recomputes)
        tool = iris.key(str(assessed.value(node, AKG.aboutTool)))
        factor = iris.key(str(assessed.value(node, AKG.aboutFactor)))
        cause = KNOWN_DIFFERENCES.get((code.upper(), tool, factor))
        if rating is None and assessed.value(node, AKG.restsOn) is not None:
            count = assessed.value(node, AKG.findingCount)
            missing: dict[str, tuple[object, object]] = {
                "published rating": ("none", f"{count} findings")
            }
            check.unpublished.append(Mismatch(code, basis, tool, factor, missing, cause))
        if not isinstance(rating, URIRef) or not isinstance(node, URIRef):
            continue
        if assessed.value(node, AKG.matchesPublished) == Literal(True):
            check.matching[basis] += 1
            continue
        if basis == "research":
            differences = research_differences(code, release, rating, assessed, node)
        else:
            differences = {
                "evidenceLevel": (
                    release.value(rating, AKG.evidenceLevel),
                    assessed.value(node, AKG.evidenceLevel),
                )
            }
        check.mismatches.append(Mismatch(code, basis, tool, factor, differences, cause))
    return check
