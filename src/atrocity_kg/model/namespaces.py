"""Ontology terms and prefixes, declared once: a misspelt term is an error, not a new IRI."""

from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SDO, SKOS, XSD, DefinedNamespace
from rdflib.term import URIRef

BASE = "https://w3id.org/atrocity-kg/"
ONTOLOGY_IRI = URIRef(BASE + "ontology")


class AKG(DefinedNamespace):
    """The atrocity-kg ontology (ontology/atrocity.ttl)."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # classes
    AnalysisMethod: URIRef
    CapacityDegradingTool: URIRef
    CivilianProtectionTool: URIRef
    ContextualFactor: URIRef
    Contribution: URIRef
    DesignFactor: URIRef
    DissuasionTool: URIRef
    DraftRelease: URIRef
    EffectDirection: URIRef
    EmpiricalBasis: URIRef
    EvidenceAssessment: URIRef
    EvidenceBackedTool: URIRef  # deprecated: ToolWithStrongFactor
    EvidenceBasis: URIRef
    EvidenceLevel: URIRef
    FactorFamily: URIRef
    FactorFinding: URIRef
    FactorPresenceChange: URIRef
    FactorTally: URIRef
    Finding: URIRef
    FindingTally: URIRef
    HeadlineFactor: URIRef  # deprecated: StrongFactorOfSeveralTools
    Justification: URIRef
    LatestRelease: URIRef
    LevelChange: URIRef
    LevelTally: URIRef
    Mapping: URIRef
    MatchBasis: URIRef
    Mechanism: URIRef
    MethodTally: URIRef
    Outcome: URIRef
    OverallEffectFinding: URIRef
    PolicyInstrument: URIRef
    PractitionerAssessment: URIRef
    PreventionTool: URIRef
    PreventionType: URIRef
    PublishedRatingChange: URIRef
    PublicationType: URIRef
    RatingListing: URIRef
    QualityIssueKind: URIRef
    RecomputedAssessment: URIRef
    Release: URIRef
    ReleaseComparison: URIRef
    ReleaseTally: URIRef
    ResearchAssessment: URIRef
    ReviewedTool: URIRef
    Strategy: URIRef
    StrongFactorOfSeveralTools: URIRef
    Study: URIRef
    StudyComparison: URIRef
    SuccessFactor: URIRef
    Summary: URIRef
    ToolTally: URIRef
    ToolWithStrongFactor: URIRef
    TransitionTool: URIRef

    # object properties
    aboutFactor: URIRef
    aboutTool: URIRef
    advancedByMechanism: URIRef
    advancesStrategy: URIRef
    comparedFrom: URIRef
    comparedTo: URIRef
    comprises: URIRef
    contributesTo: URIRef
    direction: URIRef
    empiricalBasis: URIRef
    evidenceBasis: URIRef
    evidenceLevel: URIRef
    factorFamily: URIRef
    hasMechanism: URIRef
    hasStrongFactor: URIRef
    inRelease: URIRef
    listedAsFactor: URIRef
    levelFrom: URIRef
    levelTo: URIRef
    matchBasis: URIRef
    mechanismOf: URIRef
    oppositeFactor: URIRef
    outcome: URIRef
    preventionType: URIRef
    publicationType: URIRef
    recomputes: URIRef
    reportedIn: URIRef
    reportsFinding: URIRef
    researchLevelBeside: URIRef
    restsOn: URIRef
    shownAsFactor: URIRef
    statedToSupport: URIRef
    statementsOf: URIRef
    strongFactorOf: URIRef
    summarisesDirection: URIRef
    summarisesBasis: URIRef
    summarisesFactor: URIRef
    summarisesLevel: URIRef
    summarisesMethod: URIRef
    summarisesOutcome: URIRef
    summarisesRating: URIRef
    summarisesRelease: URIRef
    summarisesTool: URIRef
    supportedByTool: URIRef
    supportsStrategy: URIRef
    usesInstrument: URIRef
    usesMethod: URIRef
    viaMechanism: URIRef

    # datatype properties
    action: URIRef
    adverseCount: URIRef
    assessmentsCounted: URIRef
    change: URIRef
    dedooseCode: URIRef
    displayed: URIRef
    evidenceReviewed: URIRef
    factorEffectNotation: URIRef
    factorFindingsCounted: URIRef
    factorsCounted: URIRef
    findingCount: URIRef
    findingKind: URIRef
    findingsCounted: URIRef
    findingsFrom: URIRef
    findingsTo: URIRef
    found: URIRef
    greaterCount: URIRef
    indexNumber: URIRef
    listingKind: URIRef
    inverted: URIRef
    lesserCount: URIRef
    massAtrocityGreaterCount: URIRef
    massAtrocityLesserCount: URIRef
    massAtrocityNoOrMixedCount: URIRef
    massAtrocityStudiesCounted: URIRef
    closelyRelatedStudiesCounted: URIRef
    adverseConsequenceStudiesCounted: URIRef
    matchesPublished: URIRef
    matchingRatingsCounted: URIRef
    noOrMixedCount: URIRef
    otherOutcomeStudiesCounted: URIRef
    overallEffectFindingsCounted: URIRef
    practitionersCitingNet: URIRef
    practitionerShare: URIRef
    practitionersInterviewed: URIRef
    provisionalVoteScore: URIRef
    publishedRatingsCounted: URIRef
    recomputedRatingsCounted: URIRef
    relatedOutcomeGreaterCount: URIRef
    relatedOutcomeLesserCount: URIRef
    relatedOutcomeNoOrMixedCount: URIRef
    releaseCode: URIRef
    reviewName: URIRef
    scoreFrom: URIRef
    scoreListed: URIRef
    scoreTo: URIRef
    sourceColumn: URIRef
    sourceFile: URIRef
    sourceRow: URIRef
    studiesAdded: URIRef
    studiesCounted: URIRef
    studiesFrom: URIRef
    studiesRemoved: URIRef
    studiesTo: URIRef
    toolsCounted: URIRef
    voteScore: URIRef
    zoteroKey: URIRef


BIBO = Namespace("http://purl.org/ontology/bibo/")
PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
VANN = Namespace("http://purl.org/vocab/vann/")
# W3C Data Quality Vocabulary and Web Annotation: the quality report's annotations.
DQV = Namespace("http://www.w3.org/ns/dqv#")
OA = Namespace("http://www.w3.org/ns/oa#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
# DCAT 3 terms that rdflib's closed DCAT namespace does not list yet.
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")

PREFIXES: dict[str, Namespace | type[DefinedNamespace]] = {
    "akg": AKG,
    "id": ID,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dct": DCTERMS,
    "prov": PROV,
    "dcat": DCAT,
    "schema": SDO,
    "bibo": BIBO,
    "prism": PRISM,
    "dqv": DQV,
    "oa": OA,
}


def bind_prefixes(graph: Graph) -> Graph:
    """Give a graph the project's prefixes, so that serialisations read the same everywhere."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(
            prefix,
            str(namespace) if not isinstance(namespace, Namespace) else namespace,
            override=True,
            replace=True,
        )
    return graph


def sparql_prologue() -> str:
    """PREFIX lines for the project's prefixes, for queries typed by people."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
