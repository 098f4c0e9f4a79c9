"""Records -> asserted graphs: one graph per USHMM release, and the curated tool catalogue."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, SDO, SKOS, XSD

from atrocity_kg.graph.evidence import decimal_literal
from atrocity_kg.ingest.codebook import class_of, code_book
from atrocity_kg.ingest.columns import COUNT_PROPERTIES
from atrocity_kg.ingest.ushmm import (
    FactorRecord,
    FindingRecord,
    FormerKey,
    PractitionerRating,
    ReleaseRecords,
    ResearchRating,
    StudyRecord,
    ToolCatalogue,
)
from atrocity_kg.model import iris
from atrocity_kg.model.citations import parse_citation, plain_citation
from atrocity_kg.model.namespaces import AKG, BIBO, DCAT_VERSION, PRISM, bind_prefixes

UPSTREAM = URIRef("https://github.com/ushmm/atrocity-prevention-data")
USHMM = URIRef("https://www.ushmm.org/")
PUBLISHER = (
    "United States Holocaust Memorial Museum, Simon-Skjodt Center for the Prevention of Genocide"
)


def tool_catalogue(curated: Graph) -> ToolCatalogue:
    """The tools the curated data describes, by the review's code and by lower-cased name."""
    by_code: dict[str, str] = {}
    by_name: dict[str, str] = {}
    prefix = str(iris.tool("x"))[:-1]
    for tool in curated.subjects(RDF.type, AKG.PreventionTool):
        tool_slug = str(tool).removeprefix(prefix)
        for code in curated.objects(tool, AKG.dedooseCode):
            by_code[str(code)] = tool_slug
        for label in curated.objects(tool, SKOS.prefLabel):
            by_name[str(label).lower()] = tool_slug
    return ToolCatalogue(by_code, by_name, code_book(curated))


def release_graph(records: ReleaseRecords) -> Graph:
    """The asserted graph of one release: facts only, each node traced to its file and row."""
    graph = bind_prefixes(Graph())
    spec = records.spec
    release = iris.release(spec.code)
    _add_release(graph, release, records)
    for tool, strategies in sorted(records.stated_strategies.items()):
        for strategy in sorted(strategies):
            graph.add((iris.tool(tool), AKG.statedToSupport, iris.strategy(strategy)))
    for factor in records.factors.values():
        _add_factor(graph, factor)
    for study in records.studies.values():
        add_study(graph, study, release)
    for finding in records.findings.values():
        _add_finding(graph, finding, spec.code, release)
    for rating in records.research.values():
        _add_research_rating(graph, rating, spec.code, release)
    for practitioner in records.practitioner.values():
        _add_practitioner_rating(graph, practitioner, spec.code, release)
    return graph


def _add_release(graph: Graph, release: URIRef, records: ReleaseRecords) -> None:
    spec = records.spec
    graph.add((release, RDF.type, AKG.Release))
    graph.add((release, RDF.type, DCAT.Dataset))
    graph.add((release, AKG.releaseCode, Literal(spec.code)))
    graph.add((release, DCAT_VERSION, Literal(spec.code)))
    graph.add((release, DCTERMS.title, Literal(spec.title, lang="en")))
    kind = XSD.gYearMonth if spec.issued_month else XSD.gYear
    graph.add((release, DCTERMS.issued, Literal(spec.issued, datatype=kind)))
    graph.add((release, DCTERMS.publisher, Literal(PUBLISHER)))
    graph.add((release, PROV.wasDerivedFrom, UPSTREAM))
    for file in records.files:
        graph.add((release, DCTERMS.source, Literal(file)))


def _trace(graph: Graph, node: URIRef, file: str, rows: list[int]) -> None:
    graph.add((node, AKG.sourceFile, Literal(file)))
    for row in rows:
        graph.add((node, AKG.sourceRow, Literal(row, datatype=XSD.positiveInteger)))


