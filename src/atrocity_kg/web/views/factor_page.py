"""What a factor's page adds beyond its ratings: its findings with their direction, the same
factor as rated for every tool, and the factors a reader could take it for.

Two factors with the same tool and names sharing words ("Use of troops", 2 findings, and "High
quantity of troops", 43) are easy to confuse; the page points from one to the other. A finding
coded on the factor's opposite is shown from this factor's side, its direction turned round, and
marked as coded on the opposite: the review's vote counts it that way too.

In: a store and a factor's IRI. Out: plain data (``Related``) for ``sections.html``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.terms import (
    Labels,
    Release,
    Term,
    compact,
    local_href,
    rating_parts,
)

GREATER = str(iris.concept("direction", "greater-effectiveness"))
LESSER = str(iris.concept("direction", "lesser-effectiveness"))
TURNED = {GREATER: LESSER, LESSER: GREATER}
RESEARCH = str(iris.concept("evidence basis", "research"))
SEE_ALSO_CAP = 12
# Words too common in the review's factor names to make two of them easy to confuse.
COMMON_WORDS = frozenset(
    {
        *("about", "absence", "against", "among", "between", "from", "have", "high", "into"),
        *("level", "lack", "large", "than", "that", "their", "there", "these", "this"),
        *("those", "with", "without"),
    }
)


@dataclass(frozen=True)
class FactorFinding:
    """A finding on the factor, its direction read for this factor (``opposite``: coded on the
    opposite factor, its direction turned round)."""

    finding: str
    release: str
    tool: Term
    study: Term
    year: str
    outcome: str
    direction: str
    direction_key: str
    opposite: bool

    @property
    def href(self) -> str | None:
        return local_href(self.finding)


@dataclass(frozen=True)
class Tally:
    release: str
    counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SeeAlso:
    factor: Term
    shared: tuple[str, ...]
    tools: tuple[Term, ...]


@dataclass(frozen=True)
class ToolRating:
    """The factor as rated for one tool in the latest release: the findings point for it
    (shown as this factor) or against it (shown as its opposite, ``shown``)."""

    tool: Term
    rating: Term
    """The level, linking to the rating and the findings it rests on."""
    findings: int
    favour: bool
    shown: Term


@dataclass(frozen=True)
class AcrossTools:
    """The same factor for every tool that has a rating on it (or its opposite) in ``release``:
    the question /compare/factors answers for every factor, for this one."""

    release: str
    ratings: tuple[ToolRating, ...]

    @property
    def favour(self) -> int:
        return sum(1 for r in self.ratings if r.favour)

    @property
    def against(self) -> int:
        return len(self.ratings) - self.favour


@dataclass
class Related:
    findings: list[FactorFinding] = field(default_factory=list)
    tallies: list[Tally] = field(default_factory=list)
    see_also: list[SeeAlso] = field(default_factory=list)
    across: AcrossTools | None = None


def words(label: str) -> set[str]:
    """The words of a name that can make it look like another: four letters or more, not in
    ``COMMON_WORDS``, a plural's final s dropped."""
    found = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", label)}
    return {w.removesuffix("s") for w in found if w not in COMMON_WORDS}


def findings(
    store: GraphStore, labels: Labels, node: ox.NamedNode, known: list[Release]
) -> tuple[list[FactorFinding], list[Tally]]:
    codes = {release.iri: release.code for release in known}
    rows = sparql.select(store, sparql.load("page-factor-findings"), {"thing": node})
    labels.prefetch(
        term
        for row in rows
        for term in (row["tool"], row["study"], row["outcome"], row["direction"])
    )
    labels.prefetch(ox.NamedNode(iri) for iri in TURNED)
    lines = []
    for row in rows:
        names = ("finding", "coded", "study", "release", "tool", "outcome", "direction")
        nodes = [row[name] for name in names if isinstance(row[name], ox.NamedNode)]
        if len(nodes) != len(names):
            continue
        finding, coded, study, release, tool, outcome, direction = (
            node for node in nodes if isinstance(node, ox.NamedNode)
        )
        opposite = coded != node
        shown = (
            ox.NamedNode(TURNED.get(direction.value, direction.value)) if opposite else direction
        )
        lines.append(
            FactorFinding(
                finding.value,
                codes.get(release.value, release.value),
                labels.term(tool),
                labels.term(study),
                sparql.text_of(row["year"]) or "",
                labels(outcome) or compact(outcome.value),
                labels(shown) or compact(shown.value),
                shown.value.rsplit("/", 1)[-1],
                opposite,
            )
        )
    order = {release.code: n for n, release in enumerate(known)}
    lines.sort(key=lambda f: (order.get(f.release, 9), f.tool.text, f.direction, -int(f.year or 0)))
    per_release: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        per_release[line.release][line.direction] += 1
    tallies = [
        Tally(release.code, tuple(sorted(per_release[release.code].items())))
        for release in known
        if release.code in per_release
    ]
    return lines, tallies


