"""USHMM release folder -> plain records, checked row by row.

The folder is laid out like the upstream repository ushmm/atrocity-prevention-data. Only facts are
read (codes, names, numbers, titles, authors, DOIs); the review's prose columns are never touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from atrocity_kg.errors import ReleaseFormatError, SourceLocation
from atrocity_kg.ingest.csvfiles import Row, read_rows
from atrocity_kg.ingest.factors import Match, reconcile
from atrocity_kg.ingest.releases import RELEASES, ReleaseSpec
from atrocity_kg.ingest.zotero import BibliographicRecord, Bibliography, read_bibliography

# Coded values of the release files -> the keys of the project's vocabularies (data/curated).
OUTCOMES = {
    "mass atrocities": "mass-atrocities",
    "violence against civilians": "violence-against-civilians",
    "conflict": "conflict",
    "conflict_outcome": "conflict",
    "human rights violations": "human-rights-violations",
    "adverse consequences": "adverse-consequences",
}
OVERALL_DIRECTIONS = {
    "decreases mass atrocities or cros": "decreases",
    "increases mass atrocities or cros": "increases",
    "no or mixed effects": "no-or-mixed",
}
FACTOR_DIRECTIONS = {
    "the factor is associated with greater effectiveness of the tool in reducing mass atrocities "
    "or cros": "greater-effectiveness",
    "the factor is associated with lesser effectiveness of the tool in reducing mass atrocities "
    "or cros": "lesser-effectiveness",
    "the factor has no or mixed effects on the effectiveness of the tool in reducing mass "
    "atrocities or cros": "no-or-mixed",
}
PUBLICATION_TYPES = {
    "peer-reviewed journal article": "peer-reviewed-journal-article",
    "peer reviewed journal article": "peer-reviewed-journal-article",
    "organizational publication": "organizational-publication",
    "book chapter": "book-chapter",
    "unpublished manuscript": "unpublished-manuscript",
}
EMPIRICAL_BASES = {
    "one case study": "one-case-study",
    "comparison of greater than one case": "comparison-of-greater-than-one-case",
    "unclear": "unclear",
}
QUALITATIVE_METHODS = {
    "process tracing": "process-tracing",
    "structured case comparison": "structured-case-comparison",
}
QUANTITATIVE_METHODS = {
    "multivariate regression": "multivariate-regression",
    "regression": "regression",
    "statistics with an identification strategy": "statistics-with-an-identification-strategy",
    "fixed or random effects": "fixed-or-random-effects",
    "simple probability": "simple-probability",
}
OTHER_METHODS = {"no discernible method": "no-discernible-method"}
EVIDENCE_LEVELS = {
    "stronger": "relatively-strong",
    "moderate": "moderate",
    "weaker": "relatively-weak",
    "none available": "none-available",
}
FACTOR_KINDS = {"contextual": "contextual", "context": "contextual", "design": "design"}
EFFECT_TYPES = {"average": "overall", "contextual or design": "factor"}
STRATEGY_COLUMNS = {
    "dissuade": "dissuade",
    "degrade": "degrade",
    "protect": "protect",
    "transition": "transition",
}

SOURCE_COLUMNS_COMMON = (
    "Index.Number",
    "Tool",
    "CD",
    "Factor_effect",
    "Publication",
    "Empirical",
    "Qual",
    "Quant",
    "Method",
    "Outcome",
    "full_citation",
    "Year",
)
FACTOR_COLUMNS_COMMON = (
    "tool_name",
    "Dedoose.name_tool",
    "Dedoose.name_factor",
    "Name",
    "Inverse.factor",
    "Contextual.or.design.factor",
    "Family",
    "count",
    "greater_findings",
    "lesser_findings",
    "no_mixed_findings",
    "temp_vote_count_factor",
    "vote_count_factor",
    "count_adverse",
    "ma_focus_greater_count_factor",
    "ma_focus_lesser_count_factor",
    "ma_focus_no_mixed_count_factor",
    "cro_focus_greater_count_factor",
    "cro_focus_lesser_count_factor",
    "cro_focus_no_mixed_count_factor",
    "inversion_with_neg_strength",
    "research_qualitative",
    "practitioner_qualitative",
    "count_practitioner",
    "number_practitioners",
    "proportion_practitioner",
    "dissuade",
    "degrade",
    "protect",
    "transition",
)
GUIDE_COLUMNS = (
    "Name",
    "Type",
    "Dedoose name",
    "Inverse factor",
    "Contextual or design factor",
    "Family",
)


@dataclass(frozen=True)
class ToolCatalogue:
    """The tools the curated data knows, by the review's code and by name (both -> tool slug)."""

    by_code: Mapping[str, str]
    by_name: Mapping[str, str]

    def resolve(self, row: Row, code_columns: tuple[str, ...], name_column: str) -> str:
        for column in code_columns:
            code = row.text(column)
            if code is not None and code in self.by_code:
                return self.by_code[code]
        name = row.text(name_column)
        if name is not None and name.lower() in self.by_name:
            return self.by_name[name.lower()]
        shown = next((row.text(c) for c in code_columns if row.text(c)), None) or name
        column = next((c for c in code_columns if row.text(c)), name_column)
        raise row.fail(column, f"unknown tool {shown!r}: not among the tools in data/curated")


