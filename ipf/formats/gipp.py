"""Ground Image Processing Parameter (GIPP) files of the Earth Explorer family: pydantic models
<-> validated XML.

Every GIPP here follows the S2 PDGS GIPP conventions: an Earth Explorer header
``<Earth_Explorer_Header xmlns="http://eop-cfi.esa.int/S2/S2_SCHEMAS">`` whose ``Fixed_Header``
holds, in this order, File_Name, File_Description, Notes, Mission (``Sentinel-2A``), File_Class,
File_Type, File_Version, Validity_Period (Validity_Start, Validity_Stop), Source (System, Creator,
Creator_Version, Creation_Date), then an empty ``Variable_Header``; and a data block generated
from a pydantic model (:class:`GippData` subclasses below). Processing code only sees the models.

Two forms, chosen per file type (``GippData.SPLIT``):

- **single XML** ``<stem>.xml``: ``<Earth_Explorer_File>`` holding the header and
  ``<Data_Block type="xml">``. Used by every small parameter file: GIP_R2ABCA, GIP_R2DECT,
  GIP_R2DENT, GIP_R2DEPI, GIP_R2CRCO, GIP_R2BINN, GIP_JP2KPA, GIP_OLQCPA. (GIP_VIEDIR, GIP_SPAMOD
  and GIP_BLINDP are of the GS2 family: :mod:`ipf.formats.gipp_gs2`.)
- **header + data block pair** ``<stem>.HDR`` + ``<stem>.DBL``, as the real GIPPs (GIP_ATMIMA,
  GIP_DATATI, GIP_SPAMOD ...) come: the ``.HDR`` is the header alone, the ``.DBL`` has the
  ``<Data_Block type="xml">`` as root. Used by GIP_R2EQOG, whose per-pixel data block is large
  (~0.5 MB a band): choosing among versions (:func:`select_gipp`) reads only the small headers.

:func:`read_gipp` accepts either form and any of ``.xml``, ``.HDR`` or ``.DBL`` (the other file
of a pair is the one beside it with the same stem); the header's File_Type must be the expected
one (else a :class:`~ipf.interface.errors.FormatError` naming that element).

Mapping rules (one function, :func:`xsd_for`, generates the XSD from the model so that the
schema and the serialiser cannot drift; ``tests/simulator`` checks the committed XSDs are current;
the header has its own schema, ``EE_Header.xsd``, in the header namespace):

- a field ``relative_gain`` is an element ``Relative_Gain``; int/float/str/bool are xs:integer,
  xs:double, xs:string, xs:boolean; ``Literal[...]`` is an enumeration; ``list[float]`` is a
  space-separated xs:list; a nested model is a complex element; ``list[Model]`` is a wrapper
  element with a ``count`` attribute holding one element per item (named ``Model.XML_NAME``);
  an optional field may be absent.
- **per-pixel arrays** (``numpy.ndarray`` fields, float32 (rows, pixels): relative gains, dark
  signal) are written inline as the real GS2 GIPPs write per-pixel values (e.g. the
  TAN_PSI_X_LIST of GIP_VIEDIR): one ``<Values detector_id="01">`` element per row holding the
  space-separated values, the row ids taken from the field ``ROWS`` names (``detectors``). Each
  value is the shortest decimal that reads back to the same float32, so the arrays read back
  bit-identical; a row parses with one ``np.array(text.split(), np.float32)``.

Files are written to a temporary name in the target folder, validated with xmlschema, then
renamed into place; of a pair, the ``.DBL`` is written before the ``.HDR``.

File names follow the S2 convention
``S2A_OPER_GIP_R2EQOG_MPC__<creation>_V<validity start>_<validity stop>_B02.<ext>`` where the
last field is the band (``B00`` for band-independent GIPPs; GIP_R2EQOG, GIP_R2DECT and GIP_R2DENT
are band dependent, as in the S2 auxiliary-file catalogue). As in the real IPF,
a Job Order may list several versions of a GIPP type: :func:`select_gipp` keeps, among those whose
validity period covers the datastrip sensing period, the one created last (then the highest
File_Version).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from ipf.formats.missions import MISSIONS, SPACECRAFTS
from ipf.interface import xmlio
from ipf.interface.errors import FormatError, InputError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_path

__all__ = ["SCHEMA_DIR", "HEADER_NS", "HEADER_SCHEMA", "FILE_CLASS", "SITE", "DEFAULT_VALIDITY_START",
           "DEFAULT_VALIDITY_STOP", "NDArray", "GippModel", "GippData", "AbsoluteCalibrationBand",
           "GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "DefectivePixel", "GIP_R2DEPI",
           "Coupling", "GIP_R2CRCO", "Binning", "GIP_R2BINN", "GIP_JP2KPA", "QualityCheck", "GIP_OLQCPA", "GIPP_TYPES",
           "GippHeader", "xml_name", "mission_name", "gipp_file_name", "xsd_for", "header_xsd",
           "schema_path", "write_schemas", "write_gipp", "read_header", "read_gipp",
           "select_gipp", "select_band_gipps", "select_among", "gipp_files", "find_gipp"]

SCHEMA_DIR = Path(str(resources.files("ipf") / "schemas" / "gipp"))
HEADER_NS = "http://eop-cfi.esa.int/S2/S2_SCHEMAS"
HEADER_SCHEMA = "EE_Header.xsd"
FILE_CLASS = "OPER"
SITE = "MPC_"
DEFAULT_VALIDITY_START = datetime(2023, 1, 1)
DEFAULT_VALIDITY_STOP = datetime(2100, 1, 1)

NDArray = Annotated[np.ndarray, PlainValidator(np.asarray)]


class GippModel(BaseModel):
    """Base of every model serialised in a GIPP data block."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", frozen=True)
    XML_NAME: ClassVar[str] = ""


