"""The review's vote-count rubric: findings about one tool and factor -> a vote score and a level.

Weights: a finding on mass atrocities counts 1, one on any other outcome 0.5 (closely related
outcomes and, as the release files show, adverse consequences too). Greater-effectiveness
findings add their weight and lesser ones subtract it; the sum is the provisional score.
No-or-mixed findings then pull half their weight against the provisional score's sign (nothing
when it is 0), and a total whose sign they flip becomes 0. Levels: |score| > 3 relatively strong,
1 < |score| <= 3 moderate, otherwise relatively weak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

MASS_ATROCITIES = "mass-atrocities"
GREATER = "greater-effectiveness"
LESSER = "lesser-effectiveness"
NO_OR_MIXED = "no-or-mixed"


@dataclass(frozen=True)
class VoteScore:
    provisional: Decimal
    score: Decimal

    @property
    def level(self) -> str:
        size = abs(self.score)
        if size > 3:
            return "relatively-strong"
        if size > 1:
            return "moderate"
        return "relatively-weak"


def _weight(outcome: str) -> Decimal:
    return Decimal(1) if outcome == MASS_ATROCITIES else Decimal("0.5")


def vote_score(findings: Iterable[tuple[str, str]]) -> VoteScore:
    """Score (outcome key, direction key) pairs, one per finding, by the review's rubric."""
    provisional = Decimal(0)
    pull = Decimal(0)
    for outcome, direction in findings:
        weight = _weight(outcome)
        if direction == GREATER:
            provisional += weight
        elif direction == LESSER:
            provisional -= weight
        elif direction == NO_OR_MIXED:
            pull += weight / 2
        else:
            raise ValueError(f"unknown direction {direction!r}")
    if provisional == 0:
        return VoteScore(provisional, provisional)
    sign = 1 if provisional > 0 else -1
    total = provisional - sign * pull
    if total * sign < 0:
        total = Decimal(0)
    return VoteScore(provisional, total)
