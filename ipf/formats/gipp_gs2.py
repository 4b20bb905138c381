"""The GS2 GIPP family: GIP_VIEDIR, GIP_SPAMOD and GIP_BLINDP as the real files are.

These three GIPPs are not Earth Explorer files: the root is ``GS2_VIEWING_DIRECTIONS``,
``GS2_SPACECRAFT_MODEL_PARAMETERS`` or ``GS2_BLIND_PIXELS`` holding ``HEADER``,
``SPECIFIC_HEADER`` and ``DATA``. They come as a single ``.xml``, or as a ``.DBL`` (the same XML)
beside an Earth Explorer ``.HDR``. :func:`read_gs2` accepts any of the three paths, validates the
XML against our XSDs in ``ipf/schemas/gipp_gs2/`` and returns a pydantic model; :func:`write_gs2`
writes a model as the single-XML form under the real file name, validated, atomically, with
floats written by ``repr`` so that they read back bit for bit. :func:`select_gs2` (and
:func:`select_gs2_bands`, per band) chooses among the versions a Job Order lists with the rule of
the Earth Explorer family (:func:`ipf.formats.gipp.select_gipp`) on the GS2 headers.

Bands: ``BAND_ID`` 0..12 is the index of :data:`ipf.formats.msi_bands.BANDS` (B8A is 8, B09 is 9);
the models carry the band name. Detectors are 1..12 (``detector_id`` "01".."12").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from lxml import etree
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ipf.formats import gipp
from ipf.formats.missions import Mission
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.interface import xmlio
from ipf.interface.errors import FormatError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_path
from ipf.interface.xmlio import sub_element

__all__ = ["SCHEMA_FOLDER", "TDI_BANDS", "DEFAULT_VALIDITY_STOP", "Gs2Header", "Gs2SpecificHeader",
           "Gs2Model", "ViewingDirections", "GIP_VIEDIR", "Rotation", "RotationAndScale",
           "DetectorRotation", "StarTrackerQuaternion", "Gse", "LocationAccuracy", "GIP_SPAMOD",
           "BlindSide", "BlindDetector", "BlindBand", "GIP_BLINDP", "GS2_TYPES", "gs2_file_name",
           "read_gs2", "write_gs2", "to_xml", "Gs2Validity", "read_gs2_validity", "select_gs2",
           "select_gs2_bands"]

SCHEMA_FOLDER = "gipp_gs2"
TDI_BANDS = ("B03", "B04", "B11", "B12")
DEFAULT_VALIDITY_STOP = gipp.DEFAULT_VALIDITY_STOP
_TDI = Literal["APPLIED", "LINE_A", "LINE_B", "NO_TDI"]


class _Model(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", frozen=True)


class Gs2Header(_Model):
    """``HEADER``: satellite, scheme version, production date (UTC), provider, consumer."""

    satellite: Literal[Mission, "S2_"] = "S2A"
    scheme_version: str = "String"
    production_date: datetime = datetime(2023, 1, 1)
    provider: str = "s2ipf"
    consumer: str = "GPP-Light"


class Gs2SpecificHeader(_Model):
    """``SPECIFIC_HEADER``: file type (``S2A_SPACECRAFT_MODEL_FILE``...; filled from the model
    when absent), applicability period (UTC; no end date: open), version ``dddd``, parameter id."""

    type: str | None = None
    applicability_date: datetime = datetime(2023, 1, 1)
    applicability_end_date: datetime | None = DEFAULT_VALIDITY_STOP
    version_number: str = Field("0001", pattern=r"^\d{4}$")
    parameter_id: str = "String"


class Gs2Model(_Model):
    """Base of the three GS2 GIPPs: the two headers and the data; subclasses set ROOT, FILE_TYPE,
    SCHEMA."""

    ROOT: ClassVar[str] = ""
    FILE_TYPE: ClassVar[str] = ""
    SCHEMA: ClassVar[str] = ""
    header: Gs2Header = Gs2Header()
    specific_header: Gs2SpecificHeader = Gs2SpecificHeader()

    @model_validator(mode="after")
    def _fill_type(self):
        if self.specific_header.type is None:
            sh = self.specific_header.model_copy(update={"type": self.type_name(self.header.satellite)})
            object.__setattr__(self, "specific_header", sh)
        return self

    def type_name(self, satellite: str) -> str:
        """The ``SPECIFIC_HEADER/TYPE`` of this file for ``satellite``."""
        raise NotImplementedError

    @property
    def band_suffix(self) -> str:
        """Last field of the file name (``B00`` for band-independent files)."""
        return "B00"


def _known_band(v: str) -> str:
    if v not in BY_NAME:
        raise ValueError(f"unknown band {v!r}")
    return v


def _unique_detectors(v: list) -> list:
    ids = [d.detector for d in v]
    if len(set(ids)) != len(ids):
        raise ValueError(f"detector {next(i for i in ids if ids.count(i) > 1):02d} given twice")
    return v


def _float_array(v: Any) -> np.ndarray:
    a = np.array(v, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"expected a list of numbers, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"non-finite value at index {int(np.flatnonzero(~np.isfinite(a))[0])}")
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- GIP_VIEDIR
class ViewingDirections(_Model):
    """One detector (1..12) of one band: ``n_pixels`` and, per pixel (0-based), tan psi_x (across
    track, positive looks left) and tan psi_y (along track), float64 arrays of ``n_pixels``."""

    detector: int = Field(ge=1, le=12)
    n_pixels: int = Field(ge=0)
    tan_psi_x: np.ndarray
    tan_psi_y: np.ndarray

    @field_validator("tan_psi_x", "tan_psi_y", mode="before")
    @classmethod
    def _arrays(cls, v: Any) -> np.ndarray:
        return _float_array(v)

    @model_validator(mode="after")
    def _lengths(self):
        for name in ("tan_psi_x", "tan_psi_y"):
            if len(getattr(self, name)) != self.n_pixels:
                raise ValueError(f"{name} has {len(getattr(self, name))} values, NB_OF_PIXELS is {self.n_pixels}")
        return self

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ViewingDirections) and self.detector == other.detector
                and self.n_pixels == other.n_pixels and np.array_equal(self.tan_psi_x, other.tan_psi_x)
                and np.array_equal(self.tan_psi_y, other.tan_psi_y))


class GIP_VIEDIR(Gs2Model):
    """Viewing directions of every detector of one band, for one TDI configuration
    (``APPLIED``/``LINE_A``/``LINE_B`` for the TDI bands B03, B04, B11, B12, else ``NO_TDI``)."""

    ROOT: ClassVar[str] = "GS2_VIEWING_DIRECTIONS"
    FILE_TYPE: ClassVar[str] = "GIP_VIEDIR"
    SCHEMA: ClassVar[str] = "gs2_viewing_directions.xsd"
    band: Annotated[str, AfterValidator(_known_band)]
    tdi_config: _TDI = "NO_TDI"
    detectors: Annotated[list[ViewingDirections], AfterValidator(_unique_detectors)]



    def type_name(self, satellite: str) -> str:
        return f"{satellite}_BAND_NUMBER_{BY_NAME[self.band].index}_VIEWING_DIRECTIONS_FILE"

    @property
    def band_suffix(self) -> str:
        return self.band

    def detector(self, detector: int) -> ViewingDirections:
        """The viewing directions of ``detector`` (1..12); KeyError when absent."""
        for d in self.detectors:
            if d.detector == detector:
                return d
        raise KeyError(detector)


# --------------------------------------------------------------------------- GIP_SPAMOD
class Rotation(_Model):
    """Three small rotations about X, Y, Z (mrad)."""

    r1: float = 0.0
    r2: float = 0.0
    r3: float = 0.0


class RotationAndScale(Rotation):
    """Rotations about X, Y, Z (mrad), a scale factor and the order they combine in."""

    scale_factor: float = 1.0
    combination_order: Literal["SCALE_THEN_ROTATION", "ROTATION_THEN_SCALE"] = "ROTATION_THEN_SCALE"


class DetectorRotation(Rotation):
    """Focal plane -> detector rotation of one detector (1..12)."""

    detector: int = Field(ge=1, le=12)


class StarTrackerQuaternion(_Model):
    """Attitude quaternion of a star tracker: vector part (3) and scalar part."""

    vector: tuple[float, float, float]
    scalar: float


class Gse(_Model):
    """``GSE`` ground segment settings: IMU and star tracker time offsets (s), the three star
    tracker quaternions and the innovation thresholds (3)."""

    offset_imu: float
    offset_str: float
    star_trackers: tuple[StarTrackerQuaternion, StarTrackerQuaternion, StarTrackerQuaternion]
    str_innov_thd: tuple[float, float, float]


class LocationAccuracy(_Model):
    """Absolute location and planimetric stability (m), DOP values and their quality words."""

    absolute_location: float
    planimetric_stability: float
    dop_values: list[float]
    dop_quality: list[str]

    @model_validator(mode="after")
    def _pairs(self):
        if len(self.dop_values) != len(self.dop_quality):
            raise ValueError(f"{len(self.dop_values)} DOP values but {len(self.dop_quality)} quality indicators")
        return self


def _twelve(v: list[DetectorRotation]) -> list[DetectorRotation]:
    ids = sorted(d.detector for d in v)
    if ids != list(range(1, 13)):
        raise ValueError(f"needs detectors 01..12 once each, got {ids}")
    return v


class GIP_SPAMOD(Gs2Model):
    """Spacecraft model: optional GSE settings, location accuracy, piloting -> MSI alignment,
    MSI -> VNIR and SWIR focal planes, focal plane -> detector rotations (12 VNIR, 12 SWIR)."""

    ROOT: ClassVar[str] = "GS2_SPACECRAFT_MODEL_PARAMETERS"
    FILE_TYPE: ClassVar[str] = "GIP_SPAMOD"
    SCHEMA: ClassVar[str] = "gs2_spacecraft_model_parameters.xsd"
    gse: Gse | None = None
    location_accuracy: LocationAccuracy = LocationAccuracy(
        absolute_location=20.0, planimetric_stability=3.0, dop_values=[0.0, 1.0, 2.0, 5.0, 10.0, 20.0],
        dop_quality=["Ideal", "Excellent", "Good", "Moderate", "Fair", "Poor"])
    piloting_to_msi: RotationAndScale = RotationAndScale()
    msi_to_vnir: RotationAndScale = RotationAndScale(combination_order="SCALE_THEN_ROTATION")
    msi_to_swir: RotationAndScale = RotationAndScale(combination_order="SCALE_THEN_ROTATION")
    focal_plane_to_detector_vnir: list[DetectorRotation] = [DetectorRotation(detector=d) for d in range(1, 13)]
    focal_plane_to_detector_swir: list[DetectorRotation] = [DetectorRotation(detector=d) for d in range(1, 13)]

    @field_validator("focal_plane_to_detector_vnir", "focal_plane_to_detector_swir")
    @classmethod
    def _detectors(cls, v: list[DetectorRotation]) -> list[DetectorRotation]:
        return _twelve(v)

    def type_name(self, satellite: str) -> str:
        return f"{satellite}_SPACECRAFT_MODEL_FILE"

    def msi_to_focal_plane(self, focal_plane: str) -> RotationAndScale:
        """MSI -> focal plane transformation of ``"VNIR"`` or ``"SWIR"``."""
        return {"VNIR": self.msi_to_vnir, "SWIR": self.msi_to_swir}[focal_plane]

    def focal_plane_to_detector(self, focal_plane: str, detector: int) -> DetectorRotation:
        """Focal plane -> detector rotation of ``detector`` (1..12) on ``"VNIR"`` or ``"SWIR"``
        (every detector has one: the model requires 01..12)."""
        rows = {"VNIR": self.focal_plane_to_detector_vnir, "SWIR": self.focal_plane_to_detector_swir}[focal_plane]
        return next(r for r in rows if r.detector == detector)


# --------------------------------------------------------------------------- GIP_BLINDP
class BlindSide(_Model):
    """Column indices of the valid and the non-valid blind pixels on one side of a detector."""

    valid: list[int]
    non_valid: list[int]


class BlindDetector(_Model):
    """Blind pixels of one detector (1..12): normalisation coefficient lambda, left and right."""

    detector: int = Field(ge=1, le=12)
    normalization_coef: float
    left: BlindSide
    right: BlindSide


class BlindBand(_Model):
    """Blind pixels of one band: total number of blind pixels and the detectors."""

    band: Annotated[str, AfterValidator(_known_band)]
    blind_pixel_number: int
    detectors: Annotated[list[BlindDetector], AfterValidator(_unique_detectors)]




class GIP_BLINDP(Gs2Model):
    """Blind pixels of every band and detector."""

    ROOT: ClassVar[str] = "GS2_BLIND_PIXELS"
    FILE_TYPE: ClassVar[str] = "GIP_BLINDP"
    SCHEMA: ClassVar[str] = "gs2_blind_pixels.xsd"
    bands: list[BlindBand]

    @field_validator("bands")
    @classmethod
    def _unique(cls, v: list[BlindBand]) -> list[BlindBand]:
        names = [b.band for b in v]
        if len(set(names)) != len(names):
            raise ValueError(f"band {next(n for n in names if names.count(n) > 1)} given twice")
        return v

    def type_name(self, satellite: str) -> str:
        return f"{satellite}_BLIND_PIXELS_FILE"


GS2_TYPES: dict[str, type[Gs2Model]] = {c.ROOT: c for c in (GIP_VIEDIR, GIP_SPAMOD, GIP_BLINDP)}


# --------------------------------------------------------------------------- writing
def _time(t: datetime) -> str:
    frac = f"{t.microsecond:06d}".rstrip("0") or "0"
    return f"{t:%Y-%m-%dT%H:%M:%S}.{frac}Z"


def _floats(values) -> str:
    return " ".join(repr(float(v)) for v in values)


def _put_rotation(el: etree._Element, r: Rotation) -> None:
    for tag, axis, value in (("R1", "X", r.r1), ("R2", "Y", r.r2), ("R3", "Z", r.r3)):
        sub_element(el, tag, repr(float(value)), axis=axis, unit="mrad")
    if isinstance(r, RotationAndScale):
        sub_element(el, "SCALE_FACTOR", repr(float(r.scale_factor)))
        sub_element(el, "COMBINATION_ORDER", r.combination_order)


def _put_data(data: etree._Element, model: Gs2Model) -> None:
    if isinstance(model, GIP_VIEDIR):
        sub_element(data, "BAND_ID", str(BY_NAME[model.band].index))
        lst = sub_element(data, "VIEWING_DIRECTIONS_LIST", tdi_config=model.tdi_config)
        for d in model.detectors:
            v = sub_element(lst, "VIEWING_DIRECTIONS", detector_id=f"{d.detector:02d}")
            sub_element(v, "NB_OF_PIXELS", str(d.n_pixels))
            sub_element(v, "TAN_PSI_X_LIST", _floats(d.tan_psi_x))
            sub_element(v, "TAN_PSI_Y_LIST", _floats(d.tan_psi_y))
    elif isinstance(model, GIP_SPAMOD):
        if model.gse is not None:
            g = sub_element(data, "GSE")
            sub_element(g, "OFFSET_IMU", repr(float(model.gse.offset_imu)), unit="s")
            sub_element(g, "OFFSET_STR", repr(float(model.gse.offset_str)), unit="s")
            for i, q in enumerate(model.gse.star_trackers, 1):
                e = sub_element(g, f"STR{i}_ATT_QUATERNION")
                sub_element(e, "VECTOR", _floats(q.vector))
                sub_element(e, "SCALAR", repr(float(q.scalar)))
            sub_element(g, "STR_INNOV_THD", _floats(model.gse.str_innov_thd))
        la = sub_element(data, "LOCATION_ACCURACY")
        sub_element(la, "ABSOLUTE_LOCATION", repr(float(model.location_accuracy.absolute_location)), unit="m")
        sub_element(la, "PLANIMETRIC_STABILITY", repr(float(model.location_accuracy.planimetric_stability)), unit="m")
        dop = sub_element(la, "DOP_QUALITY")
        sub_element(dop, "VALUES", _floats(model.location_accuracy.dop_values))
        sub_element(dop, "QUALITY_INDICATOR", " ".join(model.location_accuracy.dop_quality))
        _put_rotation(sub_element(data, "PILOTING_TO_MSI_FRAME"), model.piloting_to_msi)
        fp = sub_element(data, "MSI_TO_FOCAL_PLANE")
        _put_rotation(sub_element(fp, "MSI_TO_VNIR"), model.msi_to_vnir)
        _put_rotation(sub_element(fp, "MSI_TO_SWIR"), model.msi_to_swir)
        det = sub_element(data, "FOCAL_PLANE_TO_DETECTOR")
        for plane, rows in (("VNIR", model.focal_plane_to_detector_vnir), ("SWIR", model.focal_plane_to_detector_swir)):
            for r in sorted(rows, key=lambda r: r.detector):
                _put_rotation(sub_element(det, f"FOCAL_PLANE_TO_DETECTOR_{plane}", detector_id=f"{r.detector:02d}"), r)
    elif isinstance(model, GIP_BLINDP):
        for b in model.bands:
            be = sub_element(data, "BAND", band_id=str(BY_NAME[b.band].index))
            sub_element(be, "BLIND_PIXEL_NUMBER", str(b.blind_pixel_number))
            for d in b.detectors:
                de = sub_element(be, "DETECTOR", detector_id=f"{d.detector:02d}")
                sub_element(de, "NORMALIZATION_COEF", repr(float(d.normalization_coef)))
                for side_id, side in (("LEFT", d.left), ("RIGHT", d.right)):
                    se = sub_element(de, "SIDE", side_id=side_id)
                    sub_element(se, "VALID_BLIND_PIXELS", " ".join(map(str, side.valid)))
                    sub_element(se, "NON_VALID_BLIND_PIXELS", " ".join(map(str, side.non_valid)))
    else:
        raise TypeError(f"not a GS2 GIPP model: {type(model).__name__}")


def to_xml(model: Gs2Model) -> bytes:
    """The XML bytes of ``model`` (UTF-8, indented; the same model gives the same bytes)."""
    root = etree.Element(model.ROOT)
    h = sub_element(root, "HEADER")
    sub_element(h, "SATELLITE", model.header.satellite)
    sub_element(h, "SCHEME_VERSION", model.header.scheme_version)
    sub_element(h, "PRODUCTION_DATE", _time(model.header.production_date))
    sub_element(h, "PROVIDER", model.header.provider)
    sub_element(h, "CONSUMER", model.header.consumer)
    sh = sub_element(root, "SPECIFIC_HEADER")
    sub_element(sh, "TYPE", model.specific_header.type)
    sub_element(sh, "APPLICABILITY_DATE", _time(model.specific_header.applicability_date))
    if model.specific_header.applicability_end_date is not None:
        sub_element(sh, "APPLICABILITY_END_DATE", _time(model.specific_header.applicability_end_date))
    sub_element(sh, "VERSION_NUMBER", model.specific_header.version_number)
    sub_element(sh, "PARAMETER_ID", model.specific_header.parameter_id)
    _put_data(sub_element(root, "DATA"), model)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def gs2_file_name(model: Gs2Model) -> str:
    """The real file name of ``model`` (with ``.xml``): mission from SATELLITE, creation from
    PRODUCTION_DATE, validity from the applicability period (open end: 2100-01-01)."""
    sh = model.specific_header
    return gipp.gipp_file_name(model.FILE_TYPE, model.band_suffix, model.header.satellite, sh.applicability_date,
                               sh.applicability_end_date or DEFAULT_VALIDITY_STOP, model.header.production_date,
                               ".xml")


def write_gs2(model: Gs2Model, folder: Path | str, mission: str | None = None,
              validity_start: datetime | None = None, validity_stop: datetime | None = None,
              creation: datetime | None = None) -> Path:
    """Write ``model`` into ``folder`` as the single-XML file of its real name; returns the path.

    ``mission`` (SATELLITE, and the TYPE prefix), ``validity_start``/``validity_stop``
    (applicability period) and ``creation`` (PRODUCTION_DATE), when given, replace the model's
    header values, so that the file name and its content agree. Validated against our XSD before
    it is renamed into place."""
    header = {k: v for k, v in (("satellite", mission), ("production_date", creation)) if v is not None}
    specific = {k: v for k, v in (("applicability_date", validity_start),
                                  ("applicability_end_date", validity_stop)) if v is not None}
    if mission is not None:
        specific["type"] = model.type_name(mission)
    if header or specific:
        model = model.model_copy(update={"header": model.header.model_copy(update=header),
                                         "specific_header": model.specific_header.model_copy(update=specific)})
        model = type(model).model_validate(dict(model))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / gs2_file_name(model)
    data = to_xml(model)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        tree = etree.ElementTree(etree.fromstring(data))
        xmlio.validate(tree, f"{SCHEMA_FOLDER}/{model.SCHEMA}", source=path, error=FormatError,
                       code=ExitCode.XML_ERROR)
    return path


# --------------------------------------------------------------------------- reading
class _Bad(Exception):
    def __init__(self, msg: str, element: str):
        super().__init__(msg)
        self.element = element


def _band_name(band_id: str, where: str) -> str:
    i = int(band_id)
    if not 0 <= i < len(BANDS):
        raise _Bad(f"BAND_ID {i} is not 0..12", where)
    return BANDS[i].name


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().rstrip("Z"))


def _text(el: etree._Element, path: str) -> str:
    return (el.findtext(path) or "").strip()


def _rotation(el: etree._Element, where: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(extra)
    for tag, axis in (("R1", "X"), ("R2", "Y"), ("R3", "Z")):
        r = el.find(tag)
        if r.get("axis", "").strip() != axis:
            raise _Bad(f"{tag} must be about axis {axis}, the file says {r.get('axis')!r}", f"{where}/{tag}")
        out[tag.lower()] = float(r.text)
    if el.find("SCALE_FACTOR") is not None:
        out["scale_factor"] = float(_text(el, "SCALE_FACTOR"))
        out["combination_order"] = _text(el, "COMBINATION_ORDER")
    return out


def _viedir(data: etree._Element, tdi_config: str | None) -> dict[str, Any]:
    band = _band_name(_text(data, "BAND_ID"), "DATA/BAND_ID")
    lists = {L.get("tdi_config"): L for L in data.findall("VIEWING_DIRECTIONS_LIST")}
    wanted = tdi_config or ("APPLIED" if "APPLIED" in lists else next(iter(lists)))
    if wanted not in lists:
        raise _Bad(f"no {wanted} viewing directions (the file has {', '.join(lists)})",
                   "DATA/VIEWING_DIRECTIONS_LIST")
    detectors = []
    for v in lists[wanted].findall("VIEWING_DIRECTIONS"):
        where = f"DATA/VIEWING_DIRECTIONS_LIST[@tdi_config='{wanted}']/VIEWING_DIRECTIONS[@detector_id='{v.get('detector_id')}']"
        d = {"detector": int(v.get("detector_id")), "n_pixels": int(_text(v, "NB_OF_PIXELS"))}
        for tag, name in (("TAN_PSI_X_LIST", "tan_psi_x"), ("TAN_PSI_Y_LIST", "tan_psi_y")):
            a = np.array(_text(v, tag).split(), dtype=np.float64)
            if not np.all(np.isfinite(a)):
                raise _Bad(f"non-finite value at pixel {int(np.flatnonzero(~np.isfinite(a))[0])}", f"{where}/{tag}")
            if len(a) != d["n_pixels"]:
                raise _Bad(f"{len(a)} values but NB_OF_PIXELS is {d['n_pixels']}", f"{where}/{tag}")
            d[name] = a
        detectors.append(d)
    return {"band": band, "tdi_config": wanted, "detectors": detectors}


def _spamod(data: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    g = data.find("GSE")
    if g is not None:
        out["gse"] = {
            "offset_imu": float(_text(g, "OFFSET_IMU")), "offset_str": float(_text(g, "OFFSET_STR")),
            "star_trackers": [{"vector": [float(x) for x in _text(g, f"STR{i}_ATT_QUATERNION/VECTOR").split()],
                               "scalar": float(_text(g, f"STR{i}_ATT_QUATERNION/SCALAR"))} for i in (1, 2, 3)],
            "str_innov_thd": [float(x) for x in _text(g, "STR_INNOV_THD").split()]}
    la = data.find("LOCATION_ACCURACY")
    out["location_accuracy"] = {
        "absolute_location": float(_text(la, "ABSOLUTE_LOCATION")),
        "planimetric_stability": float(_text(la, "PLANIMETRIC_STABILITY")),
        "dop_values": [float(x) for x in _text(la, "DOP_QUALITY/VALUES").split()],
        "dop_quality": _text(la, "DOP_QUALITY/QUALITY_INDICATOR").split()}
    out["piloting_to_msi"] = _rotation(data.find("PILOTING_TO_MSI_FRAME"), "DATA/PILOTING_TO_MSI_FRAME")
    for plane in ("VNIR", "SWIR"):
        out[f"msi_to_{plane.lower()}"] = _rotation(data.find(f"MSI_TO_FOCAL_PLANE/MSI_TO_{plane}"),
                                                   f"DATA/MSI_TO_FOCAL_PLANE/MSI_TO_{plane}")
        tag = f"FOCAL_PLANE_TO_DETECTOR_{plane}"
        out[f"focal_plane_to_detector_{plane.lower()}"] = [
            _rotation(e, f"DATA/FOCAL_PLANE_TO_DETECTOR/{tag}[@detector_id='{e.get('detector_id')}']",
                      detector=int(e.get("detector_id")))
            for e in data.findall(f"FOCAL_PLANE_TO_DETECTOR/{tag}")]
    return out


def _blindp(data: etree._Element) -> dict[str, Any]:
    bands = []
    for b in data.findall("BAND"):
        detectors = []
        for d in b.findall("DETECTOR"):
            sides = {s.get("side_id"): {"valid": [int(x) for x in _text(s, "VALID_BLIND_PIXELS").split()],
                                        "non_valid": [int(x) for x in _text(s, "NON_VALID_BLIND_PIXELS").split()]}
                     for s in d.findall("SIDE")}
            detectors.append({"detector": int(d.get("detector_id")),
                              "normalization_coef": float(_text(d, "NORMALIZATION_COEF")),
                              "left": sides["LEFT"], "right": sides["RIGHT"]})
        bands.append({"band": _band_name(b.get("band_id"), f"DATA/BAND[@band_id='{b.get('band_id')}']"),
                      "blind_pixel_number": int(_text(b, "BLIND_PIXEL_NUMBER")), "detectors": detectors})
    return {"bands": bands}


def _data_path(path: Path) -> Path:
    if path.suffix.upper() != ".HDR":
        return path
    for suffix in (".DBL", ".dbl"):
        if path.with_suffix(suffix).is_file():
            return path.with_suffix(suffix)
    raise FormatError("no .DBL data block beside this header", source=path, code=ExitCode.XML_ERROR)


def read_gs2(path: Path | str, cls: type[Gs2Model] | None = None, tdi_config: str | None = None) -> Gs2Model:
    """Read a GS2 GIPP (``.xml``, ``.DBL``, or ``.HDR`` whose ``.DBL`` is beside it) as its model.

    The model class is chosen by the root element (``cls``, when given, must match it). For a
    GIP_VIEDIR, ``tdi_config`` selects the list kept (default ``APPLIED`` when present, else the
    first). A file breaking the XSD or the models (non-finite values, NB_OF_PIXELS differing
    from the list lengths, a detector twice...) is a :class:`FormatError` naming the element."""
    path = _data_path(Path(path))
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    root = tree.getroot().tag
    found = GS2_TYPES.get(root)
    if found is None or (cls is not None and cls is not found):
        expected = cls.ROOT if cls is not None else " or ".join(GS2_TYPES)
        raise FormatError(f"root element is <{root}>, expected <{expected}>", source=path,
                          element=f"/{root}", code=ExitCode.XML_ERROR)
    cls = found
    xmlio.validate(tree, f"{SCHEMA_FOLDER}/{cls.SCHEMA}", source=path, error=FormatError, code=ExitCode.XML_ERROR)
    r = tree.getroot()
    try:
        values: dict[str, Any] = {
            "header": {"satellite": _text(r, "HEADER/SATELLITE"), "scheme_version": _text(r, "HEADER/SCHEME_VERSION"),
                       "production_date": _utc(_text(r, "HEADER/PRODUCTION_DATE")),
                       "provider": _text(r, "HEADER/PROVIDER"), "consumer": _text(r, "HEADER/CONSUMER")},
            "specific_header": {
                "type": _text(r, "SPECIFIC_HEADER/TYPE"),
                "applicability_date": _utc(_text(r, "SPECIFIC_HEADER/APPLICABILITY_DATE")),
                "applicability_end_date": (_utc(_text(r, "SPECIFIC_HEADER/APPLICABILITY_END_DATE"))
                                           if r.find("SPECIFIC_HEADER/APPLICABILITY_END_DATE") is not None else None),
                "version_number": _text(r, "SPECIFIC_HEADER/VERSION_NUMBER"),
                "parameter_id": _text(r, "SPECIFIC_HEADER/PARAMETER_ID")}}
        data = r.find("DATA")
        if cls is GIP_VIEDIR:
            values.update(_viedir(data, tdi_config))
        elif cls is GIP_SPAMOD:
            values.update(_spamod(data))
        else:
            values.update(_blindp(data))
        return cls.model_validate(values)
    except _Bad as exc:
        raise FormatError(str(exc), source=path, element=exc.element, code=ExitCode.XML_ERROR) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "/".join(["DATA"] + [str(p) for p in err["loc"]])
        raise FormatError(err["msg"], source=path, element=where, code=ExitCode.XML_ERROR) from None
    except ValueError as exc:
        raise FormatError(f"{type(exc).__name__}: {exc}", source=path, element="DATA",
                          code=ExitCode.XML_ERROR) from None


# --------------------------------------------------------------------------- selection
class Gs2Validity(_Model):
    """What choosing among versions of a GS2 GIPP reads: type, band (``DATA/BAND_ID``, ``B00``
    for GIP_SPAMOD and GIP_BLINDP), applicability period (naive UTC; open end: 2100-01-01),
    creation (``PRODUCTION_DATE``) and ``VERSION_NUMBER``; of a ``.HDR``/``.DBL`` pair, the
    period, creation and version of the Earth Explorer ``.HDR``."""

    file_type: str
    band: str
    validity_start: datetime
    validity_stop: datetime
    creation_date: datetime
    file_version: str

    def covers(self, start: datetime, stop: datetime) -> bool:
        """True when the applicability period holds ``start`` to ``stop`` (naive = UTC)."""
        return self.validity_start <= _naive(start) and _naive(stop) <= self.validity_stop


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def read_gs2_validity(path: Path | str) -> Gs2Validity:
    """The :class:`Gs2Validity` of a GS2 GIPP (``.xml``, or the ``.HDR`` or ``.DBL`` of a pair);
    FormatError naming the element for a header that cannot be read."""
    path = Path(path)
    hdr = path.with_suffix(".HDR")
    hdr = hdr if path.suffix.upper() == ".HDR" or (path.suffix.upper() == ".DBL" and hdr.is_file()) else None
    data = _data_path(path)
    r = xmlio.parse(data, error=FormatError, code=ExitCode.XML_ERROR).getroot()
    cls = GS2_TYPES.get(r.tag)
    if cls is None:
        raise FormatError(f"root element is <{r.tag}>, expected <{' or '.join(GS2_TYPES)}>", source=data,
                          element=f"/{r.tag}", code=ExitCode.XML_ERROR)
    where = "DATA/BAND_ID"
    try:
        band = _band_name(_text(r, where), where) if cls is GIP_VIEDIR else "B00"
        if hdr is not None:
            h = gipp.read_header(hdr)
            if h.file_type != cls.FILE_TYPE:
                raise FormatError(f"File_Type is {h.file_type!r}, the data block is a {cls.FILE_TYPE}",
                                  source=hdr, element="Earth_Explorer_Header/Fixed_Header/File_Type",
                                  code=ExitCode.XML_ERROR)
            return Gs2Validity(file_type=cls.FILE_TYPE, band=band, validity_start=h.validity_start,
                               validity_stop=h.validity_stop, creation_date=h.creation_date,
                               file_version=h.file_version)
        where = "SPECIFIC_HEADER/APPLICABILITY_DATE"
        start = _utc(_text(r, where))
        where = "SPECIFIC_HEADER/APPLICABILITY_END_DATE"
        stop = _utc(_text(r, where)) if r.find(where) is not None else DEFAULT_VALIDITY_STOP
        where = "HEADER/PRODUCTION_DATE"
        created = _utc(_text(r, where))
        where = "SPECIFIC_HEADER/VERSION_NUMBER"
        return Gs2Validity(file_type=cls.FILE_TYPE, band=band, validity_start=_naive(start),
                           validity_stop=_naive(stop), creation_date=_naive(created),
                           file_version=_text(r, where))
    except _Bad as exc:
        raise FormatError(str(exc), source=data, element=exc.element, code=ExitCode.XML_ERROR) from None
    except ValueError as exc:
        raise FormatError(f"bad value: {exc}", source=data, element=where, code=ExitCode.XML_ERROR) from None


def select_gs2(paths: Iterable[Path | str] | Path | str, file_type: str, band: str = "B00",
               start: datetime | None = None, stop: datetime | None = None) -> Path:
    """The GS2 GIPP of ``file_type`` and ``band`` the IPF uses among ``paths`` (a path, or every
    file the Job Order lists): the rule of :func:`ipf.formats.gipp.select_gipp` (validity
    covering ``start`` to ``stop``, UTC, then the latest creation, then the highest version) on
    :func:`read_gs2_validity`. None valid is an InputError naming the type, band and period."""
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    return gipp.select_among([(read_gs2_validity(p), Path(p)) for p in paths], file_type, band, start, stop)


def select_gs2_bands(paths: Iterable[Path | str], file_type: str, start: datetime | None = None,
                     stop: datetime | None = None) -> dict[str, Path]:
    """:func:`select_gs2` for every band of which ``paths`` hold a ``file_type`` file (band ->
    path, in band order)."""
    headers = [(read_gs2_validity(p), Path(p)) for p in paths]
    bands = sorted({h.band for h, _ in headers if h.file_type == file_type}, key=lambda b: BY_NAME[b].index)
    return {b: gipp.select_among(headers, file_type, b, start, stop) for b in bands}
