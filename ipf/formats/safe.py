"""The Level-1C user product: a SAFE folder (processing baseline >= 04.00 layout and metadata).

::

    S2A_MSIL1C_<datatake start>_N<bbbb>_R<ooo>_T<tile>_<discriminator>.SAFE/
      MTD_MSIL1C.xml                    product metadata   (ipf/schemas/l1c/S2_User_Product_Level-1C_Metadata.xsd)
      INSPIRE.xml                       ISO 19139 dataset metadata (ipf/schemas/l1c/INSPIRE_Metadata.xsd)
      manifest.safe                     XFDU, SHA3-256 of every file (ipf/schemas/l1c/XFDU_Manifest_L1C.xsd)
      AUX_DATA/                         (empty)
      DATASTRIP/DS_<centre>_<generation>_S<datastrip start>/MTD_DS.xml
                                        datastrip metadata (ipf/schemas/l1c/S2_PDI_Level-1C_Datastrip_Metadata.xsd)
      GRANULE/L1C_T<tile>_A<absolute orbit>_<datastrip start>/
        MTD_TL.xml                      tile metadata      (ipf/schemas/l1c/S2_PDI_Level-1C_Tile_Metadata.xsd)
        AUX_DATA/                       (empty)
        IMG_DATA/T<tile>_<datatake start>_<band>.jp2, ..._TCI.jp2
        QI_DATA/MSK_DETFOO_<band>.jp2, MSK_QUALIT_<band>.jp2, MSK_CLASSI_B00.jp2, T<tile>_<datatake start>_PVI.jp2

Element names, namespaces, the ``n1:`` prefix of the top-level sections, value conventions
(NODATA 0, SATURATED 65535, QUANTIFICATION_VALUE 10000, RADIO_ADD_OFFSET -1000, bandId 0..12 in
the order B01..B08, B8A, B09..B12) and the identifiers follow real baseline 04.00+ products, so
that GDAL's SENTINEL2 driver, stactools-sentinel2 and Sen2Cor read ours (S2 Products
Specification Document S2-PDGS-TAS-DI-PSD 14.x; ``shared/reference/s2-l1c-product-format.md``).

Processing code fills the pydantic models (:class:`ProductMetadata`, :class:`TileMetadata`,
:class:`DatastripMetadata`, :class:`InspireMetadata`, :class:`Manifest`); only the writers of this module build XML, and
:func:`write_validated` checks every file against its XSD before it is renamed into place.
:func:`assemble_safe` builds a whole product from the L1C tile store (PDI_TILE), the JPEG2000
folders (PDI_TILE_IMG, PDI_TILE_TCI) and the L1B datastrip (PDI_DS).
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from lxml import etree
from pydantic import BaseModel

from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.geometry.datation import utc
from ipf.geometry.tiles import TILE_SIZE_M
from ipf.interface import xmlio
from ipf.interface.errors import InputError, OutputError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_path, link_or_copy
from ipf.interface.xmlio import sub_element
from ipf.products.datastrip import PacketQuality, RefinedGeometry
from ipf.products.tile import L1CTile, MeanAngles

__all__ = [
    "FMT", "NS_PRODUCT", "NS_TILE", "NS_DATASTRIP", "NS_XFDU", "NS_SAFE", "NS_GML", "XSI",
    "NS_GMD", "NS_GCO", "PROCESSING_BASELINE", "PRODUCT_MTD", "TILE_MTD", "DATASTRIP_MTD", "INSPIRE_MTD",
    "MANIFEST", "SCHEMAS", "MISSIONS",
    "SPACECRAFT", "NSSDC", "SAFE_NAME", "REPEAT_CYCLE_S", "ORBITS_PER_CYCLE", "ORBIT_PERIOD_S",
    "INCLINATION_DEG", "ORBIT_REFERENCES", "absolute_orbit", "relative_orbit", "mission_of",
    "baseline_digits", "safe_name", "SafeName", "parse_safe_name", "granule_name", "datastrip_folder",
    "datastrip_id", "tile_id", "datatake_id", "band_file_stem", "MASK_KINDS", "CLASSI_BAND", "MASK_FILE",
    "mask_file_name", "parse_mask_file_name", "SpectralBand", "QualityCheck", "QUALITY_CHECKS",
    "ProductMetadata", "AngleGrid", "ViewingGrid", "Geocoding", "MaskFile", "TileMetadata", "Residuals",
    "Refining", "DetectorQuality", "DatastripMetadata", "InspireMetadata", "ManifestObject", "Manifest",
    "product_xml", "tile_xml", "datastrip_xml", "inspire_xml", "manifest_xml", "sha3_256", "manifest_objects", "schema_for", "serialize",
    "write_validated", "ProductInputs", "assemble_safe",
]

FMT = "%Y%m%dT%H%M%S"

NS_PRODUCT = "https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd"
NS_TILE = "https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-1C_Tile_Metadata.xsd"
NS_DATASTRIP = "https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-1C_Datastrip_Metadata.xsd"
NS_XFDU = "urn:ccsds:schema:xfdu:1"
NS_SAFE = "http://www.esa.int/safe/sentinel/1.1"
NS_GML = "http://www.opengis.net/gml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_GMD = "http://www.isotc211.org/2005/gmd"
NS_GCO = "http://www.isotc211.org/2005/gco"

PROCESSING_BASELINE = "04.00"
"""Processing baseline of the L1C products (``N0400`` in the SAFE name, PROCESSING_BASELINE in the metadata)."""

PRODUCT_MTD = "MTD_MSIL1C.xml"
TILE_MTD = "MTD_TL.xml"
DATASTRIP_MTD = "MTD_DS.xml"
INSPIRE_MTD = "INSPIRE.xml"
MANIFEST = "manifest.safe"

#: XSD (in ``ipf/schemas/``) of each XML file, by root element local name
SCHEMAS = {
    "Level-1C_User_Product": "l1c/S2_User_Product_Level-1C_Metadata.xsd",
    "Level-1C_Tile_ID": "l1c/S2_PDI_Level-1C_Tile_Metadata.xsd",
    "Level-1C_DataStrip_ID": "l1c/S2_PDI_Level-1C_Datastrip_Metadata.xsd",
    "MD_Metadata": "l1c/INSPIRE_Metadata.xsd",
    "XFDU": "l1c/XFDU_Manifest_L1C.xsd",
}

MISSIONS = ("S2A", "S2B", "S2C")
SPACECRAFT = {"S2A": "Sentinel-2A", "S2B": "Sentinel-2B", "S2C": "Sentinel-2C"}
NSSDC = {"S2A": "2015-028A", "S2B": "2017-013A", "S2C": "2024-157A"}
"""COSPAR/NSSDC identifiers (``safe:nssdcIdentifier`` of manifest.safe)."""

SAFE_NAME = re.compile(r"^(?P<mission>S2[A-Z])_MSIL1C_(?P<datatake>\d{8}T\d{6})_N(?P<baseline>\d{4})"
                       r"_R(?P<orbit>\d{3})_T(?P<tile>\d{2}[C-X][A-Z]{2})_(?P<disc>\d{8}T\d{6})\.SAFE$")

# ----------------------------------------------------------------------------------- orbits
REPEAT_CYCLE_S = 10 * 86400.0
ORBITS_PER_CYCLE = 143
ORBIT_PERIOD_S = REPEAT_CYCLE_S / ORBITS_PER_CYCLE
"""Nodal period of the S2 reference orbit: 143 orbits in the 10-day repeat cycle (6041.96 s)."""
INCLINATION_DEG = 98.62

#: per mission: (absolute orbit, datatake start, latitude) of a real product, and k of the
#: relative orbit ``(absolute + k) mod 143 + 1``. S2A: S2A_MSIL1C_20151125T163622_N0204_R083_T16SGJ
#: (A002225); S2B: S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF (A033753); S2C:
#: S2C_MSIL1C_20251201T102411_N0511_R065_T32UPB (A006470); latitudes of the tiles' centres.
ORBIT_REFERENCES = {
    "S2A": (2225, datetime(2015, 11, 25, 16, 36, 22, tzinfo=timezone.utc), 36.6, 2),
    "S2B": (33753, datetime(2023, 8, 23, 9, 55, 59, tzinfo=timezone.utc), 54.5, -27),
    "S2C": (6470, datetime(2025, 12, 1, 10, 24, 11, tzinfo=timezone.utc), 48.3, 29),
}


def _ascending_node_time(t: datetime, lat_deg: float) -> datetime:
    """Time of the ascending node before a descending-pass sensing time ``t`` at ``lat_deg``: the
    argument of latitude of a descending point is u = 180° - asin(sin(lat) / sin(i))."""
    s = max(-1.0, min(1.0, math.sin(math.radians(lat_deg)) / math.sin(math.radians(INCLINATION_DEG))))
    u = 180.0 - math.degrees(math.asin(s))
    return utc(t) - timedelta(seconds=u / 360.0 * ORBIT_PERIOD_S)


def absolute_orbit(mission: str, t: datetime, lat_deg: float = 0.0) -> int:
    """Absolute orbit number of a descending (day-side) acquisition of ``mission`` at ``t``.

    No orbit file gives the number here, so it is derived from time: the ascending-node time of
    the sensing (:func:`_ascending_node_time`) counted in nodal periods (:data:`ORBIT_PERIOD_S`)
    from the node of a real product of the same satellite (:data:`ORBIT_REFERENCES`), rounded.
    The S2 orbits are maintained on the repeat ground track, so the count holds to well within
    the half period the rounding tolerates (the latitude moves the node by at most 25 min).
    Valid for the nominal constellation phasing: S2A's 2025 move to a new phase (after S2C took
    its place) is not modelled, so its numbers after that move are wrong.
    """
    ref_abs, ref_t, ref_lat, _ = ORBIT_REFERENCES[mission]
    dt = (_ascending_node_time(t, lat_deg) - _ascending_node_time(ref_t, ref_lat)).total_seconds()
    return ref_abs + round(dt / ORBIT_PERIOD_S)


def relative_orbit(mission: str, absolute: int) -> int:
    """Relative orbit 1..143 of an absolute orbit: ``(absolute + k) mod 143 + 1``, k per satellite
    (S2A 2, S2B -27, S2C 29; from the absolute and relative orbits of real products)."""
    return (absolute + ORBIT_REFERENCES[mission][3]) % ORBITS_PER_CYCLE + 1


def mission_of(spacecraft: str) -> str:
    """``S2A`` of ``Sentinel-2A`` (or of ``S2A``); :class:`~ipf.interface.errors.InputError`
    for another name."""
    s = spacecraft.strip()
    m = re.fullmatch(r"(?:Sentinel-2|S2)([A-Z])", s)
    if not m:
        raise InputError(f"not a Sentinel-2 spacecraft name: {spacecraft!r}", element="spacecraft")
    return f"S2{m.group(1)}"


# ----------------------------------------------------------------------------------- names
def baseline_digits(baseline: str) -> str:
    """``0400`` of ``04.00``."""
    if not re.fullmatch(r"\d\d\.\d\d", baseline):
        raise ValueError(f"processing baseline {baseline!r} is not of the form NN.NN")
    return baseline.replace(".", "")


def safe_name(mission: str, datatake_start: datetime, baseline: str, rel_orbit: int, tile: str,
              discriminator: datetime) -> str:
    """Compact product name ``S2A_MSIL1C_<datatake start>_N<bbbb>_R<ooo>_T<tile>_<disc>.SAFE``.

    ``datatake_start`` is truncated to the second; ``discriminator`` is the generation time (as in
    real products); ``rel_orbit`` 1..143.
    """
    mission = mission_of(mission)
    if not 1 <= rel_orbit <= ORBITS_PER_CYCLE:
        raise ValueError(f"relative orbit {rel_orbit} outside 1..{ORBITS_PER_CYCLE}")
    tile = tile.removeprefix("T")
    name = (f"{mission}_MSIL1C_{datatake_start:{FMT}}_N{baseline_digits(baseline)}_R{rel_orbit:03d}"
            f"_T{tile}_{discriminator:{FMT}}.SAFE")
    if not SAFE_NAME.match(name):
        raise ValueError(f"not a valid L1C product name: {name}")
    return name


class SafeName(BaseModel):
    """The fields of a compact L1C product name."""

    mission: str
    datatake_start: datetime
    baseline: str
    relative_orbit: int
    tile: str
    discriminator: datetime


def parse_safe_name(name: str) -> SafeName:
    """The fields of a compact product name; ``ValueError`` when ``name`` is not one."""
    m = SAFE_NAME.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a compact L1C product name "
                         "(S2x_MSIL1C_YYYYMMDDTHHMMSS_Nbbbb_Rooo_Txxxxx_YYYYMMDDTHHMMSS.SAFE)")
    b = m["baseline"]
    return SafeName(mission=m["mission"], datatake_start=datetime.strptime(m["datatake"], FMT),
                    baseline=f"{b[:2]}.{b[2:]}", relative_orbit=int(m["orbit"]), tile=m["tile"],
                    discriminator=datetime.strptime(m["disc"], FMT))


def granule_name(tile: str, abs_orbit: int, datastrip_start: datetime) -> str:
    """Granule folder ``L1C_T<tile>_A<absolute orbit 6 digits>_<datastrip sensing start>``."""
    return f"L1C_T{tile.removeprefix('T')}_A{abs_orbit:06d}_{datastrip_start:{FMT}}"


def datastrip_folder(centre: str, generation: datetime, datastrip_start: datetime) -> str:
    """Datastrip folder ``DS_<centre 4 chars>_<generation time>_S<datastrip sensing start>``."""
    return f"DS_{_centre(centre)}_{generation:{FMT}}_S{datastrip_start:{FMT}}"


def datastrip_id(mission: str, centre: str, generation: datetime, datastrip_start: datetime,
                 baseline: str) -> str:
    """``S2A_OPER_MSI_L1C_DS_<centre>_<generation>_S<start>_N<bb.bb>`` (DATASTRIP_ID)."""
    return (f"{mission}_OPER_MSI_L1C_DS_{_centre(centre)}_{generation:{FMT}}_S{datastrip_start:{FMT}}"
            f"_N{baseline}")


def tile_id(mission: str, centre: str, generation: datetime, abs_orbit: int, tile: str,
            baseline: str) -> str:
    """``S2A_OPER_MSI_L1C_TL_<centre>_<generation>_A<orbit>_T<tile>_N<bb.bb>`` (TILE_ID)."""
    return (f"{mission}_OPER_MSI_L1C_TL_{_centre(centre)}_{generation:{FMT}}_A{abs_orbit:06d}"
            f"_T{tile.removeprefix('T')}_N{baseline}")


def datatake_id(mission: str, datatake_start: datetime, abs_orbit: int, baseline: str) -> str:
    """``GS2A_<datatake start>_<absolute orbit>_N<bb.bb>`` (Datatake/@datatakeIdentifier)."""
    return f"G{mission}_{datatake_start:{FMT}}_{abs_orbit:06d}_N{baseline}"


def band_file_stem(tile: str, datatake_start: datetime, band: str) -> str:
    """``T<tile>_<datatake start>_<band>`` (band B01..B12, B8A, TCI or PVI), no extension."""
    return f"T{tile.removeprefix('T')}_{datatake_start:{FMT}}_{band}"


MASK_KINDS = ("DETFOO", "QUALIT", "CLASSI")
"""Raster masks of a granule's QI_DATA (baseline 04.00): detector footprint and pixel quality per
band, cloud classes once (band ``B00``)."""
CLASSI_BAND = "B00"
MASK_FILE = re.compile(r"^MSK_(DETFOO|QUALIT|CLASSI)_(B\d[0-9A])\.jp2$")


def mask_file_name(kind: str, band: str = CLASSI_BAND) -> str:
    """``MSK_<kind>_<band>.jp2``, the name of a raster mask file (kind of :data:`MASK_KINDS`;
    MSK_CLASSI is ``B00``)."""
    if kind not in MASK_KINDS:
        raise ValueError(f"not a mask kind: {kind!r}")
    return f"MSK_{kind}_{band}.jp2"


def parse_mask_file_name(name: str) -> tuple[str, str] | None:
    """(kind, band) of a :func:`mask_file_name` (``("QUALIT", "B8A")``), ``None`` for another name."""
    m = MASK_FILE.match(name)
    return (m.group(1), m.group(2)) if m else None


def _centre(centre: str) -> str:
    """A processing-centre code as the 4 characters of S2 identifiers (``_`` padded)."""
    c = re.sub(r"[^A-Z0-9]", "_", (centre or "").upper())[:4]
    return c.ljust(4, "_")


# ----------------------------------------------------------------------------------- models
class SpectralBand(BaseModel):
    """One band of the product: id (``B8A`` style), bandId 0..12, resolution m, solar irradiance
    E0 W m-2 µm-1, wavelengths nm, radiometric offset (L1C counts)."""

    band: str
    band_id: int
    resolution: int
    solar_irradiance: float
    wavelength_min_nm: float
    wavelength_max_nm: float
    wavelength_central_nm: float
    radio_add_offset: int = -1000

    @classmethod
    def of(cls, band: str, solar_irradiance: float | None = None, radio_add_offset: int = -1000):
        b = BY_NAME[band]
        return cls(band=band, band_id=b.index, resolution=b.resolution_m,
                   solar_irradiance=b.e0 if solar_irradiance is None else solar_irradiance,
                   wavelength_min_nm=round(b.wavelength_nm - b.width_nm / 2),
                   wavelength_max_nm=round(b.wavelength_nm + b.width_nm / 2),
                   wavelength_central_nm=b.wavelength_nm, radio_add_offset=radio_add_offset)


QualityCheck = Literal["PASSED", "FAILED", "WARNING", "NOT_CHECKED"]
QUALITY_CHECKS = ("FORMAT_CORRECTNESS", "GENERAL_QUALITY", "GEOMETRIC_QUALITY", "RADIOMETRIC_QUALITY",
                  "SENSOR_QUALITY")


class ProductMetadata(BaseModel):
    """MTD_MSIL1C.xml. Times UTC; percentages 0..100; footprint (lat, lon) degrees, closed ring."""

    product_uri: str
    mission: str
    product_start: datetime
    product_stop: datetime
    generation_time: datetime
    processing_baseline: str
    datatake_id: str
    datatake_type: str = "INS-NOBS"
    datatake_start: datetime
    relative_orbit: int
    orbit_direction: Literal["ASCENDING", "DESCENDING"] = "DESCENDING"
    datastrip_id: str
    granule_id: str
    image_files: list[str]
    quantification_value: int = 10000
    nodata_value: int = 0
    saturated_value: int = 65535
    reflectance_conversion_u: float
    bands: list[SpectralBand]
    footprint_latlon: list[tuple[float, float]]
    gipp_files: list[tuple[str, str, str]] = []
    """(type, version, file name) of the GIPPs used."""
    dem: str = "NONE"
    iers_bulletin: str = "NONE"
    gri_files: list[str] = []
    cloud_coverage: float
    snow_coverage: float
    degraded_anc_data_percentage: float = 0.0
    degraded_msi_data_percentage: float = 0.0
    quality_checks: dict[str, QualityCheck] = {c: "NOT_CHECKED" for c in QUALITY_CHECKS}


class AngleGrid(BaseModel):
    """Zenith and azimuth (degrees, NaN where unseen) on the 23 × 23 nodes, 5000 m apart, node
    (i, j) at (ULX + 5000 j, ULY - 5000 i)."""

    zenith: list[list[float]]
    azimuth: list[list[float]]
    step_m: int = 5000


class ViewingGrid(BaseModel):
    band_id: int
    detector: int
    grid: AngleGrid


class Geocoding(BaseModel):
    """One resolution of ``Tile_Geocoding``: size in pixels, outer upper-left corner in metres."""

    resolution: int
    nrows: int
    ncols: int
    ulx: float
    uly: float


class MaskFile(BaseModel):
    type: Literal["MSK_DETFOO", "MSK_QUALIT", "MSK_CLASSI"]
    band_id: int | None = None
    path: str
    """Relative to the SAFE root (``GRANULE/...``)."""


class TileMetadata(BaseModel):
    """MTD_TL.xml. Angles in degrees; percentages 0..100."""

    tile_id: str
    datastrip_id: str
    sensing_time: datetime
    archiving_centre: str
    archiving_time: datetime
    epsg: int
    cs_name: str
    geocoding: list[Geocoding]
    sun: AngleGrid | None = None
    mean_sun: tuple[float, float] | None = None
    """(zenith, azimuth)."""
    viewing: list[ViewingGrid] = []
    mean_viewing: dict[int, tuple[float, float]] = {}
    """bandId -> (zenith, azimuth)."""
    cloudy_pixel_percentage: float
    degraded_msi_data_percentage: float = 0.0
    snow_pixel_percentage: float
    nodata_pixel_percentage: float
    saturated_defective_pixel_percentage: float
    masks: list[MaskFile]
    pvi_filename: str | None = None


class Residuals(BaseModel):
    """Tie-point residual statistics, pixels of the reference band (mean offsets in metres)."""

    rms_px: float
    mean_px: float
    p95_px: float
    max_px: float
    mean_e_m: float = 0.0
    mean_n_m: float = 0.0


class Refining(BaseModel):
    """Geometric refining against the GRI: attitude bias (rad) and drift (rad/s) about the x, y,
    z body axes at ``reference_time``; residuals before and after."""

    refined: bool
    reference_band: str | None = None
    reference_time: datetime | None = None
    bias_rad: tuple[float, float, float] | None = None
    drift_rad_s: tuple[float, float, float] | None = None
    tie_points: int = 0
    before: Residuals | None = None
    after: Residuals | None = None


class DetectorQuality(BaseModel):
    """Decoding quality of one (band, detector) of the source L0 (lines, invalid lines, packets)."""

    band_id: int
    detector: int
    lines: int
    invalid_lines: int
    packets: int
    lost_packets: int
    crc_errors: int


class DatastripMetadata(BaseModel):
    """MTD_DS.xml."""

    datastrip_id: str
    mission: str
    datatake_id: str
    datatake_type: str = "INS-NOBS"
    datatake_start: datetime
    relative_orbit: int
    orbit_direction: Literal["ASCENDING", "DESCENDING"] = "DESCENDING"
    datastrip_start: datetime
    datastrip_stop: datetime
    processing_baseline: str
    processing_centre: str
    generation_time: datetime
    archiving_centre: str
    archiving_time: datetime
    source_datastrip: str
    quantification_value: int = 10000
    reflectance_conversion_u: float
    bands: list[SpectralBand]
    refining: Refining
    quality: list[DetectorQuality] = []
    degraded_msi_data_percentage: float = 0.0


class InspireMetadata(BaseModel):
    """INSPIRE.xml: ISO 19115 identification of the product. Times UTC; footprint (lat, lon)
    degrees, closed ring; ``resolution_m`` the finest band resolution."""

    product_uri: str
    datatake_id: str
    generation_time: datetime
    sensing_start: datetime
    sensing_stop: datetime
    footprint_latlon: list[tuple[float, float]]
    epsg: int
    resolution_m: int
    processing_centre: str
    processing_baseline: str
    source_datastrip: str


class ManifestObject(BaseModel):
    """One ``dataObject``: ID, path relative to the SAFE root, MIME type, size in bytes, SHA3-256."""

    id: str
    href: str
    mime_type: str
    size: int
    sha3_256: str


class Manifest(BaseModel):
    """manifest.safe (XFDU): acquisition, orbit, platform, footprint and every file's checksum."""

    mission: str
    start_time: datetime
    absolute_orbit: int
    relative_orbit: int
    orbit_direction: Literal["ASCENDING", "DESCENDING"] = "DESCENDING"
    footprint_latlon: list[tuple[float, float]]
    generation_time: datetime
    processing_centre: str
    objects: list[ManifestObject]