@dataclass
class FormerKey:
    """A key a factor was published under before reconciliation (its name in ratings rows
    with no code), why those rows mean this factor, and the rows."""

    key: str
    basis: str
    file: str
    rows: list[int]
    opposite_name: str | None = None


@dataclass
class FactorRecord:
    key: str
    code: str | None
    name: str
    kind: str
    family: str | None
    opposite_name: str | None
    file: str
    row: int
    former_keys: list[FormerKey] = field(default_factory=list)


@dataclass
class StudyRecord:
    index_number: str
    year: int
    publication_type: str
    empirical_basis: str
    methods: set[str]
    citations: list[str]
    file: str
    rows: list[int]
    bibliography: BibliographicRecord | None = None

    @property
    def issued(self) -> int:
        """The year of publication: the bibliography's where it gives one, else the release's."""
        if self.bibliography is not None and self.bibliography.year is not None:
            return self.bibliography.year
        return self.year


@dataclass
class FindingRecord:
    kind: str
    study: str
    tool: str
    factor: str | None
    outcome: str
    direction: str
    file: str
    rows: list[int]

    @property
    def key(self) -> tuple[str, ...]:
        return (self.study, self.tool, self.factor or "overall", self.outcome, self.direction)


@dataclass
class ResearchRating:
    tool: str
    factor: str
    counts: dict[str, int]
    provisional_score: Decimal
    score: Decimal
    inverted: bool
    level: str
    file: str
    row: int


@dataclass
class PractitionerRating:
    tool: str
    factor: str
    interviewed: int
    citing_net: Decimal | None
    greater: int | None
    lesser: int | None
    no_or_mixed: int | None
    share: Decimal
    level: str
    file: str
    row: int


@dataclass
class ReleaseRecords:
    spec: ReleaseSpec
    files: list[str] = field(default_factory=list)
    factors: dict[str, FactorRecord] = field(default_factory=dict)
    studies: dict[str, StudyRecord] = field(default_factory=dict)
    findings: dict[tuple[str, ...], FindingRecord] = field(default_factory=dict)
    research: dict[tuple[str, str], ResearchRating] = field(default_factory=dict)
    practitioner: dict[tuple[str, str], PractitionerRating] = field(default_factory=dict)
    stated_strategies: dict[str, set[str]] = field(default_factory=dict)
    quirks: list[str] = field(default_factory=list)


def read_release(root: Path, code: str, tools: ToolCatalogue) -> ReleaseRecords:
    """Read one release (V1, V2 or V3) from a folder laid out like the upstream repository."""
    if code not in RELEASES:
        raise ReleaseFormatError(SourceLocation(str(root)), f"unknown release {code!r}")
    records = ReleaseRecords(RELEASES[code])
    _read_guide(root, records)
    _read_factors(root, records, tools)
    _read_sources(root, records, tools)
    relative = bibliography_file(root, records.spec)
    if relative is not None:
        _apply_bibliography(read_bibliography(root, relative), records)
    return records


def bibliography_file(root: Path, spec: ReleaseSpec) -> str | None:
    """The newest bibliography the folder has (it describes publications, which do not change
    with the release), else the release's own, which must then be there, else none."""
    for newer in sorted(RELEASES.values(), key=lambda r: r.number, reverse=True):
        relative = newer.bibliography_file
        if relative is not None and (root / relative).is_file():
            return relative
    return spec.bibliography_file


def _apply_bibliography(bibliography: Bibliography, records: ReleaseRecords) -> None:
    """Link each study to its entry; a year the release codes otherwise is reported, and the
    bibliography's kept, so a study has one year in every release."""
    records.files.append(bibliography.file)
    records.quirks.extend(bibliography.quirks)
    for study in records.studies.values():
        record = bibliography.records.get(study.index_number)
        if record is None:
            continue
        study.bibliography = record
        if record.year is not None and record.year != study.year:
            records.quirks.append(
                f"{study.file}, row {study.rows[0]}, column Year: study {study.index_number!r} "
                f"has {study.year} here but {record.year} in {record.file}, row {record.row}, "
                "column Publication Year; the bibliography's year is kept"
            )


