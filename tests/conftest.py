"""Shared fixtures: the repository, the USHMM files beside it, homes and stores in tmp."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

import scaled
import session_build
from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.storage import push, store
from atrocity_kg.web import create_app
from server import HANG_GUARD_S

REPO = Path(__file__).resolve().parents[1]
SHARED_RELEASE = REPO.parent / "shared" / "ushmm-data"
SHARED_FACTS = REPO.parent / "shared" / "domain" / "facts.yaml"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_release() -> Path:
    """The USHMM release files; absent on a user's clone, always present in CI."""
    if not (SHARED_RELEASE / "data").is_dir():
        pytest.skip(
            f"the USHMM release files are not at {SHARED_RELEASE} (they are never "
            "committed; CI places them there)"
        )
    return SHARED_RELEASE


@pytest.fixture(scope="session")
def shared_facts() -> Path:
    if not SHARED_FACTS.is_file():
        pytest.skip(f"the review's facts file is not at {SHARED_FACTS}")
    return SHARED_FACTS


def _patient_http_clients() -> None:
    """httpx gives up on an answer after 5 s unless told otherwise, and on CI's two loaded cores
    an answer may take longer with nothing wrong: every request a test makes without a timeout
    of its own waits up to HANG_GUARD_S instead, a guard against a hang only. (The code under
    test always names its own timeouts, so its behaviour is not changed by this.)"""
    patient = httpx.Timeout(HANG_GUARD_S)
    for function in (
        httpx.request,
        httpx.stream,
        httpx.get,
        httpx.options,
        httpx.head,
        httpx.post,
        httpx.put,
        httpx.patch,
        httpx.delete,
        httpx.Client.__init__,
        httpx.AsyncClient.__init__,
    ):
        defaults = inspect.unwrap(function).__kwdefaults__ or {}
        assert "timeout" in defaults, f"httpx changed: {function} has no timeout default"
        defaults["timeout"] = patient


_patient_http_clients()


CACHE_DIR = "ATROCITY_KG_CACHE_DIR"


@pytest.fixture(scope="session", autouse=True)
def shared_build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One build cache for every home the tests make, in this process and the commands it
    runs, shared by the xdist workers of one run: most tests build the repository's own data,
    and its validation reports and HermiT's answer need computing once, not once per home.
    Entries are named by the digest of their input and written atomically (config.cache_root),
    so a test that changes the data still validates and reasons about its change. A test about
    the cache itself, or about a stage the cache skips (the crash tests' kill in the reasoner),
    gives its home a cache of its own (``cache_dir``)."""
    base = tmp_path_factory.getbasetemp()
    # Each xdist worker's base is popen-gwN under the run's own folder, which they share.
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "build-cache"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR, str(folder))
        yield folder


# The tests send many requests from one address: no rate limit, except where a test sets one;
# one query worker per server (each loads the store at start-up), except where a test needs two;
# a query waits for a worker (one loading a new build after a write, say) as long as it takes:
# on a loaded machine that is no failure, only a hang is.
TEST_LIMITS: dict[str, Any] = {
    "rate_limit_per_minute": 0,
    "query_workers": 1,
    "max_queue_wait": HANG_GUARD_S,
    # On disk: a copy into memory (the default for a graph this small) would cost each test's
    # app about a second. tests/web/test_shared_store.py tests the choice; the servers that
    # tests/web/test_admin.py starts as `atrocity-kg serve`, written to and killed, run with the
    # default.
    "store_in_memory": False,
}


def make_home(root: Path, *, with_releases: bool) -> Settings:
    """A project home in tmp: the repository's ontology, curated data and queries, copied."""
    for folder in ("ontology", "data/curated", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "data" / "ushmm").mkdir(parents=True, exist_ok=True)
    if with_releases:
        for path in (REPO / "data" / "ushmm").glob("*.ttl"):
            shutil.copy(path, root / "data" / "ushmm" / path.name)
    return Settings(home=root, store_dir=root / "var" / "store", **TEST_LIMITS)


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch) -> Callable[[Settings], None]:
    """Point the command line (which reads its settings from the environment) at a home and a
    store, for this test only."""

    def apply(settings: Settings) -> None:
        monkeypatch.setenv("ATROCITY_KG_HOME", str(settings.home))
        monkeypatch.setenv("ATROCITY_KG_STORE_DIR", str(settings.store_root))

    return apply


@pytest.fixture
def empty_home(tmp_path: Path) -> Settings:
    return make_home(tmp_path / "home", with_releases=False)


STORE_MODES = (
    "embedded",
    pytest.param("remote", marks=pytest.mark.slow),
    pytest.param("virtuoso", marks=pytest.mark.slow),
)
"""The remote modes are `slow`: `make test-fast` asks the embedded store only (no Oxigraph or
Virtuoso server, every API test once), `make test` all three (Virtuoso's where installed, for
every API test but those of VIRTUOSO_LEFT_OUT)."""

