"""Viewing directions of the detector pixels in the MSI frame (GIP_VIEDIR).

MSI frame: x along track (flight direction), y across track (to the right), z towards nadir.
The GIP_VIEDIR (GS2 family) gives per (band, detector) per-pixel tables, psi_x across track
(positive looks left) and psi_y along track: :func:`directions_from_tables` and
:func:`viewing_from_viedir_tables` use the Airbus DIMAP convention
``u(p) = normalise(tan_psi_y(p), -tan_psi_x(p), 1)``, the tables interpolated linearly in the
0-based pixel index ``p`` (and extrapolated linearly from the two end pixels), then the
GIP_SPAMOD focal plane -> detector and MSI -> focal plane rotations applied when a spacecraft
model is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.geometry.attitude import frame_rotation
from ipf.interface.errors import InputError


__all__ = ["SWIR_BANDS", "interpolate_table", "directions_from_tables", "TableViewing",
           "viewing_from_viedir_tables"]

SWIR_BANDS = ("B10", "B11", "B12")


def interpolate_table(table, pixels) -> np.ndarray:
    """Values of a per-pixel ``table`` (n,) at fractional 0-based ``pixels`` (any shape): linear
    between the two nearest pixels, linear extrapolation from the two end pixels outside
    [0, n - 1] (a one-pixel table is constant)."""
    t = np.asarray(table, np.float64)
    p = np.asarray(pixels, np.float64)
    if t.size == 1:
        return np.full(p.shape, t[0])
    i = np.clip(np.floor(p), 0, t.size - 2).astype(np.intp)
    return t[i] + (p - i) * (t[i + 1] - t[i])


def directions_from_tables(tan_psi_x, tan_psi_y, pixels) -> np.ndarray:
    """Unit lines of sight (..., 3) in the instrument frame (x along track, y right, z nadir) of
    fractional ``pixels`` from per-pixel GIP_VIEDIR tables (n,):
    ``normalise(tan_psi_y(p), -tan_psi_x(p), 1)`` with :func:`interpolate_table`."""
    x = interpolate_table(tan_psi_x, pixels)
    y = interpolate_table(tan_psi_y, pixels)
    v = np.stack([y, -x, np.ones_like(x)], -1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass(frozen=True)
class TableViewing:
    """Per-pixel viewing tables of one (band, detector) and the detector -> MSI rotation (3, 3)."""

    tan_psi_x: np.ndarray
    tan_psi_y: np.ndarray
    n_pixels: int
    rotation: np.ndarray

    def directions(self, pixels) -> np.ndarray:
        """Unit lines of sight (..., 3) in the MSI frame at fractional ``pixels``."""
        u = directions_from_tables(self.tan_psi_x, self.tan_psi_y, pixels) @ self.rotation.T
        return u / np.linalg.norm(u, axis=-1, keepdims=True)


def viewing_from_viedir_tables(viedirs, spamod=None) -> dict[tuple[str, int], TableViewing]:
    """{(band, detector): TableViewing} of GS2 GIP_VIEDIR models (``band``, ``detectors`` with
    ``detector``, ``n_pixels``, ``tan_psi_x``, ``tan_psi_y``), one per band.

    With a GIP_SPAMOD model (``msi_to_focal_plane(plane)``, ``focal_plane_to_detector(plane,
    detector)``), the directions of a detector are rotated into the MSI frame by
    ``(M_focal_plane_to_detector @ M_msi_to_focal_plane).T`` (VNIR for B01-B09 and B8A, SWIR for
    B10-B12; :func:`ipf.geometry.attitude.frame_rotation`); without, the tables are taken in the
    MSI frame. A band given twice is an :class:`~ipf.interface.errors.InputError`."""
    out: dict[tuple[str, int], TableViewing] = {}
    seen = set()
    for v in viedirs:
        if v.band in seen:
            raise InputError(f"two GIP_VIEDIR for band {v.band}", element="GIP_VIEDIR")
        seen.add(v.band)
        plane = "SWIR" if v.band in SWIR_BANDS else "VNIR"
        for d in v.detectors:
            det = int(d.detector)
            rotation = np.eye(3)
            if spamod is not None:
                row = spamod.focal_plane_to_detector(plane, det)
                rotation = (frame_rotation(row) @ frame_rotation(spamod.msi_to_focal_plane(plane))).T
            tx = np.asarray(d.tan_psi_x, np.float64)
            ty = np.asarray(d.tan_psi_y, np.float64)
            if tx.shape != (int(d.n_pixels),) or ty.shape != tx.shape or tx.size == 0:
                raise InputError(f"band {v.band} detector {det:02d}: viewing tables do not have "
                                 f"{d.n_pixels} values", element="GIP_VIEDIR")
            out[v.band, det] = TableViewing(tx, ty, int(d.n_pixels), rotation)
    return out
