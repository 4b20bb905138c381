"""Resampling of a sensor or map image onto an output grid driven by a coarse coordinate grid.

The output pixel ``(i, j)`` takes the value of the source at ``(row, col)`` (pixel-centre
coordinates: source pixel ``k`` is centred on ``k``), where ``(row, col)`` is interpolated
bilinearly from a coarse grid of source coordinates given at output pixels ``(gi·step, gj·step)``
(an inverse-location or reprojection grid, as the S2 IPF "resampling grids" and GDAL's
approximate transformer). Outside the source footprint ``[-0.5, n - 0.5]`` the output is
``nodata``.

Methods: ``"cubic"``, the Keys cubic convolution (a = -0.5; Keys, IEEE TASSP 29(6), 1981), as
GDAL's ``cubic``; ``"nearest"`` for masks. Numba kernels, one pass over the output, with NumPy
references (:func:`warp_reference`).
"""

from __future__ import annotations

import functools

import numpy as np


__all__ = ["METHODS", "grid_shape", "cubic_kernels", "warp", "keys_weights", "warp_reference"]

METHODS = ("cubic", "nearest")


def grid_shape(out_shape: tuple[int, int], step: int) -> tuple[int, int]:
    """Shape of the coarse grid covering ``out_shape`` with nodes every ``step`` output pixels."""
    return (-(-(out_shape[0] - 1) // step) + 1, -(-(out_shape[1] - 1) // step) + 1)


@functools.cache
def cubic_kernels():
    """Numba functions shared by the resampling kernels: ``keys(t, w)``, the 4 Keys cubic
    weights (a = -0.5) of a fractional offset 0 <= ``t`` < 1 into ``w`` (taps at -1, 0, 1, 2), in
    closed form; ``sample4x4(src, r0, c0, wr, wc)``, the separable 4 × 4 sum of ``src`` around
    (``r0``, ``c0``) with border-clamped indices."""
    import numba

    @numba.njit(cache=True)
    def keys(t, w):
        t2 = t * t
        t3 = t2 * t
        w[0] = -0.5 * t3 + t2 - 0.5 * t
        w[1] = 1.5 * t3 - 2.5 * t2 + 1.0
        w[2] = -1.5 * t3 + 2.0 * t2 + 0.5 * t
        w[3] = 0.5 * t3 - 0.5 * t2

    @numba.njit(cache=True)
    def sample4x4(src, r0, c0, wr, wc):
        h, w = src.shape
        acc = 0.0
        if 1 <= r0 and r0 + 2 < h and 1 <= c0 and c0 + 2 < w:
            a0 = src[r0 - 1, c0 - 1:c0 + 3]
            a1 = src[r0, c0 - 1:c0 + 3]
            a2 = src[r0 + 1, c0 - 1:c0 + 3]
            a3 = src[r0 + 2, c0 - 1:c0 + 3]
            return (wr[0] * (wc[0] * a0[0] + wc[1] * a0[1] + wc[2] * a0[2] + wc[3] * a0[3])
                    + wr[1] * (wc[0] * a1[0] + wc[1] * a1[1] + wc[2] * a1[2] + wc[3] * a1[3])
                    + wr[2] * (wc[0] * a2[0] + wc[1] * a2[1] + wc[2] * a2[2] + wc[3] * a2[3])
                    + wr[3] * (wc[0] * a3[0] + wc[1] * a3[1] + wc[2] * a3[2] + wc[3] * a3[3]))
        for a in range(4):
            ri = min(max(r0 - 1 + a, 0), h - 1)
            line = 0.0
            for b in range(4):
                line += wc[b] * src[ri, min(max(c0 - 1 + b, 0), w - 1)]
            acc += wr[a] * line
        return acc

    return keys, sample4x4


@functools.cache
def _kernels():
    global keys, sample4x4  # helpers as globals, not closure cells: ipf.interface.runtime
    import numba

    keys, sample4x4 = cubic_kernels()

    @numba.njit(cache=True)
    def warp(src, grid_r, grid_c, step, out, nodata, cubic):
        h, w = src.shape
        out_h, out_w = out.shape
        gh, gw = grid_r.shape
        rows = np.empty(gw)
        cols = np.empty(gw)
        wr = np.empty(4)
        wc = np.empty(4)
        for i in range(out_h):
            gy = i / step
            iy = min(int(gy), gh - 2)
            fy = gy - iy
            for g in range(gw):
                rows[g] = grid_r[iy, g] * (1 - fy) + grid_r[iy + 1, g] * fy
                cols[g] = grid_c[iy, g] * (1 - fy) + grid_c[iy + 1, g] * fy
            for j in range(out_w):
                gx = j / step
                ix = min(int(gx), gw - 2)
                fx = gx - ix
                r = rows[ix] * (1 - fx) + rows[ix + 1] * fx
                c = cols[ix] * (1 - fx) + cols[ix + 1] * fx
                if not (-0.5 <= r <= h - 0.5 and -0.5 <= c <= w - 0.5):
                    out[i, j] = nodata
                    continue
                if not cubic:
                    out[i, j] = src[min(int(np.floor(r + 0.5)), h - 1),
                                    min(int(np.floor(c + 0.5)), w - 1)]
                    continue
                r0 = int(np.floor(r))
                c0 = int(np.floor(c))
                keys(r - r0, wr)
                keys(c - c0, wc)
                out[i, j] = sample4x4(src, r0, c0, wr, wc)

    return warp


def _check(src, grid_r, grid_c, out_shape, step, method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if grid_r.shape != grid_c.shape or grid_r.shape != grid_shape(out_shape, step):
        raise ValueError(f"grid of shape {grid_r.shape} does not cover {out_shape} every {step} "
                         f"pixels (expected {grid_shape(out_shape, step)})")


def warp(src: np.ndarray, grid_r: np.ndarray, grid_c: np.ndarray, out_shape: tuple[int, int],
         step: int, method: str = "cubic", nodata: float = 0, dtype=None) -> np.ndarray:
    """Resample ``src`` (lines, pixels) onto an ``out_shape`` grid (see the module docstring).

    grid_r, grid_c: (gh, gw) float64 source row and column of output pixels (gi·step, gj·step),
    shape :func:`grid_shape`; method: ``"cubic"`` or ``"nearest"``; dtype: output type (default:
    float32 for cubic, the source's for nearest). Numba kernel; one thread.
    """
    _check(src, grid_r, grid_c, out_shape, step, method)
    dtype = dtype or (np.float32 if method == "cubic" else src.dtype)
    out = np.empty(out_shape, dtype)
    _kernels()(np.ascontiguousarray(src), np.ascontiguousarray(grid_r, np.float64),
               np.ascontiguousarray(grid_c, np.float64), step, out, nodata, method == "cubic")
    return out


def keys_weights(t: np.ndarray) -> np.ndarray:
    """NumPy reference of the ``keys`` kernel of :func:`cubic_kernels`: the Keys cubic convolution
    weights (a = -0.5) of the taps at -1, 0, 1, 2 for fractional offsets ``t`` (pixel), stacked on
    a last axis of 4 (Keys, IEEE TASSP 29(6), 1981)."""
    a = -0.5
    x = np.abs(t[..., None] - (np.arange(4) - 1))
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def warp_reference(src: np.ndarray, grid_r: np.ndarray, grid_c: np.ndarray,
                   out_shape: tuple[int, int], step: int, method: str = "cubic",
                   nodata: float = 0, dtype=None) -> np.ndarray:
    """NumPy reference of :func:`warp` (whole-array; for tests)."""
    _check(src, grid_r, grid_c, out_shape, step, method)
    h, w = src.shape
    gi = np.arange(out_shape[0]) / step
    gj = np.arange(out_shape[1]) / step
    iy = np.minimum(gi.astype(int), grid_r.shape[0] - 2)
    ix = np.minimum(gj.astype(int), grid_r.shape[1] - 2)
    fy, fx = (gi - iy)[:, None], gj - ix

    def interp(g):
        rows = g[iy] * (1 - fy) + g[iy + 1] * fy
        return rows[:, ix] * (1 - fx) + rows[:, ix + 1] * fx

    r, c = interp(grid_r), interp(grid_c)
    inside = (r >= -0.5) & (r <= h - 0.5) & (c >= -0.5) & (c <= w - 0.5)
    dtype = dtype or (np.float32 if method == "cubic" else src.dtype)
    if method == "nearest":
        out = src[np.minimum(np.floor(r + 0.5).astype(int), h - 1).clip(0),
                  np.minimum(np.floor(c + 0.5).astype(int), w - 1).clip(0)].astype(dtype)
    else:
        r0, c0 = np.floor(r).astype(int), np.floor(c).astype(int)
        wr, wc = keys_weights(r - r0), keys_weights(c - c0)
        acc = np.zeros(out_shape)
        for a in range(4):
            ri = np.clip(r0 - 1 + a, 0, h - 1)
            line = np.zeros(out_shape)
            for b in range(4):
                line += wc[..., b] * src[ri, np.clip(c0 - 1 + b, 0, w - 1)]
            acc += wr[..., a] * line
        out = acc.astype(dtype)
    out[~inside] = nodata
    return out