class GippData(GippModel):
    """Base of a GIPP data block; subclasses set FILE_TYPE and DESCRIPTION. ``SPLIT``: written as
    a ``.HDR`` + ``.DBL`` pair (else a single ``.xml``); ``ROWS``: the field holding the detector
    ids of the rows of the per-pixel array fields."""

    FILE_TYPE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    BAND_DEPENDENT: ClassVar[bool] = False
    SPLIT: ClassVar[bool] = False
    ROWS: ClassVar[str] = ""


# --------------------------------------------------------------------------- models
class AbsoluteCalibrationBand(GippModel):
    """Absolute calibration of one band."""

    XML_NAME: ClassVar[str] = "Band_Calibration"
    band: str
    absolute_gain: float = Field(gt=0, description="A, DN per W m-2 sr-1 um-1: DN = A * g * L + dark")
    solar_irradiance: float = Field(gt=0, description="E0, W m-2 um-1 at 1 AU")


class GIP_R2ABCA(GippData):
    """Absolute calibration: DN = A * g(pixel) * L + dark(pixel) (L radiance W m-2 sr-1 um-1)."""

    FILE_TYPE: ClassVar[str] = "GIP_R2ABCA"
    DESCRIPTION: ClassVar[str] = "Absolute radiometric calibration coefficients and solar irradiance"
    bands: list[AbsoluteCalibrationBand]
    quantification_value: int = Field(10000, gt=0, description="L1C reflectance scale: DN = rho * value")
    reflectance_offset: int = Field(0, description="L1C DN offset (BOA_ADD_OFFSET-like)")


class GIP_R2EQOG(GippData):
    """Relative gains and dark signal of every pixel of one band (equalisation)."""

    FILE_TYPE: ClassVar[str] = "GIP_R2EQOG"
    DESCRIPTION: ClassVar[str] = "Relative gains and dark signal per detector pixel"
    BAND_DEPENDENT: ClassVar[bool] = True
    SPLIT: ClassVar[bool] = True
    ROWS: ClassVar[str] = "detectors"
    band: str
    detectors: list[int] = Field(description="detector ids (1..12), rows of the arrays")
    relative_gain: NDArray = Field(description="g, unitless, float32 (n_detectors, n_pixels)")
    dark_signal: NDArray = Field(description="dark, DN, float32 (n_detectors, n_pixels)")


class GIP_R2DECT(GippData):
    """Instrument MTF and deconvolution parameters of one band."""

    FILE_TYPE: ClassVar[str] = "GIP_R2DECT"
    DESCRIPTION: ClassVar[str] = "MTF model and deconvolution filter parameters"
    BAND_DEPENDENT: ClassVar[bool] = True
    band: str
    psf_model: Literal["gaussian"] = "gaussian"
    mtf_nyquist_across: float = Field(gt=0, lt=1, description="MTF at Nyquist across track, 0..1")
    mtf_nyquist_along: float = Field(gt=0, lt=1, description="MTF at Nyquist along track, 0..1")
    deconvolution: bool = Field(description="apply a deconvolution in L1B")
    target_mtf_nyquist: float = Field(gt=0, lt=1, description="MTF at Nyquist after deconvolution, 0..1")
    filter_half_size: int = Field(ge=1, description="half size of the deconvolution kernel, pixels")


class GIP_R2DENT(GippData):
    """Noise model and denoising parameters of one band."""

    FILE_TYPE: ClassVar[str] = "GIP_R2DENT"
    DESCRIPTION: ClassVar[str] = "Noise model (photon + read noise) and denoising parameters"
    BAND_DEPENDENT: ClassVar[bool] = True
    band: str
    electrons_per_dn: float = Field(gt=0, description="conversion gain, e- per DN (photon noise)")
    read_noise_dn: float = Field(ge=0, description="read noise standard deviation, DN")
    denoising: bool
    wavelet_levels: int = Field(ge=1)
    threshold_factor: float = Field(ge=0, description="soft threshold in units of the noise sigma")


class DefectivePixel(GippModel):
    """A dead (no response) or hot (added dark signal) pixel."""

    XML_NAME: ClassVar[str] = "Defective_Pixel"
    band: str
    detector: int
    pixel: int
    kind: Literal["dead", "hot"]
    value: float = Field(description="dead: residual response gain; hot: extra dark, DN")


class GIP_R2DEPI(GippData):
    """Defective pixels."""

    FILE_TYPE: ClassVar[str] = "GIP_R2DEPI"
    DESCRIPTION: ClassVar[str] = "List of defective (dead and hot) pixels"
    pixels: list[DefectivePixel]


class Coupling(GippModel):
    """Spectral (optical) crosstalk: L_meas(target) = L(target) + coefficient * L(source)."""

    XML_NAME: ClassVar[str] = "Coupling"
    target: str
    source: str
    coefficient: float


