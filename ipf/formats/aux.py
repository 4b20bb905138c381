"""Auxiliary files: Earth orientation and GeoTIFF rasters (DEM, GRI).

The orbit and attitude are not auxiliary files: they are in the datastrip metadata
(:mod:`ipf.formats.l0_metadata`).

- Earth orientation (``AUX_UT1UTC``): an IERS Bulletin A text, alone (``.txt``) or as the data
  block (``.DBL``) of an Earth Explorer header (``.HDR``) as the PDGS delivers it; its daily
  rapid-service and prediction tables give UT1-UTC and the pole coordinates (docs/time_and_frames.md).
- DEM: the two products of the real chain (docs/dem_gri.md): ``DEM_SRTM``, a folder
  ``S2__OPER_DEM_SRTMFO_<centre>_<creation>_S<start>`` of single-band float32 GeoTIFFs of heights
  above the geoid (m) in a UTM CRS (:func:`ipf.formats.geotiff.read_dem`), and ``DEM_GEOID``,
  ``S2__OPER_DEM_GEOIDF_<centre>_<creation>_S<start>``: the geoid undulation N (m above the WGS84
  ellipsoid) as a raw grid ``.gtx`` described by an ENVI header ``.HDR`` (:func:`read_geoid`,
  :func:`write_geoid`). GeoTIFFs are written with rasterio (imported lazily,
  ``GDAL_NUM_THREADS=1``).
- GRI: ``GRI_ORBIT``, ``S2x_OPER_AUX_GRI<relative orbit>_<centre>_<creation>_S<start>.TIF``
  (:func:`gri_file_name`), a north-up GeoTIFF of the reference band.

Readers return pydantic models holding numpy arrays.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
from lxml import etree
from pydantic import BaseModel, ConfigDict, model_validator

from ipf.geometry.frames import EarthOrientation
from ipf.interface import xmlio
from ipf.interface.errors import FormatError, InputError, MissingInputError
from ipf.interface.files import atomic_write
from ipf.interface.xmlio import sub_element

__all__ = ["write_geotiff", "read_geotiff",
           "dem_srtm_name", "geoid_name", "gri_file_name",
           "EnviHeader", "GeoidGrid", "read_envi_header", "read_geoid", "write_geoid",
           "UT1UTC_TYPE", "EarthOrientationTable", "read_ut1utc", "select_ut1utc", "write_ut1utc",
           "ut1utc_file_name", "MJD_ORDINAL", "RAPID_DECIMALS", "PREDICTION_DECIMALS"]

UT1UTC_TYPE = "AUX_UT1UTC"
_STAMP = "%Y%m%dT%H%M%S"


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


# --- DEM and GRI names ------------------------------------------------------------------------

def dem_srtm_name(centre: str, creation: datetime, start: datetime) -> str:
    """``S2__OPER_DEM_SRTMFO_<centre>_<creation>_S<start>``: the DEM_SRTM folder (``centre`` padded
    with ``_`` to 4 characters)."""
    return f"S2__OPER_DEM_SRTMFO_{centre:_<4}_{creation:{_STAMP}}_S{start:{_STAMP}}"


def geoid_name(centre: str, creation: datetime, start: datetime) -> str:
    """``S2__OPER_DEM_GEOIDF_<centre>_<creation>_S<start>``: the DEM_GEOID stem (no extension)."""
    return f"S2__OPER_DEM_GEOIDF_{centre:_<4}_{creation:{_STAMP}}_S{start:{_STAMP}}"


def gri_file_name(mission: str, relative_orbit: int, centre: str, creation: datetime, start: datetime) -> str:
    """``<mission>_OPER_AUX_GRI<relative orbit, 3 digits>_<centre>_<creation>_S<start>`` (no
    extension), as the real GRI names of ``GRI_List/GRI_FILENAME``."""
    return f"{mission}_OPER_AUX_GRI{relative_orbit:03d}_{centre:_<4}_{creation:{_STAMP}}_S{start:{_STAMP}}"


# --- DEM_GEOID: ENVI header + raw grid ---------------------------------------------------------

_ENVI_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _]*?)\s*=\s*(\{[^}]*\}|[^\n]*)", re.MULTILINE)
_ENVI_TYPES = {4: "f4", 5: "f8"}
_GEOID_WKT = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]],'
              'PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]')


class EnviHeader(BaseModel):
    """The keys of an ENVI header that a geographic grid needs. ``lon0``, ``lat0``: degrees of the
    centre of the first (north-west) cell; ``step_lon``, ``step_lat``: cell size, degrees;
    ``little_endian`` from ``byte order`` 0; ``dtype`` numpy type of ``data type``."""

    model_config = ConfigDict(frozen=True)
    samples: int
    lines: int
    header_offset: int = 0
    dtype: str
    little_endian: bool
    lon0: float
    lat0: float
    step_lon: float
    step_lat: float
    description: str = ""
    source: str | None = None


def _envi_keys(text: str, path: Path) -> dict[str, str]:
    if not text.lstrip().startswith("ENVI"):
        raise FormatError("not an ENVI header (first line is not ENVI)", source=path, element="ENVI")
    return {m.group(1).lower(): m.group(2).strip() for m in _ENVI_KEY.finditer(text.partition("\n")[2])}


def _envi_int(keys: dict[str, str], key: str, path: Path, allowed: tuple[int, ...] | None = None,
              default: int | None = None) -> int:
    text = keys.get(key)
    if text is None and default is not None:
        return default
    if text is None or not text.isdigit():
        raise FormatError(f"{key} is {text!r}, not a whole number", source=path, element=key)
    value = int(text)
    if allowed is not None and value not in allowed:
        raise FormatError(f"{key} is {value}, expected one of {allowed}", source=path, element=key)
    return value


def read_envi_header(path: Path | str) -> EnviHeader:
    """The ENVI header ``path`` of a one-band grid on geographic lon/lat (``map info``
    ``Geographic Lat/Lon``, reference pixel in ENVI's 1-based corner convention); FormatError
    naming the key otherwise."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("ascii")
    except FileNotFoundError:
        raise MissingInputError("no such file", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read an ENVI header: {exc}", source=path) from None
    keys = _envi_keys(text, path)
    samples, lines = (_envi_int(keys, k, path) for k in ("samples", "lines"))
    if samples < 2 or lines < 2:
        raise FormatError(f"a grid of {samples} x {lines} cells, at least 2 x 2 needed", source=path,
                          element="samples" if samples < 2 else "lines")
    _envi_int(keys, "bands", path, (1,))
    data_type = _envi_int(keys, "data type", path, tuple(_ENVI_TYPES))
    order = _envi_int(keys, "byte order", path, (0, 1))
    offset = _envi_int(keys, "header offset", path, default=0)
    if keys.get("file type", "ENVI Standard") != "ENVI Standard":
        raise FormatError(f"file type is {keys['file type']!r}, expected ENVI Standard", source=path,
                          element="file type")
    info = [v.strip() for v in keys.get("map info", "").strip("{}").split(",")]
    if len(info) < 7 or info[0] != "Geographic Lat/Lon":
        raise FormatError(f"map info {keys.get('map info')!r} is not a Geographic Lat/Lon grid",
                          source=path, element="map info")
    try:
        ref_x, ref_y, lon, lat, dx, dy = (float(v) for v in info[1:7])
    except ValueError:
        raise FormatError(f"map info {keys['map info']!r}: not numbers", source=path, element="map info") from None
    if not (dx > 0 and dy > 0) or len(info) > 7 and info[7] not in ("WGS-84", "WGS84"):
        raise FormatError(f"map info {keys['map info']!r}: cell sizes must be > 0 and the datum WGS-84",
                          source=path, element="map info")
    return EnviHeader(samples=samples, lines=lines, header_offset=offset, dtype=_ENVI_TYPES[data_type],
                      little_endian=order == 0, lon0=lon + (1.5 - ref_x) * dx, lat0=lat - (1.5 - ref_y) * dy,
                      step_lon=dx, step_lat=dy, description=keys.get("description", "").strip("{} \n"),
                      source=str(path))


class GeoidGrid(BaseModel):
    """Geoid undulation N (m above the WGS84 ellipsoid) on a lon/lat grid: ``values`` (lines,
    samples) float32, row 0 north; the centre of cell (line, sample) is at lon = ``lon0`` + sample
    · ``step_lon``, lat = ``lat0`` - line · ``step_lat`` (degrees). A grid whose samples span 360°
    wraps in longitude. ``source`` is the file read, named by errors."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    values: np.ndarray
    lon0: float
    lat0: float
    step_lon: float
    step_lat: float
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "GeoidGrid":
        if self.values.ndim != 2 or min(self.values.shape) < 2 or not np.all(np.isfinite(self.values)):
            raise ValueError("values must be a finite 2-D grid of at least 2 x 2 cells")
        if not (self.step_lon > 0 and self.step_lat > 0):
            raise ValueError("cell sizes must be > 0")
        return self

    @property
    def wraps(self) -> bool:
        """Whether the samples span the whole parallel (360°)."""
        return abs(self.values.shape[1] * self.step_lon - 360.0) < 1e-9

    def undulation(self, lon, lat) -> np.ndarray:
        """N (m, float64) bilinear between cell centres at (lon, lat) degrees (broadcast arrays);
        a point outside the centres (in longitude only for a grid that does not wrap) is an
        :class:`~ipf.interface.errors.InputError` naming the file and ``map info``."""
        lines, samples = self.values.shape
        c = (np.asarray(lon, np.float64) - self.lon0) / self.step_lon
        r = (self.lat0 - np.asarray(lat, np.float64)) / self.step_lat
        if self.wraps:
            c = np.mod(c, samples)
        last_c = samples if self.wraps else samples - 1
        if c.size and (r.min() < 0 or r.max() > lines - 1 or c.min() < 0 or c.max() > last_c):
            raise InputError(f"the geoid grid (lon {self.lon0:g} + {self.step_lon:g} x {samples}, lat "
                             f"{self.lat0:g} - {self.step_lat:g} x {lines}) does not cover lon "
                             f"{np.min(lon):.4f}..{np.max(lon):.4f}, lat {np.min(lat):.4f}..{np.max(lat):.4f}",
                             source=self.source, element="map info")
        r0 = np.minimum(r.astype(np.int64), lines - 2)
        c0 = np.minimum(c.astype(np.int64), last_c - 1)
        fr, fc = r - r0, c - c0
        c1 = (c0 + 1) % samples
        g = self.values.astype(np.float64)
        top = g[r0, c0] * (1 - fc) + g[r0, c1] * fc
        bottom = g[r0 + 1, c0] * (1 - fc) + g[r0 + 1, c1] * fc
        return top * (1 - fr) + bottom * fr


def _geoid_files(path: Path) -> tuple[Path, Path]:
    """(.HDR, grid) of a DEM_GEOID given as its ``.HDR``, its grid (``.gtx``, ``.DBL``) or the folder
    holding them."""
    if path.is_dir():
        headers = sorted(p for p in path.iterdir() if p.suffix.upper() == ".HDR")
        if len(headers) != 1:
            raise FormatError(f"{len(headers)} .HDR files in the DEM_GEOID folder, expected 1", source=path)
        path = headers[0]
    if path.suffix.upper() != ".HDR":
        header = next((p for p in (path.with_suffix(".HDR"), path.with_suffix(".hdr")) if p.is_file()), None)
        if header is None:
            raise MissingInputError("no .HDR beside the geoid grid", source=path)
        return header, path
    grid = next((p for ext in (".gtx", ".GTX", ".DBL", ".dbl") if (p := path.with_suffix(ext)).is_file()), None)
    if grid is None:
        raise MissingInputError("no .gtx (or .DBL) grid beside the ENVI header", source=path)
    return path, grid


def read_geoid(path: Path | str) -> GeoidGrid:
    """Read a DEM_GEOID: the ENVI header (:func:`read_envi_header`) and the raw grid beside it
    (``<stem>.gtx`` or ``.DBL``), given as either file or as their folder. A grid of another size
    than ``header offset`` + samples · lines · cell bytes, or with non-finite values, is a
    FormatError naming the grid file."""
    header, grid = _geoid_files(Path(path))
    h = read_envi_header(header)
    dtype = np.dtype(h.dtype).newbyteorder("<" if h.little_endian else ">")
    expected = h.header_offset + h.samples * h.lines * dtype.itemsize
    size = grid.stat().st_size
    if size != expected:
        raise FormatError(f"{size} bytes, the header gives {expected} (header offset + samples x lines x "
                          f"{dtype.itemsize})", source=grid, element="samples")
    values = np.fromfile(grid, dtype, offset=h.header_offset).reshape(h.lines, h.samples).astype(np.float32)
    if not np.all(np.isfinite(values)):
        raise FormatError("non-finite geoid undulations", source=grid)
    return GeoidGrid(values=values, lon0=h.lon0, lat0=h.lat0, step_lon=h.step_lon, step_lat=h.step_lat,
                     source=str(grid))


def _envi_header_text(name: str, grid: GeoidGrid) -> str:
    lines, samples = grid.values.shape
    corner_lon, corner_lat = grid.lon0 - grid.step_lon / 2, grid.lat0 + grid.step_lat / 2
    return "\n".join([
        "ENVI", "description = {", f"{name}.gtx}}", f"samples = {samples}", f"lines   = {lines}",
        "bands   = 1", "header offset = 0", "file type = ENVI Standard", "data type = 4", "interleave = bsq",
        "byte order = 0",
        f"map info = {{Geographic Lat/Lon, 1, 1, {corner_lon!r}, {corner_lat!r}, {grid.step_lon!r}, "
        f"{grid.step_lat!r},WGS-84}}",
        f"coordinate system string = {{{_GEOID_WKT}}}", "band names = {", "Band 1}", ""])


def write_geoid(folder: Path | str, name: str, grid: GeoidGrid) -> Path:
    """Write a DEM_GEOID as the real one comes: ``<name>.gtx`` (float32 little-endian, row 0
    north) and the ENVI header ``<name>.HDR`` (same keys as the real header: samples, lines, bands,
    header offset, file type, data type 4, interleave bsq, byte order 0, map info of the north-west
    cell's outer corner, coordinate system string); grid first, then header. Returns the
    ``.HDR``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / f"{name}.gtx", np.ascontiguousarray(grid.values, "<f4").tobytes())
    return atomic_write(folder / f"{name}.HDR", _envi_header_text(name, grid))


# --- AUX_UT1UTC: IERS Bulletin A ---------------------------------------------------------------

_ARCSEC = np.pi / 180 / 3600
MJD_ORDINAL = date(1858, 11, 17).toordinal()
"""``date.toordinal()`` of MJD 0 (1858-11-17)."""
_MJD_UNIX_EPOCH = 40587
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)$")
_TAI_UTC_AT = re.compile(r"TAI-UTC\(MJD\s+\d+\)\s*=\s*([-+]?\d+(?:\.\d*)?)")
_TAI_UTC = re.compile(r"TAI-UTC\s*=\s*([-+]?\d+\.[\d ]*\d)\s+seconds")
_RAPID_TITLE = re.compile(r"^\s*IERS Rapid Service\s*$")
_PREDICTION_HEADER = re.compile(r"^\s*MJD\s+x\(arcsec\)\s+y\(arcsec\)\s+UT1-UTC\(sec\)\s*$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
RAPID_DECIMALS = (5, 5, 6)
"""Decimals of x_p, y_p (arcsec) and UT1-UTC (s) of the Bulletin A rapid-service rows."""
PREDICTION_DECIMALS = (4, 4, 5)
"""Decimals of x_p, y_p (arcsec) and UT1-UTC (s) of the Bulletin A predicted rows."""


class EarthOrientationTable(BaseModel):
    """Daily Earth orientation of an IERS Bulletin A: the rapid-service (measured) rows, then the
    predicted ones.

    ``mjd`` (n,) int64 MJD of 0 h UTC, strictly increasing; ``x_p``, ``y_p`` (n,) pole coordinates
    (arcsec); ``ut1_utc`` (n,) UT1-UTC (s); ``n_rapid`` the number of leading rows from the
    rapid-service table; ``tai_utc`` TAI-UTC (s); ``source`` the file read, named by errors.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    mjd: np.ndarray
    x_p: np.ndarray
    y_p: np.ndarray
    ut1_utc: np.ndarray
    n_rapid: int = 0
    tai_utc: float
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "EarthOrientationTable":
        n = len(self.mjd)
        if n < 2 or any(np.shape(a) != (n,) for a in (self.mjd, self.x_p, self.y_p, self.ut1_utc)):
            raise ValueError("mjd, x_p, y_p, ut1_utc must be 1-D arrays of the same length >= 2")
        if not np.all(np.diff(self.mjd) > 0):
            raise ValueError("mjd must be strictly increasing")
        if not 0 <= self.n_rapid <= n:
            raise ValueError(f"n_rapid {self.n_rapid} outside 0..{n}")
        if not all(np.isfinite(a).all() for a in (self.x_p, self.y_p, self.ut1_utc)):
            raise ValueError("x_p, y_p, ut1_utc must be finite")
        return self

    def _ut1_utc(self, mjd: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """UT1-UTC (s) linear between rows; a step of a whole second (a leap second at the end of
        the earlier row's day) is taken out of the interval it ends."""
        i = np.clip(np.searchsorted(grid, mjd, side="right") - 1, 0, len(grid) - 1)
        j = np.minimum(i + 1, len(grid) - 1)
        step = np.round(self.ut1_utc[j] - self.ut1_utc[i])
        f = np.where(j > i, (mjd - grid[i]) / np.maximum(grid[j] - grid[i], 1.0), 0.0)
        return self.ut1_utc[i] + f * (self.ut1_utc[j] - step - self.ut1_utc[i])

    def at(self, times: np.ndarray) -> EarthOrientation:
        """Earth orientation at UTC ``datetime64`` times, linear in MJD between the daily rows
        (also across a gap between the rapid-service and prediction tables; UT1-UTC without the
        1 s step of a leap second); a time outside the table is an
        :class:`~ipf.interface.errors.InputError` naming the file."""
        ns = np.atleast_1d(np.asarray(times)).astype("datetime64[ns]").astype(np.int64)
        mjd = _MJD_UNIX_EPOCH + ns / 86400e9
        first, last = float(self.mjd[0]), float(self.mjd[-1])
        if mjd.size and (mjd.min() < first or mjd.max() > last):
            raise InputError(f"times MJD {mjd.min():.5f}..{mjd.max():.5f} are outside the Earth "
                             f"orientation table MJD {first:.0f}..{last:.0f}", source=self.source)
        grid = self.mjd.astype(np.float64)
        return EarthOrientation(ut1_utc=self._ut1_utc(mjd, grid),
                                xp=np.interp(mjd, grid, self.x_p) * _ARCSEC,
                                yp=np.interp(mjd, grid, self.y_p) * _ARCSEC,
                                tai_utc=self.tai_utc)


def _bad(message: str, source: Path, line: int | None = None) -> FormatError:
    return FormatError(message, source=source, element=None if line is None else f"line {line}")


def _row(tokens: list[str], two_digit_year: bool, source: Path, line: int) -> tuple[int, float, float, float]:
    """(mjd, x, y, UT1-UTC) of a table row ``Y M D MJD x [err] y [err] UT1-UTC [err]``."""
    values = tokens[4:]
    if len(tokens) < 7 or not all(t.isascii() and t.isdigit() for t in tokens[:4]) or len(values) not in (3, 6) \
            or not all(_NUMBER.match(v) for v in values):
        raise _bad("not a row 'year month day MJD x y UT1-UTC' of the table", source, line)
    year, month, day, mjd = map(int, tokens[:4])
    if two_digit_year:
        year += 2000 if year < 73 else 1900
    try:
        expected = date(year, month, day).toordinal() - MJD_ORDINAL
    except (ValueError, OverflowError):
        raise _bad(f"no date {year}-{month}-{day}", source, line) from None
    if mjd != expected:
        raise _bad(f"MJD {mjd} is not the date {year:04d}-{month:02d}-{day:02d} (MJD {expected})", source, line)
    x, y, ut1 = (float(v) for v in (values[::2] if len(values) == 6 else values))
    return mjd, x, y, ut1


def _table(lines: list[str], start: int, two_digit_year: bool, source: Path) -> tuple[list[tuple], list[int]]:
    """Rows (and their 1-based line numbers) after line index ``start``: header lines, then the
    rows, the lines starting with a digit, up to the first line that does not."""
    rows, numbers = [], []
    for i in range(start + 1, len(lines)):
        text = lines[i].strip()
        if text[:1].isdigit():
            rows.append(_row(text.split(), two_digit_year, source, i + 1))
            numbers.append(i + 1)
        elif rows:
            break
    return rows, numbers


def _tai_utc(text: str, source: Path) -> float:
    m = _TAI_UTC_AT.search(text) or _TAI_UTC.search(text)
    if m is None:
        raise _bad("no TAI-UTC in the bulletin", source)
    return float(m.group(1).replace(" ", ""))


def _parse_bulletin_a(text: str, source: Path) -> EarthOrientationTable:
    lines = text.splitlines()
    rapid, rapid_lines, predicted, predicted_lines = [], [], [], []
    for i, line in enumerate(lines):
        if not rapid and _RAPID_TITLE.match(line):
            rapid, rapid_lines = _table(lines, i, True, source)
        elif not predicted and _PREDICTION_HEADER.match(line):
            predicted, predicted_lines = _table(lines, i, False, source)
    rows, numbers = rapid + predicted, rapid_lines + predicted_lines
    if len(rows) < 2:
        raise _bad("fewer than 2 rows in the IERS Rapid Service and PREDICTIONS tables", source)
    mjd = np.array([r[0] for r in rows], dtype=np.int64)
    back = np.flatnonzero(np.diff(mjd) <= 0)
    if back.size:
        raise _bad(f"MJD {mjd[back[0] + 1]} does not follow MJD {mjd[back[0]]}", source, numbers[back[0] + 1])
    vals = np.array([r[1:] for r in rows], dtype=np.float64)
    return EarthOrientationTable(mjd=mjd, x_p=vals[:, 0], y_p=vals[:, 1], ut1_utc=vals[:, 2],
                                 n_rapid=len(rapid), tai_utc=_tai_utc(text, source), source=str(source))


def _check_header(path: Path) -> None:
    tree = xmlio.parse(path, error=FormatError, root="Earth_Explorer_Header")
    file_type = (tree.getroot().findtext("Fixed_Header/File_Type") or "").strip()
    if file_type != UT1UTC_TYPE:
        raise FormatError(f"File_Type is {file_type!r}, expected {UT1UTC_TYPE}", source=path,
                          element="/Earth_Explorer_Header/Fixed_Header/File_Type")


def read_ut1utc(path: Path | str) -> EarthOrientationTable:
    """Read an AUX_UT1UTC: a Bulletin A text (``.txt``, ``.DBL``) or the ``.HDR`` of an HDR + DBL
    pair (its File_Type checked, the ``.DBL`` beside it read)."""
    path = Path(path)
    if path.suffix.upper() == ".HDR":
        _check_header(path)
        dbl = next((p for p in (path.with_suffix(".DBL"), path.with_suffix(".dbl")) if p.is_file()), None)
        if dbl is None:
            raise MissingInputError("no .DBL beside the header", source=path)
        path = dbl
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise MissingInputError("no such file", source=path) from None
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}", source=path) from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"not a text file: {exc.reason} at byte {exc.start}", source=path) from None
    return _parse_bulletin_a(text, path)


def select_ut1utc(paths) -> Path:
    """The AUX_UT1UTC file to read among the ``paths`` a Job Order gives: the ``.HDR`` of an
    HDR + DBL pair rather than its ``.DBL``, and of several versions the latest by name (the
    creation time follows the file type); none is a :class:`MissingInputError`."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise MissingInputError(f"no {UT1UTC_TYPE} file given", element=UT1UTC_TYPE)
    headers = {p.with_suffix("") for p in paths if p.suffix.upper() == ".HDR"}
    kept = [p for p in paths if p.suffix.upper() == ".HDR" or p.with_suffix("") not in headers]
    return max(kept, key=lambda p: (p.name, str(p)))


def ut1utc_file_name(creation: datetime, validity_start: datetime, validity_stop: datetime,
                     mission: str = "S2_") -> str:
    """``<mission>_OPER_AUX_UT1UTC_PDMC_<creation>_V<start>_<stop>`` (no extension)."""
    f = "%Y%m%dT%H%M%S"
    return (f"{mission}_OPER_{UT1UTC_TYPE}_PDMC_{creation:{f}}_V{validity_start:{f}}_"
            f"{validity_stop:{f}}")


def _mjd_date(mjd: int) -> date:
    return date.fromordinal(int(mjd) + MJD_ORDINAL)


def _bulletin_a_text(table: EarthOrientationTable, creation: datetime) -> str:
    tai = f"{table.tai_utc:.6f}"
    lines = [
        "",
        "      " + "*" * 70,
        "      *" + "I E R S   B U L L E T I N - A".center(68) + "*",
        "      *" + "Rapid Service/Prediction of Earth Orientation".center(68) + "*",
        "      " + "*" * 70,
        f"      {creation.day} {_MONTHS[creation.month - 1]} {creation.year}",
        "      " + "_" * 70,
        "      GENERAL INFORMATION:",
        "         MJD = Julian Date - 2 400 000.5 days",
        "         TT = TAI + 32.184 seconds",
        f"         TAI-UTC = {tai[:-3]} {tai[-3:]} seconds",
        "         Daily values of the rapid-service and prediction tables only (written by s2ipf).",
        "",
    ]
    xd, yd, ud = RAPID_DECIMALS
    if table.n_rapid:
        lines += ["      COMBINED EARTH ORIENTATION PARAMETERS:", "",
                  "                              IERS Rapid Service",
                  "              MJD      x        y      UT1-UTC",
                  '                       "        "         s']
        for k in range(table.n_rapid):
            d = _mjd_date(table.mjd[k])
            lines.append(f"   {d.year % 100:2d} {d.month:2d} {d.day:2d}  {table.mjd[k]:5d} {table.x_p[k]:8.{xd}f} "
                         f"{table.y_p[k]:8.{yd}f} {table.ut1_utc[k]:10.{ud}f}")
        lines.append("")
    xd, yd, ud = PREDICTION_DECIMALS
    lines += ["      " + "_" * 70, "", "      PREDICTIONS:", ""]
    if table.n_rapid < len(table.mjd):
        lines += [f"         TAI-UTC(MJD {table.mjd[table.n_rapid]}) = {table.tai_utc:.6f}", ""]
    lines.append("                    MJD      x(arcsec)   y(arcsec)   UT1-UTC(sec)")
    for k in range(table.n_rapid, len(table.mjd)):
        d = _mjd_date(table.mjd[k])
        lines.append(f"       {d.year:4d} {d.month:2d} {d.day:2d}  {table.mjd[k]:5d}  {table.x_p[k]:11.{xd}f} "
                     f"{table.y_p[k]:11.{yd}f} {table.ut1_utc[k]:12.{ud}f}")
    lines += ["", "      These predictions are based on all announced leap seconds.", ""]
    return "\n".join(lines)


def _header_xml(name: str, creation: datetime, validity_start: datetime, validity_stop: datetime) -> bytes:
    f = "UTC=%Y-%m-%dT%H:%M:%S"
    root = etree.Element("Earth_Explorer_Header")
    fixed = sub_element(root, "Fixed_Header")
    for tag, text in (("File_Name", name), ("File_Description", "IERS Bulletin A: UT1-UTC and polar motion"),
                      ("Notes", ""), ("Mission", "Sentinel-2"), ("File_Class", "OPER"),
                      ("File_Type", UT1UTC_TYPE)):
        sub_element(fixed, tag, text)
    period = sub_element(fixed, "Validity_Period")
    sub_element(period, "Validity_Start", f"{validity_start:{f}}")
    sub_element(period, "Validity_Stop", f"{validity_stop:{f}}")
    sub_element(fixed, "File_Version", "0001")
    src = sub_element(fixed, "Source")
    for tag, text in (("System", "PDMC"), ("Creator", "s2ipf"), ("Creator_Version", "0.1.0"),
                      ("Creation_Date", f"{creation:{f}}")):
        sub_element(src, tag, text)
    sub_element(root, "Variable_Header", "")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_ut1utc(folder: Path | str, table: EarthOrientationTable, creation: datetime,
                 validity_start: datetime, validity_stop: datetime, mission: str = "S2_") -> Path:
    """Write an AUX_UT1UTC as the PDGS delivers it, ``<name>.HDR`` + ``<name>.DBL``
    (:func:`ut1utc_file_name`); returns the ``.HDR`` path.

    The DBL is a Bulletin A text holding the table: its rapid-service rows (without the error
    columns) at 0.00001" and 0.000001 s, its predicted rows at 0.0001" and 0.00001 s, the
    resolutions of the IERS tables (values are rounded to them, so a table read from a Bulletin A
    is written back exactly), and TAI-UTC. The DBL is written first, then the HDR.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = ut1utc_file_name(creation, validity_start, validity_stop, mission)
    atomic_write(folder / f"{name}.DBL", _bulletin_a_text(table, creation))
    return atomic_write(folder / f"{name}.HDR", _header_xml(name, creation, validity_start, validity_stop))
