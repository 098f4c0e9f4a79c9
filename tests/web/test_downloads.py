"""/ontology and /dumps/, through the app in this process: the ontology equals its file; every
graph downloads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.storage import store
from graphdiff import assert_isomorphic


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_ontology_in_each_format_equals_the_file(
    client: TestClient, repo: Path, accept: str, rdflib_format: str
) -> None:
    response = client.get("/ontology", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    served = Graph().parse(data=response.content, format=rdflib_format)
    assert_isomorphic(Graph().parse(repo / "ontology" / "atrocity.ttl"), served)


def test_dumps_list_every_named_graph_with_its_size(client: TestClient, built: Settings) -> None:
    page = client.get("/dumps/")
    assert page.status_code == 200
    with store.opened(built.store_root) as opened:
        names = store.graph_names(opened)
    for name in names:
        assert f"<code>{name}</code>" in page.text
    links = re.findall(r'href="(/graph-store\?[^"]+)"', page.text)
    assert len(links) == 4 * len(names)
    curated = [
        link.replace("&amp;", "&")
        for link in links
        if "curated" in link and "format=ntriples" in link
    ]
    download = client.get(curated[0])
    assert download.status_code == 200
    assert_isomorphic(graphs.load_curated(built), Graph().parse(data=download.content, format="nt"))


def test_ontology_documentation_for_browsers(client: TestClient) -> None:
    page = client.get("/ontology", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'id="supportsStrategy"' in page.text
    assert 'id="HeadlineFactor"' in page.text
    assert client.get("/ontology", params={"format": "html"}).text == page.text
    head = client.head("/ontology", headers={"Accept": "text/html"})
    assert head.status_code == 200
    assert head.content == b""
    rdf_client = client.get("/ontology", headers={"Accept": "*/*"})
    assert rdf_client.headers["content-type"].startswith("text/turtle")
