"""Every queries/*.rq has a header and an expected result, and answers it on the built store."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrocity_kg import queries
from atrocity_kg.config import Settings
from atrocity_kg.errors import QueryError
from queries_support import EXPECTED, as_plain, load_expected, run_catalogue_query

REPO = Path(__file__).resolve().parents[1]
NAMES = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))


def test_catalogue_has_at_least_ten_questions() -> None:
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_header_and_expected_result_exist(name: str) -> None:
    entry = queries.parse_query_file(REPO / "queries" / f"{name}.rq")
    assert entry.title, "the header needs a title"
    assert entry.description, "the header needs a description"
    for parameter in entry.parameters:
        assert parameter.default is not None, f"parameter {parameter.name} needs a default"
    assert (EXPECTED / f"{name}.json").is_file(), f"no expected result for {name}"


@pytest.mark.parametrize("name", NAMES)
def test_query_gives_its_expected_result(built: Settings, name: str) -> None:
    expected = load_expected(name)
    actual = as_plain(run_catalogue_query(built, name))
    assert actual["variables"] == expected["variables"]
    text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    if "ORDER BY" in text.upper():
        assert actual["rows"] == expected["rows"]
    else:
        assert sorted(map(str, actual["rows"])) == sorted(map(str, expected["rows"]))


def test_expected_results_are_not_empty() -> None:
    for name in NAMES:
        assert load_expected(name)["rows"], f"{name} expects no rows: the test could not fail"


def test_parameters_are_bound_as_terms_not_pasted(built: Settings) -> None:
    hostile = "https://w3id.org/x> } ; DROP ALL ; SELECT * WHERE { <a"
    with pytest.raises(QueryError, match="not a valid iri"):
        run_catalogue_query(built, "tool-mechanisms", {"tool": hostile})
    literal = queries.Parameter("label", "string", None, "").term('") } #')
    assert str(literal) == '"\\") } #"'


def test_a_parameter_changes_the_answer(built: Settings) -> None:
    mediation = run_catalogue_query(
        built, "tool-mechanisms", {"tool": "https://w3id.org/atrocity-kg/id/tool/mediation"}
    )
    default = run_catalogue_query(built, "tool-mechanisms")
    assert as_plain(mediation)["rows"] != as_plain(default)["rows"]
    assert all("/mechanism/mediation/" in row["mechanism"].value for row in mediation.rows)


def test_unknown_parameter_is_refused(built: Settings) -> None:
    with pytest.raises(QueryError, match="has no parameter 'colour'"):
        run_catalogue_query(built, "tool-mechanisms", {"colour": "red"})
