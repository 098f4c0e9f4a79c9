"""Releases compared: the release-* catalogue queries and `atrocity-kg diff`.

The expected results (V2 to V3) are recomputed from the USHMM files with the csv module, and the
queries are run for other pairs of releases on the built store and checked the same way (skipped
without ../shared): studies from all_sources_N.csv (Tool, Index.Number), research levels and
finding counts from all_factors_N.csv (tool_name, Name, Dedoose.name_factor, count,
research_qualitative), never from our own output. The published ratings (a research rating is a
row with a count, a practitioner rating a row with number_practitioners) take their levels and
scores from the csv module too; only which tool and factor a row means is asked of the importer
(read_release, by the row's number), so that the keys follow however the importer reconciles
factors.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import unicodedata
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.graph import build, graphs
from atrocity_kg.ingest.ushmm import ToolCatalogue, read_release
from atrocity_kg.model import iris
from atrocity_kg.storage import store
from conftest import REPO
from queries_support import as_plain, load_expected, run_catalogue_query
from release_csv import ID, RELEASE_FOLDERS, release_rows

runner = CliRunner()

STUDIES, CHANGES, APPEARED, PUBLISHED = (
    "release-studies-added",
    "release-level-changes",
    "release-factors-appeared-vanished",
    "release-published-rating-changes",
)
DIFF = (STUDIES, CHANGES, APPEARED, PUBLISHED)
RANK = {"None available": 0, "Weaker": 1, "Moderate": 2, "Stronger": 3}
LEVEL_LABELS = {
    "Stronger": "relatively strong",
    "Moderate": "moderate",
    "Weaker": "relatively weak",
    "None available": "none available",
}
OTHER_PAIRS = [("V1", "V2"), ("V1", "V3"), ("V3", "V2"), ("V3", "V3")]

Level = tuple[str, int]
"""A research level as the site codes it, and the number of findings behind it."""


def _slug(text: str) -> str:
    """The key an IRI ends with: ASCII, lower case, runs of other characters turned into '-'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join("".join(c if c.isalnum() else " " for c in folded.lower()).split())


def _release(code: str) -> str:
    return f"{ID}release/{code.lower()}"


@pytest.fixture(scope="module")
def tools(shared_facts: Path) -> dict[str, str]:
    """Tool IRIs by the tool's Dedoose code (Tool columns) and by its name (tool_name)."""
    entries = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))["tools"]
    keys = {t["dedoose_code"]: f"{ID}tool/{t['slug']}" for t in entries}
    keys.update({t["name"].lower(): f"{ID}tool/{t['slug']}" for t in entries})
    return keys


@pytest.fixture(scope="module")
def tool_names(shared_facts: Path) -> dict[str, str]:
    entries = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))["tools"]
    return {f"{ID}tool/{t['slug']}": t["name"] for t in entries}


def studies_from_csv(shared: Path, tools: dict[str, str], code: str) -> dict[str, set[str]]:
    """Per tool, the index numbers of the studies its findings in all_sources_N.csv cite."""
    studies: dict[str, set[str]] = {}
    for row in release_rows(shared, code):
        studies.setdefault(tools[row["Tool"]], set()).add(row["Index.Number"])
    return studies


def _factor_rows(shared: Path, code: str) -> list[dict[str, str]]:
    path = shared / "data" / RELEASE_FOLDERS[code] / f"all_factors_{code[1]}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _coded_pairs(shared: Path, tools: dict[str, str], code: str) -> set[tuple[str, str]]:
    """(tool, factor) for every factor finding of all_sources_N.csv."""
    return {
        (tools[row["Tool"]], f"{ID}factor/{_slug(row['CD'])}")
        for row in release_rows(shared, code)
        if row.get("effects_type", "Contextual or design") != "Average"
    }


@functools.cache
def _reconciled(shared: Path, code: str) -> dict[int, str]:
    """Row number -> factor key, for every rating row the importer read (practitioner and
    research ratings both carry their row)."""
    records = read_release(
        shared, code, build.tool_catalogue(graphs.load_curated(Settings(home=REPO)))
    )
    keys = {rating.row: factor for (_, factor), rating in records.practitioner.items()}
    keys.update({rating.row: factor for (_, factor), rating in records.research.items()})
    return keys


