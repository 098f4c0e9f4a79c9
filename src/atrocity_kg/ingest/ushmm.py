"""USHMM release folder -> plain records, checked row by row.

The folder is laid out like the upstream repository ushmm/atrocity-prevention-data. Only facts are
read (codes, names, numbers, titles, authors, DOIs); the review's prose columns are never touched.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from atrocity_kg.errors import ReleaseFormatError, SourceLocation
from atrocity_kg.ingest.codebook import METHOD_COLUMNS, CodeBook, class_reading
from atrocity_kg.ingest.columns import (
    CITING_NET,
    INTERVIEWED,
    PRACTITIONER_GREATER,
    PRACTITIONER_LESSER,
    PRACTITIONER_NO_OR_MIXED,
    PROVISIONAL_SCORE,
    RESEARCH_COUNTS,
    SCORE,
    SHARE,
    STRATEGY_COLUMNS,
)
from atrocity_kg.ingest.csvfiles import Row, read_rows
from atrocity_kg.ingest.factors import Match, reconcile
from atrocity_kg.ingest.layout import known_columns
from atrocity_kg.ingest.releases import RELEASES, ReleaseSpec, discover
from atrocity_kg.ingest.zotero import BibliographicRecord, Bibliography, read_bibliography

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
    """What the import needs of the curated data: the tools it knows, by the review's code and
    by name (both -> tool slug), and the code book of the coded values (``codebook.py``)."""

    by_code: Mapping[str, str]
    by_name: Mapping[str, str]
    codes: CodeBook

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
    """Read one release (V1, V2, V3, or a newer one the folder holds) from a folder laid out like
    the upstream repository; a column the code book does not know fails as a value does."""
    records = ReleaseRecords(release_in(root, code))
    _read_guide(root, records)
    _read_factors(root, records, tools)
    _read_sources(root, records, tools)
    relative = bibliography_file(root, records.spec)
    if relative is not None:
        apply_bibliography(read_bibliography(root, relative), records)
    return records


def release_in(root: Path, code: str) -> ReleaseSpec:
    """The release ``code`` as the folder holds it; a known release the folder lacks is still
    named, so that the error is the missing file's."""
    found = discover(root)
    if code in found:
        return found[code]
    if code in RELEASES:
        return RELEASES[code]
    held = ", ".join(found) or "none"
    raise ReleaseFormatError(
        SourceLocation(str(root)),
        f"no release {code!r} here (no data/{code} - .../all_sources_N.csv); releases: {held}",
    )


def bibliography_file(root: Path, spec: ReleaseSpec) -> str | None:
    """The newest bibliography the folder has (it describes publications, which do not change
    with the release), else the release's own, which must then be there, else none."""
    for newer in reversed(discover(root).values()):
        relative = newer.bibliography_file
        if relative is not None and (root / relative).is_file():
            return relative
    return spec.bibliography_file


def apply_bibliography(bibliography: Bibliography, records: ReleaseRecords) -> None:
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
    for row in read_rows(root, relative, GUIDE_COLUMNS, known_columns("guide")):
        if (row.text("Type") or "").lower() != "factor":
            continue
        _keep_factor(row, GUIDE_FACTOR_COLUMNS, records)


def _factor_kind(row: Row, column: str) -> str:
    kind = row.choice(column, class_reading("factor kind"))
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
    for row in read_rows(root, relative, FACTOR_COLUMNS_COMMON, known_columns("factors")):
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
        _read_research_rating(row, tool, key, records, tools.codes)
        _read_practitioner_rating(row, tool, key, records, tools.codes)


def _read_stated_strategies(row: Row, tool: str, records: ReleaseRecords) -> None:
    flags = {column: row.flag(column) for column in STRATEGY_COLUMNS}
    if all(flag is None for flag in flags.values()):
        return
    stated = {key for key, flag in flags.items() if flag}
    known = records.stated_strategies.setdefault(tool, stated)
    if known != stated:
        raise row.fail(
            "dissuade",
            f"the tool's strategies {sorted(stated)} differ from {sorted(known)} on an earlier row",
        )


def _read_research_rating(
    row: Row, tool: str, key: str, records: ReleaseRecords, codes: CodeBook
) -> None:
    count = row.count(RESEARCH_COUNTS[0].header)
    if count is None:
        return
    counts = {}
    for column in RESEARCH_COUNTS:
        value = row.count(column.header)
        if value is None:
            raise row.fail(column.header, "a count is required where the factor has findings")
        counts[column.key] = value
    provisional = row.number(PROVISIONAL_SCORE.header)
    score = row.number(SCORE.header)
    level = row.choice("research_qualitative", codes.reading("research_qualitative"))
    if provisional is None or score is None or level is None:
        missing = (
            PROVISIONAL_SCORE.header
            if provisional is None
            else (SCORE.header if score is None else "research_qualitative")
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


def _read_practitioner_rating(
    row: Row, tool: str, key: str, records: ReleaseRecords, codes: CodeBook
) -> None:
    interviewed = row.count(INTERVIEWED.header)
    if interviewed is None:
        return
    citing = row.number(CITING_NET.header)
    share = row.number(SHARE.header)
    level = row.choice("practitioner_qualitative", codes.reading("practitioner_qualitative"))
    if share is None or level is None:
        raise row.fail(
            SHARE.header if share is None else "practitioner_qualitative",
            "an interview result needs its share and level",
        )
    greater, lesser, no_or_mixed = (
        row.count(column.header) if column.header in row.values else None
        for column in (PRACTITIONER_GREATER, PRACTITIONER_LESSER, PRACTITIONER_NO_OR_MIXED)
    )
    rating = PractitionerRating(
        tool,
        key,
        interviewed,
        citing,
        greater,
        lesser,
        no_or_mixed,
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
    rows = read_rows(root, relative, SOURCE_COLUMNS_COMMON, known_columns("sources"))
    read_source_rows(rows, records, tools, records.factors, records.spec.factors_file)


def read_source_rows(
    rows: Iterable[Row],
    records: ReleaseRecords,
    tools: ToolCatalogue,
    factors: Container[str],
    factors_file: str,
) -> None:
    """Study-level records (the layout of all_sources_N.csv) -> studies and findings, each row
    checked by the importer's rules; a factor must be one of ``factors`` (those described in
    ``factors_file``). A release's own sources and a contribution are read alike."""
    codes = tools.codes
    for row in rows:
        study = _read_study(row, records, codes)
        tool = tools.resolve(row, ("Tool",), "Tool")
        kind = (
            row.choice("effects_type", class_reading("effects_type"))
            if "effects_type" in row.values
            else "factor"
        )
        outcome = row.choice("Outcome", codes.reading("Outcome"))
        if outcome is None:
            raise row.fail("Outcome", "a finding needs an outcome")
        if kind == "overall":
            factor = None
            direction = row.choice("overall", codes.reading("overall"))
            direction_column = "overall"
        else:
            factor = row.required("CD")
            if factor not in factors:
                raise row.fail("CD", f"factor {factor!r} is not described in {factors_file}")
            direction = row.choice("Factor_effect", codes.reading("Factor_effect"))
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


def _read_study(row: Row, records: ReleaseRecords, codes: CodeBook) -> StudyRecord:
    index_number = row.required("Index.Number")
    year = row.integer("Year")
    if year is None:
        raise row.fail("Year", "a study needs its year")
    methods = {
        method
        for column in METHOD_COLUMNS
        if (method := row.choice(column, codes.reading(column))) is not None
    }
    publication = row.choice("Publication", codes.reading("Publication"))
    empirical = row.choice("Empirical", codes.reading("Empirical"))
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
