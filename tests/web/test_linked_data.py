"""Dereferenceable IRIs over real HTTP: /id/ answers 303 to /page/ or /data/, every RDF answer
parses and equals what SPARQL DESCRIBE says of the thing, pages escape what they show.

The browser test (headless Debian Chromium under Playwright) serves a tiny store whose one study
has a title holding a script element, and checks that the page shows it as text and runs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.model.namespaces import AKG
from atrocity_kg.storage import store
from atrocity_kg.web.views import resource, terms
from browser import chromium, new_page
from conftest import make_home
from graphdiff import assert_isomorphic
from release_fixture import write_release
from server import media, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ID = "https://w3id.org/atrocity-kg/id/"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDF_TYPES = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
}
HOSTILE = "<script>window.pwned=1</script>"
HOSTILE_TITLE = f"{HOSTILE} Keeping the peace"


def select(client: httpx.Client, query: str) -> list[dict[str, str]]:
    """SELECT over /sparql: each row as variable -> value."""
    prologue = "PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>\n"
    response = client.post(
        "/sparql",
        data={"query": prologue + query},
        headers={"accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    return [
        {name: cell["value"] for name, cell in binding.items()}
        for binding in response.json()["results"]["bindings"]
    ]


def described(client: httpx.Client, iri: str) -> Graph:
    """What DESCRIBE answers for the IRI at /sparql."""
    response = client.post(
        "/sparql",
        data={"query": f"DESCRIBE <{iri}>"},
        headers={"accept": "application/n-triples"},
    )
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="nt")


def links(response: httpx.Response) -> dict[tuple[str, str], str | None]:
    """The Link header as (target, rel) -> type."""
    found: dict[tuple[str, str], str | None] = {}
    for element in re.findall(
        r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", response.headers["link"]
    ):
        target, params = element
        attributes = dict(re.findall(r'([a-z]+)="([^"]*)"', params))
        found[(target, attributes["rel"])] = attributes.get("type")
    return found


def json_ld_block(html: str) -> dict[str, object]:
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block
    value = json.loads(block)
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def things(client: httpx.Client) -> dict[str, str]:
    """One IRI of each kind, the data-dependent ones found with SPARQL."""
    finding = select(
        client,
        "SELECT ?x WHERE { ?x a akg:FactorFinding ; akg:inRelease ?r . ?r akg:releaseCode 'V3' } "
        "ORDER BY ?x LIMIT 1",
    )[0]["x"]
    assessment = select(
        client,
        "SELECT ?x WHERE { ?x a akg:ResearchAssessment ; akg:inRelease ?r . "
        "?r akg:releaseCode 'V3' } ORDER BY ?x LIMIT 1",
    )[0]["x"]
    recomputed = select(
        client,
        "SELECT ?x WHERE { ?x a akg:RecomputedAssessment ; akg:inRelease ?r . "
        "?r akg:releaseCode 'V3' } ORDER BY ?x LIMIT 1",
    )[0]["x"]
    study = select(
        client,
        "PREFIX bibo: <http://purl.org/ontology/bibo/>\n"
        "SELECT ?x WHERE { ?x a akg:Study ; bibo:doi ?doi ; akg:inRelease ?r . "
        "?r akg:releaseCode 'V3' } ORDER BY ?x LIMIT 1",
    )[0]["x"]
    return {
        "tool": ID + "tool/peace-operations",
        "mechanism": ID + "mechanism/peace-operations/physical-protection",
        "strategy": ID + "strategy/protect",
        "factor": ID + "factor/commitment",
        "study": study,
        "finding": finding,
        "assessment": assessment,
        "recomputed": recomputed,
        "release": ID + "release/v3",
        "justification": ID + "justification/peace-operations/protect",
        "outcome": ID + "outcome/conflict",
    }


def path_of(iri: str) -> str:
    assert iri.startswith(ID)
    return iri[len(ID) :]


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", BROWSER_ACCEPT])
def test_id_redirects_browsers_to_the_page(client: TestClient, accept: str | None) -> None:
    headers = {"accept": accept} if accept else {}
    response = client.get("/id/tool/peace-operations", headers=headers)
    assert response.status_code == 303
    assert response.headers["location"] == "/page/tool/peace-operations"
    assert "Accept" in response.headers["vary"]
    described_by = links(response)
    assert described_by[("/page/tool/peace-operations", "describedby")] == "text/html"
    for ext, (media_type, _) in RDF_TYPES.items():
        assert described_by[(f"/data/tool/peace-operations.{ext}", "describedby")] == media_type


@pytest.mark.parametrize("ext", sorted(RDF_TYPES))
def test_id_redirects_rdf_clients_to_the_format(client: TestClient, ext: str) -> None:
    media_type = RDF_TYPES[ext][0]
    response = client.get(
        "/id/strategy/protect", headers={"accept": f"{media_type}, text/html;q=0.5"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/data/strategy/protect.{ext}"
    assert "Accept" in response.headers["vary"]
    followed = client.get(
        "/id/strategy/protect", headers={"accept": media_type}, follow_redirects=True
    )
    assert followed.status_code == 200
    assert media(followed) == media_type


def test_every_format_equals_describe(client: TestClient, things: dict[str, str]) -> None:
    for iri in things.values():
        path = path_of(iri)
        expected = described(client, iri)
        assert len(expected) > 0, iri
        for ext, (media_type, rdflib_format) in RDF_TYPES.items():
            response = client.get(f"/data/{path}.{ext}")
            assert response.status_code == 200, (iri, ext, response.text)
            assert media(response) == media_type
            found = links(response)
            assert (iri, "describes") in found
            assert found[(f"/page/{path}", "alternate")] == "text/html"
            assert (f"/data/{path}.{ext}", "alternate") not in found  # not itself
            parsed = Graph().parse(data=response.content, format=rdflib_format)
            assert_isomorphic(expected, parsed)
            assert set(parsed.subjects()) == {URIRef(iri)}


def test_data_negotiates_without_an_extension(client: TestClient) -> None:
    url = "/data/tool/peace-operations"
    plain = client.get(url)
    assert plain.status_code == 200
    assert media(plain) == "text/turtle"
    assert plain.headers["content-location"] == "/data/tool/peace-operations.ttl"
    assert "Accept" in plain.headers["vary"]
    as_json = client.get(url, headers={"accept": "application/ld+json"})
    assert media(as_json) == "application/ld+json"
    assert as_json.headers["content-location"] == "/data/tool/peace-operations.jsonld"
    by_parameter = client.get(url, params={"format": "nt"})
    assert media(by_parameter) == "application/n-triples"
    refused = client.get(url, headers={"accept": "image/png"})
    assert refused.status_code == 406


def test_head_answers_headers_only(client: TestClient) -> None:
    for url, status in (
        ("/id/tool/mediation", 303),
        ("/page/tool/mediation", 200),
        ("/data/tool/mediation.ttl", 200),
        ("/data/tool/mediation", 200),
        ("/id/tool/no-such-tool", 404),
    ):
        response = client.head(url)
        assert response.status_code == status, url
        assert response.content == b""
    head = client.head("/page/tool/mediation")
    assert media(head) == "text/html"
    assert "link" in head.headers


def page(client: httpx.Client, iri: str) -> httpx.Response:
    response = client.get(
        f"/id/{path_of(iri)}", headers={"accept": BROWSER_ACCEPT}, follow_redirects=True
    )
    assert response.status_code == 200, (iri, response.text)
    assert media(response) == "text/html"
    assert str(response.url).endswith(f"/page/{path_of(iri)}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response


def test_pages_of_each_kind(client: TestClient, things: dict[str, str]) -> None:
    for kind, iri in things.items():
        response = page(client, iri)
        html = response.text
        assert iri in html, kind
        found = links(response)
        assert (iri, "describes") in found
        for ext in RDF_TYPES:
            assert f'href="/data/{path_of(iri)}.{ext}"' in html
        schema = json_ld_block(html)
        assert schema["@context"] == "https://schema.org"
        assert schema["@id"] == iri
        assert schema["name"]
        assert 'id="former-release"' not in html, kind

    tool = page(client, things["tool"]).text
    assert '<h1 id="title">Peace operations</h1>' in tool
    assert 'href="/id/mechanism/peace-operations/physical-protection"' in tool
    cap = resource.INCOMING_CAP
    assert re.search(rf'id="incoming-count">\d+ links to this; the first {cap} are listed', tool)

    strategy = page(client, things["strategy"]).text
    assert "Protecting vulnerable civilian populations" in strategy
    assert json_ld_block(strategy)["@type"] == "DefinedTerm"

    study = page(client, things["study"]).text
    schema = json_ld_block(study)
    assert schema["@type"] == "ScholarlyArticle"
    doi = select(
        client,
        f"SELECT ?doi WHERE {{ <{things['study']}> <http://purl.org/ontology/bibo/doi> ?doi }}",
    )[0]["doi"]
    assert f'href="https://doi.org/{doi}"' in study
    assert schema["sameAs"] == f"https://doi.org/{doi}"

    release = page(client, things["release"]).text
    assert json_ld_block(release)["@type"] == "Dataset"
    assert "the current one" in release

    finding = page(client, things["finding"]).text
    assert 'href="/id/tool/' in finding  # akg:aboutTool, linked to our /id/ path

    assessment = page(client, things["assessment"]).text
    assert "akg:evidenceLevel" in assessment


def test_links_pointing_here_are_counted_up_to_a_cap(
    client: httpx.Client, built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release is linked from each of its findings (millions in a large graph): its page
    counts the links exactly up to resource.INCOMING_COUNT_CAP, then says "more than"."""
    release = ID + "release/v3"
    with store.opened(built.store_root) as opened:
        linking = {
            (quad.predicate.value, quad.subject.value)
            for quad in opened.quads_for_pattern(None, None, ox.NamedNode(release), None)
            if isinstance(quad.subject, ox.NamedNode)
        }
    cap = resource.INCOMING_CAP
    assert cap < 1_000 < len(linking) <= resource.INCOMING_COUNT_CAP
    counted = page(client, release).text
    assert (
        f'id="incoming-count">{len(linking)} links to this; the first {cap} are listed' in counted
    )

    monkeypatch.setattr(resource, "INCOMING_COUNT_CAP", 1_000)
    capped = page(client, release).text
    assert 'id="incoming-count">More than 1,000 links to this (not all counted); ' in capped
    assert f"{cap} of them are listed." in capped
    assert capped.split('id="incoming"', 1)[1].split("</table>", 1)[0].count("<tr>") == cap + 1


