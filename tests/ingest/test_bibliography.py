"""The review's bibliography (zotero_N.csv): every document an entry names is linked, editors are
not authors, two entries for one document are an error unless they agree, and the newest
bibliography describes the studies of every release.

The first tests read tiny releases written here; the last ones the USHMM files (skipped without
../shared), with expected values computed from the CSV files with the csv module.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from atrocity_kg.config import Settings
from atrocity_kg.errors import ReleaseFormatError
from atrocity_kg.graph import graphs
from atrocity_kg.graph.build import release_graph, tool_catalogue
from atrocity_kg.ingest import quirks
from atrocity_kg.ingest.ushmm import ToolCatalogue, read_release
from atrocity_kg.model import iris
from atrocity_kg.model.citations import emphasis_pieces, plain_citation
from atrocity_kg.model.namespaces import AKG, BIBO, PRISM
from release_fixture import FILES, Tables, release_files, write_release

FIRST = iris.study("Peace Ops.001")
SECOND = iris.study("Peace Ops.002")
# Spelt out: pytest looks up odd names on a test module's globals, which rdflib's closed XSD
# namespace answers with a warning.
GYEAR = URIRef("http://www.w3.org/2001/XMLSchema#gYear")


@pytest.fixture(scope="module")
def catalogue(repo: Path) -> ToolCatalogue:
    return tool_catalogue(graphs.load_curated(Settings(home=repo)))


def _entry(**values: str) -> dict[str, str]:
    entry = {
        "Key": "EFGH5678",
        "Publication Year": "2019",
        "Author": "Poe, Edgar",
        "Editor": "",
        "Title": "Peace in practice",
        "Publication Title": "",
        "DOI": "10.1234/tests.2",
        "Extra": "documentName: Peace Ops.002",
    }
    return {**entry, **values}


def _add(*entries: dict[str, str]) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        tables["bibliography"].extend(entries)

    return change


def _graph(folder: Path, catalogue: ToolCatalogue, code: str = "V3") -> Graph:
    return release_graph(read_release(folder, code, catalogue))


def test_every_document_an_entry_names_is_linked(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    """'documentName: A; B' names two documents, each trimmed; one that is no study is fine."""

    def one_entry_for_both(tables: Tables) -> None:
        tables["bibliography"][0]["Extra"] = (
            "documentName:  Peace Ops.002 ;Peace Ops.001; Mediation.99 ;"
        )

    graph = _graph(write_release(tmp_path, one_entry_for_both), catalogue)
    for study in (FIRST, SECOND):
        assert graph.value(study, AKG.zoteroKey) == Literal("ABCD1234")
        assert graph.value(study, BIBO.doi) == Literal("10.1234/tests.1")
        assert graph.value(study, DCTERMS.title) == Literal("Keeping the peace")
    assert iris.study("Mediation.99") not in set(graph.subjects())


def test_two_entries_for_one_document_that_differ_stop_the_import(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    other = _entry(Extra="documentName: Peace Ops.002; Peace Ops.001")
    with pytest.raises(ReleaseFormatError) as caught:
        read_release(write_release(tmp_path, _add(other)), "V3", catalogue)
    error = caught.value
    assert error.location.file == FILES["bibliography"]
    assert (error.location.row, error.location.column) == (2, "Extra")
    assert "rows 1 (ABCD1234) and 2 (EFGH5678)" in str(error)
    assert "'Peace Ops.001'" in str(error)


def test_two_entries_that_agree_are_one(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    def twice(tables: Tables) -> None:
        tables["bibliography"].append({**tables["bibliography"][0], "Key": "ZZZZ9999"})

    records = read_release(write_release(tmp_path, twice), "V3", catalogue)
    assert release_graph(records).value(FIRST, AKG.zoteroKey) == Literal("ABCD1234")
    assert any("rows 1 (ABCD1234) and 2 (ZZZZ9999)" in quirk for quirk in records.quirks)


def test_a_known_duplicate_keeps_the_entry_listed(
    tmp_path: Path, catalogue: ToolCatalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        quirks.KNOWN_DUPLICATES, ("zotero_3.csv", "Peace Ops.001"), ("EFGH5678", "the test's")
    )
    other = _entry(Extra="documentName: Peace Ops.001")
    records = read_release(write_release(tmp_path, _add(other)), "V3", catalogue)
    assert release_graph(records).value(FIRST, AKG.zoteroKey) == Literal("EFGH5678")
    assert any("row 2 (EFGH5678) is kept: the test's" in quirk for quirk in records.quirks)


def test_editors_are_not_creators(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    """A chapter: authors are creators, the book's editors bibo:editor; an edited book with
    no author: editors only, and no creator taken from its citation either."""

    def chapter_and_book(tables: Tables) -> None:
        tables["bibliography"][0]["Editor"] = "Gee, Pat; Hill, Sam"
        tables["bibliography"].append(_entry(Author="", Editor="Aguswandi; Large, Judith"))
        for row in tables["sources"][2:]:
            row["full_citation"] = "Aguswandi; Large, Judith, ed. *Peace in practice* Test, 2019."

    graph = _graph(write_release(tmp_path, chapter_and_book), catalogue)
    assert set(graph.objects(FIRST, DCTERMS.creator)) == {
        Literal("Doe, Jane"),
        Literal("Roe, Richard"),
    }
    assert set(graph.objects(FIRST, BIBO.editor)) == {Literal("Gee, Pat"), Literal("Hill, Sam")}
    assert set(graph.objects(SECOND, DCTERMS.creator)) == set()
    assert set(graph.objects(SECOND, BIBO.editor)) == {
        Literal("Aguswandi"),
        Literal("Large, Judith"),
    }


def test_without_an_entry_the_citation_describes_the_study(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    def edited(tables: Tables) -> None:
        for row in tables["sources"][2:]:
            row["full_citation"] = "Roe, Ann, ed. *Peace in practice*. Test Press, 2019."

    graph = _graph(write_release(tmp_path, edited), catalogue)
    assert graph.value(SECOND, AKG.zoteroKey) is None
    assert graph.value(SECOND, DCTERMS.title) == Literal("Peace in practice")
    assert graph.value(SECOND, DCTERMS.creator) is None
    assert graph.value(SECOND, BIBO.editor) == Literal("Roe, Ann")
    assert graph.value(SECOND, DCTERMS.issued) == Literal("2019", datatype=GYEAR)


def test_citations_are_plain_text(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    def report(tables: Tables) -> None:
        for row in tables["sources"][2:]:
            row["full_citation"] = ". *Peace in practice*. , 2019."

    graph = _graph(write_release(tmp_path, report), catalogue)
    assert set(graph.objects(SECOND, DCTERMS.bibliographicCitation)) == {
        Literal("Peace in practice. 2019.")
    }
    assert set(graph.objects(FIRST, DCTERMS.bibliographicCitation)) == {
        Literal('Doe, Jane; Roe, Richard. "Keeping the peace," Journal of Tests, vol. 1 (2015)')
    }
    assert graph.value(FIRST, PRISM.publicationName) == Literal("Journal of Tests")


def _v2_year(year: str) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        tables["sources V2"] = [dict(row) for row in tables["sources"]]
        for row in tables["sources V2"][:2]:
            row["Year"] = year

    return change


def test_the_newest_bibliography_describes_every_release(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    """V2 ships no bibliography: V3's describes its studies, and where V2 codes another year
    than the bibliography, the bibliography's is kept and the difference reported."""
    folder = write_release(tmp_path, _v2_year("2014"), codes=("V2", "V3"))
    records = read_release(folder, "V2", catalogue)
    graph = release_graph(records)
    assert graph.value(FIRST, AKG.zoteroKey) == Literal("ABCD1234")
    assert graph.value(FIRST, BIBO.doi) == Literal("10.1234/tests.1")
    assert graph.value(FIRST, DCTERMS.issued) == Literal("2015", datatype=GYEAR)
    sources = release_files("V2")["sources"]
    year_quirks = [q for q in records.quirks if "column Year" in q]
    assert len(year_quirks) == 1
    assert year_quirks[0].startswith(f"{sources}, row 1, column Year: ")
    assert "2014" in year_quirks[0]
    assert f"2015 in {FILES['bibliography']}, row 1" in year_quirks[0]


