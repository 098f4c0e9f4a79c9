"""The quality rules: each kind produced by a small crafted release folder, with the exact
records (file, row, column); and the report on the real release files against the importer's
own quirks and against counts computed here from the CSV files (skipped without ../shared)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.graph.build import tool_catalogue
from atrocity_kg.ingest.quirks import KNOWN_QUIRKS
from atrocity_kg.ingest.releases import RELEASES
from atrocity_kg.ingest.ushmm import read_release
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, DQV, OA
from atrocity_kg.quality.check import QualityCheck, check_folder
from atrocity_kg.quality.rules import Issue, load_rules
from release_fixture import GREATER, Tables, release_files, write_release

Place = tuple[str, int, str | None]
V2, V3 = release_files("V2"), release_files("V3")


@pytest.fixture(scope="module")
def curated(repo: Path) -> Graph:
    return graphs.load_curated(Settings(home=repo))


def check(root: Path, curated: Graph) -> QualityCheck:
    return check_folder(root, curated)


def places(found: QualityCheck, kind: str) -> set[Place]:
    return {(i.file, i.row, i.column) for i in found.issues if i.kind == kind}


def only(found: QualityCheck, kind: str) -> list[Issue]:
    return [i for i in found.issues if i.kind == kind]


def spoilt(
    tmp_path: Path, curated: Graph, change: Callable[[Tables], None], release: str = "V3"
) -> QualityCheck:
    return check(write_release(tmp_path, change, release=release), curated)


def test_every_rule_is_a_documented_kind() -> None:
    rules = load_rules()
    assert len(rules) >= 12
    for rule in rules:
        assert rule.title, rule.kind
        assert rule.description, rule.kind
        assert rule.action, rule.kind
        assert "PREFIX col: <" + iris.COLUMN_BASE + ">" in rule.text or "col:" not in rule.text
        assert "PREFIX fact: <" + iris.RECORD_FACT_BASE + ">" in rule.text or (
            "fact:" not in rule.text
        )


def test_the_tiny_release_has_only_its_two_known_slips(tmp_path: Path, curated: Graph) -> None:
    """The fixture's DOI is written as a resolver address, and its second study has no record in
    the bibliography: nothing else is reported."""
    found = check(write_release(tmp_path), curated)
    assert {(i.kind, i.file, i.row, i.column) for i in found.issues} == {
        ("doi-with-prefix", V3["bibliography"], 1, "DOI"),
        ("study-without-bibliography", V3["sources"], 3, "Index.Number"),
    }
    assert [spec.code for spec in found.releases] == ["V3"]
    assert set(found.counts()) == {rule.kind for rule in load_rules()}


def test_repeated_records(tmp_path: Path, curated: Graph) -> None:
    def repeat(tables: Tables) -> None:
        tables["sources"].append(dict(tables["sources"][0]))
        tables["factors"].append(dict(tables["factors"][0]))
        tables["guide"].append(dict(tables["guide"][1]))

    found = spoilt(tmp_path, curated, repeat)
    assert places(found, "repeated-record") == {
        (V3["sources"], 5, None),
        (V3["factors"], 3, None),
        (V3["guide"], 4, None),
    }
    by_file = {i.file: i for i in only(found, "repeated-record")}
    assert by_file[V3["sources"]].found.startswith("repeats row 1 ")
    assert by_file[V3["factors"]].found.startswith("repeats row 1 ")
    assert by_file[V3["guide"]].found.startswith("repeats the factor of row 2 ")


def test_a_different_outcome_is_no_repeat(tmp_path: Path, curated: Graph) -> None:
    """Rows 1 and 2 of the fixture are one study's finding on two outcomes: two findings."""
    found = check(write_release(tmp_path), curated)
    assert places(found, "repeated-record") == set()


def test_rating_without_factor_is_reported_as_the_importer_leaves_it_out(
    tmp_path: Path, curated: Graph, repo: Path
) -> None:
    def no_factor(tables: Tables) -> None:
        tables["factors"][1].update({"Name": "NA", "Dedoose.name_factor": "NA"})

    root = write_release(tmp_path, no_factor)
    found = check(root, curated)
    assert places(found, "rating-without-factor") == {(V3["factors"], 2, "Name")}
    assert "'Democracy' have no other rating" in only(found, "rating-without-factor")[0].found
    quirks = read_release(root, "V3", tool_catalogue(curated)).quirks
    assert [q.split(":", 1)[0] for q in quirks] == [f"{V3['factors']}, row 2"]