class GIP_R2CRCO(GippData):
    """Inter-band crosstalk coefficients (same ground point, target band PSF)."""

    FILE_TYPE: ClassVar[str] = "GIP_R2CRCO"
    DESCRIPTION: ClassVar[str] = "Inter-band crosstalk coefficients"
    couplings: list[Coupling]


class Binning(GippModel):
    """On-board binning of one band."""

    XML_NAME: ClassVar[str] = "Band_Binning"
    band: str
    element_pitch_across_m: float = Field(gt=0, description="physical detector element pitch, m on ground")
    across: int = Field(ge=1, description="elements summed across track")
    along: int = Field(ge=1, description="lines summed along track")


class GIP_R2BINN(GippData):
    """On-board binning factors (60 m bands: 3 x 20 m elements across track)."""

    FILE_TYPE: ClassVar[str] = "GIP_R2BINN"
    DESCRIPTION: ClassVar[str] = "On-board binning factors per band"
    bands: list[Binning]


class GIP_JP2KPA(GippData):
    """JPEG 2000 encoding parameters of the L1C images.

    ``bypass``: the code-block coding style "selective arithmetic coding bypass" (lazy mode,
    ISO 15444-1 Table A.19): the lower bit-planes are written raw, still lossless with the
    reversible wavelet, about 25 % faster to encode with OpenJPEG. ``htj2k``: the
    High-Throughput block coder (ISO/IEC 15444-15) of OpenJPH instead, about 9 times faster,
    decoded by OpenJPEG ≥ 2.5 (hence GDAL); one quality layer, 64 × 64 code-blocks and RPCL
    progression only (:mod:`ipf.formats.jp2`)."""

    FILE_TYPE: ClassVar[str] = "GIP_JP2KPA"
    DESCRIPTION: ClassVar[str] = "JPEG 2000 encoding parameters of the L1C products"
    reversible: bool
    n_resolutions: int
    codeblock_size: int
    tile_size: int
    n_layers: int
    progression_order: Literal["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"]
    bypass: bool | None = None
    htj2k: bool | None = None


class QualityCheck(GippModel):
    """One on-line quality check: the value must not exceed ``threshold`` (nor fall below
    ``minimum`` when given), else the check ends in ``severity``; ``category`` is the product
    quality indicator (``Quality_Inspections/quality_check@checkType``) it counts for."""

    XML_NAME: ClassVar[str] = "Check"
    name: str
    level: Literal["L0", "L1A", "L1B", "L1C"]
    threshold: float
    unit: str
    severity: Literal["WARNING", "FAILED"]
    minimum: float | None = None
    category: Literal["FORMAT_CORRECTNESS", "GENERAL_QUALITY", "GEOMETRIC_QUALITY", "RADIOMETRIC_QUALITY",
                      "SENSOR_QUALITY"] | None = None


class GIP_OLQCPA(GippData):
    """On-line quality control parameters (XML here; a zip of XML in S2)."""

    FILE_TYPE: ClassVar[str] = "GIP_OLQCPA"
    DESCRIPTION: ClassVar[str] = "On-line quality control checks and thresholds"
    checks: list[QualityCheck]


GIPP_TYPES: dict[str, type[GippData]] = {c.FILE_TYPE: c for c in (
    GIP_R2ABCA, GIP_R2EQOG, GIP_R2DECT, GIP_R2DENT, GIP_R2DEPI, GIP_R2CRCO, GIP_R2BINN,
    GIP_JP2KPA, GIP_OLQCPA)}


# --------------------------------------------------------------------------- naming
_TIME = "%Y%m%dT%H%M%S"
_MISSIONS = dict(zip(MISSIONS, SPACECRAFTS, strict=True)) | {"S2_": "Sentinel-2"}
_BAND = re.compile(r"_(B\d[\dA])$")


def xml_name(field_name: str) -> str:
    """``relative_gain`` -> ``Relative_Gain``."""
    return "_".join(p[:1].upper() + p[1:] for p in field_name.split("_"))


def mission_name(mission: str) -> str:
    """Header Mission of a file-name mission code: ``S2A`` -> ``Sentinel-2A``, ``S2_`` -> ``Sentinel-2``."""
    try:
        return _MISSIONS[mission]
    except KeyError:
        raise ValueError(f"unknown mission {mission!r} (one of {', '.join(_MISSIONS)})") from None


def gipp_file_name(file_type: str, band: str = "B00", mission: str = "S2A",
                   validity_start: datetime = DEFAULT_VALIDITY_START,
                   validity_stop: datetime = DEFAULT_VALIDITY_STOP,
                   creation: datetime | None = None, suffix: str | None = None) -> str:
    """S2 GIPP file name; ``suffix`` ``.xml``, ``.HDR`` or ``.DBL`` (default: ``.HDR`` for the
    types written as a pair, else ``.xml``); ``creation`` defaults to ``validity_start``."""
    if suffix is None:
        cls = GIPP_TYPES.get(file_type)
        suffix = ".HDR" if cls is not None and cls.SPLIT else ".xml"
    creation = creation or validity_start
    return (f"{mission}_{FILE_CLASS}_{file_type}_{SITE}_{creation:{_TIME}}_V{validity_start:{_TIME}}_"
            f"{validity_stop:{_TIME}}_{band}{suffix}")


def _utc(t: datetime) -> str:
    return "UTC=" + _naive(t).strftime("%Y-%m-%dT%H:%M:%S")


