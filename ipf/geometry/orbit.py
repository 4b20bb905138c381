"""Orbit interpolation: cubic Hermite on the state vectors of the datastrip ephemeris
(``GPS_Points_List`` of ``Satellite_Ancillary_Data_Info``).

Between two state vectors ``(p_i, v_i)`` and ``(p_{i+1}, v_{i+1})`` the position is the cubic
whose values and derivatives match both ends (C1 across nodes) and the velocity its derivative.
With the 1 s spacing of the ephemeris the position error on a circular 786 km orbit is below
0.1 mm (the fourth derivative of the position is ``n^4 r`` ≈ 1.1e-6 m/s^4 and the Hermite error
bound is ``h^4/384`` of it); the 1 mm and 1 mm/s resolution of the file adds below 1 mm.
Positions and velocities are Earth-fixed (ITRF / WGS84, m, m/s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ipf.geometry.datation import seconds_since
from ipf.interface.errors import InputError


__all__ = ["hermite", "Orbit"]


def hermite(t, t_nodes: np.ndarray, position: np.ndarray, velocity: np.ndarray,
            ) -> tuple[np.ndarray, np.ndarray]:
    """Cubic Hermite interpolation of state vectors.

    Parameters
    ----------
    t : array_like
        Times, s (any shape), same origin as ``t_nodes``.
    t_nodes : (n,) ndarray
        Increasing node times, s.
    position, velocity : (n, 3) ndarray
        Positions (m) and velocities (m/s) at the nodes.

    Returns
    -------
    position, velocity : (..., 3) ndarrays
        Interpolated position (m) and velocity (m/s) at ``t``; the first/last cubic is
        extrapolated outside the nodes (callers check coverage with :meth:`Orbit.covers`).
    """
    t = np.asarray(t, np.float64)
    i = np.clip(np.searchsorted(t_nodes, t, side="right") - 1, 0, len(t_nodes) - 2)
    h = (t_nodes[i + 1] - t_nodes[i])[..., None]
    s = ((t - t_nodes[i]) / (t_nodes[i + 1] - t_nodes[i]))[..., None]
    p0, p1, v0, v1 = position[i], position[i + 1], velocity[i], velocity[i + 1]
    s2, s3 = s * s, s * s * s
    pos = ((2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * h * v0
           + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * h * v1)
    vel = ((6 * s2 - 6 * s) * p0 / h + (3 * s2 - 4 * s + 1) * v0
           + (-6 * s2 + 6 * s) * p1 / h + (3 * s2 - 2 * s) * v1)
    return pos, vel


@dataclass(frozen=True)
class Orbit:
    """State vectors of one orbit file, times in s from a reference time.

    t: (n,) s from the reference; position (n, 3) m and velocity (n, 3) m/s, Earth-fixed WGS84.
    """

    t: np.ndarray
    position: np.ndarray
    velocity: np.ndarray

    @classmethod
    def from_samples(cls, times_utc, position, velocity, reference: datetime | np.datetime64,
                     element: str = "GPS_Points_List") -> Orbit:
        """From state vectors at UTC ``datetime64`` times (n,), positions (n, 3) m and velocities
        (n, 3) m/s, with times in s from ``reference``; fewer than two vectors or repeated times
        are an :class:`~ipf.interface.errors.InputError` naming ``element``."""
        t = seconds_since(times_utc, reference)
        order = np.argsort(t, kind="stable")
        if len(t) < 2 or np.any(np.diff(t[order]) <= 0):
            raise InputError("an orbit needs at least two state vectors at distinct times", element=element)
        return cls(t[order], np.asarray(position, np.float64)[order],
                   np.asarray(velocity, np.float64)[order])

    def covers(self, t) -> bool:
        """Whether every time ``t`` (s) lies within the state vectors."""
        t = np.asarray(t, np.float64)
        return bool(t.size == 0 or (t.min() >= self.t[0] and t.max() <= self.t[-1]))

    def state(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Position (m) and velocity (m/s), (..., 3), at times ``t`` (s); see :func:`hermite`."""
        return hermite(t, self.t, self.position, self.velocity)
