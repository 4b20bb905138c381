"""Attitude interpolation and the GIP_SPAMOD rotations.

The datastrip's ``Corrected_Attitudes`` give unit quaternions of the satellite piloting frame
w.r.t. EME2000; :func:`ipf.geometry.frames.quaternions_to_itrf` turns them into the rotation
*piloting -> ITRF* (Earth-fixed) at each sample, and :class:`Attitude` interpolates those by
slerp (constant angular velocity between samples: exact for the yaw-steered law at the 0.125 s
sampling to ~1e-8 rad). A line of sight ``u`` of the MSI frame is
``R_piloting_to_itrf(t) @ msi_to_piloting(spamod) @ u`` in ITRF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ipf.geometry.datation import seconds_since
from ipf.interface.errors import InputError
from ipf.geometry.rotation import quat_to_matrix, slerp


__all__ = ["Attitude", "rotation_xyz", "frame_rotation", "msi_to_piloting"]


@dataclass(frozen=True)
class Attitude:
    """Attitude samples: t (n,) s from a reference time, unit quaternions (n, 4) (w, x, y, z) of
    the rotation piloting frame -> ITRF."""

    t: np.ndarray
    quaternions: np.ndarray

    @classmethod
    def from_samples(cls, times_utc, quaternions, reference: datetime | np.datetime64,
                     element: str = "Corrected_Attitudes") -> Attitude:
        """From piloting -> ITRF quaternions (n, 4) at UTC ``datetime64`` times (n,), with times
        in s from ``reference``; fewer than two samples or repeated times are an
        :class:`~ipf.interface.errors.InputError` naming ``element``."""
        t = seconds_since(times_utc, reference)
        order = np.argsort(t, kind="stable")
        if len(t) < 2 or np.any(np.diff(t[order]) <= 0):
            raise InputError("an attitude needs at least two samples at distinct times", element=element)
        q = np.asarray(quaternions, np.float64)[order]
        return cls(t[order], q / np.linalg.norm(q, axis=-1, keepdims=True))

    def covers(self, t) -> bool:
        """Whether every time ``t`` (s) lies within the samples."""
        t = np.asarray(t, np.float64)
        return bool(t.size == 0 or (t.min() >= self.t[0] and t.max() <= self.t[-1]))

    def quaternion(self, t) -> np.ndarray:
        """Piloting -> ITRF unit quaternions (..., 4) at times ``t`` (s), by slerp."""
        return slerp(t, self.t, self.quaternions)

    def matrix(self, t) -> np.ndarray:
        """Piloting -> ITRF rotation matrices (..., 3, 3) at times ``t`` (s)."""
        return quat_to_matrix(self.quaternion(t))


def rotation_xyz(r1_mrad: float, r2_mrad: float, r3_mrad: float) -> np.ndarray:
    """``Rz(R3) @ Ry(R2) @ Rx(R1)`` (3, 3) of the GIP_SPAMOD angles about X, Y, Z in mrad.

    Each factor is the right-handed (active) rotation about its axis, ``Rx(a) = [[1, 0, 0],
    [0, cos a, -sin a], [0, sin a, cos a]]``: X is applied first, Z last. The angles are exact
    rotations, not a small-angle approximation."""
    a, b, c = (1e-3 * float(r) for r in (r1_mrad, r2_mrad, r3_mrad))
    rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0.0, np.sin(b)], [0.0, 1.0, 0.0], [-np.sin(b), 0.0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0.0], [np.sin(c), np.cos(c), 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx


def frame_rotation(transform) -> np.ndarray:
    """Matrix (3, 3) of a GIP_SPAMOD ``X_TO_Y`` transformation (any object with ``r1``, ``r2``,
    ``r3`` in mrad and optionally ``scale_factor``): the rotation of :func:`rotation_xyz` times
    the scale (a scalar scale commutes with the rotation, so ``combination_order`` gives the same
    matrix).

    It maps the components of a vector in frame X to frame Y (``v_Y = M @ v_X``), so a line of
    sight given in Y is ``M.T @ v_Y`` in X. This reading of PILOTING_TO_MSI_FRAME is the one that
    puts the granules of a real L1B datastrip (S2A, N05.00) on their footprints within 11 m
    (``tests/geometry/test_real_geometry.py``); the opposite one misses them by 1.5 km."""
    scale = float(getattr(transform, "scale_factor", 1.0))
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"scale factor {scale} is not a positive number", element="GIP_SPAMOD")
    return scale * rotation_xyz(transform.r1, transform.r2, transform.r3)


def msi_to_piloting(spamod) -> np.ndarray:
    """Matrix (3, 3) taking a line of sight from the MSI frame to the satellite piloting frame
    (``u_piloting = msi_to_piloting(spamod) @ u_msi``): the transpose of the GIP_SPAMOD
    PILOTING_TO_MSI_FRAME matrix (:func:`frame_rotation`)."""
    return frame_rotation(spamod.piloting_to_msi).T