def research_levels(shared: Path, tools: dict[str, str], code: str) -> dict[tuple[str, str], Level]:
    """(tool, factor) -> (research level, findings) from all_factors_N.csv, the factor keyed by
    its code (Dedoose.name_factor; Name where there is none, for practitioner-only factors)."""
    levels: dict[tuple[str, str], Level] = {}
    nameless = []
    for row in _factor_rows(shared, code):
        level, count = row["research_qualitative"], row["count"]
        unnamed = row["Name"] == "NA" and row["Dedoose.name_factor"] == "NA"
        if unnamed and count == "NA":
            continue  # a row about a tool only (its strategies), no factor
        # tool_name is NA on V2's practitioner-only rows, which give the tool's code in Tool.
        name = row["tool_name"].lower()
        tool = tools[name] if name in tools else tools[row.get("Tool", row["Dedoose.name_tool"])]
        if unnamed:
            nameless.append((tool, level, int(count)))
            continue
        if level == "NA":
            # V2 leaves research_qualitative NA, rather than "None available", for factors that
            # only practitioners cite (rows 410-436); V1 and V3 write "None available".
            assert count == "NA", row[""]
            assert row["number_practitioners"] != "NA", row[""]
            level = "None available"
        code_or_name = row["Dedoose.name_factor"]
        if code_or_name == "NA":
            # A factor only practitioners cite, by name: the factor the importer reconciled the
            # row to (tests/test_factor_identity.py checks the reconciliation against the files).
            code_or_name = _reconciled(shared, code)[int(row[""])]
        key = (tool, f"{ID}factor/{_slug(code_or_name)}")
        value = (level, 0 if count == "NA" else int(count))
        # A release may list the same tool and factor twice (V2 rows 382 and 426); they agree.
        assert levels.setdefault(key, value) == value, (code, row[""])
    coded = _coded_pairs(shared, tools, code)
    for tool, level, number in nameless:
        # Upstream quirk, V2 only: all_factors_2.csv row 107 rates a Targeted sanctions factor
        # with neither Name nor Dedoose.name_factor. The factor is the one that the tool's findings
        # in all_sources_2.csv code and no named row rates (see evidence.KNOWN_DIFFERENCES).
        # (A practitioners' row may name that factor: V2 row 328 does, by name alone.)
        rated = {f for (t, f), (_, n) in levels.items() if t == tool and n > 0}
        candidates = {f for t, f in coded if t == tool} - rated
        assert len(candidates) == 1, (code, tool, candidates)
        levels[(tool, candidates.pop())] = (level, number)
    return levels


