"""One factor, one IRI; one label, one factor (issue 13), on the real releases (skipped without
../shared): the ratings files' rows that name a factor of the code book by its name alone get
the code book's IRI, the IRI such a row was published under before keeps resolving to it, and no
two factors share a preferred label. Expected pairs are read from the CSV files here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from atrocity_kg.config import Settings
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.storage import store
from release_csv import RELEASE_FOLDERS

pytestmark = pytest.mark.shared


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _missing(value: str | None) -> bool:
    return value is None or value.strip() in {"", "NA"}


@pytest.fixture(scope="module")
def renamed(shared_release: Path) -> dict[str, str]:
    """Old IRI -> IRI that stays: each ratings row with a name and no code whose name is the name
    of exactly one factor of the same release's code book."""
    pairs: dict[str, str] = {}
    for code, folder in RELEASE_FOLDERS.items():
        number = code[1]
        guide = _read(shared_release / "auxiliary" / folder / f"analytic_guide_{number}.csv")
        codes_by_name: dict[str, set[str]] = {}
        for row in guide:
            if (row["Type"] or "").lower() == "factor" and not _missing(row["Dedoose name"]):
                name = " ".join(row["Name"].split()).casefold()
                codes_by_name.setdefault(name, set()).add(row["Dedoose name"].strip())
        ratings = _read(shared_release / "data" / folder / f"all_factors_{number}.csv")
        for row in ratings:
            if not _missing(row["Dedoose.name_factor"]) or _missing(row["Name"]):
                continue
            found = codes_by_name.get(" ".join(row["Name"].split()).casefold(), set())
            if len(found) == 1 and iris.factor(coded := next(iter(found))) != iris.factor(
                row["Name"]
            ):
                pairs[str(iris.factor(row["Name"]))] = str(iris.factor(coded))
    assert pairs, "the release files name no code-book factor by its name alone any more"
    return pairs


@pytest.fixture(scope="module")
def client(embedded_client: TestClient) -> TestClient:
    """The session's in-process app on the embedded store."""
    return embedded_client


def _select(settings: Settings, query: str) -> list[tuple[str, ...]]:
    with store.opened(settings.store_root) as opened:
        answer = store.run_query(opened, sparql_prologue() + query)
        assert isinstance(answer, ox.QuerySolutions)
        names = [v.value for v in answer.variables]
        return [tuple(s[n].value for n in names if s[n] is not None) for s in answer]


def test_a_code_book_factor_named_by_its_name_alone_has_the_code_book_iri(
    built: Settings, renamed: dict[str, str]
) -> None:
    typed = {row[0] for row in _select(built, "SELECT ?f WHERE { ?f a akg:SuccessFactor }")}
    for old, kept in renamed.items():
        assert kept in typed, kept
        assert old not in typed, f"{old} is still a factor of its own"


def test_an_old_factor_iri_keeps_resolving_to_the_one_that_stays(
    client: TestClient, renamed: dict[str, str]
) -> None:
    for old, kept in renamed.items():
        path = old.removeprefix("https://w3id.org/atrocity-kg")
        response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 301, (old, response.text)
        assert response.headers["location"] == kept.removeprefix("https://w3id.org/atrocity-kg")
        data = client.get(path.replace("/id/", "/data/", 1) + ".nt", follow_redirects=True)
        assert f"<{old}> <http://purl.org/dc/terms/isReplacedBy> <{kept}> ." in data.text
        page = client.get(path.replace("/id/", "/page/", 1), follow_redirects=True)
        assert 'id="replaced-by"' in page.text
        assert f'href="{kept.removeprefix("https://w3id.org/atrocity-kg")}"' in page.text


def test_no_iri_is_replaced_by_itself(built: Settings) -> None:
    """A name that makes the code's own IRI replaces nothing (a redirect to itself would loop)."""
    assert _select(built, "SELECT ?x WHERE { ?x dct:isReplacedBy ?x }") == []


def test_no_two_factors_share_a_label_and_each_has_one(built: Settings) -> None:
    rows = _select(
        built,
        "SELECT ?f ?label WHERE { ?f a akg:SuccessFactor . OPTIONAL { ?f skos:prefLabel ?label } }",
    )
    factors = [row[0] for row in rows]
    assert len(factors) == len(set(factors)), "a factor with two labels"
    assert all(len(row) == 2 for row in rows), "a factor with no label"
    labels = [row[1].casefold() for row in rows]
    assert len(labels) == len(set(labels)), "two factors with one label"


def test_a_name_the_review_gives_several_factors_says_which(
    built: Settings, shared_release: Path
) -> None:
    guide = _read(shared_release / "auxiliary" / "V3 - 2025_April" / "analytic_guide_3.csv")
    sharing: dict[str, list[dict[str, str]]] = {}
    for row in guide:
        if (row["Type"] or "").lower() == "factor" and not _missing(row["Inverse factor"]):
            sharing.setdefault(row["Inverse factor"].strip(), []).append(row)
    shared = {name: rows for name, rows in sharing.items() if len(rows) > 1}
    assert shared, "the code book no longer gives one opposite name to several factors"
    for name, rows in shared.items():
        for row in rows:
            opposite = iris.opposite_factor(row["Dedoose name"])
            found = _select(
                built,
                f"SELECT ?label ?alt WHERE {{ <{opposite}> skos:prefLabel "
                f"?label . OPTIONAL {{ <{opposite}> skos:altLabel ?alt }} }}",
            )
            assert len(found) == 1, found
            label = found[0][0]
            assert label.startswith(name.rstrip("."))
            assert f"(opposite of {row['Name']})" in label
            assert found[0][1:] == (name,), "the review's own wording is the alternative label"
