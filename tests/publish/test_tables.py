"""The table exports against the USHMM files themselves: the release layout round-trips, the
schema.org file and the gap map count what the CSV files hold (read here with the csv module)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.ingest import codebook, layout
from atrocity_kg.model.citations import plain_citation
from atrocity_kg.publish import tables
from atrocity_kg.storage import store
from conftest import make_home
from release_fixture import FILES, write_release

SDO = "https://schema.org/"
V3_FOLDER = "V3 - 2025_April"

# Columns of all_sources_3.csv the exporter fills, and those it leaves empty, with the reason.
MODELLED_SOURCES = {
    "", "effects_type", "Index.Number", "Tool", "CD", "Factor_effect", "overall", "Publication",
    "Empirical", "Qual", "Quant", "Method", "Outcome", "full_citation", "Year",
}  # fmt: skip
_TOOL_SUMMARY = (
    "a per-tool summary of the overall-effect findings, repeated on each record; the graph keeps "
    "the findings it is counted from, not the summary"
)
_FACTOR_SUMMARY = (
    "a per-tool-and-factor summary repeated on each record; the graph keeps it once, in the "
    "published assessment (all_factors)"
)
UNMODELLED_SOURCES = {
    "count": _TOOL_SUMMARY,
    "count_adverse": _TOOL_SUMMARY,
    "count_without_adverse": _TOOL_SUMMARY,
    **{
        f"{focus}_focus_{effect}_{kind}": _TOOL_SUMMARY
        for focus in ("ma", "cro")
        for effect in ("increase", "decrease", "no_mixed")
        for kind in ("average", "count_average")
    },
    "vote_average": _TOOL_SUMMARY,
    "vote_count_average": _TOOL_SUMMARY,
    "greater_findings": _FACTOR_SUMMARY,
    "lesser_findings": _FACTOR_SUMMARY,
    "no_mixed_findings": _FACTOR_SUMMARY,
    **{
        f"{focus}_focus_{effect}_factor": _FACTOR_SUMMARY
        for focus in ("ma", "cro")
        for effect in ("greater", "lesser", "no_mixed")
    },
}
# Columns of all_factors_3.csv the exporter fills, and those it leaves empty, with the reason.
MODELLED_FACTORS = {
    "", "tool_name", "Dedoose.name_tool", "Name", "Dedoose.name_factor", "Inverse.factor",
    "Contextual.or.design.factor", "Family", "count", "greater_findings", "lesser_findings",
    "no_mixed_findings", "temp_vote_count_factor", "vote_count_factor", "count_adverse",
    "count_without_adverse", "ma_focus_greater_count_factor", "ma_focus_lesser_count_factor",
    "ma_focus_no_mixed_count_factor", "cro_focus_greater_count_factor",
    "cro_focus_lesser_count_factor", "cro_focus_no_mixed_count_factor",
    "inversion_with_neg_strength", "research_qualitative", "greater_practitioner",
    "lesser_practitioner", "no_mixed_practitioner", "count_practitioner", "number_practitioners",
    "proportion_practitioner", "practitioner_qualitative", "dissuade", "degrade", "protect",
    "transition",
}  # fmt: skip
_PROSE = "the review's prose: the importer reads facts only, never its wording"
_DISPLAY = (
    "the site's display form, derived from Name, Inverse.factor and the inversion; the graph "
    "keeps those parts (and recomputes akg:shownAsFactor), not the display string"
)
_CURATED = (
    "a fact about the tool, which the project keeps in its own curated data (data/curated), not "
    "per release"
)
_FAMILY_FLAGS = "a one-hot copy of Family, which the graph keeps as akg:factorFamily"
UNMODELLED_FACTORS = {
    "Name.Final_research": _DISPLAY,
    "Name.Final_practitioner": _DISPLAY,
    "outcomes": "a list of the outcomes of the factor's findings; the graph keeps the findings",
    "Short.description": _PROSE,
    "Description_tool": _PROSE,
    "Theory.of.change": _PROSE,
    "Description": _PROSE,
    "Inverse.factor.description": _PROSE,
    "Description.Final_research": _PROSE,
    "Description.Final_practitioner": _PROSE,
    "research_qualitative_for_web": _PROSE,
    "practitioner_qualitative_for_web": _PROSE,
    "Structural.or.operational": _CURATED,
    "Evidence.review": _CURATED,
    "Strategies.the.tool.can.support": _CURATED + "; the flags dissuade..transition are modelled",
    "DIMEL": _CURATED,
    "military": _CURATED,
    "diplomatic": _CURATED,
    "informational": _CURATED,
    "economic": _CURATED,
    "legal": _CURATED,
    **{
        name: _FAMILY_FLAGS
        for name in (
            "domestic_context",
            "conflict_dynamics",
            "target_characteristics",
            "implementer_choices",
            "implementer_characteristics",
            "international_dynamics",
            "tool_specific",
        )
    },
}
# The graph keeps these per study, not per record: where the review codes one study differently
# on two records, each record can only get one of the study's values back.
PER_STUDY = ("Publication", "Empirical", "Qual", "Quant", "Method", "full_citation", "Year")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _norm(value: str, column: str = "") -> str | Decimal:
    """Only what the review's files themselves vary: NA or nothing for no value, trailing and
    leading spaces (its direction texts end in a space in some rows and not in others), and how a
    number is written (1 and 1.0). The review's citation (``column`` full_citation) is compared
    as the plain text the graph keeps (no '*' emphasis markers, no stray punctuation): the export
    writes that text, exactly."""
    text = value.strip()
    if column == "full_citation" and text != "NA":
        text = plain_citation(text)
    if text == "NA":
        return ""
    try:
        return Decimal(text).normalize() if text else ""
    except InvalidOperation:
        return text


@pytest.fixture(scope="module")
def exported(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    with store.opened(built.store_root) as opened:
        tables.export_tables(opened, "V3", folder)
    return folder


def _upstream(shared: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    return _read(shared / "data" / V3_FOLDER / name)


def test_column_lists_cover_the_upstream_headers(shared_release: Path) -> None:
    for name, modelled, unmodelled, header in (
        ("all_sources_3.csv", MODELLED_SOURCES, UNMODELLED_SOURCES, layout.SOURCES_HEADERS[3]),
        ("all_factors_3.csv", MODELLED_FACTORS, UNMODELLED_FACTORS, layout.FACTORS_HEADERS[3]),
    ):
        upstream, _ = _upstream(shared_release, name)
        assert not modelled & set(unmodelled), name
        assert modelled | set(unmodelled) == set(upstream), name
        assert list(header) == upstream, f"{name}: the exporter's header is not the review's"


def _compare(
    upstream: list[dict[str, str]],
    ours: list[dict[str, str]],
    modelled: set[str],
    unmodelled: dict[str, str],
    lenient: dict[tuple[str, str], set[str | Decimal]],
) -> list[str]:
    """Every modelled cell equal after normalising, every unmodelled one empty; a cell listed in
    `lenient` (record, column) may hold any of the values given there."""
    theirs = {row[""]: row for row in upstream}
    problems = []
    for row in ours:
        source = theirs[row[""]]
        for column in sorted(modelled):
            got, want = _norm(row[column]), _norm(source[column], column)
            allowed = lenient.get((row[""], column))
            if got != want and not (allowed is not None and got in allowed):
                problems.append(f"record {row['']} {column}: {row[column]!r} != {source[column]!r}")
        problems += [f"record {row['']} {c}: not empty" for c in unmodelled if row[c]]
    return problems


def test_sources_round_trip(shared_release: Path, exported: Path) -> None:
    _, upstream = _upstream(shared_release, "all_sources_3.csv")
    _, ours = _read(exported / "all_sources_3.csv")
    assert [r[""] for r in ours] == [r[""] for r in upstream], "one row per record, in order"
    values: dict[tuple[str, str], set[str | Decimal]] = defaultdict(set)
    for row in upstream:
        for column in PER_STUDY:
            values[(row["Index.Number"], column)].add(_norm(row[column], column))
    lenient = {
        (row[""], column): values[(row["Index.Number"], column)]
        for row in upstream
        for column in PER_STUDY
        if len(values[(row["Index.Number"], column)]) > 1
    }
    # V3 codes one study with two qualitative methods and two studies with two citations: the
    # graph keeps both values on the study, so those records get one of them back.
    assert {column for _, column in lenient} == {"Qual", "full_citation"}
    assert not _compare(upstream, ours, MODELLED_SOURCES, UNMODELLED_SOURCES, lenient)


def _same_factor(text: str) -> str:
    """The graph mints one node for a factor's code and its name when they differ only in case
    and punctuation ('Humanitarian_exemptions', 'Humanitarian exemptions')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


