"""The one place where untrusted RDF bytes become RDF: size, format and hostile constructs are
checked before any parser sees the input, so a write or an upload cannot exhaust memory through
entity expansion or make the server fetch a remote document."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn
from xml.parsers import expat

import pyoxigraph as ox

from atrocity_kg.model.negotiation import JSON_LD, N_QUADS, N_TRIPLES, RDF_XML, TRIG, TURTLE

ACCEPTED_FORMATS: dict[str, ox.RdfFormat] = {
    fmt.media_type: fmt.rdf_format for fmt in (TURTLE, N_TRIPLES, N_QUADS, TRIG, RDF_XML, JSON_LD)
}
"""Each RDF syntax of the format table, by its media type (aliases are not accepted)."""

_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_XML_DECLARED_ENCODING = re.compile(
    rb"\A<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.IGNORECASE
)
MAX_XML_DEPTH = 256
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_FOREIGN_BYTE_ORDER_MARKS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xfe\xff": "UTF-16",
    b"\xff\xfe": "UTF-16",
}


class UnsafeInputError(ValueError):
    """The input was refused; the message names the source and, where known, line and column."""


class UnsupportedMediaTypeError(UnsafeInputError):
    """The media type is not one of the accepted RDF formats (an HTTP caller answers 415)."""


class InputTooLargeError(UnsafeInputError):
    """The input is over the size limit and was not parsed (an HTTP caller answers 413)."""


def read_rdf(
    data: bytes,
    media_type: str,
    *,
    source: str,
    max_bytes: int,
    base_iri: str | None = None,
) -> list[ox.Triple | ox.Quad]:
    """Parse untrusted RDF after refusing whatever could exhaust memory or reach the network.

    Graph formats (Turtle, N-Triples, RDF/XML) give triples; dataset formats (N-Quads, TriG,
    JSON-LD) give quads, so a caller can tell a named graph from the default one.
    """
    rdf_format = format_for(media_type, source)
    if len(data) > max_bytes:
        raise InputTooLargeError(
            f"{source}: {len(data)} bytes, over the limit of {max_bytes} bytes"
        )
    if rdf_format == ox.RdfFormat.RDF_XML:
        _refuse_hostile_xml(data, source)
    elif rdf_format == ox.RdfFormat.JSON_LD:
        _refuse_remote_contexts(data, source)
    try:
        parsed = ox.parse(data, rdf_format, base_iri=base_iri)
        if rdf_format.supports_datasets:
            return list(parsed)
        return [quad.triple for quad in parsed]
    except SyntaxError as error:
        raise UnsafeInputError(f"{source}: not valid {rdf_format.name}: {error}") from None
    except ValueError as error:
        raise UnsafeInputError(f"{source}: {error}") from None


def format_for(media_type: str, source: str) -> ox.RdfFormat:
    """The parser format for a Content-Type value (parameters such as charset are ignored)."""
    essence = media_type.split(";", 1)[0].strip().lower()
    rdf_format = ACCEPTED_FORMATS.get(essence)
    if rdf_format is None:
        accepted = ", ".join(ACCEPTED_FORMATS)
        raise UnsupportedMediaTypeError(
            f"{source}: media type {media_type!r} is not accepted (expected one of: {accepted})"
        )
    return rdf_format


def _refuse_hostile_xml(data: bytes, source: str) -> None:
    """Refuse entity declarations, external DTDs and deep nesting, anywhere in the document.

    The RDF/XML parser expands internal entities and accepts a DOCTYPE even after the root
    element, so the whole document is scanned, not just the prolog. It decodes only UTF-8, so a
    byte scan for ASCII markup sees what the parser would see; other encodings are refused here.
    """
    for mark, name in _FOREIGN_BYTE_ORDER_MARKS.items():
        if data.startswith(mark):
            raise UnsafeInputError(
                f"{source}: RDF/XML must be UTF-8, found a {name} byte-order mark"
            )
    if data.startswith((b"<\x00", b"\x00<")):
        raise UnsafeInputError(f"{source}: RDF/XML must be UTF-8, this looks like UTF-16")
    declared = _XML_DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() not in _UTF8_NAMES:
        encoding = declared.group(1).decode("ascii")
        raise UnsafeInputError(
            f"{source}: RDF/XML must be UTF-8, the XML declaration says {encoding!r}"
        )
    entity = _ENTITY_DECLARATION.search(data)
    if entity:
        line, column = _position(data, entity.start())
        raise UnsafeInputError(
            f"{source}: line {line}, column {column}: entity declarations are refused in RDF/XML"
        )
    _check_xml_structure(data, source)


def _check_xml_structure(data: bytes, source: str) -> None:
    """Walk the document with expat (no tree kept) to refuse an external DTD and deep nesting.

    The RDF/XML parser slows down more than quadratically with element depth (16,000 levels
    took seconds), so depth is capped well above anything real RDF/XML needs.
    """
    checker = expat.ParserCreate()
    depth = 0

    def refuse(problem: str) -> NoReturn:
        raise UnsafeInputError(
            f"{source}: line {checker.CurrentLineNumber}, "
            f"column {checker.CurrentColumnNumber + 1}: {problem}"
        )

    def on_doctype(
        name: str, system_id: str | None, public_id: str | None, has_internal_subset: int
    ) -> None:
        if system_id or public_id:
            refuse("an external DTD is refused in RDF/XML")

    def on_start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            refuse(f"elements nested deeper than {MAX_XML_DEPTH} levels are refused")

    def on_end(name: str) -> None:
        nonlocal depth
        depth -= 1

    checker.StartDoctypeDeclHandler = on_doctype
    checker.StartElementHandler = on_start
    checker.EndElementHandler = on_end
    try:
        checker.Parse(data, True)
    except expat.ExpatError as error:
        raise UnsafeInputError(
            f"{source}: line {error.lineno}, column {error.offset + 1}: not well-formed XML: "
            f"{expat.ErrorString(error.code)}"
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _refuse_remote_contexts(data: bytes, source: str) -> None:
    """Refuse any context given by IRI, and @import, at any depth.

    pyoxigraph never fetches a remote context by itself (it has no loader unless given one), but
    refusing up front gives a clear message and keeps that true whatever the parser's defaults.
    """
    try:
        document = json.loads(data)
    except RecursionError:
        raise UnsafeInputError(f"{source}: JSON nested too deeply") from None
    except UnicodeDecodeError as error:
        raise UnsafeInputError(f"{source}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise UnsafeInputError(
            f"{source}: line {error.lineno}, column {error.colno}: not valid JSON: {error.msg}"
        ) from None
    pending: list[tuple[Any, str]] = [(document, "$")]
    while pending:
        node, path = pending.pop()
        if isinstance(node, list):
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(node))
        elif isinstance(node, dict):
            if "@import" in node:
                raise UnsafeInputError(f"{source}: {path}: @import of a remote context is refused")
            context = node.get("@context")
            contexts = context if isinstance(context, list) else [context]
            if any(isinstance(item, str) for item in contexts):
                raise UnsafeInputError(
                    f"{source}: {path}.@context: a remote context (given by IRI) is refused; "
                    "embed the context in the document"
                )
            pending.extend((value, f"{path}.{key}") for key, value in node.items())
