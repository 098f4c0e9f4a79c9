"""A curator's contribution -> records, checked by the importer's own rules.

A contribution is a folder of its own (``data/contributions/<id>/``): ``records.csv``, study-level
records in the layout of the latest release's ``all_sources_N.csv`` (the columns the importer
reads), an optional ``bibliography.csv`` in the layout of ``zotero_N.csv`` for the studies it adds,
and ``contribution.json``, who made it, when, why and from which file. Its rows are read exactly
as a release's sources are (``ushmm.read_source_rows``): a factor must be one the latest release
describes, a tool one the curated data knows, every coded value one of the code book's. Every
error names the file, row and column.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from atrocity_kg.errors import ContributionFormatError, ReleaseFormatError, SourceLocation
from atrocity_kg.ingest.bibformats import as_zotero_csv, is_converted
from atrocity_kg.ingest.csvfiles import read_rows
from atrocity_kg.ingest.releases import ReleaseSpec, draft_code, spec_of
from atrocity_kg.ingest.ushmm import (
    SOURCE_COLUMNS_COMMON,
    ReleaseRecords,
    StudyRecord,
    ToolCatalogue,
    apply_bibliography,
    read_source_rows,
)
from atrocity_kg.ingest.zotero import Bibliography, read_bibliography

RECORDS_FILE = "records.csv"
BIBLIOGRAPHY_FILE = "bibliography.csv"
METADATA_FILE = "contribution.json"
SOURCE_PREFIX = "contributions"
"""Where a contribution's files lie inside data/, as its findings' akg:sourceFile says."""


@dataclass(frozen=True)
class ContributionMeta:
    """What ``contribution.json`` says: the contribution's id (its folder's name), its curator,
    when it was made (UTC, ISO 8601), the curator's note, and the names of the files given."""

    id: str
    curator: str
    created: str
    note: str
    records_source: str
    bibliography_source: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, file: str) -> ContributionMeta:
        try:
            data = json.loads(text)
            meta = cls(**data)
        except (ValueError, TypeError) as error:
            raise ContributionFormatError(
                SourceLocation(file), f"not a contribution's metadata: {error}"
            ) from None
        for name in ("id", "curator", "created", "records_source"):
            if not isinstance(getattr(meta, name), str) or not getattr(meta, name):
                raise ContributionFormatError(
                    SourceLocation(file, column=name), "a value is required here"
                )
        return meta

    @property
    def records_file(self) -> str:
        """Its records as a path inside data/ (the findings' akg:sourceFile)."""
        return f"{SOURCE_PREFIX}/{self.id}/{RECORDS_FILE}"

    @property
    def bibliography_name(self) -> str | None:
        """The bibliography's name in the contribution's folder: bibliography.csv, or .bib or
        .ris as it was given."""
        if self.bibliography_source is None:
            return None
        suffix = Path(self.bibliography_source).suffix.lower()
        return BIBLIOGRAPHY_FILE if not is_converted(suffix) else f"bibliography{suffix}"

    @property
    def bibliography_file(self) -> str | None:
        name = self.bibliography_name
        return None if name is None else f"{SOURCE_PREFIX}/{self.id}/{name}"


def _read_bibliography(root: Path, relative: str) -> Bibliography:
    """A bibliography in the Zotero layout, or in BibTeX or RIS read as if it were (its rows
    are its entries), under the name it was given."""
    if not is_converted(relative):
        return read_bibliography(root, relative)
    converted = as_zotero_csv(root / relative, relative)
    with tempfile.TemporaryDirectory(prefix="bibliography-") as folder:
        target = Path(folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(converted)
        return read_bibliography(Path(folder), relative)


def new_id(records: bytes, now: datetime) -> str:
    """A contribution's id: when it was made (so ids sort by age) and a digest of its records."""
    digest = hashlib.sha256(records).hexdigest()[:8]
    return f"{now.astimezone(UTC):%Y%m%d-%H%M%S}-{digest}"


def timestamp(now: datetime) -> str:
    return now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DraftBase:
    """What contributions are read against: the latest release (its code, and the factor codes
    its factors file describes), the index numbers of every release's studies, and the tools
    and code book of the curated data."""

    latest: str
    factors: frozenset[str]
    studies: frozenset[str]
    tools: ToolCatalogue
    spec: ReleaseSpec | None = None
    """The latest release as imported (its folder), where the store says; else as known."""

    @property
    def latest_spec(self) -> ReleaseSpec:
        return self.spec if self.spec is not None else spec_of(self.latest)

    @property
    def draft(self) -> str:
        return draft_code(self.latest_spec)


@dataclass
class ContributionRecords:
    """One contribution, read: its metadata and its studies and findings (as a release's are)."""

    meta: ContributionMeta
    records: ReleaseRecords
    new_studies: list[str] = field(default_factory=list)
    """The index numbers of the studies no release has, in the order of their first row."""
    shown_file: str = RECORDS_FILE
    """The records file as errors name it (the name it was read under)."""

    @property
    def studies(self) -> dict[str, StudyRecord]:
        return self.records.studies


def read_contribution(
    meta: ContributionMeta,
    base: DraftBase,
    records: tuple[Path, str],
    bibliography: tuple[Path, str] | None = None,
) -> ContributionRecords:
    """Read a contribution's records (and bibliography), each given as (folder, path inside it:
    the name its errors show). Raises ContributionFormatError naming file, row and column."""
    spec = base.latest_spec
    draft = ReleaseSpec(
        base.draft,
        spec.number + 1,
        SOURCE_PREFIX,
        "",
        f"{base.draft}: {base.latest} and the contributions made since",
    )
    read = ReleaseRecords(draft)
    root, relative = records
    try:
        rows = read_rows(root, relative, SOURCE_COLUMNS_COMMON)
        read_source_rows(rows, read, base.tools, base.factors, spec.factors_file)
        if not read.studies:
            raise ReleaseFormatError(
                SourceLocation(relative, line=2), "a contribution needs at least one record"
            )
        if bibliography is not None:
            apply_bibliography(_read_bibliography(*bibliography), read)
    except ContributionFormatError:
        raise
    except ReleaseFormatError as error:
        raise ContributionFormatError(error.location, error.problem) from None
    # The graph traces each node to the contribution's own copy of the file, whatever its name
    # was when the curator gave it.
    for study in read.studies.values():
        study.file = meta.records_file
    for finding in read.findings.values():
        finding.file = meta.records_file
    new = [number for number in read.studies if number not in base.studies]
    return ContributionRecords(meta, read, new, relative)