# ----------------------------------------------------------------------------------- XML helpers
def _t(value: datetime, digits: int = 3) -> str:
    """ISO UTC with ``digits`` fraction digits and ``Z``."""
    value = utc(value)
    s = value.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        s += "." + f"{value.microsecond:06d}"[:digits]
    return s + "Z"


def _f(value: float) -> str:
    v = float(value)
    return "NaN" if math.isnan(v) else repr(v)


def _g(value: float) -> str:
    """A grid value: 4 decimals, ``NaN`` for NaN."""
    v = float(value)
    return "NaN" if math.isnan(v) else f"{v:.4f}"


def _sub(parent, tag: str, text=None, **attrib) -> etree._Element:
    if text is not None:
        text = _f(text) if isinstance(text, float) else str(text)
    return sub_element(parent, tag, text, **{k: str(v) for k, v in attrib.items()})


def _radiometric_conversion(parent, m) -> None:
    """QUANTIFICATION_VALUE, Radiometric_Offset_List and Reflectance_Conversion (U, solar
    irradiances), as MTD_MSIL1C and MTD_DS both carry them."""
    _sub(parent, "QUANTIFICATION_VALUE", m.quantification_value, unit="none")
    rol = _sub(parent, "Radiometric_Offset_List")
    for b in m.bands:
        _sub(rol, "RADIO_ADD_OFFSET", b.radio_add_offset, band_id=b.band_id)
    rc = _sub(parent, "Reflectance_Conversion")
    _sub(rc, "U", m.reflectance_conversion_u)
    sil = _sub(rc, "Solar_Irradiance_List")
    for b in m.bands:
        _sub(sil, "SOLAR_IRRADIANCE", b.solar_irradiance, bandId=b.band_id, unit="W/m²/µm")