def test_a_release_alone_keeps_its_own_values(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    folder = write_release(tmp_path, _v2_year("2014"), codes=("V2",))
    records = read_release(folder, "V2", catalogue)
    graph = release_graph(records)
    assert graph.value(FIRST, AKG.zoteroKey) is None
    assert graph.value(FIRST, DCTERMS.issued) == Literal("2014", datatype=GYEAR)
    assert records.quirks == []
    assert FILES["bibliography"] not in records.files


def test_v3_without_its_bibliography_is_an_error(tmp_path: Path, catalogue: ToolCatalogue) -> None:
    folder = write_release(tmp_path)
    (folder / FILES["bibliography"]).unlink()
    with pytest.raises(ReleaseFormatError, match="missing file") as caught:
        read_release(folder, "V3", catalogue)
    assert caught.value.location.file == FILES["bibliography"]


def test_a_bad_publication_year_names_file_row_and_column(
    tmp_path: Path, catalogue: ToolCatalogue
) -> None:
    def spoil(tables: Tables) -> None:
        tables["bibliography"][0]["Publication Year"] = "n.d."

    with pytest.raises(ReleaseFormatError) as caught:
        read_release(write_release(tmp_path, spoil), "V3", catalogue)
    location = caught.value.location
    assert (location.file, location.row, location.column) == (
        FILES["bibliography"],
        1,
        "Publication Year",
    )


# --- the USHMM files -----------------------------------------------------------------------------

ZOTERO = "auxiliary/V3 - 2025_April/zotero_3.csv"
SOURCES = {
    "V1": "data/V1 - 2022/all_sources_1.csv",
    "V2": "data/V2 - 2024/all_sources_2.csv",
    "V3": "data/V3 - 2025_April/all_sources_3.csv",
}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(";") if name.strip()]


