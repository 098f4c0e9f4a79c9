"""The only place IRIs are minted: functions of natural keys, so a rebuild changes none."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rdflib import URIRef

from atrocity_kg.namespaces import BASE

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: 'Peace Ops.098' -> 'peace-ops-098'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    result = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    if not result:
        raise ValueError(f"cannot make an IRI key from {text!r}")
    return result


def _id(kind: str, *keys: str) -> URIRef:
    return URIRef(f"{BASE}id/{kind}/" + "/".join(keys))


def tool(tool_slug: str) -> URIRef:
    return _id("tool", slug(tool_slug))


def mechanism(tool_slug: str, mechanism_key: str) -> URIRef:
    return _id("mechanism", slug(tool_slug), slug(mechanism_key))


def strategy(key: str) -> URIRef:
    return _id("strategy", slug(key))


def concept(scheme: str, label: str) -> URIRef:
    """A term of one of the project's controlled vocabularies (outcome, direction, ...)."""
    return _id(slug(scheme), slug(label))


def scheme(name: str) -> URIRef:
    return _id("scheme", slug(name))


def factor(code: str) -> URIRef:
    """A success factor, keyed by the review's coding label, identical across releases."""
    return _id("factor", slug(code))


def opposite_factor(code: str) -> URIRef:
    """The opposite value of a factor (e.g. uncommitted implementer), keyed by the factor's code."""
    return _id("factor", slug(code) + "--opposite")


def family(name: str) -> URIRef:
    return _id("family", slug(name))


def study(index_number: str) -> URIRef:
    """A study, keyed by the review's index number, identical across releases."""
    return _id("study", slug(index_number))


def release(code: str) -> URIRef:
    return _id("release", slug(code))


def finding(release_code: str, *natural_key: str) -> URIRef:
    """A finding of one release: the key is study, tool, factor (or 'overall'), outcome, direction.

    A digest keeps the path short; the key fields themselves are stored on the node.
    """
    digest = hashlib.sha256("\x1f".join(natural_key).encode("utf-8")).hexdigest()[:16]
    return _id("finding", slug(release_code), digest)


def assessment(release_code: str, basis: str, tool_slug: str, factor_code: str) -> URIRef:
    return _id("assessment", slug(release_code), slug(basis), slug(tool_slug), slug(factor_code))


def recomputed_assessment(release_code: str, basis: str, tool_iri: str, factor_iri: str) -> URIRef:
    """An assessment this project computes, keyed like the published one it checks."""
    return _id(
        "assessment", slug(release_code), "recomputed", slug(basis), key(tool_iri), key(factor_iri)
    )


def justification(tool_iri: str, strategy_iri: str) -> URIRef:
    """Why a tool supports a strategy: one node per inferred link, keyed by its two ends."""
    return _id("justification", key(tool_iri), key(strategy_iri))


def key(iri: str) -> str:
    """The natural key an IRI of this project ends with: .../tool/mediation -> 'mediation'."""
    last = str(iri).rsplit("/", 1)[-1]
    if not str(iri).startswith(f"{BASE}id/") or not last:
        raise ValueError(f"not an IRI of this project's things: {iri}")
    return last


def graph(name: str) -> URIRef:
    """A named graph of the store: 'ontology', 'curated', 'ushmm-v3', ..."""
    return URIRef(f"{BASE}graph/{slug(name)}")
