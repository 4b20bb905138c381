"""In-process task entry points used by the tests (on PYTHONPATH through ``run_ipf``)."""

import errno
import json
import os
import sys


def disk_full(ctx):
    out = ctx.output("DEMO_L1")
    (out / "part.bin").write_bytes(b"\0" * 1024)
    raise OSError(errno.ENOSPC, "No space left on device", str(out / "part.bin"))


def environment(ctx):
    """Record the thread settings and the heavy modules already imported when a task starts."""
    out = ctx.output("DEMO_L1")
    keys = ("NUMBA_NUM_THREADS", "GDAL_NUM_THREADS", "OMP_NUM_THREADS", "OPJ_NUM_THREADS",
            "NUMBA_CACHE_DIR")
    record = {k: os.environ.get(k) for k in keys}
    record["imported"] = sorted(m for m in ("numba", "rasterio", "dask", "glymur", "pyproj")
                                if m in sys.modules)
    (out / "env.json").write_text(json.dumps(record))


def broadcast(ctx):
    """A bug: two arrays that do not broadcast."""
    import numpy as np

    (ctx.output("DEMO_L1") / "part.txt").write_text("half")
    return np.zeros(3) + np.zeros(4)
