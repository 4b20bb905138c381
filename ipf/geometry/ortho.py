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

from ipf.geometry.warp import grid_shape, keys_weights


__all__ = ["NO_DETECTOR", "NODATA_SCORE", "NEWTON_NEAR", "TileDem", "InverseGrid", "node_coordinates",
           "inverse_grid", "column_window", "tile_heights", "tile_heights_reference", "ortho_strip",
           "image_coordinates", "image_coordinates_reference", "ortho_strip_reference", "METHODS",
           "SPLINE_POLE", "spline_coefficients", "spline_coefficients_reference", "dilate", "NODATA_MARGIN",
           "OrthoSource", "ortho_source", "ortho_strips", "reachable_window"]

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
    global keys, sample4x4, bspline  # helpers as globals, not closure cells: ipf.interface.runtime
    import numba

    from ipf.geometry.warp import cubic_kernels

    keys, sample4x4 = cubic_kernels()

    @numba.njit(cache=True)
    def bspline(t, w):
        u = 1.0 - t
        w[0] = u * u * u / 6.0
        w[1] = (3.0 * t * t * t - 6.0 * t * t + 4.0) / 6.0
        w[2] = (-3.0 * t * t * t + 3.0 * t * t + 3.0 * t + 1.0) / 6.0
        w[3] = t * t * t / 6.0

    @numba.njit(cache=True)
    def strip(src, mask, g_line, g_pix, h_lo, h_hi, step, heights, hr0, hc0,
              row0, c0, c1, detector, out, out_mask, out_det, score, spline):
        h, w = src.shape
        gh, gw = g_line.shape[1], g_line.shape[2]
        n = c1 - c0
        cell = np.empty(n, np.int64)
        frac = np.empty(n)
        for j in range(c0, c1):
            gx = j / step
            ix = min(int(gx), gw - 2)
            cell[j - c0] = ix
            frac[j - c0] = gx - ix
        base = np.empty((4, gw))
        slope = np.empty((4, gw))
        wr = np.empty(4)
        wc = np.empty(4)
        inv_dh = 1.0 / (h_hi - h_lo)
        r_max, c_max = h - 0.5, w - 0.5
        for i in range(out.shape[0]):
            gy = (row0 + i) / step
            iy = min(int(gy), gh - 2)
            fy = gy - iy
            for k in range(2):
                for g in range(gw):
                    base[k, g] = g_line[k, iy, g] * (1 - fy) + g_line[k, iy + 1, g] * fy
                    base[2 + k, g] = g_pix[k, iy, g] * (1 - fy) + g_pix[k, iy + 1, g] * fy
            for k in range(4):
                for g in range(gw - 1):
                    slope[k, g] = base[k, g + 1] - base[k, g]
            hrow = heights[row0 + i - hr0]
            sc = score[i]
            for j in range(c0, c1):
                ix = cell[j - c0]
                fx = frac[j - c0]
                fz = (hrow[j - hc0] - h_lo) * inv_dh
                l0 = base[0, ix] + slope[0, ix] * fx
                l1 = base[1, ix] + slope[1, ix] * fx
                p0 = base[2, ix] + slope[2, ix] * fx
                p1 = base[3, ix] + slope[3, ix] * fx
                r = l0 + (l1 - l0) * fz
                c = p0 + (p1 - p0) * fz
                if not (-0.5 <= r <= r_max and -0.5 <= c <= c_max):
                    continue
                s = min(c + 0.5, c_max - c)
                if s <= sc[j]:
                    continue
                sc[j] = s
                out_det[i, j] = detector
                out_mask[i, j] = mask[min(int(np.floor(r + 0.5)), h - 1), min(int(np.floor(c + 0.5)), w - 1)]
                r0 = int(np.floor(r))
                cc0 = int(np.floor(c))
                if spline:
                    bspline(r - r0, wr)
                    bspline(c - cc0, wc)
                else:
                    keys(r - r0, wr)
                    keys(c - cc0, wc)
                out[i, j] = sample4x4(src, r0, cc0, wr, wc)

    @numba.njit(cache=True)
    def heights_kernel(dem, dc0, dr0, scale, r0, c0, out):
        dh, dw = dem.shape
        n = out.shape[1]
        ic = np.empty(n, np.int64)
        fc = np.empty(n)
        for j in range(n):
            dc = min(max(dc0 + (c0 + j) * scale, 0.0), dw - 1.000001)
            ic[j] = int(dc)
            fc[j] = dc - ic[j]
        for i in range(out.shape[0]):
            dr = min(max(dr0 + (r0 + i) * scale, 0.0), dh - 1.000001)
            ir = int(dr)
            fr = dr - ir
            top = dem[ir]
            bottom = dem[ir + 1]
            for j in range(n):
                k = ic[j]
                f = fc[j]
                out[i, j] = ((top[k] * (1 - f) + top[k + 1] * f) * (1 - fr)
                             + (bottom[k] * (1 - f) + bottom[k + 1] * f) * fr)

    return strip, heights_kernel


