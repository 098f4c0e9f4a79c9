"""Crash safety under a real kill -9 (issue 7): a build or an import killed at any moment leaves a
store that opens on the old build or the new one, and data/ushmm all old or all new files.

Each kill is SIGKILL to a real `atrocity-kg` process run through tests/crash_driver.py, which holds
it at each announced stage, while the reasoner's Java process runs, when the dumps start, and
before and after each rename into the store or data/ushmm, until the test says go. So every kill
lands at one exact step the test has seen (no delays, no reading of a progress display), each kill
point is its own test on its own copy of the store, and each has exactly one right outcome. After
each kill the store (or the release files) is compared with references made without a kill: the
quad count and a fingerprint of the canonical N-Quads (or each file's bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

import crash_driver
from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from atrocity_kg.graph import graphs, validate
from atrocity_kg.publish import export
from atrocity_kg.storage import durable, store
from conftest import make_home
from release_fixture import write_release

CLI = [sys.executable, "-m", "atrocity_kg.cli"]
DRIVER = [sys.executable, str(Path(__file__).parents[1] / "crash_driver.py")]
STEP_TIMEOUT = 300.0
"""Only a guard against a hang: a command that never reaches its kill point fails the test."""
ADDED_TRIPLE = (
    "\n<https://w3id.org/atrocity-kg/id/crash-test/marker> "
    '<http://www.w3.org/2000/01/rdf-schema#comment> "added after the first build"@en .\n'
)


@dataclass(frozen=True)
class Snapshot:
    """What a store holds: the number of quads and a fingerprint of their canonical form (blank
    node labels differ from one build to the next; the canonical ones do not)."""

    quads: int
    fingerprint: str


def snapshot(root: Path) -> Snapshot:
    with store.opened(root) as opened:
        quads = list(opened.quads_for_pattern(None, None, None, None))
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    lines = "\n".join(sorted(str(quad) for quad in dataset))
    return Snapshot(len(quads), hashlib.sha256(lines.encode("utf-8")).hexdigest())


@dataclass(frozen=True)
class KillPoint:
    """Kill at the first HOLD line ``wanted`` accepts (earlier holds are let go on); the store
    must then equal the reference ``expect``."""

    name: str
    wanted: Callable[[str], bool]
    expect: str = "old"


class Command:
    """One process holding at crash_driver's points (`atrocity-kg` run through it), in its own
    session; its HOLD lines (stdout) each one item of a queue, its errors in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.items: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        with log.open("wb") as errors:
            self.process = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                start_new_session=True,
            )
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            text = line.decode("utf-8", "replace").strip()
            if text.startswith("HOLD "):
                self.items.put(text)
        self.items.put(None)

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        """Let holds go on until one that ``wanted`` accepts, where the command stays held.
        Fails the test if the command ends first (or hangs)."""
        while True:
            try:
                item = self.items.get(timeout=STEP_TIMEOUT)
            except queue.Empty:
                self.kill()
                pytest.fail(f"no kill point within {STEP_TIMEOUT} s; holds seen: {self.seen[-5:]}")
            if item is None:
                code = self.process.wait()
                pytest.fail(f"the command ended (exit {code}) before the kill point: {self.tail()}")
            self.seen.append(item)
            if wanted(item):
                return item
            self.go()

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()

    def kill(self) -> int:
        """SIGKILL the command, then whatever it started (validation workers, the reasoner's
        Java process) so that nothing outlives the test; its exit status."""
        os.kill(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        return code

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return (text + "\n".join(self.seen))[-2000:]


def run_to_end(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
    )


def environment(settings: Settings, watch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ATROCITY_KG_HOME": str(settings.home),
        "ATROCITY_KG_STORE_DIR": str(settings.store_root),
        # The home's own cache: a shared one may hold HermiT's answer, and the kill in the
        # reasoner needs it to run.
        "ATROCITY_KG_CACHE_DIR": str(settings.cache_root),
        "CRASH_WATCH": str(watch),
    }


def stage(text: str) -> Callable[[str], bool]:
    """The hold at the stage whose progress line starts with ``text``."""
    return lambda item: item.startswith(f"HOLD stage {text}")


def hold(moment: str, verb: str, chosen: Callable[[Path, Path], bool]) -> Callable[[str], bool]:
    """A HOLD line ``<moment> <verb> <source> <destination>`` whose paths ``chosen`` accepts."""

    def wanted(item: str) -> bool:
        parts = item.split()
        return parts[1:3] == [moment, verb] and chosen(Path(parts[3]), Path(parts[4]))

    return wanted


def leftovers(root: Path) -> list[str]:
    """What killed builds left that a sweep should have removed: anything in builds/ besides
    the builds `current` and `previous` name, and staged links."""
    keep = {store.current_path(root).name, (root / store.PREVIOUS).resolve().name}
    left = [p.name for p in (root / store.BUILDS).iterdir() if p.name not in keep]
    return (
        left
        + [p.name for p in root.glob(".current.*")]
        + [p.name for p in root.glob(".previous.*")]
    )


BUILD_KILLS = [
    KillPoint("loading stage begins", stage("loading ontology, shapes and data")),
    KillPoint(
        "reasoner's Java process (HermiT) running",
        lambda item: item.startswith("HOLD java "),
    ),
    KillPoint("writing stage begins", stage("writing the store and its dumps")),
    KillPoint(
        "dumps being written beside the store's bulk load",
        lambda item: item.startswith("HOLD dumps "),
    ),
    KillPoint(
        "store and dumps complete and flushed, before the partial folder is renamed",
        hold("before", "rename", lambda source, _: source.name.startswith(store.PARTIAL)),
    ),
    KillPoint(
        "partial folder renamed to its final name, links not yet changed",
        hold("after", "rename", lambda source, _: source.name.startswith(store.PARTIAL)),
    ),
    KillPoint(
        "`previous` switched, `current` not yet",
        hold("before", "replace", lambda _, destination: destination.name == store.CURRENT),
    ),
    KillPoint(
        "`current` switched, before the sweep of old builds",
        hold("after", "replace", lambda _, destination: destination.name == store.CURRENT),
        expect="new",
    ),
]


@dataclass(frozen=True)
class TwoBuilds:
    """A home whose store holds the old build, its data since changed; and the snapshots of the
    old build and of the new data built without a kill."""

    home: Settings
    references: dict[str, Snapshot]

    def copy(self, target: Path) -> Settings:
        """The home with its store, for one kill of its own (links copied as links)."""
        shutil.copytree(self.home.home, target, symlinks=True)
        return self.home.model_copy(update={"home": target, "store_dir": target / "var" / "store"})


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> TwoBuilds:
    root = tmp_path_factory.mktemp("crash-build")
    # Caches beside each store, not the session's (see `environment`).
    settings = make_home(root / "home", with_releases=False).model_copy(update={"cache_dir": None})
    pipeline.import_ushmm(settings, write_release(root / "release"), ["V3"])
    pipeline.build_store(settings)
    old = snapshot(settings.store_root)
    with (settings.curated_dir / "tools.ttl").open("a", encoding="utf-8") as curated:
        curated.write(ADDED_TRIPLE)
    reference = settings.model_copy(update={"store_dir": root / "reference" / "store"})
    pipeline.build_store(reference)
    new = snapshot(reference.store_root)
    assert old != new
    return TwoBuilds(settings, {"old": old, "new": new})


@pytest.mark.slow  # a real process, killed
@pytest.mark.parametrize("point", BUILD_KILLS, ids=[point.name for point in BUILD_KILLS])
def test_a_build_killed_at_a_step_leaves_the_old_or_the_new_store(
    point: KillPoint, two_builds: TwoBuilds, tmp_path: Path
) -> None:
    """The store holds exactly the build this step calls for, with its dumps; the sweep the
    next build starts with leaves only `current` and `previous`."""
    settings = two_builds.copy(tmp_path / "home")
    root = settings.store_root
    command = Command([*DRIVER, "build"], environment(settings, root), tmp_path / "build.log")
    command.wait_for(point.wanted)
    assert command.kill() == -signal.SIGKILL
    found = snapshot(root)
    held = [name for name, reference in two_builds.references.items() if reference == found]
    assert held == [point.expect], (
        f"the store holds {held or 'neither build'} ({found.quads} quads)"
    )
    assert (store.current_path(root) / export.DUMPS / "manifest.json").is_file()
    store.sweep(root)
    assert leftovers(root) == []


@pytest.mark.slow  # a real process, killed
def test_a_build_after_a_killed_one_sweeps_its_leftovers(
    two_builds: TwoBuilds, tmp_path: Path
) -> None:
    settings = two_builds.copy(tmp_path / "home")
    root = settings.store_root
    env = environment(settings, root)
    command = Command([*DRIVER, "build"], env, tmp_path / "build.log")
    command.wait_for(lambda item: item.startswith("HOLD dumps "))
    command.kill()
    assert [p.name for p in (root / store.BUILDS).glob(f"{store.PARTIAL}*")] != []
    finished = run_to_end(["build"], env)
    assert finished.returncode == 0, finished.stderr
    assert snapshot(root) == two_builds.references["new"]
    assert leftovers(root) == []
    assert sorted(p.name for p in (root / store.BUILDS).iterdir()) == sorted(
        {store.current_path(root).name, (root / store.PREVIOUS).resolve().name}
    )


def test_a_dangling_current_link_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / store.BUILDS).mkdir(parents=True)
    (root / store.CURRENT).symlink_to(Path(store.BUILDS) / "gone")
    with pytest.raises(StoreError, match=r"points to .*gone, which is missing"):
        store.current_path(root)
    with pytest.raises(StoreError, match="which is missing"), store.opened(root):
        pass


