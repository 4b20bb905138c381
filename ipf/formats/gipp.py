"""Ground Image Processing Parameter (GIPP) files: pydantic models <-> validated XML.

Every GIPP is an Earth Explorer XML file ``<Earth_Explorer_File>`` with a ``Fixed_Header`` (file
name, type, validity, source) and a ``Data_Block`` whose content is generated from a pydantic model
(:class:`GippData` subclasses below). Processing code only sees the models: :func:`read_gipp`
validates the XML against ``ipf/schemas/gipp/<FILE_TYPE>.xsd`` and returns the model.

Mapping rules (one function, :func:`xsd_for`, generates the XSD from the model so that the
schema and the serialiser cannot drift; ``tests/simulator`` checks the committed XSDs are current):

- a field ``relative_gain`` is an element ``Relative_Gain``; int/float/str/bool are xs:integer,
  xs:double, xs:string, xs:boolean; ``Literal[...]`` is an enumeration; ``list[float]`` is a
  space-separated xs:list; a nested model is a complex element; ``list[Model]`` is a wrapper
  element with a ``count`` attribute holding one element per item (named ``Model.XML_NAME``);
  an optional field may be absent.
- **Large per-pixel arrays** (``numpy.ndarray`` fields, e.g. relative gains and dark signal) are
  stored in a sidecar ``<gipp file stem>.<Field_Name>.npy`` (numpy format 1.0, little-endian, in
  the same folder) referenced from the XML by ``File``, ``Dtype``, ``Shape`` and ``Sha256``: a
  12-detector × 2592-pixel float table would be ~0.7 MB of text in base64 or decimal and slow
  to parse, while ``.npy`` loads with one call and the checksum keeps the pair consistent.

Files are written to a temporary name in the target folder, validated with xmlschema, then
renamed into place with ``os.replace``; sidecars are written the same way before the XML.

File names follow the S2 convention
``S2A_OPER_GIP_R2EQOG_MPC__20230101T000000_V20230101T000000_21000101T000000_B00.xml`` where the
last field is the band (``B00`` for band-independent GIPPs; GIP_R2EQOG, GIP_R2DECT, GIP_R2DENT
and GIP_VIEDIR are band dependent, as in the S2 auxiliary-file catalogue).
"""

from __future__ import annotations

import hashlib
import io
import types
import typing
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from ipf.interface import xmlio
from ipf.interface.errors import FormatError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_path, atomic_write


__all__ = ["SCHEMA_DIR", "FILE_CLASS", "SITE", "DEFAULT_VALIDITY_START", "DEFAULT_VALIDITY_STOP", "NDArray",
           "GippModel", "GippData", "AbsoluteCalibrationBand", "GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT",
           "GIP_R2DENT", "DefectivePixel", "GIP_R2DEPI", "Coupling", "GIP_R2CRCO", "Binning", "GIP_R2BINN",
           "ViewingDetector", "GIP_VIEDIR", "LinePeriod", "GIP_SPAMOD", "GIP_JP2KPA", "QualityCheck",
           "GIP_OLQCPA", "GIPP_TYPES", "xml_name", "gipp_file_name", "xsd_for", "schema_path",
           "write_schemas", "write_gipp", "gipp_type_of", "read_gipp", "find_gipp"]

SCHEMA_DIR = Path(str(resources.files("ipf") / "schemas" / "gipp"))
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
    """Base of a GIPP data block; subclasses set FILE_TYPE and DESCRIPTION."""

    FILE_TYPE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    BAND_DEPENDENT: ClassVar[bool] = False


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


class ViewingDetector(GippModel):
    """Viewing directions of one detector: tan(psi) = sum c_k * pixel**k (pixel from 0)."""

    XML_NAME: ClassVar[str] = "Viewing_Directions"
    detector: int
    n_pixels: int = Field(ge=1)
    tan_psi_x: list[float] = Field(description="along-track component polynomial, c0..c3")
    tan_psi_y: list[float] = Field(description="across-track component polynomial, c0..c3")


