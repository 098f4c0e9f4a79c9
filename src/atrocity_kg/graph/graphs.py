"""The project's RDF sources on disk -> named graphs (ontology, curated data, release graphs)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from atrocity_kg.config import Settings
from atrocity_kg.errors import ReleaseFormatError, SourceLocation
from atrocity_kg.ingest.releases import is_release_code, sort_codes
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import bind_prefixes
from atrocity_kg.storage import durable
from atrocity_kg.storage.store import GraphStore

ONTOLOGY_GRAPH = iris.graph("ontology")
CURATED_GRAPH = iris.graph("curated")
SHAPES_GRAPH = iris.graph("shapes")
QUALITY_GRAPH = iris.graph("quality")
"""The quality annotations on the release files (atrocity_kg.quality): data/ushmm/quality.ttl."""
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def release_graph_name(code: str) -> URIRef:
    return iris.graph(f"ushmm-{code}")


def release_code_of(name: str) -> str | None:
    """The release whose own graph ``name`` is (graph/ushmm-v4 -> V4), else None."""
    prefix = str(release_graph_name("V1"))[: -len("v1")]
    code = name[len(prefix) :].upper() if name.startswith(prefix) else ""
    return code if is_release_code(code) else None


def release_file(settings: Settings, code: str) -> Path:
    return settings.ushmm_dir / f"{code.lower()}.ttl"


def quality_file(settings: Settings) -> Path:
    """The quality annotations, written by the import beside the release graphs (and replaced
    with them, all or nothing)."""
    return settings.ushmm_dir / "quality.ttl"


def from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    """A pyoxigraph term as the rdflib term rdflib's own parser would have made."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
    raise ValueError("RDF-star triples are not used in this project")


def named_graph(memory: GraphStore, name: str) -> Graph:
    """One named graph of a store, as an rdflib graph (for the validator and the reasoner)."""
    graph = Graph()
    graph.addN(
        (from_ox(q.subject), from_ox(q.predicate), from_ox(q.object), graph)
        for q in memory.quads_for_pattern(None, None, None, ox.NamedNode(name))
    )
    return graph


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term (the inverse of from_ox)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise ValueError(f"not an RDF term: {term!r}")


def ox_quads(graph: Graph, name: ox.NamedNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
    """The triples of an rdflib graph as pyoxigraph quads in one graph of a store."""
    for s, p, o in graph:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), name)  # type: ignore[arg-type]


def parse_turtle(path: Path, into: Graph | None = None) -> Graph:
    """Parse one Turtle file with pyoxigraph's parser (about ten times rdflib's speed) into an
    rdflib graph; a syntax error names the file, line and column."""
    graph = into if into is not None else bind_prefixes(Graph())
    try:
        with path.open("rb") as handle:
            graph.addN(
                (from_ox(t.subject), from_ox(t.predicate), from_ox(t.object), graph)
                for t in ox.parse(
                    handle, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()
                )
            )
    except SyntaxError as error:
        raise ReleaseFormatError(SourceLocation(str(path)), f"bad Turtle: {error}") from None
    return graph


def load_ontology(settings: Settings) -> Graph:
    return parse_turtle(settings.ontology_file)


def load_shapes(settings: Settings) -> Graph:
    return parse_turtle(settings.shapes_file)


def load_curated(settings: Settings) -> Graph:
    graph = bind_prefixes(Graph())
    for path in sorted(settings.curated_dir.glob("*.ttl")):
        parse_turtle(path, graph)
    return graph


def imported_releases(settings: Settings) -> list[str]:
    """The codes of the releases data/ushmm holds (v1.ttl ... v4.ttl), oldest first: what the
    build makes, whichever releases the code knew of when it was written."""
    durable.recover(settings.ushmm_dir)
    found = (path.stem.upper() for path in settings.ushmm_dir.glob("v*.ttl"))
    return sort_codes(code for code in found if is_release_code(code))


def load_releases(settings: Settings) -> dict[str, Graph]:
    """The committed release graphs, by release code (V1, V2, V3 ...), oldest first, for those
    present; an import killed half-way through replacing them is finished first."""
    return {
        code: parse_turtle(release_file(settings, code)) for code in imported_releases(settings)
    }


def load_quality(settings: Settings) -> Graph | None:
    """The committed quality annotations, or None before an import has written them."""
    durable.recover(settings.ushmm_dir)
    path = quality_file(settings)
    return parse_turtle(path) if path.is_file() else None


def write_turtle_files(graphs: dict[Path, Graph]) -> None:
    """Write several Turtle files of one folder so that, even if the process is killed, either
    all are replaced or none is (see durable.replace_together)."""
    folders = {path.parent for path in graphs}
    if len(folders) > 1:
        raise ValueError(f"files in several folders cannot be replaced together: {folders}")
    writers = {path.name: functools.partial(_serialize, graph) for path, graph in graphs.items()}
    for folder in folders:
        durable.replace_together(folder, writers)


def _serialize(graph: Graph, path: Path) -> None:
    graph.serialize(path, format="turtle", encoding="utf-8")