def test_opposite_named_differently_in_the_ratings_file(tmp_path: Path, curated: Graph) -> None:
    def other_opposite(tables: Tables) -> None:
        tables["factors"][0]["Inverse.factor"] = "Unwilling implementer"

    found = spoilt(tmp_path, curated, other_opposite)
    assert places(found, "opposite-name-differs") == {(V3["factors"], 1, "Inverse.factor")}
    assert only(found, "opposite-name-differs")[0].found == (
        "'Unwilling implementer' here; the code book (analytic_guide_3.csv row 2) says "
        "'Uncommitted implementer'"
    )


def test_opposite_and_name_changed_between_releases(tmp_path: Path, curated: Graph) -> None:
    write_release(tmp_path, release="V2")

    def reworded(tables: Tables) -> None:
        tables["guide"][1].update(
            {"Name": "Committed implementers", "Inverse factor": "Reluctant implementer"}
        )

    found = spoilt(tmp_path, curated, reworded)
    assert places(found, "opposite-name-differs") == {
        (V3["guide"], 2, "Inverse factor"),
        (V3["factors"], 1, "Inverse.factor"),
    }
    assert places(found, "factor-name-differs") == {
        (V3["guide"], 2, "Name"),
        (V3["factors"], 1, "Name"),
    }
    across = [i for i in only(found, "factor-name-differs") if i.file == V3["guide"]]
    assert across[0].found == (
        "'Committed implementers' here; V2 (analytic_guide_2.csv row 2) says "
        "'Committed implementer'"
    )


def test_one_name_for_two_factors(tmp_path: Path, curated: Graph) -> None:
    def shared(tables: Tables) -> None:
        tables["guide"][2]["Inverse factor"] = "Uncommitted implementer"

    found = spoilt(tmp_path, curated, shared)
    assert places(found, "name-shared-by-factors") == {
        (V3["guide"], 2, "Inverse factor"),
        (V3["factors"], 1, "Inverse.factor"),
        (V3["guide"], 3, "Inverse factor"),
    }
    mine = {(i.file, i.row): i.found for i in only(found, "name-shared-by-factors")}
    assert mine[(V3["guide"], 3)] == (
        "'Uncommitted implementer' names the opposite of Democracy here, and also the opposite "
        "of Commitment"
    )


def test_factor_in_two_families(tmp_path: Path, curated: Graph) -> None:
    def moved(tables: Tables) -> None:
        tables["factors"][1]["Family"] = "Conflict dynamics"

    found = spoilt(tmp_path, curated, moved)
    assert places(found, "factor-in-two-families") == {(V3["factors"], 2, "Family")}


@pytest.mark.parametrize("same", ["name", "description"])
def test_factor_code_renamed_between_releases(tmp_path: Path, curated: Graph, same: str) -> None:
    def described(tables: Tables) -> None:
        tables["guide"][1]["Description"] = "The implementer means to see it through."

    write_release(tmp_path, described, release="V2")

    def renamed(tables: Tables) -> None:
        described(tables)
        tables["guide"][1]["Dedoose name"] = "Commitment_v3"
        if same == "description":
            tables["guide"][1]["Name"] = "Resolve"
        tables["factors"][0]["Dedoose.name_factor"] = "Commitment_v3"
        for row in tables["sources"][:2]:
            row["CD"] = "Commitment_v3"

    found = spoilt(tmp_path, curated, renamed)
    assert places(found, "factor-code-renamed") == {(V3["guide"], 2, "Dedoose name")}
    assert only(found, "factor-code-renamed")[0].found == (
        f"'Commitment_v3' here; V2 (analytic_guide_2.csv row 2) codes the factor of the same "
        f"{same} 'Commitment'"
    )


