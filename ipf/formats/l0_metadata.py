"""L0 datastrip and granule metadata in the PSD 14.8 form (``S2_PDI_Level-0_Datastrip_Metadata``,
``S2_PDI_Level-0_Granule_Metadata``), with the orbit and attitude in ``Satellite_Ancillary_Data_Info``.

The models keep what the file says: ``GPS_TIME`` values are GPS times (``numpy.datetime64[ns]``,
labels of the GPS time scale, exact to the nanosecond), header times marked ``Z`` are UTC;
:func:`gps_to_utc` (:func:`ipf.geometry.frames.gps_to_utc`, with ``GPS_TIME_UTC``) is the one
conversion. Ephemeris is ECEF (m, m/s; the file holds mm, mm/s); attitudes are unit quaternions, scalar first ``(w, x, y, z)``, of the rotation piloting frame ->
EME2000 (``v_EME2000 = R(q) v_piloting``; the file holds ``(x, y, z, w)``).

The readers accept our files, the real L0 datastrip metadata and the real L1B datastrip metadata
(``Satellite_Ancillary_Data_Info``, ``Time_Stamp`` and ``Auxiliary_Data_Info`` are the same
there), the real unconsolidated (L0U) datastrip metadata and the real L0 (and L0U) granule
metadata; every read of a file that has ephemeris and attitudes applies :func:`check_ancillary`.
An L0U datastrip has no ``Processing_Info`` (baseline, centre and creation come from its
``datastripIdentifier``), no ``Auxiliary_Data_Info`` and, in ``Satellite_Ancillary_Data_Info``,
only ``ANC_DATA_REF`` (the folder of its SAD packets): its model has ``ancillary`` and
``auxiliary`` None and ``ancillary_ref`` set.
docs/l0_metadata.md lists the elements written by convention where we have no value.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import numpy as np
from lxml import etree
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from ipf.formats.missions import MISSION_LETTERS, Spacecraft
from ipf.formats.msi_bands import BANDS
from ipf.geometry.frames import gps_to_utc
from ipf.interface import xmlio
from ipf.interface.errors import FormatError, InputError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_write
from ipf.interface.xmlio import sub_element

__all__ = [
    "DS_NAMESPACE",
    "GR_NAMESPACE",
    "Attitudes",
    "AuxiliaryInfo",
    "BandTimeStamp",
    "Datastrip",
    "Degradation",
    "Ephemeris",
    "GeometricHeader",
    "GippRef",
    "Granule",
    "GranuleRef",
    "LocatedHeader",
    "PacketCounter",
    "SatelliteAncillary",
    "SpectralBand",
    "TimeCorrelation",
    "TimeStamp",
    "check_ancillary",
    "datastrip_mtd_name",
    "format_gps_time",
    "gps_to_utc",
    "granule_line_ranges",
    "granule_mtd_name",
    "line_datation",
    "parse_gps_time",
    "read_datastrip_metadata",
    "read_granule_metadata",
    "write_datastrip_metadata",
    "write_granule_metadata",
]

DS_NAMESPACE = "https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-0_Datastrip_Metadata.xsd"
GR_NAMESPACE = "https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-0_Granule_Metadata.xsd"

_NS = np.timedelta64(1, "ns")
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NAME = r"[A-Z0-9_]{4}"
_GIPP_ID = re.compile(r"S2[" + MISSION_LETTERS + r"_]_\w{4}_\w{10}_\w{4}_\d{8}T\d{6}_V\d{8}T\d{6}_\d{8}T\d{6}_B(0\d|8A|1[0-2])")
_DEM_ID = re.compile(r"S2[" + MISSION_LETTERS + r"_]_\w{4}_\w{10}_\w{4}_\d{8}T\d{6}_S\d{8}T\d{6}")
_IERS_ID = re.compile(r"S2[" + MISSION_LETTERS + r"_]_\w{4}_\w{10}_\w{4}_\d{8}T\d{6}_V\d{8}T\d{6}_\d{8}T\d{6}")
_PDI_ID = r"S2[" + MISSION_LETTERS + r"]_\w{4}_\w{10}_\w{4}_\d{8}T\d{6}_S\d{8}T\d{6}"
_ID_FMT = "%Y%m%dT%H%M%S"
_RADIUS_M = (6.9e6, 7.3e6)
_SPEED_M_S = (7.3e3, 7.7e3)
_QUAT_TOL = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="forbid")


_M = TypeVar("_M", bound=_Model)


class BandTimeStamp(_Model):
    """GPS time of line ``reference_line`` (1-based, in lines of the band) of (band, detector)."""

    band: int = Field(ge=0, le=12)
    detector: int = Field(ge=1, le=12)
    reference_line: int
    gps_time: np.datetime64


class TimeStamp(_Model):
    """Line datation: ``LINE_PERIOD`` ms of the 10 m lines (20 m and 60 m lines last 2x and 6x)."""

    line_period_ms: float = Field(gt=0)
    used_model: Literal["INITIAL", "EXOGENEOUS", "ON_BOARD"] = "INITIAL"
    gps_sync: bool = True
    stamps: tuple[BandTimeStamp, ...]


class GranuleRef(_Model):
    """A granule of the datastrip: its identifier, detector and ``POSITION`` (1-based first 10 m line)."""

    granule_id: Annotated[str, StringConstraints(pattern=_PDI_ID + r"_D\d\d_N\d\d\.\d\d$")]
    detector: int = Field(ge=1, le=12)
    position: int = Field(ge=1)


class SpectralBand(_Model):
    """Acquisition settings of one band: compression rate (bits/pixel), integration time ms and
    physical gain (NaN when not known)."""

    band: int = Field(ge=0, le=12)
    compression_rate: float
    integration_time_ms: float = math.nan
    physical_gain: float = math.nan


class PacketCounter(_Model):
    """Source packets of (detector, band): first packet index, scene position and count."""

    detector: int = Field(ge=1, le=12)
    band: int = Field(ge=0, le=12)
    data_strip_start: int = Field(ge=0)
    scene_position: int
    packets: int = Field(ge=0)


class Degradation(_Model):
    """Packet degradation summary of the datastrip (percentage of degraded packets)."""

    percentage: float = Field(ge=0, le=100)
    lost: int = Field(ge=0)
    too_degraded: int = Field(ge=0)
    kept_degraded: int = Field(ge=0)


class LocatedHeader(_Model):
    """Angles (deg) and pixel size (m) at the ``begin``, ``center`` or ``end`` of a header line."""

    pos: Literal["begin", "center", "end"]
    orientation_deg: float
    incidence_zenith_deg: float
    incidence_azimuth_deg: float
    solar_zenith_deg: float
    solar_azimuth_deg: float
    pixel_along_m: float
    pixel_across_m: float


class GeometricHeader(_Model):
    """A ``Geometric_Header`` of the quick-look: time, line, roll/pitch/yaw (deg), located headers."""

    gps_time: np.datetime64
    line_index: int
    roll_deg: float
    pitch_deg: float
    yaw_deg: float
    located: tuple[LocatedHeader, LocatedHeader, LocatedHeader]


class Ephemeris(_Model):
    """``GPS_Points_List``: GPS times (n,), ECEF positions m (n, 3), velocities m/s (n, 3); 1 mm resolution."""

    gps_time: np.ndarray
    position_m: np.ndarray
    velocity_m_s: np.ndarray


class Attitudes(_Model):
    """``Corrected_Attitudes``: GPS times (n,), quaternions (n, 4) scalar first (w, x, y, z) of
    piloting frame -> EME2000, validity (n,) and ``ATTITUDE_QUALITY_INDICATOR`` per sample."""

    gps_time: np.ndarray
    quaternion: np.ndarray
    valid: np.ndarray
    quality: tuple[Literal["INVALID", "PROPAGATED", "ONE_VALID_STR", "TWO_VALID_STR"], ...]


class TimeCorrelation(_Model):
    """A ``Time_Correlation_Data`` record: on-board time ``IMT`` against GPS and UTC."""

    nsm: str
    quality_index_ns: float
    tdop: float
    imt: int
    gps_time: np.datetime64
    utc_time: np.datetime64


class SatelliteAncillary(_Model):
    """Orbit, attitude and time correlation of ``Satellite_Ancillary_Data_Info``."""

    ephemeris: Ephemeris
    attitudes: Attitudes
    time_correlation: tuple[TimeCorrelation, ...] = ()


class GippRef(_Model):
    """A ``GIPP_FILENAME``: type, version and file name (no extension)."""

    type: str
    version: str
    file_name: Annotated[str, StringConstraints(pattern=_GIPP_ID.pattern + "$")]


class AuxiliaryInfo(_Model):
    """``Auxiliary_Data_Info``: IERS values (s, arcsec), GIPPs, DEM, IERS bulletin, reference band."""

    ut1_utc_s: float
    gps_time_utc_s: float
    gps_time_tai_s: float
    pole_u_arcsec: float
    pole_v_arcsec: float
    gipps: tuple[GippRef, ...] = Field(min_length=1)
    dem: Annotated[str, StringConstraints(pattern=_DEM_ID.pattern + "$")]
    iers_bulletin: Annotated[str, StringConstraints(pattern=_IERS_ID.pattern + "$")]
    reference_band: int = Field(ge=0, le=12)


class Datastrip(_Model):
    """Content of an L0 datastrip metadata file (UTC header times, GPS datation). ``ancillary``
    and ``auxiliary`` are None for an unconsolidated (L0U) datastrip, whose orbit and attitude
    are still SAD packets in the folder ``ancillary_ref`` (``ANC_DATA_REF``)."""

    spacecraft: Spacecraft
    datatake_id: Annotated[str, StringConstraints(
        pattern=r"^GS2[" + MISSION_LETTERS + r"]_\d{8}T\d{6}_\d{6}_N\d\d\.\d\d$")]
    datastrip_id: Annotated[str, StringConstraints(pattern="^" + _PDI_ID + r"_N\d\d\.\d\d$")]
    datatake_type: str = "INS-NOBS"
    datatake_start: datetime
    sensing_start: datetime
    sensing_stop: datetime
    processing_baseline: Annotated[str, StringConstraints(pattern=r"^\d\d\.\d\d$")]
    processing_centre: Annotated[str, StringConstraints(pattern="^" + _NAME + "$")]
    creation: datetime
    orbit_number: int = Field(ge=1, le=143)
    absolute_orbit: int = Field(ge=0)
    orbit_direction: Literal["ASCENDING", "DESCENDING"] = "DESCENDING"
    reception_station: Annotated[str, StringConstraints(pattern="^" + _NAME + "$")] = "____"
    granules: tuple[GranuleRef, ...] = Field(min_length=1)
    active_detectors: tuple[int, ...] = Field(min_length=1)
    compress_mode: bool = True
    equalization_mode: bool = True
    nuc_table_id: str = ""
    tdi: tuple[tuple[int, str], ...] = ((2, "APPLIED"), (3, "APPLIED"), (11, "APPLIED"), (12, "APPLIED"))
    bands: tuple[SpectralBand, ...] = Field(min_length=1)
    packet_counters: tuple[PacketCounter, ...] = Field(min_length=1)
    degradation: Degradation
    time_stamp: TimeStamp
    geometric_headers: tuple[GeometricHeader, ...] = ()
    ancillary: SatelliteAncillary | None = None
    auxiliary: AuxiliaryInfo | None = None
    ancillary_ref: str | None = None

    @field_validator("datatake_start", "sensing_start", "sensing_stop", "creation")
    @classmethod
    def _utc(cls, t: datetime) -> datetime:
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)

    @property
    def mission(self) -> str:
        """The mission code (``S2A``...)."""
        return "S2" + self.spacecraft[-1]


class Granule(_Model):
    """Content of an L0 granule metadata file. The number of 10 m lines has no element in the
    schema: :func:`granule_line_ranges` derives it from the datastrip's ``POSITION`` values."""

    granule_id: Annotated[str, StringConstraints(pattern="^" + _PDI_ID + r"_D\d\d_N\d\d\.\d\d$")]
    datastrip_id: Annotated[str, StringConstraints(pattern="^" + _PDI_ID + r"_N\d\d\.\d\d$")] | None
    detector: int = Field(ge=1, le=12)
    sensing_time: datetime
    position: int = Field(ge=1)
    creation: datetime
    processing_centre: Annotated[str, StringConstraints(pattern="^" + _NAME + "$")]
    packet_counters: tuple[PacketCounter, ...] = Field(min_length=1)
    degraded_percentage: float = Field(ge=0, le=100)
    cloudy_percentage: Annotated[float, Field(ge=0, le=100)] | None = None
    footprint: tuple[float, ...] = ()
    downlink_priority: str = "NOMINAL"

    @field_validator("sensing_time", "creation")
    @classmethod
    def _utc(cls, t: datetime) -> datetime:
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


