"""A contribution's files read by the importer's rules: every error names file, row and column,
and is a ContributionFormatError; the metadata round-trips. Small files written here."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atrocity_kg.config import Settings
from atrocity_kg.errors import ContributionFormatError, ReleaseFormatError
from atrocity_kg.graph import build, graphs
from atrocity_kg.ingest.contributions import (
    ContributionMeta,
    DraftBase,
    new_id,
    read_contribution,
    timestamp,
)
from atrocity_kg.ingest.releases import draft_code, latest_release
from release_csv import write_records
from release_fixture import BIBLIOGRAPHY, GREATER, SOURCES

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def base(repo: Path) -> DraftBase:
    """The tools and code book of the curated data; the factors and studies of a small release."""
    curated = graphs.load_curated(Settings(home=repo))
    return DraftBase(
        latest_release().code,
        frozenset({"Commitment", "Democracy"}),
        frozenset({"Peace Ops.001"}),
        build.tool_catalogue(curated),
    )


def new_study(**changes: str) -> dict[str, str]:
    row = dict(SOURCES[0])
    row.update({"Index.Number": "Peace Ops.900", "Year": "2026", "Factor_effect": GREATER})
    row.update(changes)
    return row


def meta(records: Path) -> ContributionMeta:
    return ContributionMeta(
        new_id(records.read_bytes(), NOW), "Ada", timestamp(NOW), "", records.name
    )


def test_a_contribution_is_read_as_a_release_is(base: DraftBase, tmp_path: Path) -> None:
    path = write_records(tmp_path / "new.csv", [SOURCES[0], new_study()])
    read = read_contribution(meta(path), base, (tmp_path, path.name))
    assert read.new_studies == ["Peace Ops.900"]
    assert sorted(read.studies) == ["Peace Ops.001", "Peace Ops.900"]
    assert {f.factor for f in read.records.findings.values()} == {"Commitment"}
    # Traced to the contribution's own copy, whatever the file was called when given.
    assert {f.file for f in read.records.findings.values()} == {
        f"contributions/{read.meta.id}/records.csv"
    }


def test_a_bibliography_describes_the_new_study(base: DraftBase, tmp_path: Path) -> None:
    path = write_records(tmp_path / "new.csv", [new_study()])
    entry = {
        **BIBLIOGRAPHY[0],
        "Key": "NEW00001",
        "Publication Year": "2026",
        "Title": "A contributed study",
        "Extra": "documentName: Peace Ops.900",
    }
    bibliography = tmp_path / "zotero.csv"
    with bibliography.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(entry))
        writer.writeheader()
        writer.writerow(entry)
    read = read_contribution(meta(path), base, (tmp_path, path.name), (tmp_path, bibliography.name))
    record = read.studies["Peace Ops.900"].bibliography
    assert record is not None
    assert (record.zotero_key, record.title, record.year) == (
        "NEW00001",
        "A contributed study",
        2026,
    )


BIBTEX = """@comment{exported by Zotero}
@article{NEW00002,
  author = {Example, Ada and Sample, Bo},
  title = {A {Contributed} Study},
  journal = "Journal of Tests",
  year = 2026,
  doi = {10.1234/tests.900},
  note = {documentName: Peace Ops.900},
}
"""
RIS = """TY  - JOUR
ID  - NEW00003
AU  - Example, Ada
AU  - Sample, Bo
TI  - A Contributed Study
T2  - Journal of Tests
PY  - 2026
DO  - 10.1234/tests.900
N1  - documentName: Peace Ops.900
ER  -
"""


@pytest.mark.parametrize(
    ("name", "text", "key"), [("refs.bib", BIBTEX, "NEW00002"), ("refs.ris", RIS, "NEW00003")]
)
def test_a_bibliography_in_bibtex_or_ris(
    base: DraftBase, tmp_path: Path, name: str, text: str, key: str
) -> None:
    path = write_records(tmp_path / "new.csv", [new_study()])
    (tmp_path / name).write_text(text, encoding="utf-8")
    read = read_contribution(meta(path), base, (tmp_path, path.name), (tmp_path, name))
    record = read.studies["Peace Ops.900"].bibliography
    assert record is not None
    assert (record.zotero_key, record.title, record.year, record.doi, record.venue) == (
        key,
        "A Contributed Study",
        2026,
        "10.1234/tests.900",
        "Journal of Tests",
    )
    assert record.creators == ["Example, Ada", "Sample, Bo"]


def test_a_bad_doi_in_bibtex_names_the_entry(base: DraftBase, tmp_path: Path) -> None:
    path = write_records(tmp_path / "new.csv", [new_study()])
    (tmp_path / "refs.bib").write_text(BIBTEX.replace("10.1234/tests.900", "not a doi"), "utf-8")
    with pytest.raises(ContributionFormatError) as raised:
        read_contribution(meta(path), base, (tmp_path, path.name), (tmp_path, "refs.bib"))
    assert str(raised.value.location) == "refs.bib, row 1, column 'DOI'"


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"Outcome": "Genocide (sic)"}, "Outcome"),
        ({"CD": "Not a factor"}, "CD"),
        ({"Tool": "Not a tool_tool"}, "Tool"),
        ({"Year": "soon"}, "Year"),
        ({"Factor_effect": "The factor helps"}, "Factor_effect"),
    ],
)
def test_an_error_names_file_row_and_column(
    base: DraftBase, tmp_path: Path, changes: dict[str, str], column: str
) -> None:
    path = write_records(tmp_path / "bad.csv", [new_study(), new_study(**changes)])
    with pytest.raises(ContributionFormatError) as raised:
        read_contribution(meta(path), base, (tmp_path, path.name))
    assert isinstance(raised.value, ReleaseFormatError)
    assert str(raised.value.location) == f"bad.csv, row 2, column {column!r}"


def test_a_missing_column_and_an_empty_file_are_errors(base: DraftBase, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("Index.Number,Tool\nPeace Ops.900,Peace operations_tool\n", encoding="utf-8")
    with pytest.raises(ContributionFormatError, match="missing column"):
        read_contribution(meta(path), base, (tmp_path, path.name))
    empty = write_records(tmp_path / "empty.csv", [])
    with pytest.raises(ContributionFormatError, match="at least one record"):
        read_contribution(meta(empty), base, (tmp_path, empty.name))


def test_metadata_round_trips_and_bad_metadata_is_named() -> None:
    made = ContributionMeta("20261205-060000-abcdef12", "Ada", "2026-12-05T06:00:00Z", "n", "x.csv")
    assert ContributionMeta.from_json(made.to_json(), "contribution.json") == made
    with pytest.raises(ContributionFormatError, match=r"contribution\.json"):
        ContributionMeta.from_json('{"id": "x"}', "contribution.json")


def test_the_draft_code_is_the_next_release() -> None:
    latest = latest_release()
    assert draft_code() == f"V{latest.number + 1}-draft"
    assert new_id(b"a", NOW).startswith("20261205-060000-")
