"""/sparql and prefixes, over real HTTP on the embedded store and a remote one: the project's
prefixes are declared for a query that uses them without declaring them (as the CLI does); a
query that declares them itself keeps its own; any other undeclared prefix is a 400 naming it
and the line to add, at the line of the client's own text."""

from __future__ import annotations

import httpx
import pyoxigraph as ox

from atrocity_kg.config import Settings
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.storage import store

SPARQL_JSON = "application/sparql-results+json"
STUDIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {\n  ?s a akg:Study ; dct:issued ?year .\n}"


def ask(base: str, query: str) -> httpx.Response:
    return httpx.post(f"{base}/sparql", data={"query": query}, headers={"Accept": SPARQL_JSON})


def count(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_the_projects_prefixes_are_declared_for_the_user(built: Settings, base: str) -> None:
    with store.opened(built.store_root) as opened:
        answer = store.run_query(opened, sparql_prologue() + STUDIES)
        assert isinstance(answer, ox.QuerySolutions)
        expected = int(next(iter(answer))["n"].value)
    assert expected > 0
    assert count(ask(base, STUDIES)) == expected
    assert count(ask(base, sparql_prologue() + STUDIES)) == expected


def test_a_query_declaring_a_project_prefix_keeps_its_own(base: str) -> None:
    own = "PREFIX akg: <https://example.org/not-ours#>\n" + STUDIES.replace("dct:", "akg:")
    assert count(ask(base, own)) == 0


def test_an_undeclared_prefix_names_itself_and_the_line_to_add(base: str) -> None:
    query = "SELECT * WHERE {\n  ?s a akg:Study ;\n     foaf:name ?name .\n}"
    response = ask(base, query)
    assert response.status_code == 400
    message = response.text
    assert "the prefix 'foaf:' is used but not declared" in message
    assert "PREFIX foaf: <its namespace IRI>" in message
    assert "at 3:" in message  # the client's own line, though akg: was declared before it
    assert "\\u{" not in message  # not the parser's list of Unicode ranges


def test_a_syntax_error_keeps_the_clients_line_numbers(base: str) -> None:
    response = ask(base, "SELECT * WHERE {\n  ?s a akg:Study\n  FILTER(\n}")
    assert response.status_code == 400
    assert "at 4:" in response.text