FACTOR_LEVEL = {
    "Name": "Name",
    "Dedoose.name_factor": "Dedoose name",
    "Inverse.factor": "Inverse factor",
    "Contextual.or.design.factor": "Contextual or design factor",
    "Family": "Family",
}


def test_factors_round_trip(shared_release: Path, exported: Path) -> None:
    _, upstream = _upstream(shared_release, "all_factors_3.csv")
    _, guide = _read(shared_release / "auxiliary" / V3_FOLDER / "analytic_guide_3.csv")
    _, ours = _read(exported / "all_factors_3.csv")
    # Records naming no factor (a tool's row with no rating) are not in the graph.
    rated = [r[""] for r in upstream if _norm(r["Name"]) != ""]
    assert len(rated) < len(upstream)
    assert [r[""] for r in ours] == rated
    # The graph keeps a factor's facts once per release: where the code book and the ratings file
    # (or two records) disagree, a record gets one of the release's values for that factor back.
    values: dict[tuple[str, str], set[str | Decimal]] = defaultdict(set)

    def factor_of(row: dict[str, str], code: str) -> str:
        return _same_factor(row[code] if _norm(row[code]) else row["Name"])

    for row in guide:
        if row["Type"].strip().lower() == "factor":
            for column, guide_column in FACTOR_LEVEL.items():
                values[(factor_of(row, "Dedoose name"), column)].add(_norm(row[guide_column]))
    for row in upstream:
        if _norm(row["Name"]):
            for column in FACTOR_LEVEL:
                values[(factor_of(row, "Dedoose.name_factor"), column)].add(_norm(row[column]))
    lenient = {
        (row[""], column): values[(factor_of(row, "Dedoose.name_factor"), column)]
        for row in upstream
        if _norm(row["Name"])
        for column in FACTOR_LEVEL
        if len(values[(factor_of(row, "Dedoose.name_factor"), column)]) > 1
    }
    # A record rated by practitioners only has no research rating, hence no inversion: 37 such
    # V3 records write NA and one (record 326) writes 0.
    unrated = [r for r in upstream if _norm(r["Name"]) and not _norm(r["count"])]
    for row in unrated:
        lenient[(row[""], "inversion_with_neg_strength")] = {
            _norm(r["inversion_with_neg_strength"]) for r in unrated
        }
    assert not _compare(upstream, ours, MODELLED_FACTORS, UNMODELLED_FACTORS, lenient)


