"""Sections for people: what the page of a tool, factor, study, strategy or release adds to
the statements every page lists (its evidence table, studies, findings, gap maps ...).

In: a store, a thing and its kinds. Out: a ``Section`` the page template lays out, from the
queries of ``query/sparql/page-*.rq`` with the thing as a bound value.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.model.citations import emphasis_pieces
from atrocity_kg.model.namespaces import AKG as NS
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views import charts, factor_page, gap_map, tool_page
from atrocity_kg.web.views.terms import (
    CREATOR,
    DCT,
    DESCRIPTIONS,
    DOI,
    EDITOR,
    ISSUED,
    Labels,
    Release,
    Term,
    compact,
    doi_url,
    first_literal,
    literals_of,
    local_href,
    preferred,
    rating_title,
)

RESEARCH = str(iris.concept("evidence basis", "research"))
STRONG = "relatively-strong"
PRACTITIONERS = str(iris.concept("evidence basis", "practitioner-interviews"))
LEVEL_RANK = {
    key: rank
    for rank, key in enumerate(
        ("relatively-strong", "moderate", "relatively-weak", "none-available")
    )
}

PUBLICATION_NAME = ox.NamedNode("http://prismstandard.org/namespaces/basic/2.0/publicationName")
CITATION = ox.NamedNode(DCT + "bibliographicCitation")
INDEX_NUMBER = ox.NamedNode(str(NS.indexNumber))
IN_RELEASE = ox.NamedNode(str(NS.inRelease))
PUBLICATION_TYPE = ox.NamedNode(str(NS.publicationType))
EMPIRICAL_BASIS = ox.NamedNode(str(NS.empiricalBasis))
USES_METHOD = ox.NamedNode(str(NS.usesMethod))
OPPOSITE = ox.NamedNode(str(NS.oppositeFactor))
FAMILY = ox.NamedNode(str(NS.factorFamily))
STRONG_FACTOR_OF = ox.NamedNode(str(NS.strongFactorOf))
SECTION_TYPES = {
    str(NS.PreventionTool): "tool",
    str(NS.SuccessFactor): "factor",
    str(NS.ContextualFactor): "factor",
    str(NS.DesignFactor): "factor",
    str(NS.Study): "study",
    str(NS.Strategy): "strategy",
    str(NS.Release): "release",
    str(NS.RecomputedAssessment): "assessment",
}


def select(store: GraphStore, name: str, **bound: ox.NamedNode) -> list[dict[str, Any]]:
    """The rows of the page query ``sparql/{name}.rq`` with ``bound`` values."""
    return sparql.select(store, sparql.load(name), bound)


def _value(term: Any) -> str:
    return str(term.value) if term is not None else ""


@dataclass(frozen=True)
class Mechanism:
    mechanism: Term
    description: str
    strategy: Term


@dataclass(frozen=True)
class EvidenceCell:
    """One recomputed rating: level, number of findings and score, and the factor as coded."""

    level: str
    level_key: str
    findings: int
    score: str
    coded: str
    assessment: str

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


@dataclass(frozen=True)
class PractitionerCell:
    """A practitioners' level (re-derived from the published share) and the share itself."""

    level: str
    level_key: str
    share: str
    assessment: str

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


@dataclass(frozen=True)
class EvidenceRow:
    """A factor (tool page) or a tool (factor page), with its research rating in each release
    and, beside it, the practitioners' level."""

    subject: Term
    cells: tuple[EvidenceCell | None, ...]
    practitioners: tuple[PractitionerCell | None, ...] = ()
    chart: charts.ChartLink | None = None
    """The research levels across releases as a picture (``views/charts.py``)."""


@dataclass(frozen=True)
class StudyLine:
    study: Term
    year: str
    releases: tuple[str, ...]
    tools: tuple[Term, ...] = ()
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindingLine:
    finding: Term
    release: str
    tool: Term
    factor: Term | None
    outcome: str
    direction: str
    rating: Term | None = None
    """The rating this project recomputes from the finding (its level, linking to it)."""


