"""Contributions -> the graphs of the draft release (the living review).

The draft release (``V4-draft`` after V3: the code comes from the releases registry) is the
latest published release together with the contributions made since. Its graphs:

- ``graph/contribution-<id>``, one per contribution: what it adds (its findings, and the studies
  no release has), each finding with its PROV-O: ``prov:wasGeneratedBy`` the contribution (an
  ``akg:Contribution``, a ``prov:Activity`` with its curator, time, note and source file) and
  ``prov:wasAttributedTo`` its curator, and the file and row it came from;
- ``graph/v4-draft``: the draft release itself (``akg:DraftRelease``, ``prov:wasRevisionOf`` the
  latest release), the curators, and which studies are in it: statements several contributions
  could share are made here once;
- ``graph/evidence-v4-draft``: the review's rubric (``evidence.assess_draft``) applied to the
  latest release's findings and the contributions';
- ``graph/inferred-draft``: what the OWL 2 RL rules derive from those graphs and no other graph of
  the store states.

All of it is a function of the store's release graphs and the contributions, so the build and a
contribution's write (``curation``) make the same graphs from the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, XSD
from rdflib.term import Node

from atrocity_kg.errors import ContributionFormatError, SourceLocation
from atrocity_kg.graph import evidence, reasoning
from atrocity_kg.graph.build import UPSTREAM, add_finding, add_study
from atrocity_kg.ingest.contributions import ContributionRecords, DraftBase
from atrocity_kg.ingest.releases import DRAFT_SUFFIX, is_release_code
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, DCAT_VERSION, bind_prefixes

INFERRED_DRAFT_GRAPH = iris.graph("inferred-draft")
CONTRIBUTION_GRAPH_PREFIX = str(iris.graph("contribution-x"))[:-1]
PUBLISHER = "atrocity-kg curators"


def contribution_graph_name(contribution_id: str) -> URIRef:
    return iris.graph(f"contribution-{contribution_id}")


def draft_graph_name(code: str) -> URIRef:
    """The draft release's own graph: graph/v4-draft."""
    return iris.graph(code)


def is_draft_graph(name: str) -> bool:
    """Whether a named graph is one this module makes (so only a contribution may change it)."""
    text = str(name)
    # graph/v5-draft and graph/evidence-v5-draft, whichever release the draft follows.
    named = (str(draft_graph_name("V2-draft")), str(evidence.evidence_graph_name("V2-draft")))
    prefixes = [full[: -len("v2-draft")] for full in named]
    rests = [text[len(prefix) :] for prefix in prefixes if text.startswith(prefix)]
    return (
        text.startswith(CONTRIBUTION_GRAPH_PREFIX)
        or text == str(INFERRED_DRAFT_GRAPH)
        or any(_is_draft_slug(rest) for rest in rests)
    )


def _is_draft_slug(rest: str) -> bool:
    """Whether a graph name's last part is a draft release's code (v5-draft)."""
    code = rest.upper()
    suffix = DRAFT_SUFFIX.upper()
    return code.endswith(suffix) and is_release_code(code[: -len(suffix)])


@dataclass(frozen=True)
class DraftInput:
    """What the latest release gives a draft: the base contributions are read against, its factor
    findings, the factors' opposites and the practitioner ratings it publishes, and the graphs
    that state it."""

    base: DraftBase
    findings: list[evidence.FindingRow]
    opposites: dict[str, URIRef]
    interviews: dict[tuple[str, str], evidence.Interviews]
    contributed_studies: dict[str, str]
    """Index number -> the contribution graph that adds the study (in a store that has some)."""


def contributed_findings(contribution: ContributionRecords) -> list[evidence.FindingRow]:
    """A contribution's factor findings as the rubric reads them."""
    rows = []
    for finding in contribution.records.findings.values():
        if finding.factor is None:
            continue
        rows.append(
            (
                str(finding_iri(contribution, finding.key)),
                str(iris.tool(finding.tool)),
                str(iris.factor(finding.factor)),
                finding.outcome,
                finding.direction,
            )
        )
    return rows


def finding_iri(contribution: ContributionRecords, key: tuple[str, ...]) -> URIRef:
    return iris.contributed_finding(contribution.meta.id, *key)


def check_new_studies(contributions: Iterable[ContributionRecords]) -> None:
    """A study no release has may be added by one contribution only (the others may add findings
    to it once it is there): otherwise its description would be stated twice."""
    added: dict[str, str] = {}
    for contribution in contributions:
        for number in contribution.new_studies:
            first = added.setdefault(number, contribution.meta.id)
            if first != contribution.meta.id:
                study = contribution.studies[number]
                raise ContributionFormatError(
                    SourceLocation(contribution.shown_file, study.rows[0], "Index.Number"),
                    f"study {number!r} is added by contribution {first} already: a contribution "
                    "adds findings to it, but not the study again (withdraw and contribute anew "
                    "to change it)",
                )


def check_against_latest(contribution: ContributionRecords, source: DraftInput) -> None:
    """A finding the latest release has already (same study, tool, factor, outcome and
    direction) would be counted twice: it is refused, naming its row."""
    known = {row[0] for row in source.findings}
    for finding in contribution.records.findings.values():
        if str(iris.finding(source.base.latest, *finding.key)) in known:
            raise ContributionFormatError(
                SourceLocation(contribution.shown_file, finding.rows[0], "Index.Number"),
                f"release {source.base.latest} has this finding already (study "
                f"{finding.study!r}, factor {finding.factor!r}, the same outcome and direction)",
            )


