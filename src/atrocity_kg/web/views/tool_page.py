"""The top of a tool's page: what the review says about the tool, read from the graph.

The review's own page for a tool opens with the number of studies split by outcome, a verdict on
the overall effect and the strategies the tool can support; this module computes the same from
the findings and justifications (``query/sparql/page-tool-*.rq``), and the practitioners' views
from their recomputed levels. Every sentence is made by a rule over counts (``verdict``), never
written per tool, so it changes with the data.

In: a store and a tool's IRI. Out: plain data (``Summary``) for ``sections.html``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG as NS
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.terms import Labels, Release, Term, compact, local_href

MASS_ATROCITIES = str(iris.concept("outcome", "mass-atrocities"))
CLOSELY_RELATED = str(iris.concept("outcome", "closely-related-outcome"))
ADVERSE = str(iris.concept("outcome", "adverse-consequences"))
PRACTITIONERS = str(iris.concept("evidence basis", "practitioner-interviews"))
OVERALL = str(NS.OverallEffectFinding)
# The outcome groups the review counts studies by, in its order: a closely related outcome
# (conflict, violence against civilians, human rights violations) is skos:broader the group.
GROUPS = (
    (MASS_ATROCITIES, "mass-atrocities", "mass atrocities"),
    (CLOSELY_RELATED, "closely-related", "closely related outcomes"),
    (ADVERSE, "adverse", "adverse consequences"),
)
DIRECTIONS = (
    (str(iris.concept("direction", "decreases")), "decreases", "decreased"),
    (str(iris.concept("direction", "increases")), "increases", "increased"),
    (str(iris.concept("direction", "no-or-mixed")), "no-or-mixed", "no or mixed effect"),
)
MOSTLY = 2 / 3
"""A share above which one direction is said to prevail (the review's own practitioner
threshold for 'relatively strong'); below it the findings are 'a mix'."""


@dataclass(frozen=True)
class StrategyLine:
    """A strategy the tool supports: the releases stating it (the review), and the mechanisms
    implying it (the project's inference), with the justification recording both."""

    strategy: Term
    justification: Term
    stated_in: tuple[str, ...]
    mechanisms: tuple[Term, ...]

    @property
    def inferred_only(self) -> bool:
        return not self.stated_in


@dataclass(frozen=True)
class OutcomeCounts:
    """The studies of one release in total and per outcome group (a study in each group it
    reports a finding on, so the groups may add up to more than the total)."""

    release: str
    studies: int
    per_group: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    """The overall-effect findings of one outcome (or group) in one release, and their words."""

    key: str
    outcome: str
    counts: tuple[int, ...]
    words: str

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class PractitionerView:
    factor: Term
    level: str
    level_key: str
    share: str
    interviewed: str
    assessment: str

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


@dataclass
class Summary:
    """The top of a tool's page."""

    latest: str = ""
    strategies: list[StrategyLine] = field(default_factory=list)
    groups: tuple[str, ...] = tuple(name for _, _, name in GROUPS)
    directions: tuple[str, ...] = tuple(words for _, _, words in DIRECTIONS)
    outcome_counts: list[OutcomeCounts] = field(default_factory=list)
    headline: list[Verdict] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    practitioners: list[PractitionerView] = field(default_factory=list)
    interviewed: str = ""
    study_outcomes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outcome_options: list[tuple[str, str]] = field(default_factory=list)
    strong: list[Term] = field(default_factory=list)

    @property
    def practitioner_groups(self) -> list[tuple[str, str, list[PractitionerView]]]:
        """The practitioners' views by level, strongest first, each by share."""
        groups: dict[str, tuple[str, list[PractitionerView]]] = {}
        for view in self.practitioners:
            groups.setdefault(view.level_key, (view.level, []))[1].append(view)
        order = ("relatively-strong", "moderate", "relatively-weak", "none-available")
        return [
            (key, groups[key][0], groups[key][1])
            for key in sorted(groups, key=lambda k: order.index(k) if k in order else 9)
        ]


def verdict(counts: tuple[int, ...]) -> str:
    """Words for counts of (decreased, increased, no or mixed) findings: none, all one way,
    mostly one way (more than two thirds), or a mix."""
    total = sum(counts)
    if total == 0:
        return "no overall-effect finding"
    spelled = ", ".join(
        f"{n} {words}" for n, (_, _, words) in zip(counts, DIRECTIONS, strict=True) if n
    )
    largest = max(counts)
    words = DIRECTIONS[counts.index(largest)][2]
    finding = "finding" if total == 1 else "findings"
    if largest == total:
        return f"{'the one' if total == 1 else f'all {total}'} {finding}: {words}"
    if largest / total > MOSTLY:
        return f"mostly {words} ({spelled})"
    return f"a mix of findings ({spelled})"


def _group(row: dict[str, Any]) -> str | None:
    for value in (row["outcome"], row["group"]):
        if value is not None and value.value in {iri for iri, _, _ in GROUPS}:
            return str(value.value)
    return None


def strategies(
    store: GraphStore, labels: Labels, node: ox.NamedNode, codes: dict[str, str]
) -> list[StrategyLine]:
    grouped: dict[str, tuple[str, set[str], set[str]]] = {}
    for row in sparql.select(store, sparql.load("page-tool-strategies"), {"thing": node}):
        strategy, justification = row["strategy"], row["justification"]
        if not isinstance(strategy, ox.NamedNode) or not isinstance(justification, ox.NamedNode):
            continue
        entry = grouped.setdefault(strategy.value, (justification.value, set(), set()))
        if isinstance(row["stating"], ox.NamedNode):
            entry[1].add(codes.get(row["stating"].value, row["stating"].value))
        if isinstance(row["mechanism"], ox.NamedNode):
            entry[2].add(row["mechanism"].value)
    labels.prefetch([*grouped, *(m for entry in grouped.values() for m in entry[2])])
    lines = [
        StrategyLine(
            labels.term(ox.NamedNode(strategy)),
            Term("why", local_href(justification), justification),
            tuple(sorted(stated)),
            tuple(sorted((labels.term(ox.NamedNode(m)) for m in mechanisms), key=lambda t: t.text)),
        )
        for strategy, (justification, stated, mechanisms) in grouped.items()
    ]
    # The review's own first, then the project's inferences; each by the strategy's notation.
    return sorted(lines, key=lambda line: (line.inferred_only, line.strategy.iri or ""))


def _counts(findings: set[tuple[str, str]]) -> tuple[int, ...]:
    return tuple(
        sum(1 for _, direction in findings if direction == iri) for iri, _, _ in DIRECTIONS
    )


def findings_summary(
    store: GraphStore, labels: Labels, node: ox.NamedNode, known: list[Release], summary: Summary
) -> None:
    """Studies per release and outcome group; the latest release's overall-effect findings per
    group (the headline) and per outcome, each in words."""
    studies: dict[str, set[str]] = defaultdict(set)
    by_group: dict[tuple[str, str], set[str]] = defaultdict(set)
    outcomes_of: dict[str, set[str]] = defaultdict(set)
    outcomes: set[str] = set()
    latest = known[0].iri if known else ""
    overall_group: dict[str, set[tuple[str, str]]] = defaultdict(set)
    overall_outcome: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in sparql.select(store, sparql.load("page-tool-findings"), {"thing": node}):
        names = ("study", "release", "outcome", "finding", "direction")
        nodes = [row[name] for name in names if isinstance(row[name], ox.NamedNode)]
        if len(nodes) != len(names):
            continue
        study, release, outcome, finding, direction = (
            node for node in nodes if isinstance(node, ox.NamedNode)
        )
        group = _group(row)
        studies[release.value].add(study.value)
        outcomes_of[study.value].add(outcome.value.rsplit("/", 1)[-1])
        outcomes.add(outcome.value)
        if group is not None:
            by_group[(release.value, group)].add(study.value)
        if release.value == latest and sparql.text_of(row["kind"]) == OVERALL:
            if group is not None:
                overall_group[group].add((finding.value, direction.value))
            overall_outcome[outcome.value].add((finding.value, direction.value))
    summary.outcome_counts = [
        OutcomeCounts(
            release.code,
            len(studies[release.iri]),
            tuple(len(by_group[(release.iri, iri)]) for iri, _, _ in GROUPS),
        )
        for release in reversed(known)
        if studies[release.iri]
    ]
    summary.headline = [
        Verdict(key, name, _counts(overall_group[iri]), verdict(_counts(overall_group[iri])))
        for iri, key, name in GROUPS
        if iri != ADVERSE or overall_group[iri]
    ]
    labels.prefetch(overall_outcome)
    summary.verdicts = sorted(
        (
            Verdict(
                outcome.rsplit("/", 1)[-1],
                labels(ox.NamedNode(outcome)) or compact(outcome),
                _counts(found),
                verdict(_counts(found)),
            )
            for outcome, found in overall_outcome.items()
        ),
        key=lambda v: -v.total,
    )
    summary.study_outcomes = {study: tuple(sorted(found)) for study, found in outcomes_of.items()}
    labels.prefetch(outcomes)
    summary.outcome_options = sorted(
        (outcome.rsplit("/", 1)[-1], labels(ox.NamedNode(outcome)) or compact(outcome))
        for outcome in outcomes
    )


def practitioner_views(
    store: GraphStore, labels: Labels, node: ox.NamedNode, latest: Release | None
) -> tuple[list[PractitionerView], str]:
    """The latest release's practitioner levels for the tool, highest share first, and the
    number of practitioners interviewed (the same for every factor of a tool)."""
    if latest is None:
        return [], ""
    rows = [
        row
        for row in sparql.select(
            store,
            sparql.load("page-practitioner-levels"),
            {"tool": node, "practitioners": ox.NamedNode(PRACTITIONERS)},
        )
        if sparql.text_of(row["release"]) == latest.iri
    ]
    labels.prefetch(term for row in rows for term in (row["shown"], row["level"]))
    views = []
    interviewed: set[str] = set()
    for row in rows:
        shown, level, assessment = row["shown"], row["level"], row["assessment"]
        if not isinstance(shown, ox.NamedNode) or not isinstance(level, ox.NamedNode):
            continue
        share = sparql.text_of(row["share"]) or ""
        count = sparql.text_of(row["interviewed"])
        if count is not None:
            interviewed.add(count)
        views.append(
            PractitionerView(
                labels.term(shown),
                labels(level) or compact(level.value),
                level.value.rsplit("/", 1)[-1],
                f"{abs(float(share)):.0%}" if share else "",
                sparql.text_of(row["interviewed"]) or "",
                sparql.text_of(row["published"]) or sparql.text_of(assessment) or "",
            )
        )
    views.sort(key=lambda v: (-float(v.share.rstrip("%") or 0), v.factor.text.lower()))
    return views, ", ".join(sorted(interviewed))


def summary(store: GraphStore, labels: Labels, node: ox.NamedNode, known: list[Release]) -> Summary:
    codes = {release.iri: release.code for release in known}
    latest = known[0] if known else None
    result = Summary(latest=latest.code if latest else "")
    result.strategies = strategies(store, labels, node, codes)
    findings_summary(store, labels, node, known, result)
    result.practitioners, result.interviewed = practitioner_views(store, labels, node, latest)
    return result
