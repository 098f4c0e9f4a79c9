"""The ontology's human documentation: what its one HTML page shows, read from the ontology graph.

Written here rather than with pyLODE so that the page follows the site's look, passes its
Content-Security-Policy (no scripts but a JSON-LD data block) and can never drift from the
ontology: every term, definition and axiom on the page is read from the graph being documented.
This module gives the page as plain data (``build_page``); the site's one template environment
lays it out (``ontology.html``, rendered by the /ontology route) like every other page.
Each term declared in the ontology's own namespace gets an element whose id is its local name, so
that ``https://w3id.org/atrocity-kg/ontology#Study`` lands on ``#Study``. Class expressions are
written in a Manchester-like syntax; everything is sorted, so two renders are byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SDO, SKOS
from rdflib.term import BNode, Literal, Node, URIRef

from atrocity_kg.model.namespaces import DCAT_VERSION, ID, PREFIXES, VANN
from atrocity_kg.model.negotiation import RDF_FORMATS

# Nested class expressions deeper than this are cut short: a hostile or broken graph must not
# make the page recurse without end.
MAX_DEPTH = 12

CHARACTERISTICS = (
    (OWL.FunctionalProperty, "functional"),
    (OWL.InverseFunctionalProperty, "inverse functional"),
    (OWL.TransitiveProperty, "transitive"),
    (OWL.SymmetricProperty, "symmetric"),
    (OWL.AsymmetricProperty, "asymmetric"),
    (OWL.ReflexiveProperty, "reflexive"),
    (OWL.IrreflexiveProperty, "irreflexive"),
)

RESTRICTION_FILLERS = (
    (OWL.someValuesFrom, "some"),
    (OWL.allValuesFrom, "only"),
    (OWL.hasValue, "value"),
)

CARDINALITIES = (
    (OWL.minQualifiedCardinality, "min"),
    (OWL.maxQualifiedCardinality, "max"),
    (OWL.qualifiedCardinality, "exactly"),
    (OWL.minCardinality, "min"),
    (OWL.maxCardinality, "max"),
    (OWL.cardinality, "exactly"),
)

# The header's statements shown first, in this order and under these names; any other header
# statement follows under its prefixed name, so the page shows whatever the header declares.
HEADER_ROWS = (
    (OWL.versionInfo, "Version"),
    (DCAT_VERSION, "Version"),
    (OWL.versionIRI, "Version IRI"),
    (OWL.priorVersion, "Prior version"),
    (DCTERMS.license, "Licence"),
    (DCTERMS.rights, "Rights"),
    (DCTERMS.creator, "Creators"),
    (DCTERMS.contributor, "Contributors"),
    (DCTERMS.publisher, "Publisher"),
    (DCTERMS.created, "Created"),
    (DCTERMS.issued, "Issued"),
    (DCTERMS.modified, "Modified"),
    (DCTERMS.source, "Source"),
    (OWL.imports, "Imports"),
    (VANN.preferredNamespacePrefix, "Preferred prefix"),
    (VANN.preferredNamespaceUri, "Preferred namespace"),
)
# Shown as the page's title and introduction rather than as rows.
HEADER_PROSE = (DCTERMS.title, RDFS.label, DCTERMS.description, RDFS.comment, SKOS.definition)

NOTES = (
    (RDFS.comment, "Comment"),
    (SKOS.scopeNote, "Scope note"),
    (SKOS.note, "Note"),
    (SKOS.example, "Example"),
    (SKOS.editorialNote, "Editorial note"),
)


@dataclass(frozen=True)
class Piece:
    """One run of text in a rendered value: a term (linked when it has a web address), a
    keyword of the expression syntax, a literal or plain text; the template escapes each."""

    text: str
    kind: str = "text"
    href: str | None = None
    title: str | None = None


Expr = tuple[Piece, ...]


@dataclass(frozen=True)
class Row:
    """A labelled line of a term's description, with one or more values."""

    label: str
    values: tuple[Expr, ...]
    prose: bool = False


@dataclass(frozen=True)
class Term:
    local: str
    iri: str
    label: str
    definitions: tuple[str, ...]
    rows: tuple[Row, ...]
    deprecated: bool = False


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class FormatLink:
    label: str
    href: str
    media_type: str


@dataclass(frozen=True)
class Page:
    title: str
    iri: str
    intro: tuple[str, ...]
    metadata: tuple[Row, ...]
    sections: tuple[Section, ...]
    formats: tuple[FormatLink, ...]
    json_ld: dict[str, Any] = field(default_factory=dict)