@dataclass(frozen=True)
class StudyFinding:
    """A finding a rating rests on: its study, outcome and direction."""

    finding: Term
    study: Term
    year: str
    outcome: str
    direction: str


@dataclass(frozen=True)
class Support:
    """Why a tool supports a strategy: its mechanisms, and the releases stating it."""

    tool: Term
    justification: Term
    mechanisms: tuple[Term, ...]
    stated_in: tuple[str, ...]


@dataclass(frozen=True)
class ToolCount:
    tool: Term
    studies: int
    findings: int
    changes: tuple[str, str] | None = None
    """What changed for the tool since the release before: (words, URL)."""


@dataclass
class Section:
    """The kind-specific part of a page; which fields are filled depends on ``kind``."""

    kind: str
    codes: tuple[str, ...] = ()
    description: str = ""
    mechanisms: list[Mechanism] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    gap_maps: list[gap_map.GapMap] = field(default_factory=list)
    studies: list[StudyLine] = field(default_factory=list)
    opposite: Term | None = None
    family: Term | None = None
    record: list[tuple[str, list[Term]]] = field(default_factory=list)
    findings: list[FindingLine] = field(default_factory=list)
    supports: list[Support] = field(default_factory=list)
    counts: list[tuple[str, str, int]] = field(default_factory=list)
    tool_counts: list[ToolCount] = field(default_factory=list)
    summary: tool_page.Summary | None = None
    related: factor_page.Related | None = None
    strong_for: list[Term] = field(default_factory=list)
    earlier: list[EvidenceRow] = field(default_factory=list)
    evidence_total: int = 0
    """The factor rows there are, of which ``evidence`` lists the first (``LIST_CAP``)."""
    studies_total: int = 0
    """The studies there are, of which ``studies`` lists the newest (``LIST_CAP``)."""
    rested_on: list[StudyFinding] = field(default_factory=list)
    changes: list[tuple[str, str]] = field(default_factory=list)
    """Links to /compare/releases: (words, URL), one per release and the one before it."""

    @property
    def practitioner_codes(self) -> set[str]:
        """The releases in which some row has a practitioners' level: their column is drawn
        only for those (V1 interviewed no one)."""
        return {
            self.codes[n]
            for row in self.evidence
            for n, cell in enumerate(row.practitioners)
            if cell is not None
        }


def changes_links(
    tool: str, known: list[Release], only: str | None = None
) -> list[tuple[str, str]]:
    """What changed for ``tool`` (its IRI) from each release to the next (or to ``only``)."""
    key = quote(tool.rsplit("/", 1)[-1], safe="-")
    oldest_first = list(reversed(known))
    return [
        (f"{a.code} to {b.code}", f"/compare/releases?tool={key}&from={a.code}&to={b.code}")
        for a, b in itertools.pairwise(oldest_first)
        if only is None or b.code == only
    ]


def section_kind(types: Iterable[str]) -> str | None:
    for type_iri in types:
        if type_iri in SECTION_TYPES:
            return SECTION_TYPES[type_iri]
    return None


def _codes(known: list[Release]) -> dict[str, str]:
    return {release.iri: release.code for release in known}