def _naive(t: datetime) -> datetime:
    """``t`` as a naive UTC datetime (naive times are UTC)."""
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo is not None else t


# --------------------------------------------------------------------------- header
class GippHeader(BaseModel):
    """The Earth Explorer fixed header of a GIPP (times naive UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file_name: str
    file_description: str
    notes: str
    mission: str = Field(description="Sentinel-2, Sentinel-2A ...")
    file_class: str
    file_type: str
    file_version: str = Field(description="four digits, 0001 ...")
    validity_start: datetime
    validity_stop: datetime
    system: str
    creator: str
    creator_version: str
    creation_date: datetime

    @property
    def band(self) -> str:
        """Band of the file name's last field (``B00`` when it has none)."""
        m = _BAND.search(self.file_name)
        return m.group(1) if m else "B00"

    def covers(self, start: datetime, stop: datetime) -> bool:
        """True when the validity period holds ``start`` to ``stop`` (naive = UTC)."""
        return self.validity_start <= _naive(start) and _naive(stop) <= self.validity_stop


_FIXED = ("File_Name", "File_Description", "Notes", "Mission", "File_Class", "File_Type", "File_Version")
_SOURCE = ("System", "Creator", "Creator_Version", "Creation_Date")
_FILE_TYPE_PATH = "Earth_Explorer_Header/Fixed_Header/File_Type"


def _ns(tag: str) -> str:
    return f"{{{HEADER_NS}}}{tag}"


def _header_element(h: GippHeader, parent: etree._Element | None = None) -> etree._Element:
    el = (etree.Element(_ns("Earth_Explorer_Header"), nsmap={None: HEADER_NS}) if parent is None else
          etree.SubElement(parent, _ns("Earth_Explorer_Header"), nsmap={None: HEADER_NS}))
    fixed = etree.SubElement(el, _ns("Fixed_Header"))
    for tag in _FIXED:
        etree.SubElement(fixed, _ns(tag)).text = getattr(h, tag.lower())
    vp = etree.SubElement(fixed, _ns("Validity_Period"))
    etree.SubElement(vp, _ns("Validity_Start")).text = _utc(h.validity_start)
    etree.SubElement(vp, _ns("Validity_Stop")).text = _utc(h.validity_stop)
    src = etree.SubElement(fixed, _ns("Source"))
    for tag in _SOURCE:
        value = getattr(h, tag.lower())
        etree.SubElement(src, _ns(tag)).text = _utc(value) if isinstance(value, datetime) else value
    etree.SubElement(el, _ns("Variable_Header"))
    return el


def _header_of(el: etree._Element, source: Path) -> GippHeader:
    """The header model of a (schema-valid) ``Earth_Explorer_Header`` element."""
    fixed = el.find(_ns("Fixed_Header"))

    def text(parent: etree._Element, tag: str) -> str:
        return (parent.findtext(_ns(tag)) or "").strip()

    def time(parent: etree._Element, tag: str) -> datetime:
        try:
            return datetime.strptime(text(parent, tag).removeprefix("UTC="), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise FormatError(f"{text(parent, tag)!r} is not a UTC=YYYY-MM-DDThh:mm:ss time", source=source,
                              element=f"Earth_Explorer_Header/Fixed_Header/{etree.QName(parent).localname}/{tag}",
                              code=ExitCode.XML_ERROR) from None

    vp, src = fixed.find(_ns("Validity_Period")), fixed.find(_ns("Source"))
    return GippHeader(**{t.lower(): text(fixed, t) for t in _FIXED},
                      validity_start=time(vp, "Validity_Start"), validity_stop=time(vp, "Validity_Stop"),
                      **{t.lower(): text(src, t) for t in _SOURCE[:3]},
                      creation_date=time(src, "Creation_Date"))


# --------------------------------------------------------------------------- type analysis
def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner annotation, optional)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if annotation is np.ndarray:
        return "array"
    if origin is Literal:
        return "enum"
    if origin is list:
        (item,) = typing.get_args(annotation)
        return "models" if isinstance(item, type) and issubclass(item, GippModel) else "list"
    if isinstance(annotation, type) and issubclass(annotation, GippModel):
        return "model"
    return {int: "int", float: "float", str: "str", bool: "bool"}[annotation]


_XS = {"int": "xs:integer", "float": "xs:double", "str": "xs:string", "bool": "xs:boolean"}
_XS_LIST = {int: "IntegerList", float: "DoubleList", str: "StringList"}
_UTC_PATTERN = r"UTC=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"


