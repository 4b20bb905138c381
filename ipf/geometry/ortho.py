"""Orthorectification of L1B detector images onto a tile grid.

For each (band, detector), :func:`inverse_grid` inverse-locates the nodes of a coarse grid of
the tile (output pixels ``(gi·step, gj·step)`` of the band's resolution, pixel centres) at two
ellipsoidal heights ``h_lo`` and ``h_hi`` bracketing the tile's DEM, giving the detector's
(line, pixel) at each node and height. An output pixel then takes its (line, pixel) by bilinear
interpolation between nodes and linear interpolation in its DEM height (the parallax of a line
of sight is linear in height to < 0.005 pixel over 3 km; :mod:`ipf.geometry.grid` gives the
interpolation error against node spacing), and the L1B radiance there by Keys cubic convolution
(:mod:`ipf.geometry.warp`), the mask by nearest neighbour.

Detector overlaps: an output pixel seen by several detectors takes the one in which it lies
farthest from the array ends, i.e. the larger of ``pixel + 0.5`` and ``n_pixels - 0.5 - pixel``'s
minimum (so the switch is in the middle of the overlap, away from the edge pixels); ties go to
the detector processed first. Pixels no detector sees, or on lines outside the L1B image, are
no data.

The kernel (:func:`ortho_strip`, numba) works on a strip of output rows at a time and keeps a
per-pixel score, so detectors are accumulated one after the other with bounded memory;
:func:`ortho_strip_reference` is its NumPy reference (equal in tests).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ipf.geometry.warp import _keys_ref, grid_shape

NO_DETECTOR = 0
"""Detector-footprint value of pixels no detector sees."""

NODATA_SCORE = -1.0

NEWTON_NEAR = 4
"""Nodes farther than this many node cells outside the image keep the affine inverse estimate."""


@dataclass(frozen=True)
class TileDem:
    """Heights (rows, cols) float32, m above the ellipsoid, in the tile's UTM zone; centre of
    pixel (0, 0) at (x0, y0), ``step`` m (north-up)."""

    heights: np.ndarray
    x0: float
    y0: float
    step: float


@dataclass(frozen=True)
class InverseGrid:
    """(line, pixel) of one (band, detector) at the nodes of a tile grid.

    line, pixel: (2, gh, gw) float64 at heights ``h_lo`` (index 0) and ``h_hi`` (index 1) of
    output pixels (gi·step, gj·step); ``lines``, ``pixels``: size of the L1B image.
    """

    line: np.ndarray
    pixel: np.ndarray
    h_lo: float
    h_hi: float
    step: int
    lines: int
    pixels: int


def node_coordinates(ulx: float, uly: float, resolution: float, out_shape: tuple[int, int],
                     step: int) -> tuple[np.ndarray, np.ndarray]:
    """UTM (E, N), m, of the grid nodes (centres of output pixels ``(gi·step, gj·step)``)."""
    gh, gw = grid_shape(out_shape, step)
    rows = np.minimum(np.arange(gh) * step, (gh - 1) * step)
    cols = np.arange(gw) * step
    e = ulx + (cols + 0.5) * resolution
    n = uly - (rows + 0.5) * resolution
    return np.meshgrid(e, n)


def inverse_grid(location_grid, ulx: float, uly: float, resolution: float,
                 out_shape: tuple[int, int], step: int, h_range: tuple[float, float],
                 lines: int, pixels: int) -> InverseGrid:
    """Inverse location of the tile nodes in one (band, detector).

    location_grid: :class:`~ipf.geometry.grid.LocationGrid` of the (band, detector) in the
    tile's UTM zone, covering ``h_range``; ulx, uly: tile upper-left corner (m); resolution: m;
    out_shape: tile shape at ``resolution``; step: output pixels between nodes; h_range: lowest
    and highest DEM height of the tile (m).
    """
    h_lo, h_hi = float(h_range[0]), float(h_range[1])
    if h_hi - h_lo < 1.0:
        h_hi = h_lo + 1.0
    e, n = node_coordinates(ulx, uly, resolution, out_shape, step)
    line = np.empty((2,) + e.shape)
    pix = np.empty((2,) + e.shape)
    for k, h in enumerate((h_lo, h_hi)):
        line[k], pix[k] = location_grid.inverse(e, n, np.full(e.shape, h), near=NEWTON_NEAR * step)
    return InverseGrid(line, pix, h_lo, h_hi, step, lines, pixels)


def column_window(grid: InverseGrid, row0: int, row1: int, width: int, margin: float = 4.0
                  ) -> tuple[int, int]:
    """Output columns [c0, c1) of rows [row0, row1) that the detector may see (empty: c0 == c1).

    Conservative: from the nodes of the grid rows around the strip, at both heights, with
    ``margin`` L1B pixels and one node cell of slack.
    """
    g0 = max(row0 // grid.step, 0)
    g1 = min(-(-row1 // grid.step) + 1, grid.line.shape[1])
    p = grid.pixel[:, g0:g1]
    l = grid.line[:, g0:g1]
    seen = ((p >= -0.5 - margin) & (p <= grid.pixels - 0.5 + margin)
            & (l >= -0.5 - margin) & (l <= grid.lines - 0.5 + margin)).any(axis=(0, 1))
    if not seen.any():
        return 0, 0
    j = np.flatnonzero(seen)
    c0 = max((int(j[0]) - 1) * grid.step, 0)
    c1 = min((int(j[-1]) + 1) * grid.step + 1, width)
    return c0, c1


@functools.cache
def _kernels():
    import numba

    from ipf.geometry.warp import keys_kernel

    keys = keys_kernel()

    @numba.njit(cache=True)
    def strip(src, mask, g_line, g_pix, h_lo, h_hi, step, dem, dem_c0, dem_r0, dem_scale,
              row0, c0, c1, detector, out, out_mask, out_det, score):
        h, w = src.shape
        dh, dw = dem.shape
        gh, gw = g_line.shape[1], g_line.shape[2]
        rows_l = np.empty((2, gw))
        rows_p = np.empty((2, gw))
        wr = np.empty(4)
        wc = np.empty(4)
        inv_dh = 1.0 / (h_hi - h_lo)
        for i in range(out.shape[0]):
            gy = (row0 + i) / step
            iy = min(int(gy), gh - 2)
            fy = gy - iy
            for k in range(2):
                for g in range(gw):
                    rows_l[k, g] = g_line[k, iy, g] * (1 - fy) + g_line[k, iy + 1, g] * fy
                    rows_p[k, g] = g_pix[k, iy, g] * (1 - fy) + g_pix[k, iy + 1, g] * fy
            dr = min(max(dem_r0 + (row0 + i) * dem_scale, 0.0), dh - 1.000001)
            ir = int(dr)
            fr = dr - ir
            for j in range(c0, c1):
                dc = min(max(dem_c0 + j * dem_scale, 0.0), dw - 1.000001)
                ic = int(dc)
                fc = dc - ic
                hh = ((dem[ir, ic] * (1 - fc) + dem[ir, ic + 1] * fc) * (1 - fr)
                      + (dem[ir + 1, ic] * (1 - fc) + dem[ir + 1, ic + 1] * fc) * fr)
                fz = (hh - h_lo) * inv_dh
                gx = j / step
                ix = min(int(gx), gw - 2)
                fx = gx - ix
                l0 = rows_l[0, ix] * (1 - fx) + rows_l[0, ix + 1] * fx
                l1 = rows_l[1, ix] * (1 - fx) + rows_l[1, ix + 1] * fx
                p0 = rows_p[0, ix] * (1 - fx) + rows_p[0, ix + 1] * fx
                p1 = rows_p[1, ix] * (1 - fx) + rows_p[1, ix + 1] * fx
                r = l0 + (l1 - l0) * fz
                c = p0 + (p1 - p0) * fz
                if not (-0.5 <= r <= h - 0.5 and -0.5 <= c <= w - 0.5):
                    continue
                s = min(c + 0.5, w - 0.5 - c)
                if s <= score[i, j]:
                    continue
                score[i, j] = s
                out_det[i, j] = detector
                out_mask[i, j] = mask[min(int(np.floor(r + 0.5)), h - 1), min(int(np.floor(c + 0.5)), w - 1)]
                r0 = int(np.floor(r))
                cc0 = int(np.floor(c))
                keys(r - r0, wr)
                keys(c - cc0, wc)
                acc = 0.0
                for a in range(4):
                    ri = min(max(r0 - 1 + a, 0), h - 1)
                    line = 0.0
                    for b in range(4):
                        line += wc[b] * src[ri, min(max(cc0 - 1 + b, 0), w - 1)]
                    acc += wr[a] * line
                out[i, j] = acc

    return strip


def _dem_origin(dem: TileDem, ulx: float, uly: float, resolution: float) -> tuple[float, float, float]:
    """DEM (col, row) of output pixel (0, 0) and DEM pixels per output pixel."""
    return ((ulx + 0.5 * resolution - dem.x0) / dem.step, (dem.y0 - (uly - 0.5 * resolution)) / dem.step,
            resolution / dem.step)


def ortho_strip(src: np.ndarray, mask: np.ndarray, grid: InverseGrid, dem: TileDem, ulx: float,
                uly: float, resolution: float, row0: int, window: tuple[int, int], detector: int,
                out: np.ndarray, out_mask: np.ndarray, out_det: np.ndarray, score: np.ndarray) -> None:
    """Accumulate one detector into an output strip (numba; updates the ``out*`` arrays).

    src: (lines, pixels) float32 radiance; mask: same shape uint8 (its NO_DATA bit should be
    dilated by 2 pixels beforehand, the cubic support); row0: first output row of the strip;
    window: output columns (c0, c1) to visit; out (float32), out_mask (uint8), out_det (uint8),
    score (float32, start at :data:`NODATA_SCORE`): (strip rows, tile width).
    """
    if min(dem.heights.shape) < 2:
        raise ValueError("the tile DEM needs at least 2 × 2 heights")
    dc0, dr0, scale = _dem_origin(dem, ulx, uly, resolution)
    _kernels()(np.ascontiguousarray(src, np.float32), np.ascontiguousarray(mask, np.uint8),
               np.ascontiguousarray(grid.line), np.ascontiguousarray(grid.pixel), grid.h_lo, grid.h_hi,
               grid.step, np.ascontiguousarray(dem.heights, np.float32), dc0, dr0, scale, row0,
               int(window[0]), int(window[1]), detector, out, out_mask, out_det, score)


def image_coordinates_reference(grid: InverseGrid, dem: TileDem, ulx: float, uly: float,
                                resolution: float, rows: np.ndarray, cols: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, pixel, height) of output pixels (rows, cols broadcast), NumPy."""
    rows, cols = np.broadcast_arrays(np.asarray(rows, np.float64), np.asarray(cols, np.float64))
    dc0, dr0, scale = _dem_origin(dem, ulx, uly, resolution)
    dh, dw = dem.heights.shape
    dr = np.clip(dr0 + rows * scale, 0, dh - 1.000001)
    dc = np.clip(dc0 + cols * scale, 0, dw - 1.000001)
    ir, ic = dr.astype(np.int64), dc.astype(np.int64)
    fr, fc = dr - ir, dc - ic
    d = dem.heights.astype(np.float64)
    hh = ((d[ir, ic] * (1 - fc) + d[ir, ic + 1] * fc) * (1 - fr)
          + (d[ir + 1, ic] * (1 - fc) + d[ir + 1, ic + 1] * fc) * fr)
    gh, gw = grid.line.shape[1:]
    gy, gx = rows / grid.step, cols / grid.step
    iy = np.minimum(gy.astype(np.int64), gh - 2)
    ix = np.minimum(gx.astype(np.int64), gw - 2)
    fy, fx = gy - iy, gx - ix

    def interp(g):
        return ((g[iy, ix] * (1 - fy) + g[iy + 1, ix] * fy) * (1 - fx)
                + (g[iy, ix + 1] * (1 - fy) + g[iy + 1, ix + 1] * fy) * fx)

    fz = (hh - grid.h_lo) / (grid.h_hi - grid.h_lo)
    l0, l1, p0, p1 = (interp(g) for g in (grid.line[0], grid.line[1], grid.pixel[0], grid.pixel[1]))
    return l0 + (l1 - l0) * fz, p0 + (p1 - p0) * fz, hh


