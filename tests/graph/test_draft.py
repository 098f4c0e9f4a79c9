"""The draft release's graphs from a tiny contribution: findings the latest release has come to
hold are left out (and said so), and the draft's evidence is the rubric over both."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from atrocity_kg.config import Settings
from atrocity_kg.errors import ContributionFormatError
from atrocity_kg.graph import build, draft, evidence, graphs
from atrocity_kg.graph.draft import DraftInput
from atrocity_kg.ingest.contributions import (
    ContributionMeta,
    ContributionRecords,
    DraftBase,
    new_id,
    read_contribution,
    timestamp,
)
from atrocity_kg.ingest.releases import latest_release
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG
from release_csv import write_records
from release_fixture import GREATER, SOURCES

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
LATEST = latest_release().code
TOOL = str(iris.tool("peace-operations"))
FACTOR = str(iris.factor("Commitment"))


@pytest.fixture(scope="module")
def source(repo: Path) -> DraftInput:
    """A latest release with one finding: Peace Ops.001 on Commitment, mass atrocities,
    greater effectiveness (the key of SOURCES[0])."""
    curated = graphs.load_curated(Settings(home=repo))
    base = DraftBase(
        LATEST,
        frozenset({"Commitment"}),
        frozenset({"Peace Ops.001"}),
        build.tool_catalogue(curated),
    )
    key = (
        "Peace Ops.001",
        "peace-operations",
        "Commitment",
        "mass-atrocities",
        "greater-effectiveness",
    )
    known = str(iris.finding(LATEST, *key))
    rows = [(known, TOOL, FACTOR, "mass-atrocities", "greater-effectiveness")]
    return DraftInput(base, rows, {}, {}, {})


def contribution(
    source: DraftInput, folder: Path, rows: list[dict[str, str]]
) -> ContributionRecords:
    path = write_records(folder / "records.csv", rows)
    meta = ContributionMeta(new_id(path.read_bytes(), NOW), "Ada", timestamp(NOW), "", path.name)
    return read_contribution(meta, source.base, (folder, path.name))


def test_a_finding_the_release_holds_is_left_out_and_said(
    source: DraftInput, tmp_path: Path
) -> None:
    new = {**SOURCES[0], "Index.Number": "Peace Ops.900", "Year": "2026", "Factor_effect": GREATER}
    made = contribution(source, tmp_path, [SOURCES[0], new])
    with pytest.raises(ContributionFormatError, match="has this finding already"):
        draft.check_against_latest(made, source)
    notes = draft.drop_known(made, source)
    assert len(notes) == 1
    assert "row 1" in notes[0]
    assert [f.study for f in made.records.findings.values()] == ["Peace Ops.900"]
    named = draft.draft_graphs(source, [made])
    assessed = named[evidence.evidence_graph_name(source.base.draft)]
    node = iris.recomputed_assessment(source.base.draft, "research", TOOL, FACTOR)
    # Two mass-atrocity findings of greater effectiveness: 1 + 1.
    assert str(assessed.value(node, AKG.findingCount)) == "2"
    assert str(assessed.value(node, AKG.voteScore)) == "2"
