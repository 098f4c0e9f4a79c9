"""The review's known slips, and what the importer does with each: the one table of them.

Anything not listed here that fails a check stops the import with its file, row and column;
what is listed is handled as said and reported on every import that meets it.
"""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^(.*_)([1-9][0-9]*)(\.csv)$")

# Wrong values, keyed by file, study (index number) and column.
KNOWN_QUIRKS: dict[tuple[str, str, str], str] = {
    ("zotero_3.csv", "Targeted Sanctions.22", "DOI"): (
        "the DOI field holds an author's name ('Wallensteen'); the DOI is left out"
    ),
}

# Documents that two bibliography entries name, describing them differently: keyed by file and
# index number, the Zotero key of the entry kept and why. One entry describes one publication,
# so the kept one is the publication the review coded.
KNOWN_DUPLICATES: dict[tuple[str, str], tuple[str, str]] = {
    ("zotero_3.csv", "Peace Ops.050"): (
        "KAEKZQ8Y",
        "both entries give the same DOI; the kept one is the entry Mediation.29 names too, and "
        "its journal title lacks the other's stray word 'volume'",
    ),
    ("zotero_3.csv", "External Support NSAGs.04"): (
        "RK9XZUBH",
        "the other entry (and the release's citation) is the journal's one-page erratum to this "
        "article; the kept entry is the article, which Military Intervention.026 names too",
    ),
    ("zotero_3.csv", "Mediation.45"): (
        "G5U3H89E",
        "the same paper saved twice, as a web page and as a report; the kept entry is the "
        "report, the later one, which the release's citation follows",
    ),
    ("zotero_3.csv", "Military Intervention.055"): (
        "2AJVAC5J",
        "the journal article and the dissertation it came from; the kept entry is the article",
    ),
}


def file_names_of(file_name: str) -> list[str]:
    """Where a slip of ``file_name`` may be listed: under its own name, then under the names of
    the earlier releases' files of its kind (zotero_4.csv: zotero_3.csv ...), since a newer
    release that ships an entry unchanged ships its slip too (a duplicate is still checked by
    the Zotero key it keeps, a DOI only where the value is no DOI)."""
    match = _NUMBERED.match(file_name)
    if match is None:
        return [file_name]
    stem, number, suffix = match.group(1), int(match.group(2)), match.group(3)
    return [f"{stem}{n}{suffix}" for n in range(number, 0, -1)]


def known_quirk(file_name: str, document: str, column: str) -> str | None:
    """What is known of a wrong value of ``document`` in ``column`` of ``file_name``."""
    names = file_names_of(file_name)
    return next(
        (KNOWN_QUIRKS[key] for n in names if (key := (n, document, column)) in KNOWN_QUIRKS), None
    )


def known_duplicate(file_name: str, document: str) -> tuple[str, str] | None:
    """The entry kept of two that name ``document`` in ``file_name``, and why, where known."""
    names = file_names_of(file_name)
    return next(
        (KNOWN_DUPLICATES[key] for n in names if (key := (n, document)) in KNOWN_DUPLICATES), None
    )
