"""/dataset for people: the dataset description (DCAT 3, VoID) as a page.

The page is read from the very triples that /dataset answers in RDF (downloads.
dataset_description), never computed apart: what a person reads there is what a crawler
harvests, and a fact added to the description shows on the page only once this module reads it.
The template ``dataset.html`` lays it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from atrocity_kg.web.views.terms import local_href

# The vocabularies of the dataset description, which downloads.py writes with them.
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
SPDX = "http://spdx.org/rdf/terms#"
PROV = "http://www.w3.org/ns/prov#"
FOAF = "http://xmlns.com/foaf/0.1/"
IANA = "https://www.iana.org/assignments/media-types/"
RDF_TYPE = RDF + "type"

Node = ox.NamedNode | ox.BlankNode
Value = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Dump:
    """One distribution: a dump file to download (from /dumps/, by its name)."""

    name: str
    media_type: str
    triples: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Version:
    """One USHMM release of the dataset (a DCAT 3 version)."""

    iri: str
    version: str
    title: str
    issued: str
    triples: int
    href: str | None
    """The release's own page on this server."""
    graphs: tuple[str, ...]
    dumps: tuple[Dump, ...]
    current: bool


@dataclass(frozen=True)
class Subset:
    """A named graph of the store, with its size and licence where one is stated."""

    iri: str
    triples: int
    licence: str | None


@dataclass(frozen=True)
class Linkset:
    target: str
    triples: int


@dataclass(frozen=True)
class DatasetPage:
    iri: str
    title: str
    description: str
    rights: str
    publisher: str
    source: str | None
    endpoint: str | None
    uri_space: str
    triples: int
    versions: tuple[Version, ...]
    dumps: tuple[Dump, ...]
    subsets: tuple[Subset, ...]
    linksets: tuple[Linkset, ...]

    @property
    def dump_count(self) -> int:
        return len(self.dumps) + sum(len(version.dumps) for version in self.versions)


class Description:
    """The triples by subject and predicate, read in the order they were written."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._index: dict[Node, dict[str, list[Value]]] = {}
        for triple in triples:
            subject = triple.subject
            if not isinstance(subject, ox.NamedNode | ox.BlankNode):
                continue
            obj = triple.object
            if isinstance(obj, ox.NamedNode | ox.BlankNode | ox.Literal):
                by_predicate = self._index.setdefault(subject, {})
                by_predicate.setdefault(triple.predicate.value, []).append(obj)

    def values(self, subject: Node, predicate: str) -> list[Value]:
        return self._index.get(subject, {}).get(predicate, [])

    def text(self, subject: Node, predicate: str) -> str:
        found = self.values(subject, predicate)
        return found[0].value if found else ""

    def number(self, subject: Node, predicate: str) -> int:
        text = self.text(subject, predicate)
        return int(text) if text.isdigit() else 0

    def nodes(self, subject: Node, predicate: str) -> list[ox.NamedNode]:
        return [v for v in self.values(subject, predicate) if isinstance(v, ox.NamedNode)]

    def is_a(self, subject: Node, cls: str) -> bool:
        return any(v.value == cls for v in self.values(subject, RDF_TYPE))


def _dump(described: Description, node: Node) -> Dump:
    checksums = [
        described.text(checksum, SPDX + "checksumValue")
        for checksum in described.values(node, SPDX + "checksum")
        if isinstance(checksum, ox.BlankNode | ox.NamedNode)
    ]
    return Dump(
        name=described.text(node, DCT + "title"),
        media_type=described.text(node, DCAT + "mediaType").removeprefix(IANA),
        triples=described.number(node, VOID + "triples"),
        size=described.number(node, DCAT + "byteSize"),
        sha256=checksums[0] if checksums else "",
    )


def _dumps(described: Description, owner: Node) -> tuple[Dump, ...]:
    return tuple(_dump(described, node) for node in described.nodes(owner, DCAT + "distribution"))


def _version(described: Description, node: ox.NamedNode, current: str) -> Version:
    sources = described.nodes(node, PROV + "wasDerivedFrom")
    return Version(
        iri=node.value,
        version=described.text(node, DCAT + "version"),
        title=described.text(node, DCT + "title"),
        issued=described.text(node, DCT + "issued"),
        triples=described.number(node, VOID + "triples"),
        href=local_href(sources[0].value) if sources else None,
        graphs=tuple(g.value for g in described.nodes(node, VOID + "subset")),
        dumps=_dumps(described, node),
        current=node.value == current,
    )


def dataset_page(triples: Iterable[ox.Triple], dataset: str) -> DatasetPage:
    """The page about ``dataset`` (its IRI) from its description's triples."""
    described = Description(triples)
    root = ox.NamedNode(dataset)
    publishers = described.nodes(root, DCT + "publisher")
    current = described.text(root, DCAT + "hasCurrentVersion")
    versions = tuple(
        _version(described, node, current) for node in described.nodes(root, DCAT + "hasVersion")
    )
    subsets, linksets = [], []
    for node in described.nodes(root, VOID + "subset"):
        if described.is_a(node, VOID + "Linkset"):
            targets = described.nodes(node, VOID + "objectsTarget")
            linksets.append(
                Linkset(
                    targets[0].value if targets else node.value,
                    described.number(node, VOID + "triples"),
                )
            )
        else:
            licences = described.nodes(node, DCT + "license")
            subsets.append(
                Subset(
                    node.value,
                    described.number(node, VOID + "triples"),
                    licences[0].value if licences else None,
                )
            )
    endpoint = described.nodes(root, VOID + "sparqlEndpoint")
    source = described.nodes(root, DCT + "source")
    return DatasetPage(
        iri=dataset,
        title=described.text(root, DCT + "title"),
        description=described.text(root, DCT + "description"),
        rights=described.text(root, DCT + "rights"),
        publisher=described.text(publishers[0], FOAF + "name") if publishers else "",
        source=source[0].value if source else None,
        endpoint=endpoint[0].value if endpoint else None,
        uri_space=described.text(root, VOID + "uriSpace"),
        triples=described.number(root, VOID + "triples"),
        versions=tuple(reversed(versions)),
        dumps=_dumps(described, root),
        subsets=tuple(subsets),
        linksets=tuple(linksets),
    )
