"""Media types, one table: which formats answer which kind of result, and choosing one.

Every face that writes RDF or SPARQL results (the SPARQL endpoint, the graph store, the service
description) picks its format here, from the request's ``Accept`` header (RFC 9110 section
12.5.1: q-values, wildcards, the most specific range wins) or from a ``format`` parameter, which
browsers and links can set where they cannot set a header. The table is the single place where
a media type, its aliases, its names, its file extension, its W3C format IRI and its pyoxigraph
serialiser meet: the dumps (``export.py``), the parser of untrusted input (``safeparse.py``),
the per-format URLs of /data/ and the ontology's documentation all take theirs from it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox

from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.model.namespaces import PREFIXES

FORMATS_NS = "http://www.w3.org/ns/formats/"


class Kind(enum.Enum):
    """What a response carries: SPARQL results (SELECT, ASK) or an RDF graph; or, for files
    and uploads only, an RDF dataset (named graphs), which no answer is negotiated in."""

    RESULTS = "results"
    GRAPH = "graph"
    DATASET = "dataset"


@dataclass(frozen=True)
class Format:
    """One serialisation: its names, its media types and the pyoxigraph writer behind it."""

    name: str
    media_type: str
    iri: str
    kind: Kind
    oxigraph: ox.QueryResultsFormat | ox.RdfFormat
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    boolean: bool = False
    charset: bool = False
    """Text whose media type takes a charset parameter: the answer says ``charset=utf-8``."""

    @property
    def content_type(self) -> str:
        """The Content-Type of an answer in this format."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def extension(self) -> str:
        """The file extension (pyoxigraph's, the W3C's usual one): of the dump files, and of
        the /data/ URLs that name one format."""
        return self.oxigraph.file_extension

    @property
    def label(self) -> str:
        """How the format is named for people, in links (pyoxigraph's name: "Turtle")."""
        return self.oxigraph.name

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The pyoxigraph RDF format (parser and serialiser) of an RDF syntax."""
        if not isinstance(self.oxigraph, ox.RdfFormat):
            raise TypeError(f"{self.name} is not an RDF format")
        return self.oxigraph

    @property
    def keeps_graph_names(self) -> bool:
        """Does a file in this syntax keep each statement's graph (N-Quads, TriG)? JSON-LD can,
        but the dumps write it as one graph, as Turtle."""
        return self.rdf_format.supports_datasets and self.rdf_format is not ox.RdfFormat.JSON_LD

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.names)

    def write_results(
        self, results: ox.QuerySolutions | ox.QueryBoolean, output: IO[bytes]
    ) -> None:
        """Write SELECT or ASK results; pyoxigraph pulls solutions lazily as it writes."""
        if not isinstance(self.oxigraph, ox.QueryResultsFormat):
            raise TypeError(f"{self.name} is not a query results format")
        results.serialize(output, self.oxigraph)

    def write_triples(
        self,
        triples: Iterable[ox.Triple],
        output: IO[bytes],
        prefixes: Mapping[str, str] | None = None,
    ) -> None:
        """Write triples as they come, with prefixes (the project's by default) where the
        syntax has them."""
        chosen = dict(prefixes) if prefixes is not None else output_prefixes()
        ox.serialize(triples, output, self.rdf_format, prefixes=chosen)


def output_prefixes() -> dict[str, str]:
    """The project's prefixes for written RDF; ``id:`` is left out, as its local names all
    contain a slash and would be written escaped (``id:tool\\/mediation``)."""
    return {prefix: str(ns) for prefix, ns in PREFIXES.items() if prefix != "id"}


SPARQL_JSON = Format(
    name="json",
    names=("srj",),
    media_type="application/sparql-results+json",
    aliases=("application/json",),
    iri=FORMATS_NS + "SPARQL_Results_JSON",
    kind=Kind.RESULTS,
    oxigraph=ox.QueryResultsFormat.JSON,
    boolean=True,
)
SPARQL_XML = Format(
    name="xml",
    names=("srx",),
    media_type="application/sparql-results+xml",
    iri=FORMATS_NS + "SPARQL_Results_XML",
    kind=Kind.RESULTS,
    oxigraph=ox.QueryResultsFormat.XML,
    boolean=True,
)
SPARQL_CSV = Format(
    name="csv",
    media_type="text/csv",
    charset=True,
    iri=FORMATS_NS + "SPARQL_Results_CSV",
    kind=Kind.RESULTS,
    oxigraph=ox.QueryResultsFormat.CSV,
)
SPARQL_TSV = Format(
    name="tsv",
    media_type="text/tab-separated-values",
    charset=True,
    iri=FORMATS_NS + "SPARQL_Results_TSV",
    kind=Kind.RESULTS,
    oxigraph=ox.QueryResultsFormat.TSV,
)
TURTLE = Format(
    name="turtle",
    # Turtle is a subset of N3, so a client asking for N3 can read it.
    names=("ttl", "n3"),
    media_type="text/turtle",
    charset=True,
    aliases=("application/x-turtle", "application/turtle"),
    iri=FORMATS_NS + "Turtle",
    kind=Kind.GRAPH,
    oxigraph=ox.RdfFormat.TURTLE,
)
N_TRIPLES = Format(
    name="ntriples",
    names=("nt", "n-triples"),
    media_type="application/n-triples",
    iri=FORMATS_NS + "N-Triples",
    kind=Kind.GRAPH,
    oxigraph=ox.RdfFormat.N_TRIPLES,
)
JSON_LD = Format(
    name="jsonld",
    # "json" and "xml" name the JSON and XML member of whichever kind the answer is.
    names=("json-ld", "json"),
    media_type="application/ld+json",
    aliases=("application/json",),
    iri=FORMATS_NS + "JSON-LD",
    kind=Kind.GRAPH,
    oxigraph=ox.RdfFormat.JSON_LD,
)
RDF_XML = Format(
    name="rdfxml",
    names=("rdf+xml", "rdf", "xml"),
    media_type="application/rdf+xml",
    iri=FORMATS_NS + "RDF_XML",
    kind=Kind.GRAPH,
    oxigraph=ox.RdfFormat.RDF_XML,
)


def _dataset_syntax(name: str, oxigraph: ox.RdfFormat) -> Format:
    """A syntax with named graphs, as pyoxigraph describes it: for files and uploads only,
    never the negotiated form of an answer."""
    return Format(
        name=name,
        media_type=oxigraph.media_type,
        iri=oxigraph.iri,
        kind=Kind.DATASET,
        oxigraph=oxigraph,
    )


N_QUADS = _dataset_syntax("nquads", ox.RdfFormat.N_QUADS)
TRIG = _dataset_syntax("trig", ox.RdfFormat.TRIG)

# The table. Within a kind, the order is the server's preference: the first is the default.
FORMATS: tuple[Format, ...] = (
    SPARQL_JSON,
    SPARQL_XML,
    SPARQL_CSV,
    SPARQL_TSV,
    TURTLE,
    N_TRIPLES,
    JSON_LD,
    RDF_XML,
)
RESULT_FORMATS = tuple(f for f in FORMATS if f.kind is Kind.RESULTS)
# W3C defines CSV and TSV for SELECT results only; an ASK answer has no CSV or TSV form.
BOOLEAN_FORMATS = tuple(f for f in RESULT_FORMATS if f.boolean)
RDF_FORMATS = tuple(f for f in FORMATS if f.kind is Kind.GRAPH)
FORMAT_NAMES = frozenset(name for f in FORMATS for name in f.all_names)
DATASET_FORMATS: tuple[Format, ...] = (N_QUADS, TRIG)
"""Syntaxes with named graphs: no answer is negotiated in them, files and uploads use them."""


SVG = "image/svg+xml"
"""The pictures the pages draw on the server (``/chart/...``): SVG, no script."""


class NotAcceptableError(AtrocityKGError):
    """None of the formats that can carry this answer is acceptable to the client."""

    def __init__(self, offered: Sequence[Format]) -> None:
        self.offered = tuple(offered)
        super().__init__(
            "none of the acceptable media types can carry this answer; available: "
            + ", ".join(f.media_type for f in offered)
            + " (or the format parameter: "
            + ", ".join(f.name for f in offered)
            + ")"
        )


class UnknownFormatError(AtrocityKGError):
    """A ``format`` parameter names no format in the table."""

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown format {value!r}; known: " + ", ".join(f.name for f in FORMATS))


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: ``type/subtype`` (either may be ``*``) and its q."""

    type: str
    subtype: str
    quality: float

    @property
    def specificity(self) -> int:
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        kind, _, subtype = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", subtype)


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; elements that do not parse are skipped."""
    ranges = []
    for element in header.split(","):
        media, *params = (piece.strip() for piece in element.split(";"))
        kind, slash, subtype = media.lower().partition("/")
        if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
                break  # parameters after q are accept-extensions, not media type parameters
        if not 0.0 <= quality <= 1.0:
            continue
        ranges.append(MediaRange(kind, subtype, quality))
    return ranges


def _quality(ranges: Sequence[MediaRange], media_types: Iterable[str]) -> float:
    """How much the client wants any of these media types: the q of the most specific range."""
    best: tuple[int, float] | None = None
    for media_type in media_types:
        for media_range in ranges:
            if media_range.matches(media_type):
                candidate = (media_range.specificity, media_range.quality)
                if best is None or candidate > best:
                    best = candidate
    return 0.0 if best is None else best[1]


def quality(ranges: Sequence[MediaRange], fmt: Format) -> float:
    """How much the client wants this format."""
    return _quality(ranges, fmt.media_types)


def preferred_media_type(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, for answers outside the format table (HTML,
    CSV of a catalogue query...); ties and a missing header go to the first; None if none fits."""
    ranges = parse_accept(accept) if accept else []
    if not ranges:
        return offered[0]
    best, best_quality = None, 0.0
    for media_type in offered:
        q = _quality(ranges, [media_type])
        if q > best_quality:
            best, best_quality = media_type, q
    return best


def from_accept(offered: Sequence[Format], accept: str | None) -> Format:
    """The offered format the client prefers; the server's order breaks ties.

    No Accept header, an empty one or one with no readable element means anything is
    acceptable (RFC 9110 lets a server disregard a field it cannot parse).
    """
    ranges = parse_accept(accept) if accept else []
    if not ranges:
        return offered[0]
    best, best_quality = offered[0], 0.0
    for fmt in offered:
        q = quality(ranges, fmt)
        if q > best_quality:
            best, best_quality = fmt, q
    if best_quality <= 0.0:
        raise NotAcceptableError(offered)
    return best


def negotiate(
    offered: Sequence[Format], accept: str | None, requested: Sequence[str] = ()
) -> Format:
    """Choose the format of an answer that can be written in any of ``offered``.

    ``requested`` are the values of the ``format`` parameter, which override Accept. Each is a
    name from the table (``json``, ``turtle``, ...; ``json`` and ``xml`` mean the JSON or XML
    format of the answer's kind) or a media type list; the first one that is understood decides.
    SPARQLWrapper sends both forms (``format=json-ld&format=application/ld+json``).
    """
    for value in requested:
        name = value.strip().lower()
        if not name:
            continue
        if "/" in name:
            return from_accept(offered, name)
        if name not in FORMAT_NAMES:
            raise UnknownFormatError(value)
        for fmt in offered:
            if name in fmt.all_names:
                return fmt
        raise NotAcceptableError(offered)
    return from_accept(offered, accept)
