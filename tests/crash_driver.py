"""Runs the `atrocity-kg` command with its commit steps held, for tests that kill it (kill -9) at
one exact step: narrow moments such as "the new build is renamed into place but `current` is not
yet switched" last microseconds, too short to hit with a timer.

Before and after every rename whose destination lies in one of the folders named by the
environment variable CRASH_WATCH (separated by os.pathsep), and when a build starts writing its
dumps, the command prints ``HOLD <event>`` on stdout and waits for a line on stdin. The test
answers with an empty line to let it go on, or kills it. Nothing else is changed: the command
runs its own code in this process, with its own arguments (``python crash_driver.py build``).
``install`` sets the holds up in any process (importing this module alone does not).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from atrocity_kg import export, graphs
from atrocity_kg.cli import app

EVENTS = 1
"""Written to as a file descriptor: the progress display, while shown, takes sys.stdout over."""
RELEASE_FILES = ("v1.ttl", "v2.ttl", "v3.ttl")


def hold(event: str) -> None:
    """Say where the command is and wait for the test's go-ahead (or for its kill)."""
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


def install() -> None:
    """Hold renames into the folders CRASH_WATCH names, and the start of the dumps."""
    watched = [Path(os.path.abspath(p)) for p in os.environ["CRASH_WATCH"].split(os.pathsep)]
    os.replace = held(os.replace, "replace", watched)
    os.rename = held(os.rename, "rename", watched)
    export.write_dumps = held_dumps(export.write_dumps)


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
