"""Every queries/*.rq has a header and an expected result, and answers it on the built store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.errors import QueryError
from atrocity_kg.query import queries
from queries_support import EXPECTED, as_plain, load_expected, run_catalogue_query

REPO = Path(__file__).resolve().parents[2]
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


RENAMED_QUERY = """# title: Renamed
# description: A query that was called something else.
# replaces: old-name, older-name
SELECT ?x WHERE { VALUES ?x { 1 } }
"""


def test_a_renamed_query_answers_to_its_former_names(tmp_path: Path) -> None:
    (tmp_path / "new-name.rq").write_text(RENAMED_QUERY, encoding="utf-8")
    catalogue = queries.load_catalogue(tmp_path)
    assert sorted(catalogue) == ["new-name"]
    assert queries.former_names(catalogue) == {"old-name": "new-name", "older-name": "new-name"}
    for name in ("new-name", "old-name", "older-name"):
        found = queries.find(catalogue, name)
        assert found is not None
        assert found.name == "new-name"
    assert queries.find(catalogue, "no-name") is None


def test_a_former_name_may_reach_one_query_only(tmp_path: Path) -> None:
    (tmp_path / "new-name.rq").write_text(RENAMED_QUERY, encoding="utf-8")
    (tmp_path / "old-name.rq").write_text(RENAMED_QUERY, encoding="utf-8")
    with pytest.raises(QueryError, match="replaces 'old-name', which is still a query"):
        queries.load_catalogue(tmp_path)
    (tmp_path / "old-name.rq").unlink()
    (tmp_path / "other.rq").write_text(RENAMED_QUERY, encoding="utf-8")
    with pytest.raises(QueryError, match="both replace 'old-name'"):
        queries.load_catalogue(tmp_path)


def test_headline_factors_is_still_a_name_of_the_catalogue(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query once called headline-factors keeps that name on the command line."""
    monkeypatch.setenv("ATROCITY_KG_HOME", str(built.home))
    monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(built.store_root))
    runner = CliRunner()
    old = runner.invoke(app, ["query", "headline-factors", "-f", "csv"])
    new = runner.invoke(app, ["query", "factors-strong-for-several-tools", "-f", "csv"])
    assert old.exit_code == 0, old.output
    assert old.stdout == new.stdout
    rows = load_expected("factors-strong-for-several-tools")["rows"]
    assert old.stdout.count("\n") == len(rows) + 1
    assert "now called 'factors-strong-for-several-tools'" in old.stderr
    assert "now called" not in new.stderr


def test_a_parameter_declared_by_a_class(tmp_path: Path) -> None:
    """``?tool akg:ReviewedTool`` is an IRI parameter whose value is a member of that class."""
    path = tmp_path / "by-class.rq"
    path.write_text(
        "# title: By class\n"
        "# param: ?tool akg:ReviewedTool default https://w3id.org/atrocity-kg/id/tool/x -- a tool\n"
        "# param: ?link iri -- any IRI\n"
        "SELECT ?tool WHERE { }\n",
        encoding="utf-8",
    )
    tool, link = queries.parse_query_file(path).parameters
    assert (tool.type, tool.of_class) == (
        "iri",
        "https://w3id.org/atrocity-kg/ontology#ReviewedTool",
    )
    assert (link.type, link.of_class) == ("iri", None)
    path.write_text("# title: Bad\n# param: ?tool nope:Tool -- a tool\nSELECT * WHERE { }\n")
    with pytest.raises(QueryError, match="unknown prefix 'nope'"):
        queries.parse_query_file(path)


def test_every_class_parameter_default_is_a_member(built: Settings) -> None:
    """Each catalogue default names a member of its parameter's class in the built graph, so
    that every form opens with its default chosen."""
    from atrocity_kg.query.choices import choices
    from atrocity_kg.storage import store

    with store.opened(built.store_root) as opened:
        for entry in queries.load_catalogue(built.queries_dir).values():
            for parameter in entry.parameters:
                if parameter.of_class is None:
                    continue
                members = {choice.iri for choice in choices(opened, parameter.of_class)}
                assert parameter.default in members, (entry.name, parameter.name)