def test_values_not_in_the_code_book(tmp_path: Path, curated: Graph) -> None:
    def variants(tables: Tables) -> None:
        tables["sources"][2]["Publication"] = "Peer reviewed journal article"
        tables["sources"][1]["Outcome"] = "conflict_outcome"
        tables["guide"][2]["Contextual or design factor"] = "Context"
        del tables["guide"][1]  # Commitment: used by all_sources and all_factors only

    found = spoilt(tmp_path, curated, variants)
    assert places(found, "value-not-in-code-book") == {
        (V3["sources"], 3, "Publication"),
        (V3["sources"], 2, "Outcome"),
        (V3["guide"], 2, "Contextual or design factor"),
        (V3["sources"], 1, "CD"),
        (V3["sources"], 2, "CD"),
        (V3["factors"], 1, "Dedoose.name_factor"),
    }
    notes = {(i.file, i.row, i.column): i for i in only(found, "value-not-in-code-book")}
    publication = notes[(V3["sources"], 3, "Publication")]
    assert "spells it 'Peer-reviewed journal article'" in publication.found
    assert notes[(V3["guide"], 2, "Contextual or design factor")].action.startswith(
        "Read as 'Contextual'"
    )


def test_dois(tmp_path: Path, curated: Graph) -> None:
    def name_for_doi(tables: Tables) -> None:
        tables["bibliography"].append(
            {
                **tables["bibliography"][0],
                "Key": "EFGH5678",
                "DOI": "Wallensteen",
                "Extra": "documentName: Peace Ops.002",
            }
        )

    found = spoilt(tmp_path, curated, name_for_doi)
    assert places(found, "doi-not-a-doi") == {(V3["bibliography"], 2, "DOI")}
    assert only(found, "doi-not-a-doi")[0].studies == {"Peace Ops.002"}
    assert places(found, "doi-with-prefix") == {(V3["bibliography"], 1, "DOI")}
    assert only(found, "doi-with-prefix")[0].found.endswith("for the DOI 10.1234/tests.1")


def test_a_record_naming_several_documents_covers_each(tmp_path: Path, curated: Graph) -> None:
    def both(tables: Tables) -> None:
        tables["bibliography"][0]["Extra"] = "documentName: Peace Ops.001; Peace Ops.002"

    found = spoilt(tmp_path, curated, both)
    assert places(found, "study-without-bibliography") == set()


def test_study_in_two_bibliography_records(tmp_path: Path, curated: Graph) -> None:
    def twice(tables: Tables) -> None:
        tables["bibliography"].append({**tables["bibliography"][0], "Key": "EFGH5678"})

    found = spoilt(tmp_path, curated, twice)
    assert places(found, "study-in-several-bibliography-records") == {
        (V3["bibliography"], 1, "Extra"),
        (V3["bibliography"], 2, "Extra"),
    }


def test_counts_that_are_not_whole_and_missing(tmp_path: Path, curated: Graph) -> None:
    def halves(tables: Tables) -> None:
        tables["factors"][0]["count_practitioner"] = "10.5"
        tables["factors"][0]["greater_practitioner"] = "10.0"  # whole, if written as a decimal

    found = spoilt(tmp_path, curated, halves)
    assert places(found, "count-not-whole") == {(V3["factors"], 1, "count_practitioner")}

    def missing(tables: Tables) -> None:
        tables["factors"][0]["count_practitioner"] = "NA"

    found = spoilt(tmp_path / "missing", curated, missing)
    assert places(found, "interview-count-missing") == {(V3["factors"], 1, "count_practitioner")}


def test_study_year_against_the_bibliography_and_the_latest_release(
    tmp_path: Path, curated: Graph
) -> None:
    def older(tables: Tables) -> None:
        for row in tables["sources"]:
            row["Year"] = str(int(row["Year"]) - 1)

    write_release(tmp_path, older, release="V2")

    def later_in_bibliography(tables: Tables) -> None:
        tables["bibliography"][0]["Publication Year"] = "2016"

    found = spoilt(tmp_path, curated, later_in_bibliography)
    # Peace Ops.001: 2014 in V2, 2015 in V3, 2016 in the bibliography; Peace Ops.002: no
    # bibliography record, 2018 in V2 against 2019 in V3, the latest.
    assert places(found, "study-year-differs") == {
        (V2["sources"], 1, "Year"),
        (V3["sources"], 1, "Year"),
        (V2["sources"], 3, "Year"),
    }
    by_place = {(i.file, i.row): i for i in only(found, "study-year-differs")}
    assert by_place[(V3["sources"], 1)].found == (
        "Peace Ops.001: 2015 here; the bibliography says 2016 (zotero_3.csv row 1)"
    )
    assert by_place[(V2["sources"], 3)].found.startswith(
        "Peace Ops.002: 2018 here; V3 (all_sources_3.csv row 3) says 2019"
    )


