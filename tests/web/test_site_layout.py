"""One way to render a page (issue 14): every HTML page of the site comes from one template
environment and one base template, so each has the same <head> stylesheet, the same site header
and the same footer; /dataset is a page for browsers; errors are pages for browsers and stay
plain text or JSON for programs; no HTML is written in Python.

Pages are fetched in process (FastAPI's TestClient, which runs the app's lifespan, so catalogue
queries run in the app's own query worker) from the session's build; expected numbers are
computed here from the store and the dumps' manifest.
"""

from __future__ import annotations

import logging
import re
import tokenize
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from atrocity_kg.config import Settings
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.publish import export
from atrocity_kg.storage import store
from atrocity_kg.web import create_app, rendering
from atrocity_kg.web.headers import SECURITY_HEADERS
from queries_support import run_catalogue_query

SRC = Path(__file__).resolve().parents[2] / "src" / "atrocity_kg"
TEMPLATES = SRC / "web" / "templates"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
STYLESHEET = '<link rel="stylesheet" href="/static/site.css">'
HEADER = re.compile(r'<header class="site">.*?</header>', re.DOTALL)
FOOTER = re.compile(r'<footer class="site">.*?</footer>', re.DOTALL)
HEAD = re.compile(r"<head>(.*?)</head>", re.DOTALL)
# The menu of the site header, as a reader sees it (the landmark and its links, in order).
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
MENU = [
    ("/compare", "Compare tools"),
    ("/queries", "Query catalogue"),
    ("/ontology", "Ontology"),
    ("/dumps/", "Dumps"),
    ("/dataset", "Dataset (DCAT, VoID)"),
    ("/quality", "Quality report"),
    ("/docs", "API (OpenAPI)"),
    ("/sparql", "SPARQL endpoint"),
]


@pytest.fixture(scope="module")
def client(embedded_client: TestClient) -> TestClient:
    """The session's in-process app on the embedded store."""
    return embedded_client


def select(settings: Settings, query: str) -> list[dict[str, str]]:
    with store.opened(settings.store_root) as opened:
        answer = store.run_query(opened, sparql_prologue() + query)
        assert isinstance(answer, ox.QuerySolutions)
        names = [v.value for v in answer.variables]
        return [{n: s[n].value for n in names if s[n] is not None} for s in answer]


def page_path(iri: str) -> str:
    return "/page/" + iri.split("/id/", 1)[1]


@pytest.fixture(scope="module")
def every_kind(built: Settings) -> dict[str, tuple[str, int]]:
    """One URL of each kind of page, with the status it answers a browser."""
    study = select(built, "SELECT ?s WHERE { ?s a akg:Study } ORDER BY ?s LIMIT 1")[0]["s"]
    factor = select(built, "SELECT ?f WHERE { ?x akg:aboutFactor ?f } ORDER BY ?f LIMIT 1")[0]["f"]
    return {
        "home": ("/", 200),
        "tool": ("/page/tool/peace-operations", 200),
        "factor": (page_path(factor), 200),
        "study": (page_path(study), 200),
        "strategy": ("/page/strategy/protect", 200),
        "release": ("/page/release/v3", 200),
        "thing not in the graph": ("/page/tool/no-such-tool", 404),
        "IRI not in the graph": ("/id/tool/no-such-tool", 404),
        "no such page": ("/no/such/page", 404),
        "ontology": ("/ontology", 200),
        "query catalogue": ("/queries", 200),
        "a query's results": ("/queries/tool-mechanisms", 200),
        "dumps": ("/dumps/", 200),
        "dataset": ("/dataset", 200),
        "quality report": ("/quality", 200),
        "tools compared": ("/compare?tool=mediation&tool=peace-operations", 200),
        "factors across tools": ("/compare/factors", 200),
        "a tool's changes between releases": ("/compare/releases?tool=mediation", 200),
        "API explorer": ("/docs", 200),
    }


def parts(html: str, what: str) -> tuple[str, str, str]:
    """The page's <head>, its site header (the current section's mark left out) and footer."""
    head, header, footer = HEAD.search(html), HEADER.search(html), FOOTER.search(html)
    assert head is not None, f"{what}: no <head>"
    assert header is not None, f"{what}: no site header"
    assert footer is not None, f"{what}: no site footer"
    return head[1], header[0].replace(' aria-current="page"', ""), footer[0]


def menu(header: str) -> list[tuple[str, str]]:
    nav = header.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return [
        (href, unescape(text))
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', nav)
    ]


