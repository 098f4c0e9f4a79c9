"""The committed release graphs against the USHMM files themselves (skipped without ../shared).

Expected numbers here are computed from the CSV files with the csv module, not by the importer.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.storage import store
from conftest import make_home
from graphdiff import assert_isomorphic
from release_csv import ID, counts_from_csv

GRAPH_COUNTS = """
PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
SELECT ?tool ?kind (COUNT(DISTINCT ?x) AS ?n) WHERE {
  GRAPH <%(graph)s> {
    ?f akg:aboutTool ?tool ; akg:reportedIn ?study ; akg:outcome ?outcome ; akg:direction ?d .
    OPTIONAL { ?f a ?factorFinding . FILTER(?factorFinding = akg:FactorFinding) }
  }
  VALUES ?kind { "studies" "ma" "other" "cro" "greater-effectiveness" "lesser-effectiveness"
                 "no-or-mixed" }
  BIND(STRAFTER(STR(?outcome), "/outcome/") AS ?o)
  BIND(STRAFTER(STR(?d), "/direction/") AS ?dir)
  BIND(IF(?kind = "studies", ?study,
       IF(?kind = "ma" && ?o = "mass-atrocities", ?study,
       IF(?kind = "other" && ?o != "mass-atrocities", ?study,
       IF(?kind = "cro" && ?o IN ("violence-against-civilians", "conflict",
                                 "human-rights-violations"), ?study,
       IF(BOUND(?factorFinding) && ?kind = ?dir, ?f, ?unbound))))) AS ?x)
}
GROUP BY ?tool ?kind
"""


def counts_from_graph(settings: Settings, code: str) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = defaultdict(dict)
    with store.opened(settings.store_root) as opened:
        query = GRAPH_COUNTS % {"graph": graphs.release_graph_name(code)}
        answer = store.run_query(opened, query)
        assert isinstance(answer, ox.QuerySolutions)
        for solution in answer:
            tool, kind, number = (
                solution[0].value,
                solution[1].value,
                int(solution[2].value),
            )
            if number:
                result[tool][kind] = number
    return dict(result)


@pytest.mark.parametrize("code", ["V1", "V2", "V3"])
def test_counts_per_tool_equal_the_csv(
    built: Settings, shared_release: Path, shared_facts: Path, code: str
) -> None:
    expected = counts_from_csv(shared_release, shared_facts, code)
    expected = {t: {k: v for k, v in c.items() if v} for t, c in expected.items()}
    assert counts_from_graph(built, code) == expected


def _published(facts: Path) -> list[tuple[str, str, dict[str, int]]]:
    """The site's per-tool study counts whose snapshot the facts file ties to a data release."""
    tools = yaml.safe_load(facts.read_text(encoding="utf-8"))["tools"]
    found = []
    for tool in tools:
        for snapshot in tool.get("site_snapshots", []):
            guess = snapshot.get("version_guess", "")
            code = "V3" if "V3" in guess else ("V2" if "V2" in guess else None)
            if code is None:
                continue
            found.append(
                (
                    code,
                    f"{ID}tool/{tool['slug']}",
                    {
                        "studies": snapshot["reports_total"],
                        "ma": snapshot["reports_mass_atrocities"],
                        "other": snapshot["reports_closely_related"],
                    },
                )
            )
    return found


def test_published_site_counts_match_the_release_they_came_from(
    built: Settings, shared_facts: Path
) -> None:
    """The site counts studies on outcomes other than mass atrocities as 'closely related',
    adverse consequences included (docs/cli.md: 'How the counts compare with the review's site')."""
    published = _published(shared_facts)
    assert len(published) >= 8
    by_release = {code: counts_from_graph(built, code) for code in ("V2", "V3")}
    mismatches = []
    for code, tool, numbers in published:
        ours = {k: by_release[code].get(tool, {}).get(k, 0) for k in numbers}
        if ours != numbers:
            mismatches.append((code, tool, numbers, ours))
    assert mismatches == []


@pytest.fixture(scope="module")
def reimported(tmp_path_factory: pytest.TempPathFactory, shared_release: Path) -> Settings:
    """A home whose release graphs were imported afresh from the USHMM files: the three
    releases in one import, as `atrocity-kg import ushmm` imports them (one import costs about
    what one release alone does: the code book, the curated data and the checks are read once)."""
    settings = make_home(tmp_path_factory.mktemp("reimport") / "home", with_releases=False)
    pipeline.import_ushmm(settings, shared_release, pipeline.ALL_RELEASES)
    return settings


@pytest.mark.slow  # a real import of the three releases
@pytest.mark.parametrize("code", ["V1", "V2", "V3"])
def test_reimport_is_isomorphic_to_the_committed_graph(
    reimported: Settings, repo: Path, code: str
) -> None:
    fresh = graphs.parse_turtle(graphs.release_file(reimported, code))
    committed = graphs.parse_turtle(repo / "data" / "ushmm" / f"{code.lower()}.ttl")
    assert_isomorphic(committed, fresh)
