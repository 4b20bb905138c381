"""Sun position and Sun-Earth distance (low-precision almanac formulas, ≈ 0.01° accuracy).

Reference: the Astronomical Almanac "low precision formulas for the Sun" (section C, valid
1950-2050) and the L1C Sun-Earth distance correction of the S2 products,
d = 1 - 0.01673 cos(0.0172 (doy - 2)) AU.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np


__all__ = ["J2000", "sun_earth_distance_au", "gmst_rad", "sun_direction_ecef", "sun_angles"]

J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)


def sun_earth_distance_au(t: datetime) -> float:
    """Sun-Earth distance in astronomical units (formula of the S2 L1C reflectance conversion)."""
    doy = t.timetuple().tm_yday
    return 1.0 - 0.01673 * np.cos(0.0172 * (doy - 2))


def gmst_rad(t: datetime) -> float:
    """Greenwich mean sidereal angle (rad) of a UTC datetime (UT1 taken equal to UTC)."""
    d = (t - J2000).total_seconds() / 86400.0
    return float(np.radians((280.46061837 + 360.98564736629 * d) % 360.0))


def sun_direction_ecef(t: datetime) -> np.ndarray:
    """Unit vector towards the Sun in the Earth-fixed frame (3,) at UTC ``t``."""
    n = (t - J2000).total_seconds() / 86400.0
    mean_lon = np.radians((280.460 + 0.9856474 * n) % 360)
    g = np.radians((357.528 + 0.9856003 * n) % 360)
    lam = mean_lon + np.radians(1.915) * np.sin(g) + np.radians(0.020) * np.sin(2 * g)
    eps = np.radians(23.439 - 0.0000004 * n)
    eci = np.array([np.cos(lam), np.cos(eps) * np.sin(lam), np.sin(eps) * np.sin(lam)])
    th = gmst_rad(t)
    c, s = np.cos(th), np.sin(th)
    return np.array([c * eci[0] + s * eci[1], -s * eci[0] + c * eci[1], eci[2]])


def sun_angles(lat_deg: float, lon_deg: float, t: datetime) -> tuple[float, float]:
    """(zenith, azimuth from north clockwise) of the Sun in degrees at a geodetic point."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.cross(up, east)
    s = sun_direction_ecef(t)
    zen = np.degrees(np.arccos(np.clip(s @ up, -1, 1)))
    az = np.degrees(np.arctan2(s @ east, s @ north)) % 360
    return float(zen), float(az)
