"""Contributions to the living review on the real data: the impact preview moves exactly the
rating the rubric says, an invalid contribution changes nothing, a withdrawal gives back the
store quad for quad, and a build keeps a contribution.

The expected numbers are computed here from the V3 CSV files in ../shared (the rubric as the
review publishes it: a mass-atrocity finding weighs 1, any other 0.5; greater adds, lesser
subtracts; no-or-mixed pulls half its weight against the sign; |score| > 3 relatively strong,
> 1 moderate). Writes go to a copy of the session's store in tmp, never to the repository."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import PROV, RDF, RDFS, XSD
from typer.testing import CliRunner

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions, impact
from atrocity_kg.errors import ContributionFormatError
from atrocity_kg.graph import draft
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.publish import export
from atrocity_kg.storage import store
from release_csv import RELEASE_FOLDERS, direction_key, tool_iris

runner = CliRunner()
GREATER = (
    "The factor is associated with greater effectiveness of the tool in reducing mass "
    "atrocities or CROs"
)
NEW_STUDY = "Contribution.Test.1"
LEVELS = {"relatively-strong": 3, "moderate": 1}


def sources_path(shared: Path) -> Path:
    return shared / "data" / RELEASE_FOLDERS["V3"] / "all_sources_3.csv"


def v3_rows(shared: Path) -> list[dict[str, str]]:
    with sources_path(shared).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def is_factor_row(row: dict[str, str]) -> bool:
    return row.get("effects_type", "Contextual or design") != "Average"


def vote(findings: set[tuple[str, str, str]]) -> Decimal:
    """The review's vote score of (study, outcome, direction) findings."""
    provisional, pull = Decimal(0), Decimal(0)
    for _, outcome, direction in findings:
        weight = Decimal(1) if outcome == "Mass atrocities" else Decimal("0.5")
        if direction == "greater-effectiveness":
            provisional += weight
        elif direction == "lesser-effectiveness":
            provisional -= weight
        else:
            pull += weight / 2
    if provisional == 0:
        return Decimal(0)
    sign = 1 if provisional > 0 else -1
    total = provisional - sign * pull
    return Decimal(0) if total * sign < 0 else total


def level(score: Decimal) -> str:
    size = abs(score)
    key = next((k for k, floor in LEVELS.items() if size > floor), "relatively-weak")
    return str(iris.concept("evidence-level", key))


def chosen_pair(rows: list[dict[str, str]]) -> tuple[str, str]:
    """The tool and factor (codes) with the most factor findings in V3: an existing rating."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if is_factor_row(row):
            counts[(row["Tool"], row["CD"])] += 1
    return max(sorted(counts), key=lambda pair: counts[pair])


def write_contribution(shared: Path, target: Path, **changes: str) -> Path:
    """One record of a new study: one mass-atrocity, greater-effectiveness finding about the
    chosen tool and factor, in the layout of all_sources_3.csv (a V3 row, changed)."""
    rows = v3_rows(shared)
    tool, factor = chosen_pair(rows)
    template = next(r for r in rows if (r["Tool"], r["CD"]) == (tool, factor))
    record = dict(template)
    record.update(
        {
            "Index.Number": NEW_STUDY,
            "Outcome": "Mass atrocities",
            "Factor_effect": GREATER,
            "Year": "2026",
            "full_citation": "Example, Ada. *A Contributed Study*. Example Press, 2026.",
        }
    )
    record.update(changes)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(template))
        writer.writeheader()
        writer.writerow(record)
    return target


def digest(root: Path) -> str:
    """A canonical hash of every quad of the current store (blank nodes canonically
    relabelled, as the dumps do), so that equal hashes mean the same quads."""
    lines = export.statement_lines(store.in_memory_copy(root))
    text = "\n".join(f"{name}\t{line}" for name in sorted(lines) for line in sorted(lines[name]))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def writable(
    built: Settings, shared_release: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """A copy of the session's store in tmp, with a contributions folder of its own."""
    root = tmp_path_factory.mktemp("contributions")
    shutil.copytree(built.store_root, root / "store", symlinks=True)
    return built.model_copy(
        update={"store_dir": root / "store", "contributions_dir": root / "contributions"}
    )


@pytest.fixture
def submission(shared_release: Path, tmp_path: Path) -> contributions.Submission:
    path = write_contribution(shared_release, tmp_path / "new-study.csv")
    return contributions.Submission(path, note="a test", curator="Test Curator")


def test_preview_moves_one_rating_by_the_rubric(
    built: Settings, shared_release: Path, shared_facts: Path, tmp_path: Path
) -> None:
    rows = v3_rows(shared_release)
    tool_code, factor_code = chosen_pair(rows)
    findings = {
        (row["Index.Number"], row["Outcome"], direction_key(row["Factor_effect"]))
        for row in rows
        if is_factor_row(row) and (row["Tool"], row["CD"]) == (tool_code, factor_code)
    }
    studies = {row["Index.Number"] for row in rows if row["Tool"] == tool_code}
    added = findings | {(NEW_STUDY, "Mass atrocities", "greater-effectiveness")}
    tool = tool_iris(shared_facts)[tool_code]
    settings = built.model_copy(update={"contributions_dir": tmp_path / "contributions"})
    path = write_contribution(shared_release, tmp_path / "new-study.csv")
    found = impact.preview(settings, contributions.Submission(path, curator="Test Curator"))
    document = found.document()
    before, after = vote(findings), vote(added)
    assert document["changes"] == [
        {
            "tool": tool,
            "factor": str(iris.factor(factor_code)),
            "basis": "research",
            "before": {"score": float(before), "level": level(before), "findings": len(findings)},
            "after": {"score": float(after), "level": level(after), "findings": len(added)},
        }
    ]
    assert document["studies"] == {
        "added": 1,
        "per_tool": {tool: {"before": len(studies), "after": len(studies) + 1}},
    }
    assert document["report"]["conforms"] is True
    assert f"{after.normalize()}" in found.lines()[0]
    assert not (tmp_path / "contributions").exists(), "a preview writes nothing"


