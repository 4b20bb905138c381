"""Typed entries of the L1C tile products and their accessors over an ImageStore.

Every tile store of the L1C processor holds, besides its images, a tile entry in its
``index.json``:

- :class:`TileGrid`: TILE_INIT's entry of the TILE_GRID store (tile name, UTM EPSG code,
  upper-left corner, the ground window the datastrip reaches, the datastrip's identity and sensing
  times, the height range of the tile DEM, whether the geometry was refined, the datastrip
  footprint); GEN_ORTHO_TOA (PDI_TILE_TOA) and MASK_S2 (MSK_CLOUDS) copy it;
- :class:`L1CTile`: TILE_FINALIZE's entry of the L1C tile (PDI_TILE), the grid entry plus the
  product conventions (baseline, quantification, offsets), cloud and snow cover, mean angles and
  per band a :class:`BandSummary` (solar irradiance, coverage, statistics, detectors).

Images are named by :func:`image_name` (``toa_B02``, ``line_B02_D06``, ``cos_sza_R10`` ...);
:func:`tile_bands`, :func:`read_image` and :func:`placement` read them. Tasks read and write tile
entries only through :func:`read_tile`, :func:`read_l1c_tile` and :func:`write_tile`; a store
without the entry or the image asked for is an :class:`~ipf.interface.errors.InputError` naming
the store. The models dump to the JSON the stores always had (keys, values and types), so stores
stay byte-identical.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError

from ipf.geometry.tiles import TILE_SIZE_M
from ipf.interface.errors import FormatError, InputError
from ipf.products.store import ImageStore

__all__ = [
    "TILE_SIZE_M", "TOA", "QUALITY", "DETFOO", "INVERSE_LINE", "INVERSE_PIXEL", "COS_SUN_ZENITH",
    "SUN_ZENITH", "SUN_AZIMUTH", "VIEW_ZENITH", "VIEW_AZIMUTH", "DEM", "CLASSI",
    "MeanAngles", "TileGrid", "BandSummary", "L1CTile", "ImagePlacement",
    "image_name", "open_store", "read_tile", "read_l1c_tile", "write_tile", "tile_bands",
    "has_image", "read_image", "image_attrs", "placement",
]

TOA, QUALITY, DETFOO = "toa", "quality", "detfoo"
"""Image prefixes of GEN_ORTHO_TOA: L1C counts, quality mask, detector footprint (per band)."""
INVERSE_LINE, INVERSE_PIXEL = "line", "pixel"
"""Image prefixes of the inverse location grids of TILE_INIT (per band and detector)."""
COS_SUN_ZENITH = "cos_sza"
"""Image prefix of cos(sun zenith) at the grid nodes of TILE_INIT (per resolution)."""
SUN_ZENITH, SUN_AZIMUTH, VIEW_ZENITH, VIEW_AZIMUTH = "sun_zenith", "sun_azimuth", "view_zenith", "view_azimuth"
"""Angle grids of TILE_INIT (sun: one; viewing: per band and detector), degrees."""
DEM, CLASSI = "dem", "classi"
"""The tile DEM (TILE_INIT) and the cloud classes at 60 m (MASK_S2)."""

_TILE = "__tile__"

IsoDatetime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]


def image_name(prefix: str, band: str | None = None, detector: int | None = None,
               resolution: int | None = None) -> str:
    """Name of a tile store image: ``<prefix>[_<band>][_D<detector:02d>][_R<resolution>]``,
    e.g. ``toa_B02``, ``line_B02_D06``, ``cos_sza_R10``, ``sun_zenith``."""
    parts = [prefix]
    if band is not None:
        parts.append(band)
    if detector is not None:
        parts.append(f"D{detector:02d}")
    if resolution is not None:
        parts.append(f"R{resolution}")
    return "_".join(parts)


class MeanAngles(BaseModel):
    """Mean zenith and azimuth of an angle grid, degrees."""

    model_config = ConfigDict(extra="forbid")

    zenith: float
    azimuth: float


class TileGrid(BaseModel):
    """The tile entry of TILE_INIT (also in PDI_TILE_TOA and MSK_CLOUDS).

    ``ulx``, ``uly``: upper-left corner of the tile (m, UTM ``epsg``); ``window_m``: (x0, y0, x1,
    y1) of the part of the tile the datastrip reaches, m from the upper-left corner (x right,
    y down), aligned on 60 m; ``h_range``: heights (m) of the tile DEM, widened by 10 m, at which
    the inverse location grids are computed; ``footprint_lonlat``: the datastrip's corners located
    on the DEM (degrees); ``sun_earth_distance_au`` at ``sensing_mid``.
    """

    model_config = ConfigDict(extra="ignore")

    kind: Literal["tile"] = "tile"
    name: str
    epsg: int
    ulx: float
    uly: float
    window_m: tuple[int, int, int, int]
    datastrip: str
    spacecraft: str
    sensing_start: IsoDatetime
    sensing_stop: IsoDatetime
    sensing_mid: IsoDatetime
    sun_earth_distance_au: float
    h_range: tuple[float, float]
    refined: bool
    footprint_lonlat: list[tuple[float, float]]

    def tile_width(self, resolution: int) -> int:
        """Pixels across the whole tile at ``resolution`` m."""
        return TILE_SIZE_M // resolution

    def window(self, resolution: int) -> tuple[int, int, int, int]:
        """(row0, row1, col0, col1) of the window in the tile's pixels at ``resolution`` m."""
        x0, y0, x1, y1 = self.window_m
        return y0 // resolution, y1 // resolution, x0 // resolution, x1 // resolution

    def entry(self) -> dict:
        """The JSON value of the entry in ``index.json``."""
        return self.model_dump(include=set(TileGrid.model_fields))