def _root(ns: str, tag: str, schema_file: str, extra: dict | None = None) -> etree._Element:
    root = etree.Element(f"{{{ns}}}{tag}", nsmap={"n1": ns, "xsi": XSI, **(extra or {})})
    root.set(f"{{{XSI}}}schemaLocation", f"{ns} {schema_file}")
    return root


def _ring_text(latlon: list[tuple[float, float]]) -> str:
    pts = list(latlon)
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    return "".join(f"{lat!r} {lon!r} " for lat, lon in pts)


# ----------------------------------------------------------------------------------- MTD_MSIL1C
def product_xml(m: ProductMetadata) -> etree._Element:
    """The MTD_MSIL1C.xml tree of ``m``."""
    root = _root(NS_PRODUCT, "Level-1C_User_Product", NS_PRODUCT)
    gi = _sub(root, f"{{{NS_PRODUCT}}}General_Info")
    pi = _sub(gi, "Product_Info")
    _sub(pi, "PRODUCT_START_TIME", _t(m.product_start))
    _sub(pi, "PRODUCT_STOP_TIME", _t(m.product_stop))
    _sub(pi, "PRODUCT_URI", m.product_uri)
    _sub(pi, "PROCESSING_LEVEL", "Level-1C")
    _sub(pi, "PRODUCT_TYPE", "S2MSI1C")
    _sub(pi, "PROCESSING_BASELINE", m.processing_baseline)
    _sub(pi, "GENERATION_TIME", _t(m.generation_time, 6))
    _sub(pi, "PREVIEW_IMAGE_URL", "Not applicable")
    _sub(pi, "PREVIEW_GEO_INFO", "Not applicable")
    dt = _sub(pi, "Datatake", datatakeIdentifier=m.datatake_id)
    _sub(dt, "SPACECRAFT_NAME", SPACECRAFT[m.mission])
    _sub(dt, "DATATAKE_TYPE", m.datatake_type)
    _sub(dt, "DATATAKE_SENSING_START", _t(m.datatake_start))
    _sub(dt, "SENSING_ORBIT_NUMBER", m.relative_orbit)
    _sub(dt, "SENSING_ORBIT_DIRECTION", m.orbit_direction)
    qo = _sub(pi, "Query_Options", completeSingleTile="true")
    _sub(qo, "PRODUCT_FORMAT", "SAFE_COMPACT")
    gl = _sub(_sub(pi, "Product_Organisation"), "Granule_List")
    g = _sub(gl, "Granule", datastripIdentifier=m.datastrip_id, granuleIdentifier=m.granule_id,
             imageFormat="JPEG2000")
    for f in m.image_files:
        _sub(g, "IMAGE_FILE", f)
    pic = _sub(gi, "Product_Image_Characteristics")
    for text, value in (("NODATA", m.nodata_value), ("SATURATED", m.saturated_value)):
        sv = _sub(pic, "Special_Values")
        _sub(sv, "SPECIAL_VALUE_TEXT", text)
        _sub(sv, "SPECIAL_VALUE_INDEX", value)
    ido = _sub(pic, "Image_Display_Order")
    for ch, idx in (("RED_CHANNEL", 3), ("GREEN_CHANNEL", 2), ("BLUE_CHANNEL", 1)):
        _sub(ido, ch, idx)
    _radiometric_conversion(pic, m)
    spl = _sub(pic, "Spectral_Information_List")
    for b in m.bands:
        si = _sub(spl, "Spectral_Information", bandId=b.band_id, physicalBand=_physical_band(b.band))
        _sub(si, "RESOLUTION", b.resolution)
        w = _sub(si, "Wavelength")
        _sub(w, "MIN", b.wavelength_min_nm, unit="nm")
        _sub(w, "MAX", b.wavelength_max_nm, unit="nm")
        _sub(w, "CENTRAL", b.wavelength_central_nm, unit="nm")
    _sub(pic, "REFERENCE_BAND", 3)
    geo = _sub(root, f"{{{NS_PRODUCT}}}Geometric_Info")
    pf = _sub(geo, "Product_Footprint")
    inner = _sub(pf, "Product_Footprint")
    _sub(_sub(inner, "Global_Footprint"), "EXT_POS_LIST", _ring_text(m.footprint_latlon))
    _sub(pf, "RASTER_CS_TYPE", "POINT")
    _sub(pf, "PIXEL_ORIGIN", 1)
    crs = _sub(geo, "Coordinate_Reference_System")
    _sub(crs, "GEO_TABLES", "EPSG", version="1")
    _sub(crs, "HORIZONTAL_CS_TYPE", "GEOGRAPHIC")
    aux = _sub(root, f"{{{NS_PRODUCT}}}Auxiliary_Data_Info")
    gipps = _sub(aux, "GIPP_List")
    for kind, version, name in m.gipp_files:
        _sub(gipps, "GIPP_FILENAME", name, type=kind, version=version)
    _sub(aux, "PRODUCTION_DEM_TYPE", m.dem)
    _sub(aux, "IERS_BULLETIN_FILENAME", m.iers_bulletin)
    gri = _sub(aux, "GRI_List")
    for name in m.gri_files:
        _sub(gri, "GRI_FILENAME", name)
    _sub(aux, "ECMWF_DATA_REF", "NONE")
    qi = _sub(root, f"{{{NS_PRODUCT}}}Quality_Indicators_Info")
    _sub(qi, "Cloud_Coverage_Assessment", _pct(m.cloud_coverage))
    _sub(qi, "Snow_Coverage_Assessment", _pct(m.snow_coverage))
    tqa = _sub(qi, "Technical_Quality_Assessment")
    _sub(tqa, "DEGRADED_ANC_DATA_PERCENTAGE", _pct(m.degraded_anc_data_percentage))
    _sub(tqa, "DEGRADED_MSI_DATA_PERCENTAGE", _pct(m.degraded_msi_data_percentage))
    qcc = _sub(qi, "Quality_Control_Checks")
    qin = _sub(qcc, "Quality_Inspections")
    for check in QUALITY_CHECKS:
        _sub(qin, "quality_check", m.quality_checks.get(check, "NOT_CHECKED"), checkType=check)
    fi = _sub(qcc, "Failed_Inspections")
    for check in QUALITY_CHECKS:
        if m.quality_checks.get(check) == "FAILED":
            _sub(fi, "Failed_Check", check)
    return root


