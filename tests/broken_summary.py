"""A summary graph that does not conform: the build's own, with one more release tally whose
release is a string (``akgsh:Summary-summarisesRelease`` wants an IRI), for the tests that the
summary is validated wherever it is counted: the build, an admin write, a contribution."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
from rdflib.namespace import RDF, XSD

from atrocity_kg.model.namespaces import AKG

BROKEN_TALLY = ox.NamedNode("https://w3id.org/atrocity-kg/id/summary/release-tally/broken")

RELEASE_COUNTS = (
    AKG.studiesCounted,
    AKG.findingsCounted,
    AKG.overallEffectFindingsCounted,
    AKG.factorFindingsCounted,
    AKG.toolsCounted,
    AKG.factorsCounted,
    AKG.publishedRatingsCounted,
    AKG.recomputedRatingsCounted,
    AKG.matchingRatingsCounted,
)


def broken_tally() -> list[ox.Triple]:
    """A release tally whose every count is in order, and whose release is a string."""
    return [
        ox.Triple(BROKEN_TALLY, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(AKG.ReleaseTally))),
        ox.Triple(BROKEN_TALLY, ox.NamedNode(str(AKG.summarisesRelease)), ox.Literal("V3")),
        *(
            ox.Triple(
                BROKEN_TALLY,
                ox.NamedNode(str(count)),
                ox.Literal("1", datatype=ox.NamedNode(str(XSD.integer))),
            )
            for count in RELEASE_COUNTS
        ),
    ]


def broken_summary(real: Callable[[ox.Store], list[ox.Triple]]) -> Callable[..., list[ox.Triple]]:
    """``summary.summarise`` with the broken tally added (monkeypatched in its place)."""

    def summarise(memory: ox.Store) -> list[ox.Triple]:
        return [*real(memory), *broken_tally()]

    return summarise
