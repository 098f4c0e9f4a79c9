"""The session's build of the repository's data, made once for all xdist workers of a run.

Every worker needs the same store (conftest's ``built``). Built by each, it costs a whole build
of CPU per worker at the start of the run, when the workers are also collecting the tests; so
the controller starts one build (``atrocity-kg build``, a process of its own) before it starts
the workers, and each worker, when it first needs the store, waits for that build to end.

The build process holds a lock on ``LOCK`` from before the workers exist until it exits (the
controller takes it and hands it over); a worker takes the same lock shared, which it gets only
once the build has ended, however it ended. ``BUILT`` says it succeeded; otherwise the worker
fails with the build's output. Nothing waits on a clock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

FOLDER = "ATROCITY_KG_TEST_SESSION_BUILD"
"""The environment variable naming the folder of the run's shared build (the workers inherit
the controller's environment)."""

LOCK = "lock"
BUILT = "built"
LOG = "build.log"
STORE = "store"


def is_controller_of_a_whole_run(config: pytest.Config) -> bool:
    """The xdist controller of a run of the whole suite (the testpaths, maybe filtered by -m or
    -k): a run of a few files chosen by hand may need no store at all."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return False
    workers = config.getoption("numprocesses", None)
    return bool(workers) and config.args_source == pytest.Config.ArgsSource.TESTPATHS


def start(repo: Path) -> subprocess.Popen[bytes]:
    """Start the build in a folder of its own (``FOLDER`` names it to the workers); its process
    holds the lock until it exits."""
    folder = Path(tempfile.mkdtemp(prefix="atrocity-kg-session-build-"))
    lock = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATROCITY_KG_")}
    env |= {"ATROCITY_KG_HOME": str(repo), "ATROCITY_KG_STORE_DIR": str(folder / STORE)}
    # The shell keeps the lock's descriptor open until after it has marked the build done.
    script = f'"$0" -m atrocity_kg.cli build > {LOG} 2>&1 && touch {BUILT}'
    process = subprocess.Popen(
        ["/bin/sh", "-c", script, sys.executable],
        cwd=folder,
        env=env,
        pass_fds=(lock,),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(lock)  # the lock stays held through the child's copy of the descriptor
    os.environ[FOLDER] = str(folder)
    return process


def wait_for(folder: Path) -> Path:
    """The shared build's store, once its process has ended; a failed build fails the test."""
    with (folder / LOCK).open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
    if not (folder / BUILT).is_file():
        output = (folder / LOG).read_text(encoding="utf-8", errors="replace")
        pytest.fail(f"the session's build failed ({folder / LOG}):\n{output[-4000:]}")
    return folder / STORE


def remove(process: subprocess.Popen[bytes]) -> None:
    """After the run: the build stopped if a run ended before it (interrupted), then removed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    shutil.rmtree(os.environ.pop(FOLDER), ignore_errors=True)
