"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Between the writing process's id and the random part in a temporary file's name.
TEMP_MARK = ".pid."
_TEMP_NAME = re.compile(r"^\..+\.(\d+)" + re.escape(TEMP_MARK) + r"[^.]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> int:
    """Delete the temporary files that writes killed half-way left in ``folder`` (those of processes that are
    no longer running); returns how many went. Runs that write into a folder call it first."""
    base = Path(folder)
    if not base.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(base):
        match = _TEMP_NAME.match(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _naming(exc: OSError, target: Path) -> OSError:
    """The same error about ``target`` instead of its temporary file (what the user asked to write)."""
    return type(exc)(exc.errno, exc.strerror, str(target))


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success.

    If the body raises, the temporary file is removed and ``target`` is left untouched, so a
    job killed half-way never leaves a half-written file under the final name.
    """
    target, tmp_path = _temp_beside(target)
    try:
        yield tmp_path
        _publish(tmp_path, target)
    except OSError as exc:
        if exc.filename is not None and str(exc.filename) == str(tmp_path):
            raise _naming(exc, target) from exc
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _temp_beside(target: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(target, an empty temporary file beside it)``; the target of a symbolic link is the file it points to.
    Refuses a target that is a folder, a device, a pipe or a socket."""
    target = Path(target)
    if target.is_symlink():
        target = target.resolve()  # write the file the link points to; the link stays
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if target.exists() and not target.is_file():  # a device, a pipe, a socket: never replaced by a file
        raise OSError(errno.EINVAL, "not a regular file: a device, pipe or socket is not replaced", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}{TEMP_MARK}", suffix=".tmp" + target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise _naming(exc, target) from exc
    os.close(fd)
    return target, Path(tmp)


def _publish(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the usual permissions (mkstemp makes 0600) and rename it onto ``target``."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_files() -> Iterator[Any]:
    """Write several files as one unit: ``stage(target)`` gives a temporary path beside ``target`` to write.
    Once the block has written them all, each is renamed onto its target; if the block raises, every staged
    file is removed and no target is touched (an error about a staged file names its target). A job killed
    while writing leaves only temporary files, which :func:`clean_stale_temps` deletes later.

    >>> with atomic_files() as stage:
    ...     stage("x.mid").write_bytes(midi); stage("x.wav").write_bytes(wav)
    """
    staged: list[tuple[Path, Path]] = []

    def stage(target: str | os.PathLike[str]) -> Path:
        target, tmp = _temp_beside(target)
        staged.append((tmp, target))
        return tmp

    try:
        yield stage
        for tmp, target in staged:
            _publish(tmp, target)
    except OSError as exc:
        named = next((t for tmp, t in staged if exc.filename is not None and tmp.name in str(exc.filename)), None)
        if named is not None:
            raise _naming(exc, named) from exc
        raise
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


#: What ``flock`` answers on a filesystem without locks.
NO_LOCKS = frozenset({errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK, errno.EINVAL})


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if absent) for the ``with`` block: processes on this machine,
    and on others sharing the folder where the filesystem honours locks (NFS does), take turns. ``waiting`` is
    printed on stderr once if another process holds the lock, before this one waits for it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                raise _naming(exc, target) from exc
            warnings.warn(
                f"{target}: this filesystem does not support file locks ({exc.strerror}); going on without one. "
                "Writes stay atomic, but two processes may compute the same files",
                stacklevel=3,
            )
        yield
    finally:
        os.close(fd)  # closing releases the lock
