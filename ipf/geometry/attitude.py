"""Attitude interpolation (AUX_SADATT) and the instrument -> body alignment (GIP_SPAMOD).

The attitude file gives unit quaternions ``(w, x, y, z)`` of the rotation *body -> Earth-fixed
WGS84* (``Frame`` BODY_TO_EARTH_FIXED_WGS84, as GIP_SPAMOD ``attitude_frame`` BODY_TO_ECEF
states) at UTC times; between samples the rotation is interpolated by slerp (constant angular
velocity between samples: exact for the yaw-steered law at the 0.125 s sampling to ~1e-8 rad).
GIP_SPAMOD ``instrument_to_body`` is the quaternion of the instrument -> body rotation, so a
direction ``u`` of the instrument frame is ``R_body_to_ecef(t) @ A @ u`` in ECEF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ipf.geometry.datation import seconds_since
from ipf.interface.errors import InputError
from ipf.geometry.rotation import quat_to_matrix, slerp


__all__ = ["Attitude", "instrument_to_body", "rotation_xyz", "frame_rotation", "msi_to_piloting"]


@dataclass(frozen=True)
class Attitude:
    """Attitude samples: t (n,) s from a reference time, quaternions (n, 4) body -> ECEF."""

    t: np.ndarray
    quaternions: np.ndarray

    @classmethod
    def from_aux(cls, data, reference: datetime | np.datetime64) -> Attitude:
        """From an :class:`ipf.formats.aux.AttitudeData` (AUX_SADATT) and the reference time."""
        t = seconds_since(data.times, reference)
        order = np.argsort(t, kind="stable")
        if len(t) < 2 or np.any(np.diff(t[order]) <= 0):
            raise InputError("an attitude needs at least two samples at distinct times", element="AUX_SADATT")
        q = np.asarray(data.quaternions, np.float64)[order]
        return cls(t[order], q / np.linalg.norm(q, axis=-1, keepdims=True))

    def covers(self, t) -> bool:
        """Whether every time ``t`` (s) lies within the samples."""
        t = np.asarray(t, np.float64)
        return bool(t.size == 0 or (t.min() >= self.t[0] and t.max() <= self.t[-1]))

    def quaternion(self, t) -> np.ndarray:
        """Body -> ECEF unit quaternions (..., 4) at times ``t`` (s), by slerp."""
        return slerp(t, self.t, self.quaternions)

    def matrix(self, t) -> np.ndarray:
        """Body -> ECEF rotation matrices (..., 3, 3) at times ``t`` (s)."""
        return quat_to_matrix(self.quaternion(t))


def instrument_to_body(spamod) -> np.ndarray:
    """Instrument -> body rotation matrix (3, 3) of a :class:`ipf.formats.gipp.GIP_SPAMOD`."""
    if spamod.attitude_frame != "BODY_TO_ECEF":
        raise InputError(f"attitude frame {spamod.attitude_frame} is not supported", element="GIP_SPAMOD")
    q = np.asarray(spamod.instrument_to_body, np.float64)
    if q.shape != (4,):
        raise InputError("instrument_to_body must be a quaternion (w, x, y, z)", element="GIP_SPAMOD")
    return quat_to_matrix(q)


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
