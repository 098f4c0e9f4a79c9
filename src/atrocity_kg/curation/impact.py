"""The impact preview: what a contribution would change, before anything is written.

For every tool and factor the contribution has findings about, the research rating of the draft
release before (the latest release and the contributions already made, as the store holds them)
and after (with this one too), by the rubric ``evidence.py`` implements; the studies it adds, and
each tool's count of studies that changes; and the SHACL report of its graph. Read from the
current store (read-only) and the contribution's files, without a rebuild.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from atrocity_kg.config import Settings
from atrocity_kg.curation.contributions import Submission, validate_contributions
from atrocity_kg.curation.source import read_draft_input, read_findings
from atrocity_kg.errors import ContributionFormatError, SourceLocation
from atrocity_kg.graph import build, draft, evidence, graphs, validate
from atrocity_kg.graph.draft import DraftInput
from atrocity_kg.ingest.contributions import ContributionMeta, ContributionRecords
from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.storage import store

NONE_AVAILABLE = str(iris.concept("evidence-level", evidence.NONE_AVAILABLE))


@dataclass(frozen=True)
class Rating:
    """A research rating as the rubric makes it: score (none when nothing is scored), level
    (an IRI of the evidence-level scheme), number of findings."""

    score: Decimal | None
    level: str
    findings: int

    def to_json(self) -> dict[str, Any]:
        score = None if self.score is None else float(self.score)
        return {"score": score, "level": self.level, "findings": self.findings}


def rate(rows: list[evidence.FindingRow], interviewed: bool) -> Rating | None:
    """The rating of a tool and factor from its findings; 'none available' with no finding
    where practitioners were asked about it, else no rating at all."""
    if not rows:
        return Rating(None, NONE_AVAILABLE, 0) if interviewed else None
    (found,) = evidence.group_findings(rows)
    score = found.score
    level = str(iris.concept("evidence-level", score.level))
    value = score.score.normalize() if score.score else Decimal(0)
    return Rating(value, level, len(found.findings))


@dataclass(frozen=True)
class RatingChange:
    tool: str
    factor: str
    before: Rating | None
    after: Rating | None

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "factor": self.factor,
            "basis": "research",
            "before": None if self.before is None else self.before.to_json(),
            "after": None if self.after is None else self.after.to_json(),
        }


@dataclass
class Impact:
    """The preview of one contribution (see the module's docstring)."""

    contribution: ContributionMeta
    draft: str
    changes: list[RatingChange]
    studies_added: list[str]
    per_tool: dict[str, tuple[int, int]]
    report: validate.ValidationReport
    labels: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The JSON document of issue 16."""
        meta = asdict(self.contribution)
        meta["iri"] = str(iris.contribution(self.contribution.id))
        meta["release"] = str(iris.release(self.draft))
        return {
            "contribution": meta,
            "changes": [change.to_json() for change in self.changes],
            "studies": {
                "added": len(self.studies_added),
                "per_tool": {
                    tool: {"before": before, "after": after}
                    for tool, (before, after) in sorted(self.per_tool.items())
                },
            },
            "report": {
                "conforms": self.report.conforms,
                "violations": len(self.report.violations),
                "warnings": len(self.report.warnings),
                "results": [asdict(result) for result in self.report.results],
            },
        }

    def label(self, iri: str | None) -> str:
        if iri is None:
            return "no rating"
        return self.labels.get(iri) or iris.key(iri).replace("-", " ")

    def _rating_text(self, rating: Rating | None) -> str:
        if rating is None:
            return "no rating"
        level = self.label(rating.level)
        return level if rating.score is None else f"{level} {rating.score}"

    def lines(self) -> list[str]:
        """One line per change: 'mediation × implementer leverage: moderate 2.5 → relatively
        strong 3.5', then the studies."""
        lines = [
            f"{self.label(change.tool)} × {self.label(change.factor)}: "
            f"{self._rating_text(change.before)} → {self._rating_text(change.after)}"
            for change in self.changes
        ]
        lines.append(f"studies added: {len(self.studies_added)}")
        for tool, (before, after) in sorted(self.per_tool.items()):
            lines.append(f"studies of {self.label(tool)}: {before} → {after}")
        lines.append(f"validation: {self.report.summary()}")
        return lines


def preview(
    settings: Settings,
    submission: Submission,
    now: datetime | None = None,
    cache: validate.ValidationCache | None = None,
) -> Impact:
    """The impact of ``submission`` on the current store's draft release; writes nothing (but
    the report to ``cache``, when one is given)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    meta = submission.meta(now)
    with store.opened(settings.store_root) as opened:
        tools = build.tool_catalogue(graphs.named_graph(opened, str(graphs.CURATED_GRAPH)))
        source = read_draft_input(opened, tools)
        timings["read store"] = _lap(clock)
        clock = time.perf_counter()
        new = submission.read(meta, source)
        _check_new_studies(new, source)
        draft.check_against_latest(new, source)
        timings["read records"] = _lap(clock)
        clock = time.perf_counter()
        impact = compute_impact(opened, new, source)
        timings["impact"] = _lap(clock)
        clock = time.perf_counter()
        named = draft.draft_graphs(source, [new])
        impact.report = validate_contributions(opened, named, [new], source, cache)
        timings["validate"] = _lap(clock)
    impact.timings = timings
    return impact


def _lap(start: float) -> float:
    return time.perf_counter() - start


def _check_new_studies(new: ContributionRecords, source: DraftInput) -> None:
    for number in new.new_studies:
        graph = source.contributed_studies.get(number)
        if graph is not None:
            study = new.studies[number]
            raise ContributionFormatError(
                SourceLocation(new.shown_file, study.rows[0], "Index.Number"),
                f"study {number!r} is added by another contribution already (<{graph}>)",
            )


def compute_impact(
    opened: store.GraphStore, new: ContributionRecords, source: DraftInput
) -> Impact:
    """Before and after for every rating and study count the contribution touches."""
    code = source.base.draft
    draft_release = ox.NamedNode(str(iris.release(code)))
    latest_release = ox.NamedNode(str(iris.release(source.base.latest)))
    before_rows = [*source.findings, *read_findings(opened, draft_release)]
    added = draft.contributed_findings(new)
    touched = sorted({(row[1], row[2]) for row in added})
    by_pair: dict[tuple[str, str], list[evidence.FindingRow]] = defaultdict(list)
    for row in before_rows:
        if (row[1], row[2]) in touched:
            by_pair[(row[1], row[2])].append(row)
    changes = []
    for pair in touched:
        interviewed = pair in source.interviews
        before = rate(by_pair[pair], interviewed)
        after = rate(by_pair[pair] + [r for r in added if (r[1], r[2]) == pair], interviewed)
        if before != after:
            changes.append(RatingChange(pair[0], pair[1], before, after))
    studies: dict[str, set[str]] = defaultdict(set)
    for release in (latest_release, draft_release):
        query = sparql.load("draft-tool-studies")
        for solution in sparql.select(opened, query, {"release": release}):
            tool, study = sparql.text_of(solution["tool"]), sparql.text_of(solution["study"])
            studies[str(tool)].add(str(study))
    per_tool = {}
    contributed: dict[str, set[str]] = defaultdict(set)
    for finding in new.records.findings.values():
        contributed[str(iris.tool(finding.tool))].add(str(iris.study(finding.study)))
    for tool, numbers in contributed.items():
        before_count = len(studies[tool])
        after_count = len(studies[tool] | numbers)
        if after_count != before_count:
            per_tool[tool] = (before_count, after_count)
    impact = Impact(
        new.meta, code, changes, list(new.new_studies), per_tool, validate.ValidationReport()
    )
    wanted = {t for c in changes for t in (c.tool, c.factor)} | set(per_tool)
    wanted |= {r.level for c in changes for r in (c.before, c.after) if r is not None}
    for iri in wanted:
        rows = sparql.select(opened, sparql.load("draft-label"), {"thing": ox.NamedNode(iri)})
        if rows and rows[0]["label"] is not None:
            impact.labels[iri] = str(sparql.text_of(rows[0]["label"]))
    return impact
