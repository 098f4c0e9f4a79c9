"""Values read from rdflib answers. rdflib types an object or a solution's value as any node
(or None), so a test that expects a literal says so here rather than converting blindly: a
missing value or an IRI fails with the term it got."""

from __future__ import annotations

from rdflib import Literal


def integer(term: object) -> int:
    """The integer a literal states (a count, a row number)."""
    assert isinstance(term, Literal), term
    return int(term)
