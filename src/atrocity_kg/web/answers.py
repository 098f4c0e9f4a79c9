"""What the OpenAPI document declares that a route may answer: statuses and their media types.

Clients generate code from the document and Schemathesis holds the server to it
(tests/test_schemathesis.py), so every status a route can give, with the media type it comes
in, is declared here once and referred to by the routers' ``responses=``.
"""

from __future__ import annotations

from typing import Any

from atrocity_kg.model.negotiation import RDF_FORMATS

Declared = dict[int | str, dict[str, Any]]

_STRING = {"schema": {"type": "string"}}
TEXT: dict[str, Any] = {"text/plain": _STRING}
HTML: dict[str, Any] = {"text/html": _STRING}
RDF: dict[str, Any] = {f.media_type: _STRING for f in RDF_FORMATS}
GZIP: dict[str, Any] = {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}


def answer(description: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    """One declared response; ``content`` maps its media types to their schemas."""
    declared: dict[str, Any] = {"description": description}
    if content:
        declared["content"] = content
    return declared


FORMAT_REFUSED = answer("An unknown `format`", TEXT)
NOT_ACCEPTABLE = answer("No acceptable format can carry this answer", TEXT)
