"""Reading the release's CSV files strictly: every problem names the file, row and column, and
no input (oversized, binary, badly quoted) gets past as a raw csv.Error or a MemoryError."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from atrocity_kg.errors import ReleaseFormatError, SourceLocation

MISSING = {"", "NA"}
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 1024 * 1024


def fold(value: str) -> str:
    """A coded value as values are compared: spaces collapsed, case ignored (the code book's
    spellings and the cells of the files alike)."""
    return " ".join(value.split()).lower()


@dataclass(frozen=True)
class Row:
    """One data record of a release file, with where it came from."""

    file: str
    record: int
    values: dict[str, str]

    def where(self, column: str | None = None) -> SourceLocation:
        return SourceLocation(self.file, self.record, column)

    def fail(self, column: str | None, problem: str) -> ReleaseFormatError:
        return ReleaseFormatError(self.where(column), problem)

    def text(self, column: str) -> str | None:
        """The stripped value, or None where the release writes NA or nothing."""
        value = self.values.get(column)
        if value is None:
            return None
        value = value.strip()
        return None if value in MISSING else value

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise self.fail(column, "a value is required here, found NA or nothing")
        return value

    def number(self, column: str) -> Decimal | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise self.fail(column, f"expected a number, found {value!r}") from None
        if not result.is_finite():
            raise self.fail(column, f"expected a finite number, found {value!r}")
        return result

    def integer(self, column: str) -> int | None:
        value = self.number(column)
        if value is None:
            return None
        if value != value.to_integral_value():
            raise self.fail(column, f"expected a whole number, found {self.values[column]!r}")
        return int(value)

    def count(self, column: str) -> int | None:
        value = self.integer(column)
        if value is not None and value < 0:
            raise self.fail(column, f"expected a count (0 or more), found {value}")
        return value

    def flag(self, column: str) -> bool | None:
        value = self.text(column)
        if value is None:
            return None
        lowered = value.lower()
        if lowered in {"1", "yes", "true"}:
            return True
        if lowered in {"0", "no", "false"}:
            return False
        raise self.fail(column, f"expected 1/0 or Yes/No, found {value!r}")

    def choice(self, column: str, allowed: dict[str, str]) -> str | None:
        """Map a coded value to its key; an unknown code is an error, not a new term."""
        value = self.text(column)
        if value is None:
            return None
        key = allowed.get(fold(value))
        if key is None:
            known = ", ".join(sorted({k for k in allowed}))
            raise self.fail(column, f"unknown value {value!r} (expected one of: {known})")
        return key


def decode(path: Path, display: str) -> str:
    """UTF-8 as most release files are; one older file is Windows-1252.

    At most one byte over the limit is read, so a file that grows, or lies about its size,
    cannot fill memory.
    """
    with path.open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ReleaseFormatError(
            SourceLocation(display),
            f"file is over the limit of {MAX_FILE_BYTES} bytes; a release file is far smaller",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ReleaseFormatError(
            SourceLocation(display), f"not UTF-8 or Windows-1252 text (byte {error.start})"
        ) from None


def _csv_problem(error: csv.Error) -> str:
    """The csv module's message, with its field limit said plainly."""
    if "field larger than field limit" in str(error):
        return f"a field is longer than {MAX_FIELD_CHARS} characters (is a quote left open?)"
    return f"bad CSV: {error}"


def read_rows(
    root: Path,
    relative: str,
    required_columns: Sequence[str],
    known_columns: Collection[str] | None = None,
) -> Iterator[Row]:
    """Yield the records of one release file after checking that it exists and has its columns
    (and, given ``known_columns``, none other: a column the code book does not know)."""
    path = root / relative
    if not path.is_file():
        raise ReleaseFormatError(SourceLocation(relative), f"missing file (looked in {root})")
    # The limit is process-wide in the csv module; setting it here keeps it whatever else ran.
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(decode(path, relative), newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ReleaseFormatError(SourceLocation(relative, line=1), "empty file") from None
    except csv.Error as error:
        raise ReleaseFormatError(SourceLocation(relative, line=1), _csv_problem(error)) from None
    if any("\x00" in name for name in header):
        raise ReleaseFormatError(SourceLocation(relative, line=1), "NUL byte in the header")
    names = [name.strip() for name in header]
    absent = [column for column in required_columns if column not in names]
    if absent:
        raise ReleaseFormatError(
            SourceLocation(relative, line=1, column=absent[0]),
            "missing column" + ("s " if len(absent) > 1 else " ") + ", ".join(map(repr, absent)),
        )
    unknown = [name for name in names if known_columns is not None and name not in known_columns]
    if unknown:
        raise ReleaseFormatError(
            SourceLocation(relative, line=1, column=unknown[0]),
            f"unknown column {unknown[0]!r} in the header row: no release's file of this kind "
            "has it, and the importer would pass it over; the code book (ingest/layout.py) must "
            "learn it first"
            + (f" (also new: {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else ""),
        )
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ReleaseFormatError(
                SourceLocation(relative, number + 1, line=reader.line_num), _csv_problem(error)
            ) from None
        if not any(cell.strip() for cell in cells):
            continue
        number += 1
        if len(cells) != len(names):
            raise ReleaseFormatError(
                SourceLocation(relative, number, line=reader.line_num),
                f"expected {len(names)} fields, found {len(cells)}",
            )
        for name, cell in zip(names, cells, strict=True):
            if "\x00" in cell:
                raise ReleaseFormatError(
                    SourceLocation(relative, number, name, line=reader.line_num),
                    "NUL byte in the value (is this a binary file?)",
                )
        yield Row(relative, number, dict(zip(names, cells, strict=True)))