def test_schema_org_has_an_article_per_v3_study(shared_release: Path, exported: Path) -> None:
    """Articles are the latest release's (V3's) studies, not those of every release."""
    graph = Graph().parse(exported / tables.SCHEMA_ORG_FILE, format="json-ld")
    _, upstream = _upstream(shared_release, "all_sources_3.csv")
    studies = {row["Index.Number"] for row in upstream}
    articles = set(graph.subjects(RDF.type, URIRef(SDO + "ScholarlyArticle")))
    assert len(articles) == len(studies)
    identifiers = {str(o) for a in articles for o in graph.objects(a, URIRef(SDO + "identifier"))}
    assert studies <= identifiers
    _, factors = _upstream(shared_release, "all_factors_3.csv")
    rated = [r for r in factors if _norm(r["Name"]) and _norm(r["count"])]
    claims = set(graph.subjects(RDF.type, URIRef(SDO + "Claim")))
    assert len(claims) == len(rated)
    for claim in claims:
        assert set(graph.objects(claim, URIRef(SDO + "appearance"))) <= articles
    assert all(set(graph.objects(c, URIRef(SDO + "appearance"))) for c in claims)


def _gap_key(row: dict[str, str], tools: dict[str, str]) -> tuple[str, ...]:
    outcome = row["Outcome"].strip().lower().replace(" ", "-")
    if row["effects_type"] == "Average":
        word = row["overall"].strip().split(" ")[0].lower()
        direction = {"decreases": "decreases", "increases": "increases"}.get(word, "no-or-mixed")
        return (tools[row["Tool"]], "overall-effect", outcome, direction)
    effect = row["Factor_effect"].lower()
    direction = next(
        (f"{d}-effectiveness" for d in ("greater", "lesser") if f"{d} effectiveness" in effect),
        "no-or-mixed",
    )
    return (tools[row["Tool"]], "factor", outcome, direction)