# --- times ------------------------------------------------------------------------------------

_GPS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$")


def parse_gps_time(text: str) -> np.datetime64:
    """``YYYY-MM-DDThh:mm:ss[.f...]`` -> ``datetime64[ns]``; digits beyond the ns are rounded."""
    m = _GPS_RE.match(text.strip())
    if m is None:
        raise ValueError(f"not a time: {text!r}")
    frac = m.group(2) or ""
    ns = int(Decimal("0." + (frac or "0")).scaleb(9).to_integral_value()) if frac else 0
    return np.datetime64(m.group(1), "ns") + ns * _NS


def format_gps_time(t: np.datetime64) -> str:
    """Inverse of :func:`parse_gps_time`: seconds with the fraction's trailing zeros dropped."""
    s = str(np.datetime64(t, "ns"))
    return s.rstrip("0").rstrip(".") if "." in s else s


def line_datation(ds: Datastrip) -> dict[tuple[str, int], tuple[np.datetime64, float]]:
    """The datastrip's line datation law: {(band name, detector): (UTC ``datetime64[ns]`` of line
    0, line period s)}; line ``l`` (0-based, lines of the band) is at ``GPS_TIME + (l + 1 -
    REFERENCE_LINE) * LINE_PERIOD * resolution / 10 m`` of its ``Band_Time_Stamp``, in UTC
    ``GPS - GPS_TIME_UTC`` (:func:`gps_to_utc`); line 0 rounded to the ns. InputError for a
    datastrip without ``Auxiliary_Data_Info`` (L0U)."""
    if ds.auxiliary is None:
        raise InputError(f"{ds.datastrip_id} has no GPS - UTC: no Auxiliary_Data_Info (unconsolidated datastrip)",
                         element="Auxiliary_Data_Info/IERS_Bulletin/GPS_TIME_UTC")
    out = {}
    for s in ds.time_stamp.stamps:
        band = BANDS[s.band]
        period = ds.time_stamp.line_period_ms * 1e-3 * (band.resolution_m // 10)
        t_ref = gps_to_utc(s.gps_time, ds.auxiliary.gps_time_utc_s)
        out[band.name, s.detector] = (t_ref - np.int64(round((s.reference_line - 1) * period * 1e9)) * _NS, period)
    return out


def _utc_text(t: datetime) -> str:
    t = t.astimezone(UTC)
    s = t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}".rstrip("0") if t.microsecond else "")
    return s + "Z"