def _physical_band(band: str) -> str:
    """``B1`` of ``B01`` (MTD_MSIL1C ``physicalBand``)."""
    return band if band == "B8A" else f"B{int(band[1:])}"


def _pct(value: float) -> float:
    return round(float(value), 6)


# ----------------------------------------------------------------------------------- MTD_TL
def _angle_grid(parent, grid: AngleGrid) -> None:
    for name, values in (("Zenith", grid.zenith), ("Azimuth", grid.azimuth)):
        e = _sub(parent, name)
        _sub(e, "COL_STEP", grid.step_m, unit="m")
        _sub(e, "ROW_STEP", grid.step_m, unit="m")
        vl = _sub(e, "Values_List")
        for row in values:
            _sub(vl, "VALUES", " ".join(_g(v) for v in row))


def tile_xml(m: TileMetadata) -> etree._Element:
    """The MTD_TL.xml tree of ``m`` (Tile_Geocoding early: GDAL reads the first 3 KiB for it)."""
    root = _root(NS_TILE, "Level-1C_Tile_ID", NS_TILE)
    gi = _sub(root, f"{{{NS_TILE}}}General_Info")
    _sub(gi, "TILE_ID", m.tile_id, metadataLevel="Brief")
    _sub(gi, "DATASTRIP_ID", m.datastrip_id, metadataLevel="Standard")
    _sub(gi, "DOWNLINK_PRIORITY", "NOMINAL", metadataLevel="Standard")
    _sub(gi, "SENSING_TIME", _t(m.sensing_time, 6), metadataLevel="Standard")
    ai = _sub(gi, "Archiving_Info", metadataLevel="Expertise")
    _sub(ai, "ARCHIVING_CENTRE", m.archiving_centre)
    _sub(ai, "ARCHIVING_TIME", _t(m.archiving_time, 6))
    geo = _sub(root, f"{{{NS_TILE}}}Geometric_Info")
    tg = _sub(geo, "Tile_Geocoding", metadataLevel="Brief")
    _sub(tg, "HORIZONTAL_CS_NAME", m.cs_name)
    _sub(tg, "HORIZONTAL_CS_CODE", f"EPSG:{m.epsg}")
    for g in m.geocoding:
        s = _sub(tg, "Size", resolution=g.resolution)
        _sub(s, "NROWS", g.nrows)
        _sub(s, "NCOLS", g.ncols)
    for g in m.geocoding:
        p = _sub(tg, "Geoposition", resolution=g.resolution)
        _sub(p, "ULX", _int_or_float(g.ulx))
        _sub(p, "ULY", _int_or_float(g.uly))
        _sub(p, "XDIM", g.resolution)
        _sub(p, "YDIM", -g.resolution)
    ta = _sub(geo, "Tile_Angles", metadataLevel="Standard")
    if m.sun is not None:
        _angle_grid(_sub(ta, "Sun_Angles_Grid"), m.sun)
    if m.mean_sun is not None:
        ms = _sub(ta, "Mean_Sun_Angle")
        _sub(ms, "ZENITH_ANGLE", _f(m.mean_sun[0]), unit="deg")
        _sub(ms, "AZIMUTH_ANGLE", _f(m.mean_sun[1]), unit="deg")
    for v in sorted(m.viewing, key=lambda v: (v.band_id, v.detector)):
        _angle_grid(_sub(ta, "Viewing_Incidence_Angles_Grids", bandId=v.band_id, detectorId=v.detector), v.grid)
    mvl = _sub(ta, "Mean_Viewing_Incidence_Angle_List")
    for band_id in sorted(m.mean_viewing):
        z, a = m.mean_viewing[band_id]
        mv = _sub(mvl, "Mean_Viewing_Incidence_Angle", bandId=band_id)
        _sub(mv, "ZENITH_ANGLE", _f(z), unit="deg")
        _sub(mv, "AZIMUTH_ANGLE", _f(a), unit="deg")
    qi = _sub(root, f"{{{NS_TILE}}}Quality_Indicators_Info", metadataLevel="Standard")
    ic = _sub(qi, "Image_Content_QI")
    _sub(ic, "NODATA_PIXEL_PERCENTAGE", _pct(m.nodata_pixel_percentage))
    _sub(ic, "SATURATED_DEFECTIVE_PIXEL_PERCENTAGE", _pct(m.saturated_defective_pixel_percentage))
    _sub(ic, "CLOUDY_PIXEL_PERCENTAGE", _pct(m.cloudy_pixel_percentage))
    _sub(ic, "DEGRADED_MSI_DATA_PERCENTAGE", _pct(m.degraded_msi_data_percentage))
    _sub(ic, "SNOW_PIXEL_PERCENTAGE", _pct(m.snow_pixel_percentage))
    pl = _sub(qi, "Pixel_Level_QI", geometry="FULL_RESOLUTION")
    for mask in m.masks:
        attrib = {"type": mask.type} if mask.band_id is None else {"bandId": mask.band_id, "type": mask.type}
        _sub(pl, "MASK_FILENAME", mask.path, **attrib)
    if m.pvi_filename:
        _sub(qi, "PVI_FILENAME", m.pvi_filename)
    return root


