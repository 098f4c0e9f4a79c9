"""The threads that write answers are kept for the next answer (web.protocol._WriterThreads):
a request no longer waits for a new thread to start, and a failed writer does not lose its
thread."""

from __future__ import annotations

import threading

from atrocity_kg.web.protocol import _WriterThreads

WAIT_S = 30.0  # a hang guard only: each wait returns as soon as its event is set


def run_and_wait(writers: _WriterThreads, job_fails: bool = False) -> int:
    """Run one job; the ident of the thread that ran it, once that thread is idle again."""
    ran: list[int] = []
    done = threading.Event()

    def job() -> None:
        ran.append(threading.get_ident())
        done.set()
        if job_fails:
            raise RuntimeError("a writer's failure")

    idle_before = writers.idle_count()
    writers.run(job)
    assert done.wait(WAIT_S)
    assert writers.wait_idle(max(idle_before, 1), WAIT_S)
    return ran[0]


def test_a_writer_thread_serves_the_next_answer() -> None:
    writers = _WriterThreads()
    first = run_and_wait(writers)
    assert run_and_wait(writers) == first
    assert first != threading.get_ident()


def test_a_failed_job_keeps_its_thread() -> None:
    writers = _WriterThreads()
    first = run_and_wait(writers, job_fails=True)
    assert run_and_wait(writers) == first


def test_busy_writers_get_a_new_thread_each() -> None:
    writers = _WriterThreads()
    release, started = threading.Event(), threading.Barrier(3, timeout=WAIT_S)
    idents: list[int] = []

    def blocking() -> None:
        idents.append(threading.get_ident())
        started.wait()
        release.wait(WAIT_S)

    writers.run(blocking)
    writers.run(blocking)
    started.wait()  # both jobs run at once: neither waits for the other's thread
    release.set()
    assert len(set(idents)) == 2
    assert writers.wait_idle(2, WAIT_S)
