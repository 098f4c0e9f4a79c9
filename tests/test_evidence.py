"""The vote-count rubric, on worked cases and against every rating the three releases publish."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from atrocity_kg import store
from atrocity_kg.config import Settings
from atrocity_kg.evidence import GREATER, LESSER, NO_OR_MIXED, vote_score

MA, CONFLICT, ADVERSE = "mass-atrocities", "conflict", "adverse-consequences"


@pytest.mark.parametrize(
    ("findings", "provisional", "score", "level"),
    [
        ([(MA, GREATER)] * 4, "4", "4", "relatively-strong"),
        (
            [(CONFLICT, GREATER)] * 3 + [(CONFLICT, NO_OR_MIXED)] * 2,
            "1.5",
            "1.0",
            "relatively-weak",
        ),
        ([(MA, LESSER), (CONFLICT, LESSER), (MA, NO_OR_MIXED)], "-1.5", "-1.0", "relatively-weak"),
        (
            [(CONFLICT, GREATER), (MA, NO_OR_MIXED), (MA, NO_OR_MIXED)],
            "0.5",
            "0",
            "relatively-weak",
        ),
        ([(CONFLICT, NO_OR_MIXED)] * 3, "0", "0", "relatively-weak"),
        ([(ADVERSE, GREATER), (MA, GREATER), (MA, GREATER)], "2.5", "2.5", "moderate"),
    ],
)
def test_worked_cases(
    findings: list[tuple[str, str]], provisional: str, score: str, level: str
) -> None:
    result = vote_score(findings)
    assert result.provisional == Decimal(provisional)
    assert result.score == Decimal(score)
    assert result.level == level


FINDINGS = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
SELECT ?release ?tool ?factor ?outcome ?direction WHERE { GRAPH ?g {
  ?f a akg:FactorFinding ; akg:inRelease ?release ; akg:aboutTool ?tool ; akg:aboutFactor ?factor ;
     akg:outcome ?outcome ; akg:direction ?direction } }"""
PUBLISHED = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
SELECT ?release ?tool ?factor ?provisional ?vote ?level ?inverted WHERE { GRAPH ?g {
  ?a a akg:ResearchAssessment ; akg:inRelease ?release ; akg:aboutTool ?tool ;
     akg:aboutFactor ?factor ; akg:provisionalVoteScore ?provisional ; akg:voteScore ?vote ;
     akg:evidenceLevel ?level ; akg:inverted ?inverted } }"""


def _key(term: object) -> str:
    return str(getattr(term, "value", term)).rsplit("/", 1)[-1]


def test_rubric_reproduces_every_published_research_rating(built: Settings) -> None:
    """Recomputed from the findings, each published rating's provisional score, score and level.

    One convention differs by release: V3 publishes the score of an inverted factor (shown as its
    opposite) with the sign turned positive; V1 and V2 keep it negative.
    """
    findings: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    with store.opened(built.store_root) as opened:
        for row in store.run_query(opened, FINDINGS):  # type: ignore[union-attr]
            key = (_key(row["release"]), _key(row["tool"]), _key(row["factor"]))
            findings[key].append((_key(row["outcome"]), _key(row["direction"])))
        published = list(store.run_query(opened, PUBLISHED))  # type: ignore[arg-type]
    assert len(published) == 336 + 395 + 393
    mismatches = []
    for row in published:
        release, tool, factor = _key(row["release"]), _key(row["tool"]), _key(row["factor"])
        ours = vote_score(findings[(release, tool, factor)])
        score = ours.score
        if release == "v3" and row["inverted"].value == "true" and score < 0:
            score = -score
        expected = (
            Decimal(row["provisional"].value),
            Decimal(row["vote"].value),
            _key(row["level"]),
        )
        if (ours.provisional, score, ours.level) != expected:
            mismatches.append((release, tool, factor, expected, ours))
    assert mismatches == []
