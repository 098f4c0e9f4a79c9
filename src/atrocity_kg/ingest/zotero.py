"""The review's bibliography (its Zotero export, auxiliary/<release>/zotero_N.csv) -> one
bibliographic record per document it names, checked row by row.

An entry names the review's documents (index numbers) in its ``Extra`` field,
``documentName: Mediation.29; Peace Ops.050``: one publication can be several documents, one
per tool the review coded it for. The bibliography describes the publication, not a release,
so the importer applies the newest one the folder has to the studies of every release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from atrocity_kg.ingest.csvfiles import Row, read_rows
from atrocity_kg.ingest.quirks import known_duplicate, known_quirk

COLUMNS = (
    "Key",
    "Publication Year",
    "Author",
    "Editor",
    "Title",
    "Publication Title",
    "DOI",
    "Extra",
)
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:?\s*)", re.IGNORECASE)
# Zotero keeps such fields as 'name: value' lines of Extra.
_DOCUMENT_NAME = re.compile(r"^\s*documentName:(.*)$", re.MULTILINE)


@dataclass
class BibliographicRecord:
    """One bibliography entry: the publication, as Zotero describes it. ``creators`` are its
    authors only; the editors (of an edited book, or of the book a chapter is in) are apart."""

    zotero_key: str
    title: str | None
    creators: list[str]
    editors: list[str]
    venue: str | None
    doi: str | None
    year: int | None
    file: str
    row: int

    def description(self) -> tuple[object, ...]:
        """What two entries must share to describe a document alike (the key aside)."""
        return (self.title, self.creators, self.editors, self.venue, self.doi, self.year)


@dataclass
class Bibliography:
    file: str
    records: dict[str, BibliographicRecord] = field(default_factory=dict)
    quirks: list[str] = field(default_factory=list)


def normalise_doi(value: str) -> str:
    return _DOI_PREFIX.sub("", value.strip()).strip().rstrip(".")


def document_names(row: Row) -> list[str]:
    """The documents an entry names, each trimmed, in order, once each."""
    names: list[str] = []
    for line in _DOCUMENT_NAME.findall(row.text("Extra") or ""):
        for name in line.split(";"):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def _names(row: Row, column: str) -> list[str]:
    return [name.strip() for name in (row.text(column) or "").split(";") if name.strip()]


def _doi(row: Row, documents: list[str], file_name: str, quirks: list[str]) -> str | None:
    raw = row.text("DOI")
    if raw is None:
        return None
    candidate = normalise_doi(raw)
    if DOI_PATTERN.match(candidate):
        return candidate
    for document in documents:
        quirk = known_quirk(file_name, document, "DOI")
        if quirk:
            quirks.append(f"{row.file}, row {row.record}, column DOI: {quirk}")
            return None
    raise row.fail("DOI", f"{raw!r} is not a DOI (10.<registrant>/<suffix>)")


def _record(
    row: Row, documents: list[str], file_name: str, quirks: list[str]
) -> BibliographicRecord:
    return BibliographicRecord(
        zotero_key=row.required("Key"),
        title=row.text("Title"),
        creators=_names(row, "Author"),
        editors=_names(row, "Editor"),
        venue=row.text("Publication Title"),
        doi=_doi(row, documents, file_name, quirks),
        year=row.integer("Publication Year"),
        file=row.file,
        row=row.record,
    )


_FIELDS = ("title", "creators", "editors", "venue", "DOI", "year")


def _one_of(
    document: str,
    known: BibliographicRecord,
    new: BibliographicRecord,
    row: Row,
    file_name: str,
    quirks: list[str],
) -> BibliographicRecord:
    """The entry that describes a document two entries name: either, when they agree; the one
    KNOWN_DUPLICATES keeps; else the import stops, naming both rows."""
    both = f"rows {known.row} ({known.zotero_key}) and {new.row} ({new.zotero_key})"
    if known.description() == new.description():
        quirks.append(
            f"{row.file}, row {new.row}, column Extra: {both} both name {document!r} and "
            f"describe it alike; row {known.row}'s key is kept"
        )
        return known
    resolution = known_duplicate(file_name, document)
    if resolution is None:
        differ = [
            name
            for name, a, b in zip(_FIELDS, known.description(), new.description(), strict=True)
            if a != b
        ]
        raise row.fail(
            "Extra",
            f"document {document!r} is named by {both}, which describe it differently "
            f"({', '.join(differ)}); one entry must describe a document",
        )
    kept_key, why = resolution
    kept = next((r for r in (known, new) if r.zotero_key == kept_key), None)
    if kept is None:
        raise row.fail(
            "Extra",
            f"document {document!r} is named by {both}; the entry to keep, {kept_key}, is neither",
        )
    quirks.append(
        f"{row.file}, row {new.row}, column Extra: {both} both name {document!r}; "
        f"row {kept.row} ({kept.zotero_key}) is kept: {why}"
    )
    return kept


def read_bibliography(root: Path, relative: str) -> Bibliography:
    """Every document the bibliography names, with its entry. A document need not be a study
    of the release being read: it may be one of another release."""
    bibliography = Bibliography(relative)
    file_name = relative.rsplit("/", 1)[-1]
    named = bibliography.records
    for row in read_rows(root, relative, COLUMNS):
        documents = document_names(row)
        if not documents:
            continue
        record = _record(row, documents, file_name, bibliography.quirks)
        for document in documents:
            known = named.get(document)
            named[document] = (
                record
                if known is None
                else _one_of(document, known, record, row, file_name, bibliography.quirks)
            )
    return bibliography
