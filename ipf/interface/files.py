"""Atomic file writes: the one helper every writer of s2ipf uses.

A file is written under a temporary name in its own directory (``.<name>.tmp-<pid>[suffix]``,
so a rename never crosses file systems and a reader never sees a partial file), then renamed
over the destination with :func:`os.replace`. A failure leaves the destination as it was and
removes the temporary file.

fsync policy: outputs of a task are written in the executor's staging directory and published by
a rename only when the task ends well, so by default the data is not fsynced (a crash loses the
whole staged output, never leaves a partial one in place). Pass ``fsync=True`` for a file that is
published on its own in place of a previous one and must survive a crash once renamed: Job Orders
handed to an executable, the OLQC report, SAFE metadata, files updated by ``ipf-tools``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["atomic_write", "atomic_path", "atomic_write_all", "temporary_name", "fsync_dir", "link_or_copy"]


def temporary_name(path: os.PathLike | str, suffix: str = "") -> Path:
    """The hidden temporary name of ``path`` in its directory: ``.<name>.tmp-<pid><suffix>``."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")


@contextmanager
def atomic_path(path: os.PathLike | str, *, suffix: str = "", fsync: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` for writers that need a path (GDAL, glymur, numpy, a
    validator); renamed to ``path`` when the block ends without an exception, removed otherwise.

    ``suffix`` ends the temporary name (a driver that picks its format from it); ``fsync`` syncs
    the file's data before the rename.
    """
    path = Path(path)
    tmp = temporary_name(path, suffix)
    try:
        yield tmp
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: os.PathLike | str, data: bytes | str, *, fsync: bool = False) -> Path:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically; returns ``path``."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return path


def fsync_dir(folder: os.PathLike | str) -> None:
    """Sync ``folder``'s entries (the renames made in it); errors are ignored."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_all(writes: Sequence[tuple[os.PathLike | str, bytes]]) -> None:
    """Publish several files together: each ``(path, data)`` is written to its temporary name and
    fsynced, then all are renamed in the order given and their folders fsynced. Until the first
    rename no destination changes; temporary files are removed in every case."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in writes:
            tmp = temporary_name(path)
            temps.append((tmp, Path(path)))
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
        for folder in dict.fromkeys(path.parent for _, path in temps):
            fsync_dir(folder)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)


def link_or_copy(src: os.PathLike | str, dst: os.PathLike | str) -> None:
    """Hard link ``src`` to ``dst`` (its folder made when missing); a copy when they are on
    different file systems (or the file system has no hard links)."""
    import shutil

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
