"""The admin write endpoints (issue 7): off by default, behind a token, validated, atomic, safe
for concurrent writers and for a server killed in the middle of a write.

Every write here goes to a copy of the session's store in tmp; the shared one is only read."""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pyoxigraph as ox
import pytest
from pydantic import SecretStr, ValidationError
from rdflib import Graph
from rdflib.compare import isomorphic

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.storage import store
from atrocity_kg.storage.writelock import LOCK_FILE
from conftest import make_home, writable_copy
from server import HANG_GUARD_S, serving

pytestmark = pytest.mark.slow  # real servers writing new builds, killed in the middle of a write

TOKEN = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
UPLOAD_LIMIT = 256 * 1024
EX = "https://example.org/admin-test/"
AKG = "https://w3id.org/atrocity-kg/ontology#"
INFERRED = "https://w3id.org/atrocity-kg/graph/inferred"
SHAPES = "https://w3id.org/atrocity-kg/graph/shapes"
CURATED = "https://w3id.org/atrocity-kg/graph/curated"
WRITE_TIMEOUT = 180.0


def copy_store(built: Settings, folder: Path) -> Settings:
    """A writable copy of the session's store (its builds and the ``current`` link)."""
    return writable_copy(built, folder, admin_token=SecretStr(TOKEN), max_upload_bytes=UPLOAD_LIMIT)


def disk_state(root: Path, graph: str, triple: str) -> tuple[int, bool]:
    """The quad count of the store's current build, read-only from disk, and whether ``triple``
    is in ``graph``."""
    with store.opened(root) as disk:
        answer = disk.query(f"ASK {{ GRAPH <{graph}> {{ {triple} }} }}")
        return len(disk), bool(answer)