def _evidence_rows(
    store: GraphStore, labels: Labels, known: list[Release], subject: str, **bound: ox.NamedNode
) -> list[EvidenceRow]:
    """Rows keyed by ``subject`` (``shown`` or ``tool``), one column per release oldest first,
    strongest first in the latest release."""
    order = [release.iri for release in reversed(known)]
    cells: dict[str, dict[str, EvidenceCell]] = {}
    scores: dict[tuple[str, str], float] = {}
    for row in select(store, "page-evidence", research=ox.NamedNode(RESEARCH), **bound):
        key, release, level = row[subject], row["release"], row["level"]
        if key is None or release is None or level is None or row["coded"] is None:
            continue
        cells.setdefault(key.value, {})[release.value] = EvidenceCell(
            labels(level) or compact(level.value),
            level.value.rsplit("/", 1)[-1],
            int(_value(row["findings"]) or 0),
            _value(row["vote"]),
            row["coded"].value,
            _value(row["assessment"]),
        )
        scores[(key.value, release.value)] = abs(float(_value(row["vote"]) or 0))
    latest = order[-1] if order else ""
    views: dict[str, dict[str, PractitionerCell]] = {}
    for row in select(
        store, "page-practitioner-levels", practitioners=ox.NamedNode(PRACTITIONERS), **bound
    ):
        key, release, level = row[subject], row["release"], row["level"]
        if key is None or release is None or not isinstance(level, ox.NamedNode):
            continue
        share = _value(row["share"])
        views.setdefault(key.value, {})[release.value] = PractitionerCell(
            labels(level) or compact(level.value),
            level.value.rsplit("/", 1)[-1],
            f"{abs(float(share)):.0%}" if share else "",
            _value(row["published"]) or _value(row["assessment"]),
        )

    def strength(key: str) -> tuple[int, int, float, int, str]:
        cell = cells.get(key, {}).get(latest)
        if cell is None:
            return (1, 9, 0.0, 0, (labels(ox.NamedNode(key)) or key).lower())
        return (
            0,
            LEVEL_RANK.get(cell.level_key, 9),
            -scores[(key, latest)],
            -cell.findings,
            (labels(ox.NamedNode(key)) or key).lower(),
        )

    labels.prefetch([*cells, *views])
    codes = [_codes(known)[release] for release in order]
    kind = "factor" if "shown" in bound else "tool"
    table = bound["shown" if kind == "factor" else "tool"].value

    def evidence(key: str) -> EvidenceRow:
        found = tuple(cells.get(key, {}).get(release) for release in order)
        return EvidenceRow(
            labels.term(ox.NamedNode(key)),
            found,
            tuple(views.get(key, {}).get(release) for release in order),
            charts.link(kind, table, key, charts.levels_of(codes, found)),
        )

    return [evidence(key) for key in sorted({*cells, *views}, key=strength)]


def evidence_rows(
    store: GraphStore, known: list[Release], kind: str, node: ox.NamedNode
) -> list[EvidenceRow]:
    """The rows of a tool's table of factors (``kind`` tool) or a factor's table of tools."""
    subject, bound = ("shown", "tool") if kind == "tool" else ("tool", "shown")
    return _evidence_rows(store, Labels(store), known, subject, **{bound: node})


def _study_lines(
    store: GraphStore, labels: Labels, rows: list[dict[str, Any]], codes: dict[str, str]
) -> list[StudyLine]:
    releases: dict[str, set[str]] = {}
    tools: dict[str, set[str]] = {}
    outcomes: dict[str, set[str]] = {}
    for row in rows:
        study, release = row["study"], row["release"]
        if study is None or release is None:
            continue
        releases.setdefault(study.value, set()).add(codes.get(release.value, release.value))
        tool, outcome = row.get("tool"), row.get("outcome")
        tools.setdefault(study.value, set())
        if tool is not None:
            tools[study.value].add(tool.value)
        if outcome is not None:
            outcomes.setdefault(study.value, set()).add(outcome.value.rsplit("/", 1)[-1])
    labels.prefetch([*releases, *(tool for found in tools.values() for tool in found)])
    issued = literals_of(store, (ox.NamedNode(study) for study in releases), [ISSUED])
    lines = []
    for study, found in releases.items():
        node = ox.NamedNode(study)
        lines.append(
            StudyLine(
                labels.term(node),
                preferred(issued, study, [ISSUED]) or "",
                tuple(sorted(found)),
                tuple(
                    labels.term(ox.NamedNode(t))
                    for t in sorted(tools[study], key=lambda t: labels(ox.NamedNode(t)) or t)
                ),
                tuple(sorted(outcomes.get(study, ()))),
            )
        )
    return sorted(lines, key=lambda line: (line.year, line.study.text.lower()), reverse=True)