def _dem_origin(dem: TileDem, ulx: float, uly: float, resolution: float) -> tuple[float, float, float]:
    """DEM (col, row) of output pixel (0, 0) and DEM pixels per output pixel."""
    return ((ulx + 0.5 * resolution - dem.x0) / dem.step, (dem.y0 - (uly - 0.5 * resolution)) / dem.step,
            resolution / dem.step)


def tile_heights(dem: TileDem, ulx: float, uly: float, resolution: float, rows: tuple[int, int],
                 cols: tuple[int, int]) -> np.ndarray:
    """DEM heights (m, float32, bilinear, border-extended) of output pixels ``rows[0]:rows[1]`` ×
    ``cols[0]:cols[1]`` of a tile grid (upper-left corner ``ulx, uly``, ``resolution`` m).
    Numba; reference :func:`tile_heights_reference`."""
    if min(dem.heights.shape) < 2:
        raise ValueError("the tile DEM needs at least 2 × 2 heights")
    dc0, dr0, scale = _dem_origin(dem, ulx, uly, resolution)
    out = np.empty((rows[1] - rows[0], cols[1] - cols[0]), np.float32)
    _kernels()[1](np.ascontiguousarray(dem.heights, np.float32), dc0, dr0, scale, rows[0], cols[0], out)
    return out


