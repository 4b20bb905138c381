"""North-up GeoTIFF rasters in UTM (GRI reference images, the AUX DEM), read with rasterio.

rasterio is imported lazily (``GDAL_NUM_THREADS=1``). A raster whose transform is not a north-up
grid of square pixels, or whose CRS has no EPSG code, is a :class:`~ipf.interface.errors.FormatError`
naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from ipf.geometry.dem import Dem
from ipf.interface.errors import FormatError

__all__ = ["NorthUpRaster", "north_up", "read_gri", "read_dem"]


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


def read_dem(path: os.PathLike | str) -> Dem:
    """Read a DEM GeoTIFF (north-up, square pixels, WGS84 UTM CRS); FormatError otherwise.

    Nodata pixels are not supported (the AUX DEM has none) and raise FormatError.
    """
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
