"""Dumps and the dataset description, served: every dump is the store's graphs, every checksum is
the served file's, two exports are byte-identical, the VoID counts are the store's. The app is
asked in this process (``client``); names that try to escape the dumps folder over real HTTP,
where the server itself decodes the path."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF
from typer.testing import CliRunner

from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.graph.graphs import from_ox
from atrocity_kg.publish import export
from atrocity_kg.storage import store
from atrocity_kg.web.routes.downloads import dataset_description
from conftest import IN_PROCESS
from graphdiff import assert_isomorphic
from literals import integer

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
PROV = Namespace("http://www.w3.org/ns/prov#")
GRAPH = "https://w3id.org/atrocity-kg/graph/"
DATASET = URIRef("https://w3id.org/atrocity-kg/dataset")
OX_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
}
KEYS = ("v1", "v2", "v3", "all")

runner = CliRunner()


@pytest.fixture(scope="module")
def build_folder(built: Settings) -> Path:
    return store.current_path(built.store_root)


@pytest.fixture(scope="module")
def manifest(build_folder: Path) -> dict[str, export.DumpFile]:
    return {file.name: file for file in export.read_manifest(build_folder / export.DUMPS)}


@pytest.fixture(scope="module")
def store_quads(build_folder: Path) -> dict[str, list[ox.Quad]]:
    """Every quad of the store, by graph name, read independently of the export."""
    opened = ox.Store.read_only(str(build_folder))
    try:
        by_graph: dict[str, list[ox.Quad]] = {}
        for quad in opened.quads_for_pattern(None, None, None, None):
            assert isinstance(quad.graph_name, ox.NamedNode)
            by_graph.setdefault(quad.graph_name.value, []).append(quad)
        return by_graph
    finally:
        del opened


def _graphs_of(key: str, names: Iterable[str]) -> list[str]:
    """A release's dump: the graphs of statements the release makes (alone or with others:
    ``ushmm-v1``, ``ushmm-v1-v2-v3``), its evidence and the catalogue."""
    if key == "all":
        return sorted(names)
    statements = [
        name
        for name in names
        if name.startswith(f"{GRAPH}ushmm-")
        and key in name.removeprefix(f"{GRAPH}ushmm-").split("-")
    ]
    return sorted([*statements, f"{GRAPH}evidence-{key}", f"{GRAPH}catalogue"])


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def assert_same_graph(expected: Iterable[ox.Triple], actual: Iterable[ox.Triple]) -> None:
    """Isomorphism, fast: the triples without blank nodes must be equal as sets (a bijection of
    blank nodes leaves them alone), the others isomorphic (rdflib, via graphdiff)."""
    ground: list[set[str]] = [set(), set()]
    blank = [Graph(), Graph()]
    for side, triples in enumerate((expected, actual)):
        for triple in triples:
            if _has_blank(triple):
                blank[side].add(
                    (from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object))
                )
            else:
                ground[side].add(str(triple))
    only_expected, only_actual = ground[0] - ground[1], ground[1] - ground[0]
    assert not only_expected, f"{len(only_expected)} only expected: {sorted(only_expected)[:5]}"
    assert not only_actual, f"{len(only_actual)} only actual: {sorted(only_actual)[:5]}"
    assert_isomorphic(blank[0], blank[1])


def _fetch(client: httpx.Client, name: str) -> httpx.Response:
    response = client.get(f"/dumps/{name}", timeout=60)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.usefixtures("embedded_only")
@pytest.mark.parametrize("extension", list(OX_FORMATS))
@pytest.mark.parametrize("key", KEYS)
def test_every_dump_is_the_store_graphs(
    client: TestClient,
    manifest: dict[str, export.DumpFile],
    store_quads: dict[str, list[ox.Quad]],
    key: str,
    extension: str,
) -> None:
    name = f"atrocity-kg-{key}.{extension}.gz"
    response = _fetch(client, name)
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["content-disposition"].startswith("attachment")
    assert name in response.headers["content-disposition"]
    assert "content-encoding" not in response.headers
    chosen = _graphs_of(key, store_quads)
    assert list(manifest[name].graphs) == chosen
    data = gzip.decompress(response.content)
    parsed = list(ox.parse(data, format=OX_FORMATS[extension]))
    if extension == "nq":
        assert len(parsed) == manifest[name].triples
        served: dict[str, list[ox.Triple]] = {}
        for quad in parsed:
            assert isinstance(quad.graph_name, ox.NamedNode)
            served.setdefault(quad.graph_name.value, []).append(quad.triple)
        assert sorted(served) == sorted(chosen)
        for graph in chosen:
            assert_same_graph((q.triple for q in store_quads[graph]), served[graph])
    else:
        assert all(isinstance(q.graph_name, ox.DefaultGraph) for q in parsed)
        assert len({str(q.triple) for q in parsed}) == manifest[name].triples
        expected = [q.triple for graph in chosen for q in store_quads[graph]]
        assert_same_graph(expected, (q.triple for q in parsed))


@pytest.mark.usefixtures("embedded_only")
@pytest.mark.parametrize(
    ("extension", "rdflib_format"),
    [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")],
)
def test_a_release_dump_reads_with_rdflib_too(
    client: TestClient, store_quads: dict[str, list[ox.Quad]], extension: str, rdflib_format: str
) -> None:
    data = gzip.decompress(_fetch(client, f"atrocity-kg-v1.{extension}.gz").content)
    served = Graph().parse(data=data, format=rdflib_format)
    expected = Graph()
    for graph in _graphs_of("v1", store_quads):
        for quad in store_quads[graph]:
            expected.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
    assert_isomorphic(expected, served)


def _description(
    client: httpx.Client, path: str = "/dataset", accept: str = "text/turtle"
) -> Graph:
    response = client.get(path, headers={"Accept": accept}, timeout=60)
    assert response.status_code == 200, response.text
    assert "Accept" in response.headers["vary"]
    assert response.headers["content-type"].startswith(accept)
    rdflib_format = {"text/turtle": "turtle", "application/ld+json": "json-ld"}[accept]
    return Graph().parse(data=response.content, format=rdflib_format)


@pytest.mark.usefixtures("embedded_only")
def test_checksums_and_sizes_in_the_description_are_the_served_bytes(
    client: TestClient, manifest: dict[str, export.DumpFile]
) -> None:
    described = _description(client)
    distributions = set(described.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == len(manifest) == 16
    for node in distributions:
        url = described.value(node, DCAT.downloadURL)
        assert isinstance(url, URIRef)
        assert str(url).startswith(IN_PROCESS + "/dumps/")
        response = client.get(str(url), timeout=60)
        assert response.status_code == 200
        checksum = described.value(node, SPDX.checksum)
        assert described.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(described.value(checksum, SPDX.checksumValue)) == (
            hashlib.sha256(response.content).hexdigest()
        )
        size = described.value(node, DCAT.byteSize)
        assert isinstance(size, Literal)
        assert size.datatype == URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")
        assert int(size) == len(response.content)
        owner = described.value(predicate=DCAT.distribution, object=node)
        assert (owner, VOID.dataDump, url) in described
        assert described.value(node, DCAT.mediaType) is not None


@pytest.mark.usefixtures("embedded_only")
def test_releases_are_versions_of_the_dataset(client: TestClient) -> None:
    described = _description(client, accept="application/ld+json")
    versions = sorted(described.objects(DATASET, DCAT.hasVersion), key=str)
    assert [str(v) for v in versions] == [f"{DATASET}/v{n}" for n in (1, 2, 3)]
    assert described.value(DATASET, DCAT.hasCurrentVersion) == URIRef(f"{DATASET}/v3")
    for number, version in enumerate(versions, start=1):
        assert str(described.value(version, DCAT.version)) == f"V{number}"
        assert described.value(version, DCT.issued) is not None
        assert described.value(version, PROV.wasDerivedFrom) == URIRef(
            f"https://w3id.org/atrocity-kg/id/release/v{number}"
        )
        assert len(list(described.objects(version, DCAT.distribution))) == 4
    assert described.value(DATASET, DCT.source) == URIRef(
        "https://github.com/ushmm/atrocity-prevention-data"
    )
    assert described.value(DATASET, DCT.publisher) is not None
    assert described.value(DATASET, DCT.rights) is not None
    assert described.value(URIRef(GRAPH + "curated"), DCT.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )


def test_well_known_void_names_the_endpoint_and_the_counts(client: TestClient) -> None:
    described = _description(client, path="/.well-known/void")
    assert described.value(DATASET, VOID.sparqlEndpoint) == URIRef(IN_PROCESS + "/sparql")
    counts = client.get(
        "/sparql",
        params={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    expected = {row["g"]["value"]: int(row["n"]["value"]) for row in counts}
    subsets = {
        str(subset): integer(described.value(subset, VOID.triples))
        for subset in described.objects(DATASET, VOID.subset)
        if str(subset).startswith(GRAPH)
    }
    assert subsets == expected
    total = client.get(
        "/sparql",
        params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
        },
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"][0]["n"]["value"]
    assert integer(described.value(DATASET, VOID.triples)) == int(total)


def test_a_linkset_counts_the_links_out() -> None:
    memory = ox.Store()
    graph = ox.NamedNode(GRAPH + "ushmm-v1")
    study = ox.NamedNode("https://w3id.org/atrocity-kg/id/study/x")
    same_as = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
    memory.add(ox.Quad(study, same_as, ox.NamedNode("https://doi.org/10.1/x"), graph))
    memory.add(ox.Quad(study, same_as, ox.NamedNode("http://www.wikidata.org/entity/Q1"), graph))
    memory.add(ox.Quad(study, same_as, ox.NamedNode("http://www.wikidata.org/entity/Q2"), graph))
    described = Graph()
    for triple in dataset_description(memory, [], "http://example.org/"):
        described.add((from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)))
    linksets = {
        str(node): integer(described.value(node, VOID.triples))
        for node in described.subjects(RDF.type, VOID.Linkset)
    }
    assert linksets == {f"{DATASET}/links/doi": 1, f"{DATASET}/links/wikidata": 2}


# A term of a quad: relabelled, it is itself or a blank node, so it fits where it stood.
_Term = TypeVar("_Term", bound=ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.slow  # two exports of the whole store
def test_exports_of_the_same_data_are_byte_identical(build_folder: Path, tmp_path: Path) -> None:
    # The build wrote its dumps once; a second export of the same store gives the same bytes.
    first = export.write_dumps(build_folder, tmp_path / "first")
    assert _files(tmp_path / "first") == _files(build_folder / export.DUMPS)
    # A rebuild gives blank nodes new labels: the same data must still give the same bytes.
    relabelled = ox.Store()
    fresh: dict[str, ox.BlankNode] = {}

    def relabel(term: _Term) -> _Term | ox.BlankNode:
        if isinstance(term, ox.BlankNode):
            return fresh.setdefault(term.value, ox.BlankNode())
        return term

    with store.opened(build_folder.parent.parent) as opened:
        relabelled.bulk_extend(
            ox.Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name)
            for q in opened.quads_for_pattern(None, None, None, None)
        )
    assert fresh, "the store should hold blank nodes (ontology, shapes)"
    again = export.write_dumps(relabelled, tmp_path / "relabelled")
    assert again == first
    assert _files(tmp_path / "relabelled") == _files(tmp_path / "first")


@pytest.mark.slow  # an export of the whole store
def test_cli_export_writes_the_same_files(
    built: Settings, build_folder: Path, tmp_path: Path, env_for: Callable[[Settings], None]
) -> None:
    env_for(built)
    result = runner.invoke(app, ["export", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "atrocity-kg-all.nq.gz" in result.output
    assert _files(tmp_path / "out") == _files(build_folder / export.DUMPS)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["export", "--output", str(tmp_path / "mine")])
    assert result.exit_code == 1
    assert "other files than dumps" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.usefixtures("embedded_only")
def test_dumps_page_lists_every_file(
    client: TestClient, manifest: dict[str, export.DumpFile]
) -> None:
    page = client.get("/dumps/")
    assert page.status_code == 200
    for file in manifest.values():
        assert f'href="/dumps/{file.name}"' in page.text
        assert file.sha256 in page.text
    head = client.head("/dumps/atrocity-kg-v3.ttl.gz")
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == manifest["atrocity-kg-v3.ttl.gz"].size


@pytest.mark.parametrize(
    "name",
    [
        "nothing.nt.gz",
        "manifest.json",
        "%2E%2E",
        "..%2Fmanifest.json",
        "..%2F..%2F..%2FCURRENT",
        "%2E%2E%2F%2E%2E%2Fcurrent",
    ],
)
def test_unknown_or_escaping_dump_names_are_404(base: str, name: str) -> None:
    response = httpx.get(f"{base}/dumps/{name}")
    assert response.status_code == 404, (name, response.status_code)
