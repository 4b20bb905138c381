"""Sun-synchronous circular orbit passing over a given point on a descending pass.

Model (documented simplifications): a Keplerian circular orbit of semi-major axis
``a = 6378137 m + altitude`` in an inertial frame defined as the WGS84 Earth-fixed frame frozen at
the reference time ``t_ref`` (no precession, nutation or polar motion over the few seconds of an
acquisition); the Earth rotates at ``OMEGA_EARTH`` about z. The J2 nodal drift only sets the
sun-synchronous inclination. The reference time is chosen so that the mean local solar time of
the descending node is ``ltdn_hours`` (10:30 for Sentinel-2).

Times ``t`` are seconds relative to ``t_ref``; positions/velocities are Earth-fixed (m, m/s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np


__all__ = ["MU", "J2", "A_WGS84", "F_WGS84", "E2_WGS84", "OMEGA_EARTH", "TROPICAL_YEAR_S",
           "sun_synchronous_inclination", "CircularOrbit", "design_orbit"]

MU = 3.986004418e14
J2 = 1.08262668e-3
A_WGS84 = 6378137.0
F_WGS84 = 1 / 298.257223563
E2_WGS84 = F_WGS84 * (2 - F_WGS84)
OMEGA_EARTH = 7.2921150e-5
TROPICAL_YEAR_S = 365.2421897 * 86400.0


def sun_synchronous_inclination(a: float) -> float:
    """Inclination (rad) whose J2 nodal precession equals the mean motion of the Sun."""
    n = np.sqrt(MU / a**3)
    rate = 2 * np.pi / TROPICAL_YEAR_S
    return float(np.arccos(-rate * 2 * a**2 / (3 * J2 * A_WGS84**2 * n)))


@dataclass(frozen=True)
class CircularOrbit:
    """Circular orbit: semi-major axis m, inclination rad, RAAN and argument of latitude at
    ``t_ref`` in the frozen Earth-fixed frame (rad), and the UTC reference time."""

    a: float
    inclination: float
    raan: float
    u0: float
    t_ref: datetime

    @property
    def mean_motion(self) -> float:
        """rad/s."""
        return float(np.sqrt(MU / self.a**3))

    def inertial(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity (..., 3) in the frozen frame at times ``t`` (s from t_ref)."""
        t = np.asarray(t, dtype=np.float64)
        n = self.mean_motion
        u = self.u0 + n * t
        ci, si = np.cos(self.inclination), np.sin(self.inclination)
        cO, sO = np.cos(self.raan), np.sin(self.raan)
        cu, su = np.cos(u), np.sin(u)
        r = self.a * np.stack([cu * cO - su * ci * sO, cu * sO + su * ci * cO, su * si], -1)
        v = self.a * n * np.stack([-su * cO - cu * ci * sO, -su * sO + cu * ci * cO, cu * si], -1)
        return r, v

    def state(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Earth-fixed position (m) and velocity (m/s), shape (..., 3), at ``t`` s from t_ref."""
        t = np.asarray(t, dtype=np.float64)
        r, v = self.inertial(t)
        th = OMEGA_EARTH * t
        c, s = np.cos(th), np.sin(th)
        x = c * r[..., 0] + s * r[..., 1]
        y = -s * r[..., 0] + c * r[..., 1]
        vx = c * v[..., 0] + s * v[..., 1] + OMEGA_EARTH * y
        vy = -s * v[..., 0] + c * v[..., 1] - OMEGA_EARTH * x
        return np.stack([x, y, r[..., 2]], -1), np.stack([vx, vy, v[..., 2]], -1)

    def utc(self, t: float) -> datetime:
        """UTC datetime of ``t`` s from t_ref."""
        return self.t_ref + timedelta(seconds=float(t))


def design_orbit(lat_deg: float, lon_deg: float, date: datetime, altitude_m: float = 786e3,
                 ltdn_hours: float = 10.5) -> CircularOrbit:
    """The orbit whose geocentric nadir crosses (lat, lon) on a descending pass on ``date``.

    lat_deg/lon_deg: geodetic coordinates of the nadir point at t_ref; the UTC time of day of
    t_ref follows from the local time of the descending node.
    """
    a = A_WGS84 + altitude_m
    inc = sun_synchronous_inclination(a)
    phi_c = np.arctan((1 - E2_WGS84) * np.tan(np.radians(lat_deg)))
    u0 = np.pi - np.arcsin(np.sin(phi_c) / np.sin(inc))
    raan = np.radians(lon_deg) - np.arctan2(np.cos(inc) * np.sin(u0), np.cos(u0))
    midnight = datetime(date.year, date.month, date.day, tzinfo=timezone.utc)
    orbit = CircularOrbit(a, inc, float(raan), float(u0), midnight)
    dt_node = (np.pi - u0) / orbit.mean_motion
    r_node, _ = orbit.state(dt_node)
    lon_node_h = np.degrees(np.arctan2(r_node[1], r_node[0])) / 15.0
    utc_node_h = (ltdn_hours - lon_node_h) % 24.0
    t_ref = midnight + timedelta(hours=float(utc_node_h)) - timedelta(seconds=float(dt_node))
    t_ref = t_ref.replace(microsecond=0)
    return CircularOrbit(a, inc, float(raan), float(u0), t_ref)