def test_cli_preview_prints_the_document_and_writes_nothing(
    built: Settings,
    shared_release: Path,
    tmp_path: Path,
    env_for: Callable[[Settings], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = built.model_copy(update={"contributions_dir": tmp_path / "contributions"})
    env_for(settings)
    monkeypatch.setenv("ATROCITY_KG_CONTRIBUTIONS_DIR", str(tmp_path / "contributions"))
    current = store.current_path(built.store_root)
    path = write_contribution(shared_release, tmp_path / "new-study.csv")
    result = runner.invoke(app, ["contribute", str(path), "--preview", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["changes"]) == 1
    assert document["contribution"]["records_source"] == "new-study.csv"
    assert not (tmp_path / "contributions").exists()
    assert store.current_path(built.store_root) == current


def test_an_invalid_contribution_changes_nothing(
    writable: Settings, shared_release: Path, tmp_path: Path
) -> None:
    path = write_contribution(shared_release, tmp_path / "bad.csv", Outcome="Genocide (sic)")
    current = store.current_path(writable.store_root)
    builds = sorted(p.name for p in (writable.store_root / store.BUILDS).iterdir())
    with pytest.raises(ContributionFormatError) as raised:
        contributions.contribute(writable, contributions.Submission(path, curator="Test"))
    assert str(raised.value.location) == "bad.csv, row 1, column 'Outcome'"
    assert "Genocide (sic)" in raised.value.problem
    with pytest.raises(ContributionFormatError):
        impact.preview(writable, contributions.Submission(path, curator="Test"))
    assert store.current_path(writable.store_root) == current
    assert sorted(p.name for p in (writable.store_root / store.BUILDS).iterdir()) == builds
    root = writable.contributions_root
    assert not root.exists() or list(root.iterdir()) == []


def test_withdrawal_restores_the_store_quad_for_quad(
    writable: Settings,
    submission: contributions.Submission,
    env_for: Callable[[Settings], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = digest(writable.store_root)
    made = contributions.contribute(writable, submission)
    meta = made.meta
    assert [m.id for m in contributions.list_contributions(writable.contributions_root)] == [
        meta.id
    ]
    with store.opened(writable.store_root) as opened:
        graph = contributions.rdflib_graph(opened, draft.contribution_graph_name(meta.id))
        release_graph = contributions.rdflib_graph(opened, draft.draft_graph_name("V4-draft"))
    activity = iris.contribution(meta.id)
    (finding,) = graph.subjects(RDF.type, AKG.FactorFinding)
    curator = iris.curator("Test Curator")
    assert (finding, PROV.wasGeneratedBy, activity) in graph
    assert (finding, PROV.wasAttributedTo, curator) in graph
    assert (finding, AKG.inRelease, iris.release("V4-draft")) in graph
    assert str(graph.value(finding, AKG.sourceFile)) == f"contributions/{meta.id}/records.csv"
    assert graph.value(finding, AKG.sourceRow) == Literal(1, datatype=XSD.positiveInteger)
    started = graph.value(activity, PROV.startedAtTime)
    assert isinstance(started, Literal)
    assert started.toPython() == datetime.fromisoformat(meta.created)
    assert str(graph.value(activity, PROV.wasAssociatedWith)) == str(curator)
    assert str(release_graph.value(curator, RDFS.label)) == "Test Curator"
    assert (iris.release("V4-draft"), PROV.wasRevisionOf, iris.release("V3")) in release_graph
    # The command line sees it: listed, and in the diff from the latest release to the draft.
    settings = writable
    env_for(settings)
    monkeypatch.setenv("ATROCITY_KG_CONTRIBUTIONS_DIR", str(settings.contributions_root))
    listed = runner.invoke(app, ["contributions", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    assert meta.id in listed.stdout
    compared = runner.invoke(app, ["diff", "V3", "V4-draft", "--format", "csv"])
    assert compared.exit_code == 0, compared.output
    added = [line for line in compared.stdout.splitlines() if line.endswith(",1,0")]
    assert len(added) == 1, compared.stdout
    assert digest(writable.store_root) != before
    contributions.withdraw(writable, meta.id)
    assert digest(writable.store_root) == before
    assert contributions.list_contributions(writable.contributions_root) == []


@pytest.mark.slow  # a rebuild of the real data
def test_build_keeps_a_contribution(
    writable: Settings, submission: contributions.Submission
) -> None:
    made = contributions.contribute(writable, submission)
    after_write = digest(writable.store_root)
    summary = pipeline.build_store(writable)
    assert str(draft.contribution_graph_name(made.meta.id)) in summary.graphs
    # The build makes the draft from the folder exactly as the write made it.
    assert digest(writable.store_root) == after_write
    contributions.withdraw(writable, made.meta.id)


@pytest.fixture(autouse=True)
def _no_leftovers(writable: Settings) -> Iterator[None]:
    """Each test leaves the module's store without contributions."""
    yield
    for meta in contributions.list_contributions(writable.contributions_root):
        contributions.withdraw(writable, meta.id)
