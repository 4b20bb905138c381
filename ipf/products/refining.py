"""The files of the L1B geometric refining: tie points and the refined model.

- :class:`TiePointsFile`: TIE_POINTS (TP_COLLECT) and HOMOLOG_POINTS_LIST (TP_FILTER);
- :class:`RefinedModel`: REFINED_MODEL (SPATIO), read by GEO1B_FINALIZE.

Read with :func:`read_tie_points` and :func:`read_refined_model` (a file that is not UTF-8 JSON
of the model, or names a band that is not an MSI band, is a
:class:`~ipf.interface.errors.FormatError` naming it); written with :func:`write_json` (sorted
keys, one space indent).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict

from ipf.formats.msi_bands import BY_NAME
from ipf.geometry import refining
from ipf.products._base import read_json, write_json

__all__ = ["MsiBand", "TiePointsFile", "AttitudeCorrectionModel", "RefinedModel", "tie_points_file",
           "read_tie_points", "read_refined_model", "write_json"]


def _msi_band(name: str) -> str:
    if name not in BY_NAME:
        raise ValueError(f"{name!r} is not an MSI band")
    return name


MsiBand = Annotated[str, AfterValidator(_msi_band)]
"""A band name of :data:`ipf.formats.msi_bands.BY_NAME` (``B01`` .. ``B8A`` .. ``B12``)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TiePointsFile(_Model):
    """TIE_POINTS / HOMOLOG_POINTS_LIST: one list per :class:`~ipf.geometry.refining.TiePoints`
    column; E, N in m of UTM zone ``epsg``, h ellipsoidal m, line/pixel of ``image_band``."""

    kind: Literal["tie_points"] = "tie_points"
    datastrip: str
    image_band: MsiBand
    gri_band: str
    epsg: int
    filtered: bool
    candidates: int
    band: list[MsiBand]
    detector: list[int]
    line: list[float]
    pixel: list[float]
    e: list[float]
    n: list[float]
    h: list[float]
    score: list[float]
    dline: list[float]
    dpixel: list[float]

    def tie_points(self) -> refining.TiePoints:
        return refining.TiePoints(np.asarray(self.band, "<U3"), np.asarray(self.detector, np.int64),
                                  *(np.asarray(getattr(self, k), np.float64)
                                    for k in ("line", "pixel", "e", "n", "h", "score", "dline", "dpixel")))


class AttitudeCorrectionModel(_Model):
    """Attitude bias (rad) and drift (rad/s) with their standard deviations."""

    bias_rad: list[float]
    drift_rad_s: list[float]
    bias_sigma_rad: list[float] | None = None
    drift_sigma_rad_s: list[float] | None = None


class RefinedModel(_Model):
    """REFINED_MODEL: the attitude correction ``Rot(bias + drift · t)`` (piloting frame; t in s from
    ``reference_time``, the datastrip reference time) and residuals (pixel of ``image_band``)."""

    kind: Literal["refined_model"] = "refined_model"
    datastrip: str
    refined: bool
    reason: str | None = None
    reference_time: datetime
    image_band: MsiBand | None = None
    attitude_correction: AttitudeCorrectionModel | None = None
    residuals: dict[str, dict[str, float]] | None = None
    tie_points: int


def tie_points_file(tp: refining.TiePoints, **meta) -> TiePointsFile:
    """The file of tie points ``tp`` with ``meta`` (datastrip, image_band, gri_band, epsg,
    filtered, candidates)."""
    return TiePointsFile(**meta, band=tp.band.tolist(), detector=tp.detector.tolist(),
                         **{k: getattr(tp, k).tolist() for k in ("line", "pixel", "e", "n", "h", "score",
                                                                 "dline", "dpixel")})


def read_tie_points(path: Path) -> TiePointsFile:
    """A TIE_POINTS or HOMOLOG_POINTS_LIST file."""
    return read_json(path, TiePointsFile, "a tie points file")


def read_refined_model(path: Path) -> RefinedModel:
    """A REFINED_MODEL file."""
    return read_json(path, RefinedModel, "a refined model")