def tile_heights_reference(dem: TileDem, ulx: float, uly: float, resolution: float,
                           rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """NumPy reference of :func:`tile_heights`."""
    r, c = np.meshgrid(np.arange(*rows, dtype=np.float64), np.arange(*cols, dtype=np.float64), indexing="ij")
    return _dem_bilinear(dem, ulx, uly, resolution, r, c).astype(np.float32)


def ortho_strip(src: np.ndarray, mask: np.ndarray, grid: InverseGrid, heights: np.ndarray,
                h_origin: tuple[int, int], row0: int, window: tuple[int, int], detector: int,
                out: np.ndarray, out_mask: np.ndarray, out_det: np.ndarray, score: np.ndarray,
                method: str = "bicubic") -> None:
    """Accumulate one detector into an output strip (numba; updates the ``out*`` arrays).

    src: (lines, pixels) float32 radiance, or for ``method="cubic_spline"`` its B-spline
    coefficients (:func:`spline_coefficients`); mask: same shape uint8 (its NO_DATA bit should
    be dilated beforehand over the interpolation's reach); heights: float32 DEM heights
    (:func:`tile_heights`) of output pixels from (row, col) ``h_origin``, covering the strip's
    rows and the window; row0: first output row of the strip; window: output columns (c0, c1)
    to visit; out (float32), out_mask (uint8), out_det (uint8), score (float32, start at
    :data:`NODATA_SCORE`): (strip rows, tile width); method: :data:`METHODS`.
    """
    _check_method(method)
    hr0, hc0 = h_origin
    if (row0 < hr0 or row0 + out.shape[0] > hr0 + heights.shape[0] or window[0] < hc0
            or window[1] > hc0 + heights.shape[1]):
        raise ValueError("the heights do not cover the strip")
    _kernels()[0](np.ascontiguousarray(src, np.float32), np.ascontiguousarray(mask, np.uint8),
                  np.ascontiguousarray(grid.line), np.ascontiguousarray(grid.pixel), grid.h_lo, grid.h_hi,
                  grid.step, np.ascontiguousarray(heights, np.float32), int(hr0), int(hc0), row0,
                  int(window[0]), int(window[1]), detector, out, out_mask, out_det, score,
                  method == "cubic_spline")


def _dem_bilinear(dem: TileDem, ulx, uly, resolution, rows, cols) -> np.ndarray:
    dc0, dr0, scale = _dem_origin(dem, ulx, uly, resolution)
    dh, dw = dem.heights.shape
    dr = np.clip(dr0 + rows * scale, 0, dh - 1.000001)
    dc = np.clip(dc0 + cols * scale, 0, dw - 1.000001)
    ir, ic = dr.astype(np.int64), dc.astype(np.int64)
    fr, fc = dr - ir, dc - ic
    d = dem.heights.astype(np.float64)
    return ((d[ir, ic] * (1 - fc) + d[ir, ic + 1] * fc) * (1 - fr)
            + (d[ir + 1, ic] * (1 - fc) + d[ir + 1, ic + 1] * fc) * fr)


def image_coordinates(grid: InverseGrid, heights: np.ndarray, rows: np.ndarray, cols: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(line, pixel) of output pixels (rows, cols, heights m: broadcast arrays), NumPy."""
    rows, cols, heights = np.broadcast_arrays(np.asarray(rows, np.float64), np.asarray(cols, np.float64),
                                              np.asarray(heights, np.float64))
    gh, gw = grid.line.shape[1:]
    gy, gx = rows / grid.step, cols * (1.0 / grid.step)
    iy = np.minimum(gy.astype(np.int64), gh - 2)
    ix = np.minimum(gx.astype(np.int64), gw - 2)
    fy, fx = gy - iy, gx - ix

    def interp(g):
        return ((g[iy, ix] * (1 - fy) + g[iy + 1, ix] * fy) * (1 - fx)
                + (g[iy, ix + 1] * (1 - fy) + g[iy + 1, ix + 1] * fy) * fx)

    fz = (heights - grid.h_lo) / (grid.h_hi - grid.h_lo)
    l0, l1, p0, p1 = (interp(g) for g in (grid.line[0], grid.line[1], grid.pixel[0], grid.pixel[1]))
    return l0 + (l1 - l0) * fz, p0 + (p1 - p0) * fz


def image_coordinates_reference(grid: InverseGrid, dem: TileDem, ulx: float, uly: float,
                                resolution: float, rows: np.ndarray, cols: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, pixel, height) of output pixels (rows, cols broadcast) with float64 DEM heights."""
    rows, cols = np.broadcast_arrays(np.asarray(rows, np.float64), np.asarray(cols, np.float64))
    hh = _dem_bilinear(dem, ulx, uly, resolution, rows, cols)
    r, c = image_coordinates(grid, hh, rows, cols)
    return r, c, hh


def _bspline_ref(t: np.ndarray) -> np.ndarray:
    u = 1.0 - t
    return np.stack([u**3 / 6, (3 * t**3 - 6 * t**2 + 4) / 6, (-3 * t**3 + 3 * t**2 + 3 * t + 1) / 6,
                     t**3 / 6], axis=-1)


def ortho_strip_reference(src, mask, grid: InverseGrid, heights, h_origin, row0, window, detector, out,
                          out_mask, out_det, score, method: str = "bicubic") -> None:
    """NumPy reference of :func:`ortho_strip` (same arguments and effect)."""
    _check_method(method)
    weights = _bspline_ref if method == "cubic_spline" else keys_weights
    c0, c1 = window
    if c1 <= c0:
        return
    rows = (row0 + np.arange(out.shape[0]))[:, None]
    cols = np.arange(c0, c1)[None, :]
    hh = np.asarray(heights)[row0 - h_origin[0]:row0 - h_origin[0] + out.shape[0],
                             c0 - h_origin[1]:c1 - h_origin[1]]
    r, c = image_coordinates(grid, hh, rows, cols)
    h, w = src.shape
    inside = (r >= -0.5) & (r <= h - 0.5) & (c >= -0.5) & (c <= w - 0.5)
    s = np.minimum(c + 0.5, w - 0.5 - c)
    sub = score[:, c0:c1]
    take = inside & (s > sub)
    rr, cc = np.where(take, r, 0.0), np.where(take, c, 0.0)
    r0, cc0 = np.floor(rr).astype(np.int64), np.floor(cc).astype(np.int64)
    wr, wc = weights(rr - r0), weights(cc - cc0)
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


METHODS = ("bicubic", "cubic_spline")
"""Resampling of the radiance: Keys cubic convolution (a = -0.5; Keys, IEEE TASSP 29(6), 1981)
or cubic B-spline interpolation (Unser, IEEE Signal Processing Magazine 16(6), 1999); the masks
are always resampled by nearest neighbour."""

SPLINE_POLE = np.sqrt(3.0) - 2.0


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"resampling method must be one of {METHODS}, got {method!r}")


@functools.cache
def _spline_kernel():
    import numba

    @numba.njit(cache=True)
    def filter_rows(a, z, horizon):
        n = a.shape[1]
        period = 2 * n - 2
        lam = (1 - z) * (1 - 1 / z)
        for i in range(a.shape[0]):
            if n == 1:
                continue
            for k in range(n):
                a[i, k] *= lam
            s = 0.0
            zk = 1.0
            for k in range(min(horizon, period)):
                m = k % period
                if m >= n:
                    m = period - m
                s += zk * a[i, m]
                zk *= z
            a[i, 0] = s / (1 - zk) if horizon >= period else s
            for k in range(1, n):
                a[i, k] += z * a[i, k - 1]
            a[i, n - 1] = (z / (z * z - 1)) * (a[i, n - 1] + z * a[i, n - 2])
            for k in range(n - 2, -1, -1):
                a[i, k] = z * (a[i, k + 1] - a[i, k])

    return filter_rows


def spline_coefficients(image: np.ndarray) -> np.ndarray:
    """Cubic B-spline coefficients of ``image`` (float32, same shape): the samples of the
    interpolating spline are the image (mirror boundaries); recursive filter of pole √3 - 2 along
    each axis (Unser, Aldroubi & Eden, IEEE TSP 41(2), 1993). Numba; reference
    :func:`spline_coefficients_reference`."""
    a = np.array(image, np.float64)
    f = _spline_kernel()
    horizon = int(np.ceil(np.log(1e-12) / np.log(abs(SPLINE_POLE))))
    f(a, SPLINE_POLE, horizon)
    at = np.ascontiguousarray(a.T)
    f(at, SPLINE_POLE, horizon)
    return np.ascontiguousarray(at.T, np.float32)


def spline_coefficients_reference(image: np.ndarray) -> np.ndarray:
    """NumPy reference of :func:`spline_coefficients`: solves ``(c[k-1] + 4 c[k] + c[k+1]) / 6
    = s[k]`` with mirror boundaries (``c[-1] = c[1]``) along each axis (dense solve; small
    images)."""

    def matrix(n):
        m = np.zeros((n, n))
        for k in range(n):
            m[k, k] = 4
            for j in (k - 1, k + 1):
                jj = abs(j) if j < n else 2 * n - 2 - j
                m[k, jj] += 1
        return m / 6

    a = np.asarray(image, np.float64)
    a = np.linalg.solve(matrix(a.shape[1]), a.T).T if a.shape[1] > 1 else a
    a = np.linalg.solve(matrix(a.shape[0]), a) if a.shape[0] > 1 else a
    return a.astype(np.float32)


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


# ----------------------------------------------------------------------------- strip driver
NODATA_MARGIN = {"bicubic": 2, "cubic_spline": 5}
"""L1B pixels around a no-data one flagged no data too: the cubic support, and for the spline
the reach of its prefilter (pole √3 - 2: 0.27⁵ ≈ 0.1 % of a jump)."""


@dataclass(frozen=True)
class OrthoSource:
    """One detector image ready for :func:`ortho_strips`: ``image`` the radiance (or its spline
    coefficients), ``mask`` its quality bits with no data dilated, ``grid`` its inverse grid."""

    detector: int
    image: np.ndarray
    mask: np.ndarray
    grid: InverseGrid


def ortho_source(detector: int, radiance: np.ndarray, mask: np.ndarray, grid: InverseGrid,
                 nodata_bit: int, method: str = "bicubic") -> OrthoSource:
    """The :class:`OrthoSource` of one detector: a copy of ``mask`` whose ``nodata_bit`` is
    dilated by :data:`NODATA_MARGIN` of ``method``, the radiance (W m-2 sr-1 µm-1) as it is for
    ``bicubic`` or as :func:`spline_coefficients` for ``cubic_spline``."""
    _check_method(method)
    mask = np.array(mask)
    nodata = (mask & nodata_bit) > 0
    if nodata.any():
        mask[dilate(nodata, NODATA_MARGIN[method])] |= nodata_bit
    image = spline_coefficients(radiance) if method == "cubic_spline" else radiance
    return OrthoSource(detector, image, mask, grid)


def ortho_strips(sources: list[OrthoSource], heights: np.ndarray, window: tuple[int, int, int, int],
                 tile_width: int, strip_rows: int, method: str = "bicubic"):
    """Orthorectified radiance of one band over a tile window, strip after strip.

    window: (row0, row1, col0, col1) in tile pixels at the band's resolution; heights:
    :func:`tile_heights` of the window's pixels; tile_width: pixels across the tile. The
    detectors of ``sources`` are accumulated in their order (:func:`ortho_strip`). Yields
    ``(row, radiance float32, mask uint8, detector uint8)`` for consecutive strips of at most
    ``strip_rows`` rows (row: first window row of the strip), window columns only; the arrays
    are views of buffers reused for the next strip.
    """
    r0, r1, c0, c1 = window
    strip_rows = min(strip_rows, max(r1 - r0, 1))
    buffers = (np.empty((strip_rows, tile_width), np.float32), np.empty((strip_rows, tile_width), np.uint8),
               np.empty((strip_rows, tile_width), np.uint8), np.empty((strip_rows, tile_width), np.float32))
    for row in range(r0, r1, strip_rows):
        n = min(strip_rows, r1 - row)
        out, out_mask, out_det, score = (b[:n] for b in buffers)
        for b, v in zip((out, out_mask, out_det, score), (0, 0, 0, NODATA_SCORE)):
            b[:, c0:c1] = v
        for s in sources:
            w0, w1 = column_window(s.grid, row, row + n, tile_width)
            w0, w1 = max(w0, c0), min(w1, c1)
            if w1 > w0:
                ortho_strip(s.image, s.mask, s.grid, heights, (r0, c0), row, (w0, w1), s.detector, out,
                            out_mask, out_det, score, method)
        yield row - r0, out[:, c0:c1], out_mask[:, c0:c1], out_det[:, c0:c1]


def reachable_window(grids, size_m: int, align_m: int) -> tuple[int, int, int, int] | None:
    """Ground window (x0, y0, x1, y1), m from a tile's upper-left corner (x right, y down),
    aligned on ``align_m`` and within the tile's ``size_m``, holding every output pixel a
    detector can see (image coordinates within 4 pixels of the image) according to ``grids``,
    ``(InverseGrid, resolution m)`` pairs; ``None`` when no detector sees the tile."""
    x0 = y0 = np.inf
    x1 = y1 = -np.inf
    for g, res in grids:
        p, l = g.pixel, g.line
        seen = ((p >= -4.5) & (p <= g.pixels + 3.5) & (l >= -4.5) & (l <= g.lines + 3.5)).any(axis=0)
        if not seen.any():
            continue
        i, j = np.nonzero(seen)
        y0 = min(y0, (i.min() - 1) * g.step * res)
        y1 = max(y1, (i.max() + 1) * g.step * res + res)
        x0 = min(x0, (j.min() - 1) * g.step * res)
        x1 = max(x1, (j.max() + 1) * g.step * res + res)
    if not np.isfinite(x0):
        return None
    a = align_m
    return (int(max(0, np.floor(x0 / a) * a)), int(max(0, np.floor(y0 / a) * a)),
            int(min(size_m, np.ceil(x1 / a) * a)), int(min(size_m, np.ceil(y1 / a) * a)))