def _read_guide(root: Path, records: ReleaseRecords) -> None:
    """The release's code book: every factor with its type, family and opposite."""
    relative = records.spec.guide_file
    records.files.append(relative)
    for row in read_rows(root, relative, GUIDE_COLUMNS):
        if (row.text("Type") or "").lower() != "factor":
            continue
        _keep_factor(row, GUIDE_FACTOR_COLUMNS, records)


def _factor_kind(row: Row, column: str) -> str:
    kind = row.choice(column, FACTOR_KINDS)
    if kind is None:
        raise row.fail(column, "a factor must be Contextual or Design")
    return kind


@dataclass(frozen=True)
class FactorColumns:
    """Where a file keeps a factor's facts: the code book and the ratings file name them apart."""

    code: str
    kind: str
    opposite: str


GUIDE_FACTOR_COLUMNS = FactorColumns(
    "Dedoose name", "Contextual or design factor", "Inverse factor"
)
RATING_FACTOR_COLUMNS = FactorColumns(
    "Dedoose.name_factor", "Contextual.or.design.factor", "Inverse.factor"
)


def _keep_factor(
    row: Row, columns: FactorColumns, records: ReleaseRecords, match: Match | None = None
) -> str:
    """Record a factor once per release (keyed by its code, or as ``match`` reconciled a row
    without one); the same factor typed both ways is an error. Returns the factor's key."""
    record = FactorRecord(
        key=match.key if match is not None else row.text(columns.code) or row.required("Name"),
        code=row.text(columns.code),
        name=row.required("Name"),
        kind=_factor_kind(row, columns.kind),
        family=row.text("Family"),
        opposite_name=row.text(columns.opposite),
        file=row.file,
        row=row.record,
    )
    known = records.factors.setdefault(record.key, record)
    if known.kind != record.kind:
        raise row.fail(
            columns.kind,
            f"factor {record.key!r} is {record.kind} here but {known.kind} in {known.file}, "
            f"row {known.row}",
        )
    if match is not None and match.former_key is not None:
        former = next((f for f in known.former_keys if f.key == match.former_key), None)
        if former is None:
            opposite = row.text(columns.opposite)
            known.former_keys.append(
                FormerKey(match.former_key, match.basis, row.file, [], opposite)
            )
            former = known.former_keys[-1]
        former.rows.append(row.record)
    return record.key


def _read_factors(root: Path, records: ReleaseRecords, tools: ToolCatalogue) -> None:
    relative = records.spec.factors_file
    records.files.append(relative)
    unlabelled = reconcile(root, records.spec)
    for row in read_rows(root, relative, FACTOR_COLUMNS_COMMON):
        tool = tools.resolve(row, ("Dedoose.name_tool", "Tool"), "tool_name")
        _read_stated_strategies(row, tool, records)
        if row.text("Name") is None:
            if row.text("count") is not None:
                records.quirks.append(
                    f"{relative}, row {row.record}: a research rating that names no factor "
                    "(Name and Dedoose.name_factor empty) is left out"
                )
            continue
        key = _keep_factor(row, RATING_FACTOR_COLUMNS, records, unlabelled.get(row.record))
        _read_research_rating(row, tool, key, records)
        _read_practitioner_rating(row, tool, key, records)


def _read_stated_strategies(row: Row, tool: str, records: ReleaseRecords) -> None:
    flags = {key: row.flag(column) for column, key in STRATEGY_COLUMNS.items()}
    if all(flag is None for flag in flags.values()):
        return
    stated = {key for key, flag in flags.items() if flag}
    known = records.stated_strategies.setdefault(tool, stated)
    if known != stated:
        raise row.fail(
            "dissuade",
            f"the tool's strategies {sorted(stated)} differ from {sorted(known)} on an earlier row",
        )


def _read_research_rating(row: Row, tool: str, key: str, records: ReleaseRecords) -> None:
    count = row.count("count")
    if count is None:
        return
    columns = {
        "finding": "count",
        "greater": "greater_findings",
        "lesser": "lesser_findings",
        "no-or-mixed": "no_mixed_findings",
        "adverse": "count_adverse",
        "ma-greater": "ma_focus_greater_count_factor",
        "ma-lesser": "ma_focus_lesser_count_factor",
        "ma-no-or-mixed": "ma_focus_no_mixed_count_factor",
        "cro-greater": "cro_focus_greater_count_factor",
        "cro-lesser": "cro_focus_lesser_count_factor",
        "cro-no-or-mixed": "cro_focus_no_mixed_count_factor",
    }
    counts = {}
    for name, column in columns.items():
        value = row.count(column)
        if value is None:
            raise row.fail(column, "a count is required where the factor has findings")
        counts[name] = value
    provisional = row.number("temp_vote_count_factor")
    score = row.number("vote_count_factor")
    level = row.choice("research_qualitative", EVIDENCE_LEVELS)
    if provisional is None or score is None or level is None:
        missing = (
            "temp_vote_count_factor"
            if provisional is None
            else ("vote_count_factor" if score is None else "research_qualitative")
        )
        raise row.fail(missing, "a rated factor needs its provisional score, score and level")
    rating = ResearchRating(
        tool,
        key,
        counts,
        provisional,
        score,
        bool(row.flag("inversion_with_neg_strength")),
        level,
        row.file,
        row.record,
    )
    _keep_once(records.research, (tool, key), rating, row)


