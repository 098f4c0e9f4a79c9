"""What the query workers ask of C's memory allocator (glibc's, where there is one): how many
freed blocks it keeps for reuse, and when it hands freed memory back to the system.

In: the environment a worker is started with; the worker's moments (a query answered, no job
for a while). Out: the worker's environment (``GLIBC_TUNABLES``), and glibc's ``malloc_trim``
called at those moments. Where there is no glibc, the environment variable is ignored and
nothing is trimmed.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Mapping

ALLOCATOR_TUNABLES = {"glibc.malloc.tcache_count": "200"}
"""glibc's allocator settings for the workers (``GLIBC_TUNABLES``; other C libraries ignore it).
A query frees and takes back thousands of small blocks (the store's iterators, decoded terms);
glibc keeps 7 freed blocks of each size for reuse by default, and sends the rest through its
slower shared lists. Keeping 200 made the catalogue's queries 8-12 % faster in pyoxigraph
(docs/operations.md), for at most about 7 MB held: 200 blocks of each of its 64 sizes."""

RELEASE_AFTER_IDLE_SECONDS = 1.0
"""A worker that has had no job for this long hands back the memory its queries freed. Handing
it back after every query cost the next query that memory back, page by page (0.2-0.5 ms more
on the catalogue's queries through /sparql, docs/operations.md): queries that follow each other
reuse what the last one freed, and a worker left idle still shrinks back."""

GROWTH_BEFORE_RELEASE_BYTES = 64 * 1024 * 1024
"""A worker whose own memory has grown this much since it last handed memory back does so after
the query, busy or not: a heavy query's memory is not kept for as long as lighter ones keep
coming. A catalogue query leaves under 1 MB freed (glibc's ``mallinfo2``, on the real build)."""


def worker_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """A worker's environment: ``environ`` with ``ALLOCATOR_TUNABLES`` added to
    ``GLIBC_TUNABLES``, except those the operator set there."""
    given = [item for item in environ.get("GLIBC_TUNABLES", "").split(":") if item]
    named = {item.split("=", 1)[0] for item in given}
    added = [f"{name}={value}" for name, value in ALLOCATOR_TUNABLES.items() if name not in named]
    return {**environ, "GLIBC_TUNABLES": ":".join(given + added)} if added else dict(environ)


class MemoryRelease:
    """When a worker hands freed memory back: ``trim`` gives it back; ``own_bytes`` is how much
    memory the process holds of its own (not the files it maps), read before and after."""

    def __init__(self, trim: Callable[[], object], own_bytes: Callable[[], int]) -> None:
        self._trim = trim
        self._own_bytes = own_bytes
        self._after_release = own_bytes()

    def after_query(self) -> None:
        """A query was answered: give back what is freed only if the process grew a lot."""
        if self._own_bytes() - self._after_release >= GROWTH_BEFORE_RELEASE_BYTES:
            self.when_idle()

    def when_idle(self) -> None:
        """No job came for ``RELEASE_AFTER_IDLE_SECONDS``: give back everything freed."""
        self._trim()
        self._after_release = self._own_bytes()


def _own_bytes_reader() -> Callable[[], int]:
    """Reads this process's resident memory less what it shares with files (``/proc/self/statm``:
    one read of a file kept open, as it is asked after every query); 0 without /proc."""
    try:
        statm = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return lambda: 0
    page = os.sysconf("SC_PAGE_SIZE")

    def own_bytes() -> int:
        _size, resident, shared, *_ = os.pread(statm, 256, 0).split()
        return (int(resident) - int(shared)) * page

    return own_bytes


def memory_release() -> MemoryRelease:
    """This process's ``MemoryRelease``: glibc's ``malloc_trim``; without glibc, nothing is
    trimmed (the allocator keeps what it freed, as it would anyway)."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return MemoryRelease(lambda: None, _own_bytes_reader())
    return MemoryRelease(lambda: trim(0), _own_bytes_reader())