def test_thing_only_in_an_older_release_says_so(client: TestClient) -> None:
    rows = select(
        client,
        f"SELECT ?x WHERE {{ ?x a akg:Study ; akg:inRelease <{ID}release/v2> "
        f"FILTER NOT EXISTS {{ ?x akg:inRelease <{ID}release/v3> }} "
        "} ORDER BY ?x LIMIT 1",
    )
    assert rows, "V2 has a study that V3 dropped"
    iri = rows[0]["x"]
    redirect = client.get(f"/id/{path_of(iri)}")
    assert redirect.status_code == 303
    html = page(client, iri).text
    notice = html.split('id="former-release">', 1)[1].split("</p>", 1)[0]
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", notice)).split())
    assert text.startswith("This is not in the current release, V3 (2025-04).")
    assert "V2 (2024-04)" in text
    assert "V3" not in text.split("It was in", 1)[1]


def test_unknown_iri_is_a_helpful_404(client: TestClient) -> None:
    as_html = client.get("/id/tool/peace-operationz", headers={"accept": BROWSER_ACCEPT})
    assert as_html.status_code == 404
    assert media(as_html) == "text/html"
    html = as_html.text
    assert "is not in the graph" in html
    assert 'href="/queries"' in html
    assert 'href="/sparql"' in html
    assert 'href="/id/tool/peace-operations"' in html  # a close match

    as_text = client.get("/id/tool/peace-operationz", headers={"accept": "text/turtle"})
    assert as_text.status_code == 404
    assert media(as_text) == "text/plain"
    assert "is not in the graph" in as_text.text
    assert "/sparql" in as_text.text
    assert f"{ID}tool/peace-operations" in as_text.text

    for url in ("/data/tool/peace-operationz.ttl", "/data/nothing", "/page/study/x%20y"):
        missing = client.get(url)
        assert missing.status_code == 404, url
        assert "is not in the graph" in missing.text


