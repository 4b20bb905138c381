"""The digital elevation model: a north-up grid of heights above the WGS84 ellipsoid in UTM.

The DEM input (AUX DEM GeoTIFF) is single band, float, heights in m above the WGS84 ellipsoid
(as the file's ``HEIGHT`` tag states), in a WGS84 UTM CRS. Heights between pixel centres are
bilinear; outside the centres of the border pixels the border value is extended (callers check
:meth:`Dem.contains`). rasterio is imported by :func:`read_dem` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Dem:
    """Heights (rows, cols) float32, m above the ellipsoid, north-up; the centre of pixel
    (row, col) is at E = x0 + col * step, N = y0 - row * step (m, UTM zone ``epsg``)."""

    heights: np.ndarray
    epsg: int
    x0: float
    y0: float
    step: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(E min, N min, E max, N max) of the pixel centres, m."""
        rows, cols = self.heights.shape
        return (self.x0, self.y0 - (rows - 1) * self.step, self.x0 + (cols - 1) * self.step, self.y0)

    def contains(self, e, n) -> np.ndarray:
        """Whether UTM points lie within the pixel centres (where heights are interpolated)."""
        e0, n0, e1, n1 = self.bounds
        e, n = np.asarray(e), np.asarray(n)
        return (e >= e0) & (e <= e1) & (n >= n0) & (n <= n1)

    def height(self, e, n) -> np.ndarray:
        """Bilinear heights (m) at UTM (E, N) (broadcast arrays), border-extended."""
        return dem_height_ref(self.heights, self.x0, self.y0, self.step, np.asarray(e, np.float64),
                              np.asarray(n, np.float64))


def dem_height_ref(heights: np.ndarray, x0: float, y0: float, step: float, e: np.ndarray,
                   n: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a north-up height grid (numpy; same formula as the kernels)."""
    rows, cols = heights.shape
    c = np.minimum(np.maximum((e - x0) / step, 0.0), cols - 1.000001)
    r = np.minimum(np.maximum((y0 - n) / step, 0.0), rows - 1.000001)
    c0 = c.astype(np.int64)
    r0 = r.astype(np.int64)
    fc, fr = c - c0, r - r0
    g = heights
    top = g[r0, c0] * (1 - fc) + g[r0, c0 + 1] * fc
    bot = g[r0 + 1, c0] * (1 - fc) + g[r0 + 1, c0 + 1] * fc
    return top * (1 - fr) + bot * fr


def north_up(path, t):
    """The affine transform ``t`` of raster ``path``; ``ValueError`` unless it is a north-up grid
    of square pixels."""
    if t.b != 0 or t.d != 0 or t.a <= 0 or abs(t.e + t.a) > 1e-9 * t.a:
        raise ValueError(f"{path}: not a north-up grid of square pixels ({t})")
    return t


def read_dem(path: Path | str) -> Dem:
    """Read a DEM GeoTIFF (north-up, square pixels, WGS84 UTM CRS); ``ValueError`` otherwise.

    Nodata pixels are not supported (the AUX DEM has none) and raise ``ValueError``.
    """
    import os

    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import rasterio

    with rasterio.open(path) as src:
        t = north_up(path, src.transform)
        epsg = src.crs.to_epsg() if src.crs is not None else None
        if epsg is None or not (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
            raise ValueError(f"{path}: CRS {src.crs} is not a WGS84 UTM zone")
        heights = src.read(1, masked=True)
    if np.ma.is_masked(heights) or not np.all(np.isfinite(heights)):
        raise ValueError(f"{path}: the DEM has nodata or non-finite heights")
    step = float(t.a)
    return Dem(np.ascontiguousarray(np.asarray(heights), np.float32), int(epsg), float(t.c) + step / 2,
               float(t.f) - step / 2, step)