def drop_known(contribution: ContributionRecords, source: DraftInput) -> list[str]:
    """Leave out of a kept contribution the findings the latest release has come to hold (a new
    release that includes what was contributed): one note per finding left out."""
    known = {row[0] for row in source.findings}
    notes = []
    for key, finding in list(contribution.records.findings.items()):
        if str(iris.finding(source.base.latest, *finding.key)) in known:
            del contribution.records.findings[key]
            notes.append(
                f"contribution {contribution.meta.id}, {contribution.shown_file}, row "
                f"{finding.rows[0]}: release {source.base.latest} has this finding (study "
                f"{finding.study!r}) already; it is left out of the draft"
            )
    return notes


def contribution_graph(contribution: ContributionRecords, draft: str) -> Graph:
    """What one contribution states: its activity, the studies it adds, its findings."""
    graph = bind_prefixes(Graph())
    meta = contribution.meta
    activity = iris.contribution(meta.id)
    release = iris.release(draft)
    curator = iris.curator(meta.curator)
    graph.add((activity, RDF.type, AKG.Contribution))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, DCTERMS.identifier, Literal(meta.id)))
    graph.add((activity, PROV.startedAtTime, Literal(meta.created, datatype=XSD.dateTime)))
    graph.add((activity, PROV.wasAssociatedWith, curator))
    graph.add((activity, DCTERMS.source, Literal(meta.records_source)))
    if meta.bibliography_source:
        graph.add((activity, DCTERMS.source, Literal(meta.bibliography_source)))
    if meta.note:
        graph.add((activity, DCTERMS.description, Literal(meta.note)))
    graph.add((activity, AKG.contributesTo, release))
    for number in contribution.new_studies:
        add_study(graph, contribution.studies[number], release)
        # A study's releases are stated once, in the draft's graph (several contributions may
        # add findings to one study).
        graph.remove((iris.study(number), AKG.inRelease, release))
    for finding in contribution.records.findings.values():
        node = finding_iri(contribution, finding.key)
        add_finding(graph, finding, node, release)
        graph.add((node, PROV.wasGeneratedBy, activity))
        graph.add((node, PROV.wasAttributedTo, curator))
    return graph


def draft_graph(base: DraftBase, contributions: Iterable[ContributionRecords]) -> Graph:
    """The draft release, its curators, and the studies in it."""
    graph = bind_prefixes(Graph())
    code = base.draft
    release = iris.release(code)
    graph.add((release, RDF.type, AKG.DraftRelease))
    graph.add((release, RDF.type, AKG.Release))
    graph.add((release, RDF.type, DCAT.Dataset))
    graph.add((release, AKG.releaseCode, Literal(code)))
    graph.add((release, DCAT_VERSION, Literal(code)))
    title = (
        f"Tools for Atrocity Prevention data, {code} ({base.latest} and the contributions since)"
    )
    graph.add((release, DCTERMS.title, Literal(title, lang="en")))
    graph.add((release, DCTERMS.publisher, Literal(PUBLISHER)))
    graph.add((release, PROV.wasDerivedFrom, UPSTREAM))
    graph.add((release, PROV.wasRevisionOf, iris.release(base.latest)))
    for contribution in contributions:
        meta = contribution.meta
        graph.add((release, DCTERMS.source, Literal(meta.records_file)))
        if meta.bibliography_file is not None:
            graph.add((release, DCTERMS.source, Literal(meta.bibliography_file)))
        curator = iris.curator(meta.curator)
        graph.add((curator, RDF.type, PROV.Agent))
        graph.add((curator, RDFS.label, Literal(meta.curator)))
        for number in contribution.studies:
            graph.add((iris.study(number), AKG.inRelease, release))
    return graph


def draft_graphs(
    source: DraftInput, contributions: list[ContributionRecords]
) -> dict[URIRef, Graph]:
    """The contributions' graphs, the draft release's, and its evidence (not the inferred graph,
    which needs the rest of the store: ``draft_inferred``). None without contributions."""
    if not contributions:
        return {}
    check_new_studies(contributions)
    code = source.base.draft
    named: dict[URIRef, Graph] = {}
    rows = list(source.findings)
    for contribution in contributions:
        named[contribution_graph_name(contribution.meta.id)] = contribution_graph(
            contribution, code
        )
        rows.extend(contributed_findings(contribution))
    named[draft_graph_name(code)] = draft_graph(source.base, contributions)
    named[evidence.evidence_graph_name(code)] = evidence.assess_draft(
        code, rows, source.opposites, source.interviews
    )
    return named


def draft_inferred(
    ontology: Graph,
    named: Mapping[URIRef, Graph],
    stated_elsewhere: Callable[[tuple[Node, Node, Node]], bool],
) -> Graph:
    """What the OWL 2 RL rules derive from the draft's graphs (with the ontology) that neither
    they nor any other graph of the store (``stated_elsewhere``) states."""
    derived = reasoning.materialize(ontology, list(named.values()))
    inferred = bind_prefixes(Graph())
    for triple in derived:
        if not stated_elsewhere(triple):
            inferred.add(triple)
    return inferred