def _parse_utc(text: str) -> datetime:
    ns = int(parse_gps_time(text).astype("int64"))
    return datetime.fromtimestamp(ns // 10**9, UTC).replace(microsecond=(ns % 10**9) // 1000)


# --- names ------------------------------------------------------------------------------------

def datastrip_mtd_name(ds: Datastrip) -> str:
    """``S2A_OPER_MTD_L0__DS_<centre>_<creation>_S<start>.xml``."""
    return (f"{ds.mission}_OPER_MTD_L0__DS_{ds.processing_centre}_{ds.creation:{_ID_FMT}}_"
            f"S{ds.sensing_start:{_ID_FMT}}.xml")


def granule_mtd_name(gr: Granule) -> str:
    """``S2A_OPER_MTD_L0__GR_<centre>_<creation>_S<sensing>_D06.xml`` (the granule id without baseline)."""
    return re.sub(r"_N\d\d\.\d\d$", "", gr.granule_id).replace("_MSI_", "_MTD_", 1) + ".xml"


def granule_line_ranges(ds: Datastrip, detector: int, total_lines_10m: int) -> list[tuple[str, int, int]]:
    """(granule id, first 10 m line 0-based, number of 10 m lines) of ``detector``'s granules: a
    granule runs from its ``POSITION`` to the next one's, the last to ``total_lines_10m``."""
    refs = sorted((g for g in ds.granules if g.detector == detector), key=lambda g: g.position)
    ends = [g.position - 1 for g in refs[1:]] + [total_lines_10m]
    return [(g.granule_id, g.position - 1, end - g.position + 1) for g, end in zip(refs, ends)]


# --- checks -----------------------------------------------------------------------------------

def check_ancillary(anc: SatelliteAncillary, source: Path | str) -> None:
    """FormatError naming the element unless: ephemeris times strictly increasing over >= 2 points,
    |position| in 6.9e6..7.3e6 m, |velocity| in 7.3..7.7 km/s, attitude times strictly increasing,
    quaternion norms within 1e-6 of 1, every value finite."""
    eph, att = anc.ephemeris, anc.attitudes
    gp = "Satellite_Ancillary_Data_Info/Ephemeris/GPS_Points_List/GPS_Point"
    ca = "Satellite_Ancillary_Data_Info/Attitudes/Corrected_Attitudes/Values"
    t = eph.gps_time.astype("int64")
    if len(t) < 2:
        raise FormatError(f"{len(t)} ephemeris point(s), at least 2 needed", source=source, element=gp)
    _increasing(t, source, gp)
    for name, arr, (lo, hi) in (("POSITION_VALUES", eph.position_m, _RADIUS_M),
                                ("VELOCITY_VALUES", eph.velocity_m_s, _SPEED_M_S)):
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            raise FormatError("value not finite", source=source, element=f"{gp}[{_first(bad)}]/{name}")
        norm = np.linalg.norm(arr, axis=1)
        bad = (norm < lo) | (norm > hi)
        if bad.any():
            i = _first(bad)
            raise FormatError(f"norm {norm[i - 1]:.6g} outside {lo:g}..{hi:g} (SI units)", source=source,
                              element=f"{gp}[{i}]/{name}")
    q = att.quaternion
    if len(q) < 2:
        raise FormatError(f"{len(q)} attitude(s), at least 2 needed", source=source, element=ca)
    bad = ~np.isfinite(q).all(axis=1)
    if bad.any():
        raise FormatError("value not finite", source=source, element=f"{ca}[{_first(bad)}]/QUATERNION_VALUES")
    norm = np.linalg.norm(q, axis=1)
    bad = np.abs(norm - 1) > _QUAT_TOL
    if bad.any():
        i = _first(bad)
        raise FormatError(f"quaternion norm {norm[i - 1]:.9g} is not 1 (tolerance {_QUAT_TOL:g})",
                          source=source, element=f"{ca}[{i}]/QUATERNION_VALUES")
    _increasing(att.gps_time.astype("int64"), source, ca)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def _increasing(t: np.ndarray, source, element: str) -> None:
    bad = np.diff(t) <= 0
    if bad.any():
        raise FormatError("GPS_TIME not strictly increasing", source=source,
                          element=f"{element}[{_first(bad) + 1}]/GPS_TIME")


# --- writing ----------------------------------------------------------------------------------

def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "INF" if v > 0 else "-INF"
    return repr(float(v)).removesuffix(".0") if float(v).is_integer() else repr(float(v))


def _text(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return _num(float(v))
    if isinstance(v, np.datetime64):
        return format_gps_time(v)
    if isinstance(v, datetime):
        return _utc_text(v)
    return str(v)


def _sub(parent: etree._Element, tag: str, text: object = None, **attrib: object) -> etree._Element:
    return sub_element(parent, tag, None if text is None else _text(text), **{k: _text(v) for k, v in attrib.items()})


def _vec(values, fmt=_num) -> str:
    return " ".join(fmt(float(v)) for v in values)


def _mm(values) -> str:
    return " ".join(str(round(float(v) * 1000)) for v in values)


def write_datastrip_metadata(folder: Path | str, ds: Datastrip) -> Path:
    """Write ``ds`` as ``folder/<datastrip_mtd_name>``, in the form of the PSD 14.8 L0 datastrip
    schema (deterministic bytes, atomic); returns the path. ValueError for a datastrip without
    ancillary or auxiliary data (an L0U one)."""
    if ds.ancillary is None or ds.auxiliary is None:
        raise ValueError("a datastrip metadata file needs the ancillary (ephemeris, attitudes) and auxiliary data")
    check_ancillary(ds.ancillary, datastrip_mtd_name(ds))
    ns = DS_NAMESPACE
    root = etree.Element(f"{{{ns}}}Level-0_DataStrip_ID", nsmap={"n1": ns, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", f"{ns} S2_PDI_Level-0_Datastrip_Metadata.xsd")
    root.set("datastripIdentifier", ds.datastrip_id)
    gi = etree.SubElement(root, f"{{{ns}}}General_Info")
    dt = _sub(gi, "Datatake_Info", datatakeIdentifier=ds.datatake_id, metadataLevel="Brief")
    _sub(dt, "SPACECRAFT_NAME", ds.spacecraft)
    _sub(dt, "DATATAKE_TYPE", ds.datatake_type)
    _sub(dt, "DATATAKE_SENSING_START", ds.datatake_start)
    _sub(dt, "SENSING_ORBIT_NUMBER", ds.orbit_number)
    _sub(dt, "SENSING_ORBIT_DIRECTION", ds.orbit_direction)
    ti = _sub(gi, "Datastrip_Time_Info", metadataLevel="Brief")
    _sub(ti, "DATASTRIP_SENSING_START", ds.sensing_start)
    _sub(ti, "DATASTRIP_SENSING_STOP", ds.sensing_stop)
    pi = _sub(gi, "Processing_Info", metadataLevel="Expertise")
    _sub(pi, "PROCESSING_BASELINE", ds.processing_baseline)
    _sub(pi, "PROCESSING_CENTER", ds.processing_centre)
    _sub(pi, "UTC_DATE_TIME", ds.creation)
    dl = _sub(gi, "Downlink_Info", metadataLevel="Standard")
    _sub(dl, "RECEPTION_STATION", ds.reception_station)
    _sub(dl, "DOWNLINK_ORBIT_NUMBER", ds.absolute_orbit)
    ar = _sub(gi, "Archiving_Info", metadataLevel="Expertise")
    _sub(ar, "ARCHIVING_CENTRE", ds.processing_centre)
    _sub(ar, "ARCHIVING_TIME", ds.creation)

    idi = etree.SubElement(root, f"{{{ns}}}Image_Data_Info")
    dets = _sub(_sub(idi, "Granules_Information", metadataLevel="Standard"), "Detector_List")
    for d in sorted({g.detector for g in ds.granules}):
        gl = _sub(_sub(dets, "Detector", detectorId=f"{d:02d}"), "Granule_List")
        for g in sorted((g for g in ds.granules if g.detector == d), key=lambda g: g.position):
            _sub(_sub(gl, "Granule", granuleId=g.granule_id), "POSITION", g.position)
    sc = _sub(idi, "Sensor_Configuration")
    ac = _sub(sc, "Acquisition_Configuration")
    _sub(ac, "COMPRESS_MODE", ds.compress_mode, metadataLevel="Expertise")
    _sub(ac, "EQUALIZATION_MODE", ds.equalization_mode, metadataLevel="Expertise")
    _sub(ac, "NUC_TABLE_ID", ds.nuc_table_id, metadataLevel="Expertise")
    adl = _sub(ac, "Active_Detectors_List", metadataLevel="Expertise")
    for d in ds.active_detectors:
        _sub(adl, "ACTIVE_DETECTOR", f"{d:02d}")
    tdi = _sub(ac, "TDI_Configuration_List", metadataLevel="Standard")
    for band, conf in ds.tdi:
        _sub(tdi, "TDI_CONFIGURATION", conf, bandId=band)
    sbi = _sub(ac, "Spectral_Band_Info")
    for b in ds.bands:
        e = _sub(sbi, "Spectral_Band_Information", bandId=b.band)
        _sub(e, "PHYSICAL_GAINS", b.physical_gain, geometry="QL", metadataLevel="Standard")
        _sub(e, "COMPRESSION_RATE", b.compression_rate, metadataLevel="Expertise")
        _sub(e, "INTEGRATION_TIME", b.integration_time_ms, metadataLevel="Expertise", unit="ms")
    spd = _sub(sc, "Source_Packet_Description")
    cdl = _sub(_sub(spd, "Source_Packet_Counters_List"), "Detector_List")
    for d in sorted({c.detector for c in ds.packet_counters}):
        bl = _sub(_sub(cdl, "Detector", detectorId=f"{d:02d}"), "Band_List")
        for c in sorted((c for c in ds.packet_counters if c.detector == d), key=lambda c: c.band):
            _counters(_sub(bl, "Band", bandId=c.band), c)
    dg = _sub(spd, "Degradation_Summary", degradationPercentage=ds.degradation.percentage)
    _sub(dg, "NUMBER_OF_LOST_PACKETS", ds.degradation.lost)
    _sub(dg, "NUMBER_OF_TOO_DEGRADED_PACKETS", ds.degradation.too_degraded)
    _sub(dg, "NUMBER_OF_KEPT_DEGRADED_PACKETS", ds.degradation.kept_degraded)
    ts = _sub(sc, "Time_Stamp", metadataLevel="Standard", usedModel=ds.time_stamp.used_model)
    _sub(ts, "LINE_PERIOD", ds.time_stamp.line_period_ms, unit="ms")
    for band in sorted({s.band for s in ds.time_stamp.stamps}):
        bts = _sub(ts, "Band_Time_Stamp", bandId=band)
        for s in sorted((s for s in ds.time_stamp.stamps if s.band == band), key=lambda s: s.detector):
            e = _sub(bts, "Detector", detectorId=f"{s.detector:02d}")
            _sub(e, "REFERENCE_LINE", s.reference_line)
            _sub(e, "GPS_TIME", s.gps_time)
    _sub(ts, "GPS_SYNC", ds.time_stamp.gps_sync)
    ghl = _sub(idi, "Geometric_Header_List", metadataLevel="Expertise")
    for h in ds.geometric_headers or (_nan_header(ds),):
        _geometric_header(ghl, h)

    sad = etree.SubElement(root, f"{{{ns}}}Satellite_Ancillary_Data_Info")
    _write_ancillary(sad, ds.ancillary)
    qi = etree.SubElement(root, f"{{{ns}}}Quality_Indicators_Info", metadataLevel="Brief")
    geo = _sub(qi, "Geometric_Info")
    t0 = format_gps_time(ds.ancillary.ephemeris.gps_time[0])
    for tag, unit in (("Absolute_Location", "m"), ("Planimetric_Stability", None)):
        e = _sub(geo, tag)
        _sub(e, "VALUE", math.nan, **({"unit": unit} if unit else {}))
        _sub(e, "MEASUREMENT_DATE", t0)
    _sub(geo, "EPHEMERIS_QUALITY", math.nan)
    _sub(geo, "ANCILLARY_QUALITY", math.nan)
    aux = etree.SubElement(root, f"{{{ns}}}Auxiliary_Data_Info", metadataLevel="Standard")
    _write_auxiliary(aux, ds.auxiliary)
    return _write(root, Path(folder) / datastrip_mtd_name(ds))


def _counters(e: etree._Element, c: PacketCounter) -> None:
    _sub(e, "DATA_STRIP_START", c.data_strip_start)
    _sub(e, "SCENE_POSITION", c.scene_position)
    _sub(e, "NB_OF_SOURCE_PACKETS", c.packets)


def _nan_header(ds: Datastrip) -> GeometricHeader:
    nan = math.nan
    return GeometricHeader(
        gps_time=min(s.gps_time for s in ds.time_stamp.stamps), line_index=1, roll_deg=nan,
        pitch_deg=nan, yaw_deg=nan,
        located=tuple(LocatedHeader(pos=p, orientation_deg=nan, incidence_zenith_deg=nan,
                                    incidence_azimuth_deg=nan, solar_zenith_deg=nan, solar_azimuth_deg=nan,
                                    pixel_along_m=nan, pixel_across_m=nan)
                      for p in ("begin", "center", "end")))


def _geometric_header(parent: etree._Element, h: GeometricHeader) -> None:
    e = _sub(parent, "Geometric_Header", geometry="QL")
    _sub(e, "GPS_TIME", h.gps_time)
    _sub(e, "LINE_INDEX", h.line_index)
    sr = _sub(_sub(e, "Pointing_Angles"), "Satellite_Reference")
    for tag, v in (("ROLL", h.roll_deg), ("PITCH", h.pitch_deg), ("YAW", h.yaw_deg)):
        _sub(sr, tag, v, unit="deg")
    for lh in h.located:
        le = _sub(e, "Located_Geometric_Header", pos=lh.pos)
        _sub(le, "ORIENTATION", lh.orientation_deg, unit="deg")
        for tag, zen, az in (("Incidence_Angles", lh.incidence_zenith_deg, lh.incidence_azimuth_deg),
                             ("Solar_Angles", lh.solar_zenith_deg, lh.solar_azimuth_deg)):
            a = _sub(le, tag)
            _sub(a, "ZENITH_ANGLE", zen, unit="deg")
            _sub(a, "AZIMUTH_ANGLE", az, unit="deg")
        ps = _sub(le, "Pixel_Size")
        _sub(ps, "ALONG_TRACK", lh.pixel_along_m, unit="m")
        _sub(ps, "ACROSS_TRACK", lh.pixel_across_m, unit="m")


def _write_ancillary(sad: etree._Element, anc: SatelliteAncillary) -> None:
    if anc.time_correlation:
        tcl = _sub(sad, "Time_Correlation_Data_List", metadataLevel="Standard")
        for tc in anc.time_correlation:
            e = _sub(tcl, "Time_Correlation_Data")
            _sub(e, "NSM", tc.nsm)
            _sub(e, "QUALITY_INDEX", tc.quality_index_ns, unit="ns")
            _sub(e, "TDOP", tc.tdop)
            _sub(e, "IMT", tc.imt)
            _sub(e, "GPS_TIME", tc.gps_time)
            _sub(e, "UTC_TIME", format_gps_time(tc.utc_time) + "Z")
    eph = anc.ephemeris
    ee = _sub(sad, "Ephemeris", metadataLevel="Standard")
    gn = _sub(_sub(ee, "GPS_Number_List"), "Gps_Number", id="GPS-A")
    _sub(gn, "GPS_TIME_START", eph.gps_time[0])
    _sub(gn, "GPS_TIME_END", eph.gps_time[-1])
    gpl = _sub(ee, "GPS_Points_List")
    for t, p, v in zip(eph.gps_time, eph.position_m, eph.velocity_m_s):
        e = _sub(gpl, "GPS_Point")
        _sub(e, "POSITION_VALUES", _mm(p), unit="mm")
        _sub(e, "POSITION_ERRORS", "0 0 0", unit="mm")
        _sub(e, "VELOCITY_VALUES", _mm(v), unit="mm/s")
        _sub(e, "VELOCITY_ERRORS", "0 0 0", unit="mm/s")
        _sub(e, "GPS_TIME", t)
        _sub(e, "NSM", "PROPAGATED")
        for tag in ("QUALITY_INDEX", "GDOP", "PDOP", "TDOP"):
            _sub(e, tag, math.nan)
        _sub(e, "NOF_SV", 0)
        _sub(e, "TIME_ERROR", math.nan, unit="ns")
    ae = _sub(_sub(ee, "AOCS_Ephemeris_List"), "AOCS_Ephemeris")
    _sub(ae, "VALID_FLAG", False)
    _sub(ae, "OPSOL_QUALITY", 0)
    _sub(ae, "POSITION_VALUES", "NaN NaN NaN", unit="m")
    _sub(ae, "VELOCITY_VALUES", "NaN NaN NaN", unit="m/s")
    _sub(ae, "GPS_TIME", eph.gps_time[0])
    _sub(ae, "ORBIT_ANGLE", math.nan, unit="rad")
    att = anc.attitudes
    ca = _sub(_sub(sad, "Attitudes"), "Corrected_Attitudes", metadataLevel="Standard")
    for t, q, ok, quality in zip(att.gps_time, att.quaternion, att.valid, att.quality):
        e = _sub(ca, "Values")
        _sub(e, "QUATERNION_VALUES", _vec((q[1], q[2], q[3], q[0])))
        _sub(e, "QUATERNION_VALIDITY", bool(ok))
        _sub(e, "GPS_TIME", t)
        _sub(e, "ATTITUDE_QUALITY_INDICATOR", quality)


def _write_auxiliary(aux: etree._Element, a: AuxiliaryInfo) -> None:
    iers = _sub(aux, "IERS_Bulletin")
    _sub(iers, "UT1_UTC", a.ut1_utc_s, unit="s")
    _sub(iers, "GPS_TIME_UTC", a.gps_time_utc_s, unit="s")
    _sub(iers, "GPS_TIME_TAI", a.gps_time_tai_s, unit="s")
    _sub(iers, "POLE_U_ANGLE", a.pole_u_arcsec, unit="arcsec")
    _sub(iers, "POLE_V_ANGLE", a.pole_v_arcsec, unit="arcsec")
    gl = _sub(aux, "GIPP_List")
    for g in a.gipps:
        _sub(gl, "GIPP_FILENAME", g.file_name, type=g.type, version=g.version)
    _sub(aux, "PRODUCTION_DEM_TYPE", a.dem)
    _sub(aux, "IERS_BULLETIN_FILENAME", a.iers_bulletin)
    _sub(aux, "REFERENCE_BAND", a.reference_band)


def write_granule_metadata(folder: Path | str, gr: Granule) -> Path:
    """Write ``gr`` as ``folder/<granule_mtd_name>`` in the form of the PSD 14.8 L0 granule schema
    (deterministic bytes, atomic); returns the path."""
    if gr.datastrip_id is None or gr.cloudy_percentage is None:
        raise ValueError("a granule metadata file needs the datastrip identifier and the cloudy percentage")
    ns = GR_NAMESPACE
    root = etree.Element(f"{{{ns}}}Level-0_Granule_ID", nsmap={"n1": ns, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", f"{ns} S2_PDI_Level-0_Granule_Metadata.xsd")
    gi = etree.SubElement(root, f"{{{ns}}}General_Info")
    _sub(gi, "GRANULE_ID", gr.granule_id, metadataLevel="Brief")
    _sub(gi, "DETECTOR_ID", f"{gr.detector:02d}", metadataLevel="Brief")
    _sub(gi, "DATASTRIP_ID", gr.datastrip_id, metadataLevel="Brief")
    _sub(gi, "DOWNLINK_PRIORITY", gr.downlink_priority, metadataLevel="Standard")
    _sub(gi, "SENSING_TIME", gr.sensing_time, metadataLevel="Standard")
    ar = _sub(gi, "Archiving_Info", metadataLevel="Expertise")
    _sub(ar, "ARCHIVING_CENTRE", gr.processing_centre)
    _sub(ar, "ARCHIVING_TIME", gr.creation)
    geo = etree.SubElement(root, f"{{{ns}}}Geometric_Info")
    gf = _sub(geo, "Granule_Footprint", metadataLevel="Brief")
    _sub(_sub(_sub(gf, "Granule_Footprint"), "Footprint"), "EXT_POS_LIST", _vec(gr.footprint))
    _sub(gf, "RASTER_CS_TYPE", "POINT")
    _sub(gf, "PIXEL_ORIGIN", 1)
    gp = _sub(geo, "Granule_Position", metadataLevel="Standard")
    _sub(gp, "POSITION", gr.position)
    gh = _sub(gp, "Geometric_Header")
    _sub(gh, "GROUND_CENTER", "NaN NaN NaN")
    for tag in ("Incidence_Angles", "Solar_Angles"):
        a = _sub(gh, tag)
        _sub(a, "ZENITH_ANGLE", math.nan, unit="deg")
        _sub(a, "AZIMUTH_ANGLE", math.nan, unit="deg")
    qi = etree.SubElement(root, f"{{{ns}}}Quality_Indicators_Info")
    ic = _sub(qi, "Image_Content_QI", metadataLevel="Standard")
    cq = _sub(ic, "Common_IMG_QI")
    _sub(cq, "CLOUDY_PIXEL_PERCENTAGE", gr.cloudy_percentage)
    _sub(cq, "DEGRADED_MSI_DATA_PERCENTAGE", gr.degraded_percentage)
    cl = _sub(_sub(ic, "Source_Packet_description"), "Source_Packet_Counters_List")
    for c in sorted(gr.packet_counters, key=lambda c: c.band):
        _counters(_sub(cl, "Source_Packet_Counters", bandId=c.band), c)
    return _write(root, Path(folder) / granule_mtd_name(gr))


def _write(root: etree._Element, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --- reading ----------------------------------------------------------------------------------

class _Reader:
    """Namespace-blind element access raising FormatError(source, element) on missing/bad values."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, msg: str, where: str) -> FormatError:
        return FormatError(msg, source=self.path, element=where, code=ExitCode.XML_ERROR)

    @staticmethod
    def kids(e: etree._Element, name: str) -> list[etree._Element]:
        return [c for c in e if isinstance(c.tag, str) and etree.QName(c).localname == name]

    def opt(self, e: etree._Element, path: str) -> etree._Element | None:
        for name in path.split("/"):
            found = self.kids(e, name)
            if not found:
                return None
            e = found[0]
        return e

    def req(self, e: etree._Element, path: str, where: str) -> etree._Element:
        found = self.opt(e, path)
        if found is None:
            raise self.error(f"missing element {path}", f"{where}/{path}")
        return found

    def text(self, e: etree._Element, path: str, where: str) -> str:
        t = (self.req(e, path, where).text or "").strip()
        if not t:
            raise self.error("empty value", f"{where}/{path}")
        return t

    def conv(self, e: etree._Element, path: str, where: str, fn):
        t = self.text(e, path, where)
        try:
            return fn(t)
        except (ValueError, ArithmeticError) as exc:
            raise self.error(f"bad value {t[:60]!r}: {exc}", f"{where}/{path}") from None

    def model(self, cls: type[_M], where: str, **values) -> _M:
        """``cls(**values)``; a refused value is a FormatError naming ``where`` (the element) and
        the field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            e = exc.errors()[0]
            field = ".".join(map(str, e["loc"]))
            raise self.error(f"bad value{' of ' + field if field else ''}: {e['msg']}", where) from None

    def attr(self, e: etree._Element, name: str, where: str, fn=str):
        v = e.get(name)
        if v is None:
            raise self.error(f"missing attribute {name}", f"{where}/@{name}")
        try:
            return fn(v)
        except ValueError:
            raise self.error(f"bad value {v!r}", f"{where}/@{name}") from None


def _floats(n: int):
    def parse(text: str) -> list[float]:
        v = [float(x) for x in text.split()]
        if len(v) != n:
            raise ValueError(f"{len(v)} values, expected {n}")
        return v
    return parse


def _footprint(text: str) -> list[float]:
    """``EXT_POS_LIST``: its coordinates, finite floats."""
    v = [float(x) for x in text.split()]
    if not all(map(math.isfinite, v)):
        raise ValueError("not finite")
    return v


def _bool(text: str) -> bool:
    b = xmlio.parse_bool(text)
    if b is None:
        raise ValueError("not a boolean")
    return b


def _root(path: Path, names: tuple[str, ...]) -> etree._Element:
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    root = tree.getroot()
    if etree.QName(root).localname not in names:
        raise FormatError(f"root element is <{etree.QName(root).localname}>, expected one of {names}",
                          source=path, element=f"/{etree.QName(root).localname}", code=ExitCode.XML_ERROR)
    return root


_L0U_DS = "DIMAP_Level-0-unconsolidated_DataStrip"


def read_datastrip_metadata(path: Path | str) -> Datastrip:
    """Read an L0 datastrip metadata file (ours, a real L0 or a real unconsolidated L0U one), or
    the common parts of a real L1B/L1A one; checks the ancillary data when the file has it
    (:func:`check_ancillary`)."""
    path = Path(path)
    root = _root(path, ("Level-0_DataStrip_ID", "Level-1A_DataStrip_ID", "Level-1B_DataStrip_ID", _L0U_DS))
    r = _Reader(path)
    top = "/" + etree.QName(root).localname
    unconsolidated = etree.QName(root).localname == _L0U_DS
    gi, where = r.req(root, "General_Info", top), top + "/General_Info"
    dt = r.req(gi, "Datatake_Info", where)
    dtw = where + "/Datatake_Info"
    direction = r.opt(dt, "SENSING_ORBIT_DIRECTION")
    idi, iw = r.req(root, "Image_Data_Info", top), top + "/Image_Data_Info"
    granules = []
    gw = iw + "/Granules_Information/Detector_List/Detector"
    for d in r.kids(r.req(idi, "Granules_Information/Detector_List", iw), "Detector"):
        det = r.attr(d, "detectorId", gw, int)
        for j, g in enumerate(r.kids(r.req(d, "Granule_List", gw), "Granule"), 1):
            ew = f"{gw}[@detectorId='{det}']/Granule_List/Granule[{j}]"
            granules.append(r.model(GranuleRef, ew, granule_id=r.attr(g, "granuleId", ew),
                                    detector=det, position=r.conv(g, "POSITION", ew, int)))
    sc, sw = r.req(idi, "Sensor_Configuration", iw), iw + "/Sensor_Configuration"
    ac, aw = r.req(sc, "Acquisition_Configuration", sw), sw + "/Acquisition_Configuration"
    bands = []
    bw = aw + "/Spectral_Band_Info/Spectral_Band_Information"
    for i, b in enumerate(r.kids(r.req(ac, "Spectral_Band_Info", aw), "Spectral_Band_Information"), 1):
        gain = r.opt(b, "PHYSICAL_GAINS")
        ew = f"{bw}[{i}]"
        bands.append(r.model(SpectralBand, ew, band=r.attr(b, "bandId", ew, int),
                             compression_rate=r.conv(b, "COMPRESSION_RATE", ew, float),
                             integration_time_ms=r.conv(b, "INTEGRATION_TIME", ew, float),
                             physical_gain=math.nan if gain is None else r.conv(b, "PHYSICAL_GAINS", ew, float)))
    counters = []
    cw = sw + "/Source_Packet_Description/Source_Packet_Counters_List/Detector_List/Detector"
    for d in r.kids(r.req(sc, "Source_Packet_Description/Source_Packet_Counters_List/Detector_List", sw),
                    "Detector"):
        det = r.attr(d, "detectorId", cw, int)
        for b in r.kids(r.req(d, "Band_List", cw), "Band"):
            counters.append(_read_counter(r, b, det, cw + "/Band_List/Band"))
    dg, dw = r.req(sc, "Source_Packet_Description/Degradation_Summary", sw), sw + "/Source_Packet_Description/Degradation_Summary"
    too = r.opt(dg, "NUMBER_OF_TOO_DEGRADED_PACKETS")
    degradation = r.model(
        Degradation, dw, percentage=r.attr(dg, "degradationPercentage", dw, float),
        lost=r.conv(dg, "NUMBER_OF_LOST_PACKETS", dw, int),
        too_degraded=r.conv(dg, "NUMBER_OF_TOO_DEGRADED_PACKETS" if too is not None else "NUMBER_OF_T00_DEGRADED_PACKETS", dw, int),
        kept_degraded=r.conv(dg, "NUMBER_OF_KEPT_DEGRADED_PACKETS", dw, int))
    headers = []
    ghl = r.opt(idi, "Geometric_Header_List")
    if etree.QName(root).localname == "Level-0_DataStrip_ID" and ghl is not None:
        headers = [h for h in (_read_geometric_header(r, e, iw + "/Geometric_Header_List/Geometric_Header")
                               for e in r.kids(ghl, "Geometric_Header")) if not _is_placeholder(h)]
    if unconsolidated and r.opt(gi, "Processing_Info") is None:
        processing = _processing_from_id(r, root, top)
    else:
        processing = (r.text(gi, "Processing_Info/PROCESSING_BASELINE", where),
                      r.text(gi, "Processing_Info/PROCESSING_CENTER", where),
                      r.conv(gi, "Processing_Info/UTC_DATE_TIME", where, _parse_utc))
    sw_anc = top + "/Satellite_Ancillary_Data_Info"
    sad = r.req(root, "Satellite_Ancillary_Data_Info", top)
    ref = r.opt(sad, "ANC_DATA_REF") if unconsolidated else None
    aux = r.opt(root, "Auxiliary_Data_Info") if unconsolidated else r.req(root, "Auxiliary_Data_Info", top)
    try:
        ds = Datastrip(
            spacecraft=r.text(dt, "SPACECRAFT_NAME", dtw),
            datatake_id=r.attr(dt, "datatakeIdentifier", dtw),
            datatake_type=r.text(dt, "DATATAKE_TYPE", dtw),
            datatake_start=r.conv(dt, "DATATAKE_SENSING_START", dtw, _parse_utc),
            sensing_start=r.conv(gi, "Datastrip_Time_Info/DATASTRIP_SENSING_START", where, _parse_utc),
            sensing_stop=r.conv(gi, "Datastrip_Time_Info/DATASTRIP_SENSING_STOP", where, _parse_utc),
            processing_baseline=processing[0], processing_centre=processing[1], creation=processing[2],
            datastrip_id=root.get("datastripIdentifier") or _datastrip_id_from_name(path, processing[0]),
            orbit_number=r.conv(dt, "SENSING_ORBIT_NUMBER", dtw, int),
            absolute_orbit=r.conv(gi, "Downlink_Info/DOWNLINK_ORBIT_NUMBER", where, int),
            orbit_direction=(direction.text or "").strip() if direction is not None else "DESCENDING",
            reception_station=r.text(gi, "Downlink_Info/RECEPTION_STATION", where),
            granules=tuple(granules),
            active_detectors=_active_detectors(r, ac, aw),
            compress_mode=r.conv(ac, "COMPRESS_MODE", aw, _bool),
            equalization_mode=r.conv(ac, "EQUALIZATION_MODE", aw, _bool),
            nuc_table_id=(r.req(ac, "NUC_TABLE_ID", aw).text or "").strip(),
            tdi=tuple((r.attr(e, "bandId", aw + "/TDI_Configuration_List/TDI_CONFIGURATION", int),
                       (e.text or "").strip())
                      for e in r.kids(r.req(ac, "TDI_Configuration_List", aw), "TDI_CONFIGURATION")),
            bands=tuple(bands), packet_counters=tuple(counters), degradation=degradation,
            time_stamp=_read_time_stamp(r, r.req(sc, "Time_Stamp", sw), sw + "/Time_Stamp"),
            geometric_headers=tuple(headers),
            ancillary=None if ref is not None else _read_ancillary(r, sad, sw_anc),
            auxiliary=None if aux is None else _read_auxiliary(r, aux, top + "/Auxiliary_Data_Info"),
            ancillary_ref=None if ref is None else r.text(sad, "ANC_DATA_REF", sw_anc))
    except ValueError as exc:
        raise _model_error(path, top, exc) from None
    if ds.ancillary is not None:
        check_ancillary(ds.ancillary, path)
    return ds


def _processing_from_id(r: _Reader, root: etree._Element, top: str) -> tuple[str, str, datetime]:
    """(baseline, centre, creation) of a datastrip without ``Processing_Info`` (L0U), from its
    ``datastripIdentifier`` ``..._<centre>_<creation>_S<start>_N<baseline>``."""
    ident = root.get("datastripIdentifier") or ""
    found = re.search(r"_(\w{4})_(\d{8}T\d{6})_S\d{8}T\d{6}_N(\d\d\.\d\d)$", ident)
    if found is None:
        raise r.error(f"bad value {ident[:80]!r}: no Processing_Info and not a datastrip identifier "
                      "(..._<centre>_<creation>_S<start>_N<bb.bb>)", top + "/@datastripIdentifier")
    centre, created, baseline = found.groups()
    return baseline, centre, datetime.strptime(created, _ID_FMT).replace(tzinfo=UTC)


def _datastrip_id_from_name(path: Path, baseline: str) -> str:
    """The datastrip identifier of a file without ``datastripIdentifier``: its name with ``MSI`` for
    ``MTD`` and the processing baseline appended (as the PDI folder is named)."""
    return path.stem.replace("_MTD_", "_MSI_", 1) + f"_N{baseline}"


_ELEMENTS = {
    "spacecraft": "General_Info/Datatake_Info/SPACECRAFT_NAME",
    "datatake_id": "General_Info/Datatake_Info/@datatakeIdentifier",
    "datatake_type": "General_Info/Datatake_Info/DATATAKE_TYPE",
    "datastrip_id": "@datastripIdentifier",
    "processing_baseline": "General_Info/Processing_Info/PROCESSING_BASELINE",
    "processing_centre": "General_Info/Processing_Info/PROCESSING_CENTER",
    "orbit_number": "General_Info/Datatake_Info/SENSING_ORBIT_NUMBER",
    "absolute_orbit": "General_Info/Downlink_Info/DOWNLINK_ORBIT_NUMBER",
    "orbit_direction": "General_Info/Datatake_Info/SENSING_ORBIT_DIRECTION",
    "reception_station": "General_Info/Downlink_Info/RECEPTION_STATION",
    "granules": "Image_Data_Info/Granules_Information/Detector_List",
    "active_detectors": "Image_Data_Info/Sensor_Configuration/Acquisition_Configuration/Active_Detectors_List",
    "bands": "Image_Data_Info/Sensor_Configuration/Acquisition_Configuration/Spectral_Band_Info",
    "packet_counters": "Image_Data_Info/Sensor_Configuration/Source_Packet_Description",
    "granule_id": "General_Info/GRANULE_ID",
    "detector": "General_Info/DETECTOR_ID",
    "degraded_percentage": "Quality_Indicators_Info/Image_Content_QI/Common_IMG_QI/DEGRADED_MSI_DATA_PERCENTAGE",
    "cloudy_percentage": "Quality_Indicators_Info/Image_Content_QI/Common_IMG_QI/CLOUDY_PIXEL_PERCENTAGE",
    "position": "Geometric_Info/Granule_Position/POSITION",
    "downlink_priority": "General_Info/DOWNLINK_PRIORITY",
}
"""Element (from the root) of the fields of :class:`Datastrip` and :class:`Granule` whose value
is checked by the model (the sub-models are checked where they are read: :meth:`_Reader.model`)."""


def _model_error(path: Path, top: str, exc: ValueError) -> FormatError:
    """FormatError naming the element of the first field ``exc`` refuses."""
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    if errors:
        loc = [str(x) for x in errors[0]["loc"]]
        element = _ELEMENTS.get(loc[0]) if loc else None
        where = f"{top}/{element}" if element else top + (":" + ".".join(loc) if loc else "")
        return FormatError(f"bad value of {'.'.join(loc)}: {errors[0]['msg']}", source=path, element=where,
                           code=ExitCode.XML_ERROR)
    return FormatError(f"bad value: {exc}", source=path, element=top, code=ExitCode.XML_ERROR)


def _active_detectors(r: _Reader, ac: etree._Element, where: str) -> tuple[int, ...]:
    dw = where + "/Active_Detectors_List/ACTIVE_DETECTOR"
    out = []
    for i, e in enumerate(r.kids(r.req(ac, "Active_Detectors_List", where), "ACTIVE_DETECTOR"), 1):
        text = (e.text or "").strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 12:
            raise r.error(f"bad value {text[:60]!r}: not a detector 1..12", f"{dw}[{i}]")
        out.append(int(text))
    return tuple(out)


def _read_counter(r: _Reader, e: etree._Element, det: int, where: str) -> PacketCounter:
    return r.model(PacketCounter, where, detector=det, band=r.attr(e, "bandId", where, int),
                   data_strip_start=r.conv(e, "DATA_STRIP_START", where, int),
                   scene_position=r.conv(e, "SCENE_POSITION", where, int),
                   packets=r.conv(e, "NB_OF_SOURCE_PACKETS", where, int))


def _read_time_stamp(r: _Reader, ts: etree._Element, where: str) -> TimeStamp:
    stamps = []
    bw = where + "/Band_Time_Stamp"
    for b in r.kids(ts, "Band_Time_Stamp"):
        band = r.attr(b, "bandId", bw, int)
        for i, d in enumerate(r.kids(b, "Detector"), 1):
            dw = f"{bw}[@bandId='{band}']/Detector[{i}]"
            stamps.append(r.model(BandTimeStamp, dw, band=band, detector=r.attr(d, "detectorId", dw, int),
                                  reference_line=r.conv(d, "REFERENCE_LINE", dw, int),
                                  gps_time=r.conv(d, "GPS_TIME", dw, parse_gps_time)))
    if not stamps:
        raise r.error("no Band_Time_Stamp/Detector", bw)
    return r.model(TimeStamp, where, line_period_ms=r.conv(ts, "LINE_PERIOD", where, float),
                     used_model=r.attr(ts, "usedModel", where), gps_sync=r.conv(ts, "GPS_SYNC", where, _bool),
                     stamps=tuple(stamps))


def _is_placeholder(h: GeometricHeader) -> bool:
    values = [h.roll_deg, h.pitch_deg, h.yaw_deg] + [v for lh in h.located for v in lh.model_dump().values()
                                                     if isinstance(v, float)]
    return all(math.isnan(v) for v in values)


def _read_geometric_header(r: _Reader, h: etree._Element, where: str) -> GeometricHeader:
    located = []
    for le in r.kids(h, "Located_Geometric_Header"):
        lw = where + "/Located_Geometric_Header"
        located.append(r.model(
            LocatedHeader, lw, pos=r.attr(le, "pos", lw), orientation_deg=r.conv(le, "ORIENTATION", lw, float),
            incidence_zenith_deg=r.conv(le, "Incidence_Angles/ZENITH_ANGLE", lw, float),
            incidence_azimuth_deg=r.conv(le, "Incidence_Angles/AZIMUTH_ANGLE", lw, float),
            solar_zenith_deg=r.conv(le, "Solar_Angles/ZENITH_ANGLE", lw, float),
            solar_azimuth_deg=r.conv(le, "Solar_Angles/AZIMUTH_ANGLE", lw, float),
            pixel_along_m=r.conv(le, "Pixel_Size/ALONG_TRACK", lw, float),
            pixel_across_m=r.conv(le, "Pixel_Size/ACROSS_TRACK", lw, float)))
    if len(located) != 3:
        raise r.error(f"{len(located)} Located_Geometric_Header, expected 3", where)
    sr = "Pointing_Angles/Satellite_Reference/"
    return r.model(GeometricHeader, where, gps_time=r.conv(h, "GPS_TIME", where, parse_gps_time),
                   line_index=r.conv(h, "LINE_INDEX", where, int), roll_deg=r.conv(h, sr + "ROLL", where, float),
                   pitch_deg=r.conv(h, sr + "PITCH", where, float), yaw_deg=r.conv(h, sr + "YAW", where, float),
                   located=tuple(located))


def _read_ancillary(r: _Reader, sad: etree._Element, where: str) -> SatelliteAncillary:
    """The ``Satellite_Ancillary_Data_Info`` common to L0, L1A and L1B datastrips."""
    gw = where + "/Ephemeris/GPS_Points_List/GPS_Point"
    points = r.kids(r.req(sad, "Ephemeris/GPS_Points_List", where), "GPS_Point")
    t, pos, vel = [], [], []
    for i, p in enumerate(points, 1):
        pw = f"{gw}[{i}]"
        t.append(r.conv(p, "GPS_TIME", pw, parse_gps_time))
        for name, out in (("POSITION_VALUES", pos), ("VELOCITY_VALUES", vel)):
            e = r.req(p, name, pw)
            scale = {"mm": 1000.0, "mm/s": 1000.0, "m": 1.0, "m/s": 1.0}.get(e.get("unit", "mm"))
            if scale is None:
                raise r.error(f"unit {e.get('unit')!r} not one of mm, mm/s, m, m/s", f"{pw}/{name}/@unit")
            out.append([v / scale for v in r.conv(p, name, pw, _floats(3))])
    aw = where + "/Attitudes/Corrected_Attitudes/Values"
    values = r.kids(r.req(sad, "Attitudes/Corrected_Attitudes", where), "Values")
    at, q, ok, quality = [], [], [], []
    for i, v in enumerate(values, 1):
        vw = f"{aw}[{i}]"
        x, y, z, w = r.conv(v, "QUATERNION_VALUES", vw, _floats(4))
        q.append((w, x, y, z))
        at.append(r.conv(v, "GPS_TIME", vw, parse_gps_time))
        ok.append(r.conv(v, "QUATERNION_VALIDITY", vw, _bool))
        qe = r.opt(v, "ATTITUDE_QUALITY_INDICATOR")
        quality.append((qe.text or "").strip() if qe is not None else "TWO_VALID_STR")
    tcs = []
    tcl = r.opt(sad, "Time_Correlation_Data_List")
    tw = where + "/Time_Correlation_Data_List/Time_Correlation_Data"
    for i, e in enumerate(r.kids(tcl, "Time_Correlation_Data") if tcl is not None else (), 1):
        ew = f"{tw}[{i}]"
        tcs.append(r.model(TimeCorrelation, ew, nsm=r.text(e, "NSM", ew),
                           quality_index_ns=r.conv(e, "QUALITY_INDEX", ew, float),
                           tdop=r.conv(e, "TDOP", ew, float), imt=r.conv(e, "IMT", ew, int),
                           gps_time=r.conv(e, "GPS_TIME", ew, parse_gps_time),
                           utc_time=r.conv(e, "UTC_TIME", ew, parse_gps_time)))
    return SatelliteAncillary(
        ephemeris=Ephemeris(gps_time=np.array(t, "datetime64[ns]"), position_m=np.array(pos, float).reshape(-1, 3),
                            velocity_m_s=np.array(vel, float).reshape(-1, 3)),
        attitudes=r.model(Attitudes, where + "/Attitudes/Corrected_Attitudes", gps_time=np.array(at, "datetime64[ns]"),
                          quaternion=np.array(q, float).reshape(-1, 4), valid=np.array(ok, bool),
                          quality=tuple(quality)),
        time_correlation=tuple(tcs))


def _read_auxiliary(r: _Reader, aux: etree._Element, where: str) -> AuxiliaryInfo:
    iw = where + "/IERS_Bulletin"
    iers = r.req(aux, "IERS_Bulletin", where)
    gl = r.req(aux, "GIPP_List", where)
    gipps = tuple(r.model(GippRef, f"{where}/GIPP_List/GIPP_FILENAME[{i}]", type=e.get("type", ""),
                          version=e.get("version", ""), file_name=(e.text or "").strip())
                  for i, e in enumerate(r.kids(gl, "GIPP_FILENAME"), 1))
    return r.model(AuxiliaryInfo, where, ut1_utc_s=r.conv(iers, "UT1_UTC", iw, float),
                         gps_time_utc_s=r.conv(iers, "GPS_TIME_UTC", iw, float),
                         gps_time_tai_s=r.conv(iers, "GPS_TIME_TAI", iw, float),
                         pole_u_arcsec=r.conv(iers, "POLE_U_ANGLE", iw, float),
                         pole_v_arcsec=r.conv(iers, "POLE_V_ANGLE", iw, float),
                         gipps=gipps, dem=r.text(aux, "PRODUCTION_DEM_TYPE", where),
                         iers_bulletin=r.text(aux, "IERS_BULLETIN_FILENAME", where),
                         reference_band=r.conv(aux, "REFERENCE_BAND", where, int))


def read_granule_metadata(path: Path | str) -> Granule:
    """Read an L0 granule metadata file (ours, a real L0, or a real L0U one)."""
    path = Path(path)
    root = _root(path, ("Level-0_Granule_ID", "DIMAP_Level-0-unconsolidated_Granule"))
    r = _Reader(path)
    top = "/" + etree.QName(root).localname
    gi, gw = r.req(root, "General_Info", top), top + "/General_Info"
    ic = r.req(root, "Quality_Indicators_Info/Image_Content_QI", top)
    iw = top + "/Quality_Indicators_Info/Image_Content_QI"
    cloudy = r.opt(ic, "Common_IMG_QI/CLOUDY_PIXEL_PERCENTAGE")
    cl = r.req(ic, "Source_Packet_description/Source_Packet_Counters_List", iw)
    cw = iw + "/Source_Packet_description/Source_Packet_Counters_List/Source_Packet_Counters"
    det = r.conv(gi, "DETECTOR_ID", gw, int)
    counters = tuple(_read_counter(r, e, det, cw) for e in r.kids(cl, "Source_Packet_Counters"))
    geo = r.opt(root, "Geometric_Info")
    footprint: tuple[float, ...] = ()
    position = 1
    if geo is not None:
        fw = "Granule_Footprint/Granule_Footprint/Footprint/EXT_POS_LIST"
        fp = r.opt(geo, fw)
        if fp is not None and (fp.text or "").strip():
            footprint = tuple(r.conv(geo, fw, top + "/Geometric_Info", _footprint))
        position = r.conv(geo, "Granule_Position/POSITION", top + "/Geometric_Info", int)
    granule_id = r.text(gi, "GRANULE_ID", gw)
    datastrip = r.opt(gi, "DATASTRIP_ID")
    archive = r.opt(gi, "Archiving_Info")
    found = re.search(r"_(\w{4})_(\d{8}T\d{6})_S\d{8}T", granule_id)
    if found is None:
        raise r.error(f"bad value {granule_id[:80]!r}: not a granule identifier "
                      "(..._<centre>_<creation>_S<sensing>_D<dd>_N<bb.bb>)", gw + "/GRANULE_ID")
    centre, created = found.groups()
    try:
        return Granule(
            granule_id=granule_id,
            datastrip_id=(datastrip.text or "").strip() if datastrip is not None else None,
            detector=det, sensing_time=r.conv(gi, "SENSING_TIME", gw, _parse_utc), position=position,
            creation=r.conv(archive, "ARCHIVING_TIME", gw + "/Archiving_Info", _parse_utc) if archive is not None
            else datetime.strptime(created, _ID_FMT),
            processing_centre=r.text(archive, "ARCHIVING_CENTRE", gw + "/Archiving_Info") if archive is not None
            else centre,
            packet_counters=counters,
            degraded_percentage=r.conv(ic, "Common_IMG_QI/DEGRADED_MSI_DATA_PERCENTAGE", iw, float),
            cloudy_percentage=None if cloudy is None else r.conv(ic, "Common_IMG_QI/CLOUDY_PIXEL_PERCENTAGE", iw, float),
            footprint=footprint,
            downlink_priority=r.text(gi, "DOWNLINK_PRIORITY", gw))
    except ValueError as exc:
        raise _model_error(path, top, exc) from None
