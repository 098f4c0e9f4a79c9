"""Runs the `atrocity-kg` command with its commit steps held, for tests that kill it (kill -9) at
one exact step: narrow moments such as "the new build is renamed into place but `current` is not
yet switched" last microseconds, too short to hit with a timer.

The command prints ``HOLD <event>`` on stdout and waits for a line on stdin:
- ``stage <text>`` at each stage a build or an import announces (its progress line);
- ``java <argv0>`` once a Java process (HermiT) has started, while it runs;
- ``dumps <folder>`` when a build starts writing its dumps;
- ``before|after rename|replace <source> <destination>`` around every rename whose destination
  lies in one of the folders named by the environment variable CRASH_WATCH (os.pathsep apart).
The test answers with an empty line to let it go on, or kills it: every kill lands at a moment the
test has seen, never after a delay. Nothing else is changed: the command runs its own code in this
process, with its own arguments (``python crash_driver.py build``). ``install`` sets the holds up
in any process (importing this module alone does not).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.graph import graphs
from atrocity_kg.publish import export

EVENTS = 1
"""Written to as a file descriptor: the progress display, while shown, takes sys.stdout over."""
RELEASE_FILES = ("v1.ttl", "v2.ttl", "v3.ttl")


_ONE_AT_A_TIME = threading.Lock()
"""Holds come from several threads (HermiT's runs beside the evidence): one at a time, so that
each go-ahead answers the hold the test saw."""


def hold(event: str) -> None:
    """Say where the command is and wait for the test's go-ahead (or for its kill)."""
    with _ONE_AT_A_TIME:
        os.write(EVENTS, f"HOLD {event}\n".encode())
        if not sys.stdin.readline():
            os._exit(3)


def held(rename: Callable[..., None], name: str, watched: list[Path]) -> Callable[..., None]:
    def announced(source: str, destination: str, *args: Any, **kwargs: Any) -> None:
        # abspath, not resolve: the `current` link must be named, not followed.
        where = Path(os.path.abspath(destination))
        chosen = any(where.is_relative_to(folder) for folder in watched)
        if chosen:
            hold(f"before {name} {source} {destination}")
        rename(source, destination, *args, **kwargs)
        if chosen:
            hold(f"after {name} {source} {destination}")

    return announced


def held_dumps(write_dumps: Callable[..., Any]) -> Callable[..., Any]:
    def announced(source: Any, folder: Path, *args: Any, **kwargs: Any) -> Any:
        hold(f"dumps {folder}")
        return write_dumps(source, folder, *args, **kwargs)

    return announced


def held_progress(progress: Callable[[str], None]) -> Callable[[str], None]:
    """A progress display whose every line is a hold first."""

    def announced(text: str) -> None:
        hold(f"stage {text}")
        progress(text)

    return announced


def _quiet(_: str) -> None:
    return None


class HeldPopen(subprocess.Popen[bytes]):
    """A subprocess that, when it is Java (the reasoner), holds once it is running."""

    def __init__(self, argv: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(argv, *args, **kwargs)
        program = argv[0] if isinstance(argv, list | tuple) else str(argv).split()[0]
        if Path(str(program)).name == "java":
            hold(f"java {program}")


def install() -> None:
    """Hold at each announced stage, while Java runs, at the start of the dumps, and around
    renames into the folders CRASH_WATCH names."""
    watched = [Path(os.path.abspath(p)) for p in os.environ["CRASH_WATCH"].split(os.pathsep)]
    os.replace = held(os.replace, "replace", watched)
    os.rename = held(os.rename, "rename", watched)
    export.write_dumps = held_dumps(export.write_dumps)
    build, import_ushmm = pipeline.build_store, pipeline.import_ushmm

    def held_build(settings: Any, progress: Callable[[str], None] = _quiet) -> Any:
        return build(settings, held_progress(progress))

    def held_import(
        settings: Any, folder: Path, codes: Any, progress: Callable[[str], None] = _quiet
    ) -> Any:
        return import_ushmm(settings, folder, codes, held_progress(progress))

    pipeline.build_store = held_build
    pipeline.import_ushmm = held_import
    # Replacing a standard library class is what this driver is for; mypy forbids it in general.
    subprocess.Popen = HeldPopen  # type: ignore[misc, assignment]


def small_releases(folder: Path, value: str) -> None:
    """Three one-triple release files, replaced together as an import replaces them."""
    graphs.write_turtle_files(
        {
            folder / name: Graph().add(
                (URIRef(f"https://example.org/{name}"), RDFS.label, Literal(value))
            )
            for name in RELEASE_FILES
        }
    )


if __name__ == "__main__":
    install()
    app(args=sys.argv[1:], prog_name="atrocity-kg")