def test_a_build_sweeps_what_killed_builds_left_and_keeps_what_readers_may_hold(
    tmp_path: Path,
) -> None:
    """The sweep's rules, on folders laid out as killed builds leave them: partial folders no
    writer holds locked, a finished build that never became current, a staged link, go; the
    current and previous builds, and a partial folder whose writer holds its lock, stay. The
    names carry process ids of live processes (this one's): ids decide nothing."""
    root = tmp_path / "store"
    graph = Graph().add((URIRef("urn:example:s"), RDFS.label, Literal("x")))
    named = {URIRef("urn:example:graph"): graph}
    oldest = store.write_store(root, named)
    previous = store.write_store(root, named)
    builds = root / store.BUILDS
    pid = os.getpid()
    left = [
        builds / f"{store.PARTIAL}20260101T000000-{pid}-1",
        builds / f"20260101T000000-{pid}-2",
        builds / f"{store.PARTIAL}20260101T000000-{pid}-3",
    ]
    for folder in left:
        folder.mkdir()
        (folder / "CURRENT").write_text("half written")
    (root / f".current.{pid}").symlink_to(Path(store.BUILDS) / "nowhere")
    with durable.folder_lock(left[2], exclusive=True):
        newest = store.write_store(root, named)
        remaining = sorted(p.name for p in builds.iterdir())
    assert remaining == sorted([previous.name, newest.name, left[2].name])
    assert not oldest.exists()
    assert store.current_path(root) == newest
    assert (root / store.PREVIOUS).resolve() == previous
    assert not (root / f".current.{pid}").is_symlink()
    store.sweep(root)
    assert not left[2].exists(), "its writer let go of the lock"


