"""Crash safety under a real kill -9 (issue 7): a build or an import killed at any moment leaves a
store that opens on the old build or the new one, and data/ushmm all old or all new files.

Each kill is SIGKILL to a real `atrocity-kg` process, at a moment chosen in one of two ways:
- at a stage boundary, read from the command's own progress display (drawn as on a terminal,
  TTY_COMPATIBLE=1, since rich shows nothing on a pipe otherwise), sometimes after a delay;
- at one exact commit step, through tests/crash_driver.py, which runs the same command and
  holds it before and after each rename into the store or data/ushmm until the test says go.
After each kill the store (or the release files) is compared with references made without a
kill: the quad count and a fingerprint of the canonical N-Quads (or each file's bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

import crash_driver
from atrocity_kg import durable, export, graphs, pipeline, store, validate
from atrocity_kg.config import Settings
from atrocity_kg.errors import StoreError
from conftest import make_home
from release_fixture import write_release

CLI = [sys.executable, "-m", "atrocity_kg.cli"]
DRIVER = [sys.executable, str(Path(__file__).with_name("crash_driver.py"))]
STEP_TIMEOUT = 120.0
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
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
    """When to kill: the first item (progress line or HOLD line) ``wanted`` accepts, plus
    ``delay``; ``held`` runs the command through crash_driver; the references the store may
    then equal."""

    name: str
    wanted: Callable[[str], bool]
    held: bool = False
    delay: float = 0.0
    expect: frozenset[str] = frozenset({"old"})


class Command:
    """One `atrocity-kg` process in its own session, and what it reports: its progress display
    (stderr), or with ``held`` the driver's HOLD lines (stdout), each as one item of a queue."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, *, held: bool) -> None:
        self.held = held
        self.log = log
        self.items: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        with log.open("wb") as errors:
            self.process = subprocess.Popen(
                argv,
                env={**env, "TTY_COMPATIBLE": "1", "COLUMNS": "200"},
                stdin=subprocess.PIPE if held else subprocess.DEVNULL,
                stdout=subprocess.PIPE if held else subprocess.DEVNULL,
                stderr=errors if held else subprocess.PIPE,
                start_new_session=True,
            )
        stream = self.process.stdout if held else self.process.stderr
        assert stream is not None
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        """Split the stream on line ends and carriage returns (the spinner redraws its line)."""
        pending = b""
        while chunk := os.read(stream.fileno(), 65536):
            pending += chunk
            *whole, pending = re.split(rb"[\r\n]", pending)
            for piece in whole:
                text = _ANSI.sub(b"", piece).decode("utf-8", "replace").strip()
                if text:
                    self.items.put(text)
        self.items.put(None)

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        """Read until ``wanted`` matches; holds before it are let go on. Fails the test if the
        command ends first or takes too long."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                item = self.items.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                self.kill()
                pytest.fail(f"no kill point within {STEP_TIMEOUT} s; last seen: {self.seen[-5:]}")
            if item is None:
                code = self.process.wait()
                pytest.fail(f"the command ended (exit {code}) before the kill point: {self.tail()}")
            if not self.seen or self.seen[-1] != item:
                self.seen.append(item)
            if wanted(item):
                return item
            if self.held and item.startswith("HOLD "):
                self.go()

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()

    def kill(self) -> int:
        """SIGKILL the command, then whatever it started (validation workers, the reasoner's
        Java process) so that nothing outlives the test; its exit status (-9 when the kill
        landed, 0 when it had already finished)."""
        os.kill(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
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
        "CRASH_WATCH": str(watch),
    }


def progress(text: str) -> Callable[[str], bool]:
    """A progress line (its spinner frame stripped) that starts with ``text``."""
    return lambda item: item.lstrip("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ").startswith(text)


def hold(moment: str, verb: str, chosen: Callable[[Path, Path], bool]) -> Callable[[str], bool]:
    """A HOLD line ``<moment> <verb> <source> <destination>`` whose paths ``chosen`` accepts."""

    def wanted(item: str) -> bool:
        parts = item.split()
        return parts[:3] == ["HOLD", moment, verb] and chosen(Path(parts[3]), Path(parts[4]))

    return wanted


def is_dumps_hold(item: str) -> bool:
    return item.startswith("HOLD dumps ")


def leftovers(root: Path, own: str | None = None) -> list[str]:
    """What killed builds left that a sweep should have removed: anything in builds/ besides
    the builds `current` and `previous` name (and ``own``, the running build's partial folder),
    and staged links."""
    keep = {store.current_path(root).name, (root / store.PREVIOUS).resolve().name, own}
    left = [p.name for p in (root / store.BUILDS).iterdir() if p.name not in keep]
    return (
        left
        + [p.name for p in root.glob(".current.*")]
        + [p.name for p in root.glob(".previous.*")]
    )


BUILD_KILLS = [
    KillPoint("loading stage begins", progress("loading ontology, shapes and data")),
    KillPoint(
        "1.5 s into reasoning (HermiT's Java process running)",
        progress("recomputing evidence ratings"),
        delay=1.5,
    ),
    KillPoint(
        "writing stage begins (store bulk load and dumps)",
        progress("writing the store and its dumps"),
        expect=frozenset({"old", "new"}),
    ),
    KillPoint("dumps being written beside the store's bulk load", is_dumps_hold, held=True),
    KillPoint(
        "store and dumps complete and flushed, before the partial folder is renamed",
        hold("before", "rename", lambda source, _: source.name.startswith(store.PARTIAL)),
        held=True,
    ),
    KillPoint(
        "partial folder renamed to its final name, links not yet changed",
        hold("after", "rename", lambda source, _: source.name.startswith(store.PARTIAL)),
        held=True,
    ),
    KillPoint(
        "`previous` switched, `current` not yet",
        hold("before", "replace", lambda _, destination: destination.name == store.CURRENT),
        held=True,
    ),
    KillPoint(
        "`current` switched, before the sweep of old builds",
        hold("after", "replace", lambda _, destination: destination.name == store.CURRENT),
        held=True,
        expect=frozenset({"new"}),
    ),
]


@pytest.fixture(scope="module")
def two_builds(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Settings, dict[str, Snapshot]]:
    """A home whose store holds the old build, its data since changed; and the snapshots of
    the old build and of the new data built without a kill (in a store of its own)."""
    root = tmp_path_factory.mktemp("crash-build")
    settings = make_home(root / "home", with_releases=False)
    pipeline.import_ushmm(settings, write_release(root / "release"), ["V3"])
    pipeline.build_store(settings)
    old = snapshot(settings.store_root)
    with (settings.curated_dir / "tools.ttl").open("a", encoding="utf-8") as curated:
        curated.write(ADDED_TRIPLE)
    reference = settings.model_copy(update={"store_dir": settings.home / "var" / "reference"})
    pipeline.build_store(reference)
    new = snapshot(reference.store_root)
    assert old != new
    return settings, {"old": old, "new": new}


def test_a_build_killed_at_any_step_leaves_the_old_or_the_new_store(
    two_builds: tuple[Settings, dict[str, Snapshot]],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """Kill points in the order of a build; before each held kill, the leftovers of the
    previous kills must already be swept (the build sweeps them before it writes); at the end
    a build without a kill succeeds and leaves only `current` and `previous`."""
    settings, references = two_builds
    root = settings.store_root
    env = environment(settings, root)
    outcomes = []
    for number, point in enumerate(BUILD_KILLS):
        started = time.monotonic()
        argv = [*(DRIVER if point.held else CLI), "build"]
        command = Command(argv, env, tmp_path / f"build-{number}.log", held=point.held)
        if point.held:
            own = Path(command.wait_for(is_dumps_hold).split()[-1]).parent.name
            assert leftovers(root, own) == [], f"{point.name}: earlier kills' leftovers remain"
            if point.wanted is not is_dumps_hold:
                command.go()
                command.wait_for(point.wanted)
        else:
            command.wait_for(point.wanted)
        time.sleep(point.delay)
        status = command.kill()
        found = snapshot(root)
        held = [name for name, reference in references.items() if reference == found]
        outcomes.append(
            f"{point.name}: exit {status}, store holds {held or 'neither'} "
            f"({found.quads} quads), {time.monotonic() - started:.1f} s"
        )
        assert held, f"{point.name}: the store holds neither the old nor the new build"
        assert set(held) <= point.expect, f"{point.name}: expected {set(point.expect)}, got {held}"
        assert (store.current_path(root) / export.DUMPS / "manifest.json").is_file(), point.name
    record_property("kill points", outcomes)

    finished = run_to_end(["build"], env)
    assert finished.returncode == 0, finished.stderr
    assert snapshot(root) == references["new"]
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
    """The sweep's rules, on folders laid out as killed builds leave them: partial folders of
    dead writers, a finished build that never became current, a staged link, go; the current
    and previous builds, and a partial folder whose writer is alive, stay."""
    root = tmp_path / "store"
    graph = Graph().add((URIRef("urn:example:s"), RDFS.label, Literal("x")))
    named = {URIRef("urn:example:graph"): graph}
    oldest = store.write_store(root, named)
    previous = store.write_store(root, named)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        builds = root / store.BUILDS
        left = {
            builds / f"{store.PARTIAL}20260101T000000-{dead.pid}-1": "dead writer",
            builds / f"20260101T000000-{dead.pid}-2": "finished, never current",
            builds / f"{store.PARTIAL}20260101T000000-{alive.pid}-3": "live writer",
        }
        for folder in left:
            folder.mkdir()
            (folder / "CURRENT").write_text("half written")
        (root / f".current.{dead.pid}").symlink_to(Path(store.BUILDS) / "nowhere")
        newest = store.write_store(root, named)
        remaining = sorted(p.name for p in builds.iterdir())
        assert remaining == sorted(
            [previous.name, newest.name, f"{store.PARTIAL}20260101T000000-{alive.pid}-3"]
        )
        assert not oldest.exists()
        assert store.current_path(root) == newest
        assert (root / store.PREVIOUS).resolve() == previous
        assert not (root / f".current.{dead.pid}").is_symlink()
    finally:
        alive.kill()
        alive.wait()


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


# Killed before anything is written, an import can only leave the old files; the two points that
# matter are while temporary files are written and half-way through the renames.
IMPORT_KILLS = [
    KillPoint(
        "2 s into the writing stage (temporary files being written)",
        progress("writing "),
        delay=2.0,
        expect=frozenset({"old", "new"}),
    ),
    KillPoint(
        "v1.ttl replaced, v2.ttl and v3.ttl not yet",
        hold("after", "replace", lambda _, destination: destination.name == "v1.ttl"),
        held=True,
        expect=frozenset({"new"}),
    ),
]


@pytest.mark.shared
def test_an_import_killed_at_any_step_leaves_all_old_or_all_new_files(
    shared_release: Path, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """The real import of the three USHMM releases, killed while its temporary files are written
    and half-way through its renames. Every step of the replacement itself is killed
    in the next test, on small files (each real import here costs a full one)."""
    settings = make_home(tmp_path / "home", with_releases=False)
    pipeline.import_ushmm(settings, shared_release, pipeline.ALL_RELEASES)
    folder = settings.ushmm_dir
    new = _digests(folder)
    assert sorted(new) == ["v1.ttl", "v2.ttl", "v3.ttl"]
    for path in folder.glob("v*.ttl"):
        with path.open("a", encoding="utf-8") as release:
            release.write(ADDED_TRIPLE.replace("first build", f"import, in {path.name}"))
    references = {"old": _digests(folder), "new": new}
    saved = tmp_path / "old"
    shutil.copytree(folder, saved)
    env = environment(settings, folder)
    outcomes = []
    for number, point in enumerate(IMPORT_KILLS):
        if _digests(folder) != references["old"]:
            shutil.copytree(saved, folder, dirs_exist_ok=True)
        started = time.monotonic()
        argv = [*(DRIVER if point.held else CLI), "import", "ushmm", str(shared_release)]
        command = Command(argv, env, tmp_path / f"import-{number}.log", held=point.held)
        command.wait_for(point.wanted)
        time.sleep(point.delay)
        status = command.kill()
        pending, held = after_kill(settings, references)
        outcomes.append(
            f"{point.name}: exit {status}, journal left {pending}, files {held or 'mixed'}, "
            f"{time.monotonic() - started:.1f} s"
        )
        assert held, f"{point.name}: data/ushmm holds a mix of old and new files"
        assert set(held) <= point.expect, f"{point.name}: expected {set(point.expect)}, got {held}"
    record_property("kill points", outcomes)


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
    argv = [sys.executable, "-c", REPLACE_SCRIPT, str(Path(__file__).parent), str(folder)]
    steps = 2 + 2 * 3
    for step in range(steps):
        command = Command(argv, env, tmp_path / f"replace-{step}.log", held=True)
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
