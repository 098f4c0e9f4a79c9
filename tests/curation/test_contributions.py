"""Contributions to the living review on the real data: the impact preview moves exactly the
rating the rubric says, an invalid contribution changes nothing, a withdrawal gives back the
store quad for quad, and a build keeps a contribution.

The expected numbers are computed here from the V3 CSV files in ../shared (the rubric as the
review publishes it: a mass-atrocity finding weighs 1, any other 0.5; greater adds, lesser
subtracts; no-or-mixed pulls half its weight against the sign; |score| > 3 relatively strong,
> 1 moderate). Writes go to a copy of the session's store in tmp, never to the repository."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import PROV, RDF, RDFS
from typer.testing import CliRunner

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions, impact
from atrocity_kg.errors import ContributionFormatError
from atrocity_kg.graph import draft, graphs
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.publish import export
from atrocity_kg.storage import store
from conftest import writable_copy
from contribution_csv import (
    NEW_STUDY,
    chosen_pair,
    is_factor_row,
    level,
    v3_rows,
    vote,
    write_contribution,
)
from release_csv import direction_key, tool_iris

runner = CliRunner()


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
    return writable_copy(built, root, contributions_dir=root / "contributions")


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


def test_a_finding_for_a_study_of_the_release(
    built: Settings, shared_release: Path, tmp_path: Path
) -> None:
    """A contribution may add a finding to a study the latest release has: no study is added,
    and the rating moves by the rubric; a finding the release has already is refused."""
    rows = v3_rows(shared_release)
    tool_code, factor_code = chosen_pair(rows)
    pair = [
        r for r in rows if is_factor_row(r) and (r["Tool"], r["CD"]) == (tool_code, factor_code)
    ]
    findings = {(r["Index.Number"], r["Outcome"], direction_key(r["Factor_effect"])) for r in pair}
    study = next(
        r["Index.Number"]
        for r in pair
        if (r["Index.Number"], "Mass atrocities", "greater-effectiveness") not in findings
    )
    added = findings | {(study, "Mass atrocities", "greater-effectiveness")}
    settings = built.model_copy(update={"contributions_dir": tmp_path / "contributions"})
    template = next(r for r in pair if r["Index.Number"] == study)
    path = write_contribution(
        shared_release,
        tmp_path / "more.csv",
        **{
            "Index.Number": study,
            "Year": template["Year"],
            "full_citation": template["full_citation"],
        },
    )
    document = impact.preview(settings, contributions.Submission(path)).document()
    assert [(c["before"]["score"], c["after"]["score"]) for c in document["changes"]] == [
        (float(vote(findings)), float(vote(added)))
    ]
    assert document["studies"] == {"added": 0, "per_tool": {}}
    assert document["report"]["results"] == []
    (known,) = [
        r
        for r in pair
        if (r["Index.Number"], r["Outcome"], direction_key(r["Factor_effect"]))
        == next(iter(sorted(findings)))
    ][:1]
    again = write_contribution(
        shared_release,
        tmp_path / "again.csv",
        **{
            k: known[k]
            for k in ("Index.Number", "Outcome", "Factor_effect", "Year", "full_citation")
        },
    )
    with pytest.raises(ContributionFormatError, match="has this finding already") as raised:
        impact.preview(settings, contributions.Submission(again))
    assert str(raised.value.location) == "again.csv, row 1, column 'Index.Number'"


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
        graph = graphs.named_graph(opened, str(draft.contribution_graph_name(meta.id)))
        release_graph = graphs.named_graph(opened, str(draft.draft_graph_name("V4-draft")))
    activity = iris.contribution(meta.id)
    (finding,) = graph.subjects(RDF.type, AKG.FactorFinding)
    curator = iris.curator("Test Curator")
    assert (finding, PROV.wasGeneratedBy, activity) in graph
    assert (finding, PROV.wasAttributedTo, curator) in graph
    assert (finding, AKG.inRelease, iris.release("V4-draft")) in graph
    assert str(graph.value(finding, AKG.sourceFile)) == f"contributions/{meta.id}/records.csv"
    # (The store keeps xsd:positiveInteger as xsd:integer: compare the number.)
    assert str(graph.value(finding, AKG.sourceRow)) == "1"
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
