"""North-up GeoTIFF rasters in UTM (GRI reference images, the DEM), read with rasterio.

The DEM comes as the real chain's two inputs (docs/dem_gri.md): ``DEM_SRTM``, a folder holding a
GeoTIFF of heights H above the geoid, and ``DEM_GEOID``, the geoid undulation N on a lon/lat grid
(:func:`ipf.formats.aux.read_geoid`). :func:`read_dem` returns the ellipsoidal heights
h = H + N, N bilinear at the DEM pixel centres (:func:`geoid_on_dem`);
:func:`write_dem_srtm` writes H so that this gives back the heights it is given.

rasterio is imported lazily (``GDAL_NUM_THREADS=1``). A raster whose transform is not a north-up
grid of square pixels, or whose CRS has no EPSG code, is a :class:`~ipf.interface.errors.FormatError`
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from ipf.formats.aux import GeoidGrid, read_geoid, write_geotiff
from ipf.geometry.dem import Dem
from ipf.interface.errors import FormatError, MissingInputError

__all__ = ["NorthUpRaster", "north_up", "read_gri", "gri_band", "read_dem", "dem_raster", "GEOID_NODE_STEP", "geoid_on_dem",
           "orthometric_heights", "write_dem_srtm"]


class NorthUpRaster(BaseModel):
    """A north-up raster: values (rows, cols) float32, NaN for no data; the centre of pixel
    (row, col) is at E = x0 + col * step, N = y0 - row * step (m of UTM zone ``epsg``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    values: np.ndarray
    epsg: int
    x0: float
    y0: float
    step: float


def north_up(path: os.PathLike | str, transform):
    """The affine ``transform`` of raster ``path``; FormatError unless it is a north-up grid of
    square pixels."""
    t = transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or abs(t.e + t.a) > 1e-9 * t.a:
        raise FormatError(f"not a north-up grid of square pixels ({t})", source=path,
                          element="transform")
    return t


def gri_band(path: os.PathLike | str) -> str | None:
    """The band of the GRI GeoTIFF ``path`` (its ``BAND`` tag, e.g. ``B04``), None when untagged;
    FormatError when it cannot be opened."""
    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import rasterio

    try:
        with rasterio.open(path) as src:
            return src.tags().get("BAND")
    except rasterio.errors.RasterioIOError as exc:
        raise FormatError(f"not a GeoTIFF: {exc}", source=path) from None


def read_gri(path: os.PathLike | str) -> NorthUpRaster:
    """The GRI GeoTIFF ``path`` (north-up, UTM): band 1 as float32, NaN where it is 0 or the
    file's nodata."""
    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import rasterio

    path = Path(path)
    with rasterio.open(path) as src:
        t = north_up(path, src.transform)
        epsg = src.crs.to_epsg() if src.crs is not None else None
        values = src.read(1, masked=True)
    if epsg is None:
        raise FormatError("the GRI has no EPSG CRS", source=path, element="crs")
    data = np.ma.filled(values.astype(np.float32), np.nan)
    data[data == 0] = np.nan
    return NorthUpRaster(values=data, epsg=int(epsg), x0=float(t.c) + t.a / 2,
                         y0=float(t.f) - t.a / 2, step=float(t.a))


def dem_raster(path: os.PathLike | str) -> Path:
    """The GeoTIFF of a DEM_SRTM: ``path`` itself when it is a file, else the one ``.tif`` /
    ``.TIF`` in the folder ``path`` (none or several: FormatError naming the folder)."""
    path = Path(path)
    if not path.exists():
        raise MissingInputError("no such DEM", source=path)
    if path.is_file():
        return path
    found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff") and p.is_file())
    if len(found) != 1:
        raise FormatError(f"{len(found)} GeoTIFFs in the DEM_SRTM folder, expected one", source=path)
    return found[0]


GEOID_NODE_STEP = 8
"""DEM pixels between the nodes where the geoid is interpolated in lon/lat (:func:`geoid_on_dem`)."""


def _nodes(n: int) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, n, GEOID_NODE_STEP), n - 1])


def _linear(values: np.ndarray, nodes: np.ndarray, n: int, axis: int) -> np.ndarray:
    """``values`` given at indices ``nodes`` along ``axis``, linear in between, at 0..n-1."""
    i = np.arange(n)
    k = np.clip(np.searchsorted(nodes, i, side="right") - 1, 0, max(len(nodes) - 2, 0))
    if len(nodes) == 1:
        return np.repeat(values, n, axis=axis)
    w = (i - nodes[k]) / (nodes[k + 1] - nodes[k])
    a, b = np.take(values, k, axis=axis), np.take(values, k + 1, axis=axis)
    w = w if axis == 1 else w[:, None]
    return a * (1 - w) + b * w