def test_every_kind_of_page_has_the_same_head_header_and_footer(
    client: TestClient, every_kind: dict[str, tuple[str, int]]
) -> None:
    home = client.get("/", headers={"Accept": BROWSER})
    _, header, footer = parts(home.text, "home")
    assert menu(header) == MENU
    assert '<a class="brand" href="/">atrocity-kg</a>' in header
    footer_text = " ".join(unescape(re.sub(r"<[^>]+>", "", footer)).split())
    assert footer_text.startswith("atrocity-kg ")
    assert "the graph republishes facts derived from them, with their source" in footer_text
    for what, (path, status) in every_kind.items():
        response = client.get(path, headers={"Accept": BROWSER})
        assert response.status_code == status, (what, response.text[:300])
        assert response.headers["content-type"] == "text/html; charset=utf-8", what
        html = response.text
        assert html.startswith("<!doctype html>"), what
        assert html.count("<!doctype html>") == 1, what
        head, own_header, own_footer = parts(html, what)
        assert own_header == header, what
        assert own_footer == footer, what
        stylesheets = re.findall(r'<link rel="stylesheet"[^>]*>', head)
        assert stylesheets[0] == STYLESHEET, what
        assert html.count("<header") == html.count('<header class="site">') == 1, what
        assert html.count("<footer") == 1, what
        # Under the content security policy: no inline script (data blocks are not run) or style.
        assert not re.search(r"<script(?![^>]*\b(?:src|type)=)", html), what
        assert "<style" not in html, what
        assert " style=" not in html, what


def test_the_current_section_is_marked_in_the_menu(client: TestClient) -> None:
    for path, current in (
        ("/queries", "/queries"),
        ("/queries/tool-mechanisms", "/queries"),
        ("/dumps/", "/dumps/"),
        ("/dataset", "/dataset"),
        ("/quality", "/quality"),
        ("/ontology", "/ontology"),
    ):
        header = HEADER.search(client.get(path, headers={"Accept": BROWSER}).text)
        assert header is not None, path
        marked = re.findall(r'<a (?:class="brand" )?href="([^"]+)" aria-current="page"', header[0])
        assert marked == [current], path


