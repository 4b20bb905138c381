"""Satellite attitude: yaw-steered nadir pointing, and the true-minus-given attitude error.

Piloting (body) frame: z towards the geocentric nadir (-r), x along the Earth-relative velocity
projected perpendicular to z (this is yaw steering: the Earth rotation is compensated), y = z × x
(to the right of the flight direction). The law is kept Earth-fixed: rotations piloting -> ECEF.
Only the files carry it in the real frame, piloting -> EME2000 (``Corrected_Attitudes`` of the
datastrip metadata, the SAD packets, the truth file), converted with
:func:`ipf.geometry.frames.eme2000_to_itrf` and the simulator's own Earth orientation table.

The *given* attitude (datastrip metadata) is the nominal law. The *true* attitude used to form the
image is ``R_true(t) = R_given(t) · Rot(bias + drift · (t - t_ref))``, a small body-frame rotation
vector (rad, roll/pitch/yaw about x/y/z) — tens of metres on ground at 786 km.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.geometry.rotation import small_rotation


__all__ = ["nominal_attitude", "AttitudeError", "draw_attitude_error"]


def nominal_attitude(position: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Body -> ECEF rotation matrices (..., 3, 3) from ECEF position (m) and velocity (m/s)."""
    z = -position / np.linalg.norm(position, axis=-1, keepdims=True)
    v = velocity - np.sum(velocity * z, axis=-1, keepdims=True) * z
    x = v / np.linalg.norm(v, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


@dataclass(frozen=True)
class AttitudeError:
    """True-minus-given attitude: rotation vector bias (rad) and drift (rad/s), body frame."""

    bias: tuple[float, float, float]
    drift: tuple[float, float, float]

    def matrix(self, t: np.ndarray) -> np.ndarray:
        """Rotation (..., 3, 3) from the true body frame to the given body frame at ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)[..., None]
        return small_rotation(np.asarray(self.bias) + np.asarray(self.drift) * t)


def draw_attitude_error(rng: np.random.Generator) -> AttitudeError:
    """A bias of 20-60 µrad per axis (yaw up to 150 µrad) and a drift of up to 2 µrad/s."""
    bias = rng.uniform(20e-6, 60e-6, 3) * rng.choice([-1.0, 1.0], 3)
    bias[2] *= 2.5
    drift = rng.uniform(-2e-6, 2e-6, 3)
    return AttitudeError(tuple(float(b) for b in bias), tuple(float(d) for d in drift))