LIST_CAP = 1_000
"""Factor rows and studies listed on a tool's page, at most: the strongest factors, the newest
studies. The real data's longest lists have about 80 rows and 128 studies; at 10^7 triples a
tool had 6,768 and 9,216, a page of 8.4 MB. Every one is in the tool's downloads."""


def tool_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    mechanisms = []
    for row in select(store, "page-mechanisms", thing=node):
        mechanism, strategy = row["mechanism"], row["strategy"]
        if isinstance(mechanism, ox.NamedNode) and isinstance(strategy, ox.NamedNode):
            mechanisms.append(
                Mechanism(
                    labels.term(mechanism),
                    first_literal(store, mechanism, DESCRIPTIONS),
                    labels.term(strategy),
                )
            )
    mechanisms.sort(key=lambda m: (m.strategy.text, m.mechanism.text))
    rows = _evidence_rows(store, labels, known, "shown", tool=node)
    # The table: factors with a level in the latest release; those listed only before, a line.
    evidence: list[EvidenceRow] = []
    earlier: list[EvidenceRow] = []
    for line in rows:
        in_latest = line.cells[-1:] != (None,) or any(line.practitioners[-1:])
        (evidence if in_latest else earlier).append(line)
    summary = tool_page.summary(store, labels, node, known)
    summary.strong = [
        row.subject
        for row in evidence
        if row.cells and row.cells[-1] is not None and row.cells[-1].level_key == STRONG
    ]
    study_rows = select(store, "page-tool-studies", thing=node)
    studies = _study_lines(store, labels, study_rows, codes)
    summary.outcome_options = tool_page.outcome_options(labels, study_rows)
    return Section(
        "tool",
        codes=tuple(release.code for release in reversed(known)),
        description=first_literal(store, node, DESCRIPTIONS),
        mechanisms=mechanisms,
        evidence=evidence[:LIST_CAP],
        evidence_total=len(evidence),
        gap_maps=tool_gap_maps(store, node, known, labels),
        studies=studies[:LIST_CAP],
        studies_total=len(studies),
        summary=summary,
        earlier=earlier,
        changes=changes_links(node.value, known),
    )


def tool_gap_maps(
    store: GraphStore, node: ox.NamedNode, known: list[Release], labels: Labels
) -> list[gap_map.GapMap]:
    """The tool's row of the home page's map. (Its factors x outcomes are on each factor's
    page, one row per tool: drawn here for every factor, the map alone weighed 60 KB.)"""
    if not known:
        return []
    latest = known[0]
    findings = gap_map.gap_tallies(store, ox.NamedNode(latest.iri), tool=node)
    name = labels(node) or node.value
    overall = gap_map.GapMap(
        "tool-row-gap-map",
        f"All findings on {name} per outcome, release {latest.code}",
        latest.code,
        "Tool",
        [gap_map.GapRow(name, None, node.value)],
    )
    return [gap_map.fill_map(overall, [findings])]


def factor_gap_maps(
    store: GraphStore,
    node: ox.NamedNode,
    known: list[Release],
    evidence: list[EvidenceRow],
    labels: Labels,
) -> list[gap_map.GapMap]:
    """The factor's findings in the latest release, one row per tool that lists it, x
    outcomes. Where a tool's findings are coded on the opposite factor, lesser-effectiveness
    findings count in favour of the factor as shown."""
    if not known:
        return []
    latest = known[0]
    rows = []
    coded = []
    for row in evidence:
        cell = row.cells[-1] if row.cells else None
        if cell is None or row.subject.iri is None:
            continue
        rows.append(
            gap_map.GapRow(
                row.subject.text,
                row.subject.href,
                row.subject.iri,
                inverted=cell.coded != node.value,
            )
        )
        coded.append((row.subject.iri, cell.coded))
    if not rows:
        return []
    findings = gap_map.factor_findings(
        store, ox.NamedNode(latest.iri), {factor for _, factor in coded}
    )
    chosen = [[f for f in findings if (f.tool, f.factor) == pair] for pair in coded]
    name = labels(node) or node.value
    tools = gap_map.GapMap(
        "factor-gap-map",
        f"Findings on {name} per tool and outcome, release {latest.code}",
        latest.code,
        "Tool",
        rows,
    )
    return [gap_map.fill_map(tools, chosen)]