# --------------------------------------------------------------------------- XSD generation
def header_xsd() -> str:
    """The XSD of the Earth Explorer GIPP header (namespace :data:`HEADER_NS`; deterministic text)."""
    types_ = {"Mission": "Mission", "File_Type": "FileType", "File_Version": "FileVersion",
              "Creation_Date": "UtcTime"}
    fixed = "\n".join(f'      <xs:element name="{t}" type="{types_.get(t, "xs:string")}"/>' for t in _FIXED)
    source = "\n".join(f'            <xs:element name="{t}" type="{types_.get(t, "xs:string")}"/>'
                       for t in _SOURCE)
    missions = "".join(f'<xs:enumeration value="{m}"/>' for m in sorted(set(_MISSIONS.values())))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Earth Explorer header of the S2 GIPPs (.HDR, or inside a single-XML GIPP). Generated by
     ipf.formats.gipp.header_xsd; do not edit. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{HEADER_NS}"
           targetNamespace="{HEADER_NS}" elementFormDefault="qualified">
  <xs:element name="Earth_Explorer_Header">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Fixed_Header" type="Fixed_Header_Type"/>
        <xs:element name="Variable_Header">
          <xs:complexType>
            <xs:sequence>
              <xs:any minOccurs="0" maxOccurs="unbounded" processContents="skip"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:complexType name="Fixed_Header_Type">
    <xs:sequence>
{fixed}
      <xs:element name="Validity_Period">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="Validity_Start" type="UtcTime"/>
            <xs:element name="Validity_Stop" type="UtcTime"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="Source">
        <xs:complexType>
          <xs:sequence>
{source}
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
  </xs:complexType>
  <xs:simpleType name="UtcTime">
    <xs:restriction base="xs:string"><xs:pattern value="\\s*{_UTC_PATTERN}\\s*"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Mission">
    <xs:restriction base="xs:string">{missions}</xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="FileType">
    <xs:restriction base="xs:string"><xs:pattern value="[A-Z0-9_]{{10}}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="FileVersion">
    <xs:restriction base="xs:string"><xs:pattern value="\\d{{1,4}}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"""


def xsd_for(cls: type[GippData]) -> str:
    """The XSD of the GIPP file type modelled by ``cls`` (deterministic text): the single-XML file
    ``Earth_Explorer_File`` and, as a second root, the ``Data_Block`` of a ``.DBL``."""
    complex_types: dict[str, str] = {}

    def model_type(m: type[GippModel], name: str) -> str:
        if name in complex_types:
            return name
        complex_types[name] = ""
        rows = [f'  <xs:complexType name="{name}">', "    <xs:sequence>"]
        for fname, f in m.model_fields.items():
            ann, optional = _unwrap(f.annotation)
            kind = _kind(ann)
            occurs = ' minOccurs="0"' if optional else ""
            el = xml_name(fname)
            doc = (f"<xs:annotation><xs:documentation>{f.description}</xs:documentation>"
                   "</xs:annotation>") if f.description else ""
            if kind in _XS:
                rows.append(f'      <xs:element name="{el}" type="{_XS[kind]}"{occurs}>{doc}</xs:element>')
            elif kind == "list":
                (item,) = typing.get_args(ann)
                rows.append(f'      <xs:element name="{el}" type="{_XS_LIST[item]}"{occurs}>{doc}</xs:element>')
            elif kind == "enum":
                values = "".join(f'<xs:enumeration value="{v}"/>' for v in typing.get_args(ann))
                rows.append(f'      <xs:element name="{el}"{occurs}>{doc}<xs:simpleType>'
                            f'<xs:restriction base="xs:string">{values}</xs:restriction>'
                            "</xs:simpleType></xs:element>")
            elif kind == "array":
                rows.append(f'      <xs:element name="{el}" type="PixelRows"{occurs}>{doc}</xs:element>')
            elif kind == "model":
                t = model_type(ann, ann.__name__ + "Type")
                rows.append(f'      <xs:element name="{el}" type="{t}"{occurs}>{doc}</xs:element>')
            else:
                (item,) = typing.get_args(ann)
                t = model_type(item, item.__name__ + "Type")
                rows.append(
                    f'      <xs:element name="{el}"{occurs}>{doc}<xs:complexType><xs:sequence>'
                    f'<xs:element name="{item.XML_NAME}" type="{t}" minOccurs="0" maxOccurs="unbounded"/>'
                    '</xs:sequence><xs:attribute name="count" type="xs:nonNegativeInteger" use="required"/>'
                    "</xs:complexType></xs:element>")
        rows += ["    </xs:sequence>", "  </xs:complexType>"]
        complex_types[name] = "\n".join(rows)
        return name

    model_type(cls, "Data_Block_Type")
    form = "a .HDR + .DBL pair" if cls.SPLIT else "a single XML"
    header = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- {cls.FILE_TYPE}: {cls.DESCRIPTION}; written as {form}. Generated by ipf.formats.gipp.xsd_for; do not edit. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:eeh="{HEADER_NS}" elementFormDefault="qualified">
  <xs:import namespace="{HEADER_NS}" schemaLocation="{HEADER_SCHEMA}"/>
  <xs:element name="Earth_Explorer_File">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="eeh:Earth_Explorer_Header"/>
        <xs:element ref="Data_Block"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="Data_Block">
    <xs:complexType>
      <xs:complexContent>
        <xs:extension base="Data_Block_Type">
          <xs:attribute name="type" type="xs:string" fixed="xml"/>
        </xs:extension>
      </xs:complexContent>
    </xs:complexType>
  </xs:element>
  <xs:simpleType name="DoubleList"><xs:list itemType="xs:double"/></xs:simpleType>
  <xs:simpleType name="IntegerList"><xs:list itemType="xs:integer"/></xs:simpleType>
  <xs:simpleType name="StringList"><xs:list itemType="xs:string"/></xs:simpleType>
  <xs:simpleType name="FloatList"><xs:list itemType="xs:float"/></xs:simpleType>
  <xs:complexType name="PixelRows">
    <xs:sequence>
      <xs:element name="Values" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType>
          <xs:simpleContent>
            <xs:extension base="FloatList">
              <xs:attribute name="detector_id" type="xs:string" use="required"/>
            </xs:extension>
          </xs:simpleContent>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
    <xs:attribute name="count" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="dtype" type="xs:string" fixed="float32"/>
  </xs:complexType>