def test_a_damaged_validation_cache_entry_is_a_miss(tmp_path: Path) -> None:
    """Whatever a crash or a disk leaves in an entry (cut short anywhere, other JSON, bytes that
    are not UTF-8), reading it gives no report rather than an error or a wrong report."""
    cache = validate.ValidationCache(tmp_path / "cache")
    report = validate.ValidationReport(
        [
            validate.ValidationResult("urn:a", None, "missing", "Violation", "urn:shape"),
            validate.ValidationResult(
                "urn:b", "urn:p", "odd", "Warning", None, "1", "urn:g", "f.csv", 7
            ),
        ]
    )
    cache.put("key", report)
    assert cache.get("key") == report
    assert [p.name for p in cache.folder.iterdir()] == ["key.json"]
    whole = (cache.folder / "key.json").read_bytes()
    damaged = [whole[:cut] for cut in range(len(whole))]
    damaged += [b"{}", b"[1]", b"\xff\xfe", whole.replace(b'"source_row": 7', b'"source_row": "7"')]
    damaged += [whole.replace(b'"focus_node": "urn:a"', b'"focus_node": null')]
    for content in damaged:
        (cache.folder / "key.json").write_bytes(content)
        assert cache.get("key") is None, content


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("v*.ttl")}


def after_kill(settings: Settings, references: dict[str, dict[str, str]]) -> tuple[bool, list[str]]:
    """Read the releases as a build does (which finishes a decided replacement first); whether
    a journal was left, and which references the files then equal."""
    folder = settings.ushmm_dir
    pending = (folder / durable.JOURNAL).exists()
    graphs.load_releases(settings)
    found = _digests(folder)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    return pending, [name for name, reference in references.items() if reference == found]


