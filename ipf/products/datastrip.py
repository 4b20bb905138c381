"""Typed entries of the datastrip products (L0c, L1A, L1B) and their accessors over an ImageStore.

A datastrip store (:class:`~ipf.products.store.ImageStore`) holds, besides its images, product
entries in its ``index.json``:

- :class:`DatastripInfo` (every L0c, L1A and L1B store): identity and sensing times of the
  datastrip, the wavelet levels of its compression, the image size and quantisation step of each
  band (:class:`BandImage`), the 10 m lines of each granule (:class:`GranuleLines`), the packet
  quality FORMAT_ISP found per granule and band (:class:`PacketQuality`) and the name of the L0
  datastrip metadata file the store holds a copy of (read as
  :class:`ipf.formats.l0_metadata.Datastrip` by :attr:`DatastripInfo.metadata`);
- :class:`RefinedGeometry` (final L1B, written by GEO1B_FINALIZE): whether the attitude was
  refined, its correction (:class:`AttitudeCorrection`) and the residuals;
- :class:`QuickLookGrid` (QL_GEO store): band, step, UTM zone and time of the quick-look grid.

Tasks read and write these entries only through the functions here (``read_*`` / ``write_*``);
an entry a store lacks is an :class:`~ipf.interface.errors.InputError` naming the store.

Images are named by :func:`image_name` (``<prefix>_<band>_D<detector:02d>``, prefixes
:data:`BLOCKS`, :data:`DN`, :data:`RADIANCE` ...). Their attributes are typed per image kind
(:class:`ImageAttrs` and its subclasses: :class:`RadianceAttrs` of RADIO_AB, :class:`BlocksAttrs`
of FORMAT_ISP, :class:`QuickLookNodesAttrs` of QL_GEO ...), written with :func:`write_image` and
read with :func:`read_image`, :func:`image_attrs`, :func:`find_images` (and
:func:`read_radiance`, :func:`radiance_images` for the L1B radiance); an image a store lacks is an
InputError, attributes that do not fit the model a FormatError. :func:`sensor_model` is the sensor model of a store's datastrip,
with the refined attitude of its geometry entry. The models dump to the JSON the stores always had (keys, values
and types), so stores stay byte-identical.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ipf.formats import l0_metadata
from ipf.formats.msi_bands import BY_NAME
from ipf.formats.sensor_model import read_sensor_model
from ipf.geometry.sensor import SensorModel, corrected_model
from ipf.interface.errors import InputError
from ipf.interface.files import atomic_path, link_or_copy
from ipf.products._base import IsoDatetime, index_value, open_store
from ipf.products.store import ImageStore, image_name
from ipf.radiometry import masks

__all__ = [
    "PacketQuality", "BandImage", "GranuleLines", "DatastripInfo", "AttitudeCorrection", "RefinedGeometry", "QuickLookGrid",
    "open_store", "read_datastrip", "write_datastrip", "read_geometry", "write_geometry",
    "read_ql_grid", "write_ql_grid", "sensor_model", "image_name", "PACKET_COUNTS", "GranuleStatus",
    "BLOCKS", "BLOCK_TABLE", "LINE_TIME", "LINE_VALID", "DN", "RADIANCE", "MASK", "LON", "LAT",
    "HEIGHT", "COS_SZA", "CLOUD", "LINE_TIME_UNIT", "RADIANCE_UNIT",
    "ImageAttrs", "BlocksAttrs", "BlockTableAttrs", "LineTimeAttrs", "LineValidAttrs", "DnAttrs",
    "RadianceAttrs", "MaskAttrs", "QuickLookNodesAttrs", "CloudMaskAttrs",
    "write_image", "has_image", "image_attrs", "find_images", "read_image", "read_radiance",
    "radiance_images",
]

BLOCKS, BLOCK_TABLE, LINE_TIME, LINE_VALID = "blocks", "table", "time", "valid"
"""Image prefixes of an L0c store (FORMAT_ISP): compressed blocks, block table, line times and
line validity (per band and detector); L1A and L1B stores keep the line times (and L1A the
validity)."""
DN, RADIANCE, MASK = "dn", "radiance", "mask"
"""Image prefixes of the L1A counts (DECOMP) and of the L1B radiance and quality mask (RADIO_AB)."""
LON, LAT, HEIGHT, COS_SZA = "lon", "lat", "height", "cos_sza"
"""Image prefixes (and kinds) of a QL_GEO store: the quick-look grid nodes per detector."""
CLOUD = "cloud"
"""Image prefix of the quick-look cloud mask (QL_CLOUD_MASK) per detector."""
LINE_TIME_UNIT = "s since 2000-01-01T00:00:00Z"
RADIANCE_UNIT = "W m-2 sr-1 um-1"


_DATASTRIP, _GEOMETRY, _QL = "__datastrip__", "__geometry__", "__ql__"

PACKET_COUNTS = ("n_packets", "crc_errors", "sequence_gaps", "lost_packets", "time_jumps",
                 "time_jumps_redated", "time_jumps_dropped", "incomplete_groups", "foreign_packets")
"""The packet counts of :class:`PacketQuality` (:meth:`ipf.formats.ccsds.DecodeReport.as_dict`)."""


class GranuleStatus(StrEnum):
    """Status of an L0 granule in the FORMAT_METADATA_GR_L0C report: ``DEGRADED`` when a line is
    invalid or a packet was faulty, ``MISSING`` when FORMAT_ISP was not given the granule."""

    NOMINAL = "NOMINAL"
    DEGRADED = "DEGRADED"
    MISSING = "MISSING"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def entry(self) -> dict:
        """The JSON value of the entry in ``index.json`` (only the fields that were set)."""
        return self.model_dump(mode="json", exclude_unset=True)


class PacketQuality(_Entry):
    """Packet quality of one band of one L0 granule (FORMAT_ISP): the CCSDS decoding counts,
    the lines of the band in the granule and how many of them are invalid."""

    granule: str
    detector: int
    band: str
    n_packets: int
    crc_errors: int
    sequence_gaps: int
    lost_packets: int = 0
    time_jumps: int
    time_jumps_redated: int = 0
    time_jumps_dropped: int = 0
    incomplete_groups: int = 0
    truncated: bool = False
    foreign_packets: int = 0
    invalid_lines: int
    lines: int


class BandImage(_Entry):
    """One band of the datastrip as FORMAT_ISP found it in the packets: ``resolution`` (m), band
    ``lines`` over the datastrip and the on-board quantisation step (the pixels per line, which
    may differ between detectors, are in the attributes of each image)."""

    band: str
    resolution: int
    lines: int
    quantisation_step: int


class GranuleLines(_Entry):
    """One L0 granule: identifier, detector and its 10 m lines (first, 0-based, and count)."""

    granule: str
    detector: int
    first_line_10m: int
    lines_10m: int


class DatastripInfo(_Entry):
    """The datastrip entry of an L0c, L1A or L1B store (``sensing_*`` UTC).

    ``metadata_file`` names the copy of the L0 datastrip metadata in the store (written by
    :func:`write_datastrip`); :attr:`metadata` reads it (once) when the entry was read from a
    store with :func:`read_datastrip`."""

    kind: Literal["datastrip"] = "datastrip"
    identifier: str
    spacecraft: str
    sensing_start: IsoDatetime
    sensing_stop: IsoDatetime
    wavelet_levels: int
    bands: list[BandImage]
    granules: list[GranuleLines]
    quality: list[PacketQuality]
    metadata_file: str
    _root: Path | None = PrivateAttr(default=None)
    _metadata: l0_metadata.Datastrip | None = PrivateAttr(default=None)

    def entry(self) -> dict:
        return {**super().entry(), "kind": self.kind}

    def band(self, name: str) -> BandImage:
        """The :class:`BandImage` of band ``name``; InputError when the datastrip has none."""
        for b in self.bands:
            if b.band == name:
                return b
        raise InputError(f"no band {name} in the datastrip {self.identifier}", element=name)

    @property
    def metadata_path(self) -> Path:
        """The store's copy of the L0 datastrip metadata (InputError when the entry was not read
        from a store)."""
        if self._root is None:
            raise InputError(f"datastrip {self.identifier}: entry not read from a store", element=_DATASTRIP)
        return self._root / self.metadata_file

    @property
    def metadata(self) -> l0_metadata.Datastrip:
        """The L0 datastrip metadata (validated, ancillary data checked)."""
        if self._metadata is None:
            self._metadata = l0_metadata.read_datastrip_metadata(self.metadata_path)
        return self._metadata


class AttitudeCorrection(_Entry):
    """Attitude correction ``Rot(bias + drift · t)`` (piloting frame, rad and rad/s; t in s from
    the geometry's ``reference_time``)."""

    bias_rad: list[float]
    drift_rad_s: list[float]


class RefinedGeometry(_Entry):
    """The geometry entry of a final L1B store (GEO1B_FINALIZE): the attitude correction when
    ``refined``, else the ``reason`` it was not; residuals in pixel of ``image_band``."""

    refined: bool
    reference_time: IsoDatetime
    tie_points: int
    attitude_correction: AttitudeCorrection | None = None
    image_band: str | None = None
    reason: str | None = None
    residuals: dict[str, dict[str, float]] | None = None


class QuickLookGrid(_Entry):
    """The grid entry of a QL_GEO store: nodes every ``step`` pixels of ``band`` (UTM ``epsg``).
    ``sensing_mid`` holds the datastrip's sensing start (the value QL_GEO always wrote; the key
    keeps its name so stores stay byte-identical)."""

    kind: Literal["ql_grid"] = "ql_grid"
    band: str
    step: int
    epsg: int
    sensing_mid: IsoDatetime

    def entry(self) -> dict:
        return {**super().entry(), "kind": self.kind}


def _read(store: ImageStore, key: str, model: type[_Entry], what: str) -> _Entry:
    return index_value(store, key, model, missing=f"no {what} entry in the store",
                       invalid=f"not a {what} entry")


def read_datastrip(store: ImageStore | os.PathLike | str) -> DatastripInfo:
    """The datastrip entry of an L0c, L1A or L1B store; InputError when it has none, and when the
    metadata file it names is not in the store."""
    store = open_store(store)
    info = _read(store, _DATASTRIP, DatastripInfo, "datastrip")
    if not (store.root / info.metadata_file).is_file():
        raise InputError(f"the datastrip metadata file {info.metadata_file} is not in the store",
                         source=store.root / "index.json", element=_DATASTRIP)
    info._root = store.root
    return info


def write_datastrip(store: ImageStore, info: DatastripInfo, metadata: os.PathLike | str | None = None) -> None:
    """Set the datastrip entry of ``store`` (published by ``store.flush()``) and put in the store
    the datastrip metadata file: ``metadata`` (an L0 datastrip metadata file), else the one of
    the store ``info`` was read from (a hard link, a copy across file systems)."""
    source = Path(metadata) if metadata is not None else info.metadata_path
    if source.name != info.metadata_file:
        raise ValueError(f"metadata file {source.name} is not the entry's {info.metadata_file}")
    target = store.root / info.metadata_file
    if source.resolve() != target.resolve():
        store.root.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            link_or_copy(source, tmp)
    store.index[_DATASTRIP] = info.entry()


def read_geometry(store: ImageStore | os.PathLike | str, missing_ok: bool = False
                  ) -> RefinedGeometry | None:
    """The refined geometry entry of a final L1B store (GEO1B_FINALIZE); ``None`` when the store
    has none and ``missing_ok``, else InputError."""
    store = open_store(store)
    if missing_ok and _GEOMETRY not in store.index:
        return None
    return _read(store, _GEOMETRY, RefinedGeometry, "refined geometry (GEO1B_FINALIZE)")


def write_geometry(store: ImageStore, geometry: RefinedGeometry) -> None:
    """Set the refined geometry entry of ``store`` (published by ``store.flush()``)."""
    store.index[_GEOMETRY] = geometry.entry()


def read_ql_grid(store: ImageStore | os.PathLike | str) -> QuickLookGrid:
    """The quick-look grid entry of a QL_GEO store; InputError when it has none."""
    return _read(open_store(store), _QL, QuickLookGrid, "quick-look grid (QL_GEO)")


def write_ql_grid(store: ImageStore, grid: QuickLookGrid) -> None:
    """Set the quick-look grid entry of ``store`` (published by ``store.flush()``)."""
    store.index[_QL] = grid.entry()


def sensor_model(store: ImageStore | os.PathLike | str, ut1utc_file: Path, spamod_files: Path | Iterable[Path],
                 viedir_files: Iterable[Path], refined: bool = True) -> SensorModel:
    """The sensor model of the datastrip of an L0c, L1A or L1B store (or its directory), with the
    AUX_UT1UTC, GIP_SPAMOD and GIP_VIEDIR files (every version listed; the ones valid over the
    sensing period chosen by :func:`ipf.formats.sensor_model.read_sensor_model`):
    the given attitude, corrected (:func:`ipf.geometry.sensor.corrected_model`) when
    ``refined`` and the store's refined geometry (GEO1B_FINALIZE) says it was refined."""
    store = open_store(store)
    model = read_sensor_model(read_datastrip(store).metadata, ut1utc_file, spamod_files, viedir_files)
    geometry = read_geometry(store, missing_ok=True)
    if not (refined and geometry is not None and geometry.refined):
        return model
    c = geometry.attitude_correction
    return corrected_model(model, c.bias_rad, c.drift_rad_s, geometry.reference_time)


# --------------------------------------------------------------------------- images
class ImageAttrs(BaseModel):
    """Attributes of an image of one ``band`` and ``detector`` of a datastrip store: its
    ``resolution`` (m) and the ``lines`` and ``pixels`` of the band's image (a binned L1B image
    keeps the L1A ``lines``). ``kind`` tells the image kind; the image is named
    ``image_name(prefix, band, detector)``. The ``shape`` and ``dtype`` the store adds are not
    part of the model."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    prefix: ClassVar[str]

    kind: str
    band: str
    detector: int
    resolution: int
    lines: int
    pixels: int

    @property
    def name(self) -> str:
        """Name of the image in the store."""
        return image_name(self.prefix, self.band, self.detector)

    def attrs(self) -> dict:
        """The attributes as stored in ``index.json`` (with the store's ``shape`` and ``dtype``)."""
        return self.model_dump()


class BlocksAttrs(ImageAttrs):
    """FORMAT_ISP: the compressed blocks of one band and detector, concatenated (uint8)."""

    prefix: ClassVar[str] = BLOCKS
    kind: Literal["blocks"] = "blocks"


class BlockTableAttrs(ImageAttrs):
    """FORMAT_ISP: one row per block of :class:`BlocksAttrs` (int64 ``columns``)."""

    prefix: ClassVar[str] = BLOCK_TABLE
    kind: Literal["block_table"] = "block_table"
    columns: list[str] = ["first_line", "lines", "offset", "length"]


class LineTimeAttrs(ImageAttrs):
    """The time of every line (float64, :data:`LINE_TIME_UNIT`, NaN for a line never received)."""

    prefix: ClassVar[str] = LINE_TIME
    kind: Literal["line_time"] = "line_time"
    unit: str = LINE_TIME_UNIT


class LineValidAttrs(ImageAttrs):
    """Whether every line was received (and, in L1A, decoded) (bool)."""

    prefix: ClassVar[str] = LINE_VALID
    kind: Literal["line_valid"] = "line_valid"


class DnAttrs(ImageAttrs):
    """DECOMP: the raw counts (uint16, 0 on invalid lines)."""

    prefix: ClassVar[str] = DN
    kind: Literal["dn"] = "dn"
    unit: str = "DN"


class RadianceAttrs(ImageAttrs):
    """RADIO_AB: the radiance (float32, :data:`RADIANCE_UNIT`), with the GIP_R2ABCA
    ``absolute_gain`` (DN per radiance unit) and ``solar_irradiance`` (W m-2 µm-1 at 1 AU) of the
    band and the correction ``steps`` applied."""

    prefix: ClassVar[str] = RADIANCE
    kind: Literal["radiance"] = "radiance"
    unit: str = RADIANCE_UNIT
    steps: list[str]
    absolute_gain: float
    solar_irradiance: float


class MaskAttrs(ImageAttrs):
    """RADIO_AB: the quality mask (uint8 bit field ``bits``, :mod:`ipf.radiometry.masks`)."""

    prefix: ClassVar[str] = MASK
    kind: Literal["mask"] = "mask"
    bits: dict[str, int] = {"SATURATED": int(masks.SATURATED), "NO_DATA": int(masks.NO_DATA),
                            "DEFECTIVE": int(masks.DEFECTIVE)}


class QuickLookNodesAttrs(ImageAttrs):
    """QL_GEO: one value per quick-look node (float64; ``kind`` one of :data:`LON`,
    :data:`LAT`, :data:`HEIGHT`, :data:`COS_SZA`),
    nodes every ``step`` pixels of ``band``; ``lines`` and ``pixels`` count the nodes."""

    kind: Literal["lon", "lat", "height", "cos_sza"]
    step: int

    @property
    def name(self) -> str:
        return image_name(self.kind, self.band, self.detector)


class CloudMaskAttrs(BaseModel):
    """QL_CLOUD_MASK: the cloud mask (uint8) of a detector on its quick-look grid of ``step``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["cloud_mask"] = "cloud_mask"
    detector: int
    step: int

    def attrs(self) -> dict:
        return self.model_dump()


_Attrs = TypeVar("_Attrs", bound=BaseModel)


def write_image(store: ImageStore, array: np.ndarray, attrs: BaseModel, name: str | None = None
                ) -> None:
    """Add image ``name`` (default ``attrs.name``) with the attributes ``attrs`` (published by
    ``store.flush()``)."""
    store.write(name or attrs.name, array, **attrs.attrs())


def has_image(store: ImageStore, prefix: str, band: str, detector: int) -> bool:
    """Whether ``store`` holds image ``image_name(prefix, band, detector)``."""
    return image_name(prefix, band, detector) in store.index


def image_attrs(store: ImageStore, model: type[_Attrs], name: str) -> _Attrs:
    """The attributes of image ``name`` as a ``model``."""
    return index_value(store, name, model, missing=f"no image {name!r} in the store",
                       invalid=f"not a {model.__name__} image")


def find_images(store: ImageStore, model: type[_Attrs], **match) -> list[_Attrs]:
    """Attributes of the images of the kind of ``model`` (or ``kind=``) whose attributes equal
    every ``match`` keyword, in name order."""
    kind = match.pop("kind", None) or model.model_fields["kind"].default
    return [image_attrs(store, model, n) for n in store.names(kind=kind, **match)]


def read_image(store: ImageStore, prefix: str, band: str, detector: int, mmap: bool = True
               ) -> np.ndarray:
    """Image ``image_name(prefix, band, detector)`` (memory-mapped read-only unless ``mmap`` is
    false); InputError when the store lacks it."""
    name = image_name(prefix, band, detector)
    if name not in store.index:
        raise InputError(f"no image {name!r} in the store", source=store.root / "index.json",
                         element=name)
    return store.read(name, mmap=mmap)


def read_radiance(store: ImageStore | os.PathLike | str, band: str, detector: int
                  ) -> tuple[np.ndarray, RadianceAttrs]:
    """The L1B radiance of ``band`` and ``detector`` (memory-mapped) and its attributes."""
    store = open_store(store)
    attrs = image_attrs(store, RadianceAttrs, image_name(RADIANCE, band, detector))
    return store.read(attrs.name), attrs


def radiance_images(store: ImageStore | os.PathLike | str) -> list[RadianceAttrs]:
    """Attributes of the L1B radiance images in band (B01..B8A..B12) then detector order;
    InputError when there is none (not an L1B store)."""
    store = open_store(store)
    images = find_images(store, RadianceAttrs)
    if not images:
        raise InputError("no radiance image (not an L1B product?)", source=store.root / "index.json")
    return sorted(images, key=lambda a: (BY_NAME[a.band].index, a.detector))