def expected_studies(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> dict[str, tuple[int, int, int, int]]:
    before = studies_from_csv(shared, tools, earlier)
    after = studies_from_csv(shared, tools, later)
    result = {}
    for tool in before.keys() | after.keys():
        a, b = before.get(tool, set()), after.get(tool, set())
        result[tool] = (len(a), len(b), len(b - a), len(a - b))
    return result


def expected_changes(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> set[tuple[str, str, str, str, str, int, int]]:
    before = research_levels(shared, tools, earlier)
    after = research_levels(shared, tools, later)
    result = set()
    for key in before.keys() & after.keys():
        (a, m), (b, n) = before[key], after[key]
        if a != b:
            direction = "stronger" if RANK[b] > RANK[a] else "weaker"
            result.add((*key, LEVEL_LABELS[a], LEVEL_LABELS[b], direction, m, n))
    return result


def expected_appeared(
    shared: Path, tools: dict[str, str], earlier: str, later: str
) -> set[tuple[str, str, str, int]]:
    studied = {
        code: {k: n for k, (_, n) in research_levels(shared, tools, code).items() if n >= 1}
        for code in {earlier, later}
    }
    before, after = studied[earlier], studied[later]
    return {(*k, "appeared", after[k]) for k in after.keys() - before.keys()} | {
        (*k, "vanished", before[k]) for k in before.keys() - after.keys()
    }


def check_studies(
    rows: list[list[Any]], shared: Path, tools: dict[str, str], names: dict[str, str], pair: Any
) -> None:
    actual = {r[0]: tuple(int(v) for v in r[2:6]) for r in rows}
    assert len(actual) == len(rows), "one row per tool"
    assert actual == expected_studies(shared, tools, *pair)
    assert {r[0]: r[1] for r in rows} == {r[0]: names[r[0]] for r in rows}


def check_changes(rows: list[list[Any]], shared: Path, tools: dict[str, str], pair: Any) -> None:
    actual = {(r[0], r[2], r[4], r[5], r[6], int(r[7]), int(r[8])) for r in rows}
    assert len(actual) == len(rows), "one row per tool and factor"
    assert actual == expected_changes(shared, tools, *pair)
    assert rows == sorted(rows, key=lambda r: (r[1], r[3], r[2]))


def check_appeared(rows: list[list[Any]], shared: Path, tools: dict[str, str], pair: Any) -> None:
    actual = {(r[0], r[2], r[4], int(r[5])) for r in rows}
    assert len(actual) == len(rows), "one row per tool and factor"
    assert actual == expected_appeared(shared, tools, *pair)
    assert rows == sorted(rows, key=lambda r: (r[1], r[4], r[3], r[2]))


# Published ratings, from the csv module; which tool and factor a row means, from the importer.

Published = dict[tuple[str, str, str], tuple[str, Decimal]]
"""(basis, tool IRI, factor IRI) -> (level label, score as compared)."""
Change = tuple[str, str, str, str, str | None, str | None, Decimal | None, Decimal | None]
"""(tool, factor, basis, change, from level, to level, from score, to score)."""


@pytest.fixture(scope="module")
def catalogue() -> ToolCatalogue:
    return build.tool_catalogue(graphs.load_curated(Settings(home=REPO)))


def _hundredths(share: str) -> Decimal:
    """A share to two decimals, halves rounded up, as SPARQL's ROUND does."""
    hundreds = (Decimal(share) * 100 + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
    return hundreds / 100


RATING_COLUMNS = {
    "research": (
        "count",
        "greater_findings",
        "lesser_findings",
        "no_mixed_findings",
        "temp_vote_count_factor",
        "vote_count_factor",
        "research_qualitative",
        "inversion_with_neg_strength",
    ),
    "practitioner interviews": (
        "number_practitioners",
        "count_practitioner",
        "proportion_practitioner",
        "practitioner_qualitative",
    ),
}
IDENTITY_COLUMNS = ("tool_name", "Tool", "Dedoose.name_tool", "Name", "Dedoose.name_factor")


def _rating(row: dict[str, str], basis: str) -> tuple[str | None, ...]:
    """What a row says of one rating: which tool and factor, and the numbers (not the prose)."""
    return tuple(row.get(column) for column in (*IDENTITY_COLUMNS, *RATING_COLUMNS[basis]))


def published_from_csv(shared: Path, catalogue: ToolCatalogue, code: str) -> Published:
    """Every published rating of all_factors_N.csv: research rows (a count) with their level
    (research_qualitative) and vote score, the score turned negative where the row is inverted
    (inversion_with_neg_strength: V3 prints it from the opposite's side); practitioner rows
    (number_practitioners) with their level and share to two decimals."""
    rows = {int(row[""]): row for row in _factor_rows(shared, code)}
    assert sorted(rows) == list(range(1, len(rows) + 1)), "the files number their rows from 1"
    records = read_release(shared, code, catalogue)
    result: Published = {}
    for basis, ratings, column in (
        ("research", records.research, "count"),
        ("practitioner interviews", records.practitioner, "number_practitioners"),
    ):
        kept = set()
        for (tool, factor), rating in ratings.items():
            row = rows[rating.row]
            assert row[column] not in ("NA", ""), (code, rating.row, column)
            kept.add(rating.row)
            if basis == "research":
                level, score = row["research_qualitative"], Decimal(row["vote_count_factor"])
                if row["inversion_with_neg_strength"] == "1":
                    score = -abs(score)
            else:
                level = row["practitioner_qualitative"]
                score = _hundredths(row["proportion_practitioner"])
            key = (basis, str(iris.tool(tool)), str(iris.factor(factor)))
            result[key] = (LEVEL_LABELS[level], score)
        # Every rating row of the file is one the importer kept, a repeat of one it kept, or
        # the known quirk: a row that names no factor (left out, and reported).
        for number, row in rows.items():
            if row[column] in ("NA", "") or number in kept:
                continue
            if row["Name"] == "NA" and row["Dedoose.name_factor"] == "NA":
                assert any(f"row {number}:" in quirk for quirk in records.quirks), (code, number)
                continue
            same = [k for k in kept if _rating(rows[k], basis) == _rating(row, basis)]
            assert same, f"{code} all_factors row {number}: a {basis} rating the import lost"
    return result


def _score(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def expected_published(
    shared: Path, catalogue: ToolCatalogue, earlier: str, later: str
) -> set[Change]:
    if earlier == later:
        return set()
    before = published_from_csv(shared, catalogue, earlier)
    after = published_from_csv(shared, catalogue, later)
    result: set[Change] = set()
    for key in before.keys() | after.keys():
        basis, tool, factor = key
        if key not in before:
            result.add((tool, factor, basis, "appeared", None, after[key][0], None, after[key][1]))
        elif key not in after:
            level, score = before[key]
            result.add((tool, factor, basis, "vanished", level, None, score, None))
        elif before[key] != after[key]:
            (a, m), (b, n) = before[key], after[key]
            change = "level changed" if a != b else "score changed"
            result.add((tool, factor, basis, change, a, b, m, n))
    return result


def pref_labels(settings: Settings) -> dict[str, int]:
    """How many preferred labels each factor has in the store."""
    query = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    SELECT ?factor (COUNT(DISTINCT ?label) AS ?labels) WHERE { ?factor skos:prefLabel ?label }
    GROUP BY ?factor"""
    with store.opened(settings.store_root) as opened:
        return {
            row["factor"].value: int(row["labels"].value)
            for row in store.run_query(opened, query)  # type: ignore[union-attr]
        }


def check_published(
    rows: list[list[Any]],
    expected: set[Change],
    names: dict[str, str],
    labels: dict[str, int],
) -> None:
    actual = {(r[0], r[2], r[4], r[5], r[6], r[7], _score(r[8]), _score(r[9])) for r in rows}
    assert actual == expected
    # One row per change and label of the factor: one row per change, once every factor has one
    # preferred label.
    per_change: dict[Change, int] = {}
    for r in rows:
        key = (r[0], r[2], r[4], r[5], r[6], r[7], _score(r[8]), _score(r[9]))
        per_change[key] = per_change.get(key, 0) + 1
    assert per_change == {key: labels[key[1]] for key in actual}
    assert {r[0]: r[1] for r in rows} == {r[0]: names[r[0]] for r in rows}
    assert rows == sorted(rows, key=lambda r: (r[1], r[4], r[5], r[3], r[2]))


# The expected results of the catalogue queries (their defaults: V2 to V3).


def test_expected_studies_added_equal_the_csv(
    shared_release: Path, tools: dict[str, str], tool_names: dict[str, str]
) -> None:
    rows = load_expected(STUDIES)["rows"]
    check_studies(rows, shared_release, tools, tool_names, ("V2", "V3"))
    # V3 adds no study; it drops five (one of them, Mediation.2023.19, from five tools).
    assert sum(int(r[4]) for r in rows) == 0
    assert sum(int(r[5]) for r in rows) == 8


def test_expected_level_changes_equal_the_csv(shared_release: Path, tools: dict[str, str]) -> None:
    rows = load_expected(CHANGES)["rows"]
    check_changes(rows, shared_release, tools, ("V2", "V3"))
    assert {r[6] for r in rows} == {"stronger", "weaker"}


def test_expected_factors_appeared_vanished_equal_the_csv(
    shared_release: Path, tools: dict[str, str]
) -> None:
    rows = load_expected(APPEARED)["rows"]
    check_appeared(rows, shared_release, tools, ("V2", "V3"))


def test_expected_published_rating_changes_equal_the_csv(
    built: Settings,
    shared_release: Path,
    catalogue: ToolCatalogue,
    tool_names: dict[str, str],
) -> None:
    rows = load_expected(PUBLISHED)["rows"]
    expected = expected_published(shared_release, catalogue, "V2", "V3")
    check_published(rows, expected, tool_names, pref_labels(built))
    assert {r[4] for r in rows} == {"research", "practitioner interviews"}
    assert {r[5] for r in rows} >= {"appeared", "vanished", "level changed", "score changed"}


def _named_research_rows(shared: Path, code: str, tool: str) -> set[tuple[str, str]]:
    """A tool's research ratings in all_factors_N.csv that name their factor, read with the csv
    module alone (a row may be repeated: counted once)."""
    return {
        (row["Name"], row["Dedoose.name_factor"])
        for row in _factor_rows(shared, code)
        if row["tool_name"] == tool
        and row["count"] not in ("NA", "")
        and (row["Name"], row["Dedoose.name_factor"]) != ("NA", "NA")
    }


def test_a_rating_v3_publishes_and_v2_did_not_shows(shared_release: Path) -> None:
    """Targeted sanctions: 26 published research ratings in V2, 27 in V3. The recomputed
    comparison cannot see it (V2's 27th rating names no factor, but the findings do); the
    published one must."""
    before = _named_research_rows(shared_release, "V2", "Targeted sanctions")
    after = _named_research_rows(shared_release, "V3", "Targeted sanctions")
    assert (len(before), len(after)) == (26, 27)
    tool = f"{ID}tool/targeted-sanctions"
    rows = [r for r in load_expected(PUBLISHED)["rows"] if r[0] == tool and r[4] == "research"]
    kinds = [r[5] for r in rows]
    assert kinds.count("appeared") - kinds.count("vanished") == len(after) - len(before)
    assert "appeared" in kinds


def test_the_nameless_v2_rating_is_resolved_from_the_sources(
    shared_release: Path, tools: dict[str, str]
) -> None:
    """V2's nameless rating (all_factors_2.csv row 107) matters here: without it the factor would
    seem to appear in V3."""
    levels = research_levels(shared_release, tools, "V2")
    key = (f"{ID}tool/targeted-sanctions", f"{ID}factor/atrocity-justifying-ideology-or-revenge")
    assert levels[key] == ("Weaker", 1)


# The same queries for other pairs of releases, run on the built store.


@pytest.mark.parametrize("pair", OTHER_PAIRS, ids="-".join)
def test_queries_for_other_releases_equal_the_csv(
    built: Settings,
    shared_release: Path,
    tools: dict[str, str],
    tool_names: dict[str, str],
    catalogue: ToolCatalogue,
    pair: tuple[str, str],
) -> None:
    values = {"from": _release(pair[0]), "to": _release(pair[1])}

    def rows(name: str) -> list[list[Any]]:
        result: list[list[Any]] = as_plain(run_catalogue_query(built, name, values))["rows"]
        return result

    check_studies(rows(STUDIES), shared_release, tools, tool_names, pair)
    changes, appeared, published = rows(CHANGES), rows(APPEARED), rows(PUBLISHED)
    check_changes(changes, shared_release, tools, pair)
    check_appeared(appeared, shared_release, tools, pair)
    expected = expected_published(shared_release, catalogue, *pair)
    check_published(published, expected, tool_names, pref_labels(built))
    if pair[0] == pair[1]:
        assert changes == []
        assert appeared == []
        assert published == []
    else:
        assert changes
        assert appeared
        assert published


# The command line.


@pytest.fixture
def in_built(built: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(built.store_root))
    return built


def test_diff_prints_four_titled_tables(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "v2", "V3"])
    assert result.exit_code == 0, result.output
    positions = []
    for name, title in (
        (STUDIES, "Studies added and removed between two releases, per tool: V2 to V3"),
        (CHANGES, "Factors whose research evidence level changed between two releases: V2 to V3"),
        (APPEARED, "Factors that appeared or vanished between two releases: V2 to V3"),
        (
            PUBLISHED,
            "Published ratings that appeared, vanished or changed between two releases: V2 to V3",
        ),
    ):
        assert title in result.stdout
        positions.append(result.stdout.index(title))
        assert f"{len(load_expected(name)['rows'])} rows" in result.stdout
    assert positions == sorted(positions)


def test_diff_csv_holds_the_four_queries_bound_to_the_releases(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "V1", "v2", "--format", "csv"])
    assert result.exit_code == 0, result.output
    values = {"from": _release("V1"), "to": _release("V2")}
    expected = [run_catalogue_query(in_built, n, values) for n in DIFF]
    assert result.stdout == "\n".join(table.to_csv() for table in expected)
    parts = result.stdout.split("\n\n")
    assert [next(csv.reader(io.StringIO(p))) for p in parts] == [t.variables for t in expected]
    assert "Studies added and removed between two releases, per tool: V1 to V2" in result.stderr


def test_diff_json_is_four_documents(in_built: Settings) -> None:
    result = runner.invoke(app, ["diff", "V2", "V3", "-f", "json"])
    assert result.exit_code == 0, result.output
    decoder, text, documents = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    assert [d["head"]["vars"] for d in documents] == [load_expected(n)["variables"] for n in DIFF]


def test_diff_shows_the_published_rating_v3_adds(in_built: Settings, shared_release: Path) -> None:
    """The table `diff` prints counts targeted sanctions' 27th research rating as appeared."""
    result = runner.invoke(app, ["diff", "V2", "V3", "-f", "csv"])
    assert result.exit_code == 0, result.output
    published = list(csv.reader(io.StringIO(result.stdout.split("\n\n")[3])))
    assert published[0] == load_expected(PUBLISHED)["variables"]
    kinds = [
        r[5] for r in published[1:] if r[0] == f"{ID}tool/targeted-sanctions" and r[4] == "research"
    ]
    before = _named_research_rows(shared_release, "V2", "Targeted sanctions")
    after = _named_research_rows(shared_release, "V3", "Targeted sanctions")
    assert kinds.count("appeared") - kinds.count("vanished") == len(after) - len(before) == 1


@pytest.mark.parametrize(
    ("codes", "bad"), [(["V2", "V4"], "V4"), (["2", "V3"], "2"), (["V1", "all"], "all")]
)
def test_diff_rejects_an_unknown_release(in_built: Settings, codes: list[str], bad: str) -> None:
    result = runner.invoke(app, ["diff", *codes])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"error: unknown release {bad!r}; expected one of V1, V2, V3" in lines[0]
    assert result.stdout == ""
