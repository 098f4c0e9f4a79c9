"""A tiny USHMM-shaped release folder, written by the tests, for import tests without ../shared.

Only the columns the importer reads are written; values follow the release files' own coding.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

_REDUCING = "the tool in reducing mass atrocities or CROs"
GREATER = f"The factor is associated with greater effectiveness of {_REDUCING}"
LESSER = f"The factor is associated with lesser effectiveness of {_REDUCING} "
NO_MIXED = f"The factor has no or mixed effects on the effectiveness of {_REDUCING} "

GUIDE = [
    {"Name": "Peace operations", "Type": "Tool", "Dedoose name": "Peace operations_tool"},
    {
        "Name": "Committed implementer",
        "Type": "Factor",
        "Dedoose name": "Commitment",
        "Inverse factor": "Uncommitted implementer",
        "Contextual or design factor": "Design",
        "Family": "Implementer characteristics",
    },
    {
        "Name": "Democracy",
        "Type": "Factor",
        "Dedoose name": "Democracy",
        "Inverse factor": "Autocracy",
        "Contextual or design factor": "Contextual",
        "Family": "Domestic context ",
    },
]

FACTORS = [
    {
        "tool_name": "Peace operations",
        "Dedoose.name_tool": "Peace operations_tool",
        "Dedoose.name_factor": "Commitment",
        "Name": "Committed implementer",
        "Inverse.factor": "Uncommitted implementer",
        "Contextual.or.design.factor": "Design",
        "Family": "Implementer characteristics",
        "count": "2",
        "greater_findings": "2",
        "lesser_findings": "0",
        "no_mixed_findings": "0",
        "temp_vote_count_factor": "1.5",
        "vote_count_factor": "1.5",
        "count_adverse": "0",
        "ma_focus_greater_count_factor": "1",
        "ma_focus_lesser_count_factor": "0",
        "ma_focus_no_mixed_count_factor": "0",
        "cro_focus_greater_count_factor": "1",
        "cro_focus_lesser_count_factor": "0",
        "cro_focus_no_mixed_count_factor": "0",
        "inversion_with_neg_strength": "0",
        "research_qualitative": "Moderate",
        "practitioner_qualitative": "Stronger",
        "count_practitioner": "10",
        "number_practitioners": "13",
        "proportion_practitioner": "0.769230769230769",
        "greater_practitioner": "10",
        "lesser_practitioner": "0",
        "no_mixed_practitioner": "0",
        "dissuade": "1",
        "degrade": "0",
        "protect": "1",
        "transition": "0",
    },
    {
        "tool_name": "Peace operations",
        "Dedoose.name_tool": "Peace operations_tool",
        "Dedoose.name_factor": "Democracy",
        "Name": "Democracy",
        "Inverse.factor": "Autocracy",
        "Contextual.or.design.factor": "Contextual",
        "Family": "Domestic context",
        "count": "1",
        "greater_findings": "0",
        "lesser_findings": "1",
        "no_mixed_findings": "0",
        "temp_vote_count_factor": "-0.5",
        "vote_count_factor": "-0.5",
        "count_adverse": "0",
        "ma_focus_greater_count_factor": "0",
        "ma_focus_lesser_count_factor": "0",
        "ma_focus_no_mixed_count_factor": "0",
        "cro_focus_greater_count_factor": "0",
        "cro_focus_lesser_count_factor": "1",
        "cro_focus_no_mixed_count_factor": "0",
        "inversion_with_neg_strength": "1",
        "research_qualitative": "Weaker",
        "practitioner_qualitative": "NA",
        "count_practitioner": "NA",
        "number_practitioners": "NA",
        "proportion_practitioner": "NA",
        "greater_practitioner": "NA",
        "lesser_practitioner": "NA",
        "no_mixed_practitioner": "NA",
        "dissuade": "1",
        "degrade": "0",
        "protect": "1",
        "transition": "0",
    },
]

CITATION_1 = 'Doe, Jane; Roe, Richard. "Keeping the peace," *Journal of Tests*, vol. 1 (2015)'
_SOURCE_BASE = {
    "Publication": "Peer-reviewed journal article",
    "Empirical": "Comparison of greater than one case",
    "Qual": "NA",
    "Quant": "Regression",
    "Method": "NA",
    "Tool": "Peace operations_tool",
}

SOURCES = [
    {
        **_SOURCE_BASE,
        "effects_type": "Contextual or design",
        "Index.Number": "Peace Ops.001",
        "CD": "Commitment",
        "Factor_effect": GREATER,
        "overall": "NA",
        "Outcome": "Mass atrocities",
        "Year": "2015",
        "full_citation": CITATION_1,
    },
    {
        **_SOURCE_BASE,
        "effects_type": "Contextual or design",
        "Index.Number": "Peace Ops.001",
        "CD": "Commitment",
        "Factor_effect": GREATER,
        "overall": "NA",
        "Outcome": "Conflict",
        "Year": "2015",
        "full_citation": CITATION_1,
    },
    {
        **_SOURCE_BASE,
        "effects_type": "Contextual or design",
        "Index.Number": "Peace Ops.002",
        "CD": "Democracy",
        "Factor_effect": LESSER,
        "overall": "NA",
        "Outcome": "Violence against civilians",
        "Year": "2019",
        "Publication": "Book chapter",
        "full_citation": "Poe, Edgar. *Peace in practice*. Test Press, 2019.",
    },
    {
        **_SOURCE_BASE,
        "effects_type": "Average",
        "Index.Number": "Peace Ops.002",
        "CD": "NA",
        "Factor_effect": "NA",
        "overall": "Decreases mass atrocities or CROs ",
        "Outcome": "Adverse consequences",
        "Year": "2019",
        "Publication": "Book chapter",
        "full_citation": "Poe, Edgar. *Peace in practice*. Test Press, 2019.",
    },
]

BIBLIOGRAPHY = [
    {
        "Key": "ABCD1234",
        "Publication Year": "2015",
        "Author": "Doe, Jane; Roe, Richard",
        "Editor": "",
        "Title": "Keeping the peace",
        "Publication Title": "Journal of Tests",
        "DOI": "https://doi.org/10.1234/tests.1",
        "Extra": "documentName: Peace Ops.001",
    },
]

Tables = dict[str, list[dict[str, str]]]
FOLDERS = {"V1": "V1 - 2022", "V2": "V2 - 2024", "V3": "V3 - 2025_April"}
V3 = FOLDERS["V3"]


def release_files(release: str = "V3") -> dict[str, str]:
    """Where each table of a release lives in the folder; only V3 and later have a bibliography."""
    folder, number = FOLDERS[release], int(release[1:])
    files = {
        "guide": f"auxiliary/{folder}/analytic_guide_{number}.csv",
        "factors": f"data/{folder}/all_factors_{number}.csv",
        "sources": f"data/{folder}/all_sources_{number}.csv",
    }
    if number >= 3:
        files["bibliography"] = f"auxiliary/{folder}/zotero_{number}.csv"
    return files


FILES = release_files("V3")


def default_tables() -> Tables:
    return {
        "guide": [dict(r) for r in GUIDE],
        "factors": [dict(r) for r in FACTORS],
        "sources": [dict(r) for r in SOURCES],
        "bibliography": [dict(r) for r in BIBLIOGRAPHY],
    }


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(["", *[k for row in rows for k in row]]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="NA")
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            writer.writerow({"": str(number), **row})


def write_release(
    root: Path,
    change: Callable[[Tables], None] | None = None,
    codes: tuple[str, ...] = ("V3",),
    *,
    release: str | None = None,
) -> Path:
    """Write the files of a tiny release under root; `change` may spoil a value first.

    V3 by default; with `codes`, other releases too, each with the same tables, except where
    `change` gives a release its own (``tables["sources V2"]``); `release` names the one release
    to write. Called once per release, it lays out several releases side by side; a release
    before V3 has no bibliography of its own."""
    tables = default_tables()
    if change is not None:
        change(tables)
    for code in (release,) if release is not None else codes:
        for name, relative in release_files(code).items():
            _write(root / relative, tables.get(f"{name} {code}", tables[name]))
    return root
