"""The footprint report of INIT_LOC_L0 (REPORT), read by FORMAT_METADATA_GR_L0C.

:class:`FootprintReport` holds the datastrip footprint and, per granule
(:class:`GranuleFootprint`), the quadrilateral of its outer corners located on the DEM, as
counter-clockwise closed rings: lon/lat degrees (a GeoJSON :class:`Polygon`) and UTM metres.
:func:`read_footprint_report` raises :class:`~ipf.interface.errors.FormatError` naming the file
for anything that is not such a report; :func:`write_footprint_report` writes the JSON
INIT_LOC_L0 always wrote (sorted keys, one space indent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ipf.products._base import IsoDatetime, read_json, write_json

__all__ = ["Polygon", "GranuleFootprint", "FootprintInputs", "FootprintReport",
           "read_footprint_report", "write_footprint_report"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Polygon(_Model):
    """A GeoJSON polygon: closed rings of [lon, lat] degrees."""

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[list[float]]]


class GranuleFootprint(_Model):
    """One granule: its outer corners in ``band`` (first line, lines and pixels of its image)
    located on the DEM (``corner_heights_m``, ellipsoidal)."""

    granule: str
    detector: int
    index: int
    band: str
    first_line: int
    lines: int
    pixels: int
    footprint: Polygon
    footprint_utm: list[list[float]]
    corner_heights_m: list[float]


class FootprintInputs(_Model):
    """File names of the Earth orientation (AUX_UT1UTC) and the DEM the footprints were located
    with (ephemeris and attitudes are the datastrip's)."""

    ut1utc: str
    dem: str


class FootprintReport(_Model):
    """INIT_LOC_L0's REPORT: granule footprints and the datastrip's (convex hull of the granule
    corners), UTM in ``utm_epsg``; ``corners_outside_dem`` corners took the DEM border height."""

    datastrip: str
    spacecraft: str
    sensing_start: IsoDatetime
    sensing_stop: IsoDatetime
    band: str
    utm_epsg: int
    inputs: FootprintInputs
    method: str
    footprint: Polygon
    footprint_utm: list[list[float]]
    corners_outside_dem: int
    granules: list[GranuleFootprint]


def read_footprint_report(path: Path) -> FootprintReport:
    """The INIT_LOC_L0 footprint report ``path``."""
    return read_json(path, FootprintReport, "an INIT_LOC_L0 footprint report")


def write_footprint_report(path: Path, report: FootprintReport) -> None:
    """Write ``report`` as JSON."""
    write_json(path, report)
