"""Check a release folder: records graph, preparation, every rule, annotations. One call, used by
the import (which writes the result beside the release graphs) and by the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from atrocity_kg.ingest.releases import ReleaseSpec
from atrocity_kg.quality import records, report
from atrocity_kg.quality.rules import Issue, Rule, load_rules, prepare, run_rules


@dataclass(frozen=True)
class QualityCheck:
    releases: list[ReleaseSpec]
    rules: list[Rule]
    issues: list[Issue]

    @property
    def graph(self) -> Graph:
        return report.annotation_graph(self.issues, self.rules)

    def counts(self) -> dict[str, int]:
        """Issues per kind, every rule's kind included."""
        counts = {rule.kind: 0 for rule in self.rules}
        for issue in self.issues:
            counts[issue.kind] += 1
        return counts


def check_folder(root: Path, vocabularies: Graph, folder: Path | None = None) -> QualityCheck:
    """Run the rules (the package's, or those of ``folder``) over every release present in
    ``root``; the cross-release rules need them all, whichever release is being imported."""
    store, present = records.records_store(root, vocabularies)
    prepare(store, folder)
    chosen = load_rules(folder)
    return QualityCheck(present, chosen, run_rules(store, chosen))
