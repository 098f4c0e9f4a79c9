"""The command line as a user meets it: exit status, one-line errors, output formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from release_fixture import write_release
from server import serving

runner = CliRunner()


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def apply(settings: Settings) -> None:
        monkeypatch.setenv("ATROCITY_KG_HOME", str(settings.home))
        monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(settings.store_root))

    return apply


def test_import_build_query_on_a_tiny_release(
    tmp_path: Path, empty_home: Settings, env_for
) -> None:  # type: ignore[no-untyped-def]
    env_for(empty_home)
    folder = write_release(tmp_path / "release")
    result = runner.invoke(app, ["import", "ushmm", str(folder), "--release", "V3"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 0, result.output
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


def test_import_error_is_one_line_and_exit_1(tmp_path: Path, empty_home: Settings, env_for) -> None:  # type: ignore[no-untyped-def]
    env_for(empty_home)

    def spoil(tables):  # type: ignore[no-untyped-def]
        tables["factors"][0]["count"] = "many"

    folder = write_release(tmp_path / "release", spoil)
    result = runner.invoke(app, ["import", "ushmm", str(folder), "--release", "V3"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "all_factors_3.csv, row 1, column 'count'" in lines[0]


def test_query_formats_and_parameters(built: Settings, env_for) -> None:  # type: ignore[no-untyped-def]
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


def test_query_against_a_remote_endpoint(built: Settings, env_for) -> None:  # type: ignore[no-untyped-def]
    env_for(built)
    with serving(built) as base:
        result = runner.invoke(
            app, ["query", "studies-per-release", "-f", "csv", "--endpoint", f"{base}/sparql"]
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