class GIP_VIEDIR(GippData):
    """Viewing directions in the instrument frame: u = normalise(tan_psi_x, tan_psi_y, 1)."""

    FILE_TYPE: ClassVar[str] = "GIP_VIEDIR"
    DESCRIPTION: ClassVar[str] = "Line-of-sight polynomials per detector in the instrument frame"
    BAND_DEPENDENT: ClassVar[bool] = True
    band: str
    detectors: list[ViewingDetector]


class LinePeriod(GippModel):
    """Line period of one resolution."""

    XML_NAME: ClassVar[str] = "Line_Period"
    resolution_m: int = Field(gt=0)
    period_s: float = Field(gt=0)


class GIP_SPAMOD(GippData):
    """Spacecraft model: frames, alignment and timing."""

    FILE_TYPE: ClassVar[str] = "GIP_SPAMOD"
    DESCRIPTION: ClassVar[str] = "Spacecraft and instrument model"
    attitude_frame: Literal["BODY_TO_ECEF"] = "BODY_TO_ECEF"
    instrument_to_body: list[float] = Field(min_length=4, max_length=4, description="quaternion (w, x, y, z) of the rotation")
    line_periods: list[LinePeriod]
    n_detectors: int = Field(ge=1)
    pixels_per_detector_10m: int = Field(ge=1)
    orbit_altitude_m: float = Field(gt=0)
    ltdn_hours: float = Field(ge=0, lt=24, description="local time of the descending node, hours")
    datation: str = Field(description="line datation rule")


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
    GIP_VIEDIR, GIP_SPAMOD, GIP_JP2KPA, GIP_OLQCPA)}


# --------------------------------------------------------------------------- naming
def xml_name(field_name: str) -> str:
    """``relative_gain`` -> ``Relative_Gain``."""
    return "_".join(p[:1].upper() + p[1:] for p in field_name.split("_"))


def gipp_file_name(file_type: str, band: str = "B00", mission: str = "S2A",
                   validity_start: datetime = DEFAULT_VALIDITY_START,
                   validity_stop: datetime = DEFAULT_VALIDITY_STOP,
                   creation: datetime | None = None) -> str:
    """S2 GIPP file name (with ``.xml``)."""
    f = "%Y%m%dT%H%M%S"
    creation = creation or validity_start
    return (f"{mission}_{FILE_CLASS}_{file_type}_{SITE}_{creation:{f}}_V{validity_start:{f}}_"
            f"{validity_stop:{f}}_{band}.xml")


def _utc(t: datetime) -> str:
    return "UTC=" + t.strftime("%Y-%m-%dT%H:%M:%S")


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


