"""HEAD wherever GET is (``headers.HeadAsGet``), over real HTTP: the headers a GET would get,
without its body. Routes that answer HEAD themselves keep their answer."""

from __future__ import annotations

import httpx
import pytest

GET_ONLY = [
    "/",
    "/queries",
    "/queries/tool-study-counts",
    "/dumps/",
    "/compare/releases?tool=mediation&from=V2&to=V3",
    "/download/tool/mediation.csv",
    "/quality",
]
"""Paths whose routes take GET only: a HEAD of them was a 405."""


@pytest.mark.parametrize("path", GET_ONLY)
def test_head_answers_what_get_would_without_a_body(embedded_base: str, path: str) -> None:
    got = httpx.get(embedded_base + path, headers={"Accept": "text/html"})
    head = httpx.head(embedded_base + path, headers={"Accept": "text/html"})
    assert got.status_code == 200, got.text
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers.get("etag") == got.headers.get("etag")
    assert head.headers["x-content-type-options"] == "nosniff"


def test_head_of_nothing_is_still_a_404(embedded_base: str) -> None:
    head = httpx.head(embedded_base + "/page/tool/no-such-tool", headers={"Accept": "text/html"})
    assert head.status_code == 404
    assert head.content == b""


def test_a_method_no_route_takes_is_still_refused(embedded_base: str) -> None:
    """Only a HEAD is made again as a GET: a PUT of a page stays a 405."""
    put = httpx.put(embedded_base + "/queries", content=b"")
    assert put.status_code == 405
