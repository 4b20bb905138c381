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
:func:`tile_bands`, :func:`read_image` and :func:`placement` read them. Their attributes are typed
per image kind (:class:`InverseGridAttrs`, :class:`CosSunZenithAttrs`, :class:`TileDemAttrs`,
:class:`AngleAttrs` of TILE_INIT; :class:`ToaAttrs`, :class:`QualityMaskAttrs`,
:class:`DetectorFootprintAttrs` of GEN_ORTHO_TOA; :class:`CloudClassesAttrs` of MASK_S2), written
and read by the accessors here (:func:`write_inverse_grid` / :func:`read_inverse_grid`,
:func:`write_tile_dem` / :func:`read_tile_dem` ...): no attribute key travels between tasks. Tasks read and write tile
entries only through :func:`read_tile`, :func:`read_l1c_tile` and :func:`write_tile`; a store
without the entry or the image asked for is an :class:`~ipf.interface.errors.InputError` naming
the store. The models dump to the JSON the stores always had (keys, values and types), so stores
stay byte-identical.
"""

from __future__ import annotations

import os
from typing import Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from ipf.geometry.ortho import InverseGrid, TileDem
from ipf.geometry.tiles import TILE_SIZE_M
from ipf.interface.errors import InputError
from ipf.products._base import IsoDatetime, index_value, open_store
from ipf.products.store import ImageStore

__all__ = [
    "TILE_SIZE_M", "TOA", "QUALITY", "DETFOO", "INVERSE_LINE", "INVERSE_PIXEL", "COS_SUN_ZENITH",
    "SUN_ZENITH", "SUN_AZIMUTH", "VIEW_ZENITH", "VIEW_AZIMUTH", "DEM", "CLASSI",
    "MeanAngles", "TileGrid", "BandSummary", "L1CTile", "ImagePlacement",
    "image_name", "open_store", "read_tile", "read_l1c_tile", "write_tile", "tile_bands",
    "has_image", "read_image", "image_attrs", "placement",
    "InverseGridAttrs", "CosSunZenithAttrs", "TileDemAttrs", "AngleAttrs", "TileImageAttrs", "ToaAttrs",
    "QualityMaskAttrs", "DetectorFootprintAttrs", "CloudClassesAttrs", "typed_attrs",
    "write_inverse_grid", "read_inverse_grid", "inverse_grid_detectors", "inverse_grid_resolution",
    "write_cos_sun_zenith", "read_cos_sun_zenith", "write_tile_dem", "read_tile_dem",
    "write_angle_grid", "viewing_angle_grids", "angle_images", "read_toa_attrs", "read_cloud_classes_attrs",
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


def _read(store: ImageStore, model: type[TileGrid], what: str) -> TileGrid:
    return index_value(store, _TILE, model, missing=f"no tile entry in the store (not {what})",
                       invalid=f"not {what}")


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
    name = image_name(prefix, band)
    return index_value(store, name, ImagePlacement, missing=f"no image {name!r} in the store",
                       invalid="not a tile image")


# --------------------------------------------------------------------------- image attributes
class _Attrs(BaseModel):
    """Attributes of one kind of tile store image (``shape`` and ``dtype`` are the store's)."""

    model_config = ConfigDict(extra="ignore")

    def attrs(self) -> dict:
        """The attributes as written in ``index.json`` (with ``kind``)."""
        return self.model_dump()


_A = TypeVar("_A", bound=_Attrs)


class InverseGridAttrs(_Attrs):
    """An inverse location grid of TILE_INIT (``line_<band>_D<det>`` and ``pixel_...``): nodes
    every ``step`` output pixels at ``resolution`` m, at heights ``h_lo`` and ``h_hi`` (m), for an
    L1B image of ``lines`` × ``pixels`` (:class:`ipf.geometry.ortho.InverseGrid`)."""

    kind: Literal["inverse_line", "inverse_pixel"]
    band: str
    detector: int
    resolution: int
    step: int
    h_lo: float
    h_hi: float
    lines: int
    pixels: int


class CosSunZenithAttrs(_Attrs):
    """cos(sun zenith) at the grid nodes of TILE_INIT (``cos_sza_R<res>``), nodes every ``step``
    output pixels at ``resolution`` m."""

    kind: Literal["cos_sun_zenith"] = "cos_sun_zenith"
    resolution: int
    step: int


class TileDemAttrs(_Attrs):
    """The tile DEM of TILE_INIT (``dem``): centre of pixel (0, 0) at (``x0``, ``y0``), m in the
    tile's UTM zone, ``step`` m, heights in ``unit``."""

    kind: Literal["dem"] = "dem"
    x0: float
    y0: float
    step: float
    unit: str = "m above the WGS84 ellipsoid"


class AngleAttrs(_Attrs):
    """A sun (``sun_zenith``, ``sun_azimuth``) or viewing (``view_zenith_<band>_D<det>`` ...)
    angle grid of TILE_INIT, degrees."""

    kind: Literal["sun_angle", "viewing_angle"]
    angle: Literal["zenith", "azimuth"]
    band: str | None = None
    detector: int | None = None
    unit: str = "deg"

    def attrs(self) -> dict:
        return self.model_dump(exclude_none=True)


class TileImageAttrs(_Attrs):
    """A tile image placed in the tile (:class:`ImagePlacement` without the shape): first pixel
    ``window`` (row, col) in the whole tile of ``tile_shape`` at ``resolution`` m, UTM ``epsg``."""

    resolution: int
    window: list[int]
    tile_shape: list[int]
    epsg: int
    tile: str


class ToaAttrs(TileImageAttrs):
    """L1C counts of one band (GEN_ORTHO_TOA ``toa_<band>``): L1C count = ρ ·
    ``quantification_value`` − ``radio_add_offset``; ``solar_irradiance`` W m-2 µm-1."""

    kind: Literal["toa"] = "toa"
    band: str
    unit: str = "L1C count: reflectance x 10000 + 1000"
    resampling: str
    quantification_value: int
    radio_add_offset: int
    solar_irradiance: float


class QualityMaskAttrs(TileImageAttrs):
    """Quality mask bits of one band (GEN_ORTHO_TOA ``quality_<band>``)."""

    kind: Literal["quality_mask"] = "quality_mask"
    band: str
    bits: dict[str, int]


class DetectorFootprintAttrs(TileImageAttrs):
    """Detector id seeing each pixel of one band, ``nodata`` where none (``detfoo_<band>``)."""

    kind: Literal["detector_footprint"] = "detector_footprint"
    band: str
    nodata: int = 0


class CloudClassesAttrs(TileImageAttrs):
    """Cloud classes at 60 m (MASK_S2 ``classi``): class ``bits``, the ``thresholds`` used, the
    band of the blue test and the fractions of the valid pixels in each class."""

    kind: Literal["cloud_classes"] = "cloud_classes"
    bits: dict[str, int]
    thresholds: dict[str, float]
    blue_band: str
    cloud_cover: float
    opaque_cover: float
    cirrus_cover: float
    snow_cover: float


def typed_attrs(store: ImageStore, name: str, model: type[_A]) -> _A:
    """The attributes of image ``name`` as ``model``; InputError when the store lacks the image,
    FormatError when they do not fit."""
    return index_value(store, name, model, missing=f"no image {name!r} in the store", invalid=f"image {name}")


def write_inverse_grid(store: ImageStore, band: str, detector: int, resolution: int, grid: InverseGrid) -> None:
    """Write the line and pixel grids of (``band``, ``detector``) with :class:`InverseGridAttrs`."""
    for prefix, kind, array in ((INVERSE_LINE, "inverse_line", grid.line), (INVERSE_PIXEL, "inverse_pixel", grid.pixel)):
        a = InverseGridAttrs(kind=kind, band=band, detector=detector, resolution=resolution, step=grid.step,
                             h_lo=grid.h_lo, h_hi=grid.h_hi, lines=grid.lines, pixels=grid.pixels)
        store.write(image_name(prefix, band, detector), array, **a.attrs())


def inverse_grid_detectors(store: ImageStore, band: str) -> list[int]:
    """Detectors having an inverse location grid of ``band``, ascending."""
    return sorted(typed_attrs(store, n, InverseGridAttrs).detector
                  for n in store.names(kind="inverse_line", band=band))


def inverse_grid_resolution(store: ImageStore, band: str) -> int:
    """Resolution (m) of the inverse location grids of ``band``; InputError when it has none."""
    names = store.names(kind="inverse_line", band=band)
    if not names:
        raise InputError(f"no inverse location grid for {band}", source=store.root / "index.json")
    return typed_attrs(store, names[0], InverseGridAttrs).resolution


def read_inverse_grid(store: ImageStore, band: str, detector: int) -> InverseGrid:
    """The inverse location grid of (``band``, ``detector``) written by :func:`write_inverse_grid`."""
    a = typed_attrs(store, image_name(INVERSE_LINE, band, detector), InverseGridAttrs)
    return InverseGrid(np.asarray(read_image(store, INVERSE_LINE, band, detector)),
                       np.asarray(read_image(store, INVERSE_PIXEL, band, detector)),
                       a.h_lo, a.h_hi, a.step, a.lines, a.pixels)


def write_cos_sun_zenith(store: ImageStore, resolution: int, step: int, nodes: np.ndarray) -> None:
    """Write cos(sun zenith) at the grid nodes of ``resolution`` (every ``step`` pixels)."""
    store.write(image_name(COS_SUN_ZENITH, resolution=resolution), nodes,
                **CosSunZenithAttrs(resolution=resolution, step=step).attrs())


def read_cos_sun_zenith(store: ImageStore, resolution: int) -> tuple[np.ndarray, int]:
    """cos(sun zenith) at the grid nodes of ``resolution`` and their step in output pixels."""
    a = typed_attrs(store, image_name(COS_SUN_ZENITH, resolution=resolution), CosSunZenithAttrs)
    return np.asarray(read_image(store, COS_SUN_ZENITH, resolution=resolution)), a.step


def write_tile_dem(store: ImageStore, dem: TileDem) -> None:
    """Write the tile DEM with :class:`TileDemAttrs`."""
    store.write(DEM, dem.heights, **TileDemAttrs(x0=dem.x0, y0=dem.y0, step=dem.step).attrs())


def read_tile_dem(store: ImageStore) -> TileDem:
    """The tile DEM written by :func:`write_tile_dem`."""
    a = typed_attrs(store, DEM, TileDemAttrs)
    return TileDem(np.asarray(read_image(store, DEM)), a.x0, a.y0, a.step)


def write_angle_grid(store: ImageStore, angle: Literal["zenith", "azimuth"], grid: np.ndarray,
                     band: str | None = None, detector: int | None = None) -> None:
    """Write a sun angle grid (no band) or the viewing angle grid of (``band``, ``detector``)."""
    if band is None:
        name, a = (SUN_ZENITH if angle == "zenith" else SUN_AZIMUTH), AngleAttrs(kind="sun_angle", angle=angle)
    else:
        name = image_name(VIEW_ZENITH if angle == "zenith" else VIEW_AZIMUTH, band, detector)
        a = AngleAttrs(kind="viewing_angle", angle=angle, band=band, detector=detector)
    store.write(name, grid, **a.attrs())


def angle_images(store: ImageStore) -> list[str]:
    """Names of the sun then the viewing angle grids (each sorted)."""
    return store.names(kind="sun_angle") + store.names(kind="viewing_angle")


def viewing_angle_grids(store: ImageStore) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per band, the (zenith, azimuth) viewing angle grids of its detectors (degrees)."""
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name in store.names(kind="viewing_angle", angle="zenith"):
        a = typed_attrs(store, name, AngleAttrs)
        out.setdefault(a.band, []).append((np.asarray(store.read(name)),
                                           np.asarray(read_image(store, VIEW_AZIMUTH, a.band, a.detector))))
    return out


def read_toa_attrs(store: ImageStore, band: str) -> ToaAttrs:
    """The attributes of the L1C counts of ``band``."""
    return typed_attrs(store, image_name(TOA, band), ToaAttrs)


def read_cloud_classes_attrs(store: ImageStore) -> CloudClassesAttrs:
    """The attributes of the cloud classes of MASK_S2 (cloud cover ...)."""
    return typed_attrs(store, CLASSI, CloudClassesAttrs)
