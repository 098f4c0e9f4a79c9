"""The columns each kind of release file has had, in the review's own order, release by release:
the exporter writes a release's files with them, and the importer refuses a file with a column
none of them has (a new column of a new release, which the importer would otherwise pass over
in silence: the code book must learn it first).

The bibliography (``zotero_N.csv``) is Zotero's export, whose columns are Zotero's; only the
columns the importer reads are required of it, and no other is refused.
"""

from __future__ import annotations

# The release files' headers, in the review's own order (from each release's data files; the
# first, unnamed column is the record number).
SOURCES_HEADERS: dict[int, tuple[str, ...]] = {
    1: (
        "", "Index.Number", "Tool", "Year", "CD", "Outcome", "Factor_effect", "Gender",
        "Publication", "Empirical", "Qual", "Quant", "Method", "full_citation",
    ),
    2: (
        "", "effects_type", "Index.Number", "Year", "Tool", "CD", "Factor_effect", "overall",
        "Publication", "Empirical", "Qual", "Quant", "Method", "Outcome", "count",
        "count_adverse", "count_without_adverse", "ma_focus_increase_average",
        "ma_focus_decrease_average", "ma_focus_no_mixed_average", "cro_focus_increase_average",
        "cro_focus_decrease_average", "cro_focus_no_mixed_average",
        "ma_focus_increase_count_average", "ma_focus_decrease_count_average",
        "ma_focus_no_mixed_count_average", "cro_focus_increase_count_average",
        "cro_focus_decrease_count_average", "cro_focus_no_mixed_count_average", "vote_average",
        "vote_count_average", "greater_findings", "lesser_findings", "no_mixed_findings",
        "ma_focus_greater_factor", "ma_focus_lesser_factor", "ma_focus_no_mixed_factor",
        "cro_focus_greater_factor", "cro_focus_lesser_factor", "cro_focus_no_mixed_factor",
        "full_citation",
    ),
}  # fmt: skip
# V3's all_sources file has V2's columns with the year moved from after the study's number to
# the end.
SOURCES_HEADERS[3] = (*(c for c in SOURCES_HEADERS[2] if c != "Year"), "Year")
FACTORS_HEADERS: dict[int, tuple[str, ...]] = {
    1: (
        "", "Name.Final", "tool_name", "count", "greater_findings", "lesser_findings",
        "no_mixed_findings", "temp_vote_count_factor", "vote_count_factor", "count_adverse",
        "count_without_adverse", "ma_focus_greater_count_factor", "ma_focus_lesser_count_factor",
        "ma_focus_no_mixed_count_factor", "cro_focus_greater_count_factor",
        "cro_focus_lesser_count_factor", "cro_focus_no_mixed_count_factor", "outcomes",
        "Short.description", "Description_tool", "Theory.of.change", "Structural.or.operational",
        "Evidence.review", "dissuade", "degrade", "protect", "transition", "military",
        "diplomatic", "informational", "economic", "legal", "Name", "Dedoose.name_factor",
        "Description", "Inverse.factor", "Inverse.factor.description",
        "Contextual.or.design.factor", "Family", "domestic_context", "conflict_dynamics",
        "target_characteristics", "implementer_choices", "implementer_characteristics",
        "international_dynamics", "tool_specific", "greater_practitioner", "lesser_practitioner",
        "no_mixed_practitioner", "count_practitioner", "number_practitioners",
        "proportion_practitioner", "inversion_with_neg_strength", "Description.Final",
        "vote_count", "research_qualitative", "practitioner_qualitative", "Dedoose.name_tool",
    ),
    3: (
        "", "Name.Final_research", "Name.Final_practitioner", "tool_name", "count",
        "greater_findings", "lesser_findings", "no_mixed_findings", "temp_vote_count_factor",
        "vote_count_factor", "count_adverse", "count_without_adverse",
        "ma_focus_greater_count_factor", "ma_focus_lesser_count_factor",
        "ma_focus_no_mixed_count_factor", "cro_focus_greater_count_factor",
        "cro_focus_lesser_count_factor", "cro_focus_no_mixed_count_factor", "outcomes",
        "Short.description", "Description_tool", "Theory.of.change", "Structural.or.operational",
        "Evidence.review", "Strategies.the.tool.can.support", "DIMEL", "Name",
        "Dedoose.name_factor", "Description", "Inverse.factor", "Inverse.factor.description",
        "Contextual.or.design.factor", "Family", "greater_practitioner", "lesser_practitioner",
        "no_mixed_practitioner", "count_practitioner", "number_practitioners",
        "proportion_practitioner", "inversion_with_neg_strength", "Description.Final_research",
        "Description.Final_practitioner", "research_qualitative", "practitioner_qualitative",
        "research_qualitative_for_web", "practitioner_qualitative_for_web", "Dedoose.name_tool",
        "dissuade", "degrade", "protect", "transition", "military", "diplomatic",
        "informational", "economic", "legal", "domestic_context", "conflict_dynamics",
        "target_characteristics", "implementer_choices", "implementer_characteristics",
        "international_dynamics", "tool_specific",
    ),
}  # fmt: skip


def _v2_factor_columns(v1: tuple[str, ...]) -> tuple[str, ...]:
    """The V2 all_factors file's columns, as it changed V1's: the tool's code after its name, the
    three practitioner finding counts gone, and the two texts for the web before the tool's code
    name."""
    columns = list(v1)
    columns.insert(columns.index("tool_name") + 1, "Tool")
    for gone in ("greater_practitioner", "lesser_practitioner", "no_mixed_practitioner"):
        columns.remove(gone)
    at = columns.index("Dedoose.name_tool")
    columns[at:at] = ["research_qualitative_for_web", "practitioner_qualitative_for_web"]
    return tuple(columns)


FACTORS_HEADERS[2] = _v2_factor_columns(FACTORS_HEADERS[1])

GUIDE_HEADERS: dict[int, tuple[str, ...]] = {
    1: (
        "", "num_id", "Name", "Type", "Dedoose name", "Short description", "Description_tool",
        "Strategies the tool can support", "Theory of change", "Structural or operational",
        "Evidence review", "DIMEL", "Description", "Inverse factor",
        "Inverse factor description", "Contextual or design factor", "Family", "dissuade",
        "degrade", "protect", "transition", "military", "diplomatic", "informational",
        "economic", "legal", "domestic_context", "conflict_dynamics", "target_characteristics",
        "implementer_choices", "implementer_characteristics", "international_dynamics",
        "tool_specific",
    ),
}  # fmt: skip
# V2's code book has V1's columns; V3's stops at the factor's family.
GUIDE_HEADERS[2] = GUIDE_HEADERS[1]
GUIDE_HEADERS[3] = GUIDE_HEADERS[1][: GUIDE_HEADERS[1].index("Family") + 1]

TABLES: dict[str, dict[int, tuple[str, ...]]] = {
    "sources": SOURCES_HEADERS,
    "factors": FACTORS_HEADERS,
    "guide": GUIDE_HEADERS,
}


def headers_of(table: str, number: int) -> tuple[str, ...]:
    """The columns of release ``number``'s file of ``table`` (sources, factors, guide): its own,
    or for a newer release the newest release's before it, since a release the importer took
    has no column they lack."""
    known = TABLES[table]
    return known[max((n for n in known if n <= number), default=min(known))]


def known_columns(table: str) -> frozenset[str]:
    """Every column some release's file of ``table`` has had."""
    return frozenset(column for header in TABLES[table].values() for column in header)
