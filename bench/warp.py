"""Resampling kernel against ``rasterio.warp.reproject`` (GDAL cubic, one thread), same run.

A 10980 × 10980 10 m image in UTM 31N (EPSG:32631) whose content is an analytic field is
reprojected onto a 10980 × 10980 10 m grid of UTM 32N around the same place. Ours: pyproj on a
grid every 16 output pixels, then :func:`ipf.geometry.warp.warp` (Keys cubic). Anchor: GDAL's
cubic warp through rasterio with ``num_threads=1`` and its default approximate transformer. Both
are compared with the analytic field at 200 000 random output pixels transformed exactly.
"""

from __future__ import annotations

import os
import time

import numpy as np

N = 10980
STEP = 16
E0, N0 = 499980.0, 4900020.0  # upper-left corner of the source tile, UTM 31N


def field(e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Analytic scene: sinusoids of 60 m to 2 km wavelength (values 0..4000)."""
    out = 2000 + 600 * np.sin(e / 320.0) * np.cos(n / 410.0)
    for k, (we, wn) in enumerate(((61.0, 97.0), (131.0, 73.0), (47.0, 233.0))):
        out += (250 / (k + 1)) * np.sin(e / we * 2 * np.pi / 6.3 + n / wn * 2 * np.pi / 6.3 + k)
    return out


def run() -> dict:
    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import pyproj
    import rasterio.warp
    from rasterio.transform import Affine

    from ipf.geometry import warp

    cols = E0 + 10 * (np.arange(N) + 0.5)
    src = np.empty((N, N), np.float32)
    for r0 in range(0, N, 1098):
        rows = N0 - 10 * (np.arange(r0, min(r0 + 1098, N)) + 0.5)
        src[r0:r0 + len(rows)] = field(cols[None, :], rows[:, None])
    to31 = pyproj.Transformer.from_crs(32632, 32631, always_xy=True)
    to32 = pyproj.Transformer.from_crs(32631, 32632, always_xy=True)
    ce, cn = to32.transform(E0 + 5 * N, N0 - 5 * N)
    e1, n1 = round(ce / 10) * 10 - 5 * N, round(cn / 10) * 10 + 5 * N  # UL of the output tile
    src_tr = Affine(10, 0, E0, 0, -10, N0)
    dst_tr = Affine(10, 0, e1, 0, -10, n1)

    t0 = time.perf_counter()
    gh, gw = warp.grid_shape((N, N), STEP)
    ge = e1 + 10 * (np.arange(gw) * STEP + 0.5)
    gn = n1 - 10 * (np.arange(gh) * STEP + 0.5)
    x31, y31 = to31.transform(*np.meshgrid(ge, gn))
    grid_c = (np.asarray(x31) - E0) / 10 - 0.5
    grid_r = (N0 - np.asarray(y31)) / 10 - 0.5
    ours = warp.warp(src, grid_r, grid_c, (N, N), STEP, "cubic", nodata=-1)
    t_ours = time.perf_counter() - t0

    gdal = np.full((N, N), -1, np.float32)
    t0 = time.perf_counter()
    rasterio.warp.reproject(src, gdal, src_transform=src_tr, src_crs="EPSG:32631",
                            dst_transform=dst_tr, dst_crs="EPSG:32632", dst_nodata=-1,
                            resampling=rasterio.warp.Resampling.cubic, num_threads=1)
    t_gdal = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    i, j = rng.integers(0, N, 200_000), rng.integers(0, N, 200_000)
    e, n = to31.transform(e1 + 10 * (j + 0.5), n1 - 10 * (i + 0.5))
    truth = field(np.asarray(e), np.asarray(n))
    both = (ours[i, j] != -1) & (gdal[i, j] != -1)
    rmse = {k: float(np.sqrt(np.mean((v[i, j][both] - truth[both]) ** 2)))
            for k, v in (("ours", ours), ("gdal", gdal))}
    return {"warp.cubic": {
        "name": f"cubic resampling {N}x{N}, UTM31 -> UTM32, one thread", "unit": "s",
        "value": round(t_ours, 2), "anchor_name": "rasterio.warp.reproject cubic",
        "anchor": round(t_gdal, 2), "ratio": round(t_gdal / t_ours, 2), "goal": 2.0,
        "goal_met": t_gdal / t_ours >= 2.0 and rmse["ours"] <= rmse["gdal"],
        "rmse_ours": round(rmse["ours"], 4), "rmse_anchor": round(rmse["gdal"], 4),
        "rmse_unit": "DN of a 0..4000 field", "compared_pixels": int(both.sum())}}