def ask(base: str, pattern: str) -> bool:
    response = httpx.get(
        f"{base}/sparql",
        params={"query": f"ASK {{ {pattern} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=HANG_GUARD_S,  # after a write, the query may wait for workers on the new build
    )
    assert response.status_code == 200, response.text
    answer: bool = response.json()["boolean"]
    return answer


def update(base: str, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{base}/admin/sparql", content=text, headers=headers or UPDATE, timeout=WRITE_TIMEOUT
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store of the ontology and curated data only (about 3,500 quads, no releases): every
    write copies the store and writes it again with its dumps, which on the full graph takes
    seconds each; what the tests check does not depend on the releases."""
    settings = make_home(tmp_path_factory.mktemp("small-home"), with_releases=False)
    pipeline.build_store(settings)
    return settings


@pytest.fixture(scope="module")
def admin_settings(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return copy_store(small, tmp_path_factory.mktemp("admin"))


@pytest.fixture(scope="module")
def admin_base(admin_settings: Settings) -> Iterator[str]:
    with serving(admin_settings) as url:
        yield url


def current_build(settings: Settings) -> str:
    return store.current_path(settings.store_root).name


# --- switched off, and the token -----------------------------------------------------------------


def test_the_admin_endpoints_do_not_exist_without_a_token(built: Settings) -> None:
    assert built.admin_token is None
    with serving(built) as base:
        assert (
            update(base, f"INSERT DATA {{ GRAPH <{EX}off> {{ <{EX}a> <{EX}p> 1 }} }}").status_code
            == 404
        )
        put = httpx.put(
            f"{base}/admin/graph-store",
            params={"graph": f"{EX}off"},
            content=f"<{EX}a> <{EX}p> 1 .",
            headers={"Content-Type": "text/turtle", **AUTH},
        )
        assert put.status_code == 404
        assert "/admin/sparql" not in httpx.get(f"{base}/openapi.json").text


def test_a_short_token_is_refused_without_echoing_it() -> None:
    short = "tooshort-but-secret"
    with pytest.raises(ValidationError) as refused:
        # The token as a user writes it, a plain string: validated as raw input.
        Settings.model_validate({"admin_token": short})
    assert "at least 32 characters" in str(refused.value)
    assert short not in str(refused.value)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        f"Bearer {secrets.token_urlsafe(32)}",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN[:-1]}",
        "Bearer",
    ],
    ids=["missing", "wrong", "not-bearer", "one-character-short", "empty"],
)
def test_a_write_without_the_right_token_is_refused(
    admin_base: str, admin_settings: Settings, authorization: str | None
) -> None:
    before = current_build(admin_settings)
    headers = {"Content-Type": "application/sparql-update"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = update(
        admin_base, f"INSERT DATA {{ GRAPH <{EX}auth> {{ <{EX}a> <{EX}p> 1 }} }}", headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text
    assert current_build(admin_settings) == before
    assert not ask(admin_base, f"GRAPH <{EX}auth> {{ ?s ?p ?o }}")


# --- writes that land ----------------------------------------------------------------------------


def test_insert_data_lands_in_a_new_build_and_is_served(
    admin_base: str, admin_settings: Settings
) -> None:
    graph, triple = f"{EX}inserted", f'<{EX}thing> <{EX}label> "inserted by an admin"'
    before = current_build(admin_settings)
    count_before, _ = disk_state(admin_settings.store_root, graph, triple)
    response = update(admin_base, f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}")
    assert response.status_code == 204, response.text
    build = response.headers["atrocity-kg-build"]
    assert build != before
    # A graph nothing is derived from: no derived graph made again, and the header says so.
    assert response.headers["atrocity-kg-recomputed"] == ""
    assert build == current_build(admin_settings)
    assert ask(admin_base, f"GRAPH <{graph}> {{ {triple} }}")
    assert disk_state(admin_settings.store_root, graph, triple) == (count_before + 1, True)
    # The new build comes with its dumps, as a build made by `atrocity-kg build` does.
    assert (admin_settings.store_root / "current" / "dumps").is_dir()


def test_a_write_changes_the_validators_of_what_it_changed_and_of_the_rest(
    admin_base: str,
) -> None:
    """Every answer's ETag names the build (web.caching): a cache that revalidates after a write
    gets the new answer, for a question the write changed and for one it did not."""
    graph = f"{EX}validated"
    asked = {"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"}
    accept = {"Accept": "application/sparql-results+json"}
    before = httpx.get(f"{admin_base}/sparql", params=asked, headers=accept)
    page = httpx.get(f"{admin_base}/", headers={"Accept": "text/html"})
    assert before.json()["boolean"] is False
    tag, page_tag = before.headers["etag"], page.headers["etag"]
    held = httpx.get(f"{admin_base}/sparql", params=asked, headers={**accept, "If-None-Match": tag})
    assert held.status_code == 304
    response = update(admin_base, f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}v> <{EX}p> 1 }} }}")
    assert response.status_code == 204, response.text
    after = httpx.get(
        f"{admin_base}/sparql",
        params=asked,
        headers={**accept, "If-None-Match": tag},
        timeout=HANG_GUARD_S,
    )
    assert after.status_code == 200
    assert after.json()["boolean"] is True
    assert after.headers["etag"] != tag
    home = httpx.get(f"{admin_base}/", headers={"Accept": "text/html", "If-None-Match": page_tag})
    assert home.status_code == 200
    assert home.headers["etag"] != page_tag


def test_an_update_sent_as_a_form_lands(admin_base: str) -> None:
    graph = f"{EX}form"
    response = httpx.post(
        f"{admin_base}/admin/sparql",
        data={"update": f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}f> <{EX}p> 2 }} }}"},
        headers=AUTH,
        timeout=WRITE_TIMEOUT,
    )
    assert response.status_code == 204, response.text
    assert ask(admin_base, f"GRAPH <{graph}> {{ <{EX}f> <{EX}p> 2 }}")


def read_graph(base: str, graph: str) -> httpx.Response:
    return httpx.get(
        f"{base}/graph-store", params={"graph": graph}, headers={"Accept": "text/turtle"}
    )


def put(base: str, graph: str, body: str | bytes, media: str = "text/turtle") -> httpx.Response:
    return httpx.put(
        f"{base}/admin/graph-store",
        params={"graph": graph},
        content=body,
        headers={"Content-Type": media, **AUTH},
        timeout=WRITE_TIMEOUT,
    )


def test_graph_store_put_post_and_delete(admin_base: str) -> None:
    graph = f"{EX}gsp"
    first = f'@prefix ex: <{EX}> .\nex:a ex:p "one" ; ex:q [ ex:r "blank" ] .\n'
    created = put(admin_base, graph, first)
    assert created.status_code == 201, created.text
    served = Graph().parse(data=read_graph(admin_base, graph).text, format="turtle")
    assert isomorphic(served, Graph().parse(data=first, format="turtle"))

    second = f'<{EX}b> <{EX}p> "two" .\n'
    replaced = put(admin_base, graph, second, "application/n-triples")
    assert replaced.status_code == 204, replaced.text
    served = Graph().parse(data=read_graph(admin_base, graph).text, format="turtle")
    assert isomorphic(served, Graph().parse(data=second, format="nt"))

    merged = httpx.post(
        f"{admin_base}/admin/graph-store",
        params={"graph": graph},
        content=f'<{EX}c> <{EX}p> "three" .',
        headers={"Content-Type": "text/turtle", **AUTH},
        timeout=WRITE_TIMEOUT,
    )
    assert merged.status_code == 204, merged.text
    assert len(Graph().parse(data=read_graph(admin_base, graph).text, format="turtle")) == 2

    dropped = httpx.delete(
        f"{admin_base}/admin/graph-store",
        params={"graph": graph},
        headers=AUTH,
        timeout=WRITE_TIMEOUT,
    )
    assert dropped.status_code == 204, dropped.text
    assert read_graph(admin_base, graph).status_code == 404
    again = httpx.delete(
        f"{admin_base}/admin/graph-store",
        params={"graph": graph},
        headers=AUTH,
        timeout=WRITE_TIMEOUT,
    )
    assert again.status_code == 404


# --- writes that are refused, leaving the store as it was -----------------------------------------


def test_a_write_breaking_a_shape_is_refused_with_the_results(
    admin_base: str, admin_settings: Settings
) -> None:
    """A study with two titles and without its index number, release and findings: the shapes
    make each of those a Violation."""
    graph, study = f"{EX}bad-study", f"{EX}study"
    triple = f'<{study}> <http://purl.org/dc/terms/title> "one title"'
    before = current_build(admin_settings)
    count_before, _ = disk_state(admin_settings.store_root, graph, triple)
    text = (
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{study}> a <{AKG}Study> . {triple} . "
        f'<{study}> <http://purl.org/dc/terms/title> "another title" }} }}'
    )
    response = update(admin_base, text)
    assert response.status_code == 422, response.text
    results = response.json()["results"]
    violations = {(r["focus_node"], r["path"]) for r in results if r["severity"] == "Violation"}
    assert (study, f"{AKG}indexNumber") in violations
    assert (study, "http://purl.org/dc/terms/title") in violations
    assert all(r["message"] for r in results)
    assert current_build(admin_settings) == before
    assert disk_state(admin_settings.store_root, graph, triple) == (count_before, False)
    assert not ask(admin_base, f"GRAPH <{graph}> {{ ?s ?p ?o }}")


@pytest.mark.parametrize(
    "text",
    [
        f"DROP GRAPH <{INFERRED}>",
        f"INSERT DATA {{ GRAPH <{INFERRED}> {{ <{EX}a> <{EX}p> 1 }} }}",
        "CLEAR ALL",
        f"DELETE WHERE {{ GRAPH <{SHAPES}> {{ ?s ?p ?o }} }}",
    ],
    ids=["drop-inferred", "insert-inferred", "clear-all", "empty-shapes"],
)
def test_an_update_touching_what_the_build_makes_is_refused(
    admin_base: str, admin_settings: Settings, text: str
) -> None:
    before = current_build(admin_settings)
    response = update(admin_base, text)
    assert response.status_code == 409, response.text
    assert "atrocity-kg build" in response.text
    assert current_build(admin_settings) == before
    assert ask(admin_base, f"GRAPH <{INFERRED}> {{ ?s ?p ?o }}")


def test_a_triple_stated_in_another_graph_is_refused(
    admin_base: str, admin_settings: Settings
) -> None:
    """Over the default graph (the union) the triple would be counted twice."""
    with store.opened(admin_settings.store_root) as disk:
        quads = disk.quads_for_pattern(None, None, None, ox.NamedNode(CURATED))
        named = (q for q in quads if not isinstance(q.subject, ox.BlankNode))
        curated = next((q for q in named if not isinstance(q.object, ox.BlankNode)), None)
    assert curated is not None
    graph, before = f"{EX}restated", current_build(admin_settings)
    triple = f"{curated.subject} {curated.predicate} {curated.object}"
    response = update(admin_base, f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}")
    assert response.status_code == 409, response.text
    assert f"<{graph}> and <{CURATED}>" in response.text
    assert current_build(admin_settings) == before
    assert not ask(admin_base, f"GRAPH <{graph}> {{ ?s ?p ?o }}")


def test_an_update_that_fails_to_run_is_the_clients_error(
    admin_base: str, admin_settings: Settings
) -> None:
    """DROP of a graph that is not there fails in the store: a 400 saying so, not a 500."""
    before = current_build(admin_settings)
    response = update(admin_base, f"DROP GRAPH <{EX}never-written>")
    assert response.status_code == 400, response.text
    assert "does not exist" in response.text
    assert current_build(admin_settings) == before


def test_a_graph_store_write_to_a_derived_graph_is_refused(admin_base: str) -> None:
    response = put(admin_base, INFERRED, f"<{EX}a> <{EX}p> 1 .")
    assert response.status_code == 409
    assert "recomputed by `atrocity-kg build`" in response.text


def test_the_default_graph_cannot_be_written(admin_base: str, admin_settings: Settings) -> None:
    before = current_build(admin_settings)
    response = update(admin_base, f"INSERT DATA {{ <{EX}a> <{EX}p> 1 }}")
    assert response.status_code == 400
    assert "default graph" in response.text
    gsp = httpx.put(
        f"{admin_base}/admin/graph-store?default",
        content=f"<{EX}a> <{EX}p> 1 .",
        headers={"Content-Type": "text/turtle", **AUTH},
    )
    assert gsp.status_code == 400
    assert "default graph" in gsp.text
    assert current_build(admin_settings) == before


class _Recorder(BaseHTTPRequestHandler):
    """Counts every request it gets: the server must never send one."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle")
        self.end_headers()
        self.wfile.write(b"<http://example.org/x> <http://example.org/y> 1 .")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "template",
    [
        "LOAD <{url}/data.ttl> INTO GRAPH <{ex}loaded>",
        "load silent <{url}/data.ttl>",
        "INSERT {{ GRAPH <{ex}fed> {{ ?s ?p ?o }} }} "
        "WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        "# a comment\nPREFIX ex: <{ex}>\nLoad <{url}/x.ttl> INTO GRAPH ex:g",
    ],
    ids=["load", "load-silent-lower-case", "service", "after-prologue"],
)
def test_load_and_service_are_refused_and_nothing_is_fetched(
    admin_base: str, recorder: str, template: str
) -> None:
    response = update(admin_base, template.format(url=recorder, ex=EX))
    assert response.status_code == 400
    assert "does not fetch" in response.text
    assert _Recorder.hits == []


