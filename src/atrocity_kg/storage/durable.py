"""Writing files so that a crash (kill -9, or a power cut) leaves the old content or the new,
never a mix: temporary files flushed to disk, renames, and a journal when several files change
together.

A rename within one folder is atomic, but it is only durable once the folder itself has been
flushed (fsync on the directory), and the renamed file's content only once the file was flushed
before the rename; otherwise a power cut can leave the new name holding an empty file.

Who is still writing is known by locks, never by process ids (an id is reused once its process
is gone): a writer holds a lock on the folder it writes into (``flock`` on the folder itself,
which the kernel drops the moment the writer dies), so whatever a sweep finds while it holds the
folder's exclusive lock was left by a dead writer.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from atrocity_kg.errors import StoreError

JOURNAL = ".replace-journal.json"
"""Names the renames of one all-or-nothing replacement while they are under way."""

_TEMPORARY = re.compile(r"^\.(?P<final>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{8})\.tmp$")


def fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_dir(path: Path) -> None:
    """Make the folder's entries (names created, renamed or removed in it) durable."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder``, then every folder from the deepest up, so that once
    the tree is renamed into place all of it survives a power cut."""
    for parent, _, files in os.walk(folder, topdown=False):
        for name in files:
            path = Path(parent) / name
            if not path.is_symlink():
                fsync_file(path)
        fsync_dir(Path(parent))


@contextmanager
def folder_lock(folder: Path, *, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """Hold a lock on ``folder`` itself (shared: writers of single files; exclusive: a
    replacement of several files, or a sweep). Yields whether it was taken: with ``wait``
    false, an exclusive lock another process holds is not waited for. The kernel drops the lock
    when its holder dies, so a killed writer never leaves a folder locked."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        operation = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(descriptor, operation if wait else operation | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


def temporary_name(final: str) -> str:
    """A hidden name beside ``final`` that a sweep recognises (the process id is for people
    reading the folder; the folder's lock, not the id, tells a sweep the writer is gone)."""
    return f".{final}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _write_temporary(folder: Path, final: str, write: Callable[[Path], None]) -> Path:
    temporary = folder / temporary_name(final)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(descriptor)
    try:
        write(temporary)
        fsync_file(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_atomically(path: Path, data: bytes) -> None:
    """Replace one file whole: a reader, or the file after a crash, has the old bytes or the
    new ones. The folder's shared lock is held meanwhile, so no sweep takes the temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(path.parent, exclusive=False):
        _replace_file(path, data)


def _replace_file(path: Path, data: bytes) -> None:
    def fill(staged: Path) -> None:
        staged.write_bytes(data)

    temporary = _write_temporary(path.parent, path.name, fill)
    os.replace(temporary, path)
    fsync_dir(path.parent)


def replace_together(folder: Path, writers: Mapping[str, Callable[[Path], None]]) -> list[Path]:
    """Replace several files of one folder so that, whenever the process dies, all of them end
    up old or all new.

    Each writer fills a temporary file (flushed to disk). Then a journal naming the renames is
    written and renamed into place: that rename is the moment the change is decided. The
    renames follow, then the journal is removed. A crash before the journal is in place leaves
    the old files (the temporaries are swept later); a crash after it is rolled forward by
    ``recover`` on the next read or write: every temporary named in the journal is whole, so
    finishing the renames is always possible, and rolling back would need copies of the old
    files. Everyone who reads the folder calls ``recover`` first. The folder's exclusive lock
    is held throughout: readers wait for a replacement to end, and one that holds the lock
    itself finds no journal or temporary of a live writer.
    """
    for final in writers:
        if Path(final).name != final:
            raise ValueError(f"not a plain file name: {final!r}")
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder, exclusive=True):
        _recover(folder)
        staged: list[tuple[Path, Path]] = []
        try:
            for final, write in writers.items():
                staged.append((_write_temporary(folder, final, write), folder / final))
        except BaseException:
            for temporary, _ in staged:
                temporary.unlink(missing_ok=True)
            raise
        renames = [[temporary.name, final.name] for temporary, final in staged]
        journal = json.dumps({"renames": renames})
        _replace_file(folder / JOURNAL, journal.encode("utf-8"))
        _finish(folder, renames)
    return [final for _, final in staged]


def _finish(folder: Path, renames: list[list[str]]) -> None:
    """Do the journal's renames (those not yet done), make them durable, drop the journal."""
    for temporary, final in renames:
        try:
            os.replace(folder / temporary, folder / final)
        except FileNotFoundError:
            if not (folder / final).exists():
                raise
    fsync_dir(folder)
    (folder / JOURNAL).unlink(missing_ok=True)
    fsync_dir(folder)


def _read_journal(path: Path) -> list[list[str]]:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        renames = entry["renames"]
        if not isinstance(renames, list):
            raise TypeError("renames is not a list")
        for pair in renames:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(name, str) and Path(name).name == name for name in pair)
            ):
                raise TypeError(f"not a pair of plain file names: {pair!r}")
    except (ValueError, TypeError, KeyError) as error:
        raise StoreError(
            f"{path}: unreadable replacement journal ({error}); the files beside it may be a "
            "mix of two imports: import again"
        ) from None
    return renames


def recover(folder: Path) -> bool:
    """Roll forward the replacement a dead writer left half done, and remove the temporaries
    of writers that died before theirs was decided. True when a journal was rolled forward.
    A replacement under way is waited for (it holds the folder's lock)."""
    if not folder.is_dir():
        return False
    with folder_lock(folder, exclusive=True):
        return _recover(folder)


def _recover(folder: Path) -> bool:
    """``recover``, under the folder's exclusive lock: any journal or temporary is a dead
    writer's."""
    journal = folder / JOURNAL
    rolled = journal.exists()
    if rolled:
        _finish(folder, _read_journal(journal))
    _sweep_temporaries(folder)
    return rolled


def sweep_temporaries(folder: Path) -> None:
    """Remove temporaries whose writer is dead (their change was never decided); skipped while
    another process writes in the folder."""
    with folder_lock(folder, exclusive=True, wait=False) as locked:
        if locked:
            _sweep_temporaries(folder)


def _sweep_temporaries(folder: Path) -> None:
    for path in folder.iterdir():
        if _TEMPORARY.match(path.name):
            path.unlink(missing_ok=True)