def _documents(row: dict[str, str]) -> list[str]:
    """The documents a bibliography row names in Extra ('documentName: A; B')."""
    found = [
        name for line in re.findall(r"documentName:(.*)", row["Extra"]) for name in _names(line)
    ]
    return list(dict.fromkeys(found))


@pytest.fixture(scope="module")
def entries(shared_release: Path) -> dict[str, list[dict[str, str]]]:
    """Document (index number) -> the bibliography rows naming it, read here from the CSV."""
    named: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _csv(shared_release / ZOTERO):
        for document in _documents(row):
            named[document].append(row)
    return named


@pytest.fixture(scope="module")
def studies(shared_release: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Release -> index number -> the study's first record in the release's sources file."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for code, relative in SOURCES.items():
        found[code] = {}
        for row in _csv(shared_release / relative):
            found[code].setdefault(row["Index.Number"].strip(), row)
    return found


@pytest.fixture(scope="module")
def committed(repo: Path) -> dict[str, Graph]:
    return {
        code: graphs.parse_turtle(repo / "data" / "ushmm" / f"{code.lower()}.ttl")
        for code in SOURCES
    }


def _kept(entries: dict[str, list[dict[str, str]]], document: str) -> dict[str, str]:
    rows = entries[document]
    if len(rows) == 1:
        return rows[0]
    key = quirks.KNOWN_DUPLICATES[("zotero_3.csv", document)][0]
    return next(row for row in rows if row["Key"] == key)


def test_every_v3_study_is_linked_to_its_entry(
    entries: dict[str, list[dict[str, str]]],
    studies: dict[str, dict[str, dict[str, str]]],
    committed: dict[str, Graph],
) -> None:
    """Each V3 study has the Zotero key of the entry naming it (several documents to an entry
    included): all of them, since the bibliography names every V3 study."""
    graph = committed["V3"]
    linked = {}
    for index in studies["V3"]:
        keys = set(graph.objects(iris.study(index), AKG.zoteroKey))
        if keys:
            linked[index] = {str(key) for key in keys}
    expected = {index: {_kept(entries, index)["Key"]} for index in studies["V3"]}
    assert linked == expected
    assert len(linked) == len(studies["V3"])
    shared = [index for index in linked if len(_documents(_kept(entries, index))) > 1]
    assert len(shared) > 20, "studies whose entry names several documents are among those checked"


def test_every_release_has_the_bibliographys_description(
    entries: dict[str, list[dict[str, str]]],
    studies: dict[str, dict[str, dict[str, str]]],
    committed: dict[str, Graph],
) -> None:
    """Title, authors (never an editor), editors, venue, DOI and year as the entry gives them,
    in V1 and V2 too, and the same in every release."""
    problems: list[tuple[object, ...]] = []
    for code, graph in committed.items():
        for index in studies[code]:
            entry = _kept(entries, index)
            study = iris.study(index)
            expected = {
                "title": {entry["Title"].strip()},
                "creators": set(_names(entry["Author"])),
                "editors": set(_names(entry["Editor"])),
                "year": {entry["Publication Year"].strip()},
            }
            got = {
                "title": {str(o) for o in graph.objects(study, DCTERMS.title)},
                "creators": {str(o) for o in graph.objects(study, DCTERMS.creator)},
                "editors": {str(o) for o in graph.objects(study, BIBO.editor)},
                "year": {str(o) for o in graph.objects(study, DCTERMS.issued)},
            }
            if not expected["creators"]:
                del expected["creators"]  # the citation's creators, if it names any
            for name, values in expected.items():
                if got[name] != values:
                    problems.append((code, index, name, got[name], values))
            if set(_names(entry["Editor"])) & got["creators"]:
                problems.append((code, index, "an editor among the creators", got["creators"]))
    assert problems == []


def test_mediation_60_is_an_edited_book(
    entries: dict[str, list[dict[str, str]]], committed: dict[str, Graph]
) -> None:
    editors = set(_names(entries["Mediation.60"][0]["Editor"]))
    assert editors
    for graph in committed.values():
        study = iris.study("Mediation.60")
        assert {str(o) for o in graph.objects(study, DCTERMS.creator)} & editors == set()
        assert {str(o) for o in graph.objects(study, BIBO.editor)} == editors


def test_targeted_sanctions_16_has_its_doi(
    entries: dict[str, list[dict[str, str]]],
    studies: dict[str, dict[str, dict[str, str]]],
    committed: dict[str, Graph],
) -> None:
    """Its entry names two documents; the DOI is the entry's and the release's citation's."""
    index = "Targeted Sanctions.16"
    (entry,) = entries[index]
    assert len(_documents(entry)) > 1
    cited = re.search(r"DOI: (\S+)", studies["V3"][index]["full_citation"])
    assert cited is not None
    assert entry["DOI"].strip() == cited[1]
    for code, graph in committed.items():
        if index in studies[code]:
            assert graph.value(iris.study(index), BIBO.doi) == Literal(cited[1]), code


def test_dois_per_release(
    entries: dict[str, list[dict[str, str]]],
    studies: dict[str, dict[str, dict[str, str]]],
    committed: dict[str, Graph],
) -> None:
    """A study has a DOI in every release where its entry gives a valid one (one known slip)."""
    for code, graph in committed.items():
        expected = {
            index
            for index in studies[code]
            if re.search(r"10\.\d{4,9}/\S+", _kept(entries, index)["DOI"])
            and ("zotero_3.csv", index, "DOI") not in quirks.KNOWN_QUIRKS
        }
        got = {
            index for index in studies[code] if graph.value(iris.study(index), BIBO.doi) is not None
        }
        assert got == expected, code


def test_year_differences_are_reported(
    shared_release: Path,
    entries: dict[str, list[dict[str, str]]],
    studies: dict[str, dict[str, dict[str, str]]],
    catalogue: ToolCatalogue,
) -> None:
    for code in ("V1", "V2"):
        differ = {
            index: (row["Year"].strip(), _kept(entries, index)["Publication Year"].strip())
            for index, row in studies[code].items()
            if row["Year"].strip() != _kept(entries, index)["Publication Year"].strip()
        }
        assert differ, code
        reported = [
            q for q in read_release(shared_release, code, catalogue).quirks if "column Year" in q
        ]
        assert len(reported) == len(differ), code
        for index, (theirs, ours) in differ.items():
            line = next(q for q in reported if f"study {index!r} " in q)
            assert line.startswith(f"{SOURCES[code]}, row ")
            assert f"has {theirs} here but {ours} in {ZOTERO}" in line


def test_no_citation_holds_markup_or_stray_punctuation(committed: dict[str, Graph]) -> None:
    for code, graph in committed.items():
        citations = [
            str(o)
            for s in graph.subjects(RDF.type, AKG.Study)
            for o in graph.objects(s, DCTERMS.bibliographicCitation)
        ]
        assert citations, code
        bad = [
            c
            for c in citations
            if "*" in c
            or re.match(r"[\W_]", c)
            or c != " ".join(c.split())
            or re.search(r"(?<!\.)\.\.(?!\.)|,,| [,.;](?:\s|$)", c)
        ]
        assert bad == [], code


def test_pages_emphasise_what_the_release_marked(
    shared_release: Path, committed: dict[str, Graph]
) -> None:
    """Each citation of the release is in the graph as plain text, and the emphasis found in it
    from the structured description (venue, or a book's title) is what the release marked with
    asterisks, or nothing where it marked nothing ('**'). Two citations mark something else: an
    entry's venue spelt otherwise (Peace Ops.050) and a stray asterisk (Mediation.47)."""
    for code, graph in committed.items():
        others = []
        problems = []
        for row in {
            (r["Index.Number"].strip(), r["full_citation"]): r
            for r in _csv(shared_release / SOURCES[code])
        }.values():
            study = iris.study(row["Index.Number"].strip())
            citation = plain_citation(row["full_citation"])
            assert Literal(citation) in set(graph.objects(study, DCTERMS.bibliographicCitation))
            venue = graph.value(study, PRISM.publicationName)
            title = graph.value(study, DCTERMS.title)
            shown = [
                piece.text
                for piece in emphasis_pieces(
                    citation,
                    None if venue is None else str(venue),
                    None if title is None else str(title),
                )
                if piece.emphasis
            ]
            marked = [" ".join(m.split()) for m in re.findall(r"\*([^*]*)\*", row["full_citation"])]
            marked = [m for m in marked if m]
            if marked and (len(marked) > 1 or marked[0] not in {str(venue), str(title)}):
                others.append(row["Index.Number"])
            elif shown != marked:
                problems.append((row["Index.Number"], marked, shown))
        assert problems == [], code
        assert len(others) <= 2, (code, others)
