"""WGS84 ellipsoid and the datum / projection conversions, all through pyproj.

:class:`Geodesy` converts between ECEF (EPSG:4978), geodetic longitude / latitude / ellipsoidal
height (EPSG:4979) and one WGS84 UTM zone. pyproj is imported when a :class:`Geodesy` is first
built; :func:`geodesy` caches one instance per UTM zone.
"""

from __future__ import annotations

from functools import cache

import numpy as np


__all__ = ["A_WGS84", "F_WGS84", "B_WGS84", "Geodesy", "geodesy", "utm_epsg_for", "local_up"]

A_WGS84 = 6378137.0
"""WGS84 semi-major axis, m."""
F_WGS84 = 1 / 298.257223563
"""WGS84 flattening."""
B_WGS84 = A_WGS84 * (1 - F_WGS84)
"""WGS84 semi-minor axis, m."""


class Geodesy:
    """pyproj conversions between ECEF, geodetic coordinates and the UTM zone ``utm_epsg``.

    Parameters
    ----------
    utm_epsg : int
        EPSG code of a WGS84 UTM zone (32601-32660 north, 32701-32760 south).
    """

    def __init__(self, utm_epsg: int) -> None:
        from pyproj import Transformer

        self.utm_epsg = int(utm_epsg)
        self._to_geo = Transformer.from_crs(4978, 4979, always_xy=True)
        self._to_ecef = Transformer.from_crs(4979, 4978, always_xy=True)
        self._to_utm = Transformer.from_crs(4326, self.utm_epsg, always_xy=True)
        self._from_utm = Transformer.from_crs(self.utm_epsg, 4326, always_xy=True)

    def ecef_to_geodetic(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Geodetic coordinates of ECEF points.

        Parameters
        ----------
        p : (..., 3) ndarray
            ECEF positions, m.

        Returns
        -------
        lon, lat, h : (...) ndarrays
            Longitude and latitude in degrees, ellipsoidal height in m.
        """
        p = np.asarray(p, np.float64)
        return self._to_geo.transform(p[..., 0], p[..., 1], p[..., 2])

    def geodetic_to_ecef(self, lon, lat, h) -> np.ndarray:
        """ECEF positions (..., 3), m, of geodetic (lon deg, lat deg, h m) (broadcast arrays)."""
        lon, lat, h = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (lon, lat, h)))
        return np.stack(self._to_ecef.transform(lon, lat, h), -1)

    def to_utm(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """UTM (E, N), m, of geodetic (lon, lat) in degrees."""
        return self._to_utm.transform(np.asarray(lon, np.float64), np.asarray(lat, np.float64))

    def from_utm(self, e, n) -> tuple[np.ndarray, np.ndarray]:
        """Geodetic (lon, lat) in degrees of UTM (E, N) in m."""
        return self._from_utm.transform(np.asarray(e, np.float64), np.asarray(n, np.float64))

    def ecef_to_utm(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """UTM (E, N) and ellipsoidal height h (m) of ECEF points (..., 3)."""
        lon, lat, h = self.ecef_to_geodetic(p)
        e, n = self.to_utm(lon, lat)
        return e, n, h

    def utm_to_ecef(self, e, n, h) -> np.ndarray:
        """ECEF positions (..., 3) of UTM (E, N) and ellipsoidal height h (m)."""
        lon, lat = self.from_utm(e, n)
        return self.geodetic_to_ecef(lon, lat, h)


@cache
def geodesy(utm_epsg: int) -> Geodesy:
    """The shared :class:`Geodesy` of a UTM zone (built once per process)."""
    return Geodesy(utm_epsg)


def utm_epsg_for(lon_deg: float, lat_deg: float) -> int:
    """EPSG code of the WGS84 UTM zone containing (lon, lat) in degrees (no Norway exceptions)."""
    zone = int((lon_deg + 180) // 6) % 60 + 1
    return (32600 if lat_deg >= 0 else 32700) + zone


def local_up(lon_deg, lat_deg) -> np.ndarray:
    """Unit ellipsoid normals (..., 3) in ECEF at geodetic (lon, lat) in degrees."""
    lo, la = np.radians(lon_deg), np.radians(lat_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