# --------------------------------------------------------------------------- XSD generation
def xsd_for(cls: type[GippData]) -> str:
    """The XSD of the GIPP file type modelled by ``cls`` (deterministic text)."""
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
                rows.append(f'      <xs:element name="{el}" type="ArrayFile"{occurs}>{doc}</xs:element>')
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
    header = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- {cls.FILE_TYPE}: {cls.DESCRIPTION}. Generated by ipf.formats.gipp.xsd_for; do not edit. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:element name="Earth_Explorer_File">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Earth_Explorer_Header" type="Earth_Explorer_Header_Type"/>
        <xs:element name="Data_Block">
          <xs:complexType>
            <xs:complexContent>
              <xs:extension base="Data_Block_Type">
                <xs:attribute name="type" type="xs:string" fixed="xml"/>
              </xs:extension>
            </xs:complexContent>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:simpleType name="UtcTime">
    <xs:restriction base="xs:string">
      <xs:pattern value="UTC=\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}}:\\d{{2}}:\\d{{2}}"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="DoubleList"><xs:list itemType="xs:double"/></xs:simpleType>
  <xs:simpleType name="IntegerList"><xs:list itemType="xs:integer"/></xs:simpleType>
  <xs:simpleType name="StringList"><xs:list itemType="xs:string"/></xs:simpleType>
  <xs:complexType name="ArrayFile">
    <xs:sequence>
      <xs:element name="File" type="xs:string"/>
      <xs:element name="Dtype" type="xs:string"/>
      <xs:element name="Shape" type="IntegerList"/>
      <xs:element name="Sha256"><xs:simpleType><xs:restriction base="xs:string">
        <xs:pattern value="[0-9a-f]{{64}}"/></xs:restriction></xs:simpleType></xs:element>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Earth_Explorer_Header_Type">
    <xs:sequence>
      <xs:element name="Fixed_Header">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="File_Name" type="xs:string"/>
            <xs:element name="File_Description" type="xs:string"/>
            <xs:element name="Notes" type="xs:string"/>
            <xs:element name="Mission"><xs:simpleType><xs:restriction base="xs:string">
              <xs:pattern value="S2[ABCD_]"/></xs:restriction></xs:simpleType></xs:element>
            <xs:element name="File_Class" type="xs:string"/>
            <xs:element name="File_Type" type="xs:string" fixed="{cls.FILE_TYPE}"/>
            <xs:element name="Validity_Period">
              <xs:complexType>
                <xs:sequence>
                  <xs:element name="Validity_Start" type="UtcTime"/>
                  <xs:element name="Validity_Stop" type="UtcTime"/>
                </xs:sequence>
              </xs:complexType>
            </xs:element>
            <xs:element name="File_Version" type="xs:string"/>
            <xs:element name="Source">
              <xs:complexType>
                <xs:sequence>
                  <xs:element name="System" type="xs:string"/>
                  <xs:element name="Creator" type="xs:string"/>
                  <xs:element name="Creator_Version" type="xs:string"/>
                  <xs:element name="Creation_Date" type="UtcTime"/>
                </xs:sequence>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="Variable_Header">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="Band" type="xs:string"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:sequence>
  </xs:complexType>
"""
    body = "\n".join(complex_types[k] for k in sorted(complex_types))
    return header + body + "\n</xs:schema>\n"


def schema_path(file_type: str) -> Path:
    """Path of the XSD of a GIPP file type."""
    return SCHEMA_DIR / f"{file_type}.xsd"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)generate the XSD of every GIPP type into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for t, cls in GIPP_TYPES.items():
        p = directory / f"{t}.xsd"
        p.write_text(xsd_for(cls), encoding="utf-8")
        out.append(p)
    return out


def _schema(file_type: str):
    return xmlio.schema(f"gipp/{file_type}.xsd")


# --------------------------------------------------------------------------- writing
def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _fill(parent: etree._Element, model: GippModel, stem: str, folder: Path, prefix: str) -> None:
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
            a = np.asarray(value)
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("<"))
            data = _npy_bytes(a)
            name = f"{stem}.{prefix}{xml_name(fname)}.npy"
            atomic_write(folder / name, data)
            for tag, text in (("File", name), ("Dtype", a.dtype.str), ("Shape", " ".join(map(str, a.shape))),
                              ("Sha256", hashlib.sha256(data).hexdigest())):
                etree.SubElement(el, tag).text = text
        elif kind == "model":
            _fill(el, value, stem, folder, f"{prefix}{xml_name(fname)}_")
        else:
            el.set("count", str(len(value)))
            (item,) = typing.get_args(ann)
            for i, v in enumerate(value):
                _fill(etree.SubElement(el, item.XML_NAME), v, stem, folder, f"{prefix}{xml_name(fname)}_{i}_")


def write_gipp(data: GippData, folder: Path | str, band: str = "B00", mission: str = "S2A",
               validity_start: datetime = DEFAULT_VALIDITY_START,
               validity_stop: datetime = DEFAULT_VALIDITY_STOP,
               creator: str = "s2ipf.simulator", creator_version: str = "0.1.0") -> Path:
    """Write ``data`` as a validated GIPP XML (+ .npy sidecars) into ``folder``; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = gipp_file_name(data.FILE_TYPE, band, mission, validity_start, validity_stop)
    stem = name[:-4]
    root = etree.Element("Earth_Explorer_File")
    hdr = etree.SubElement(etree.SubElement(root, "Earth_Explorer_Header"), "Fixed_Header")
    for tag, text in (("File_Name", stem), ("File_Description", data.DESCRIPTION),
                      ("Notes", "Simulated GIPP"), ("Mission", mission), ("File_Class", FILE_CLASS),
                      ("File_Type", data.FILE_TYPE)):
        etree.SubElement(hdr, tag).text = text
    vp = etree.SubElement(hdr, "Validity_Period")
    etree.SubElement(vp, "Validity_Start").text = _utc(validity_start)
    etree.SubElement(vp, "Validity_Stop").text = _utc(validity_stop)
    etree.SubElement(hdr, "File_Version").text = "0001"
    src = etree.SubElement(hdr, "Source")
    for tag, text in (("System", "S2IPF"), ("Creator", creator), ("Creator_Version", creator_version),
                      ("Creation_Date", _utc(validity_start))):
        etree.SubElement(src, tag).text = text
    etree.SubElement(etree.SubElement(root[0], "Variable_Header"), "Band").text = band
    block = etree.SubElement(root, "Data_Block", type="xml")
    _fill(block, data, stem, folder, "")
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    path = folder / name
    with atomic_path(path) as tmp:
        tmp.write_bytes(xml)
        _schema(data.FILE_TYPE).validate(str(tmp))
    return path


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


