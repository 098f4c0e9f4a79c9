"""When a query worker hands freed memory back (query.allocator): not after every query, which
cost the next one that memory back, but once it has waited for a job for a while, or at once
after a query that left much freed; and a real worker's memory does fall back after a heavy
query."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from atrocity_kg.config import Settings
from atrocity_kg.query.allocator import (
    GROWTH_BEFORE_RELEASE_BYTES,
    MemoryRelease,
    _own_bytes_reader,
    memory_release,
)
from atrocity_kg.query.sandbox import QueryJob, _frame, _next_job
from server import HANG_GUARD_S, query_pool, wait_until

JOB = QueryJob("ASK {}")


def test_a_job_already_there_is_read_without_the_idle_call() -> None:
    server, worker = socket.socketpair()
    with server, worker:
        server.sendall(_frame(JOB))
        idle: list[str] = []
        assert _next_job(worker, 0.0, lambda: idle.append("idle")) == JOB
        assert idle == []


def test_with_no_job_the_idle_call_comes_first_then_the_job() -> None:
    server, worker = socket.socketpair()
    with server, worker:
        calls: list[str] = []

        def when_idle() -> None:
            calls.append("idle")
            server.sendall(_frame(JOB))  # the job comes only once the worker has been idle

        assert _next_job(worker, 0.0, when_idle) == JOB
        assert calls == ["idle"]


def test_a_closed_socket_ends_the_wait() -> None:
    server, worker = socket.socketpair()
    with worker:
        server.close()
        assert _next_job(worker, 60.0, lambda: None) is None


class Process:
    """A process's own memory as a MemoryRelease reads it, and the trims it was asked for."""

    def __init__(self, own: int) -> None:
        self.own = own
        self.trims = 0

    def trim(self) -> None:
        self.trims += 1
        self.own = 10  # what is left once handed back

    def release(self) -> MemoryRelease:
        return MemoryRelease(self.trim, lambda: self.own)


@pytest.mark.parametrize(
    ("growth", "trims"),
    [(0, 0), (GROWTH_BEFORE_RELEASE_BYTES - 1, 0), (GROWTH_BEFORE_RELEASE_BYTES, 1)],
)
def test_after_a_query_memory_is_handed_back_only_if_the_process_grew_much(
    growth: int, trims: int
) -> None:
    process = Process(own=10)
    release = process.release()
    process.own += growth
    release.after_query()
    assert process.trims == trims


def test_growth_counts_from_the_last_time_memory_was_handed_back() -> None:
    process = Process(own=10)
    release = process.release()
    process.own += GROWTH_BEFORE_RELEASE_BYTES
    release.after_query()
    assert process.trims == 1
    process.own += GROWTH_BEFORE_RELEASE_BYTES - 1  # grown again, but less since the trim
    release.after_query()
    assert process.trims == 1


def test_when_idle_freed_memory_is_handed_back_whatever_the_growth() -> None:
    process = Process(own=10)
    process.release().when_idle()
    assert process.trims == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_this_process_reads_its_own_memory_and_trims() -> None:
    reader = _own_bytes_reader()
    before = reader()
    held = bytearray(64 * 1024 * 1024)  # touched: resident, and this process's own
    held[::4096] = b"x" * len(held[::4096])
    assert reader() - before >= 60 * 1024 * 1024
    del held
    memory_release().when_idle()


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (its peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


HEAVY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?o ?p ?s"
"""Sorts every statement of the store before its first row: tens of MB, freed at its end."""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_hands_back_a_heavy_querys_memory_once_idle(built: Settings) -> None:
    async def scenario() -> None:
        async with query_pool(built, size=1, timeout=120.0) as pool:
            (pid,) = pool.processes
            before = memory_mb(pid)
            job = QueryJob(HEAVY, union_default_graph=True, max_rows=10)
            messages = [message async for message in pool.answer(job)]
            assert type(messages[-1]).__name__ == "End", messages[-1]
            after = memory_mb(pid)
            assert after["VmHWM"] - before["VmRSS"] >= 20, (before, after)
            await asyncio.to_thread(
                wait_until,
                lambda: memory_mb(pid)["VmRSS"] <= after["VmHWM"] - 10,
                f"the worker's memory falls from its peak of {after['VmHWM']:.0f} MB",
            )

    asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S + 60))
