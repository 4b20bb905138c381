"""Satellite ancillary data (orbit state vectors, attitude quaternions) and DEM files.

- Orbit (``AUX_RESORB``, ipf/schemas/l0/AUX_RESORB.xsd): Earth-fixed WGS84 position (m) and velocity
  (m/s) at UTC times.
- Attitude (``AUX_SADATT``, ipf/schemas/l0/AUX_SADATT.xsd): unit quaternions (w, x, y, z) of the
  rotation body -> Earth-fixed WGS84 at UTC times.
- DEM: single-band float32 GeoTIFF of ellipsoidal heights (m) in a UTM CRS, written with
  rasterio (imported lazily, ``GDAL_NUM_THREADS=1``).

Readers return pydantic models holding numpy arrays; times are ``datetime64[us]`` (UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from ipf.formats import ee_xml


__all__ = ["ORBIT_TYPE", "ATTITUDE_TYPE", "OrbitData", "AttitudeData", "aux_file_name", "write_orbit",
           "read_orbit", "write_attitude", "read_attitude", "write_geotiff", "read_geotiff"]

ORBIT_TYPE = "AUX_RESORB"
ATTITUDE_TYPE = "AUX_SADATT"


class OrbitData(BaseModel):
    """Orbit state vectors: times (n,) datetime64[us], position and velocity (n, 3)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    times: np.ndarray
    position: np.ndarray
    velocity: np.ndarray


class AttitudeData(BaseModel):
    """Attitude: times (n,) datetime64[us], quaternions (n, 4) body -> ECEF, scalar first."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    times: np.ndarray
    quaternions: np.ndarray


def aux_file_name(file_type: str, start: datetime, stop: datetime, mission: str = "S2A",
                  file_class: str = "OPER", creation: datetime | None = None) -> str:
    """S2-style AUX file name (with ``.xml``)."""
    f = "%Y%m%dT%H%M%S"
    creation = creation or start
    return f"{mission}_{file_class}_{file_type}_SIMU_{creation:{f}}_V{start:{f}}_{stop:{f}}.xml"


def _to_datetime(t: np.datetime64) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=int(t.astype("datetime64[us]").astype(np.int64)))


def write_orbit(path: Path, data: OrbitData, mission: str = "S2A", file_class: str = "OPER") -> Path:
    """Write a validated orbit file."""
    start, stop = _to_datetime(data.times[0]), _to_datetime(data.times[-1])
    root, block = ee_xml.new_file(Path(path).stem, ORBIT_TYPE, "Orbit state vectors", mission,
                                  (start, stop), start, file_class)
    ee_xml.sub(block, "Reference_Frame", "EARTH_FIXED_WGS84")
    ee_xml.sub(block, "Time_Reference", "UTC")
    lst = ee_xml.sub(block, "List_of_OSVs", count=str(len(data.times)))
    for t, p, v in zip(data.times, data.position, data.velocity):
        osv = ee_xml.sub(lst, "OSV")
        ee_xml.sub(osv, "UTC", ee_xml.utc(_to_datetime(t)))
        for tag, val, unit in zip(("X", "Y", "Z", "VX", "VY", "VZ"), (*p, *v), ("m",) * 3 + ("m/s",) * 3):
            ee_xml.sub(osv, tag, f"{val:.6f}", unit=unit)
    return ee_xml.write_validated(root, path, ORBIT_TYPE)


def read_orbit(path: Path) -> OrbitData:
    """Read and validate an orbit file."""
    block = ee_xml.read_validated(path, ORBIT_TYPE)
    osvs = block.find("List_of_OSVs").findall("OSV")
    times = np.array([np.datetime64(ee_xml.parse_utc(o.findtext("UTC")).replace(tzinfo=None), "us") for o in osvs])
    vals = np.array([[float(o.findtext(t)) for t in ("X", "Y", "Z", "VX", "VY", "VZ")] for o in osvs])
    return OrbitData(times=times, position=vals[:, :3], velocity=vals[:, 3:])


def write_attitude(path: Path, data: AttitudeData, mission: str = "S2A", file_class: str = "OPER") -> Path:
    """Write a validated attitude file."""
    start, stop = _to_datetime(data.times[0]), _to_datetime(data.times[-1])
    root, block = ee_xml.new_file(Path(path).stem, ATTITUDE_TYPE, "Attitude quaternions body to Earth-fixed",
                                  mission, (start, stop), start, file_class)
    ee_xml.sub(block, "Frame", "BODY_TO_EARTH_FIXED_WGS84")
    ee_xml.sub(block, "Quaternion_Convention", "SCALAR_FIRST")
    lst = ee_xml.sub(block, "List_of_Attitudes", count=str(len(data.times)))
    for t, q in zip(data.times, data.quaternions):
        a = ee_xml.sub(lst, "Attitude")
        ee_xml.sub(a, "UTC", ee_xml.utc(_to_datetime(t)))
        for i, v in enumerate(q):
            ee_xml.sub(a, f"Q{i}", f"{v:.15f}")
    return ee_xml.write_validated(root, path, ATTITUDE_TYPE)


def read_attitude(path: Path) -> AttitudeData:
    """Read and validate an attitude file."""
    block = ee_xml.read_validated(path, ATTITUDE_TYPE)
    atts = block.find("List_of_Attitudes").findall("Attitude")
    times = np.array([np.datetime64(ee_xml.parse_utc(a.findtext("UTC")).replace(tzinfo=None), "us") for a in atts])
    q = np.array([[float(a.findtext(f"Q{i}")) for i in range(4)] for a in atts])
    return AttitudeData(times=times, quaternions=q)


def write_geotiff(path: Path, array: np.ndarray, epsg: int, x_left: float, y_top: float, step: float,
                  nodata: float | None = None, tags: dict[str, str] | None = None) -> Path:
    """Write a single-band north-up GeoTIFF (deflate, tiled when large, deterministic bytes).

    x_left, y_top: UTM coordinates of the outer corner of the top-left pixel; step in m.
    """
    import os

    os.environ.setdefault("GDAL_NUM_THREADS", "1")
    import rasterio
    from rasterio.transform import Affine

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = array.shape
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype=array.dtype.name,
                   crs=f"EPSG:{epsg}", transform=Affine(step, 0.0, x_left, 0.0, -step, y_top),
                   compress="deflate", nodata=nodata)
    if h >= 512 and w >= 512:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.Env(GDAL_NUM_THREADS=1):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(array, 1)
            if tags:
                dst.update_tags(**tags)
    return path


def read_geotiff(path: Path) -> tuple[np.ndarray, int, float, float, float]:
    """(array, epsg, x_left, y_top, step) of a single-band north-up GeoTIFF."""
    import rasterio

    with rasterio.open(path) as src:
        t = src.transform
        return src.read(1), src.crs.to_epsg(), t.c, t.f, t.a