def _read_practitioner_rating(row: Row, tool: str, key: str, records: ReleaseRecords) -> None:
    interviewed = row.count("number_practitioners")
    if interviewed is None:
        return
    citing = row.number("count_practitioner")
    share = row.number("proportion_practitioner")
    level = row.choice("practitioner_qualitative", EVIDENCE_LEVELS)
    if share is None or level is None:
        raise row.fail(
            "proportion_practitioner" if share is None else "practitioner_qualitative",
            "an interview result needs its share and level",
        )
    rating = PractitionerRating(
        tool,
        key,
        interviewed,
        citing,
        row.count("greater_practitioner") if "greater_practitioner" in row.values else None,
        row.count("lesser_practitioner") if "lesser_practitioner" in row.values else None,
        row.count("no_mixed_practitioner") if "no_mixed_practitioner" in row.values else None,
        share,
        level,
        row.file,
        row.record,
    )
    _keep_once(records.practitioner, (tool, key), rating, row)


def _keep_once(
    table: dict[tuple[str, str], ResearchRating] | dict[tuple[str, str], PractitionerRating],
    key: tuple[str, str],
    rating: ResearchRating | PractitionerRating,
    row: Row,
) -> None:
    """A repeated record is kept once; a repeated key with other numbers is an error."""
    known = table.get(key)
    if known is None:
        table[key] = rating  # type: ignore[assignment]
        return
    if {**vars(known), "row": 0} != {**vars(rating), "row": 0}:
        raise row.fail(
            None,
            f"tool {key[0]!r} and factor {key[1]!r} rated again, differently from row {known.row}",
        )


def _read_sources(root: Path, records: ReleaseRecords, tools: ToolCatalogue) -> None:
    relative = records.spec.sources_file
    records.files.append(relative)
    for row in read_rows(root, relative, SOURCE_COLUMNS_COMMON):
        study = _read_study(row, records)
        tool = tools.resolve(row, ("Tool",), "Tool")
        kind = (
            row.choice("effects_type", EFFECT_TYPES) if "effects_type" in row.values else "factor"
        )
        outcome = row.choice("Outcome", OUTCOMES)
        if outcome is None:
            raise row.fail("Outcome", "a finding needs an outcome")
        if kind == "overall":
            factor = None
            direction = row.choice("overall", OVERALL_DIRECTIONS)
            direction_column = "overall"
        else:
            factor = row.required("CD")
            if factor not in records.factors:
                raise row.fail(
                    "CD", f"factor {factor!r} is not described in {records.spec.factors_file}"
                )
            direction = row.choice("Factor_effect", FACTOR_DIRECTIONS)
            direction_column = "Factor_effect"
        if direction is None:
            raise row.fail(direction_column, "a finding needs a direction")
        finding = FindingRecord(
            kind or "factor",
            study.index_number,
            tool,
            factor,
            outcome,
            direction,
            row.file,
            [row.record],
        )
        known = records.findings.setdefault(finding.key, finding)
        if known is not finding:
            known.rows.append(row.record)


def _read_study(row: Row, records: ReleaseRecords) -> StudyRecord:
    index_number = row.required("Index.Number")
    year = row.integer("Year")
    if year is None:
        raise row.fail("Year", "a study needs its year")
    methods = {
        method
        for column, table in (
            ("Qual", QUALITATIVE_METHODS),
            ("Quant", QUANTITATIVE_METHODS),
            ("Method", OTHER_METHODS),
        )
        if (method := row.choice(column, table)) is not None
    }
    publication = row.choice("Publication", PUBLICATION_TYPES)
    empirical = row.choice("Empirical", EMPIRICAL_BASES)
    if publication is None or empirical is None:
        raise row.fail(
            "Publication" if publication is None else "Empirical",
            "a study needs its publication type and empirical basis",
        )
    citation = row.required("full_citation")
    study = records.studies.get(index_number)
    if study is None:
        study = StudyRecord(
            index_number, year, publication, empirical, methods, [citation], row.file, [row.record]
        )
        records.studies[index_number] = study
        return study
    if study.year != year:
        raise row.fail(
            "Year",
            f"study {index_number!r} has year {year} here but {study.year} on row {study.rows[0]}",
        )
    study.methods |= methods
    study.rows.append(row.record)
    if citation not in study.citations:
        study.citations.append(citation)
    return study
