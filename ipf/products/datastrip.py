"""Typed entries of the datastrip products (L0c, L1A, L1B) and their accessors over an ImageStore.

A datastrip store (:class:`~ipf.products.store.ImageStore`) holds, besides its images, product
entries in its ``index.json``:

- :class:`DatastripInfo` (every L0c, L1A and L1B store): identity and sensing times of the
  datastrip, the wavelet levels of its compression, the packet quality FORMAT_ISP found per
  granule and band (:class:`PacketQuality`) and the L0 datastrip metadata
  (:class:`ipf.formats.l0.Datastrip`);
- :class:`RefinedGeometry` (final L1B, written by GEO1B_FINALIZE): whether the attitude was
  refined, its correction (:class:`AttitudeCorrection`) and the residuals;
- :class:`QuickLookGrid` (QL_GEO store): band, step, UTM zone and time of the quick-look grid.

Tasks read and write these entries only through the functions here (``read_*`` / ``write_*``);
an entry a store lacks is an :class:`~ipf.interface.errors.InputError` naming the store. Images
are named by :func:`image_name`. :func:`sensor_model` is the sensor model of a store's datastrip,
with the refined attitude of its geometry entry. The models dump to the JSON the stores always had (keys, values
and types), so stores stay byte-identical.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError

from ipf.formats import l0
from ipf.formats.sensor_model import read_sensor_model
from ipf.geometry.sensor import SensorModel, corrected_model
from ipf.interface.errors import FormatError, InputError
from ipf.products.store import ImageStore, image_name

__all__ = [
    "PacketQuality", "DatastripInfo", "AttitudeCorrection", "RefinedGeometry", "QuickLookGrid",
    "open_store", "read_datastrip", "write_datastrip", "read_geometry", "write_geometry",
    "read_ql_grid", "write_ql_grid", "sensor_model", "image_name", "PACKET_COUNTS",
]

IsoDatetime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]
"""A time written as :meth:`datetime.isoformat` (``+00:00``, not pydantic's ``Z``)."""

_DATASTRIP, _GEOMETRY, _QL = "__datastrip__", "__geometry__", "__ql__"

PACKET_COUNTS = ("n_packets", "crc_errors", "sequence_gaps", "lost_packets", "time_jumps",
                 "time_jumps_redated", "time_jumps_dropped", "incomplete_groups")
"""The packet counts of :class:`PacketQuality` (:meth:`ipf.formats.ccsds.DecodeReport.as_dict`)."""


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
    invalid_lines: int
    lines: int


class DatastripInfo(_Entry):
    """The datastrip entry of an L0c, L1A or L1B store (``sensing_*`` UTC)."""

    kind: Literal["datastrip"] = "datastrip"
    identifier: str
    spacecraft: str
    sensing_start: IsoDatetime
    sensing_stop: IsoDatetime
    wavelet_levels: int
    quality: list[PacketQuality]
    metadata: l0.Datastrip

    @classmethod
    def from_l0(cls, ds: l0.Datastrip, quality: list[PacketQuality]) -> DatastripInfo:
        """The entry of L0 datastrip ``ds`` with the packet quality FORMAT_ISP found."""
        return cls(identifier=ds.identifier, spacecraft=ds.spacecraft,
                   sensing_start=ds.sensing_start, sensing_stop=ds.sensing_stop,
                   wavelet_levels=ds.wavelet_levels, quality=quality, metadata=ds)

    def entry(self) -> dict:
        return {**super().entry(), "kind": self.kind,
                "metadata": self.metadata.model_dump(mode="json")}


class AttitudeCorrection(_Entry):
    """Attitude correction ``Rot(bias + drift · t)`` (body frame, rad and rad/s; t in s from
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
    """The grid entry of a QL_GEO store: nodes every ``step`` pixels of ``band`` (UTM ``epsg``)."""

    kind: Literal["ql_grid"] = "ql_grid"
    band: str
    step: int
    epsg: int
    sensing_mid: IsoDatetime

    def entry(self) -> dict:
        return {**super().entry(), "kind": self.kind}


def open_store(store: ImageStore | os.PathLike | str) -> ImageStore:
    """``store`` itself, or the ImageStore of directory ``store``."""
    return store if isinstance(store, ImageStore) else ImageStore(store)


def _read(store: ImageStore, key: str, model: type[_Entry], what: str) -> _Entry:
    value = store.index.get(key)
    if value is None:
        raise InputError(f"no {what} entry in the store", source=store.root / "index.json",
                         element=key)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise FormatError(f"not a {what} entry: {str(exc).splitlines()[0]}",
                          source=store.root / "index.json", element=key) from None


def read_datastrip(store: ImageStore | os.PathLike | str) -> DatastripInfo:
    """The datastrip entry of an L0c, L1A or L1B store; InputError when it has none."""
    return _read(open_store(store), _DATASTRIP, DatastripInfo, "datastrip")


def write_datastrip(store: ImageStore, info: DatastripInfo) -> None:
    """Set the datastrip entry of ``store`` (published by ``store.flush()``)."""
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


def sensor_model(store: ImageStore | os.PathLike | str, orbit_file: Path, attitude_file: Path,
                 spamod_file: Path, viedir_files: Iterable[Path], refined: bool = True
                 ) -> SensorModel:
    """The sensor model of the datastrip of an L1B store (or its directory), with the AUX_RESORB,
    AUX_SADATT, GIP_SPAMOD and GIP_VIEDIR files (:func:`ipf.geometry.sensor.read_sensor_model`):
    the given attitude, corrected (:func:`ipf.geometry.sensor.corrected_model`) when
    ``refined`` and the store's refined geometry (GEO1B_FINALIZE) says it was refined."""
    store = open_store(store)
    model = read_sensor_model(read_datastrip(store).metadata, orbit_file, attitude_file,
                              spamod_file, viedir_files)
    geometry = read_geometry(store, missing_ok=True)
    if not (refined and geometry is not None and geometry.refined):
        return model
    c = geometry.attitude_correction
    return corrected_model(model, c.bias_rad, c.drift_rad_s, geometry.reference_time)