REAL_THINGS = frozenset(
    {
        "base",
        "embedded_base",
        "remote_base",
        "browser",
        "remote_endpoint",
        "remote_client",
        "virtuoso_endpoint",
        "virtuoso_client",
        "virtuoso_base",
    }
)
"""Fixtures that start a real server, Oxigraph or a browser: a test asking for one is `slow`."""


VIRTUOSO_TESTS = "ATROCITY_KG_TEST_VIRTUOSO"
"""Set to ``all``, the API tests of VIRTUOSO_LEFT_OUT run in the `virtuoso` mode too (about 45 s
more of one worker's time)."""

VIRTUOSO_LEFT_OUT = (
    # An answer held back by a slow reader, and a reader leaving mid-answer: both ask for an
    # answer of 474 cubed rows, which Virtuoso builds whole (up to its cap of a million rows)
    # before it sends the first, 20 s each. What they test is the app's own streaming, the
    # same whatever the remote store; the embedded and Oxigraph modes run them.
    "tests/web/test_protocol_clients.py::test_a_slow_reader_holds_the_answer_back_and_leaving_lets_it_go[",
    "tests/web/test_protocol_clients.py::test_a_reader_leaving_is_no_failure_and_leaves_no_results_behind[",
)
"""The API tests that `make test` (and CI) leave out of the `virtuoso` mode, and why; every
other API test runs on the embedded store, on the Oxigraph server and on Virtuoso."""