def _int_or_float(v: float):
    return int(v) if float(v).is_integer() else float(v)


# ----------------------------------------------------------------------------------- MTD_DS
def datastrip_xml(m: DatastripMetadata) -> etree._Element:
    """The MTD_DS.xml tree of ``m`` (the elements Sen2Cor reads, refining and L0 quality)."""
    root = _root(NS_DATASTRIP, "Level-1C_DataStrip_ID", NS_DATASTRIP)
    gi = _sub(root, f"{{{NS_DATASTRIP}}}General_Info")
    _sub(gi, "DATASTRIP_ID", m.datastrip_id)
    _sub(gi, "DOWNLINK_PRIORITY", "NOMINAL")
    dti = _sub(gi, "Datatake_Info", datatakeIdentifier=m.datatake_id)
    _sub(dti, "DATATAKE_TYPE", m.datatake_type)
    _sub(dti, "DATATAKE_SENSING_START", _t(m.datatake_start))
    _sub(dti, "SENSING_ORBIT_NUMBER", m.relative_orbit)
    _sub(dti, "SPACECRAFT_NAME", SPACECRAFT[m.mission])
    _sub(dti, "SENSING_ORBIT_DIRECTION", m.orbit_direction)
    ti = _sub(gi, "Datastrip_Time_Info")
    _sub(ti, "DATASTRIP_SENSING_START", _t(m.datastrip_start, 6))
    _sub(ti, "DATASTRIP_SENSING_STOP", _t(m.datastrip_stop, 6))
    pi = _sub(gi, "Processing_Info")
    _sub(pi, "PROCESSING_BASELINE", m.processing_baseline)
    _sub(pi, "UTC_DATE_TIME", _t(m.generation_time, 6))
    _sub(pi, "PROCESSING_CENTER", m.processing_centre)
    _sub(pi, "SOURCE_DATASTRIP", m.source_datastrip)
    ai = _sub(gi, "Archiving_Info")
    _sub(ai, "ARCHIVING_CENTRE", m.archiving_centre)
    _sub(ai, "ARCHIVING_TIME", _t(m.archiving_time, 6))
    idi = _sub(root, f"{{{NS_DATASTRIP}}}Image_Data_Info")
    geo = _sub(idi, "Geometric_Info")
    r = m.refining
    ir = _sub(geo, "Image_Refining", flag="REFINED" if r.refined else "NOT_REFINED")
    if r.refined:
        rc = _sub(ir, "Refining_Characteristics")
        _sub(rc, "REFERENCE_BAND", r.reference_band or "")
        _sub(rc, "REFERENCE_TIME", _t(r.reference_time, 6))
        ac = _sub(rc, "Attitude_Correction")
        for axis, b, d in zip("XYZ", r.bias_rad or (0.0,) * 3, r.drift_rad_s or (0.0,) * 3):
            _sub(ac, f"BIAS_{axis}", float(b), unit="rad")
            _sub(ac, f"DRIFT_{axis}", float(d), unit="rad/s")
        cq = _sub(rc, "Correlation_Quality")
        _sub(cq, "TIE_POINTS", r.tie_points)
        for name, res in (("Residuals_Before", r.before), ("Residuals_After", r.after)):
            if res is None:
                continue
            e = _sub(cq, name)
            _sub(e, "RMS", res.rms_px, unit="pixel")
            _sub(e, "MEAN", res.mean_px, unit="pixel")
            _sub(e, "P95", res.p95_px, unit="pixel")
            _sub(e, "MAX", res.max_px, unit="pixel")
            _sub(e, "MEAN_EAST", res.mean_e_m, unit="m")
            _sub(e, "MEAN_NORTH", res.mean_n_m, unit="m")
    rad = _sub(idi, "Radiometric_Info")
    _radiometric_conversion(rad, m)
    qi = _sub(root, f"{{{NS_DATASTRIP}}}Quality_Indicators_Info")
    _sub(qi, "DEGRADED_MSI_DATA_PERCENTAGE", _pct(m.degraded_msi_data_percentage))
    sq = _sub(qi, "Sensor_Quality_List")
    for q in sorted(m.quality, key=lambda q: (q.band_id, q.detector)):
        e = _sub(sq, "Sensor_Quality", bandId=q.band_id, detectorId=q.detector)
        _sub(e, "LINES", q.lines)
        _sub(e, "INVALID_LINES", q.invalid_lines)
        _sub(e, "PACKETS", q.packets)
        _sub(e, "LOST_PACKETS", q.lost_packets)
        _sub(e, "CRC_ERRORS", q.crc_errors)
    return root


# ----------------------------------------------------------------------------------- INSPIRE
_ISO_CODELISTS = "http://standards.iso.org/ittf/PubliclyAvailableStandards/ISO_19139_Schemas/resources/Codelist/ML_gmxCodelists.xml"
_LANGUAGE_CODES = "http://www.loc.gov/standards/iso639-2/"
_THESAURI = (("GEMET - INSPIRE themes, version 1.0", "2008-06-01", ("Orthoimagery", "Land cover")),)
_INSPIRE_REGULATION = ("Commission Regulation (EU) No 1089/2010 of 23 November 2010 implementing Directive 2007/2/EC "
                       "of the European Parliament and of the Council as regards interoperability of spatial data "
                       "sets and services", "2010-12-08")