IMPORT_KILLS = [
    KillPoint(
        "temporary files written, the journal not yet in place",
        hold("before", "replace", lambda _, destination: destination.name == durable.JOURNAL),
    ),
    KillPoint(
        "v1.ttl replaced, v2.ttl and v3.ttl not yet",
        hold("after", "replace", lambda _, destination: destination.name == "v1.ttl"),
        expect="new",
    ),
]


@dataclass(frozen=True)
class TwoImports:
    """data/ushmm as the real import of three releases writes it ("new"), and changed since
    ("old", which each kill starts from)."""

    release: Path
    saved: Path
    references: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def two_imports(tmp_path_factory: pytest.TempPathFactory) -> TwoImports:
    """The import of a tiny copy of the three releases (tests/release_fixture.py): what a kill
    is checked against is the import's all-or-nothing replacement of the three files, which
    does not depend on how many rows they hold (the USHMM files' import is checked against the
    committed graphs in test_release_data), and each import here costs seconds, not half a
    minute."""
    root = tmp_path_factory.mktemp("crash-import")
    release = write_release(root / "release", codes=pipeline.ALL_RELEASES)
    settings = make_home(root / "home", with_releases=False)
    pipeline.import_ushmm(settings, release, pipeline.ALL_RELEASES)
    folder = settings.ushmm_dir
    new = _digests(folder)
    assert sorted(new) == ["v1.ttl", "v2.ttl", "v3.ttl"]
    for path in folder.glob("v*.ttl"):
        with path.open("a", encoding="utf-8") as release_file:
            release_file.write(ADDED_TRIPLE.replace("first build", f"import, in {path.name}"))
    return TwoImports(release, settings.home, {"old": _digests(folder), "new": new})


@pytest.mark.slow  # a real process, killed
@pytest.mark.parametrize("point", IMPORT_KILLS, ids=[point.name for point in IMPORT_KILLS])
def test_an_import_killed_at_a_step_leaves_all_old_or_all_new_files(
    point: KillPoint, two_imports: TwoImports, tmp_path: Path
) -> None:
    """The real import of three releases, killed before its change is decided and half-way
    through its renames. Every step of the replacement itself is killed in the next test, on
    small files."""
    home = tmp_path / "home"
    shutil.copytree(two_imports.saved, home)
    settings = Settings(home=home, store_dir=tmp_path / "store")
    env = environment(settings, settings.ushmm_dir)
    argv = [*DRIVER, "import", "ushmm", str(two_imports.release)]
    command = Command(argv, env, tmp_path / "import.log")
    command.wait_for(point.wanted)
    assert command.kill() == -signal.SIGKILL
    pending, held = after_kill(settings, two_imports.references)
    assert pending == (point.expect == "new")
    assert held == [point.expect], f"data/ushmm holds {held or 'a mix of old and new files'}"


REPLACE_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import crash_driver
from pathlib import Path
crash_driver.install()
crash_driver.small_releases(Path(sys.argv[2]), "new")
"""
"""Replaces three small release files the way an import does, its renames held."""


def small_releases(folder: Path, value: str) -> dict[str, str]:
    crash_driver.small_releases(folder, value)
    return _digests(folder)


@pytest.mark.slow  # a real process, killed
def test_a_replacement_killed_at_each_rename_leaves_all_old_or_all_new_files(
    tmp_path: Path,
) -> None:
    """Every held step of the all-or-nothing replacement, killed in turn: before the journal is
    in place the old files stay; from the moment it is, the next reader rolls it forward."""
    settings = Settings(home=tmp_path / "home", store_dir=tmp_path / "store")
    folder = settings.ushmm_dir
    references = {"new": small_releases(tmp_path / "new", "new")}
    references["old"] = small_releases(folder, "old")
    env = environment(settings, folder)
    argv = [sys.executable, "-c", REPLACE_SCRIPT, str(Path(__file__).parents[1]), str(folder)]
    steps = 2 + 2 * 3
    for step in range(steps):
        command = Command(argv, env, tmp_path / f"replace-{step}.log")
        events = [command.wait_for(lambda item: item.startswith("HOLD "))]
        for _ in range(step):
            command.go()
            events.append(command.wait_for(lambda item: item.startswith("HOLD ")))
        assert command.kill() == -signal.SIGKILL, events
        pending, held = after_kill(settings, references)
        expected = ["old"] if step == 0 else ["new"]
        assert held == expected, f"killed at {events[-1]}: files {held or 'mixed'}"
        assert pending == (step > 0), events[-1]
        if held != ["old"]:
            small_releases(folder, "old")
