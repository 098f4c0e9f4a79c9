"""/queries, through the app in this process: the catalogue listed, each query run with typed
parameters, compared with the embedded store and with /sparql, in every output format, and
documented in OpenAPI."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from atrocity_kg.config import Settings
from atrocity_kg.query import queries
from atrocity_kg.query.results import Table, table_from_sparql_json
from conftest import IN_PROCESS, in_process
from queries_support import as_plain, run_catalogue_query

REPO = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))
MEDIATION = "https://w3id.org/atrocity-kg/id/tool/mediation"
SPARQL_JSON = "application/sparql-results+json"

# A test-only catalogue: a query that gives back its parameters, to see values reach HTML, and
# one parameter of each type.
ECHO = """# title: Echo <b>parameters</b>
# description: Gives back its parameters & nothing else.
# param: ?text string default plain -- any text
# param: ?link iri default https://example.org/a -- any IRI
# param: ?count integer default 3 -- a whole number
# param: ?share decimal default 0.5 -- a share
SELECT ?text ?link ?count ?share
WHERE {
}
"""
NEEDS = """# title: Needs a value
# description: A parameter without a default must be given.
# param: ?text string -- required text
SELECT ?text
WHERE {
}
"""


@pytest.fixture(scope="module")
def echo_home(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("echo-home")
    (home / "queries").mkdir()
    (home / "queries" / "echo.rq").write_text(ECHO, encoding="utf-8")
    (home / "queries" / "needs-value.rq").write_text(NEEDS, encoding="utf-8")
    return Settings(home=home, store_dir=built.store_root)


@pytest.fixture(scope="module")
def echo(echo_home: Settings) -> Iterator[TestClient]:
    """The app on the test-only catalogue, in this process."""
    with in_process(echo_home) as test_client:
        yield test_client


def comparable(table: Table, name: str) -> dict[str, Any]:
    """Rows as plain values; sorted when the query leaves the order open."""
    plain = as_plain(table)
    text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    if "ORDER BY" not in text.upper():
        plain["rows"] = sorted(plain["rows"], key=str)
    return plain


def sparql_json(response: httpx.Response) -> Table:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(SPARQL_JSON)
    return table_from_sparql_json(response.json())


# --- the listing ----------------------------------------------------------------------------


def test_listing_json_has_every_query_with_its_header_and_links(client: TestClient) -> None:
    response = client.get("/queries")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    listed = {entry["name"]: entry for entry in response.json()["queries"]}
    assert sorted(listed) == NAMES
    for name, entry in listed.items():
        parsed = queries.parse_query_file(REPO / "queries" / f"{name}.rq")
        assert entry["title"] == parsed.title
        assert entry["description"] == parsed.description
        assert entry["parameters"] == [
            {
                "name": p.name,
                "type": p.type,
                "default": p.default,
                "description": p.description,
                "kind": p.of_class,
            }
            for p in parsed.parameters
        ]
        assert entry["links"]["self"] == f"{IN_PROCESS}/queries/{name}"
        assert client.get(entry["links"]["text"]).text == parsed.text


def test_listing_html_has_every_query(client: TestClient) -> None:
    for response in (
        client.get("/queries", headers={"Accept": "text/html"}),
        client.get("/queries", params={"format": "html"}),
        client.get("/queries", headers={"Accept": "text/html,*/*;q=0.8"}),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        for name in NAMES:
            assert f'href="{IN_PROCESS}/queries/{name}?format=html"' in response.text
            assert f'href="{IN_PROCESS}/queries/{name}.rq"' in response.text


def test_listing_escapes_titles_in_html(echo: TestClient) -> None:
    page = echo.get("/queries", params={"format": "html"}).text
    assert "Echo &lt;b&gt;parameters&lt;/b&gt;" in page
    assert "<b>" not in page
    assert "&amp; nothing else" in page


def test_catalogue_is_read_once_at_start(echo_home: Settings, echo: TestClient) -> None:
    added = echo_home.queries_dir / "added-later.rq"
    shutil.copy(REPO / "queries" / "studies-per-release.rq", added)
    try:
        names = [e["name"] for e in echo.get("/queries").json()["queries"]]
        assert names == ["echo", "needs-value"]
        assert echo.get("/queries/added-later").status_code == 404
    finally:
        added.unlink()


def test_query_text(client: TestClient) -> None:
    response = client.get("/queries/tool-mechanisms.rq")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == (REPO / "queries" / "tool-mechanisms.rq").read_text(encoding="utf-8")
    asked = client.get(
        "/queries/tool-mechanisms.rq", headers={"Accept": "application/sparql-query"}
    )
    assert asked.headers["content-type"].startswith("application/sparql-query")
    assert client.get("/queries/no-such-query.rq").status_code == 404


# --- running queries ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_query_matches_the_store_and_sparql(
    client: TestClient, built: Settings, name: str
) -> None:
    through_api = sparql_json(client.get(f"/queries/{name}", timeout=60))
    embedded = run_catalogue_query(built, name)
    assert embedded.rows, f"{name} gives no rows: the comparison could not fail"
    assert comparable(through_api, name) == comparable(embedded, name)
    text = queries.load_catalogue(built.queries_dir)[name].bound_text({})
    through_sparql = sparql_json(client.post("/sparql", data={"query": text}, timeout=60))
    assert comparable(through_api, name) == comparable(through_sparql, name)


def test_a_parameter_changes_the_answer(client: TestClient, built: Settings) -> None:
    default = sparql_json(client.get("/queries/tool-mechanisms"))
    mediation = sparql_json(client.get("/queries/tool-mechanisms", params={"tool": MEDIATION}))
    assert len(mediation.rows) == 1
    assert as_plain(mediation) != as_plain(default)
    expected = run_catalogue_query(built, "tool-mechanisms", {"tool": MEDIATION})
    assert as_plain(mediation) == as_plain(expected)


def test_several_parameters_are_bound(client: TestClient, built: Settings) -> None:
    values = {
        "tool": MEDIATION,
        "release": "https://w3id.org/atrocity-kg/id/release/v2",
        "factor": "https://w3id.org/atrocity-kg/id/factor/large-force",
    }
    answer = sparql_json(client.get("/queries/studies-behind-tool-factor", params=values))
    expected = run_catalogue_query(built, "studies-behind-tool-factor", values)
    assert as_plain(answer) == as_plain(expected)
    assert as_plain(answer) != as_plain(run_catalogue_query(built, "studies-behind-tool-factor"))


def test_csv_by_format_and_by_accept(client: TestClient, built: Settings) -> None:
    expected = run_catalogue_query(built, "studies-per-release")
    for response in (
        client.get("/queries/studies-per-release", params={"format": "csv"}),
        client.get("/queries/studies-per-release", headers={"Accept": "text/csv"}),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["release", "code", "issued", "studies", "findings"]
        assert rows[1:] == as_plain(expected)["rows"]


def test_plain_json_rows(client: TestClient, built: Settings) -> None:
    expected = run_catalogue_query(built, "tool-mechanisms", {"tool": MEDIATION})
    for response in (
        client.get("/queries/tool-mechanisms", params={"tool": MEDIATION, "format": "rows"}),
        client.get(
            "/queries/tool-mechanisms",
            params={"tool": MEDIATION},
            headers={"Accept": "application/json"},
        ),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"variables": expected.variables, "rows": expected.plain_rows()}


def test_sparql_json_by_accept_and_format(client: TestClient) -> None:
    for response in (
        client.get("/queries/studies-per-release", headers={"Accept": SPARQL_JSON}),
        client.get("/queries/studies-per-release", params={"format": "json"}),
        client.get("/queries/studies-per-release", headers={"Accept": "*/*"}),
    ):
        assert len(sparql_json(response).rows) == 3


def test_html_table(client: TestClient, built: Settings) -> None:
    expected = run_catalogue_query(built, "tool-mechanisms", {"tool": MEDIATION})
    for response in (
        client.get("/queries/tool-mechanisms", params={"tool": MEDIATION, "format": "html"}),
        client.get(
            "/queries/tool-mechanisms",
            params={"tool": MEDIATION},
            headers={"Accept": "text/html"},
        ),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert page.count("<tr>") == len(expected.rows) + 1
        for value in expected.plain_rows()[0].values():
            assert value in page
        # The form keeps the value asked for, as the picker's chosen member.
        assert '<option value="mediation" selected>Mediation</option>' in page


def test_html_escapes_every_value(echo: TestClient) -> None:
    hostile = '<script>alert("x")</script>'
    response = echo.get(
        "/queries/echo",
        params={"text": hostile, "link": "javascript:alert(1)", "format": "html"},
    )
    assert response.status_code == 200
    page = response.text
    assert "<script>" not in page
    # Shown as text, quotes included (written &#34; or &quot;: either reads the same).
    assert "&lt;script&gt;alert(" in page
    assert f"<td>{hostile}</td>" in unescape(page)
    assert 'href="javascript:' not in page
    plain = echo.get("/queries/echo", params={"text": hostile, "format": "rows"})
    assert plain.json()["rows"] == [
        {"text": hostile, "link": "https://example.org/a", "count": "3", "share": "0.5"}
    ]


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://w3id.org/atrocity-kg/id/tool/media tion",
        "https://w3id.org/atrocity-kg/id/tool/mediation> } ; DROP ALL ; SELECT * WHERE { <a",
        "https://w3id.org/x> } ; DROP ALL ; SELECT * WHERE { <a",
        "mediation",
        "",
    ],
)
def test_a_value_naming_no_tool_is_a_404_naming_the_parameter(
    client: TestClient, value: str
) -> None:
    """Whatever it holds, a value that names no member is refused before any query runs."""
    response = client.get("/queries/tool-mechanisms", params={"tool": value + "x"})
    assert response.status_code == 404
    assert "'tool'" in response.json()["detail"]
    assert "names no reviewed tool" in response.json()["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/media tion",
        "https://example.org/x> } ; DROP ALL ; SELECT * WHERE { <a",
        "mediation",
        "",
    ],
)
def test_bad_iri_is_a_400_naming_the_parameter(echo: TestClient, value: str) -> None:
    """A parameter typed plain ``iri`` (no class) takes absolute IRIs only."""
    response = echo.get("/queries/echo", params={"link": value})
    assert response.status_code == 400
    assert "'link'" in response.json()["detail"]
    assert "not a valid iri" in response.json()["detail"]


def test_bad_typed_values_are_400s(echo: TestClient) -> None:
    for name, value in (("count", "three"), ("share", "half")):
        response = echo.get("/queries/echo", params={name: value})
        assert response.status_code == 400
        assert f"'{name}'" in response.json()["detail"]
    good = echo.get("/queries/echo", params={"count": "7", "share": "0.25"})
    row = sparql_json(good).rows[0]
    assert (row["count"].value, row["count"].datatype) == (
        "7",
        "http://www.w3.org/2001/XMLSchema#integer",
    )
    assert row["share"].datatype == "http://www.w3.org/2001/XMLSchema#decimal"


def test_missing_required_value_is_a_400(echo: TestClient) -> None:
    response = echo.get("/queries/needs-value")
    assert response.status_code == 400
    assert "'text'" in response.json()["detail"]
    assert sparql_json(echo.get("/queries/needs-value", params={"text": "x"})).rows


def test_unknown_and_repeated_parameters_are_400s(client: TestClient) -> None:
    response = client.get("/queries/tool-mechanisms", params={"tol": MEDIATION})
    assert response.status_code == 400
    assert "'tol'" in response.json()["detail"]
    repeated = client.get(f"/queries/tool-mechanisms?tool={MEDIATION}&tool={MEDIATION}")
    assert repeated.status_code == 400
    assert "'tool'" in repeated.json()["detail"]


def test_unknown_query_is_a_404_listing_the_catalogue(client: TestClient) -> None:
    response = client.get("/queries/no-such-query")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "'no-such-query'" in detail
    for name in NAMES:
        assert name in detail


def test_a_former_name_is_redirected_with_its_parameters(client: TestClient) -> None:
    """headline-factors was renamed: links saved under the old name lead to the same answer."""
    release = "https://w3id.org/atrocity-kg/id/release/v2"
    old = client.get("/queries/headline-factors", params={"release": release, "format": "csv"})
    assert old.status_code == 308
    moved = httpx.URL(old.headers["location"])
    assert moved.path == "/queries/factors-strong-for-several-tools"
    assert dict(moved.params) == {"release": release, "format": "csv"}
    followed = client.get(old.headers["location"], timeout=60)
    new = client.get(
        "/queries/factors-strong-for-several-tools",
        params={"release": release, "format": "csv"},
        timeout=60,
    )
    assert followed.status_code == 200
    assert followed.text == new.text
    text = client.get("/queries/headline-factors.rq", follow_redirects=True)
    assert text.status_code == 200
    assert "# replaces: headline-factors" in text.text
    assert text.url.path == "/queries/factors-strong-for-several-tools.rq"
    listed = [e["name"] for e in client.get("/queries").json()["queries"]]
    assert "headline-factors" not in listed


def test_unknown_or_unacceptable_format(client: TestClient) -> None:
    bad = client.get("/queries/studies-per-release", params={"format": "xml"})
    assert bad.status_code == 400
    unacceptable = client.get("/queries/studies-per-release", headers={"Accept": "image/png"})
    assert unacceptable.status_code == 406
    listing = client.get("/queries", headers={"Accept": "text/csv"})
    assert listing.status_code == 406


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_describes_each_query(client: TestClient, built: Settings) -> None:
    document = client.get("/openapi.json").json()
    catalogue = queries.load_catalogue(built.queries_dir)
    for name in NAMES:
        operation = document["paths"][f"/queries/{name}"]["get"]
        entry = catalogue[name]
        assert operation["summary"] == entry.title
        assert operation["description"] == entry.description
        described = {p["name"]: p for p in operation["parameters"]}
        assert set(described) == {p.name for p in entry.parameters} | {"format"}
        for parameter in entry.parameters:
            assert described[parameter.name]["in"] == "query"
            # A key or a label is accepted too: no "format": "uri".
            assert described[parameter.name]["schema"] == {
                "type": "string",
                "default": parameter.default,
            }
            assert str(parameter.of_class) in described[parameter.name]["description"]
    assert "/queries" in document["paths"]
    assert "/queries/{name}.rq" in document["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.text


def test_openapi_types_each_parameter(echo: TestClient) -> None:
    document = echo.get("/openapi.json").json()
    described = {p["name"]: p for p in document["paths"]["/queries/echo"]["get"]["parameters"]}
    assert described["text"]["schema"] == {"type": "string", "default": "plain"}
    assert described["link"]["schema"] == {
        "type": "string",
        "format": "uri",
        "default": "https://example.org/a",
    }
    assert described["count"]["schema"] == {"type": "integer", "default": 3}
    assert described["share"]["schema"] == {"type": "number", "default": 0.5}
    needs = document["paths"]["/queries/needs-value"]["get"]["parameters"]
    assert [p["required"] for p in needs if p["name"] == "text"] == [True]