def _deselect_virtuoso(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the `virtuoso` mode of the API tests of VIRTUOSO_LEFT_OUT, unless
    VIRTUOSO_TESTS says ``all``."""
    if os.environ.get(VIRTUOSO_TESTS) == "all":
        return
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        virtuoso = callspec is not None and callspec.params.get("store_mode") == "virtuoso"
        if virtuoso and item.nodeid.startswith(VIRTUOSO_LEFT_OUT):
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` what needs a real server, a remote store or a browser (see REAL_THINGS);
    modules and tests slow for other reasons (real kills, rebuilds, reimports, the reasoner,
    property-based attacks) say so themselves. The `virtuoso` mode leaves out the few tests of
    VIRTUOSO_LEFT_OUT."""
    _deselect_virtuoso(config, items)
    for item in items:
        if REAL_THINGS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # A test's id names one test: pytest-xdist sends tests to its workers by id, and runs one
    # of several that share an id, silently.
    ids = Counter(item.nodeid for item in items)
    shared = sorted(nodeid for nodeid, count in ids.items() if count > 1)
    if shared:
        raise pytest.UsageError("several tests share each of these ids: " + ", ".join(shared))


@pytest.fixture(scope="session")
def remote_endpoint(built: Settings) -> Iterator[str]:
    """A real Oxigraph server holding what the build wrote (pushed by `atrocity-kg push`), its
    default graph left alone: the app asks for the union through the protocol."""
    from server import oxigraph_server

    with oxigraph_server(union_default_graph=False) as url:
        endpoint = f"{url}/query"
        push.push_store(built.store_root, push.Target(endpoint))
        yield endpoint


@pytest.fixture(scope="session")
def virtuoso_endpoint(built: Settings) -> Iterator[str]:
    """A real Virtuoso (Debian's virtuoso-opensource) holding what the build wrote, pushed by
    Graph Store Protocol with digest authentication; skips where Virtuoso is not installed."""
    from server import VIRTUOSO, VIRTUOSO_USER, virtuoso_server

    if VIRTUOSO is None:
        missing = "Virtuoso is not installed (apt-get install virtuoso-opensource)"
        if os.environ.get("REQUIRE_VIRTUOSO"):  # CI, which installs it (.ci/run)
            pytest.fail(missing)
        pytest.skip(missing)
    with virtuoso_server() as url:
        endpoint = f"{url}/sparql"
        target = push.Target(
            endpoint,
            graph_store=f"{url}/sparql-graph-crud-auth",
            auth=httpx.DigestAuth(*VIRTUOSO_USER),
        )
        push.push_store(built.store_root, target)
        yield endpoint


@pytest.fixture(scope="session", params=STORE_MODES)
def store_mode(request: pytest.FixtureRequest) -> str:
    """Each API test runs twice: on the embedded store, and on a remote one (issue 6). Session
    scoped, so that pytest runs every module's embedded tests, then every module's remote ones,
    each against one app for the whole session."""
    mode: str = request.param
    return mode


IN_PROCESS = "http://testserver"
"""The base URL of the in-process client's requests (``client``), as the app sees it."""


@contextmanager
def in_process(settings: Settings) -> Iterator[TestClient]:
    """The app made from ``settings``, called in this process through its ASGI interface, its
    lifespan run (the store opened, the query workers started) for as long as the client is
    open. The client answers as httpx does over HTTP: redirects are not followed, and a server
    error is a 500 answer (the app's own error handler), not an exception in the test."""
    app = create_app(settings)
    with TestClient(
        app, base_url=IN_PROCESS, raise_server_exceptions=False, follow_redirects=False
    ) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def embedded_client(built: Settings) -> Iterator[TestClient]:
    """The app on the session's embedded store, in this process, for tests of the embedded
    store only; also ``client`` in embedded mode."""
    with in_process(built) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def remote_client(built: Settings, remote_endpoint: str) -> Iterator[TestClient]:
    """The app on the remote store (``remote_endpoint``), in this process."""
    with in_process(built.model_copy(update={"sparql_endpoint": remote_endpoint})) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def virtuoso_client(built: Settings, virtuoso_endpoint: str) -> Iterator[TestClient]:
    """The app on Virtuoso (``virtuoso_endpoint``), in this process."""
    with in_process(built.model_copy(update={"sparql_endpoint": virtuoso_endpoint})) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def client(store_mode: str, request: pytest.FixtureRequest) -> TestClient:
    """The app in this process, one per store mode for the whole session: for what HTTP itself
    does not change (status, headers, negotiation, pages, errors). These tests only read, so
    one app serves every module."""
    test_client: TestClient = request.getfixturevalue(f"{store_mode}_client")
    return test_client


@pytest.fixture(scope="session")
def embedded_base(built: Settings) -> Iterator[str]:
    """The app on the session's embedded store over real HTTP on loopback (uvicorn), one
    server for the whole session; also ``base`` in embedded mode."""
    from server import serving

    with serving(built) as url:
        yield url


@pytest.fixture(scope="session")
def remote_base(built: Settings, remote_endpoint: str) -> Iterator[str]:
    """The app on the remote store (``remote_endpoint``) over real HTTP on loopback."""
    from server import serving

    with serving(built.model_copy(update={"sparql_endpoint": remote_endpoint})) as url:
        yield url


@pytest.fixture(scope="session")
def virtuoso_base(built: Settings, virtuoso_endpoint: str) -> Iterator[str]:
    """The app on Virtuoso (``virtuoso_endpoint``) over real HTTP on loopback."""
    from server import serving

    with serving(built.model_copy(update={"sparql_endpoint": virtuoso_endpoint})) as url:
        yield url


@pytest.fixture(scope="session")
def base(store_mode: str, request: pytest.FixtureRequest) -> str:
    """The app over real HTTP on loopback (uvicorn), one server per store mode for the whole
    session: for what needs a real server (real clients such as SPARQLWrapper, streaming to a
    slow or departing reader, the URL as a client addressed it, a browser)."""
    url: str = request.getfixturevalue(f"{store_mode}_base")
    return url


@pytest.fixture
def embedded_only(store_mode: str) -> None:
    """For what only the embedded store has: the dumps its build wrote beside it."""
    if store_mode != "embedded":
        pytest.skip("dumps are served only beside the embedded store's own build")


def writable_copy(built: Settings, folder: Path, **update: Any) -> Settings:
    """A copy of the session's store that a test may write to, in ``folder/store``, with the
    caches its build left beside it (as a deployment's store has them after `make build`), so a
    write that leaves the DL part or a graph as it was reuses HermiT's answer or the report."""
    shutil.copytree(built.store_root, folder / "store", symlinks=True)
    for cache in (built.validation_cache, built.reasoning_cache):
        if cache.is_dir():
            shutil.copytree(cache, folder / cache.name)
    return built.model_copy(update={"store_dir": folder / "store", "cache_dir": folder, **update})


@pytest.fixture(scope="session")
def curated(built: Settings) -> Graph:
    """The curated graph as the files say, parsed independently of the server."""
    return graphs.load_curated(built)


BUILD_PROCESS = pytest.StashKey[subprocess.Popen[bytes]]()


def pytest_configure(config: pytest.Config) -> None:
    if session_build.is_controller_of_a_whole_run(config):
        config.stash[BUILD_PROCESS] = session_build.start(REPO)


def pytest_unconfigure(config: pytest.Config) -> None:
    if BUILD_PROCESS in config.stash:
        session_build.remove(config.stash[BUILD_PROCESS])


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The repository's data, validated and written to a store once for the whole session (once
    for all the workers of a whole run: tests/session_build.py). Tests read it, never write."""
    shared = os.environ.get(session_build.FOLDER)
    if shared and os.environ.get("PYTEST_XDIST_WORKER"):
        store_dir = session_build.wait_for(Path(shared))
        return Settings(home=REPO, store_dir=store_dir, cache_dir=None, **TEST_LIMITS)
    store_dir = tmp_path_factory.mktemp("store")
    # Its own cache beside the store: tests read what this build kept there.
    settings = Settings(home=REPO, store_dir=store_dir, cache_dir=None, **TEST_LIMITS)
    pipeline.build_store(settings)
    return settings


@pytest.fixture(scope="session")
def real_copy(built: Settings) -> ox.Store:
    """The built store copied into memory, for tests that compare queries on it (read only)."""
    return store.in_memory_copy(built.store_root)


@pytest.fixture(scope="session")
def larger_copy(real_copy: ox.Store, tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The real store's quads in bench/scale.py's copies (k = 2), the summary counted anew: a
    larger graph shaped like the real one (tests/scaled.py), read only."""
    return scaled.copies_of(real_copy, tmp_path_factory.mktemp("scale"))