def test_study_with_two_citations(tmp_path: Path, curated: Graph) -> None:
    def second(tables: Tables) -> None:
        tables["sources"][1]["full_citation"] = 'Doe, J. "Keeping the peace (erratum)," *Tests*'

    found = spoilt(tmp_path, curated, second)
    assert places(found, "study-with-two-citations") == {(V3["sources"], 2, "full_citation")}


def test_factor_named_without_its_code(tmp_path: Path, curated: Graph) -> None:
    def practitioners_only(tables: Tables) -> None:
        tables["guide"][1]["Description"] = "The implementer means to see it through."
        base = {
            **tables["factors"][0],
            "Dedoose.name_factor": "NA",
            "count": "NA",
            "research_qualitative": "NA",
        }
        tables["factors"].append({**base, "Name": "Committed implementer"})
        tables["factors"].append(
            {
                **base,
                "Name": "Implementer resolve",
                "Description": "The implementer  means to see it THROUGH.",
            }
        )

    found = spoilt(tmp_path, curated, practitioners_only)
    assert places(found, "factor-without-code") == {
        (V3["factors"], 3, "Dedoose.name_factor"),
        (V3["factors"], 4, "Dedoose.name_factor"),
    }
    actions = {i.row: i.action for i in only(found, "factor-without-code")}
    assert actions[3].startswith("Reconciled to the code book's factor by name")
    assert actions[4].startswith("Reconciled to the code book's factor by description")
    # Reconciled, they are the code book's factor: no name is shared, no family differs.
    assert places(found, "name-shared-by-factors") == set()


def test_rules_read_facts_only(tmp_path: Path, curated: Graph) -> None:
    """A description's words never reach the records graph: only their digest does."""
    from atrocity_kg.quality.records import records_store

    def described(tables: Tables) -> None:
        tables["guide"][1]["Description"] = "Words that must stay out of the graph."
        tables["sources"][0]["full_citation"] = GREATER  # a long coded value, kept

    store, _ = records_store(write_release(tmp_path, described), curated)
    values = {quad.object.value for quad in store}
    assert "Words that must stay out of the graph." not in values
    assert GREATER in values


def test_annotations_are_dqv_and_name_their_place(tmp_path: Path, curated: Graph) -> None:
    found = check(write_release(tmp_path), curated)
    graph = found.graph
    annotations = set(graph.subjects(RDF.type, DQV.QualityAnnotation))
    assert len(annotations) == len(found.issues) == 2
    for node in annotations:
        assert graph.value(node, OA.motivatedBy) == DQV.qualityAssessment
        assert graph.value(node, OA.hasTarget) == iris.release("V3")
        kind = graph.value(node, OA.hasBody)
        assert (kind, RDF.type, AKG.QualityIssueKind) in graph
        assert graph.value(kind, SKOS.prefLabel) is not None
        assert str(graph.value(node, AKG.sourceFile)).endswith(".csv")
    kinds = set(graph.subjects(RDF.type, AKG.QualityIssueKind))
    assert len(kinds) == len(load_rules())
    doi = iris.quality_kind("doi-with-prefix")
    (node,) = graph.subjects(OA.hasBody, doi)
    assert set(graph.objects(node, URIRef("http://purl.org/dc/terms/subject"))) == {
        iris.study("Peace Ops.001")
    }


# --- the real release files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real(shared_release: Path, curated: Graph) -> QualityCheck:
    return check_folder(shared_release, curated)


