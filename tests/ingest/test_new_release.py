"""A release newer than the code: a V4 the tests make from V3's files (renamed 'V4 - 2026', one
finding added and one taken away) is imported without a change to the code, a V4 whose files
use something the code book does not know is refused naming file, row and column, and a build
with V4 makes its evidence and names the draft release after it.

Expected numbers are computed here from the CSV files with the csv module, not by the importer.
The imports and the build are `slow`; what needs the review's files skips without ../shared.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF, XSD
from typer.testing import CliRunner

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions
from atrocity_kg.errors import ReleaseFormatError
from atrocity_kg.graph import catalogue, evidence, graphs
from atrocity_kg.graph.draft import contribution_graph_name, draft_graph_name
from atrocity_kg.ingest.releases import (
    RELEASES,
    discover,
    draft_code,
    from_folder,
    latest_release,
)
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.storage import store
from conftest import make_home
from release_csv import RELEASE_FOLDERS

V4_FOLDER = "V4 - 2026"
V3_FOLDER = RELEASE_FOLDERS["V3"]
FACTOR_KIND = "Contextual or design"

Rows = list[dict[str, str]]


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def _finding_key(row: dict[str, str]) -> tuple[str, ...]:
    """What makes one finding of a row, as the review codes it: identical records are one."""
    factor = row.get("effects_type", FACTOR_KIND) == FACTOR_KIND
    direction = row["Factor_effect"] if factor else row["overall"]
    parts = (row["Index.Number"], row["Tool"], row["CD"] if factor else "overall")
    return tuple(_fold(part) for part in (*parts, row["Outcome"], direction))


def _read(path: Path) -> tuple[list[str], Rows]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: Rows) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def copy_v3_as_v4(shared: Path, root: Path) -> Path:
    """V3's files under V4's names: data/V4 - 2026/*_4.csv, auxiliary/V4 - 2026/*_4.csv."""
    for top in ("data", "auxiliary"):
        target = root / top / V4_FOLDER
        target.mkdir(parents=True)
        for path in (shared / top / V3_FOLDER).glob("*_3.csv"):
            shutil.copyfile(path, target / path.name.replace("_3.csv", "_4.csv"))
    return root


def sources_v4(root: Path) -> Path:
    return root / "data" / V4_FOLDER / "all_sources_4.csv"


@dataclass(frozen=True)
class Change:
    """What the V4 of the tests changes in V3's study file: one row added (a finding V3 does not
    have), one row taken away (a finding no other row of V3 has)."""

    added: dict[str, str]
    removed: dict[str, str]
    added_row: int
    """The added row's number in the file, counted from 1 after the header (the last row)."""


def change_v4(root: Path) -> Change:
    header, rows = _read(sources_v4(root))
    keys = [_finding_key(row) for row in rows]
    factors_by_tool: dict[str, list[str]] = {}
    for row in rows:
        if row["effects_type"] == FACTOR_KIND:
            factors_by_tool.setdefault(row["Tool"], []).append(row["CD"])
    studies = [row["Index.Number"] for row in rows]
    # Taken away: a factor row whose finding no other row has, of a study with other rows.
    removed = next(
        row
        for row, key in zip(rows, keys, strict=True)
        if row["effects_type"] == FACTOR_KIND
        and keys.count(key) == 1
        and studies.count(row["Index.Number"]) > 2
    )
    # Added: a factor row of V3 with another factor its tool has, giving a finding V3 lacks.
    added = next(
        {**row, "CD": factor}
        for row in rows
        if row["effects_type"] == FACTOR_KIND and row is not removed
        for factor in factors_by_tool[row["Tool"]]
        if _finding_key({**row, "CD": factor}) not in keys
    )
    kept = [row for row in rows if row is not removed]
    added = {**added, "": str(len(rows) + 1)}
    _write(sources_v4(root), header, [*kept, added])
    return Change(added, removed, len(kept) + 1)


def _link_earlier(shared: Path, root: Path) -> None:
    """The earlier releases beside V4, as in the upstream repository (read, never written)."""
    for top in ("data", "auxiliary"):
        for code in ("V1", "V2", "V3"):
            (root / top / RELEASE_FOLDERS[code]).symlink_to(shared / top / RELEASE_FOLDERS[code])


@dataclass(frozen=True)
class Imported:
    settings: Settings
    folder: Path
    change: Change
    summary: pipeline.ImportSummary


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, shared_release: Path) -> Imported:
    """V4 imported alone, beside the committed V1 to V3, from a folder holding all four."""
    root = tmp_path_factory.mktemp("new-release")
    folder = copy_v3_as_v4(shared_release, root / "upstream")
    change = change_v4(folder)
    _link_earlier(shared_release, folder)
    settings = make_home(root / "home", with_releases=True)
    summary = pipeline.import_ushmm(settings, folder, ["V4"])
    return Imported(settings, folder, change, summary)


# -- releases found in a folder and in data/ushmm: no data needed ------------------------------


def test_a_new_release_is_found_by_its_folder_and_dated_by_its_name(tmp_path: Path) -> None:
    for folder, number in (("V3 - 2025_April", 3), (V4_FOLDER, 4), ("V5 - 2027_October", 5)):
        (tmp_path / "data" / folder).mkdir(parents=True)
        (tmp_path / "data" / folder / f"all_sources_{number}.csv").write_text("")
    (tmp_path / "data" / "V6 - 2028").mkdir()  # no study file: no release
    found = discover(tmp_path)
    assert list(found) == ["V3", "V4", "V5"]
    assert found["V3"] == RELEASES["V3"]
    v4 = found["V4"]
    assert (v4.number, v4.folder, v4.issued) == (4, V4_FOLDER, "2026")
    assert v4.title == "Tools for Atrocity Prevention data, V4 (2026)"
    assert v4.title.replace("V4 (2026)", "V3 (2025)") == RELEASES["V3"].title
    assert v4.sources_file == f"data/{V4_FOLDER}/all_sources_4.csv"
    assert v4.bibliography_file == f"auxiliary/{V4_FOLDER}/zotero_4.csv"
    assert found["V5"].issued == "2027-10"


def test_a_new_release_folder_must_name_its_year() -> None:
    with pytest.raises(ReleaseFormatError, match="gives no year"):
        from_folder("V4 - next")


def test_the_releases_and_the_draft_follow_data_ushmm(tmp_path: Path) -> None:
    settings = make_home(tmp_path / "home", with_releases=True)
    assert graphs.imported_releases(settings) == ["V1", "V2", "V3"]
    assert draft_code(latest_release(graphs.imported_releases(settings))) == "V4-draft"
    for code in ("V4", "V10"):
        (settings.ushmm_dir / f"{code.lower()}.ttl").write_text("")
    assert graphs.imported_releases(settings) == ["V1", "V2", "V3", "V4", "V10"]
    assert draft_code(latest_release(graphs.imported_releases(settings))) == "V11-draft"


# -- importing V4 ---------------------------------------------------------------------------


def _findings(graph: Graph, code: str) -> set[str]:
    release = iris.release(code)
    return {
        str(node)
        for kind in (AKG.FactorFinding, AKG.OverallEffectFinding)
        for node in graph.subjects(RDF.type, kind)
        if (node, AKG.inRelease, release) in graph
    }


@pytest.mark.slow  # an import of V4 (the code book of V1 to V3 read for its factors)
def test_a_new_release_imports_without_code_changes(imported: Imported) -> None:
    settings, folder = imported.settings, imported.folder
    assert list(imported.summary.releases) == ["V4"]
    assert graphs.imported_releases(settings) == ["V1", "V2", "V3", "V4"]
    v3_rows = _read(folder / "data" / V3_FOLDER / "all_sources_3.csv")[1]
    v4_rows = _read(sources_v4(folder))[1]
    v3_keys = {_finding_key(row) for row in v3_rows}
    v4_keys = {_finding_key(row) for row in v4_rows}
    assert v4_keys == (v3_keys - {_finding_key(imported.change.removed)}) | {
        _finding_key(imported.change.added)
    }
    v4 = graphs.parse_turtle(graphs.release_file(settings, "V4"))
    v3 = graphs.parse_turtle(graphs.release_file(settings, "V3"))
    assert len(_findings(v4, "V4")) == len(v4_keys) == len(_findings(v3, "V3"))
    assert len(set(v4.objects(None, AKG.indexNumber))) == len({r["Index.Number"] for r in v4_rows})
    # The added row is traced to its file and row.
    added_row = imported.change.added_row
    traced = {
        node
        for node in v4.subjects(AKG.sourceRow, Literal(added_row, datatype=XSD.positiveInteger))
        if (node, AKG.sourceFile, Literal(f"data/{V4_FOLDER}/all_sources_4.csv")) in v4
    }
    assert len(traced) == 1
    release = iris.release("V4")
    assert (release, DCTERMS.issued, Literal("2026", datatype=XSD.gYear)) in v4
    assert (release, DCTERMS.title, Literal(discover(folder)["V4"].title, lang="en")) in v4


# -- a V4 the code book does not know: refused, nothing written -----------------------------


def _spoiled(shared: Path, root: Path, spoil: Callable[[list[str], Rows], None]) -> Path:
    folder = copy_v3_as_v4(shared, root / "upstream")
    header, rows = _read(sources_v4(folder))
    spoil(header, rows)
    _write(sources_v4(folder), header, rows)
    return folder


def _refused(shared: Path, tmp_path: Path, spoil: Callable[[list[str], Rows], None]) -> str:
    folder = _spoiled(shared, tmp_path, spoil)
    settings = make_home(tmp_path / "home", with_releases=False)
    with pytest.raises(ReleaseFormatError) as caught:
        pipeline.import_ushmm(settings, folder, ["V4"])
    assert list(settings.ushmm_dir.iterdir()) == []
    return str(caught.value)


def test_a_new_column_is_refused_naming_it(shared_release: Path, tmp_path: Path) -> None:
    def add_column(header: list[str], rows: Rows) -> None:
        header.append("certainty")
        for row in rows:
            row["certainty"] = "high"

    message = _refused(shared_release, tmp_path, add_column)
    assert message.startswith(f"data/{V4_FOLDER}/all_sources_4.csv, line 1, column 'certainty'")
    assert "unknown column 'certainty'" in message
    assert "header row" in message


def _words(output: str) -> str:
    """The command's output as words, whatever the width of its boxes."""
    return " ".join(output.replace("│", " ").split())


def test_the_command_line_takes_a_new_code_and_says_what_is_new(
    shared_release: Path, tmp_path: Path, env_for: Callable[[Settings], None]
) -> None:
    def add_column(header: list[str], rows: Rows) -> None:
        header.append("certainty")
        for row in rows:
            row["certainty"] = "high"

    folder = _spoiled(shared_release, tmp_path, add_column)
    settings = make_home(tmp_path / "home", with_releases=False)
    env_for(settings)
    refused = CliRunner().invoke(app, ["import", "ushmm", str(folder), "--release", "v4"])
    assert refused.exit_code == 1
    assert "all_sources_4.csv, line 1, column 'certainty'" in _words(refused.output)
    assert list(settings.ushmm_dir.iterdir()) == []
    wrong = CliRunner().invoke(app, ["import", "ushmm", str(folder), "--release", "four"])
    assert wrong.exit_code == 2
    assert "'four' is not a release code" in _words(wrong.output)


NEW_SPELLINGS = [
    ("Outcome", "Mass atrocities (incl. genocide)"),
    ("Tool", "Peace enforcement"),
    ("CD", "Brand_new_factor"),
    ("Factor_effect", "Much greater effectiveness"),
    ("Publication", "Preprint"),
]


@pytest.mark.parametrize(("column", "value"), NEW_SPELLINGS, ids=[c for c, _ in NEW_SPELLINGS])
def test_a_new_spelling_is_refused_naming_file_row_and_column(
    shared_release: Path, tmp_path: Path, column: str, value: str
) -> None:
    """A value the code book does not spell, in a factor finding's row (whose every coded
    column the importer reads): the first such row after the sixth."""
    at: list[int] = []

    def respell(_: list[str], rows: Rows) -> None:
        at.append(next(n for n in range(6, len(rows)) if rows[n]["effects_type"] == FACTOR_KIND))
        rows[at[0]][column] = value

    message = _refused(shared_release, tmp_path, respell)
    where = f"data/{V4_FOLDER}/all_sources_4.csv, row {at[0] + 1}, column {column!r}: "
    assert message.startswith(where)
    assert repr(value) in message


# -- a build with V4, and the contributions it already holds ---------------------------------


def _contribute(settings: Settings, header: list[str], rows: Rows) -> str:
    """A contribution kept as the curation keeps one (records.csv and contribution.json)."""
    ident = "20260101-000000-0000abcd"
    folder = settings.contributions_root / ident
    folder.mkdir(parents=True)
    _write(folder / "records.csv", header, rows)
    meta = {
        "id": ident,
        "curator": "Ada Example",
        "created": "2026-01-01T00:00:00Z",
        "note": "one finding V4 came to hold, one it does not",
        "records_source": "new.csv",
        "bibliography_source": None,
    }
    (folder / "contribution.json").write_text(json.dumps(meta), encoding="utf-8")
    return ident


@pytest.mark.slow  # V3 and V4 parsed, the catalogue made, the draft remade and validated
def test_the_draft_follows_the_new_release_and_leaves_out_what_it_holds(
    imported: Imported,
) -> None:
    """The build's stages that depend on which release is the latest, run as the build runs
    them but over V3 and V4 only and without the reasoner and the dumps (a full build takes
    twenty seconds or more here): the catalogue makes V4 the latest release, the draft is
    V5-draft, and a contribution's finding that V4 holds is reported and left out."""
    settings = imported.settings
    releases = {
        code: graphs.parse_turtle(graphs.release_file(settings, code)) for code in ("V3", "V4")
    }
    assert len(evidence.assess_release("V4", releases["V4"])) > 0
    statements = catalogue.statement_graphs(releases)
    named = {
        graphs.ONTOLOGY_GRAPH: graphs.load_ontology(settings),
        graphs.SHAPES_GRAPH: graphs.load_shapes(settings),
        graphs.CURATED_GRAPH: graphs.load_curated(settings),
        **statements,
        catalogue.CATALOGUE_GRAPH: catalogue.catalogue_graph(releases, statements),
    }
    header = _read(sources_v4(imported.folder))[0]
    ident = _contribute(settings, header, [imported.change.added, imported.change.removed])
    memory = store.memory_store(named)
    outcome = contributions.refresh_from_folder(memory, settings.contributions_root)
    assert outcome.report.conforms, outcome.report.summary()
    names = set(store.graph_names(memory))
    assert str(draft_graph_name("V5-draft")) in names
    assert str(evidence.evidence_graph_name("V5-draft")) in names
    # The finding V4 holds (the contribution's first row) is reported; the one it lacks stays.
    assert outcome.notes == [
        f"contribution {ident}, {ident}/records.csv, row 1: release V4 has this finding "
        f"(study {imported.change.added['Index.Number']!r}) already; it is left out of the draft"
    ]
    contributed = ox.NamedNode(str(contribution_graph_name(ident)))
    findings = memory.quads_for_pattern(
        None, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(AKG.FactorFinding)), contributed
    )
    assert len(list(findings)) == 1