def test_result_table_shows_every_row_of_the_query(client: TestClient, built: Settings) -> None:
    """A SPARQL answer as HTML: a heading row of the variables and one row per solution, in
    order, as the store answers the same query here; our IRIs linked to this server (the full
    IRI on hover), numbers right-aligned under a right-aligned heading."""
    expected = run_catalogue_query(built, "studies-per-release")
    html = client.get("/queries/studies-per-release", params={"format": "html"}).text
    table = html.split('<table class="results" id="results">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
    headings = [unescape(h) for h in re.findall(r"<th [^>]*>([^<]*)</th>", rows[0])]
    assert headings == expected.variables
    assert len(rows) == len(expected.rows) + 1
    for row, want in zip(rows[1:], expected.rows, strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert len(cells) == len(expected.variables)
        for cell, name in zip(cells, expected.variables, strict=True):
            value = want[name]
            if value.type == "uri":
                local = "/id/" + value.value.split("/id/", 1)[1]
                assert f'href="{local}" title="{value.value}"' in cell
            else:
                assert unescape(re.sub(r"<[^>]+>", "", cell)) == value.value
    integers = [
        name
        for name in expected.variables
        if all(row[name].datatype == XSD_INTEGER for row in expected.rows)
    ]
    assert integers, "the query has counts"
    right = re.findall(r'<th scope="col" class="n">([^<]*)</th>', rows[0])
    assert right == integers
    assert f"{len(expected.rows)} rows" in html


def test_dataset_is_a_page_for_browsers_and_rdf_for_programs(
    client: TestClient, built: Settings
) -> None:
    with store.opened(built.store_root) as opened:
        quads = list(opened.quads_for_pattern(None, None, None, None))
    triples = {quad.triple for quad in quads}
    graphs = {quad.graph_name.value for quad in quads if isinstance(quad.graph_name, ox.NamedNode)}
    releases = select(built, "SELECT DISTINCT ?r WHERE { ?r a akg:Release }")
    manifest = export.read_manifest(store.current_path(built.store_root) / export.DUMPS)

    page = client.get("/dataset", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    html = page.text
    counts = {
        m[1]: int(m[2].replace("\u202f", ""))
        for m in re.finditer(r'data-count="([a-z]+)">([\d\u202f]+)<', html)
    }
    assert counts == {
        "triples": len(triples),
        "releases": len(releases),
        "graphs": len(graphs),
        "dumps": len(manifest),
    }
    for file in manifest:
        assert f'href="/dumps/{file.name}"' in html
        assert file.sha256 in html
    for graph in graphs:
        assert f"<code>{graph}</code>" in html
    assert 'href="http://testserver/sparql"' in html  # the endpoint, as the description says
    assert (
        '<span class="badge">current</span>'
        in html.split('id="version-v3"', 1)[1].split("</h3>", 1)[0]
    )
    assert client.get("/dataset", params={"format": "html"}).text == html

    head = client.head("/dataset", headers={"Accept": BROWSER})
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/html")
    assert head.content == b""
    for accept, media, rdflib_format in (
        ("*/*", "text/turtle", "turtle"),
        (None, "text/turtle", "turtle"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("text/turtle, text/html;q=0.5", "text/turtle", "turtle"),
    ):
        headers = {"Accept": accept} if accept else {}
        rdf = client.get("/dataset", headers=headers)
        assert rdf.status_code == 200, accept
        assert rdf.headers["content-type"].startswith(media), accept
        assert len(Graph().parse(data=rdf.content, format=rdflib_format)) > 0
    assert (
        client.get("/.well-known/void", headers={"Accept": "*/*"})
        .headers["content-type"]
        .startswith("text/turtle")
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("text/html;q=0.9, application/json;q=0.9", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("text/*", False),
        ("text/html;q=0", False),
        ("application/json", False),
        ("text/turtle, text/html;q=0.5", False),
        ("application/sparql-results+json,*/*;q=0.9", False),
    ],
)
def test_who_gets_a_page(accept: str | None, expected: bool) -> None:
    assert rendering.wants_page(accept) is expected


def test_errors_are_pages_for_browsers_and_text_or_json_for_programs(client: TestClient) -> None:
    hostile = "/no/<script>alert(1)</script>"
    page = client.get(hostile, headers={"Accept": BROWSER})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "nothing answers at <code>/no/&lt;script&gt;alert(1)&lt;/script&gt;</code>" in page.text
    assert client.get(hostile).json() == {"detail": "Not Found"}  # as FastAPI always answered

    refused = client.get("/quality", params={"release": "V9"}, headers={"Accept": BROWSER})
    assert refused.status_code == 422
    assert "query.release:" in unescape(refused.text)
    assert client.get("/quality", params={"release": "V9"}).json()["detail"][0]["loc"] == [
        "query",
        "release",
    ]

    missing = client.get("/dumps/nothing.nt.gz", headers={"Accept": BROWSER})
    assert missing.status_code == 404
    assert "no dump file &#39;nothing.nt.gz&#39;; see /dumps/" in missing.text
    plain = client.get("/dumps/nothing.nt.gz")
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.text == "no dump file 'nothing.nt.gz'; see /dumps/\n"

    # The SPARQL Protocol's own errors stay plain text, whoever asks.
    sparql = client.get(
        "/sparql", params={"query": "SELECT ?x WHERE {"}, headers={"Accept": BROWSER}
    )
    assert sparql.status_code == 400
    assert sparql.headers["content-type"].startswith("text/plain")


def test_an_internal_error_is_a_page_with_only_a_reference(
    built: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "/srv/atrocity-kg/secrets/credentials.ttl"
    app = create_app(built)

    def raising() -> None:
        raise RuntimeError(f"cannot open {secret}")

    app.add_api_route("/raising", raising)
    caplog.set_level(logging.ERROR, logger="atrocity_kg.web.failures")
    with TestClient(app, raise_server_exceptions=False) as failing:
        page = failing.get("/raising", headers={"Accept": BROWSER})
        plain = failing.get("/raising")
    assert page.status_code == plain.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    assert HEADER.search(page.text)
    assert FOOTER.search(page.text)
    for sign in ("Traceback", secret, "RuntimeError", ".py"):
        assert sign not in page.text
    reference = re.search(r"internal server error \(reference ([0-9a-f]+)\)", page.text)
    assert reference is not None
    assert any(reference[1] in record.getMessage() for record in caplog.records)
    assert plain.text.startswith("internal server error (reference ")


# --- one environment, one base, no HTML in Python ------------------------------------------------


def test_every_page_template_extends_the_base() -> None:
    """Only base.html writes a document; a template is a page (it extends the base) or a part
    that pages include or import (header, footer, macros)."""
    templates = sorted(TEMPLATES.glob("*.html"))
    included = {
        name
        for template in templates
        for name in re.findall(r'{% include "([^"]+)" %}', template.read_text(encoding="utf-8"))
    }
    assert {"site_header.html", "site_footer.html"} <= included
    for template in templates:
        text = template.read_text(encoding="utf-8")
        if template.name == "base.html":
            assert "<!doctype html>" in text
            continue
        assert "<!doctype" not in text.lower(), template.name
        assert "<head>" not in text, template.name
        assert "<body>" not in text, template.name
        extends = '{% extends "base.html" %}' in text
        is_macros = "{% macro " in text and "{% block " not in text
        assert extends or is_macros or template.name in included, template.name


def python_strings(path: Path) -> Iterator[str]:
    with path.open("rb") as source:
        for token in tokenize.tokenize(source.readline):
            if token.type == tokenize.STRING:
                yield token.string


HTML_IN_PYTHON = re.compile(
    r"<(?:!doctype|html|body|table|thead|tbody|tr|td|th|p|a|div|span|ul|ol|li|dl|dt|dd|form|"
    r"input|label|br|h[1-6]|code|em|strong)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)


def test_no_html_is_written_in_python() -> None:
    """Views pass data, templates render: no markup in a Python string, no escaping by hand,
    and one Jinja environment (web/rendering.py)."""
    environments = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for string in python_strings(path):
            assert not HTML_IN_PYTHON.search(string), f"{path.relative_to(SRC)}: {string[:80]}"
        assert "html.escape" not in text, path
        assert "import html\n" not in text, path
        if "Environment(" in text:
            environments.append(path.relative_to(SRC).as_posix())
    assert environments == ["web/rendering.py"]
    assert rendering.environment() is rendering.environment()