def _add_factor(graph: Graph, factor: FactorRecord) -> None:
    """A factor (and its opposite) as this release names them: the release's wording is its
    akg:reviewName here; the one preferred label, unique across factors, is the build's
    (catalogue.py), since releases rename factors and reuse one name for several."""
    node = iris.factor(factor.key)
    kind = class_of("factor kind", factor.kind)
    graph.add((node, RDF.type, kind))
    graph.add((node, AKG.reviewName, Literal(factor.name, lang="en")))
    if factor.code:
        graph.add((node, AKG.dedooseCode, Literal(factor.code)))
    family = None
    if factor.family:
        family = iris.family(factor.family)
        graph.add((family, RDF.type, AKG.FactorFamily))
        graph.add((family, RDF.type, SKOS.Concept))
        graph.add((family, SKOS.prefLabel, Literal(" ".join(factor.family.split()), lang="en")))
        graph.add((node, AKG.factorFamily, family))
    _trace(graph, node, factor.file, [factor.row])
    if factor.opposite_name:
        opposite = iris.opposite_factor(factor.key)
        graph.add((opposite, RDF.type, kind))
        graph.add((opposite, AKG.reviewName, Literal(factor.opposite_name, lang="en")))
        if family is not None:
            graph.add((opposite, AKG.factorFamily, family))
        graph.add((node, AKG.oppositeFactor, opposite))
        graph.add((opposite, AKG.oppositeFactor, node))
        _trace(graph, opposite, factor.file, [factor.row])
    for former in factor.former_keys:
        _add_replaced(graph, iris.factor(former.key), node, former)
        if factor.opposite_name:
            _add_replaced(graph, iris.opposite_factor(former.key), opposite, former)


def _add_replaced(graph: Graph, old: URIRef, new: URIRef, former: FormerKey) -> None:
    """An IRI published for a factor before its row was reconciled: where the factor now lives,
    why (the match's basis) and the row matched. Not owl:sameAs, which would have a reasoner
    restate every fact about the factor under the old IRI too, and so double every count."""
    graph.add((old, DCTERMS.isReplacedBy, new))
    graph.add((old, AKG.matchBasis, iris.concept("match-basis", former.basis)))
    # The name the row gave it (and its opposite), so that the row can be written as it was.
    name = former.opposite_name if iris.is_opposite_factor(str(old)) else former.key
    if name is not None:
        graph.add((old, AKG.reviewName, Literal(name, lang="en")))
    _trace(graph, old, former.file, former.rows)


def add_study(graph: Graph, study: StudyRecord, release: URIRef) -> None:
    """A study as its bibliography entry describes it (the same in every release), else as the
    release's citation does; the citations as plain text (the markers only guide the parse)."""
    node = iris.study(study.index_number)
    graph.add((node, RDF.type, AKG.Study))
    graph.add((node, AKG.indexNumber, Literal(study.index_number)))
    graph.add((node, AKG.inRelease, release))
    graph.add((node, DCTERMS.issued, Literal(f"{study.issued:04d}", datatype=XSD.gYear)))
    graph.add((node, AKG.publicationType, iris.concept("publication-type", study.publication_type)))
    graph.add((node, AKG.empiricalBasis, iris.concept("empirical-basis", study.empirical_basis)))
    for method in sorted(study.methods):
        graph.add((node, AKG.usesMethod, iris.concept("analysis-method", method)))
    for citation in dict.fromkeys(plain_citation(text) for text in study.citations):
        if citation:
            graph.add((node, DCTERMS.bibliographicCitation, Literal(citation)))
    parsed = parse_citation(study.citations[0])
    record = study.bibliography
    title = (record.title if record else None) or parsed.title
    creators = (record.creators if record else None) or parsed.creators
    editors = (record.editors if record else None) or parsed.editors
    venue = (record.venue if record else None) or parsed.venue
    if title:
        graph.add((node, DCTERMS.title, Literal(title)))
    for creator in creators:
        graph.add((node, DCTERMS.creator, Literal(creator)))
    for editor in editors:
        graph.add((node, BIBO.editor, Literal(editor)))
    if venue:
        graph.add((node, PRISM.publicationName, Literal(venue)))
    if record is not None:
        graph.add((node, AKG.zoteroKey, Literal(record.zotero_key)))
        if record.doi:
            graph.add((node, BIBO.doi, Literal(record.doi)))
            graph.add((node, SDO.sameAs, iris.doi(record.doi)))
    _trace(graph, node, study.file, study.rows[:1])