def see_also(store: GraphStore, labels: Labels, node: ox.NamedNode) -> list[SeeAlso]:
    """The factors with findings on the same tools whose names share a word with this one's,
    most shared words first."""
    own = words(labels(node) or "")
    if not own:
        return []
    shared_tools: dict[str, ox.NamedNode] = {}
    skipped = {node.value}
    for row in sparql.select(store, sparql.load("page-factor-tools"), {"thing": node}):
        tool, opposite = row["tool"], row["opposite"]
        if isinstance(tool, ox.NamedNode):
            shared_tools[tool.value] = tool
        if isinstance(opposite, ox.NamedNode):
            skipped.add(opposite.value)
    found: dict[str, tuple[str, set[str]]] = {}
    for tool in shared_tools.values():
        for row in sparql.select(store, sparql.load("page-tool-factors"), {"tool": tool}):
            other, label = sparql.text_of(row["other"]), sparql.text_of(row["label"])
            if other is None or label is None or other in skipped:
                continue
            if own & words(label):
                found.setdefault(other, (label, set()))[1].add(tool.value)
    labels.prefetch(tool for _, tools in found.values() for tool in tools)
    lines = [
        SeeAlso(
            Term(label, local_href(other), other),
            tuple(sorted(own & words(label))),
            tuple(
                sorted((labels.term(ox.NamedNode(t)) for t in tools), key=lambda term: term.text)
            ),
        )
        for other, (label, tools) in found.items()
    ]
    lines.sort(key=lambda line: (-len(line.shared), line.factor.text.lower()))
    return lines[:SEE_ALSO_CAP]


def across_tools(
    store: GraphStore, labels: Labels, node: ox.NamedNode, release: Release | None
) -> AcrossTools | None:
    """Each tool's rating of the factor in ``release`` (the latest, on the factor's page),
    those pointing for it first, then by tool."""
    if release is None:
        return None
    bound = {
        "thing": node,
        "research": ox.NamedNode(RESEARCH),
        "release": ox.NamedNode(release.iri),
    }
    rows = sparql.select(store, sparql.load("page-factor-across"), bound)
    labels.prefetch(term for row in rows for term in (row["tool"], row["shown"], row["level"]))
    found: dict[str, ToolRating] = {}
    for row in rows:
        assessment, tool, shown, level = row["assessment"], row["tool"], row["shown"], row["level"]
        if not (
            isinstance(assessment, ox.NamedNode)
            and isinstance(tool, ox.NamedNode)
            and isinstance(shown, ox.NamedNode)
            and isinstance(level, ox.NamedNode)
        ):
            continue
        found[tool.value] = ToolRating(
            labels.term(tool),
            Term(labels(level) or compact(level.value), local_href(assessment.value)),
            int(sparql.text_of(row["findings"]) or 0),
            shown == node,
            labels.term(shown),
        )
    ordered = sorted(found.values(), key=lambda r: (not r.favour, r.tool.text.lower()))
    return AcrossTools(release.code, tuple(ordered))


def other_tools(
    store: GraphStore, labels: Labels, rating: ox.NamedNode, known: list[Release]
) -> Related:
    """On a rating's page: the factor it rates, as shown, rated for the other tools in the
    rating's release."""
    parts = rating_parts(store, rating)
    tool, shown, made = parts.get("tool"), parts.get("shown"), parts.get("release")
    release = next((r for r in known if made is not None and r.iri == made.value), None)
    if tool is None or shown is None:
        return Related()
    across = across_tools(store, labels, shown, release)
    if across is not None:
        others = tuple(r for r in across.ratings if r.tool.iri != tool.value)
        across = AcrossTools(across.release, others)
    return Related(across=across)


def related(store: GraphStore, labels: Labels, node: ox.NamedNode, known: list[Release]) -> Related:
    lines, tallies = findings(store, labels, node, known)
    latest = known[0] if known else None
    return Related(
        lines, tallies, see_also(store, labels, node), across_tools(store, labels, node, latest)
    )