def _sort_key(text: str) -> tuple[str, str]:
    return (text.casefold(), text)


def _expr_key(expr: Expr) -> tuple[str, str]:
    return _sort_key("".join(piece.text for piece in expr))


def _safe_href(iri: str) -> str | None:
    """Only web addresses become links: a ``javascript:`` IRI in a graph stays text."""
    return iri if iri.startswith(("http://", "https://")) else None


def _preferred(literals: Iterable[Node]) -> list[str]:
    """English (or untagged) texts when there are any, else every text; sorted, no repeats."""
    found = [node for node in literals if isinstance(node, Literal)]
    english = [lit for lit in found if lit.language is None or lit.language.startswith("en")]
    return sorted({str(lit) for lit in (english or found)}, key=_sort_key)


class _Writer:
    """Reads one ontology graph and turns its terms into the page's rows and expressions."""

    def __init__(self, graph: Graph, ontology: URIRef) -> None:
        self.graph = graph
        self.ontology = ontology
        declared = graph.value(ontology, VANN.preferredNamespaceUri)
        if declared is not None:
            self.namespace = str(declared)
        else:
            self.namespace = str(ontology)
            if not self.namespace.endswith(("#", "/")):
                self.namespace += "#"
        self.documented: set[str] = set()
        prefixes = {prefix: str(ns) for prefix, ns in PREFIXES.items() if prefix != "id"}
        for prefix, ns in sorted(graph.namespaces()):
            if prefix and str(ns) not in prefixes.values():
                prefixes.setdefault(prefix, str(ns))
        # Longest namespace first, so that a namespace nested in another wins.
        self.prefixes = sorted(
            ((ns, prefix) for prefix, ns in prefixes.items()), key=lambda p: (-len(p[0]), p[1])
        )

    # --- names ----------------------------------------------------------------------------

    def local(self, iri: URIRef) -> str | None:
        text = str(iri)
        if text.startswith(self.namespace) and len(text) > len(self.namespace):
            return text[len(self.namespace) :]
        return None

    def short(self, iri: URIRef) -> str:
        """The name a reader knows the term by: its local name in this ontology, a path for
        the graph's own resources, a prefixed name, or else the whole IRI."""
        text = str(iri)
        local = self.local(iri)
        if local is not None:
            return local
        if text.startswith(str(ID)) and len(text) > len(str(ID)):
            return text[len(str(ID)) :]
        for ns, prefix in self.prefixes:
            if text.startswith(ns) and len(text) > len(ns):
                return f"{prefix}:{text[len(ns) :]}"
        return text

    def label(self, node: Node) -> str:
        for predicate in (RDFS.label, SKOS.prefLabel):
            texts = _preferred(self.graph.objects(node, predicate))
            if texts:
                return texts[0]
        return self.short(node) if isinstance(node, URIRef) else "(anonymous)"

    def ref(self, iri: URIRef) -> Piece:
        local = self.local(iri)
        if local is not None and local in self.documented:
            return Piece(local, "term", f"#{local}", str(iri))
        return Piece(self.short(iri), "term", _safe_href(str(iri)), str(iri))

    # --- values and class expressions -----------------------------------------------------

    def value(self, node: Node) -> Expr:
        """A header or annotation value: a link for an IRI, the text of a literal, a name for
        a blank node (an agent described in place)."""
        if isinstance(node, URIRef):
            return (self.ref(node),)
        if isinstance(node, Literal):
            return (Piece(str(node), "text"),)
        for predicate in (RDFS.label, FOAF.name, SDO.name):
            names = _preferred(self.graph.objects(node, predicate))
            if names:
                return (Piece(names[0], "text"),)
        return self.expression(node)

    def literal(self, node: Literal) -> Piece:
        if node.datatype is None or str(node.datatype).endswith("#string"):
            return Piece(f'"{node}"', "literal")
        return Piece(str(node), "literal")

    def expression(self, node: Node, depth: int = 0, nested: bool = False) -> Expr:
        """A class expression (or a property's range or domain) in Manchester-like text."""
        if isinstance(node, URIRef):
            return (self.ref(node),)
        if isinstance(node, Literal):
            return (self.literal(node),)
        if depth > MAX_DEPTH:
            return (Piece("…"),)
        pieces = self._composite(node, depth)
        if nested and len(pieces) > 1:
            return (Piece("("), *pieces, Piece(")"))
        return pieces

    def items(self, node: Node | None) -> list[Node]:
        """An RDF list's members; none for a missing list or one whose rdf:rest loops."""
        if node is None:
            return []
        try:
            return list(self.graph.items(node))
        except ValueError:
            return []

    def joined(self, nodes: list[Node], separator: Piece, depth: int) -> Expr:
        pieces: list[Piece] = []
        for index, item in enumerate(nodes):
            if index:
                pieces.append(separator)
            pieces.extend(self.expression(item, depth + 1, nested=True))
        return tuple(pieces)

    def _composite(self, node: Node, depth: int) -> Expr:
        graph = self.graph
        for predicate, keyword in ((OWL.intersectionOf, "and"), (OWL.unionOf, "or")):
            members = graph.value(node, predicate)
            if members is not None:
                return self.joined(self.items(members), Piece(f" {keyword} ", "keyword"), depth)
        complement = graph.value(node, OWL.complementOf)
        if complement is not None:
            return (Piece("not ", "keyword"), *self.expression(complement, depth + 1, True))
        one_of = graph.value(node, OWL.oneOf)
        if one_of is not None:
            inner = self.joined(self.items(one_of), Piece(", "), depth)
            return (Piece("{"), *inner, Piece("}"))
        on_property = graph.value(node, OWL.onProperty)
        if on_property is not None:
            return self._restriction(node, on_property, depth)
        datatype = graph.value(node, OWL.onDatatype)
        if datatype is not None:
            return self._datatype_restriction(node, datatype, depth)
        return (Piece("(anonymous class)"),)

    def _property(self, node: Node, depth: int) -> Expr:
        inverse = self.graph.value(node, OWL.inverseOf) if isinstance(node, BNode) else None
        if inverse is not None:
            return (Piece("inverse ", "keyword"), *self.expression(inverse, depth + 1, True))
        return self.expression(node, depth + 1, nested=True)

    def _restriction(self, node: Node, on_property: Node, depth: int) -> Expr:
        graph = self.graph
        prop = self._property(on_property, depth)
        for predicate, keyword in RESTRICTION_FILLERS:
            filler = graph.value(node, predicate)
            if filler is not None:
                return (*prop, Piece(f" {keyword} ", "keyword"), *self._filler(filler, depth))
        if graph.value(node, OWL.hasSelf) is not None:
            return (*prop, Piece(" Self", "keyword"))
        for predicate, keyword in CARDINALITIES:
            number = graph.value(node, predicate)
            if number is not None:
                pieces = [*prop, Piece(f" {keyword} ", "keyword"), Piece(str(number), "literal")]
                on_class = graph.value(node, OWL.onClass) or graph.value(node, OWL.onDataRange)
                if on_class is not None:
                    pieces += [Piece(" "), *self.expression(on_class, depth + 1, nested=True)]
                return tuple(pieces)
        return (*prop, Piece(" (restriction)"))

    def _filler(self, node: Node, depth: int) -> Expr:
        return self.expression(node, depth + 1, nested=True)

    def _datatype_restriction(self, node: Node, datatype: Node, depth: int) -> Expr:
        facets: list[Piece] = []
        for item in self.items(self.graph.value(node, OWL.withRestrictions)):
            for facet, bound in sorted(self.graph.predicate_objects(item)):
                if facets:
                    facets.append(Piece(", "))
                name = str(facet).rsplit("#", 1)[-1]
                facets += [Piece(f"{name} ", "keyword"), *self.expression(bound, depth + 1)]
        return (*self.expression(datatype, depth + 1), Piece("["), *facets, Piece("]"))

    # --- rows -----------------------------------------------------------------------------

    def sorted_exprs(
        self, nodes: Iterable[Node], render: Callable[[Node], Expr]
    ) -> tuple[Expr, ...]:
        unique = {render(node) for node in nodes}
        return tuple(sorted(unique, key=_expr_key))

    def expressions(self, nodes: Iterable[Node]) -> tuple[Expr, ...]:
        return self.sorted_exprs(nodes, self.expression)

    def both_ways(self, iri: URIRef, predicate: URIRef) -> Iterator[Node]:
        """A symmetric axiom (disjoint, equivalent, inverse) stated on either side."""
        yield from (o for o in self.graph.objects(iri, predicate) if o != iri)
        yield from (s for s in self.graph.subjects(predicate, iri) if s != iri)

    def notes(self, iri: URIRef) -> list[Row]:
        rows = []
        for predicate, name in NOTES:
            texts = _preferred(self.graph.objects(iri, predicate))
            if texts:
                rows.append(Row(name, tuple((Piece(text),) for text in texts), prose=True))
        return rows