def test_page_escapes_values_and_json_ld() -> None:
    item = resource.Resource(
        iri=ID + "study/x",
        path="study/x",
        title=HOSTILE_TITLE,
        types=[],
        rows=[
            resource.Row(
                terms.Term("dct:title", None, str(DCTERMS.title)),
                (terms.Term(HOSTILE_TITLE),),
            )
        ],
        incoming=[],
        incoming_count=0,
        graphs=[],
        latest=None,
        former_releases=[],
        formats=[],
        schema={"@context": "https://schema.org", "@id": ID + "study/x", "name": HOSTILE_TITLE},
    )
    html = resource.render_resource(item)
    assert HOSTILE not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert json_ld_block(html)["name"] == HOSTILE_TITLE


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(server URL, study IRI) for a tiny store whose study title holds a script element."""
    root = tmp_path_factory.mktemp("hostile-site")
    settings = make_home(root / "home", with_releases=False)

    def spoil(tables: dict[str, list[dict[str, str]]]) -> None:
        tables["bibliography"][0]["Title"] = HOSTILE_TITLE

    pipeline.import_ushmm(settings, write_release(root / "release", spoil), ["V3"])
    data = graphs.parse_turtle(graphs.release_file(settings, "V3"))
    studies = [str(s) for s, t in data.subject_objects(DCTERMS.title) if str(t) == HOSTILE_TITLE]
    assert len(studies) == 1
    assert (URIRef(studies[0]), RDF.type, AKG.Study) in data
    pipeline.build_store(settings)
    with serving(settings) as url:
        yield url, studies[0]


def test_hostile_title_is_escaped_in_the_served_page(hostile: tuple[str, str]) -> None:
    site, study = hostile
    response = httpx.get(f"{site}/id/{path_of(study)}", follow_redirects=True)
    assert response.status_code == 200
    html = response.text
    assert HOSTILE not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert json_ld_block(html)["name"] == HOSTILE_TITLE


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_hostile_title_shows_as_text_in_a_browser(
    hostile: tuple[str, str], browser: Browser
) -> None:
    from playwright.sync_api import expect

    site, study = hostile
    problems: list[str] = []
    page = new_page(browser)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{site}/id/{path_of(study)}")
    assert page.url == f"{site}/page/{path_of(study)}"
    expect(page.locator("h1#title")).to_have_text(HOSTILE_TITLE)
    expect(page.locator("#properties")).to_contain_text(HOSTILE)
    expect(page.locator("#record")).to_contain_text(HOSTILE)  # the bibliographic record
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert page.locator("script:not([type='application/ld+json'])").count() == 0
    page.close()
    assert problems == []