def _add_finding(graph: Graph, finding: FindingRecord, code: str, release: URIRef) -> None:
    add_finding(graph, finding, iris.finding(code, *finding.key), release)


def add_finding(graph: Graph, finding: FindingRecord, node: URIRef, release: URIRef) -> None:
    """A finding (of a release, or of a contribution to a draft release) under its IRI."""
    study = iris.study(finding.study)
    graph.add((node, RDF.type, class_of("effects_type", finding.kind)))
    graph.add((node, AKG.inRelease, release))
    graph.add((node, AKG.reportedIn, study))
    graph.add((study, AKG.reportsFinding, node))
    graph.add((node, AKG.aboutTool, iris.tool(finding.tool)))
    if finding.factor is not None:
        graph.add((node, AKG.aboutFactor, iris.factor(finding.factor)))
    graph.add((node, AKG.outcome, iris.concept("outcome", finding.outcome)))
    graph.add((node, AKG.direction, iris.concept("direction", finding.direction)))
    _trace(graph, node, finding.file, finding.rows)


_decimal = decimal_literal


def _add_assessment_core(
    graph: Graph, node: URIRef, kind: URIRef, basis: str, tool: str, factor: str, release: URIRef
) -> None:
    graph.add((node, RDF.type, kind))
    graph.add((node, PROV.wasAttributedTo, USHMM))
    graph.add((node, AKG.inRelease, release))
    graph.add((node, AKG.aboutTool, iris.tool(tool)))
    graph.add((node, AKG.aboutFactor, iris.factor(factor)))
    graph.add((node, AKG.evidenceBasis, iris.concept("evidence-basis", basis)))


def _add_research_rating(graph: Graph, rating: ResearchRating, code: str, release: URIRef) -> None:
    node = iris.assessment(code, "research", rating.tool, rating.factor)
    _add_assessment_core(
        graph, node, AKG.ResearchAssessment, "research", rating.tool, rating.factor, release
    )
    for name, prop in COUNT_PROPERTIES.items():
        graph.add((node, prop, Literal(rating.counts[name], datatype=XSD.nonNegativeInteger)))
    graph.add((node, AKG.provisionalVoteScore, _decimal(rating.provisional_score)))
    graph.add((node, AKG.voteScore, _decimal(rating.score)))
    graph.add((node, AKG.inverted, Literal(rating.inverted)))
    graph.add((node, AKG.evidenceLevel, iris.concept("evidence-level", rating.level)))
    _trace(graph, node, rating.file, [rating.row])


def _add_practitioner_rating(
    graph: Graph, rating: PractitionerRating, code: str, release: URIRef
) -> None:
    node = iris.assessment(code, "practitioner-interviews", rating.tool, rating.factor)
    _add_assessment_core(
        graph,
        node,
        AKG.PractitionerAssessment,
        "practitioner-interviews",
        rating.tool,
        rating.factor,
        release,
    )
    graph.add(
        (
            node,
            AKG.practitionersInterviewed,
            Literal(rating.interviewed, datatype=XSD.nonNegativeInteger),
        )
    )
    if rating.citing_net is not None:
        graph.add((node, AKG.practitionersCitingNet, _decimal(rating.citing_net)))
    for value, prop in (
        (rating.greater, AKG.greaterCount),
        (rating.lesser, AKG.lesserCount),
        (rating.no_or_mixed, AKG.noOrMixedCount),
    ):
        if value is not None:
            graph.add((node, prop, Literal(value, datatype=XSD.nonNegativeInteger)))
    graph.add((node, AKG.practitionerShare, _decimal(rating.share)))
    graph.add((node, AKG.evidenceLevel, iris.concept("evidence-level", rating.level)))
    _trace(graph, node, rating.file, [rating.row])