def _row(rows: list[Row], label: str, values: tuple[Expr, ...]) -> None:
    if values:
        rows.append(Row(label, values))


def _named_members(graph: Graph, node: Node) -> Iterator[URIRef]:
    """The named classes a domain or range stands for: itself, or the members of a union."""
    if isinstance(node, URIRef):
        yield node
        return
    members = graph.value(node, OWL.unionOf)
    if members is not None:
        try:
            yield from (m for m in graph.items(members) if isinstance(m, URIRef))
        except ValueError:
            return


def _find_ontology(graph: Graph) -> URIRef:
    ontologies = sorted(s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef))
    if not ontologies:
        raise ValueError("the graph declares no owl:Ontology with an IRI")
    return ontologies[0]


def _declared(writer: _Writer, kind: URIRef, taken: set[URIRef]) -> list[URIRef]:
    """Terms of one kind in the ontology's own namespace, by local name; a term declared with
    two kinds (punning) is documented once, under the first."""
    found = {
        s
        for s in writer.graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and writer.local(s) is not None and s not in taken
    }
    taken |= found
    return sorted(found, key=lambda iri: _sort_key(writer.local(iri) or ""))


def _term(writer: _Writer, iri: URIRef, rows: list[Row]) -> Term:
    """A term's section; a renamed term leads with what replaces it (dct:isReplacedBy), and
    its successor names the terms it replaces, so a reader of either finds the other."""
    graph = writer.graph
    deprecated = any(
        isinstance(o, Literal) and o.value is True for o in graph.objects(iri, OWL.deprecated)
    )
    lineage: list[Row] = []
    _row(lineage, "Replaced by", writer.expressions(graph.objects(iri, DCTERMS.isReplacedBy)))
    _row(
        lineage,
        "Replaces",
        writer.expressions(
            s for s in graph.subjects(DCTERMS.isReplacedBy, iri) if isinstance(s, URIRef)
        ),
    )
    return Term(
        local=writer.local(iri) or str(iri),
        iri=str(iri),
        label=writer.label(iri),
        definitions=tuple(_preferred(graph.objects(iri, SKOS.definition))),
        rows=tuple(lineage + rows),
        deprecated=deprecated,
    )


