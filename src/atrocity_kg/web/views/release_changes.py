"""What changed for one tool between two releases: the studies added and removed, the ratings
recomputed from each release's findings that appeared, vanished or changed level (research, and
practitioners' interviews where the releases have them), and the review's own published ratings
that appeared, vanished or changed level or score.

The same comparisons as the catalogue's ``release-*`` queries and ``atrocity-kg diff``, for one
tool and read as a page: a recomputed research rating counts in a release when one finding or
more rests on it; published scores are compared as ``release-published-rating-changes`` does
(an inverted research rating's vote score from its own side, a practitioners' share to two
decimals).

In: a store, a tool, two releases (``query/sparql/release-changes-ratings.rq`` and
``page-tool-studies.rq``, the tool and releases as bound values). Out: plain data for
``compare_releases.html`` and the rows of its CSV form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pyoxigraph as ox

from atrocity_kg.model.namespaces import AKG as NS
from atrocity_kg.query import sparql
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web.views.compare import Tool
from atrocity_kg.web.views.sections import LEVEL_RANK, PRACTITIONERS, RESEARCH
from atrocity_kg.web.views.terms import (
    ISSUED,
    Labels,
    Release,
    Term,
    literals_of,
    local_href,
    preferred,
)

RECOMPUTED = str(NS.RecomputedAssessment)
BASES = (
    (RESEARCH, "research", "research"),
    (PRACTITIONERS, "practitioners", "practitioners' interviews"),
)
APPEARED, VANISHED, LEVEL, SCORE = "appeared", "vanished", "level changed", "score changed"
CHANGE_ORDER = {APPEARED: 0, LEVEL: 1, SCORE: 2, VANISHED: 3}


@dataclass(frozen=True)
class Rating:
    """One rating in one release, as the comparison reads it."""

    assessment: str
    factor: str
    shown: str
    level: str
    level_key: str
    findings: int | None
    score: Decimal | None
    """The research vote score (published: from the rated factor's side), or the
    practitioners' share (published: to two decimals)."""

    @property
    def href(self) -> str | None:
        return local_href(self.assessment)


@dataclass(frozen=True)
class Change:
    """A factor whose rating differs between the releases; ``before`` or ``after`` is None
    where it appeared or vanished."""

    factor: Term
    change: str
    before: Rating | None
    after: Rating | None

    @property
    def direction(self) -> str:
        """stronger or weaker for a change of level; empty otherwise."""
        if self.change != LEVEL or self.before is None or self.after is None:
            return ""
        stronger = LEVEL_RANK.get(self.after.level_key, 9) < LEVEL_RANK.get(
            self.before.level_key, 9
        )
        return "stronger" if stronger else "weaker"

    @property
    def inverted_now(self) -> bool:
        """Shown as its opposite in the later release, where it is rated then."""
        rating = self.after or self.before
        return rating is not None and rating.shown != rating.factor


@dataclass
class RatingChanges:
    """The changes of one kind of rating (recomputed or published) on one basis."""

    key: str
    basis: str
    published: bool
    rated: tuple[int, int]
    """How many ratings of this kind each release has for the tool."""
    changes: list[Change] = field(default_factory=list)

    def count(self, change: str, direction: str = "") -> int:
        return sum(
            1
            for c in self.changes
            if c.change == change and (not direction or c.direction == direction)
        )

    @property
    def unchanged(self) -> int:
        return (
            self.rated[1]
            - self.count(APPEARED)
            - len([c for c in self.changes if c.change in (LEVEL, SCORE)])
        )


@dataclass(frozen=True)
class StudyChange:
    study: Term
    year: str
    change: str


@dataclass
class ReleaseChanges:
    tool: Tool
    earlier: Release
    later: Release
    studies: tuple[int, int] = (0, 0)
    study_changes: list[StudyChange] = field(default_factory=list)
    recomputed: list[RatingChanges] = field(default_factory=list)
    published: list[RatingChanges] = field(default_factory=list)

    def studies_count(self, change: str) -> int:
        return sum(1 for s in self.study_changes if s.change == change)


def _decimal(value: sparql.Value | None) -> Decimal | None:
    text = sparql.text_of(value)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _score(row: sparql.Solution, published: bool) -> Decimal | None:
    vote, share = _decimal(row["vote"]), _decimal(row["share"])
    if vote is not None:
        if published and sparql.text_of(row["inverted"]) == "true":
            return -abs(vote)
        return vote
    if share is not None:
        return share.quantize(Decimal("0.01"), ROUND_HALF_UP) if published else share
    return None


def _ratings(
    store: GraphStore, labels: Labels, tool: Tool, earlier: Release, later: Release
) -> dict[tuple[bool, str, str], dict[str, Rating]]:
    """(published, basis, release IRI) -> factor as coded -> its rating."""
    rows = sparql.select(
        store,
        sparql.load("release-changes-ratings"),
        {
            "tool": ox.NamedNode(tool.iri),
            "earlier": ox.NamedNode(earlier.iri),
            "later": ox.NamedNode(later.iri),
        },
    )
    labels.prefetch(row["level"] for row in rows)
    found: dict[tuple[bool, str, str], dict[str, Rating]] = {}
    for row in rows:
        names = ("assessment", "kind", "release", "basis", "factor", "level")
        values = [sparql.text_of(row[name]) for name in names]
        if not all(isinstance(row[name], ox.NamedNode) for name in names):
            continue
        assessment, kind, release, basis, factor, level = (value or "" for value in values)
        published = kind != RECOMPUTED
        findings = sparql.text_of(row["findings"])
        if not published and basis == RESEARCH and int(findings or 0) < 1:
            continue  # a research rating rests on findings; none: cited by practitioners only
        level_node = row["level"]
        assert isinstance(level_node, ox.NamedNode)
        found.setdefault((published, basis, release), {})[factor] = Rating(
            assessment,
            factor,
            sparql.text_of(row["shown"]) or factor,
            labels(level_node) or level.rsplit("/", 1)[-1],
            level.rsplit("/", 1)[-1],
            int(findings) if findings is not None else None,
            _score(row, published),
        )
    return found


def _compare(
    before: dict[str, Rating], after: dict[str, Rating], labels: Labels, with_scores: bool
) -> list[Change]:
    changes = []
    for factor in before.keys() | after.keys():
        a, b = before.get(factor), after.get(factor)
        if a is None:
            change = APPEARED
        elif b is None:
            change = VANISHED
        elif a.level_key != b.level_key:
            change = LEVEL
        elif with_scores and a.score != b.score:
            change = SCORE
        else:
            continue
        changes.append(Change(labels.term(ox.NamedNode(factor)), change, a, b))
    changes.sort(key=lambda c: (CHANGE_ORDER[c.change], c.factor.text.lower()))
    return changes


def _studies(
    store: GraphStore, labels: Labels, tool: Tool, earlier: Release, later: Release
) -> tuple[tuple[int, int], list[StudyChange]]:
    per_release: dict[str, set[str]] = {earlier.iri: set(), later.iri: set()}
    for row in sparql.select(
        store, sparql.load("tool-study-releases"), {"thing": ox.NamedNode(tool.iri)}
    ):
        study, release = sparql.text_of(row["study"]), sparql.text_of(row["release"])
        if study and release in per_release:
            per_release[release].add(study)
    before, after = per_release[earlier.iri], per_release[later.iri]
    moved = [(study, "added") for study in after - before] + [
        (study, "removed") for study in before - after
    ]
    nodes = [ox.NamedNode(study) for study, _ in moved]
    labels.prefetch(nodes)
    issued = literals_of(store, nodes, [ISSUED])
    lines = [
        StudyChange(labels.term(ox.NamedNode(study)), preferred(issued, study, [ISSUED]) or "", how)
        for study, how in moved
    ]
    lines.sort(key=lambda s: (s.change, s.study.text.lower()))
    return (len(before), len(after)), lines


def release_changes(
    store: GraphStore, tool: Tool, earlier: Release, later: Release
) -> ReleaseChanges:
    labels = Labels(store)
    result = ReleaseChanges(tool, earlier, later)
    result.studies, result.study_changes = _studies(store, labels, tool, earlier, later)
    found = _ratings(store, labels, tool, earlier, later)
    factors = {factor for ratings in found.values() for factor in ratings}
    labels.prefetch(factors)
    for published in (False, True):
        for basis, key, name in BASES:
            before = found.get((published, basis, earlier.iri), {})
            after = found.get((published, basis, later.iri), {})
            if not before and not after:
                continue
            changes = RatingChanges(
                f"{'published' if published else 'recomputed'}-{key}",
                name,
                published,
                (len(before), len(after)),
                _compare(before, after, labels, with_scores=published),
            )
            (result.published if published else result.recomputed).append(changes)
    return result


CSV_COLUMNS = (
    "tool",
    "from_release",
    "to_release",
    "what",
    "basis",
    "change",
    "direction",
    "subject",
    "subject_iri",
    "from_level",
    "to_level",
    "from_findings",
    "to_findings",
    "from_score",
    "to_score",
    "from_rating",
    "to_rating",
)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def csv_rows(changes: ReleaseChanges) -> list[list[str]]:
    """One line per study added or removed and per rating that changed."""
    head = [changes.tool.label, changes.earlier.code, changes.later.code]
    lines = [
        [*head, "study", "", s.change, "", s.study.text, s.study.iri or "", *[""] * 8]
        for s in changes.study_changes
    ]
    for what, groups in (
        ("recomputed rating", changes.recomputed),
        ("published rating", changes.published),
    ):
        for group in groups:
            for c in group.changes:
                a, b = c.before, c.after
                lines.append(
                    [
                        *head,
                        what,
                        group.basis,
                        c.change,
                        c.direction,
                        c.factor.text,
                        c.factor.iri or "",
                        a.level if a else "",
                        b.level if b else "",
                        _text(a.findings if a else None),
                        _text(b.findings if b else None),
                        _text(a.score if a else None),
                        _text(b.score if b else None),
                        a.assessment if a else "",
                        b.assessment if b else "",
                    ]
                )
    return lines
