"""The USHMM releases: code, number, folder and date of each, and where its files lie in a folder
laid out like the upstream repository. The one source every other module (importer, exporter,
writes, command line) derives its releases from.

The releases published so far are written out here with their dates and titles. A newer one is
found in the folder it comes in (``data/V4 - 2026/all_sources_4.csv`` is release V4), its date
and title read from the folder's name, so that a new release needs no edit of the code; once
imported, the release graphs in data/ushmm say which releases the build holds.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from atrocity_kg.errors import ReleaseFormatError, SourceLocation

CODE_PATTERN = r"V[1-9][0-9]*"
"""A published release's code: V and its number (the API checks a parameter against it)."""
_CODE = re.compile(rf"^{CODE_PATTERN}$")
_FOLDER = re.compile(r"^V([1-9][0-9]*) - (.+)$")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")
_MONTHS = {name.casefold(): number for number, name in enumerate(calendar.month_name) if name}
TITLE = "Tools for Atrocity Prevention data, {code} ({year})"


@dataclass(frozen=True)
class ReleaseSpec:
    code: str
    number: int
    folder: str
    issued: str
    title: str

    @property
    def issued_month(self) -> bool:
        """Whether ``issued`` names a month (xsd:gYearMonth, 2025-04) or only a year (xsd:gYear,
        a new release whose folder names no month)."""
        return "-" in self.issued

    @property
    def sources_file(self) -> str:
        return f"data/{self.folder}/all_sources_{self.number}.csv"

    @property
    def factors_file(self) -> str:
        return f"data/{self.folder}/all_factors_{self.number}.csv"

    @property
    def guide_file(self) -> str:
        return f"auxiliary/{self.folder}/analytic_guide_{self.number}.csv"

    @property
    def bibliography_file(self) -> str | None:
        """The bibliography this release ships (V3 on); every release uses the newest one."""
        return f"auxiliary/{self.folder}/zotero_{self.number}.csv" if self.number >= 3 else None


RELEASES: dict[str, ReleaseSpec] = {
    spec.code: spec
    for spec in (
        ReleaseSpec("V1", 1, "V1 - 2022", "2022-07", TITLE.format(code="V1", year=2022)),
        ReleaseSpec("V2", 2, "V2 - 2024", "2024-04", TITLE.format(code="V2", year=2024)),
        ReleaseSpec("V3", 3, "V3 - 2025_April", "2025-04", TITLE.format(code="V3", year=2025)),
    )
}
"""The releases published when this was written, with the dates USHMM gives them."""

DRAFT_SUFFIX = "-draft"
ALL = "all"


def is_release_code(code: str) -> bool:
    """Whether ``code`` is a published release's code (V and a number), known or not."""
    return _CODE.match(code) is not None


def release_number(code: str) -> int:
    """V4 -> 4; anything else is refused with what a code looks like."""
    if not is_release_code(code):
        raise ValueError(f"{code!r} is not a release code (V and a number: V1, V2, V4 ...)")
    return int(code[1:])


def normal_code(text: str) -> str:
    """A release code as typed (v4, ' V4') -> as the releases spell it (V4); refused with a
    clear message when it is not one."""
    code = text.strip().upper()
    if not is_release_code(code):
        raise ValueError(f"{text!r} is not a release code (V and a number: V1, V2, V4 ...)")
    return code


def sort_codes(codes: Iterable[str]) -> list[str]:
    """Release codes oldest first (V2 before V10); anything else after them, by name."""

    def position(code: str) -> tuple[int, str]:
        return (release_number(code) if is_release_code(code) else 1 << 30, code)

    return sorted(codes, key=position)


def from_folder(folder: str) -> ReleaseSpec:
    """The release a folder of ``data/`` holds, by its name ('V4 - 2026'): a known release keeps
    its written date and title; a new one gets the year (and month, where the name spells one:
    'V3 - 2025_April') of its name, and a title in the pattern of the others."""
    match = _FOLDER.match(folder)
    if match is None:
        raise ReleaseFormatError(
            SourceLocation(f"data/{folder}"), "not a release folder (named 'V<n> - <date>')"
        )
    code = f"V{match.group(1)}"
    known = RELEASES.get(code)
    if known is not None:
        return replace(known, folder=folder)
    year = _YEAR.search(match.group(2))
    if year is None:
        raise ReleaseFormatError(
            SourceLocation(f"data/{folder}"),
            f"release {code} is new, and its folder name gives no year to date it by "
            "(name it like 'V4 - 2026' or 'V4 - 2026_April')",
        )
    words = re.split(r"[^A-Za-z]+", match.group(2))
    month = next((_MONTHS[w.casefold()] for w in words if w.casefold() in _MONTHS), None)
    issued = year.group(1) if month is None else f"{year.group(1)}-{month:02d}"
    title = TITLE.format(code=code, year=year.group(1))
    return ReleaseSpec(code, int(match.group(1)), folder, issued, title)


def discover(root: Path) -> dict[str, ReleaseSpec]:
    """The releases a folder laid out like the upstream repository holds (each a
    ``data/V<n> - …/all_sources_<n>.csv``), oldest first."""
    found: dict[str, ReleaseSpec] = {}
    data = root / "data"
    folders = sorted(data.iterdir()) if data.is_dir() else []
    for folder in folders:
        match = _FOLDER.match(folder.name)
        if match is None or not (folder / f"all_sources_{match.group(1)}.csv").is_file():
            continue
        spec = from_folder(folder.name)
        if spec.code in found:
            raise ReleaseFormatError(
                SourceLocation(f"data/{folder.name}"),
                f"release {spec.code} is in two folders, this one and "
                f"data/{found[spec.code].folder}",
            )
        found[spec.code] = spec
    return {code: found[code] for code in sort_codes(found)}


def spec_of(code: str, sources: Iterable[str] = ()) -> ReleaseSpec:
    """The release ``code`` names: a known one, or one the project learnt of by importing it,
    whose folder one of its ``sources`` (the files its graph names, ``dct:source``) gives."""
    number = release_number(code)
    for source in sources:
        parts = source.split("/")
        if len(parts) == 3 and parts[0] == "data" and parts[2] == f"all_sources_{number}.csv":
            return from_folder(parts[1])
    known = RELEASES.get(code)
    if known is not None:
        return known
    return ReleaseSpec(code, number, f"V{number} - ?", "", TITLE.format(code=code, year="?"))


def latest_release(codes: Iterable[str] | None = None) -> ReleaseSpec:
    """The newest of ``codes`` (the releases imported, or a store's), else of the known ones."""
    chosen = [spec_of(code) for code in codes] if codes is not None else list(RELEASES.values())
    if not chosen:
        raise ValueError("no release to choose the latest from")
    return max(chosen, key=lambda spec: spec.number)


def draft_code(latest: ReleaseSpec | None = None) -> str:
    """The code of the draft release that gathers the contributions made since ``latest`` (the
    newest known release by default): the next release's code with ``-draft``, e.g. V4-draft."""
    spec = latest if latest is not None else latest_release()
    return f"V{spec.number + 1}{DRAFT_SUFFIX}"


def is_draft_code(code: str) -> bool:
    return code.endswith(DRAFT_SUFFIX)