def _bounding_box(latlon: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(west, east, south, north) degrees of a ring; west > east when it crosses 180°."""
    lats = [p[0] for p in latlon]
    lons = [p[1] for p in latlon]
    if max(lons) - min(lons) > 180.0:
        shifted = [lon + 360.0 if lon < 0 else lon for lon in lons]
        west, east = min(shifted), max(shifted)
        return (west - 360.0 if west > 180.0 else west, east - 360.0 if east > 180.0 else east, min(lats), max(lats))
    return min(lons), max(lons), min(lats), max(lats)


def inspire_xml(m: InspireMetadata) -> etree._Element:
    """The INSPIRE.xml tree of ``m`` (ISO 19139 as real L1C products carry at the SAFE root)."""
    D, C, G = f"{{{NS_GMD}}}", f"{{{NS_GCO}}}", f"{{{NS_GML}}}"
    root = etree.Element(f"{D}MD_Metadata", nsmap={"gmd": NS_GMD, "gco": NS_GCO, "gml": NS_GML, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS_GMD} http://schemas.opengis.net/iso/19139/20060504/gmd/gmd.xsd")

    def text(parent, tag, value):
        return _sub(_sub(parent, f"{D}{tag}"), f"{C}CharacterString", value)

    def code(parent, tag, code_tag, value, codelist=_ISO_CODELISTS, **extra):
        url = codelist if codelist == _LANGUAGE_CODES else f"{codelist}#{code_tag}"
        return _sub(_sub(parent, f"{D}{tag}"), f"{D}{code_tag}", value, codeList=url, codeListValue=value, **extra)

    def citation(parent, tag, title, date, date_type, identifiers=()):
        ci = _sub(_sub(parent, f"{D}{tag}"), f"{D}CI_Citation")
        text(ci, "title", title)
        cd = _sub(_sub(ci, f"{D}date"), f"{D}CI_Date")
        _sub(_sub(cd, f"{D}date"), f"{C}Date", date)
        code(cd, "dateType", "CI_DateTypeCode", date_type)
        for value, space in identifiers:
            rs = _sub(_sub(ci, f"{D}identifier"), f"{D}RS_Identifier")
            text(rs, "code", value)
            text(rs, "codeSpace", space)

    def party(parent, tag, role):
        rp = _sub(_sub(parent, f"{D}{tag}"), f"{D}CI_ResponsibleParty")
        text(rp, "organisationName", m.processing_centre)
        code(rp, "role", "CI_RoleCode", role)

    gen_date = utc(m.generation_time).date().isoformat()
    stem = m.product_uri.removesuffix(".SAFE")
    text(root, "fileIdentifier", stem)
    code(root, "language", "LanguageCode", "eng", _LANGUAGE_CODES)
    code(root, "characterSet", "MD_CharacterSetCode", "utf8")
    code(root, "hierarchyLevel", "MD_ScopeCode", "dataset")
    party(root, "contact", "pointOfContact")
    _sub(_sub(root, f"{D}dateStamp"), f"{C}Date", gen_date)
    text(root, "metadataStandardName", "ISO19115")
    text(root, "metadataStandardVersion", "2003/Cor.1:2006")
    rs = _sub(_sub(_sub(_sub(root, f"{D}referenceSystemInfo"), f"{D}MD_ReferenceSystem"),
                   f"{D}referenceSystemIdentifier"), f"{D}RS_Identifier")
    text(rs, "code", f"http://www.opengis.net/def/crs/EPSG/0/{m.epsg}")
    text(rs, "codeSpace", "EPSG")

    di = _sub(_sub(root, f"{D}identificationInfo"), f"{D}MD_DataIdentification")
    citation(di, "citation", m.product_uri, gen_date, "creation",
             ((stem, "Sentinel-2 user product name"), (m.datatake_id, "Sentinel-2 datatake identifier")))
    text(di, "abstract", _ring_text(m.footprint_latlon).strip())
    party(di, "pointOfContact", "processor")
    for title, date, words in _THESAURI:
        kw = _sub(_sub(di, f"{D}descriptiveKeywords"), f"{D}MD_Keywords")
        for w in words:
            text(kw, "keyword", w)
        citation(kw, "thesaurusName", title, date, "publication")
    res = _sub(_sub(_sub(di, f"{D}spatialResolution"), f"{D}MD_Resolution"), f"{D}distance")
    _sub(res, f"{C}Distance", m.resolution_m, uom="m")
    code(di, "language", "LanguageCode", "eng", _LANGUAGE_CODES)
    _sub(_sub(di, f"{D}topicCategory"), f"{D}MD_TopicCategoryCode", "imageryBaseMapsEarthCover")
    ex = _sub(_sub(di, f"{D}extent"), f"{D}EX_Extent")
    bb = _sub(_sub(ex, f"{D}geographicElement"), f"{D}EX_GeographicBoundingBox")
    for tag, value in zip(("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude"),
                          _bounding_box(m.footprint_latlon)):
        _sub(_sub(bb, f"{D}{tag}"), f"{C}Decimal", f"{value:.9f}")
    tp = _sub(_sub(_sub(_sub(ex, f"{D}temporalElement"), f"{D}EX_TemporalExtent"), f"{D}extent"),
              f"{G}TimePeriod", **{f"{G}id": f"sensing_{utc(m.sensing_start):{FMT}}"})
    _sub(tp, f"{G}beginPosition", _t(m.sensing_start))
    _sub(tp, f"{G}endPosition", _t(m.sensing_stop))

    fmt = _sub(_sub(_sub(_sub(root, f"{D}distributionInfo"), f"{D}MD_Distribution"), f"{D}distributionFormat"),
               f"{D}MD_Format")
    text(fmt, "name", "SENTINEL-SAFE")
    text(fmt, "version", "1.1")
    dq = _sub(_sub(root, f"{D}dataQualityInfo"), f"{D}DQ_DataQuality")
    code(_sub(_sub(dq, f"{D}scope"), f"{D}DQ_Scope"), "level", "MD_ScopeCode", "dataset")
    cr = _sub(_sub(_sub(_sub(dq, f"{D}report"), f"{D}DQ_DomainConsistency"), f"{D}result"), f"{D}DQ_ConformanceResult")
    citation(cr, "specification", *_INSPIRE_REGULATION, "publication")
    text(cr, "explanation", "Conformity not evaluated")
    _sub(cr, f"{D}pass", **{f"{C}nilReason": "unknown"})
    text(_sub(_sub(dq, f"{D}lineage"), f"{D}LI_Lineage"), "statement",
         f"Level-1C processing (baseline {m.processing_baseline}) at {m.processing_centre} of the Level-0 "
         f"datastrip {m.source_datastrip}")
    return root


# ----------------------------------------------------------------------------------- manifest
def manifest_xml(m: Manifest) -> etree._Element:
    """The manifest.safe tree of ``m`` (XFDU as in real L1C products; SHA3-256 checksums)."""
    X = f"{{{NS_XFDU}}}"
    S = f"{{{NS_SAFE}}}"
    root = etree.Element(f"{X}XFDU", nsmap={"xfdu": NS_XFDU, "safe": NS_SAFE, "gml": NS_GML},
                         version="esa/safe/sentinel/1.1/sentinel-2/msi/archive_l1c_user_product")
    ipm = _sub(root, "informationPackageMap")
    top = _sub(ipm, f"{X}contentUnit", ID="S2_Level-1C_Product", unitType="Product_Level-1C",
               textInfo="SENTINEL-2 MSI Level-1C User Product", dmdID="acquisitionPeriod platform",
               pdiID="processing")
    for obj in m.objects:
        cu = _sub(top, f"{X}contentUnit", ID=f"{obj.id}_Unit", unitType=_unit_type(obj))
        _sub(cu, "dataObjectPointer", dataObjectID=obj.id)
    ms = _sub(root, "metadataSection")

    def wrap(id_, category, text, classification="DESCRIPTION"):
        mo = _sub(ms, "metadataObject", ID=id_, classification=classification, category=category)
        return _sub(_sub(mo, "metadataWrap", mimeType="text/xml", vocabularyName="SAFE", textInfo=text),
                    "xmlData")

    ap = _sub(wrap("acquisitionPeriod", "DMD", "Acquisition Period"), f"{S}acquisitionPeriod")
    _sub(ap, f"{S}startTime", _t(m.start_time, 6))
    orb = _sub(wrap("measurementOrbitReference", "DMD", "Orbit Reference"), f"{S}orbitReference")
    _sub(orb, f"{S}orbitNumber", m.absolute_orbit, groundTrackDirection=m.orbit_direction.lower(), type="start")
    _sub(orb, f"{S}relativeOrbitNumber", m.relative_orbit, type="start")
    pf = _sub(wrap("platform", "DMD", "Platform Description"), f"{S}platform")
    _sub(pf, f"{S}nssdcIdentifier", NSSDC[m.mission])
    _sub(pf, f"{S}familyName", "SENTINEL")
    _sub(pf, f"{S}number", m.mission[1:])
    ins = _sub(pf, f"{S}instrument")
    _sub(ins, f"{S}familyName", "Multi-Spectral Instrument", abbreviation="MSI")
    pr = _sub(wrap("processing", "PDI", "Processing", "PROVENANCE"), f"{S}processing",
              name="Level-1C Processing", start=_t(m.generation_time, 6), stop=_t(m.generation_time, 6))
    _sub(pr, f"{S}facility", name=m.processing_centre, organisation="s2ipf")
    fs = _sub(wrap("measurementFrameSet", "DMD", "Frame Set"), f"{S}frameSet")
    fp = _sub(_sub(fs, f"{S}frame"), f"{S}footPrint", srsName="http://www.opengis.net/gml/srs/epsg.xml#4326")
    _sub(fp, f"{{{NS_GML}}}coordinates", _ring_text(m.footprint_latlon).strip())
    dos = _sub(root, "dataObjectSection")
    for obj in m.objects:
        do = _sub(dos, "dataObject", ID=obj.id)
        bs = _sub(do, "byteStream", mimeType=obj.mime_type, size=obj.size)
        _sub(bs, "fileLocation", locatorType="URL", href=f"./{obj.href}")
        _sub(bs, "checksum", obj.sha3_256, checksumName="SHA3-256")
    return root


def _unit_type(obj: ManifestObject) -> str:
    if obj.id.endswith("_Metadata"):
        return "Metadata_Unit"
    if obj.id.startswith(("IMG_DATA", "Preview")):
        return "Measurement_Data_Unit"
    return "Data_Unit"


def sha3_256(path: Path) -> str:
    """SHA3-256 hex digest (lower case) of a file, read in 1 MiB blocks."""
    h = hashlib.sha3_256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_MIME = {".xml": "text/xml", ".jp2": "application/octet-stream", ".safe": "text/xml"}


def _object_id(rel: str, tile_n: int = 1) -> str:
    """dataObject ID of a file of the product, as in real manifests."""
    name = Path(rel).name
    if rel == PRODUCT_MTD:
        return "S2_Level-1C_Product_Metadata"
    if rel == INSPIRE_MTD:
        return "INSPIRE_Metadata"
    if name == DATASTRIP_MTD:
        return "S2_Level-1C_Datastrip1_Metadata"
    if name == TILE_MTD:
        return f"S2_Level-1C_Tile{tile_n}_Metadata"
    m = re.search(r"_(B\d\d|B8A|TCI|PVI)\.jp2$", name)
    if m and "/IMG_DATA/" in rel:
        band = m.group(1)
        if band == "TCI":
            return f"IMG_DATA_Band_TCI_Tile{tile_n}_Data"
        return f"IMG_DATA_Band_{_band_slot(band)}_Tile{tile_n}_Data"
    if m and m.group(1) == "PVI":
        return f"Preview_0_Tile{tile_n}_Data"
    mask = parse_mask_file_name(name)
    if mask:
        kind = {"DETFOO": "DetectorFootprintMask", "QUALIT": "QualitPixelsMask",
                "CLASSI": "ClassiPixelsMask"}[mask[0]]
        if mask[0] == "CLASSI":
            return f"{kind}_Band_00m_0_Tile{tile_n}_Data"
        return f"{kind}_Band_{_band_slot(mask[1])}_Tile{tile_n}_Data"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", rel)


def _band_slot(band: str) -> str:
    """``10m_2`` for B03: the band's rank among the bands of its resolution (real manifests)."""
    res = BY_NAME[band].resolution_m
    same = [b.name for b in BANDS if b.resolution_m == res]
    return f"{res}m_{same.index(band) + 1}"


def manifest_objects(safe_dir: Path) -> list[ManifestObject]:
    """One :class:`ManifestObject` per file of ``safe_dir`` (all but manifest.safe and hidden files),
    MTD_MSIL1C.xml first, then by path."""
    objects = []
    files = [p for p in Path(safe_dir).rglob("*") if p.is_file()]
    for path in sorted(files, key=lambda p: (p.name != PRODUCT_MTD, p.relative_to(safe_dir).as_posix())):
        rel = path.relative_to(safe_dir).as_posix()
        if rel == MANIFEST or path.name.startswith("."):
            continue
        objects.append(ManifestObject(id=_object_id(rel), href=rel,
                                      mime_type=_MIME.get(path.suffix.lower(), "application/octet-stream"),
                                      size=path.stat().st_size, sha3_256=sha3_256(path)))
    ids = [o.id for o in objects]
    if len(set(ids)) != len(ids):
        raise InputError(f"files with the same manifest ID {sorted({i for i in ids if ids.count(i) > 1})}",
                         source=safe_dir, element=MANIFEST)
    return objects


# ----------------------------------------------------------------------------------- writing
def schema_for(root: etree._Element) -> str:
    """The XSD (relative to ``ipf/schemas/``) of an XML tree of this product, by its root."""
    local = etree.QName(root).localname
    try:
        return SCHEMAS[local]
    except KeyError:
        raise ValueError(f"no schema for root element <{local}>") from None


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_validated(root: etree._Element, path: Path, *, code: ExitCode = ExitCode.XML_ERROR) -> Path:
    """Write ``root`` to a temporary file beside ``path``, fsync it, parse it back and validate it
    against its XSD (:func:`schema_for`), then rename it to ``path``; an
    :class:`~ipf.interface.errors.OutputError` (exit code ``code``) naming the file and element
    otherwise (``path`` untouched)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, fsync=True) as tmp:
        tmp.write_bytes(serialize(root))
        tree = xmlio.parse(tmp, error=OutputError, code=code)
        xmlio.validate(tree, schema_for(tree.getroot()), source=path, error=OutputError, code=code)
    return path


# ----------------------------------------------------------------------------------- assembly
class ProductInputs(BaseModel):
    """What :func:`assemble_safe` builds a product from (values, no store objects)."""

    tile: L1CTile
    """The L1C tile's entry (TILE_FINALIZE)."""
    source_datastrip: str
    """Identifier of the L0 datastrip the L1B product was made from."""
    packet_quality: list[PacketQuality] = []
    """The L1B datastrip's packet quality per granule and band (FORMAT_ISP)."""
    geometry: RefinedGeometry | None = None
    """The L1B refined geometry (GEO1B_FINALIZE), ``None`` when the product has none."""
    angles: dict[str, list[list[float]]] = {}
    """Angle grids by store name (``sun_zenith``, ``view_zenith_B02_D06`` ...), 23 × 23 degrees."""
    footprint_latlon: list[tuple[float, float]]
    """Valid-data footprint (lat, lon) of the tile, closed ring."""
    processing_centre: str = "S2IP"


def assemble_safe(dest: Path, name: str, inputs: ProductInputs, img_dir: Path,
                  tci_dir: Path | None = None) -> Path:
    """Build the SAFE product ``name`` in the (empty or new) folder ``dest``.

    ``img_dir`` holds ``IMG_DATA/T<tile>_<time>_<band>.jp2`` and ``QI_DATA/MSK_*.jp2``
    (FORMAT_IMG_L1C), ``tci_dir`` ``T<tile>_<time>_TCI.jp2`` and ``QI_DATA/T<tile>_<time>_PVI.jp2``
    (FORMAT_IMG_PVI_TCI); the JPEG2000 files are hard linked (copied across devices) under the
    product's own names. Every XML is validated before it is renamed into place, manifest.safe is
    written last. :class:`~ipf.interface.errors.InputError` when ``name`` is not a compact L1C
    name that agrees with the tile (mission, tile, baseline, datatake start) or a band file is
    missing.
    """
    dest = Path(dest)
    try:
        n = parse_safe_name(name)
    except ValueError as exc:
        raise InputError(str(exc), source=dest) from None
    t = inputs.tile
    mission = mission_of(t.spacecraft)
    start, stop, mid = utc(t.sensing_start), utc(t.sensing_stop), utc(t.sensing_mid)
    baseline = t.processing_baseline
    start_s = start.replace(microsecond=0, tzinfo=None)
    for what, got, want in (("mission", n.mission, mission), ("tile", n.tile, t.name),
                            ("processing baseline", n.baseline, baseline),
                            ("datatake start", n.datatake_start, start_s)):
        if got != want:
            raise InputError(f"product name {name}: {what} {got} but the tile's is {want}", source=dest)
    gen = n.discriminator.replace(tzinfo=timezone.utc)
    lat_c = sum(p[0] for p in inputs.footprint_latlon) / max(len(inputs.footprint_latlon), 1)
    abs_orbit = absolute_orbit(mission, start, lat_c)
    centre = _centre(inputs.processing_centre)
    granule = granule_name(t.name, abs_orbit, start_s)
    ds_folder = datastrip_folder(centre, gen, start_s)
    ds_id = datastrip_id(mission, centre, gen, start_s, baseline)
    tl_id = tile_id(mission, centre, gen, abs_orbit, t.name, baseline)
    dt_id = datatake_id(mission, start_s, abs_orbit, baseline)
    bands_present = sorted(t.bands, key=lambda b: BY_NAME[b].index)
    spectral = [SpectralBand.of(b, t.bands[b].solar_irradiance, t.radio_add_offset)
                for b in bands_present]

    dest.mkdir(parents=True, exist_ok=True)
    gdir = dest / "GRANULE" / granule
    for sub in (dest / "AUX_DATA", dest / "DATASTRIP" / ds_folder, gdir / "AUX_DATA", gdir / "IMG_DATA",
                gdir / "QI_DATA"):
        sub.mkdir(parents=True, exist_ok=True)

    image_files, masks = [], []
    for band in bands_present:
        stem = band_file_stem(t.name, start_s, band)
        link_or_copy(_find(Path(img_dir) / "IMG_DATA", f"*_{band}.jp2"), gdir / "IMG_DATA" / f"{stem}.jp2")
        image_files.append(f"GRANULE/{granule}/IMG_DATA/{stem}")
        for kind in ("DETFOO", "QUALIT"):
            mask = mask_file_name(kind, band)
            link_or_copy(_find(Path(img_dir) / "QI_DATA", mask), gdir / "QI_DATA" / mask)
            masks.append(MaskFile(type=f"MSK_{kind}", band_id=BY_NAME[band].index,
                                  path=f"GRANULE/{granule}/QI_DATA/{mask}"))
    classi = mask_file_name("CLASSI")
    link_or_copy(_find(Path(img_dir) / "QI_DATA", classi), gdir / "QI_DATA" / classi)
    masks.append(MaskFile(type="MSK_CLASSI", path=f"GRANULE/{granule}/QI_DATA/{classi}"))
    pvi = None
    if tci_dir is not None:
        tci = sorted(Path(tci_dir).glob("*_TCI.jp2"))
        if tci:
            stem = band_file_stem(t.name, start_s, "TCI")
            link_or_copy(tci[0], gdir / "IMG_DATA" / f"{stem}.jp2")
            image_files.append(f"GRANULE/{granule}/IMG_DATA/{stem}")
        pv = sorted((Path(tci_dir) / "QI_DATA").glob("*_PVI.jp2"))
        if pv:
            pvi = f"GRANULE/{granule}/QI_DATA/{band_file_stem(t.name, start_s, 'PVI')}.jp2"
            link_or_copy(pv[0], dest / pvi)

    quality = _detector_quality(inputs.packet_quality)
    lines = sum(q.lines for q in quality)
    degraded = 100.0 * sum(q.invalid_lines for q in quality) / lines if lines else 0.0
    sat_def = [b.saturated_fraction + b.defective_fraction for b in t.bands.values()]
    tile_md = TileMetadata(
        tile_id=tl_id, datastrip_id=ds_id, sensing_time=mid, archiving_centre=centre, archiving_time=gen,
        epsg=t.epsg, cs_name=_cs_name(t.epsg),
        geocoding=[Geocoding(resolution=r, nrows=TILE_SIZE_M // r, ncols=TILE_SIZE_M // r, ulx=t.ulx, uly=t.uly)
                   for r in (10, 20, 60)],
        sun=_grid(inputs.angles, "sun_zenith", "sun_azimuth"),
        mean_sun=_mean(t.mean_angles.get("sun")),
        viewing=[ViewingGrid(band_id=BY_NAME[b].index, detector=d,
                             grid=_grid(inputs.angles, f"view_zenith_{b}_D{d:02d}", f"view_azimuth_{b}_D{d:02d}"))
                 for b in bands_present for d in range(1, 13)
                 if f"view_zenith_{b}_D{d:02d}" in inputs.angles],
        mean_viewing={BY_NAME[b].index: _mean(v) for b, v in t.mean_angles.items() if b in BY_NAME},
        cloudy_pixel_percentage=100.0 * t.cloud_cover, snow_pixel_percentage=100.0 * t.snow_cover,
        degraded_msi_data_percentage=degraded, nodata_pixel_percentage=100.0 * (1.0 - t.coverage),
        saturated_defective_pixel_percentage=100.0 * max(sat_def, default=0.0), masks=masks,
        pvi_filename=pvi)
    write_validated(tile_xml(tile_md), gdir / TILE_MTD)

    refining = _refining(inputs.geometry)
    if refining.refined and refining.reference_time is None:
        refining = refining.model_copy(update={"reference_time": mid})
    ds_md = DatastripMetadata(
        datastrip_id=ds_id, mission=mission, datatake_id=dt_id, datatake_start=start, relative_orbit=n.relative_orbit,
        datastrip_start=start, datastrip_stop=stop, processing_baseline=baseline, processing_centre=centre,
        generation_time=gen, archiving_centre=centre, archiving_time=gen,
        source_datastrip=inputs.source_datastrip,
        quantification_value=t.quantification_value, reflectance_conversion_u=t.reflectance_conversion_u,
        bands=spectral, refining=refining, quality=quality, degraded_msi_data_percentage=degraded)
    write_validated(datastrip_xml(ds_md), dest / "DATASTRIP" / ds_folder / DATASTRIP_MTD)

    product_md = ProductMetadata(
        product_uri=name, mission=mission, product_start=start, product_stop=start, generation_time=gen,
        processing_baseline=baseline, datatake_id=dt_id, datatake_start=start, relative_orbit=n.relative_orbit,
        datastrip_id=ds_id, granule_id=tl_id, image_files=image_files,
        quantification_value=t.quantification_value, nodata_value=t.nodata_value,
        saturated_value=t.saturated_value, reflectance_conversion_u=t.reflectance_conversion_u,
        bands=spectral, footprint_latlon=inputs.footprint_latlon,
        cloud_coverage=100.0 * t.cloud_cover, snow_coverage=100.0 * t.snow_cover,
        degraded_msi_data_percentage=degraded)
    write_validated(product_xml(product_md), dest / PRODUCT_MTD)
    write_validated(inspire_xml(InspireMetadata(
        product_uri=name, datatake_id=dt_id, generation_time=gen, sensing_start=start, sensing_stop=stop,
        footprint_latlon=inputs.footprint_latlon, epsg=t.epsg,
        resolution_m=min(BY_NAME[b].resolution_m for b in bands_present),
        processing_centre=centre, processing_baseline=baseline, source_datastrip=inputs.source_datastrip)),
        dest / INSPIRE_MTD)

    manifest = Manifest(mission=mission, start_time=start, absolute_orbit=abs_orbit,
                        relative_orbit=n.relative_orbit, footprint_latlon=inputs.footprint_latlon,
                        generation_time=gen, processing_centre=centre, objects=manifest_objects(dest))
    write_validated(manifest_xml(manifest), dest / MANIFEST)
    return dest


def _find(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise InputError(f"expected one {pattern}, found {len(found)}", source=folder)
    return found[0]


def _grid(angles: dict, zenith: str, azimuth: str) -> AngleGrid | None:
    if zenith not in angles or azimuth not in angles:
        return None
    return AngleGrid(zenith=angles[zenith], azimuth=angles[azimuth])


def _mean(v: MeanAngles | None) -> tuple[float, float] | None:
    return None if v is None else (v.zenith, v.azimuth)


def _refining(g: RefinedGeometry | None) -> Refining:
    """The refining block of MTD_DS of the L1B refined geometry (not refined when ``None``)."""
    if g is None:
        return Refining(refined=False, reference_band=None, reference_time=None, bias_rad=None, drift_rad_s=None,
                        tie_points=0, before=None, after=None)
    res, c = g.residuals or {}, g.attitude_correction
    return Refining(
        refined=g.refined, reference_band=g.image_band, reference_time=g.reference_time,
        bias_rad=tuple(c.bias_rad) if c else None, drift_rad_s=tuple(c.drift_rad_s) if c else None,
        tie_points=g.tie_points, before=Residuals(**res["before"]) if res.get("before") else None,
        after=Residuals(**res["after"]) if res.get("after") else None)


def _cs_name(epsg: int) -> str:
    """``WGS84 / UTM zone 31N`` of EPSG 32631 (326zz north, 327zz south); InputError (the tile
    entry's ``epsg``) for another code."""
    if 32601 <= epsg <= 32660:
        return f"WGS84 / UTM zone {epsg - 32600}N"
    if 32701 <= epsg <= 32760:
        return f"WGS84 / UTM zone {epsg - 32700}S"
    raise InputError(f"the tile's EPSG:{epsg} is not a WGS84 / UTM zone", element="__tile__/epsg")


def _detector_quality(quality: list[PacketQuality]) -> list[DetectorQuality]:
    """Per (band, detector) totals over the granules of the L1B datastrip's packet quality."""
    acc: dict[tuple[int, int], dict[str, int]] = {}
    for q in quality:
        if q.band not in BY_NAME:
            continue
        key = (BY_NAME[q.band].index, q.detector)
        a = acc.setdefault(key, dict(lines=0, invalid_lines=0, packets=0, lost_packets=0, crc_errors=0))
        a["lines"] += q.lines
        a["invalid_lines"] += q.invalid_lines
        a["packets"] += q.n_packets
        a["lost_packets"] += q.lost_packets
        a["crc_errors"] += q.crc_errors
    return [DetectorQuality(band_id=b, detector=d, **v) for (b, d), v in sorted(acc.items())]