def test_gap_map_counts_equal_the_sources(
    shared_release: Path, shared_facts: Path, exported: Path
) -> None:
    facts = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))
    tools = {t["dedoose_code"]: t["slug"] for t in facts["tools"]}
    findings: dict[tuple[str, ...], set[tuple[str, ...]]] = defaultdict(set)
    studies: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for row in _upstream(shared_release, "all_sources_3.csv")[1]:
        key = _gap_key(row, tools)
        # identical records are one finding, as the review counts them
        findings[key].add((row["Index.Number"], row["CD"], *key))
        studies[key].add(row["Index.Number"])
    expected = {key: (len(findings[key]), len(studies[key])) for key in findings}
    _, gap_map = _read(exported / tables.GAP_MAP_FILE)
    got = {
        (r["tool"], r["finding_type"], r["outcome"], r["direction"]): (
            int(r["findings"]),
            int(r["studies"]),
        )
        for r in gap_map
        if r["release"] == "V3"
    }
    assert got == expected
    assert {r["release"] for r in gap_map} == {"V1", "V2", "V3"}


def test_reverse_vocabularies_agree_with_the_importer(repo: Path) -> None:
    """Each string written back maps, through the importer's own table, to the key it came from
    (both read from the curated vocabularies' code book)."""
    codes = codebook.code_book(graphs.load_curated(Settings(home=repo)))
    pairs = [(codes.written(column), codes.reading(column)) for column in codebook.COLUMNS]
    for written, imported in pairs:
        assert {imported[text.lower()] for text in written.values()} == set(written)
        assert set(imported.values()) <= set(written)


def test_tiny_release_round_trips(tmp_path: Path) -> None:
    """Without ../shared: a tiny release imported, built and exported gives its own files back."""
    settings = make_home(tmp_path / "home", with_releases=False)
    release = write_release(tmp_path / "release")
    pipeline.import_ushmm(settings, release, ["V3"])
    pipeline.build_store(settings)
    with store.opened(settings.store_root) as opened:
        tables.write_ushmm_csv(opened, "V3", tmp_path / "out")
    for kind, name, modelled in (
        ("sources", "all_sources_3.csv", MODELLED_SOURCES),
        ("factors", "all_factors_3.csv", MODELLED_FACTORS),
    ):
        header, written = _read(release / FILES[kind])
        _, ours = _read(tmp_path / "out" / name)
        assert [r[""] for r in ours] == [r[""] for r in written]
        columns = set(header) & modelled
        assert len(columns) > 10
        problems = [
            f"{name} record {mine['']} {column}: {mine[column]!r} != {theirs[column]!r}"
            for mine, theirs in zip(ours, written, strict=True)
            for column in sorted(columns)
            if _norm(mine[column]) != _norm(theirs[column], column)
        ]
        assert not problems