def factor_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    opposite = next(iter(store.quads_for_pattern(node, OPPOSITE, None, None)), None)
    family = next(iter(store.quads_for_pattern(node, FAMILY, None, None)), None)
    rows = select(store, "page-factor-studies", thing=node)
    strong = [
        quad.object
        for quad in store.quads_for_pattern(node, STRONG_FACTOR_OF, None, None)
        if isinstance(quad.object, ox.NamedNode)
    ]
    labels.prefetch(strong)
    evidence = _evidence_rows(store, labels, known, "tool", shown=node)
    return Section(
        "factor",
        codes=tuple(release.code for release in reversed(known)),
        description=first_literal(store, node, DESCRIPTIONS),
        evidence=evidence,
        gap_maps=factor_gap_maps(store, node, known, evidence, labels),
        studies=_study_lines(store, labels, rows, _codes(known)),
        opposite=labels.term(opposite.object) if opposite is not None else None,
        family=labels.term(family.object) if family is not None else None,
        related=factor_page.related(store, labels, node, known),
        strong_for=sorted({labels.term(tool) for tool in strong}, key=lambda t: t.text),
    )


def _literals(store: GraphStore, node: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
    values = {
        quad.object.value
        for quad in store.quads_for_pattern(node, predicate, None, None)
        if isinstance(quad.object, ox.Literal)
    }
    return [Term(value) for value in sorted(values)]


def _nodes(store: GraphStore, node: ox.NamedNode, predicate: ox.NamedNode) -> list[ox.NamedNode]:
    return sorted(
        {
            quad.object
            for quad in store.quads_for_pattern(node, predicate, None, None)
            if isinstance(quad.object, ox.NamedNode)
        },
        key=lambda n: n.value,
    )


def _linked(
    store: GraphStore, labels: Labels, node: ox.NamedNode, predicate: ox.NamedNode
) -> list[Term]:
    values = {
        quad.object.value: quad.object
        for quad in store.quads_for_pattern(node, predicate, None, None)
        if isinstance(quad.object, ox.NamedNode)
    }
    return sorted((labels.term(value) for value in values.values()), key=lambda t: t.text)


def _citations(
    store: GraphStore, node: ox.NamedNode, venue: list[Term], title: list[Term]
) -> list[Term]:
    """The study's citations (plain text in the graph), each cut where the page emphasises its
    venue, or the title of a book or report, as the review's own citations do."""
    return [
        Term(
            citation.text,
            pieces=emphasis_pieces(
                citation.text,
                venue[0].text if venue else None,
                title[0].text if title else None,
            ),
        )
        for citation in _literals(store, node, CITATION)
    ]


def _rating_term(labels: Labels, rating: Any, level: Any) -> Term | None:
    """A recomputed rating as its level, linking to the rating's page."""
    if not isinstance(rating, ox.NamedNode) or not isinstance(level, ox.NamedNode):
        return None
    return Term(labels(level) or compact(level.value), local_href(rating.value), rating.value)


REPORTS_FINDING = ox.NamedNode(str(NS.reportsFinding))
GENERATED_BY = ox.NamedNode("http://www.w3.org/ns/prov#wasGeneratedBy")
CONTRIBUTED = "Added by a contribution to the draft release (not a USHMM release)"


def _contributions(store: GraphStore, node: ox.NamedNode) -> list[Term]:
    """The contributions that added findings of a study (``curation``): the page says that they
    are contributions, not the review's."""
    found: set[str] = set()
    for reported in store.quads_for_pattern(node, REPORTS_FINDING, None):
        if not isinstance(reported.object, ox.NamedNode):
            continue
        for made in store.quads_for_pattern(reported.object, GENERATED_BY, None):
            if isinstance(made.object, ox.NamedNode):
                found.add(made.object.value)
    return [Term(iris.key(iri), local_href(iri), iri) for iri in sorted(found)]


def study_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    dois = _literals(store, node, DOI)
    title = _literals(store, node, ox.NamedNode(DCT + "title"))
    venue = _literals(store, node, PUBLICATION_NAME)
    record = [
        ("Title", title),
        ("Authors", _literals(store, node, CREATOR)),
        ("Editors", _literals(store, node, EDITOR)),
        ("Year", _literals(store, node, ISSUED)),
        ("Published in", venue),
        ("Publication type", _linked(store, labels, node, PUBLICATION_TYPE)),
        ("Empirical basis", _linked(store, labels, node, EMPIRICAL_BASIS)),
        ("Methods", _linked(store, labels, node, USES_METHOD)),
        ("DOI", [Term(d.text, doi_url(d.text), note="DOI") for d in dois]),
        ("Citation", _citations(store, node, venue, title)),
        ("Review index number", _literals(store, node, INDEX_NUMBER)),
        ("In releases", _linked(store, labels, node, IN_RELEASE)),
        (CONTRIBUTED, _contributions(store, node)),
    ]
    findings = []
    rows = select(store, "page-study-findings", thing=node)
    labels.prefetch(term for row in rows for term in row.values())
    for row in rows:
        finding, release, tool = row["finding"], row["release"], row["tool"]
        outcome, direction, factor = row["outcome"], row["direction"], row["factor"]
        if None in (finding, release, tool, outcome, direction):
            continue
        findings.append(
            FindingLine(
                Term("finding", local_href(finding.value), finding.value),
                codes.get(release.value, release.value),
                labels.term(tool),
                labels.term(factor) if isinstance(factor, ox.NamedNode) else None,
                labels(outcome) or compact(outcome.value),
                labels(direction) or compact(direction.value),
                _rating_term(labels, row["rating"], row["level"]),
            )
        )
    findings.sort(
        key=lambda f: (
            f.release,
            f.tool.text,
            f.factor.text if f.factor else "",
            f.outcome,
            f.direction,
        )
    )
    return Section(
        "study", record=[(name, terms) for name, terms in record if terms], findings=findings
    )


def strategy_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    labels = Labels(store)
    codes = _codes(known)
    grouped: dict[str, tuple[str, set[str], set[str]]] = {}
    for row in select(store, "page-justifications", thing=node):
        justification, tool = row["justification"], row["tool"]
        if not isinstance(justification, ox.NamedNode) or not isinstance(tool, ox.NamedNode):
            continue
        entry = grouped.setdefault(tool.value, (justification.value, set(), set()))
        if isinstance(row["mechanism"], ox.NamedNode):
            entry[1].add(row["mechanism"].value)
        if isinstance(row["stating"], ox.NamedNode):
            entry[2].add(codes.get(row["stating"].value, row["stating"].value))
    labels.prefetch(
        [*grouped, *(mechanism for entry in grouped.values() for mechanism in entry[1])]
    )
    supports = [
        Support(
            labels.term(ox.NamedNode(tool)),
            Term("justification", local_href(justification), justification),
            tuple(sorted((labels.term(ox.NamedNode(m)) for m in mechanisms), key=lambda t: t.text)),
            tuple(sorted(stating)),
        )
        for tool, (justification, mechanisms, stating) in grouped.items()
    ]
    supports.sort(key=lambda s: s.tool.text.lower())
    return Section(
        "strategy", description=first_literal(store, node, DESCRIPTIONS), supports=supports
    )


def release_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    """A release's counts and its tools' studies and findings, as the summary graph counted them
    once at build time (a release with no findings has no tally: every count is 0)."""
    labels = Labels(store)
    tally = next(iter(select(store, "page-release-tallies", thing=node)), {})

    def counted(name: str) -> int:
        return int(sparql.text_of(tally.get(name)) or 0)

    counts = [
        ("studies", "Studies", counted("studies")),
        ("findings", "Findings", counted("findings")),
        ("overall-findings", "Overall-effect findings", counted("overallFindings")),
        ("factor-findings", "Factor findings", counted("factorFindings")),
        ("tools", "Tools with findings", counted("tools")),
        ("factors", "Factors in findings", counted("factors")),
        ("published", "Research ratings published", counted("published")),
        ("recomputed", "Research ratings recomputed", counted("recomputed")),
        ("matching", "Recomputed ratings matching the published one", counted("matching")),
    ]
    by_tool = {
        row["tool"].value: (
            int(sparql.text_of(row["studies"]) or 0),
            int(sparql.text_of(row["findings"]) or 0),
        )
        for row in select(store, "page-release-tools", thing=node)
    }
    labels.prefetch(by_tool)
    code = _codes(known).get(node.value)
    tool_counts = sorted(
        (
            ToolCount(
                labels.term(ox.NamedNode(tool)),
                studies,
                found,
                next(iter(changes_links(tool, known, code)), None) if code else None,
            )
            for tool, (studies, found) in by_tool.items()
        ),
        key=lambda line: line.tool.text.lower(),
    )
    return Section(
        "release",
        description=first_literal(store, node, DESCRIPTIONS),
        counts=counts,
        tool_counts=tool_counts,
    )


def assessment_section(store: GraphStore, node: ox.NamedNode, known: list[Release]) -> Section:
    """A recomputed rating: what it rates, and the findings it rests on (a level on a tool's or
    factor's page links here)."""
    labels = Labels(store)
    record = [
        ("Tool", _linked(store, labels, node, ox.NamedNode(str(NS.aboutTool)))),
        ("Factor as coded", _linked(store, labels, node, ox.NamedNode(str(NS.aboutFactor)))),
        ("Shown as", _linked(store, labels, node, ox.NamedNode(str(NS.shownAsFactor)))),
        ("Release", _linked(store, labels, node, IN_RELEASE)),
        ("Level", _linked(store, labels, node, ox.NamedNode(str(NS.evidenceLevel)))),
        ("Vote score", _literals(store, node, ox.NamedNode(str(NS.voteScore)))),
        ("Findings", _literals(store, node, ox.NamedNode(str(NS.findingCount)))),
        (
            "Published rating",
            [
                Term(rating_title(store, labels, n) or n.value, local_href(n.value), n.value)
                for n in _nodes(store, node, ox.NamedNode(str(NS.recomputes)))
            ],
        ),
        ("Matches it", _literals(store, node, ox.NamedNode(str(NS.matchesPublished)))),
    ]
    rows = select(store, "page-assessment-findings", thing=node)
    labels.prefetch(
        term for row in rows for term in (row["study"], row["outcome"], row["direction"])
    )
    findings = []
    for row in rows:
        finding, study = row["finding"], row["study"]
        outcome, direction = row["outcome"], row["direction"]
        if not all(isinstance(v, ox.NamedNode) for v in (finding, study, outcome, direction)):
            continue
        findings.append(
            StudyFinding(
                Term("finding", local_href(_value(finding)), _value(finding)),
                labels.term(ox.NamedNode(_value(study))),
                _value(row["year"]),
                labels(ox.NamedNode(_value(outcome))) or compact(_value(outcome)),
                labels(ox.NamedNode(_value(direction))) or compact(_value(direction)),
            )
        )
    findings.sort(key=lambda f: (f.direction, f.outcome, f.year, f.study.text.lower()))
    return Section(
        "assessment",
        record=[(name, terms) for name, terms in record if terms],
        rested_on=findings,
        related=factor_page.other_tools(store, labels, node, known),
    )


SECTIONS = {
    "tool": tool_section,
    "factor": factor_section,
    "study": study_section,
    "strategy": strategy_section,
    "release": release_section,
    "assessment": assessment_section,
}


def section(
    store: GraphStore, node: ox.NamedNode, types: Iterable[str], known: list[Release]
) -> Section | None:
    """The kind-specific section of a page, from SPARQL on the store, or None for other kinds."""
    kind = section_kind(types)
    return SECTIONS[kind](store, node, known) if kind is not None else None
