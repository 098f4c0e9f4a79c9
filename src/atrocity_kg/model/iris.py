"""The only place IRIs are minted: functions of natural keys, so a rebuild changes none."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote, unquote

from rdflib import URIRef

from atrocity_kg.model.namespaces import BASE

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


def is_opposite_factor(iri: str) -> bool:
    """Whether an IRI is one ``opposite_factor`` mints."""
    return str(iri).startswith(f"{BASE}id/factor/") and str(iri).endswith("--opposite")


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


def contribution(contribution_id: str) -> URIRef:
    """A contribution to the living review (its folder name under data/contributions/)."""
    return _id("contribution", slug(contribution_id))


def contributed_finding(contribution_id: str, *natural_key: str) -> URIRef:
    """A finding a contribution adds: keyed like a release's finding (study, tool, factor or
    'overall', outcome, direction), within its contribution."""
    digest = hashlib.sha256("\x1f".join(natural_key).encode("utf-8")).hexdigest()[:16]
    return _id("finding", "contribution", slug(contribution_id), digest)


def curator(name: str) -> URIRef:
    """A person who makes contributions, keyed by the name they give (or their token's name)."""
    return _id("curator", slug(name))


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


def summary_node(kind: str, digest: str) -> URIRef:
    """A node of the summary graph (graph.summary): its kind ('level-change' ...) and the MD5 of
    what it counts, so the build's SPARQL (``summary-*-tallies.rq``) mints the same IRIs."""
    return _id("summary", slug(kind), slug(digest))


def quality_kind(key: str) -> URIRef:
    """A kind of slip in the review's files (a quality rule's ``# kind:``), a SKOS concept."""
    return concept("quality-kind", key)


def quality_annotation(kind: str, file: str, row: int, column: str | None, found: str) -> URIRef:
    """One quality annotation: a kind of slip at one place (file, row, column) with what was
    found there. A digest of them keeps the path short and identical from one import to the
    next; the fields themselves are stored on the node."""
    key = "\x1f".join((kind, file, str(row), column or "", found))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return _id("quality", slug(kind), digest)


# --- the records graph: release files as read, for the quality rules (never stored) ---------

COLUMN_BASE = f"{BASE}id/column/"
COLUMN_PART_BASE = f"{BASE}id/column-part/"
TABLE_BASE = f"{BASE}id/table/"
RECORD_FACT_BASE = f"{BASE}id/record-fact/"


def record(file: str, row: int) -> URIRef:
    """One data record of a release file (its path inside the release folder, its number from 1
    after the header), as the quality rules see it: .../id/record/data/v3-2025-april/..."""
    return _id("record", *(slug(part) for part in file.split("/")), str(row))


def table(kind: str) -> URIRef:
    """The class of the records of one kind of release file: sources, factors, guide,
    bibliography."""
    return URIRef(TABLE_BASE + slug(kind))


def column(name: str) -> URIRef:
    """The property holding a column's value in the records graph, named by its header exactly
    as the file spells it ('Dedoose name' -> .../id/column/Dedoose%20name), so that a rule can
    write ``col:Dedoose%20name`` and the same header in every release is one property."""
    if not name:
        raise ValueError("a column needs a name")
    return URIRef(COLUMN_BASE + quote(name, safe=""))


def column_name(iri: str) -> str | None:
    """The header a column property stands for, or None for any other IRI."""
    text = str(iri)
    return unquote(text.removeprefix(COLUMN_BASE)) if text.startswith(COLUMN_BASE) else None


def record_fact(name: str) -> URIRef:
    """A fact the quality rules' preparation (``rules/prepare.ru``) derives about a record, such
    as the factor a row is about once reconciled (``record-fact/factor``)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        raise ValueError(f"not a record fact name: {name!r}")
    return URIRef(RECORD_FACT_BASE + name)


def column_part(name: str, part: str) -> URIRef:
    """A value derived from a column rather than the column itself: the documents an ``Extra``
    cell names (``Extra.documentName``), the digest of a prose cell (``Description.digest``)."""
    return URIRef(COLUMN_PART_BASE + quote(name, safe="") + "." + quote(part, safe=""))


WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_WIKIDATA_ITEM = re.compile(r"Q[1-9][0-9]*")
DOI_RESOLVER = "https://doi.org/"
# What a DOI keeps unescaped in its resolver IRI, as the study pages' links do: letters, digits,
# '_.-~' and '/:;()'; anything else (space, '#', '?', '%', '<', '[', non-ASCII ...) is
# percent-encoded from its UTF-8 bytes.
_DOI_SAFE = "/:;()._-"


def wikidata_item(qid: str) -> URIRef:
    """A Wikidata item's entity IRI: 'Q350604' -> http://www.wikidata.org/entity/Q350604."""
    if not _WIKIDATA_ITEM.fullmatch(qid):
        raise ValueError(f"not a Wikidata item identifier: {qid!r}")
    return URIRef(WIKIDATA_ENTITY + qid)


def mapping(subject_iri: str, target_iri: str) -> URIRef:
    """A checked mapping from one of the project's things to a Wikidata item, keyed by both ends:
    .../id/outcome/conflict and wd:Q350604 -> .../id/mapping/outcome/conflict/wikidata-q350604."""
    local = str(subject_iri).removeprefix(f"{BASE}id/")
    qid = str(target_iri).removeprefix(WIKIDATA_ENTITY)
    if local == str(subject_iri) or "/" not in local:
        raise ValueError(f"not an IRI of this project's things: {subject_iri}")
    if qid == str(target_iri) or not _WIKIDATA_ITEM.fullmatch(qid):
        raise ValueError(f"not a Wikidata item IRI: {target_iri}")
    return _id("mapping", *(slug(part) for part in local.split("/")), "wikidata-" + slug(qid))


def doi(value: str) -> URIRef:
    """The resolver IRI of a bare DOI: '10.1177/0022343319898241' -> https://doi.org/10.1177/...,
    with what an IRI cannot carry percent-encoded ('10.1/a b#c' -> https://doi.org/10.1/a%20b%23c)."""
    return URIRef(DOI_RESOLVER + quote(value, safe=_DOI_SAFE))


def key(iri: str) -> str:
    """The natural key an IRI of this project ends with: .../tool/mediation -> 'mediation'."""
    last = str(iri).rsplit("/", 1)[-1]
    if not str(iri).startswith(f"{BASE}id/") or not last:
        raise ValueError(f"not an IRI of this project's things: {iri}")
    return last


DATASET = URIRef(f"{BASE}dataset")
"""The whole graph as a DCAT catalogue and VoID dataset."""
PROJECT = URIRef(f"{BASE}dataset#project")
"""The project as publisher of the dataset description."""


def dataset_version(release_code: str) -> URIRef:
    """The dataset as of one release (a DCAT 3 version of DATASET)."""
    return URIRef(f"{DATASET}/{slug(release_code)}")


def distribution(file_name: str) -> URIRef:
    """One dump file as a DCAT distribution, keyed by its stable file name."""
    return URIRef(f"{BASE}dump/{file_name}")


def graph(name: str) -> URIRef:
    """A named graph of the store: 'ontology', 'curated', 'ushmm-v3', ..."""
    return URIRef(f"{BASE}graph/{slug(name)}")
