"""The living review over HTTP, in process on a copy of the session's store: a preview writes
nothing, a contribution is kept and served, a withdrawal takes it back, bad records are a 422
naming file, row and column, and only the admin token writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from atrocity_kg.config import Settings
from atrocity_kg.graph import draft
from atrocity_kg.model import iris
from atrocity_kg.storage import store
from conftest import in_process, writable_copy
from contribution_csv import NEW_STUDY, write_contribution

TOKEN = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAMED = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def settings(
    built: Settings, shared_release: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    root = tmp_path_factory.mktemp("contributions-api")
    return writable_copy(
        built,
        root,
        contributions_dir=root / "contributions",
        admin_token=SecretStr(TOKEN),
        admin_tokens={"ada": SecretStr(NAMED)},
    )


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with in_process(settings) as client:
        yield client


def post(api: TestClient, path: Path, query: str = "") -> httpx.Response:
    with path.open("rb") as handle:
        answer: httpx.Response = api.post(
            f"/admin/contributions{query}",
            files={"records": (path.name, handle, "text/csv")},
            data={"note": "over HTTP", "curator": "Web Curator"},
            headers=AUTH,
        )
    return answer


def test_writes_need_the_token(api: TestClient, shared_release: Path, tmp_path: Path) -> None:
    path = write_contribution(shared_release, tmp_path / "new.csv")
    with path.open("rb") as handle:
        answer = api.post("/admin/contributions", files={"records": (path.name, handle)})
    assert answer.status_code == 401
    assert api.delete("/admin/contributions/x").status_code == 401


def test_preview_contribute_and_withdraw(
    api: TestClient, settings: Settings, shared_release: Path, tmp_path: Path
) -> None:
    path = write_contribution(shared_release, tmp_path / "new.csv")
    current = store.current_path(settings.store_root)
    previewed = post(api, path, "?preview=true")
    assert previewed.status_code == 200, previewed.text
    document = previewed.json()
    assert document["written"] is False
    assert len(document["changes"]) == 1
    assert document["contribution"]["curator"] == "Web Curator"
    assert store.current_path(settings.store_root) == current
    assert api.get("/contributions").json() == {"contributions": []}

    kept = post(api, path)
    assert kept.status_code == 201, kept.text
    made = kept.json()
    assert made["written"] is True
    assert made["changes"] == document["changes"]
    identifier = made["contribution"]["id"]
    listed = api.get("/contributions").json()["contributions"]
    assert [entry["id"] for entry in listed] == [identifier]
    assert api.get(f"/contributions/{identifier}").json()["note"] == "over HTTP"
    page = api.get("/contributions", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert f'id="{identifier}"' in page.text
    assert "Web Curator" in page.text
    # The contributed study's page says it is a contribution, not the review's.
    study = api.get(f"/page/study/{iris.key(str(iris.study(NEW_STUDY)))}")
    assert study.status_code == 200, study.text
    assert "not a USHMM release" in study.text
    assert identifier in study.text
    # The server reads the new build: the contribution's graph is there.
    graph = draft.contribution_graph_name(identifier)
    asked = api.get("/sparql", params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    assert asked.status_code == 200
    assert asked.json()["boolean"] is True

    gone = api.delete(f"/admin/contributions/{identifier}", headers=AUTH)
    assert gone.status_code == 204, gone.text
    assert api.get("/contributions").json() == {"contributions": []}
    assert api.get(f"/contributions/{identifier}").status_code == 404
    asked = api.get("/sparql", params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
    assert asked.json()["boolean"] is False
    assert api.delete(f"/admin/contributions/{identifier}", headers=AUTH).status_code == 404


def test_a_named_token_is_the_curator(
    api: TestClient, shared_release: Path, tmp_path: Path
) -> None:
    path = write_contribution(shared_release, tmp_path / "new.csv")
    with path.open("rb") as handle:
        answer = api.post(
            "/admin/contributions?preview=true",
            files={"records": (path.name, handle, "text/csv")},
            headers={"Authorization": f"Bearer {NAMED}"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["contribution"]["curator"] == "ada"


def test_bad_records_are_a_422_naming_the_place(
    api: TestClient, settings: Settings, shared_release: Path, tmp_path: Path
) -> None:
    path = write_contribution(shared_release, tmp_path / "bad.csv", Outcome="Genocide (sic)")
    current = store.current_path(settings.store_root)
    answer = post(api, path)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert (body["file"], body["row"], body["column"]) == ("bad.csv", 1, "Outcome")
    assert store.current_path(settings.store_root) == current
    assert api.get("/contributions").json() == {"contributions": []}
