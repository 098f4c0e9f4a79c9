"""Asserted graphs -> the inferred graph: consistency, classification, property values, and why.

Two engines, each where it is fast enough. HermiT (through owlready2, on Java) gets what needs a
DL reasoner and is small: the ontology, the curated tools, mechanisms and strategies, and each
release's factor types and stated strategies (about 2,400 triples, 3 to 7 s). It checks
consistency and derives the property chain. Its time grows steeply with the findings
(bench/reasoning.py: 20 to 50 s with V3's 1,164 factor findings added, 387 s with V3's findings
and assessments), so what follows over the findings and assessments (about 120,000 triples) is
derived by OWL 2 RL rules run as SPARQL updates on an in-memory pyoxigraph store until nothing new
appears (6 to 9 s); the same rules then look for the clashes OWL 2 RL detects over everything.
Only triples no asserted graph holds are returned, so inferred and asserted triples never mix.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, PROV, RDF
from rdflib.term import Node

from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.graph.graphs import from_ox, ox_quads
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, BASE, bind_prefixes, sparql_prologue

INFERRED_GRAPH = iris.graph("inferred")
REASONING = URIRef(BASE + "id/activity/reasoning")
"""The activity that generates every justification."""
_ASSERTED = ox.NamedNode(BASE + "graph/asserted-during-reasoning")
_DL_DATA = (AKG.statedToSupport, AKG.oppositeFactor)
_DL_TYPES = (AKG.ContextualFactor, AKG.DesignFactor)


@dataclass(frozen=True)
class Clash:
    """One reason the graph is inconsistent: the axiom broken and the individual breaking it."""

    individual: str
    axiom: str
    sources: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" (recorded at {'; '.join(self.sources)})" if self.sources else ""
        return f"{self.individual}: {self.axiom}{where}"


class InconsistentGraphError(AtrocityKGError):
    """Ontology and data contradict each other; nothing was built."""

    def __init__(self, clashes: list[Clash], reasoner_message: str) -> None:
        self.clashes = clashes
        self.reasoner_message = reasoner_message
        lines = [str(clash) for clash in clashes] or [
            f"HermiT found no model; no single clash was isolated ({reasoner_message})"
        ]
        super().__init__("the graph is inconsistent:\n  " + "\n  ".join(lines))


@dataclass
class ReasoningResult:
    inferred: Graph
    timings: dict[str, float] = field(default_factory=dict)
    hermit_triples: int = 0


def dl_input(ontology: Graph, curated: Graph, releases: Mapping[str, Graph]) -> Graph:
    """The part HermiT gets: the ontology, the curated data, and the releases' factor types and
    stated strategies (a few hundred individuals, not the findings)."""
    graph = ontology + curated
    for release in releases.values():
        for kind in _DL_TYPES:
            graph.addN(
                (factor, RDF.type, kind, graph) for factor in release.subjects(RDF.type, kind)
            )
        for prop in _DL_DATA:
            graph.addN((s, prop, o, graph) for s, o in release.subject_objects(prop))
    return graph


def run_hermit(graph: Graph, provenance: Iterable[Graph] = ()) -> Graph:
    """Consistency check, classification and property values by HermiT: the new triples only.

    Raises InconsistentGraphError naming the clashing individuals and axioms, with the source
    rows that the provenance graphs record for them.
    """
    import owlready2

    world = owlready2.World()
    ontology = world.get_ontology(BASE + "reasoning-input")
    data = graph.serialize(format="nt", encoding="utf-8")
    ontology.load(fileobj=io.BytesIO(data), format="ntriples")
    before = set(world.as_rdflib_graph())
    try:
        with ontology:
            owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError as error:
        clashes = find_clashes(graph, [graph, *provenance])
        raise InconsistentGraphError(clashes, str(error).strip()[:300]) from None
    inferred = Graph()
    for triple in set(world.as_rdflib_graph()) - before:
        if not any(isinstance(term, BNode) for term in triple):
            inferred.add(triple)
    world.close()
    return inferred


CLASHES = (
    sparql_prologue()
    + """SELECT DISTINCT ?x ?axiom ?a ?b WHERE {
  {
    { ?a owl:disjointWith ?b } UNION { ?b owl:disjointWith ?a }
    ?x a/rdfs:subClassOf* ?a , ?b .
    BIND("disjointWith" AS ?axiom)
    FILTER(STR(?a) < STR(?b))
  } UNION {
    ?a a owl:IrreflexiveProperty . ?x ?a ?x .
    BIND("IrreflexiveProperty" AS ?axiom)
  } UNION {
    ?a a owl:FunctionalProperty , owl:DatatypeProperty .
    ?x ?a ?first , ?second .
    FILTER(isLiteral(?first) && isLiteral(?second) && STR(?first) < STR(?second))
    FILTER(!sameTerm(?first, ?second) && ?first != ?second)
    BIND("FunctionalProperty" AS ?axiom)
    BIND(CONCAT(STR(?first), " and ", STR(?second)) AS ?b)
  }
}
ORDER BY ?x ?a
"""
)
"""The clashes OWL 2 RL detects (cax-dw, prp-irp, and prp-fp for data values, which are always
distinct when unequal): run on HermiT's input when HermiT finds no model, and on the whole
materialized graph, which HermiT never sees."""


def find_clashes(graph: Graph, provenance: Iterable[Graph] = ()) -> list[Clash]:
    """Isolate the simple causes of inconsistency in a graph, with their sources."""
    return _clashes(_store([graph]), [graph, *provenance])


def _clashes(store: ox.Store, provenance: list[Graph]) -> list[Clash]:
    clashes = []
    for row in store.query(CLASHES):  # type: ignore[union-attr]
        individual, axiom, first = (row[name].value for name in ("x", "axiom", "a"))
        if axiom == "disjointWith":
            text = f"typed both {_short(first)} and {_short(row['b'].value)}, declared disjoint"
        elif axiom == "FunctionalProperty":
            text = f"two values for {_short(first)} ({row['b'].value}), declared functional"
        else:
            text = f"related to itself by {_short(first)}, declared irreflexive"
        clashes.append(Clash(individual, text, _sources(provenance, URIRef(individual))))
    return clashes


def _sources(graphs: list[Graph], individual: URIRef) -> tuple[str, ...]:
    """The file and row each graph records for an individual (as the importer writes them)."""
    found: set[str] = set()
    for graph in graphs:
        for file in graph.objects(individual, AKG.sourceFile):
            found.update(f"{file} row {row}" for row in graph.objects(individual, AKG.sourceRow))
    return tuple(sorted(found))


def _short(iri: str) -> str:
    return "akg:" + iri.removeprefix(str(AKG)) if iri.startswith(str(AKG)) else f"<{iri}>"


PREFIXES = sparql_prologue()
RULES = {
    "cax-sco": "INSERT { ?x a ?d } WHERE { ?c rdfs:subClassOf+ ?d . FILTER(isIRI(?d)) ?x a ?c }",
    "cax-eqc": """INSERT { ?x a ?d } WHERE {
        { ?c owl:equivalentClass ?d } UNION { ?d owl:equivalentClass ?c }
        FILTER(isIRI(?c) && isIRI(?d)) ?x a ?c }""",
    "prp-dom": "INSERT { ?x a ?c } WHERE { ?p rdfs:domain ?c . FILTER(isIRI(?c)) ?x ?p ?y }",
    "prp-rng": """INSERT { ?y a ?c } WHERE {
        ?p rdfs:range ?c ; a owl:ObjectProperty . FILTER(isIRI(?c))
        ?x ?p ?y . FILTER(isIRI(?y)) }""",
    "prp-spo1": "INSERT { ?x ?q ?y } WHERE { ?p rdfs:subPropertyOf+ ?q . ?x ?p ?y }",
    "prp-inv": """INSERT { ?y ?q ?x } WHERE {
        { ?p owl:inverseOf ?q } UNION { ?q owl:inverseOf ?p } ?x ?p ?y . FILTER(isIRI(?y)) }""",
    "prp-symp": "INSERT { ?y ?p ?x } WHERE { ?p a owl:SymmetricProperty . ?x ?p ?y }",
    "prp-spo2": """INSERT { ?x ?p ?z } WHERE {
        ?p owl:propertyChainAxiom ?list . ?list rdf:first ?p1 ; rdf:rest ?rest .
        ?rest rdf:first ?p2 ; rdf:rest rdf:nil . ?x ?p1 ?y . ?y ?p2 ?z }""",
    "strong-factor": """INSERT { ?tool akg:hasStrongFactor ?factor } WHERE {
        { SELECT ?latest WHERE { ?latest a akg:Release ; dct:issued ?issued }
          ORDER BY DESC(STR(?issued)) LIMIT 1 }
        ?a a akg:RecomputedAssessment ; akg:inRelease ?latest ; akg:displayed true ;
           akg:evidenceBasis <https://w3id.org/atrocity-kg/id/evidence-basis/research> ;
           akg:evidenceLevel <https://w3id.org/atrocity-kg/id/evidence-level/relatively-strong> ;
           akg:aboutTool ?tool ; akg:shownAsFactor ?factor }""",
    "strong-factor-of-several-tools": """INSERT { ?factor a akg:StrongFactorOfSeveralTools }
        WHERE { { SELECT ?factor WHERE { ?factor akg:strongFactorOf ?tool }
          GROUP BY ?factor HAVING (COUNT(DISTINCT ?tool) >= 2) } }""",
}
"""OWL 2 RL rules (named as in the OWL 2 profiles specification), plus the rules that read
evidence levels: a tool's relatively strong factors in the latest release, and the factors
strong for two or more tools (tool IRIs taken as naming different tools). The deprecated classes
akg:HeadlineFactor and akg:EvidenceBackedTool get their members from the ontology's axioms
(an equivalence and a defined class), like any other class."""


def defined_class_rules(ontology: Graph) -> dict[str, str]:
    """A rule per class the ontology defines as an intersection of a named class and
    restrictions (hasValue, someValuesFrom, minQualifiedCardinality): cls-int1 with cls-hv1,
    cls-svf1 and the counting of distinct values the cardinality asks for."""
    rules = {}
    for defined, expression in ontology.subject_objects(OWL.equivalentClass):
        if not isinstance(expression, BNode) or not isinstance(defined, URIRef):
            continue
        members = ontology.value(expression, OWL.intersectionOf)
        if members is None:
            continue
        patterns, having = _conditions(ontology, list(Collection(ontology, members)))
        if patterns is None:
            continue
        body = " .\n  ".join(patterns)
        if having:
            body = f"{{ SELECT ?x WHERE {{ {body} }} GROUP BY ?x HAVING ({' && '.join(having)}) }}"
        rules[f"cls-int1 {_short(str(defined))}"] = (
            f"INSERT {{ ?x a <{defined}> }} WHERE {{\n  {body}\n}}"
        )
    return rules


def _conditions(ontology: Graph, members: list[Node]) -> tuple[list[str] | None, list[str]]:
    patterns: list[str] = []
    having: list[str] = []
    for number, member in enumerate(members):
        if isinstance(member, URIRef):
            patterns.append(f"?x a <{member}>")
            continue
        prop = ontology.value(member, OWL.onProperty)
        value = ontology.value(member, OWL.hasValue)
        some = ontology.value(member, OWL.someValuesFrom)
        minimum = ontology.value(member, OWL.minQualifiedCardinality)
        on_class = ontology.value(member, OWL.onClass)
        if prop is None:
            return None, []
        if isinstance(value, URIRef):
            patterns.append(f"?x <{prop}> <{value}>")
        elif isinstance(some, URIRef):
            patterns.append(f"?x <{prop}> ?v{number}")
            if some != OWL.Thing:
                patterns.append(f"?v{number} a <{some}>")
        elif isinstance(minimum, Literal) and isinstance(on_class, URIRef):
            patterns.append(f"?x <{prop}> ?v{number} . ?v{number} a <{on_class}>")
            having.append(f"COUNT(DISTINCT ?v{number}) >= {int(minimum)}")
        else:
            return None, []
    return patterns, having


def materialize(ontology: Graph, graphs: Iterable[Graph], seed: Graph | None = None) -> Graph:
    """Apply the RL rules and the defined-class rules to a fixpoint; return what is new."""
    asserted = [ontology, *graphs]
    return materialize_data(ontology, map(_ntriples, asserted), seed, asserted)


def materialize_data(
    ontology: Graph,
    data: Iterable[bytes],
    seed: Graph | None = None,
    provenance: Iterable[Graph] = (),
) -> Graph:
    """``materialize`` over N-Triples (the ontology's among them): a store's graphs dumped as
    they are, without the round trip through rdflib. ``provenance`` names the sources of a
    clash."""
    store = ox.Store()
    for chunk in data:
        store.load(chunk, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
        store.load(chunk, format=ox.RdfFormat.N_TRIPLES, to_graph=_ASSERTED)
    asserted = list(provenance)
    if seed is not None:
        store.bulk_extend(ox_quads(seed, ox.DefaultGraph()))
    rules = [PREFIXES + text for text in {**RULES, **defined_class_rules(ontology)}.values()]
    size = -1
    for _ in itertools.count():
        if size == len(store):
            break
        size = len(store)
        for rule in rules:
            store.update(rule)
    clashes = _clashes(store, asserted)
    if clashes:
        raise InconsistentGraphError(clashes, "found by the OWL 2 RL rules over the whole graph")
    return _new_triples(store)


NEW_TRIPLES = f"""
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  ?s ?p ?o .
  FILTER(!isBlank(?s) && !isBlank(?o))
  FILTER NOT EXISTS {{ GRAPH <{_ASSERTED.value}> {{ ?s ?p ?o }} }}
}}"""


def _new_triples(store: ox.Store) -> Graph:
    graph = bind_prefixes(Graph())
    graph.addN(
        (from_ox(t.subject), from_ox(t.predicate), from_ox(t.object), graph)
        for t in store.query(NEW_TRIPLES)  # type: ignore[union-attr]
    )
    return graph


def _store(graphs: Iterable[Graph], also_into: ox.NamedNode | None = None) -> ox.Store:
    """The graphs in the default graph of an in-memory store (and, if asked, a copy in a named
    graph), through N-Triples: rdflib writes and pyoxigraph reads it faster than terms convert
    one by one."""
    store = ox.Store()
    for graph in graphs:
        data = _ntriples(graph)
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
        if also_into is not None:
            store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=also_into)
    return store


def _ntriples(graph: Graph) -> bytes:
    return graph.serialize(format="nt", encoding="utf-8")


def justify(inferred: Graph, curated: Graph, releases: Mapping[str, Graph]) -> Graph:
    """One justification per inferred tool-to-strategy link: the link, named with RDF's
    reification terms, the mechanisms that give it, and the releases that state it."""
    graph = bind_prefixes(Graph())
    for tool, strategy in sorted(inferred.subject_objects(AKG.supportsStrategy), key=str):
        node = iris.justification(str(tool), str(strategy))
        graph.add((node, RDF.type, AKG.Justification))
        graph.add((node, RDF.subject, tool))
        graph.add((node, RDF.predicate, AKG.supportsStrategy))
        graph.add((node, RDF.object, strategy))
        graph.add((node, PROV.wasGeneratedBy, REASONING))
        for mechanism in curated.objects(tool, AKG.hasMechanism):
            if (mechanism, AKG.advancesStrategy, strategy) in curated:
                graph.add((node, AKG.viaMechanism, mechanism))
        for release_graph in releases.values():
            if (tool, AKG.statedToSupport, strategy) in release_graph:
                for release in release_graph.subjects(RDF.type, AKG.Release):
                    graph.add((node, PROV.wasDerivedFrom, release))
    return graph


def hermit_stage(
    ontology: Graph,
    curated: Graph,
    releases: Mapping[str, Graph],
    timings: dict[str, float],
    cache: Path | None = None,
) -> Graph:
    """HermiT on the DL part; it needs no evidence, so a caller may run it beside that.

    With a ``cache`` folder, its answer is kept there under a digest of its input: an admin
    write that leaves the DL part as it was (most do: findings are not in it) skips the Java
    process, seconds of the write."""
    start = time.perf_counter()
    graph = dl_input(ontology, curated, releases)
    kept = cache / f"{input_digest(graph)}.nt" if cache is not None else None
    if kept is not None and kept.is_file():
        answer = Graph()
        answer.parse(kept, format="nt")
        timings["hermit (cached)"] = time.perf_counter() - start
        return answer
    hermit = run_hermit(graph, [curated, *releases.values()])
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f".{kept.name}.{os.getpid()}")
        partial.write_bytes(_ntriples(hermit))
        os.replace(partial, kept)
    timings["hermit"] = time.perf_counter() - start
    return hermit


def input_digest(graph: Graph) -> str:
    """A digest that the same triples give whatever their blank nodes are called (labels are
    fresh at every parse): labels made canonical, lines sorted, the reasoner's version added."""
    import owlready2

    dataset = ox.Dataset(ox.parse(_ntriples(graph), format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    lines = sorted(str(quad) for quad in dataset)
    lines.append(f"owlready2 {owlready2.VERSION}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def infer(
    ontology: Graph,
    curated: Graph,
    releases: Mapping[str, Graph],
    evidence: Mapping[str, Graph],
    hermit: Graph | None = None,
) -> ReasoningResult:
    """The whole stage: HermiT on the DL part (unless its answer is given), RL rules over
    everything, justifications."""
    timings: dict[str, float] = {}
    if hermit is None:
        hermit = hermit_stage(ontology, curated, releases, timings)
    start = time.perf_counter()
    asserted = [curated, *releases.values(), *evidence.values()]
    inferred = materialize(ontology, asserted, seed=hermit)
    timings["rules"] = time.perf_counter() - start
    start = time.perf_counter()
    inferred += justify(inferred, curated, releases)
    timings["justifications"] = time.perf_counter() - start
    return ReasoningResult(bind_prefixes(inferred), timings, len(hermit))


@dataclass(frozen=True)
class StatedDifference:
    """A strategy the review states for a tool that no mechanism implies, or the reverse."""

    tool: str
    strategy: str
    stated_in: tuple[str, ...]
    implied_by: tuple[str, ...]

    def __str__(self) -> str:
        if self.stated_in:
            return (
                f"{self.tool} / {self.strategy}: stated by the review in "
                f"{', '.join(self.stated_in)}, but no mechanism of the tool advances it"
            )
        return (
            f"{self.tool} / {self.strategy}: implied by the mechanism(s) "
            f"{', '.join(self.implied_by)}, but the review does not state it"
        )


def stated_versus_derived(curated: Graph, releases: Mapping[str, Graph]) -> list[StatedDifference]:
    """For each reviewed tool, where the review's list of strategies (in any release) and the
    strategies its mechanisms advance disagree."""
    differences = []
    for tool in sorted(curated.subjects(RDF.type, AKG.ReviewedTool), key=str):
        implied: dict[Node, list[str]] = {}
        for mechanism in curated.objects(tool, AKG.hasMechanism):
            for strategy in curated.objects(mechanism, AKG.advancesStrategy):
                implied.setdefault(strategy, []).append(iris.key(str(mechanism)))
        stated: dict[Node, list[str]] = {}
        for code, graph in sorted(releases.items()):
            for strategy in graph.objects(tool, AKG.statedToSupport):
                stated.setdefault(strategy, []).append(code)
        for strategy in sorted(set(implied) ^ set(stated), key=str):
            differences.append(
                StatedDifference(
                    iris.key(str(tool)),
                    iris.key(str(strategy)),
                    tuple(stated.get(strategy, ())),
                    tuple(sorted(implied.get(strategy, ()))),
                )
            )
    return differences
