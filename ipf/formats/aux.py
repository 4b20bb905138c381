"""Auxiliary files: Earth orientation and GeoTIFF rasters (DEM, GRI).

The orbit and attitude are not auxiliary files: they are in the datastrip metadata
(:mod:`ipf.formats.l0_metadata`).

- Earth orientation (``AUX_UT1UTC``): an IERS Bulletin A text, alone (``.txt``) or as the data
  block (``.DBL``) of an Earth Explorer header (``.HDR``) as the PDGS delivers it; its daily
  rapid-service and prediction tables give UT1-UTC and the pole coordinates (docs/time_and_frames.md).
- DEM: single-band float32 GeoTIFF of ellipsoidal heights (m) in a UTM CRS, written with
  rasterio (imported lazily, ``GDAL_NUM_THREADS=1``).

Readers return pydantic models holding numpy arrays.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import re

import numpy as np
from lxml import etree
from pydantic import BaseModel, ConfigDict, model_validator

from ipf.geometry.frames import EarthOrientation
from ipf.interface import xmlio
from ipf.interface.errors import FormatError, InputError, MissingInputError
from ipf.interface.files import atomic_write


__all__ = ["write_geotiff", "read_geotiff",
           "UT1UTC_TYPE", "EarthOrientationTable", "read_ut1utc", "select_ut1utc", "write_ut1utc",
           "ut1utc_file_name"]

UT1UTC_TYPE = "AUX_UT1UTC"


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


# --- AUX_UT1UTC: IERS Bulletin A ---------------------------------------------------------------

_ARCSEC = np.pi / 180 / 3600
_MJD_ORDINAL = date(1858, 11, 17).toordinal()
_MJD_UNIX_EPOCH = 40587
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)$")
_TAI_UTC_AT = re.compile(r"TAI-UTC\(MJD\s+\d+\)\s*=\s*([-+]?\d+(?:\.\d*)?)")
_TAI_UTC = re.compile(r"TAI-UTC\s*=\s*([-+]?\d+\.[\d ]*\d)\s+seconds")
_RAPID_TITLE = re.compile(r"^\s*IERS Rapid Service\s*$")
_PREDICTION_HEADER = re.compile(r"^\s*MJD\s+x\(arcsec\)\s+y\(arcsec\)\s+UT1-UTC\(sec\)\s*$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_RAPID_DECIMALS = (5, 5, 6)
_PREDICTION_DECIMALS = (4, 4, 5)


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
    if len(tokens) < 7 or not all(t.isdigit() for t in tokens[:4]) or len(values) not in (3, 6) \
            or not all(_NUMBER.match(v) for v in values):
        raise _bad("not a row 'year month day MJD x y UT1-UTC' of the table", source, line)
    year, month, day, mjd = map(int, tokens[:4])
    if two_digit_year:
        year += 2000 if year < 73 else 1900
    try:
        expected = date(year, month, day).toordinal() - _MJD_ORDINAL
    except ValueError:
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
    return date.fromordinal(int(mjd) + _MJD_ORDINAL)


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
    xd, yd, ud = _RAPID_DECIMALS
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
    xd, yd, ud = _PREDICTION_DECIMALS
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


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _header_xml(name: str, creation: datetime, validity_start: datetime, validity_stop: datetime) -> bytes:
    f = "UTC=%Y-%m-%dT%H:%M:%S"
    root = etree.Element("Earth_Explorer_Header")
    fixed = _sub(root, "Fixed_Header")
    for tag, text in (("File_Name", name), ("File_Description", "IERS Bulletin A: UT1-UTC and polar motion"),
                      ("Notes", ""), ("Mission", "Sentinel-2"), ("File_Class", "OPER"),
                      ("File_Type", UT1UTC_TYPE)):
        _sub(fixed, tag, text)
    period = _sub(fixed, "Validity_Period")
    _sub(period, "Validity_Start", f"{validity_start:{f}}")
    _sub(period, "Validity_Stop", f"{validity_stop:{f}}")
    _sub(fixed, "File_Version", "0001")
    src = _sub(fixed, "Source")
    for tag, text in (("System", "PDMC"), ("Creator", "s2ipf"), ("Creator_Version", "0.1.0"),
                      ("Creation_Date", f"{creation:{f}}")):
        _sub(src, tag, text)
    _sub(root, "Variable_Header", "")
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