def test_load_inside_a_string_or_an_iri_is_data_not_a_command(admin_base: str) -> None:
    graph = f"{EX}words"
    text = (
        f'INSERT DATA {{ GRAPH <{graph}> {{ <{EX}LOAD> <{EX}p> "LOAD <http://x> and SERVICE" }} }}'
    )
    response = update(admin_base, text)
    assert response.status_code == 204, response.text
    assert ask(admin_base, f"GRAPH <{graph}> {{ <{EX}LOAD> ?p ?o }}")


def test_an_oversized_body_is_refused_while_it_streams(
    admin_base: str, admin_settings: Settings
) -> None:
    before = current_build(admin_settings)
    line = f'<{EX}big> <{EX}p> "{"x" * 1000}" .\n'
    body = line * (UPLOAD_LIMIT // len(line) + 10)
    assert put(admin_base, f"{EX}big", body).status_code == 413

    def chunks() -> Iterator[bytes]:
        """No Content-Length: the limit must hold while reading."""
        for _ in range(UPLOAD_LIMIT // 1024 + 10):
            yield b"# " + b"x" * 1021 + b"\n"

    streamed = httpx.post(
        f"{admin_base}/admin/sparql", content=chunks(), headers=UPDATE, timeout=WRITE_TIMEOUT
    )
    assert streamed.status_code == 413
    assert current_build(admin_settings) == before


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:ex="https://example.org/admin-test/">
  <rdf:Description rdf:about="https://example.org/admin-test/laugh">
    <ex:says>&lol9;</ex:says>
  </rdf:Description>
</rdf:RDF>
"""


def test_a_billion_laughs_body_is_refused(admin_base: str, admin_settings: Settings) -> None:
    before = current_build(admin_settings)
    response = put(admin_base, f"{EX}laughs", BILLION_LAUGHS, "application/rdf+xml")
    assert response.status_code == 400
    assert "entity" in response.text
    assert current_build(admin_settings) == before


def test_bad_bodies_are_refused_with_a_reason(admin_base: str) -> None:
    malformed = put(admin_base, f"{EX}malformed", f"<{EX}a> <{EX}p> .\n")
    assert malformed.status_code == 400
    assert f"<{EX}malformed>" in malformed.text
    assert "Traceback" not in malformed.text
    assert put(admin_base, f"{EX}csv", "a,b\n1,2\n", "text/csv").status_code == 415
    named = put(
        admin_base, f"{EX}quads", f"<{EX}a> <{EX}p> <{EX}o> <{EX}other> .\n", "application/n-quads"
    )
    assert named.status_code == 400
    assert "named graph" in named.text
    assert update(admin_base, "INSERT DATA { GRAPH <x> { oops } }").status_code == 400


# --- concurrency ---------------------------------------------------------------------------------


def test_two_concurrent_writers_both_land(admin_base: str, admin_settings: Settings) -> None:
    """Both insert into the same graph at the same moment: without the write lock, each would
    commit its own copy of the old store and one insert would be lost."""
    graph = f"{EX}concurrent"
    triples = [f"<{EX}writer-{n}> <{EX}wrote> {n}" for n in (1, 2)]
    count_before, _ = disk_state(admin_settings.store_root, graph, triples[0])
    start = threading.Barrier(len(triples))
    answers: dict[str, httpx.Response] = {}

    def write(triple: str) -> None:
        start.wait()
        answers[triple] = update(admin_base, f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}")

    threads = [threading.Thread(target=write, args=(t,)) for t in triples]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WRITE_TIMEOUT)
    assert [answers[t].status_code for t in triples] == [204, 204]
    assert len({answers[t].headers["atrocity-kg-build"] for t in triples}) == 2
    for triple in triples:
        assert ask(admin_base, f"GRAPH <{graph}> {{ {triple} }}")
        assert disk_state(admin_settings.store_root, graph, triple) == (count_before + 2, True)


# --- a server killed during a write ---------------------------------------------------------------

CLI = [sys.executable, "-m", "atrocity_kg.cli"]
DRIVER = [sys.executable, str(Path(__file__).parents[1] / "crash_driver.py")]
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class ServerProcess:
    """`atrocity-kg serve` in its own process and session (a kill reaches its query workers too),
    configured through the environment. It binds port 0, and the port it got is read from its
    log, where uvicorn names it: no other process can take the port first.

    With ``held``, it runs through tests/crash_driver.py, which holds it at each step of a
    write's commit (the dumps, each rename into the store) until the test lets it go on
    (``wait_for``), so that a kill lands at a step the test has seen, never after a delay."""

    def __init__(self, settings: Settings, logs: Path, *, held: bool = False) -> None:
        self.logs = logs
        self.holds: queue.Queue[str | None] = queue.Queue()
        environment = {
            **os.environ,
            "ATROCITY_KG_HOME": str(settings.home),
            "ATROCITY_KG_STORE_DIR": str(settings.store_root),
            "ATROCITY_KG_ADMIN_TOKEN": TOKEN,
            "ATROCITY_KG_PORT": "0",
            "ATROCITY_KG_QUERY_WORKERS": "1",
            "ATROCITY_KG_ACCESS_LOG": "false",
            "CRASH_WATCH": str(settings.store_root),
        }
        self.process = subprocess.Popen(
            [*(DRIVER if held else CLI), "serve"],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        ports: queue.Queue[int | None] = queue.Queue()
        threading.Thread(target=self._read_log, args=(ports,), daemon=True).start()
        threading.Thread(target=self._read_holds, daemon=True).start()
        try:
            port = ports.get(timeout=HANG_GUARD_S)
        except queue.Empty:
            port = None
        if port is None:
            self.kill()
            pytest.fail(f"the server did not start: see {logs}")
        self.base = f"http://127.0.0.1:{port}"

    def _read_log(self, ports: queue.Queue[int | None]) -> None:
        """Copy the server's log to ``logs``; hand over the port once uvicorn names it."""
        assert self.process.stderr is not None
        with self.logs.open("ab") as log:
            for line in self.process.stderr:
                log.write(line)
                log.flush()
                if found := LISTENING.search(line.decode(errors="replace")):
                    ports.put(int(found[1]))
        ports.put(None)  # ended: the port comes first if it came at all

    def _read_holds(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            text = line.decode(errors="replace").strip()
            if text.startswith("HOLD "):
                self.holds.put(text)
        self.holds.put(None)

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        """Let the holds go on until one that ``wanted`` accepts, where the server stays held."""
        assert self.process.stdin is not None
        while True:
            try:
                item = self.holds.get(timeout=HANG_GUARD_S)
            except queue.Empty:
                item = None
            if item is None:
                pytest.fail(f"the server never reached the kill point: see {self.logs}")
            if wanted(item):
                return item
            self.process.stdin.write(b"\n")
            self.process.stdin.flush()

    def kill(self) -> None:
        """SIGKILL to the server and to any process it started (query workers)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=HANG_GUARD_S)
        assert self.process.stdin is not None
        self.process.stdin.close()


def write(base: str, graph: str, triple: str) -> httpx.Response | None:
    """Send one insert; its answer, or None if the connection died first."""
    try:
        return update(base, f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}")
    except httpx.TransportError:
        return None


def renaming(moment: str, verb: str, chosen: Callable[[Path, Path], bool]) -> Callable[[str], bool]:
    """The hold ``<moment> <verb> <source> <destination>`` whose paths ``chosen`` accepts."""

    def wanted(item: str) -> bool:
        parts = item.split()
        return parts[1:3] == [moment, verb] and chosen(Path(parts[3]), Path(parts[4]))

    return wanted


KILL_POINTS = [
    pytest.param(
        lambda item: item.startswith("HOLD dumps "), False, id="while the dumps are written"
    ),
    pytest.param(
        renaming("before", "rename", lambda source, _: source.name.startswith(store.PARTIAL)),
        False,
        id="before the new build is renamed into place",
    ),
    pytest.param(
        renaming("before", "replace", lambda _, target: target.name == store.CURRENT),
        False,
        id="before current points to the new build",
    ),
    pytest.param(
        renaming("after", "replace", lambda _, target: target.name == store.CURRENT),
        True,
        id="after current points to the new build, before the answer",
    ),
]


@pytest.mark.parametrize(("kill_point", "committed"), KILL_POINTS)
def test_a_server_killed_during_a_write_leaves_the_old_store_or_the_new(
    small: Settings, tmp_path: Path, kill_point: Callable[[str], bool], committed: bool
) -> None:
    settings = copy_store(small, tmp_path)
    root, graph, logs = settings.store_root, f"{EX}killed", tmp_path / "serve.log"
    triple = f"<{EX}killed-write> <{EX}n> 1"
    before, _ = disk_state(root, graph, triple)

    server = ServerProcess(settings, logs, held=True)
    answers: list[httpx.Response | None] = []
    writer = threading.Thread(target=lambda: answers.append(write(server.base, graph, triple)))
    writer.start()
    try:
        server.wait_for(kill_point)
    finally:
        server.kill()
    writer.join(timeout=WRITE_TIMEOUT)
    assert answers == [None], "the write was answered, although the server was held in it"
    expected = (before + 1, True) if committed else (before, False)
    assert disk_state(root, graph, triple) == expected
    assert store.current_path(root).is_dir()

    # The lock died with the killed server: a new one writes (a lock still held would make it
    # wait until the hang guard).
    assert (root / LOCK_FILE).exists()
    server = ServerProcess(settings, logs)
    try:
        response = write(server.base, graph, f"<{EX}after> <{EX}n> 9")
        assert response is not None
        assert response.status_code == 204, response.text
    finally:
        server.kill()
    assert disk_state(root, graph, f"<{EX}after> <{EX}n> 9") == (expected[0] + 1, True)
