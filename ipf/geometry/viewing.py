"""Viewing directions of the detector pixels in the instrument frame (GIP_VIEDIR).

Instrument frame: x along track (flight direction), y across track (to the right), z towards
nadir. GIP_VIEDIR gives per (band, detector) two polynomials in the pixel index ``p`` (0-based,
``p`` = pixel centre)::

    tan_psi_x(p) = sum_k cx_k p^k      (along track)
    tan_psi_y(p) = sum_k cy_k p^k      (across track)

and the unit line of sight ``u(p) = normalise(tan_psi_x, tan_psi_y, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.interface.errors import InputError


__all__ = ["viewing_directions", "DetectorViewing", "viewing_from_gipps"]


def viewing_directions(tan_psi_x, tan_psi_y, pixels) -> np.ndarray:
    """Unit lines of sight in the instrument frame.

    Parameters
    ----------
    tan_psi_x, tan_psi_y : (k,) array_like
        Polynomial coefficients c0, c1, ... in the pixel index (GIP_VIEDIR).
    pixels : array_like
        Fractional pixel indices (any shape).

    Returns
    -------
    (..., 3) ndarray
        ``normalise(tan_psi_x(p), tan_psi_y(p), 1)``.
    """
    p = np.asarray(pixels, dtype=np.float64)
    x = np.polynomial.polynomial.polyval(p, np.asarray(tan_psi_x, np.float64))
    y = np.polynomial.polynomial.polyval(p, np.asarray(tan_psi_y, np.float64))
    v = np.stack([x, y, np.ones_like(p)], -1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass(frozen=True)
class DetectorViewing:
    """Viewing polynomials of one (band, detector) and its number of pixels."""

    tan_psi_x: np.ndarray
    tan_psi_y: np.ndarray
    n_pixels: int

    def directions(self, pixels) -> np.ndarray:
        """Unit lines of sight (..., 3) in the instrument frame; see :func:`viewing_directions`."""
        return viewing_directions(self.tan_psi_x, self.tan_psi_y, pixels)


def viewing_from_gipps(viedirs) -> dict[tuple[str, int], DetectorViewing]:
    """{(band, detector): DetectorViewing} of :class:`ipf.formats.gipp.GIP_VIEDIR` models
    (one per band); a band given twice is an :class:`~ipf.interface.errors.InputError`."""
    out: dict[tuple[str, int], DetectorViewing] = {}
    seen = set()
    for v in viedirs:
        if v.band in seen:
            raise InputError(f"two GIP_VIEDIR for band {v.band}", element="GIP_VIEDIR")
        seen.add(v.band)
        for d in v.detectors:
            out[v.band, int(d.detector)] = DetectorViewing(np.asarray(d.tan_psi_x, np.float64),
                                                           np.asarray(d.tan_psi_y, np.float64),
                                                           int(d.n_pixels))
    return out