"""
    body = "\n".join(complex_types[k] for k in sorted(complex_types))
    return header + body + "\n</xs:schema>\n"


def schema_path(file_type: str) -> Path:
    """Path of the XSD of a GIPP file type (or of ``EE_Header``)."""
    return SCHEMA_DIR / f"{file_type}.xsd"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)generate the header XSD and the XSD of every GIPP type into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    out = [directory / HEADER_SCHEMA]
    out[0].write_text(header_xsd(), encoding="utf-8")
    for t, cls in GIPP_TYPES.items():
        p = directory / f"{t}.xsd"
        p.write_text(xsd_for(cls), encoding="utf-8")
        out.append(p)
    return out


# --------------------------------------------------------------------------- writing
def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _fill(parent: etree._Element, model: GippModel) -> None:
    for fname, f in type(model).model_fields.items():
        value = getattr(model, fname)
        if value is None:
            continue
        ann, _ = _unwrap(f.annotation)
        kind = _kind(ann)
        el = etree.SubElement(parent, xml_name(fname))
        if kind in ("int", "float", "str", "bool", "enum"):
            el.text = _fmt(value)
        elif kind == "list":
            el.text = " ".join(_fmt(v) for v in value)
        elif kind == "array":
            _fill_rows(el, np.asarray(value), getattr(model, type(model).ROWS), xml_name(fname))
        elif kind == "model":
            _fill(el, value)
        else:
            el.set("count", str(len(value)))
            (item,) = typing.get_args(ann)
            for v in value:
                _fill(etree.SubElement(el, item.XML_NAME), v)


def _fill_rows(el: etree._Element, a: np.ndarray, ids: list[int], name: str) -> None:
    """One ``Values`` element per row of the float32 array ``a`` (shortest float32 decimals)."""
    if a.dtype != np.float32 or a.ndim != 2 or len(a) != len(ids):
        raise ValueError(f"{name}: a float32 (rows, pixels) array with one row per id of {ids} is "
                         f"needed, got {a.dtype} {a.shape}")
    el.set("count", str(len(a)))
    el.set("dtype", "float32")
    for row_id, row in zip(ids, a):
        etree.SubElement(el, "Values", detector_id=f"{row_id:02d}").text = " ".join(map(str, row))


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_validated(path: Path, root: etree._Element, schema_name: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(_xml_bytes(root))
        xmlio.schema(f"gipp/{schema_name}").validate(str(tmp))


def write_gipp(data: GippData, folder: Path | str, band: str = "B00", mission: str = "S2A",
               validity_start: datetime = DEFAULT_VALIDITY_START,
               validity_stop: datetime = DEFAULT_VALIDITY_STOP,
               creator: str = "s2ipf.simulator", creator_version: str = "0.1.0",
               creation: datetime | None = None, version: int = 1) -> Path:
    """Write ``data`` as a validated GIPP into ``folder``: a single ``.xml``, or a ``.DBL`` then its
    ``.HDR`` for the :attr:`GippData.SPLIT` types; returns the ``.xml`` or the ``.HDR``.
    ``creation`` (default ``validity_start``) is the Creation_Date and the file name's date."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    creation = _naive(creation or validity_start)
    name = gipp_file_name(data.FILE_TYPE, band, mission, validity_start, validity_stop, creation)
    stem = Path(name).stem
    header = GippHeader(file_name=stem, file_description=data.DESCRIPTION, notes="Simulated GIPP",
                        mission=mission_name(mission), file_class=FILE_CLASS, file_type=data.FILE_TYPE,
                        file_version=f"{version:04d}", validity_start=_naive(validity_start),
                        validity_stop=_naive(validity_stop), system="S2IPF", creator=creator,
                        creator_version=creator_version, creation_date=creation)
    block = etree.Element("Data_Block", type="xml")
    _fill(block, data)
    if not data.SPLIT:
        root = etree.Element("Earth_Explorer_File")
        _header_element(header, root)
        root.append(block)
        _write_validated(folder / name, root, f"{data.FILE_TYPE}.xsd")
        return folder / name
    _write_validated(folder / f"{stem}.DBL", block, f"{data.FILE_TYPE}.xsd")
    _write_validated(folder / f"{stem}.HDR", _header_element(header), HEADER_SCHEMA)
    return folder / f"{stem}.HDR"


# --------------------------------------------------------------------------- reading
def _parse_scalar(kind: str, text: str) -> Any:
    text = (text or "").strip()
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text in ("true", "1")
    return text


def _values(el: etree._Element, cls: type[GippModel], source: Path, path: str = "Data_Block") -> dict[str, Any]:
    """The field values of ``cls`` in ``el`` (nested models as dicts, validated with the root so
    that an error's location is the path from Data_Block)."""
    values: dict[str, Any] = {}
    for fname, f in cls.model_fields.items():
        child = el.find(xml_name(fname))
        if child is None:
            continue
        ann, _ = _unwrap(f.annotation)
        kind = _kind(ann)
        if kind in ("int", "float", "str", "bool", "enum"):
            values[fname] = _parse_scalar("str" if kind == "enum" else kind, child.text)
        elif kind == "list":
            (item,) = typing.get_args(ann)
            values[fname] = [item(v) for v in (child.text or "").split()]
        elif kind == "array":
            values[fname] = _rows(child, values.get(cls.ROWS), source, f"{path}/{child.tag}")
        elif kind == "model":
            values[fname] = _values(child, ann, source, f"{path}/{child.tag}")
        else:
            (item,) = typing.get_args(ann)
            values[fname] = [_values(c, item, source, f"{path}/{child.tag}/{item.XML_NAME}[{i}]")
                             for i, c in enumerate(child.findall(item.XML_NAME), 1)]
    return values