def _values(el: etree._Element, cls: type[GippModel], folder: Path) -> dict[str, Any]:
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
            file = folder / child.findtext("File").strip()
            data = file.read_bytes()
            if hashlib.sha256(data).hexdigest() != child.findtext("Sha256").strip():
                raise FormatError(f"SHA-256 of {file.name} is not the one this GIPP gives",
                                  source=file, element=f"{child.tag}/Sha256")
            values[fname] = np.load(io.BytesIO(data), allow_pickle=False)
        elif kind == "model":
            values[fname] = _values(child, ann, folder)
        else:
            (item,) = typing.get_args(ann)
            values[fname] = [_values(c, item, folder) for c in child.findall(item.XML_NAME)]
    return values


def gipp_type_of(path: Path | str) -> str:
    """File type (``GIP_XXXXXX``) of a GIPP file, read from its header."""
    found = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR).find(".//File_Type")
    if found is None or found.text is None or found.text.strip() not in GIPP_TYPES:
        raise FormatError("not a known GIPP (File_Type)", source=path,
                          element="Earth_Explorer_Header/Fixed_Header/File_Type",
                          code=ExitCode.XML_ERROR)
    return found.text.strip()


def read_gipp(path: Path | str, cls: type[GippData] | None = None) -> GippData:
    """Validate a GIPP XML against its XSD and return its data block as a pydantic model.

    A value the model bounds (an MTF outside (0, 1), a binning factor below 1 ...) is a
    :class:`~ipf.interface.errors.FormatError` naming the file and the element."""
    path = Path(path)
    file_type = cls.FILE_TYPE if cls is not None else gipp_type_of(path)
    cls = cls or GIPP_TYPES[file_type]
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    xmlio.validate(tree, f"gipp/{file_type}.xsd", source=path, error=FormatError,
                   code=ExitCode.XML_ERROR)
    try:
        return cls(**_values(tree.getroot().find("Data_Block"), cls, path.parent))
    except FormatError:
        raise
    except ValidationError as exc:
        err = exc.errors()[0]
        raise FormatError(f"{err['msg']}, got {err['input']!r}", source=path,
                          element=_element_of(cls, err["loc"])) from None
    except (ValueError, OSError) as exc:
        raise FormatError(f"{type(exc).__name__}: {exc}", source=path, element="Data_Block") from None


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


def find_gipp(folder: Path | str, file_type: str, band: str = "B00") -> Path:
    """The single GIPP of ``file_type`` and ``band`` in ``folder``."""
    matches = sorted(Path(folder).glob(f"*_{file_type}_*_{band}.xml"))
    if len(matches) != 1:
        raise FileNotFoundError(f"{len(matches)} {file_type} files for {band} in {folder}")
    return matches[0]