class BandSummary(BaseModel):
    """One band of the L1C tile: fractions of the tile (``coverage``) or of its seen pixels
    (saturated, defective); ``mean_reflectance`` of the good pixels (``None`` when none);
    solar irradiance in W m-2 µm-1; the detectors seeing part of the tile."""

    model_config = ConfigDict(extra="forbid")

    resolution: int
    solar_irradiance: float
    coverage: float
    saturated_fraction: float
    defective_fraction: float
    mean_reflectance: float | None
    detectors: list[int]


class L1CTile(TileGrid):
    """The tile entry of the L1C tile (TILE_FINALIZE): :class:`TileGrid` plus the product's
    conventions (L1C count = ρ · ``quantification_value`` − ``radio_add_offset``), its cloud and
    snow cover (fractions of the valid 60 m pixels), ``coverage`` (the largest band coverage),
    mean angles (``sun`` and per band) and the bands."""

    processing_baseline: str
    quantification_value: int
    radio_add_offset: int
    nodata_value: int
    saturated_value: int
    reflectance_conversion_u: float
    cloud_cover: float
    snow_cover: float
    coverage: float
    mean_angles: dict[str, MeanAngles]
    bands: dict[str, BandSummary]

    def entry(self) -> dict:
        return self.model_dump()


class ImagePlacement(BaseModel):
    """Where a tile image lies: its first pixel ``window`` (row, col) in the whole tile of
    ``tile_shape`` at ``resolution`` m, and its ``shape``."""

    model_config = ConfigDict(extra="ignore")

    resolution: int
    window: tuple[int, int]
    tile_shape: tuple[int, int]
    shape: tuple[int, int]


def open_store(store: ImageStore | os.PathLike | str) -> ImageStore:
    """``store`` itself, or the ImageStore of directory ``store``."""
    return store if isinstance(store, ImageStore) else ImageStore(store)


def _read(store: ImageStore, model: type[TileGrid], what: str) -> TileGrid:
    value = store.index.get(_TILE)
    if value is None:
        raise InputError(f"no tile entry in the store (not {what})", source=store.root / "index.json",
                         element=_TILE)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise FormatError(f"not {what}: {str(exc).splitlines()[0]}", source=store.root / "index.json",
                          element=_TILE) from None


def read_tile(store: ImageStore | os.PathLike | str) -> TileGrid:
    """The tile entry of a TILE_GRID, PDI_TILE_TOA, MSK_CLOUDS or PDI_TILE store."""
    return _read(open_store(store), TileGrid, "a tile store made by TILE_INIT")


def read_l1c_tile(store: ImageStore | os.PathLike | str) -> L1CTile:
    """The tile entry of an L1C tile (PDI_TILE of TILE_FINALIZE)."""
    return _read(open_store(store), L1CTile, "an L1C tile made by TILE_FINALIZE")


def write_tile(store: ImageStore, tile: TileGrid) -> None:
    """Set the tile entry of ``store`` (published by ``store.flush()``)."""
    store.index[_TILE] = tile.entry()


def tile_bands(store: ImageStore, prefix: str = TOA) -> list[str]:
    """Bands of the ``prefix`` images (default: the L1C counts) in S2 band order (B01..B8A..B12)."""
    from ipf.formats.msi_bands import BY_NAME

    bands = {store.index[n].get("band") for n in store.index
             if n.startswith(f"{prefix}_") and store.index[n].get("band")}
    return sorted(bands, key=lambda b: BY_NAME[b].index)


def has_image(store: ImageStore, prefix: str, band: str | None = None, detector: int | None = None,
              resolution: int | None = None) -> bool:
    """Whether ``store`` holds the image :func:`image_name` names."""
    return image_name(prefix, band, detector, resolution) in store.index


def _name(store: ImageStore, prefix, band, detector, resolution) -> str:
    name = image_name(prefix, band, detector, resolution)
    if name not in store.index:
        raise InputError(f"no image {name!r} in the store", source=store.root / "index.json", element=name)
    return name


def read_image(store: ImageStore, prefix: str, band: str | None = None, detector: int | None = None,
               resolution: int | None = None) -> np.ndarray:
    """The image :func:`image_name` names (memory-mapped, read-only)."""
    return store.read(_name(store, prefix, band, detector, resolution))


def image_attrs(store: ImageStore, prefix: str, band: str | None = None, detector: int | None = None,
                resolution: int | None = None) -> dict:
    """The attributes of the image :func:`image_name` names."""
    return store.attrs(_name(store, prefix, band, detector, resolution))


def placement(store: ImageStore, prefix: str, band: str | None = None) -> ImagePlacement:
    """Where the tile image ``prefix`` (of ``band``) lies in the tile."""
    try:
        return ImagePlacement.model_validate(image_attrs(store, prefix, band))
    except ValidationError as exc:
        raise FormatError(f"not a tile image: {str(exc).splitlines()[0]}", source=store.root / "index.json",
                          element=image_name(prefix, band)) from None