def geoid_on_dem(geoid: GeoidGrid, epsg: int, x0: float, y0: float, step: float,
                 shape: tuple[int, int]) -> np.ndarray:
    """N (m, float64, ``shape``) of ``geoid`` at the centres of a north-up UTM grid (centre of
    (row, col) at E = x0 + col · step, N = y0 - row · step, zone ``epsg``): bilinear in lon/lat
    at nodes every :data:`GEOID_NODE_STEP` pixels (and the last row and column), bilinear between
    the nodes (below 1 mm from the bilinear value at every pixel for a 0.25° geoid)."""
    from pyproj import Transformer

    rows, cols = shape
    r, c = _nodes(rows), _nodes(cols)
    e, n = np.meshgrid(x0 + step * c.astype(np.float64), y0 - step * r.astype(np.float64))
    lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(e, n)
    at_nodes = geoid.undulation(np.asarray(lon), np.asarray(lat))
    return _linear(_linear(at_nodes, c, cols, axis=1), r, rows, axis=0)


def orthometric_heights(heights: np.ndarray, undulation: np.ndarray) -> np.ndarray:
    """Heights above the geoid H (float32): the smallest float32 H with float32(H + N) >= the
    ellipsoidal ``heights`` h (float32), ``undulation`` N (m, float64). The sum gives h back
    exactly wherever a float32 H allows it; where none does (|h| below the float32 step of H, e.g.
    sea level 0 m under a geoid of tens of metres) it exceeds h by less than that step, never falls
    below it."""
    h = np.asarray(heights, np.float32)
    n = np.asarray(undulation, np.float64)
    out = (h.astype(np.float64) - n).astype(np.float32)

    def total(v):
        return (v.astype(np.float64) + n).astype(np.float32)

    for _ in range(8):
        below = total(out) < h
        if not below.any():
            break
        out = np.where(below, np.nextafter(out, np.float32(np.inf)), out)
    for _ in range(8):
        lower = np.nextafter(out, np.float32(-np.inf))
        down = (total(out) > h) & (total(lower) >= h)
        if not down.any():
            break
        out = np.where(down, lower, out)
    return out


def write_dem_srtm(folder: Path, heights: np.ndarray, epsg: int, x_left: float, y_top: float, step: float,
                   geoid: GeoidGrid, tags: dict[str, str] | None = None) -> Path:
    """Write the DEM_SRTM folder ``folder`` holding ``<folder name>.TIF``: the heights above
    ``geoid`` (:func:`orthometric_heights`) of the ellipsoidal ``heights`` (float32, north-up,
    ``x_left``, ``y_top`` the outer corner of the top-left pixel, m of UTM ``epsg``; ``step`` m).
    Returns the folder."""
    folder = Path(folder)
    n = geoid_on_dem(geoid, epsg, x_left + step / 2, y_top - step / 2, step, heights.shape)
    write_geotiff(folder / f"{folder.name}.TIF", orthometric_heights(heights, n), epsg, x_left, y_top, step,
                  tags={"HEIGHT": "above the geoid (DEM_GEOID), m", **(tags or {})})
    return folder


def read_dem(srtm: os.PathLike | str, geoid: os.PathLike | str | GeoidGrid | None = None) -> Dem:
    """The DEM of ellipsoidal heights: the DEM_SRTM ``srtm`` (a folder holding one GeoTIFF, or the
    GeoTIFF; :func:`dem_raster`) plus the undulation of the DEM_GEOID ``geoid``
    (:func:`ipf.formats.aux.read_geoid`, or a grid read already) bilinear at its pixel centres,
    summed in float64 and stored as float32. ``geoid`` None: the GeoTIFF holds ellipsoidal heights
    already (the truth DEM of a simulation).

    The GeoTIFF is north-up, square pixels, a WGS84 UTM CRS, no nodata (FormatError otherwise);
    a geoid grid that does not cover it is an InputError naming the geoid file.
    """
    dem = _read_raster(dem_raster(srtm))
    if geoid is None:
        return dem
    grid = geoid if isinstance(geoid, GeoidGrid) else read_geoid(geoid)
    n = geoid_on_dem(grid, dem.epsg, dem.x0, dem.y0, dem.step, dem.heights.shape)
    return Dem((dem.heights.astype(np.float64) + n).astype(np.float32), dem.epsg, dem.x0, dem.y0, dem.step)


def _read_raster(path: Path) -> Dem:
    """The heights of a DEM GeoTIFF as they are in the file (north-up, square pixels, WGS84 UTM
    CRS, no nodata); FormatError otherwise."""
    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import rasterio

    with rasterio.open(path) as src:
        t = north_up(path, src.transform)
        epsg = src.crs.to_epsg() if src.crs is not None else None
        if epsg is None or not (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
            raise FormatError(f"CRS {src.crs} is not a WGS84 UTM zone", source=path, element="crs")
        heights = src.read(1, masked=True)
    if np.ma.is_masked(heights) or not np.all(np.isfinite(heights)):
        raise FormatError("the DEM has nodata or non-finite heights", source=path, element="band 1")
    step = float(t.a)
    return Dem(np.ascontiguousarray(np.asarray(heights), np.float32), int(epsg), float(t.c) + step / 2,
               float(t.f) - step / 2, step)
