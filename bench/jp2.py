"""JPEG 2000 writing of a full L1C tile (13 bands at full tile size, 673 Mpix) with
:func:`ipf.formats.jp2.write_jp2` against plain ``glymur`` encoding of the same arrays with the
same parameters (GIP_JP2KPA of the simulator: lossless 5/3, 1024² tiles, 6 resolutions, 64²
code-blocks, 1 layer, LRCP), one OpenJPEG thread, in the same run, band by band in turn.

The content is a textured field with noise in the range of L1C counts (reflectance 0.05..0.35):
lossless coding speed depends on the entropy of the image, so a flat or random image would not
be representative. Goal: our overhead (tile feeding, JP2 boxes, the copy into the container, the
atomic rename) at most 10 %. With the optional HTJ2K encoder installed, the same arrays are also
written with GIP_JP2KPA ``htj2k`` (RPCL), against our classic coding.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

GOAL_OVERHEAD = 0.10


def _band(n: int, index: int, rng: np.random.Generator) -> np.ndarray:
    """A textured uint16 image of n × n L1C counts: smooth structures, fine texture, noise."""
    y = np.arange(n, dtype=np.float32)[:, None]
    x = np.arange(n, dtype=np.float32)[None, :]
    block_rows = min(n, 1098)
    yb = y[:block_rows]
    field = (2500 + 900 * np.sin(x / 97.0 + index) * np.cos(yb / 131.0)
             + 300 * np.sin(x / 7.0) * np.cos(yb / 11.0 + index)
             + rng.normal(0, 40, (block_rows, n)).astype(np.float32))
    block = np.clip(field, 1, 32767).astype(np.uint16)
    return np.tile(block, (-(-n // block_rows), 1))[:n]


def run() -> dict:
    import glymur

    from ipf.formats import gipp, jp2
    from ipf.formats.msi_bands import BANDS
    from ipf.geometry.tiles import TILE_SIZE_M

    params = gipp.GIP_JP2KPA(reversible=True, n_resolutions=6, codeblock_size=64, tile_size=1024,
                             n_layers=1, progression_order="LRCP")
    try:
        import imagecodecs  # noqa: F401  (the optional HTJ2K encoder)
        ht = params.model_copy(update={"htj2k": True, "progression_order": "RPCL"})
    except ImportError:
        ht = None
    rng = np.random.default_rng(7)
    t_ours = t_glymur = t_ht = 0.0
    mpix = 0.0
    size_ours = size_glymur = size_ht = 0
    before = glymur.get_option("lib.num_threads")
    glymur.set_option("lib.num_threads", 1)
    try:
        with tempfile.TemporaryDirectory(dir=os.environ.get("IPF_BENCH_TMP")) as tmp:
            tmp = Path(tmp)
            for b in BANDS:
                res = b.resolution_m
                a = _band(int(TILE_SIZE_M // res), b.index, rng)
                mpix += a.size / 1e6
                t0 = time.perf_counter()
                ours = jp2.write_jp2(tmp / f"ours_{b.name}.jp2", a, 32631, 499980.0, 4900020.0, res, params)
                t_ours += time.perf_counter() - t0
                t0 = time.perf_counter()
                glymur.Jp2k(tmp / f"glymur_{b.name}.jp2", data=a, **jp2.encoder_options(params, a.shape, False))
                t_glymur += time.perf_counter() - t0
                size_ours += ours.stat().st_size
                size_glymur += (tmp / f"glymur_{b.name}.jp2").stat().st_size
                ours.unlink()
                (tmp / f"glymur_{b.name}.jp2").unlink()
                if ht is not None:
                    t0 = time.perf_counter()
                    p = jp2.write_jp2(tmp / f"ht_{b.name}.jp2", a, 32631, 499980.0, 4900020.0, res, ht, htj2k=True)
                    t_ht += time.perf_counter() - t0
                    size_ht += p.stat().st_size
                    p.unlink()
    finally:
        glymur.set_option("lib.num_threads", before)
    overhead = t_ours / t_glymur - 1
    out = {"jp2.tile": {
        "name": f"JPEG 2000 lossless, full tile 13 bands ({mpix:.0f} Mpix), one thread", "unit": "s",
        "value": round(t_ours, 1), "mpix_per_s": round(mpix / t_ours, 2),
        "anchor_name": "plain glymur.Jp2k(data=...) same parameters", "anchor": round(t_glymur, 1),
        "anchor_mpix_per_s": round(mpix / t_glymur, 2), "ratio": round(t_glymur / t_ours, 3),
        "goal": round(1 / (1 + GOAL_OVERHEAD), 3), "goal_met": overhead <= GOAL_OVERHEAD,
        "overhead_pct": round(100 * overhead, 1), "mib_ours": round(size_ours / 2**20, 1),
        "mib_anchor": round(size_glymur / 2**20, 1)}}
    if ht is not None:
        out["jp2.tile_htj2k"] = {
            "name": "HTJ2K lossless (GIP_JP2KPA htj2k, OpenJPH), same 13 bands", "unit": "s",
            "value": round(t_ht, 1), "mpix_per_s": round(mpix / t_ht, 2), "mib": round(size_ht / 2**20, 1),
            "anchor_name": "our classic JPEG 2000 of the same arrays", "anchor": round(t_ours, 1),
            "ratio": round(t_ours / t_ht, 2)}
    return out

if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
