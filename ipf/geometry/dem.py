"""The digital elevation model: a north-up grid of heights above the WGS84 ellipsoid in UTM.

The DEM inputs (DEM_SRTM: a GeoTIFF of heights above the geoid in a WGS84 UTM CRS, plus
DEM_GEOID: the geoid undulation) give heights in m above the WGS84 ellipsoid (docs/dem_gri.md);
they are read by :func:`ipf.formats.geotiff.read_dem`. Heights between pixel centres are
bilinear; outside the centres of the border pixels the border value is extended (callers check
:meth:`Dem.contains`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


__all__ = ["Dem", "dem_height_ref", "tile_dem", "height_range"]


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


def tile_dem(dem: Dem, tile, margin_m: float = 200.0):
    """The DEM over ``tile`` (:class:`ipf.geometry.tiles.Tile`) and ``margin_m`` around it, in the
    tile's UTM zone (:class:`ipf.geometry.ortho.TileDem`): cropped when the DEM is in that zone
    already, else reprojected at the DEM's step (bilinear, ``rasterio.warp.reproject``, one
    thread)."""
    from ipf.geometry.ortho import TileDem

    xmin, ymin, xmax, ymax = tile.bounds
    if dem.epsg == tile.epsg:
        rows, cols = dem.heights.shape
        c0 = int(np.clip(np.floor((xmin - margin_m - dem.x0) / dem.step), 0, cols - 2))
        c1 = int(np.clip(np.ceil((xmax + margin_m - dem.x0) / dem.step) + 1, c0 + 2, cols))
        r0 = int(np.clip(np.floor((dem.y0 - ymax - margin_m) / dem.step), 0, rows - 2))
        r1 = int(np.clip(np.ceil((dem.y0 - ymin + margin_m) / dem.step) + 1, r0 + 2, rows))
        return TileDem(np.ascontiguousarray(dem.heights[r0:r1, c0:c1]), dem.x0 + c0 * dem.step,
                       dem.y0 - r0 * dem.step, dem.step)
    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, reproject

    step = dem.step
    n = int(np.ceil((xmax - xmin + 2 * margin_m) / step))
    out = np.zeros((n, n), np.float32)
    src_t = Affine(dem.step, 0, dem.x0 - dem.step / 2, 0, -dem.step, dem.y0 + dem.step / 2)
    dst_t = Affine(step, 0, xmin - margin_m, 0, -step, ymax + margin_m)
    reproject(dem.heights, out, src_transform=src_t, src_crs=CRS.from_epsg(dem.epsg),
              dst_transform=dst_t, dst_crs=CRS.from_epsg(tile.epsg), resampling=Resampling.bilinear,
              num_threads=1)
    return TileDem(out, xmin - margin_m + step / 2, ymax + margin_m - step / 2, step)


def height_range(heights: np.ndarray, margin_m: float = 10.0) -> tuple[float, float]:
    """(lowest, highest) height of a DEM (m), rounded outwards to the metre and widened by
    ``margin_m``: the heights that bracket every ground point of the grid."""
    return (float(np.floor(heights.min())) - margin_m, float(np.ceil(heights.max())) + margin_m)