def _class(writer: _Writer, iri: URIRef, uses: dict[str, dict[URIRef, set[URIRef]]]) -> Term:
    graph = writer.graph
    rows = writer.notes(iri)
    _row(rows, "Superclasses", writer.expressions(graph.objects(iri, RDFS.subClassOf)))
    _row(
        rows,
        "Subclasses",
        writer.expressions(
            s for s in graph.subjects(RDFS.subClassOf, iri) if isinstance(s, URIRef)
        ),
    )
    _row(rows, "Equivalent to", writer.expressions(writer.both_ways(iri, OWL.equivalentClass)))
    disjoint = set(writer.both_ways(iri, OWL.disjointWith))
    for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = writer.items(graph.value(group, OWL.members))
        if iri in members:
            disjoint.update(m for m in members if m != iri)
    _row(rows, "Disjoint with", writer.expressions(disjoint))
    _row(rows, "In the domain of", writer.expressions(uses["domain"].get(iri, set())))
    _row(rows, "In the range of", writer.expressions(uses["range"].get(iri, set())))
    return _term(writer, iri, rows)


def _property(writer: _Writer, iri: URIRef) -> Term:
    graph = writer.graph
    rows = writer.notes(iri)
    _row(rows, "Superproperties", writer.expressions(graph.objects(iri, RDFS.subPropertyOf)))
    _row(
        rows,
        "Subproperties",
        writer.expressions(
            s for s in graph.subjects(RDFS.subPropertyOf, iri) if isinstance(s, URIRef)
        ),
    )
    _row(rows, "Domain", writer.expressions(graph.objects(iri, RDFS.domain)))
    _row(rows, "Range", writer.expressions(graph.objects(iri, RDFS.range)))
    types = set(graph.objects(iri, RDF.type))
    _row(
        rows,
        "Characteristics",
        tuple((Piece(name, "keyword"),) for kind, name in CHARACTERISTICS if kind in types),
    )
    _row(rows, "Inverse of", writer.expressions(writer.both_ways(iri, OWL.inverseOf)))
    _row(
        rows,
        "Equivalent to",
        writer.expressions(writer.both_ways(iri, OWL.equivalentProperty)),
    )
    _row(
        rows,
        "Disjoint with",
        writer.expressions(writer.both_ways(iri, OWL.propertyDisjointWith)),
    )
    chains = writer.sorted_exprs(
        graph.objects(iri, OWL.propertyChainAxiom),
        lambda chain: writer.joined(writer.items(chain), Piece(" o ", "keyword"), 0),
    )
    _row(rows, "Property chain", chains)
    return _term(writer, iri, rows)


