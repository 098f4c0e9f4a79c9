"""Which factor a row of the ratings file means: one key per factor of the review, across files
and releases.

The review's code book (``analytic_guide_N.csv``) keys its factors by a coding label (the Dedoose
name). The ratings file (``all_factors_N.csv``) gives that label on research rows, but its rows
for factors only practitioners cite carry a name and no label; keyed by that name, one factor of
the code book would get two IRIs (``implementer-leverage`` and ``implementer-has-strong-leverage``)
and a factor renamed between releases two more. Such a row is reconciled, in this order:

1. ``name``: its name is the name of exactly one factor of a code book (this release's first,
   then the earlier ones');
2. ``description``: its description is the description of exactly one such factor;
3. ``earlier-name`` / ``earlier-description``: an unlabelled row of an earlier release in the
   folder has the same name or description, whose key it takes (so a factor keeps the key it was
   first published under);
4. otherwise it is a factor of its own, keyed by its name.

Descriptions are compared in memory and never kept (they are the review's prose). Each match
records its basis and the key the row had before reconciliation, so the graph can say which IRI
replaced which and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from atrocity_kg.ingest.csvfiles import Row, read_rows
from atrocity_kg.ingest.releases import RELEASES, ReleaseSpec, discover
from atrocity_kg.model import iris

GUIDE_CODE = "Dedoose name"
RATING_CODE = "Dedoose.name_factor"
DESCRIPTION = "Description"


def normal(text: str) -> str:
    """A name or description as compared: case, runs of white space and a final full stop
    ignored."""
    return " ".join(text.split()).casefold().rstrip(".").strip()


@dataclass(frozen=True)
class Match:
    """The key a ratings row's factor gets, why, and the key it had as a name of its own."""

    key: str
    basis: str
    former_key: str | None = None


@dataclass
class _CodeBook:
    """One release's code book: its factors' labels by name and by description."""

    by_name: dict[str, set[str]] = field(default_factory=dict)
    by_description: dict[str, set[str]] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        code = row.text(GUIDE_CODE)
        name = row.text("Name")
        if code is None or name is None:
            return
        self.by_name.setdefault(normal(name), set()).add(code)
        description = row.text(DESCRIPTION)
        if description is not None:
            self.by_description.setdefault(normal(description), set()).add(code)


@dataclass
class _Unlabelled:
    """Keys given to unlabelled rows of the releases read so far, by name and description."""

    by_name: dict[str, str] = field(default_factory=dict)
    by_description: dict[str, str] = field(default_factory=dict)


def _only(found: set[str] | None) -> str | None:
    return next(iter(found)) if found is not None and len(found) == 1 else None


def _matched(key: str, basis: str, name: str) -> Match:
    """A match; the name is a former key only where it made another IRI than the key does (a
    name can make the code's own IRI: 'Humanitarian exemptions' and 'Humanitarian_exemptions')."""
    return Match(key, basis, name if iris.slug(name) != iris.slug(key) else None)


def _match(row: Row, books: list[_CodeBook], earlier: _Unlabelled) -> Match:
    name = row.required("Name")
    description = row.text(DESCRIPTION)
    for book in books:
        code = _only(book.by_name.get(normal(name)))
        if code is not None:
            return _matched(code, "name", name)
    if description is not None:
        for book in books:
            code = _only(book.by_description.get(normal(description)))
            if code is not None:
                return _matched(code, "description", name)
    key = earlier.by_name.get(normal(name))
    if key is not None:
        return _matched(key, "earlier-name", name)
    if description is not None:
        key = earlier.by_description.get(normal(description))
        if key is not None:
            return _matched(key, "earlier-description", name)
    return Match(name, "own")


def _number(spec: ReleaseSpec) -> int:
    return spec.number


def reconcile(root: Path, spec: ReleaseSpec) -> dict[int, Match]:
    """The factor key of each unlabelled row (by record number) of ``spec``'s ratings file,
    reading the code books and ratings files of the earlier releases the folder holds too."""
    earlier = _Unlabelled()
    books: list[_CodeBook] = []
    matches: dict[int, Match] = {}
    # The known releases and those the folder holds (where its folder is named), oldest first.
    releases = {**RELEASES, **discover(root)}
    before = sorted((r for r in releases.values() if r.number < spec.number), key=_number)
    for release in [*before, spec]:
        if release is not spec and not (root / release.factors_file).is_file():
            continue
        book = _CodeBook()
        for row in read_rows(root, release.guide_file, ("Name", "Type", GUIDE_CODE)):
            if (row.text("Type") or "").lower() == "factor":
                book.add(row)
        books.insert(0, book)
        found: dict[int, Match] = {}
        for row in read_rows(root, release.factors_file, ("Name", RATING_CODE)):
            if row.text(RATING_CODE) is None and row.text("Name") is not None:
                found[row.record] = _match(row, books, earlier)
                earlier.by_name.setdefault(normal(row.required("Name")), found[row.record].key)
                description = row.text(DESCRIPTION)
                if description is not None:
                    earlier.by_description.setdefault(normal(description), found[row.record].key)
        matches = found
    return matches
