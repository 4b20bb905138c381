"""MSI focal plane: 12 staggered detectors, 13 bands, line-of-sight polynomials (VIEDIR).

Instrument frame: x along track (flight direction), y across track (to the right), z towards
nadir. A pixel looks along ``normalise(tan_psi_x, tan_psi_y, 1)`` with, for band b, detector d
and pixel index p (0-based, increasing with y)::

    y(p)        = y_d + (p + 0.5) r_b - N/2 + dy_b          (in 10 m pixel units, r_b = res/10)
    theta(p)    = IFOV_10 * y(p)
    tan_psi_y   = theta + K3 * theta**3                       (radial distortion)
    tan_psi_x   = x_b + x_d + SMILE * theta**2                (band row, odd/even stagger, smile)

Both are exact polynomials of degree <= 3 in ``p``: these coefficients are the GIP_VIEDIR content.
Detector centres ``y_d = (d - 6.5) (N - overlap)``; odd detectors are ahead (``x_d > 0``),
even ones behind, as in the MSI staggered layout. With N = 2592 and a 98-pixel overlap the 12
detectors span ≈ 305 km on ground (MSI: 290 km); ``IFOV_10`` gives 10 m at nadir from 786 km. The band along-track offsets (≈ ±0.6°, i.e.
up to ≈ 9 km on ground) are illustrative values of the right order, not the flight values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.formats.msi_bands import BANDS, BY_NAME


__all__ = ["ALTITUDE_REF", "IFOV_10", "K3", "SMILE", "STAGGER", "BAND_ROW", "BAND_DY", "FocalPlane",
           "viedir_directions", "BAND_ORDER"]

ALTITUDE_REF = 786e3
IFOV_10 = 10.0 / ALTITUDE_REF
K3 = 0.01
SMILE = 2e-3
STAGGER = 3.5e-3
BAND_ROW = {"B01": 4.0e-3, "B02": -8.0e-3, "B03": -4.0e-3, "B04": 0.0, "B05": 2.0e-3,
            "B06": 3.0e-3, "B07": 5.0e-3, "B08": -6.0e-3, "B8A": 6.0e-3, "B09": 7.0e-3,
            "B10": -2.0e-3, "B11": 1.0e-3, "B12": -1.0e-3}
BAND_DY = {"B01": 0.15, "B02": -0.05, "B03": 0.08, "B04": 0.0, "B05": -0.12, "B06": 0.1,
           "B07": -0.07, "B08": 0.04, "B8A": 0.11, "B09": -0.2, "B10": 0.25, "B11": -0.09,
           "B12": 0.06}


@dataclass(frozen=True)
class FocalPlane:
    """Focal plane layout: pixels per detector at 10 m (divisible by 6) and overlap (10 m px)."""

    n_pixels_10m: int = 2592
    overlap_10m: int = 98

    def n_pixels(self, band: str) -> int:
        """Pixels per detector of ``band``."""
        return self.n_pixels_10m * 10 // BY_NAME[band].resolution_m

    def polynomials(self, band: str, detector: int) -> tuple[np.ndarray, np.ndarray]:
        """(tan_psi_x, tan_psi_y) coefficients c0..c3 in pixel index for (band, detector 1..12)."""
        r = BY_NAME[band].resolution_m / 10.0
        n = self.n_pixels_10m
        y_d = (detector - 6.5) * (n - self.overlap_10m)
        a0 = IFOV_10 * (y_d + 0.5 * r - n / 2 + BAND_DY[band] * r)
        a1 = IFOV_10 * r
        ty = np.array([a0 + K3 * a0**3, a1 + 3 * K3 * a0**2 * a1, 3 * K3 * a0 * a1**2, K3 * a1**3])
        x_d = STAGGER if detector % 2 else -STAGGER
        tx = np.array([BAND_ROW[band] + x_d + SMILE * a0**2, 2 * SMILE * a0 * a1, SMILE * a1**2, 0.0])
        return tx, ty

    def directions(self, band: str, detector: int, pixels: np.ndarray) -> np.ndarray:
        """Unit line-of-sight vectors (..., 3) in the instrument frame for pixel indices."""
        tx, ty = self.polynomials(band, detector)
        return viedir_directions(tx, ty, pixels)


def viedir_directions(tan_psi_x: np.ndarray, tan_psi_y: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) ``normalise(tan_psi_x(p), tan_psi_y(p), 1)`` from VIEDIR polynomials."""
    p = np.asarray(pixels, dtype=np.float64)
    x = np.polynomial.polynomial.polyval(p, tan_psi_x)
    y = np.polynomial.polynomial.polyval(p, tan_psi_y)
    v = np.stack([x, y, np.ones_like(p)], -1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


BAND_ORDER = tuple(b.name for b in BANDS)