def _metadata(writer: _Writer) -> tuple[Row, ...]:
    graph, ontology = writer.graph, writer.ontology
    rows = [Row("IRI", ((Piece(str(ontology), "term", _safe_href(str(ontology))),),))]
    shown = {RDF.type, *HEADER_PROSE}
    for predicate, label in HEADER_ROWS:
        shown.add(predicate)
        _row(rows, label, writer.sorted_exprs(graph.objects(ontology, predicate), writer.value))
    others = sorted(
        {p for p in graph.predicates(ontology, None) if isinstance(p, URIRef)} - shown,
        key=lambda p: _sort_key(writer.short(p)),
    )
    for predicate in others:
        values = writer.sorted_exprs(graph.objects(ontology, predicate), writer.value)
        _row(rows, writer.short(predicate), values)
    return tuple(rows)


def _json_ld(writer: _Writer, title: str, sections: tuple[Section, ...]) -> dict[str, Any]:
    """schema.org's description of a vocabulary, for search engines and dataset catalogues."""
    graph, ontology = writer.graph, writer.ontology
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "DefinedTermSet",
        "@id": str(ontology),
        "name": title,
    }
    description = _preferred(graph.objects(ontology, DCTERMS.description))
    if description:
        data["description"] = description[0]
    versions = _preferred(graph.objects(ontology, OWL.versionInfo))
    if versions:
        data["version"] = versions[0]
    licences = sorted(str(o) for o in graph.objects(ontology, DCTERMS.license))
    if licences:
        data["license"] = licences[0]
    terms = []
    for section in sections:
        for term in section.terms:
            entry: dict[str, Any] = {
                "@type": "DefinedTerm",
                "@id": term.iri,
                "name": term.label,
                "termCode": term.local,
                "inDefinedTermSet": str(ontology),
            }
            if term.definitions:
                entry["description"] = term.definitions[0]
            terms.append(entry)
    data["hasDefinedTerm"] = terms
    return data


def build_page(ontology: Graph, *, base_path: str = "/ontology") -> Page:
    """Everything the page shows, as plain data: the template only lays it out."""
    iri = _find_ontology(ontology)
    writer = _Writer(ontology, iri)
    taken: set[URIRef] = set()
    kinds = (
        ("classes", "Classes", OWL.Class),
        ("object-properties", "Object properties", OWL.ObjectProperty),
        ("datatype-properties", "Datatype properties", OWL.DatatypeProperty),
        ("annotation-properties", "Annotation properties", OWL.AnnotationProperty),
    )
    declared = [(sid, title, _declared(writer, kind, taken)) for sid, title, kind in kinds]
    writer.documented = {writer.local(t) or "" for _, _, terms in declared for t in terms}
    uses: dict[str, dict[URIRef, set[URIRef]]] = {"domain": {}, "range": {}}
    for _, _, terms in declared[1:]:
        for prop in terms:
            for key, predicate in (("domain", RDFS.domain), ("range", RDFS.range)):
                for node in ontology.objects(prop, predicate):
                    for cls in _named_members(ontology, node):
                        uses[key].setdefault(cls, set()).add(prop)
    sections = []
    for sid, title, terms in declared:
        if sid == "classes":
            built = tuple(_class(writer, t, uses) for t in terms)
        else:
            built = tuple(_property(writer, t) for t in terms)
        if built or sid != "annotation-properties":
            sections.append(Section(f"section-{sid}", title, built))
    titles = _preferred(ontology.objects(iri, DCTERMS.title)) or _preferred(
        ontology.objects(iri, RDFS.label)
    )
    page_title = titles[0] if titles else str(iri)
    intro = [
        text
        for predicate in (DCTERMS.description, SKOS.definition, RDFS.comment)
        for text in _preferred(ontology.objects(iri, predicate))
    ]
    formats = tuple(
        FormatLink(f.label, f"{base_path}?format={f.name}", f.media_type) for f in RDF_FORMATS
    )
    return Page(
        title=page_title,
        iri=str(iri),
        intro=tuple(dict.fromkeys(intro)),
        metadata=_metadata(writer),
        sections=tuple(sections),
        formats=formats,
        json_ld=_json_ld(writer, page_title, tuple(sections)),
    )