def release_rows(shared: Path, relative: str) -> list[dict[str, str]]:
    with (shared / relative).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _value(row: dict[str, str], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return None if value in ("", "NA") else value


@pytest.mark.shared
def test_every_quirk_the_importer_records_is_reported(
    shared_release: Path, curated: Graph, real: QualityCheck
) -> None:
    catalogue = tool_catalogue(curated)
    reported = {(i.file, i.row) for i in real.issues}
    quirks = [q for code in RELEASES for q in read_release(shared_release, code, catalogue).quirks]
    assert quirks
    for quirk in quirks:
        match = re.match(r"^(?P<file>.+?), row (?P<row>\d+)[,:]", quirk)
        assert match, quirk
        assert (match["file"], int(match["row"])) in reported, quirk


@pytest.mark.shared
def test_every_known_quirk_is_reported(real: QualityCheck) -> None:
    assert KNOWN_QUIRKS
    for file_name, study, column in KNOWN_QUIRKS:
        assert any(
            i.kind == "doi-not-a-doi"
            and i.file.endswith("/" + file_name)
            and i.column == column
            and study in i.studies
            for i in real.issues
        ), (file_name, study, column)


@pytest.mark.shared
def test_rating_rows_without_factor_counted_from_the_csv(
    shared_release: Path, real: QualityCheck
) -> None:
    expected = {
        (spec.factors_file, number)
        for spec in RELEASES.values()
        for number, row in enumerate(release_rows(shared_release, spec.factors_file), start=1)
        if _value(row, "count")
        and not _value(row, "Name")
        and not _value(row, "Dedoose.name_factor")
    }
    assert expected
    assert {(f, r) for f, r, _ in places(real, "rating-without-factor")} == expected


def finding_key(row: dict[str, str]) -> tuple[str, ...]:
    overall = (_value(row, "effects_type") or "").lower() == "average"
    direction = _value(row, "overall" if overall else "Factor_effect") or ""
    return (
        row["Index.Number"].strip(),
        row["Tool"].strip(),
        "" if overall else (_value(row, "CD") or ""),
        row["Outcome"].strip().lower(),
        " ".join(direction.split()).lower(),
    )


@pytest.mark.shared
def test_repeated_source_rows_counted_from_the_csv(
    shared_release: Path, real: QualityCheck
) -> None:
    expected = set()
    for spec in RELEASES.values():
        seen: set[tuple[str, ...]] = set()
        for number, row in enumerate(release_rows(shared_release, spec.sources_file), start=1):
            key = finding_key(row)
            if key in seen:
                expected.add((spec.sources_file, number))
            seen.add(key)
    assert expected
    reported = {
        (f, r)
        for f, r, _ in places(real, "repeated-record")
        if f.endswith(".csv") and "sources" in f
    }
    assert reported == expected


@pytest.mark.shared
def test_study_years_counted_from_the_csv(shared_release: Path, real: QualityCheck) -> None:
    """The review's 39 studies that V1 or V2 dates otherwise than the bibliography: one record
    per release's study file, at the study's first row."""
    bibliography: dict[str, set[str]] = defaultdict(set)
    for row in release_rows(shared_release, RELEASES["V3"].bibliography_file or ""):
        for name in re.split(
            r"\s*;\s*", (_value(row, "Extra") or "").removeprefix("documentName:")
        ):
            if name.strip() and _value(row, "Publication Year"):
                bibliography[name.strip()].add(row["Publication Year"].strip())
    expected = set()
    for spec in RELEASES.values():
        first: dict[str, tuple[int, str]] = {}
        for number, row in enumerate(release_rows(shared_release, spec.sources_file), start=1):
            first.setdefault(row["Index.Number"].strip(), (number, row["Year"].strip()))
        for study, (number, year) in first.items():
            if study in bibliography and year not in bibliography[study]:
                expected.add((spec.sources_file, number, study))
    assert len({study for _, _, study in expected}) == 39
    reported = {
        (i.file, i.row, next(iter(i.studies)))
        for i in real.issues
        if i.kind == "study-year-differs"
    }
    assert reported == expected


@pytest.mark.shared
def test_every_study_has_a_bibliography_record_once_extra_is_split(real: QualityCheck) -> None:
    """Zotero's Extra field names several documents in 29 records; split, they cover every
    study of the three releases."""
    assert places(real, "study-without-bibliography") == set()


@pytest.mark.shared
def test_committed_report_is_the_report_of_the_files(
    repo: Path, shared_release: Path, real: QualityCheck
) -> None:
    committed = repo / "data" / "ushmm" / "quality.ttl"
    if not committed.is_file():
        pytest.skip("data/ushmm/quality.ttl is written by `atrocity-kg import ushmm`")
    from graphdiff import assert_isomorphic

    assert_isomorphic(graphs.parse_turtle(committed), real.graph)
