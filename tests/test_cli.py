"""The command line as a user meets it: exit status, one-line errors, output formats."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atrocity_kg.cli import _home_url, app
from atrocity_kg.config import Settings
from release_fixture import write_release

runner = CliRunner()


@pytest.mark.slow  # a real import and build
def test_import_build_query_on_a_tiny_release(
    tmp_path: Path, empty_home: Settings, env_for: Callable[[Settings], None]
) -> None:
    env_for(empty_home)
    folder = write_release(tmp_path / "release")
    result = runner.invoke(app, ["import", "ushmm", str(folder), "--release", "V3"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 0, result.output
    # The build's last line counts what validation found and says where to read it: `validate`
    # finds the same, and its last line is the same count.
    last = result.stdout.splitlines()[-1]
    assert last.startswith("validation: 0 violations, "), last
    validated = runner.invoke(app, ["validate"])
    assert validated.exit_code == 0, validated.output
    summary = validated.output.splitlines()[-1]
    assert last.startswith(f"validation: {summary} (only a violation stops a build)"), last
    if summary != "0 violations, 0 warnings, 0 infos":
        assert last.endswith("; `atrocity-kg validate` lists them"), last
    result = runner.invoke(app, ["query", "studies-per-release", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == [
        {
            "release": "https://w3id.org/atrocity-kg/id/release/v3",
            "code": "V3",
            "issued": "2025-04",
            "studies": "2",
            "findings": "4",
        }
    ]


def test_import_error_is_one_line_and_exit_1(
    tmp_path: Path, empty_home: Settings, env_for: Callable[[Settings], None]
) -> None:
    env_for(empty_home)

    def spoil(tables):  # type: ignore[no-untyped-def]
        tables["factors"][0]["count"] = "many"

    folder = write_release(tmp_path / "release", spoil)
    result = runner.invoke(app, ["import", "ushmm", str(folder), "--release", "V3"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "all_factors_3.csv, row 1, column 'count'" in lines[0]


def test_query_formats_and_parameters(built: Settings, env_for: Callable[[Settings], None]) -> None:
    env_for(built)
    result = runner.invoke(
        app,
        [
            "query",
            "tool-mechanisms",
            "-p",
            "tool=https://w3id.org/atrocity-kg/id/tool/mediation",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["head"]["vars"] == ["mechanism", "mechanismLabel", "strategy", "strategyLabel"]
    assert len(data["results"]["bindings"]) == 1
    result = runner.invoke(app, ["query", "SELECT ?t WHERE { ?t a akg:ReviewedTool }"])
    assert result.exit_code == 0
    assert "12 rows" in result.output


def test_query_against_a_remote_endpoint(
    built: Settings, embedded_base: str, env_for: Callable[[Settings], None]
) -> None:
    env_for(built)
    endpoint = f"{embedded_base}/sparql"
    result = runner.invoke(
        app, ["query", "studies-per-release", "-f", "csv", "--endpoint", endpoint]
    )
    assert result.exit_code == 0, result.output
    local = runner.invoke(app, ["query", "studies-per-release", "-f", "csv"])
    assert result.stdout == local.stdout


def test_bad_query_and_missing_store(tmp_path: Path, env_for, empty_home: Settings) -> None:  # type: ignore[no-untyped-def]
    env_for(empty_home)
    result = runner.invoke(app, ["query", "SELECT ?x WHERE { ?x a akg:Study }"])
    assert result.exit_code == 1
    assert "run `atrocity-kg build` first" in result.output
    assert runner.invoke(app, ["query", "SELEC nonsense"]).exit_code == 1


def test_version_is_pyproject_s() -> None:
    """One version number: pyproject.toml's, as the installed package reports it."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"atrocity-kg {declared}\n"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8001/"),
        ("0.0.0.0", "http://127.0.0.1:8001/"),
        ("::", "http://[::1]:8001/"),
        ("::1", "http://[::1]:8001/"),
        ("localhost", "http://localhost:8001/"),
    ],
)
def test_serve_prints_a_home_page_one_can_open(host: str, url: str) -> None:
    """`serve` names the home page (a wildcard address is opened through loopback)."""
    assert _home_url(host, 8001) == url