def ortho_strip_reference(src, mask, grid: InverseGrid, dem: TileDem, ulx, uly, resolution, row0,
                          window, detector, out, out_mask, out_det, score) -> None:
    """NumPy reference of :func:`ortho_strip` (same arguments and effect)."""
    c0, c1 = window
    if c1 <= c0:
        return
    rows = (row0 + np.arange(out.shape[0]))[:, None]
    cols = np.arange(c0, c1)[None, :]
    r, c, _ = image_coordinates_reference(grid, dem, ulx, uly, resolution, rows, cols)
    h, w = src.shape
    inside = (r >= -0.5) & (r <= h - 0.5) & (c >= -0.5) & (c <= w - 0.5)
    s = np.minimum(c + 0.5, w - 0.5 - c)
    sub = score[:, c0:c1]
    take = inside & (s > sub)
    rr, cc = np.where(take, r, 0.0), np.where(take, c, 0.0)
    r0, cc0 = np.floor(rr).astype(np.int64), np.floor(cc).astype(np.int64)
    wr, wc = _keys_ref(rr - r0), _keys_ref(cc - cc0)
    acc = np.zeros(rr.shape)
    srcf = np.asarray(src, np.float64)
    for a in range(4):
        ri = np.clip(r0 - 1 + a, 0, h - 1)
        line = np.zeros(rr.shape)
        for b in range(4):
            line += wc[..., b] * srcf[ri, np.clip(cc0 - 1 + b, 0, w - 1)]
        acc += wr[..., a] * line
    near = mask[np.minimum(np.floor(rr + 0.5).astype(np.int64), h - 1).clip(0),
                np.minimum(np.floor(cc + 0.5).astype(np.int64), w - 1).clip(0)]
    out[:, c0:c1] = np.where(take, acc.astype(out.dtype), out[:, c0:c1])
    out_mask[:, c0:c1] = np.where(take, near, out_mask[:, c0:c1])
    out_det[:, c0:c1] = np.where(take, detector, out_det[:, c0:c1])
    score[:, c0:c1] = np.where(take, s.astype(score.dtype), sub)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2·radius + 1)² square (bool, same shape)."""
    out = mask.copy()
    for axis in (0, 1):
        m = out.copy()
        for k in range(1, radius + 1):
            if m.shape[axis] > k:
                a = [slice(None)] * 2
                b = [slice(None)] * 2
                a[axis], b[axis] = slice(k, None), slice(None, -k)
                out[tuple(a)] |= m[tuple(b)]
                out[tuple(b)] |= m[tuple(a)]
    return out
