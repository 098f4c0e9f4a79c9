"""The release files' number columns and the properties the graph keeps them under: one table,
read by the importer (column -> rating field), the build and the evidence recomputation (field ->
property) and the exporter (property -> column).

A research rating's counts are named by the importer's keys (``finding``, ``ma-greater`` ...),
which ``evidence.FactorEvidence.counts`` recomputes under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

from atrocity_kg.model.namespaces import AKG


@dataclass(frozen=True)
class NumberColumn:
    """A column of all_factors_N.csv, the property it becomes, and (for a research rating's
    counts) the importer's name for it."""

    header: str
    property: URIRef
    key: str = ""


RESEARCH_COUNTS: tuple[NumberColumn, ...] = (
    NumberColumn("count", AKG.findingCount, "finding"),
    NumberColumn("greater_findings", AKG.greaterCount, "greater"),
    NumberColumn("lesser_findings", AKG.lesserCount, "lesser"),
    NumberColumn("no_mixed_findings", AKG.noOrMixedCount, "no-or-mixed"),
    NumberColumn("count_adverse", AKG.adverseCount, "adverse"),
    NumberColumn("ma_focus_greater_count_factor", AKG.massAtrocityGreaterCount, "ma-greater"),
    NumberColumn("ma_focus_lesser_count_factor", AKG.massAtrocityLesserCount, "ma-lesser"),
    NumberColumn(
        "ma_focus_no_mixed_count_factor", AKG.massAtrocityNoOrMixedCount, "ma-no-or-mixed"
    ),
    NumberColumn("cro_focus_greater_count_factor", AKG.relatedOutcomeGreaterCount, "cro-greater"),
    NumberColumn("cro_focus_lesser_count_factor", AKG.relatedOutcomeLesserCount, "cro-lesser"),
    NumberColumn(
        "cro_focus_no_mixed_count_factor", AKG.relatedOutcomeNoOrMixedCount, "cro-no-or-mixed"
    ),
)
PROVISIONAL_SCORE = NumberColumn("temp_vote_count_factor", AKG.provisionalVoteScore)
SCORE = NumberColumn("vote_count_factor", AKG.voteScore)
RESEARCH_NUMBERS = (*RESEARCH_COUNTS, PROVISIONAL_SCORE, SCORE)
"""Every number of a research rating, in the order the exporter writes them."""

INTERVIEWED = NumberColumn("number_practitioners", AKG.practitionersInterviewed)
CITING_NET = NumberColumn("count_practitioner", AKG.practitionersCitingNet)
PRACTITIONER_GREATER = NumberColumn("greater_practitioner", AKG.greaterCount)
PRACTITIONER_LESSER = NumberColumn("lesser_practitioner", AKG.lesserCount)
PRACTITIONER_NO_OR_MIXED = NumberColumn("no_mixed_practitioner", AKG.noOrMixedCount)
SHARE = NumberColumn("proportion_practitioner", AKG.practitionerShare)
PRACTITIONER_NUMBERS = (
    INTERVIEWED,
    CITING_NET,
    PRACTITIONER_GREATER,
    PRACTITIONER_LESSER,
    PRACTITIONER_NO_OR_MIXED,
    SHARE,
)
"""Every number of an interview result, in the order the exporter writes them."""

COUNT_PROPERTIES: dict[str, URIRef] = {column.key: column.property for column in RESEARCH_COUNTS}
"""A research rating's counts: the importer's name -> the property."""

STRATEGY_COLUMNS = ("dissuade", "degrade", "protect", "transition")
"""The columns flagging the strategies a tool supports, each named as the strategy's key."""
