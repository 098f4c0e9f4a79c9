"""The top of a tool's page: what the review says about the tool, read from the graph.

The review's own page for a tool opens with the number of studies split by outcome, a verdict on
the overall effect and the strategies the tool can support; this module reads the same from the
summary graph's tallies (studies per release and outcome group, overall-effect findings per
outcome and direction: counted once by the build, so a page does not count every finding of the
tool) and the justifications (``query/sparql/page-tool-*.rq``), and the practitioners' views
from their recomputed levels. Every sentence is made by a rule over counts (``verdict``), never
written per tool, so it changes with the data.

In: a store and a tool's IRI. Out: plain data (``Summary``) for ``sections.html``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.terms import Labels, Release, Term, compact, local_href

MASS_ATROCITIES = str(iris.concept("outcome", "mass-atrocities"))
CLOSELY_RELATED = str(iris.concept("outcome", "closely-related-outcome"))
ADVERSE = str(iris.concept("outcome", "adverse-consequences"))
PRACTITIONERS = str(iris.concept("evidence basis", "practitioner-interviews"))
# The outcome groups the review counts studies by, in its order: a closely related outcome
# (conflict, violence against civilians, human rights violations) is skos:broader the group.
GROUPS = (
    (MASS_ATROCITIES, "mass-atrocities", "mass atrocities"),
    (CLOSELY_RELATED, "closely-related", "closely related outcomes"),
    (ADVERSE, "adverse", "adverse consequences"),
)
GROUP_IRIS = frozenset(iri for iri, _, _ in GROUPS)
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


def _integer(value: Any) -> int:
    text = sparql.text_of(value)
    return int(text) if text is not None else 0


def outcome_counts(
    store: GraphStore, node: ox.NamedNode, known: list[Release]
) -> list[OutcomeCounts]:
    """Studies per release, in total and per outcome group, oldest release first: read from the
    summary's tool tallies, so a page does not count every finding of the tool."""
    tallies = {
        sparql.text_of(row["release"]): row
        for row in sparql.select(store, sparql.load("page-tool-study-tallies"), {"thing": node})
    }
    counts = []
    for release in reversed(known):
        row = tallies.get(release.iri)
        if row is None or not _integer(row["studies"]):
            continue
        groups = tuple(
            _integer(row[name]) for name in ("massAtrocities", "closelyRelated", "adverse")
        )
        counts.append(OutcomeCounts(release.code, _integer(row["studies"]), groups))
    return counts


def findings_summary(
    store: GraphStore, labels: Labels, node: ox.NamedNode, known: list[Release], summary: Summary
) -> None:
    """Studies per release and outcome group; the latest release's overall-effect findings per
    group (the headline) and per outcome, each in words: all read from the summary's tallies."""
    summary.outcome_counts = outcome_counts(store, node, known)
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    by_outcome: dict[str, Counter[str]] = defaultdict(Counter)
    if known:
        bound = {
            "thing": node,
            "release": ox.NamedNode(known[0].iri),
            "closelyRelated": ox.NamedNode(CLOSELY_RELATED),
        }
        for row in sparql.select(store, sparql.load("page-tool-overall-tallies"), bound):
            outcome, direction = sparql.text_of(row["outcome"]), sparql.text_of(row["direction"])
            if outcome is None or direction is None:
                continue
            findings = _integer(row["findings"])
            by_outcome[outcome][direction] += findings
            group = sparql.text_of(row["group"]) or outcome
            if group in GROUP_IRIS:
                by_group[group][direction] += findings
    summary.headline = [
        Verdict(key, name, _counts(by_group[iri]), verdict(_counts(by_group[iri])))
        for iri, key, name in GROUPS
        if iri != ADVERSE or by_group[iri]
    ]
    labels.prefetch(by_outcome)
    summary.verdicts = sorted(
        (
            Verdict(
                outcome.rsplit("/", 1)[-1],
                labels(ox.NamedNode(outcome)) or compact(outcome),
                _counts(found),
                verdict(_counts(found)),
            )
            for outcome, found in by_outcome.items()
        ),
        key=lambda v: -v.total,
    )


def _counts(directions: Counter[str]) -> tuple[int, ...]:
    """Findings per direction, in the order of ``DIRECTIONS``."""
    return tuple(directions[iri] for iri, _, _ in DIRECTIONS)


def outcome_options(labels: Labels, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The outcomes the tool's studies report findings on, as the list's filter offers them:
    (key, label), by key."""
    outcomes = {row["outcome"].value for row in rows if isinstance(row["outcome"], ox.NamedNode)}
    labels.prefetch(outcomes)
    return sorted(
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
