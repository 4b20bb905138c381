"""Process-wide settings applied before any task runs: one thread per library, numba's cache.

Numba, GDAL, OpenJPEG and the BLAS libraries run on one thread unless a configuration says
otherwise: ``IPF_NUM_THREADS=n`` sets them all; a library's own variable (``NUMBA_NUM_THREADS``,
``GDAL_NUM_THREADS``, ``OMP_NUM_THREADS``...) set in the environment wins. Numba kernels are
compiled with ``cache=True`` into ``IPF_NUMBA_CACHE_DIR`` (default ``~/.cache/s2ipf/numba``), in
a folder named after the package's sources (:func:`source_stamp`), so only the first process
after an installation or a change pays for compilation.

Numba checks a cached kernel against its own file only, while a kernel compiled with a helper
of another module (the cubic weights of :mod:`ipf.geometry.warp` in the ortho kernel) holds that
helper's code: the folder per source state keeps such a kernel from outliving a change of the
helper. Helpers are module globals, not closure cells of the kernel factories: numba's cache key
hashes a closure's contents, and a pickled dispatcher differs in every process, which would
compile such a kernel again in every run and add an entry to its cache each time. Folders of
other source states are removed after :data:`STALE_CACHE_DAYS` days without a write. A
``NUMBA_CACHE_DIR`` set in the environment is used as it is (numba's own per-file checks only).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["THREAD_VARIABLES", "STALE_CACHE_DAYS", "num_threads", "configure", "prune_cache",
           "source_stamp", "env_flag", "catch_early_signals", "take_early_signals"]

THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "GDAL_NUM_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPJ_NUM_THREADS")


def num_threads() -> int:
    """Threads a task may use: ``IPF_NUM_THREADS`` (default 1; a value that is not an integer is 1)."""
    try:
        return max(1, int(os.environ.get("IPF_NUM_THREADS", "1")))
    except ValueError:
        return 1


def configure() -> None:
    """Set the thread and cache environment; must run before numba or GDAL is imported."""
    n = str(num_threads())
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, n)
    if "NUMBA_CACHE_DIR" not in os.environ:
        cache = Path(os.environ.get("IPF_NUMBA_CACHE_DIR") or Path.home() / ".cache" / "s2ipf" / "numba")
        stamp = source_stamp()
        if not (cache / stamp).exists():
            prune_cache(cache)
        os.environ["NUMBA_CACHE_DIR"] = str(cache / stamp)


STALE_CACHE_DAYS = 7


def prune_cache(cache: Path, days: float = STALE_CACHE_DAYS) -> None:
    """Remove the folders of other source states in ``cache`` not written for ``days`` days
    (best effort: a folder in use by another installation is only compiled again)."""
    import shutil
    import time

    try:
        folders = [p for p in cache.iterdir() if p.is_dir() and len(p.name) == 16
                   and all(c in "0123456789abcdef" for c in p.name)]
    except OSError:
        return
    limit = time.time() - days * 86400
    for folder in folders:
        try:
            if max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()]) < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def source_stamp() -> str:
    """16 hex digits naming the state of the ipf package's Python sources (path, size and
    modification time of each file)."""
    import ipf

    root = Path(ipf.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def env_flag(name: str) -> bool:
    """True when environment variable ``name`` is 1, true, yes or on (any case)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


_EARLY_SIGNALS: list[int] = []


def catch_early_signals() -> None:
    """Record SIGINT/SIGTERM received before the executor installs its handlers (imports and
    Job Order reading take a few tenths of a second); a second one ends the process at once."""
    import signal

    from ipf.interface.exitcodes import ExitCode

    def record(signum, frame):
        _EARLY_SIGNALS.append(signum)
        if len(_EARLY_SIGNALS) > 1:
            os._exit(int(ExitCode.PREMATURE_TERMINATION))

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, record)


def take_early_signals() -> list[int]:
    """The signals recorded by :func:`catch_early_signals`, once."""
    taken = list(_EARLY_SIGNALS)
    _EARLY_SIGNALS.clear()
    return taken
