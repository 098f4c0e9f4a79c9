"""One exception tree, so that the CLI and the API can report any failure in one line."""

from __future__ import annotations

from dataclasses import dataclass


class AtrocityKGError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass
class SourceLocation:
    """Where in an input file a problem sits; any part may be unknown."""

    file: str
    row: int | None = None
    column: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class ReleaseFormatError(AtrocityKGError):
    """A release file is missing or malformed; nothing was written."""

    def __init__(self, location: SourceLocation, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


class ContributionError(AtrocityKGError):
    """A contribution cannot be made, listed or withdrawn; nothing was written."""


class ContributionFormatError(ReleaseFormatError, ContributionError):
    """A contribution's file breaks the importer's rules (named by file, row and column);
    nothing was written."""


class GraphValidationError(AtrocityKGError):
    """The graph does not conform to the shapes; the store was left as it was."""


class StoreError(AtrocityKGError):
    """The store is missing, locked or unreadable."""


class QueryError(AtrocityKGError):
    """A query is malformed, or a parameter does not fit its declared type."""
