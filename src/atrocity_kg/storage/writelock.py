"""The store's write lock: held by an admin write from reading the current build to committing
the new one, and by a build while it commits, so that no writer replaces a build another writer
has just read and is about to extend (which would lose that writer's changes, or the build's)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "write.lock"


@contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """Hold ``<root>/write.lock`` (``flock``: it excludes other threads, each with its own open
    file, and other processes alike); blocks while another holds it. The kernel drops it when the
    holder closes the file or dies, so a killed writer leaves no stale lock."""
    root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