def _rows(el: etree._Element, ids: list[int] | None, source: Path, path: str) -> np.ndarray:
    """The float32 (rows, pixels) array of a ``PixelRows`` element; its ``detector_id`` must be
    the ids of the ``ROWS`` field, in order, and every row as long."""
    rows = el.findall("Values")
    found = [int(r.get("detector_id")) for r in rows]
    if ids is not None and found != list(ids):
        raise FormatError(f"rows are detectors {found}, the GIPP lists {list(ids)}", source=source,
                          element=f"{path}/Values/@detector_id")
    if len(rows) != int(el.get("count")):
        raise FormatError(f"count is {el.get('count')}, there are {len(rows)} rows", source=source,
                          element=f"{path}/@count")
    a = [np.array((r.text or "").split(), np.float32) for r in rows]
    if len({len(r) for r in a}) > 1:
        raise FormatError(f"rows of {[len(r) for r in a]} values, not all the same", source=source,
                          element=f"{path}/Values")
    return np.array(a, np.float32).reshape(len(a), len(a[0]) if a else 0)


def _pair(path: Path) -> tuple[Path, Path | None]:
    """(file holding the header, ``.DBL`` or None) of a GIPP path; FormatError for another suffix."""
    suffix = path.suffix
    if suffix == ".xml":
        return path, None
    if suffix in (".HDR", ".DBL"):
        return path.with_suffix(".HDR"), path.with_suffix(".DBL")
    raise FormatError(f"a GIPP is a .xml, .HDR or .DBL file, not {suffix or 'a file without suffix'!r}",
                      source=path)


def _parse(path: Path, root: str) -> etree._ElementTree:
    """Parse ``path`` and check its root tag (``{namespace}name`` or ``name``)."""
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    found = etree.QName(tree.getroot())
    if found.text != root:
        want = etree.QName(root)
        raise FormatError(f"root is {found.localname!r} in {found.namespace or 'no namespace'}, not "
                          f"{want.localname!r} in {want.namespace or 'no namespace'}", source=path,
                          element=found.localname, code=ExitCode.XML_ERROR)
    return tree


def _read_header(path: Path) -> tuple[GippHeader, etree._ElementTree | None]:
    """(header, the parsed single XML or None for a pair) of a GIPP path."""
    header_file, dbl = _pair(path)
    if dbl is None:
        tree = _parse(header_file, "Earth_Explorer_File")
        el = tree.getroot().find(_ns("Earth_Explorer_Header"))
        if el is None:
            raise FormatError(f"no Earth_Explorer_Header in {HEADER_NS}", source=path,
                              element="Earth_Explorer_File/Earth_Explorer_Header", code=ExitCode.XML_ERROR)
        xmlio.validate(etree.ElementTree(el), f"gipp/{HEADER_SCHEMA}", source=path, error=FormatError,
                       code=ExitCode.XML_ERROR)
        return _header_of(el, path), tree
    tree = _parse(header_file, _ns("Earth_Explorer_Header"))
    xmlio.validate(tree, f"gipp/{HEADER_SCHEMA}", source=header_file, error=FormatError,
                   code=ExitCode.XML_ERROR)
    return _header_of(tree.getroot(), header_file), None


def read_header(path: Path | str) -> GippHeader:
    """The Earth Explorer header of a GIPP (``.xml``, or the ``.HDR`` of a ``.HDR``/``.DBL`` path),
    validated against ``EE_Header.xsd``."""
    return _read_header(Path(path))[0]


def read_gipp(path: Path | str, cls: type[GippData] | None = None) -> GippData:
    """Validate a GIPP (``.xml``, ``.HDR`` or ``.DBL``) and return its data block as a pydantic model.

    A header File_Type other than ``cls``'s, or not a known GIPP type, is a
    :class:`~ipf.interface.errors.FormatError` naming the File_Type element; a value the model
    bounds (an MTF outside (0, 1), a binning factor below 1 ...) one naming the file and the
    data-block element."""
    path = Path(path)
    header, tree = _read_header(path)
    header_file, dbl = _pair(path)
    if cls is not None and header.file_type != cls.FILE_TYPE:
        raise FormatError(f"File_Type is {header.file_type!r}, {cls.FILE_TYPE} expected", source=header_file,
                          element=_FILE_TYPE_PATH, code=ExitCode.XML_ERROR)
    if header.file_type not in GIPP_TYPES:
        raise FormatError(f"{header.file_type!r} is not a known GIPP type", source=header_file,
                          element=_FILE_TYPE_PATH, code=ExitCode.XML_ERROR)
    cls = GIPP_TYPES[header.file_type]
    source = header_file if dbl is None else dbl
    if dbl is None:
        xmlio.validate(tree, f"gipp/{cls.FILE_TYPE}.xsd", source=source, error=FormatError,
                       code=ExitCode.XML_ERROR)
        block = tree.getroot().find("Data_Block")
    else:
        tree = _parse(dbl, "Data_Block")
        xmlio.validate(tree, f"gipp/{cls.FILE_TYPE}.xsd", source=source, error=FormatError,
                       code=ExitCode.XML_ERROR)
        block = tree.getroot()
    try:
        return cls(**_values(block, cls, source))
    except FormatError:
        raise
    except ValidationError as exc:
        err = exc.errors()[0]
        raise FormatError(f"{err['msg']}, got {err['input']!r}", source=source,
                          element=_element_of(cls, err["loc"])) from None
    except (ValueError, OSError) as exc:
        raise FormatError(f"{type(exc).__name__}: {exc}", source=source, element="Data_Block") from None


def _element_of(cls: type[GippModel], loc: tuple) -> str:
    """XML path (from Data_Block) of the field at pydantic location ``loc`` of ``cls``."""
    parts, model, item = ["Data_Block"], cls, None
    for p in loc:
        if isinstance(p, int):
            if item is None:
                parts[-1] += f"[{p + 1}]"
            else:
                parts.append(f"{item.XML_NAME}[{p + 1}]")
                model, item = item, None
            continue
        f = model.model_fields.get(p) if model is not None else None
        parts.append(xml_name(str(p)))
        if f is None:
            break
        ann, _ = _unwrap(f.annotation)
        kind = _kind(ann)
        model = ann if kind == "model" else None
        item = typing.get_args(ann)[0] if kind == "models" else None
    return "/".join(parts)


# --------------------------------------------------------------------------- selection
def _period(start: datetime | None, stop: datetime | None) -> str:
    if start is None:
        return "any sensing period"
    return f"the sensing period {_naive(start):%Y-%m-%dT%H:%M:%S} to {_naive(stop or start):%Y-%m-%dT%H:%M:%S}"


def _version(h: GippHeader) -> int:
    return int(h.file_version) if h.file_version.isdigit() else -1


def select_gipp(paths: Iterable[Path | str], file_type: str, band: str = "B00",
                start: datetime | None = None, stop: datetime | None = None) -> Path:
    """The GIPP the IPF uses among ``paths`` (e.g. every file a Job Order lists for ``file_type``):
    of those of ``file_type`` and ``band`` (file name's last field, ``B00`` for band-independent
    types) whose validity period covers ``start`` to ``stop`` (UTC; no check when ``start`` is
    None), the one with the latest Creation_Date, then the highest File_Version. None is an
    :class:`~ipf.interface.errors.InputError` naming the type, band and sensing period."""
    return select_among([(read_header(p), Path(p)) for p in paths], file_type, band, start, stop)


def select_band_gipps(paths: Iterable[Path | str], file_type: str, start: datetime | None = None,
                      stop: datetime | None = None) -> dict[str, Path]:
    """:func:`select_gipp` for every band of which ``paths`` hold a ``file_type`` file (band -> path)."""
    headers = [(read_header(p), Path(p)) for p in paths]
    bands = sorted({h.band for h, _ in headers if h.file_type == file_type})
    return {b: select_among(headers, file_type, b, start, stop) for b in bands}


def select_among(headers: list[tuple[GippHeader, Path]], file_type: str, band: str, start: datetime | None,
                 stop: datetime | None) -> Path:
    """The rule of :func:`select_gipp` on headers already read: (header, path) pairs whose header
    has ``file_type``, ``band``, ``covers(start, stop)``, ``validity_start``, ``validity_stop``,
    ``creation_date`` and ``file_version`` (a :class:`GippHeader`, or the GS2 family's
    :class:`ipf.formats.gipp_gs2.Gs2Validity`)."""
    stop = stop or start
    found = [(h, p) for h, p in headers if h.file_type == file_type and h.band == band]
    valid = [(h, p) for h, p in found if start is None or h.covers(start, stop)]
    if not valid:
        detail = "; ".join(f"{p.name} valid {h.validity_start:%Y-%m-%dT%H:%M:%S} to "
                           f"{h.validity_stop:%Y-%m-%dT%H:%M:%S}" for h, p in found)
        raise InputError(f"no {file_type} of {band} valid over {_period(start, stop)} among the "
                         f"{len(found)} listed" + (f" ({detail})" if detail else ""), element=file_type)
    return max(valid, key=lambda hp: (hp[0].creation_date, _version(hp[0]), hp[1].name))[1]


def gipp_files(folder: Path | str, file_type: str, band: str | None = None) -> list[Path]:
    """The GIPP files of ``file_type`` (and ``band`` when given) in ``folder``, as a Job Order lists
    them: each ``.xml``, and the ``.HDR`` of each pair (sorted)."""
    pattern = f"*_{file_type}_*_{band or '*'}"
    return sorted(p for p in Path(folder).glob(pattern + ".*") if p.suffix in (".xml", ".HDR"))


def find_gipp(folder: Path | str, file_type: str, band: str = "B00") -> Path:
    """The single GIPP of ``file_type`` and ``band`` in ``folder`` (its ``.xml`` or ``.HDR``)."""
    matches = gipp_files(folder, file_type, band)
    if len(matches) != 1:
        raise FileNotFoundError(f"{len(matches)} {file_type} files for {band} in {folder}")
    return matches[0]
