"""Acquisition model: orbit + attitude + focal plane + line datation -> lines of sight in ECEF.

Line datation: line ``l`` of band b, detector d is acquired at
``t = (start_ticks[b, d] + l * line_ticks[res_b]) / 65536`` s from the orbit reference time, so
every line time is exactly representable in the CUC packet time (2^-16 s). The 10 m line period
is 99 ticks (1.5106 ms ≈ 10.0 m on ground), 20 m and 60 m are 2× and 6× that. The start time of
each (band, detector) is shifted by its along-track viewing offset so that all bands of a granule
see the same ground (as in S2 L0 granules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.simulator.attitude import AttitudeError, nominal_attitude
from ipf.simulator.focal_plane import FocalPlane
from ipf.simulator.orbit import CircularOrbit
from ipf.geometry.rotation import quat_to_matrix


__all__ = ["TICKS_PER_S", "LINE_TICKS_10M", "line_ticks", "Acquisition", "align_start_ticks"]

TICKS_PER_S = 65536
LINE_TICKS_10M = 99


def line_ticks(resolution_m: int) -> int:
    """Line period of a resolution in ticks of 2^-16 s."""
    return LINE_TICKS_10M * resolution_m // 10


@dataclass
class Acquisition:
    """Geometry of one acquisition (see module docstring).

    instrument_to_body: quaternion (w, x, y, z) of the instrument -> body rotation (GIP_SPAMOD);
    start_ticks: first-line time of each (band, detector) in ticks from ``orbit.t_ref``.
    """

    orbit: CircularOrbit
    focal_plane: FocalPlane
    attitude_error: AttitudeError
    instrument_to_body: tuple[float, float, float, float]
    start_ticks: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def alignment(self) -> np.ndarray:
        return quat_to_matrix(np.array(self.instrument_to_body))

    def line_time(self, band: str, detector: int, lines: np.ndarray) -> np.ndarray:
        """Time (s from t_ref) of (fractional) line indices."""
        res = BY_NAME[band].resolution_m
        return (self.start_ticks[band, detector] + np.asarray(lines, np.float64) * line_ticks(res)) / TICKS_PER_S

    def attitude(self, t: np.ndarray, true: bool = True) -> np.ndarray:
        """Body -> ECEF rotation matrices (..., 3, 3) at ``t``; the given law if ``true`` is False."""
        pos, vel = self.orbit.state(t)
        r = nominal_attitude(pos, vel)
        return r @ self.attitude_error.matrix(t) if true else r

    def lines_of_sight(self, band: str, detector: int, lines: np.ndarray, pixels: np.ndarray,
                       true: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(satellite position, unit look direction), both ECEF (..., 3), for broadcast
        (line, pixel) arrays."""
        lines, pixels = np.broadcast_arrays(np.asarray(lines, np.float64), np.asarray(pixels, np.float64))
        t = self.line_time(band, detector, lines)
        pos, vel = self.orbit.state(t)
        rot = nominal_attitude(pos, vel)
        if true:
            rot = rot @ self.attitude_error.matrix(t)
        u = self.focal_plane.directions(band, detector, pixels) @ self.alignment.T
        d = np.einsum("...ij,...j->...i", rot, u)
        return pos, d


def align_start_ticks(acq: Acquisition, bands: tuple[str, ...], detectors: tuple[int, ...],
                      t_first: float) -> dict[tuple[str, int], int]:
    """Start ticks such that every (band, detector) starts on the ground line seen at nadir at
    ``t_first`` (s from t_ref): shift by altitude × tan(psi_x) / ground speed."""
    pos, vel = acq.orbit.state(0.0)
    r = np.linalg.norm(pos)
    ground_speed = np.linalg.norm(vel) * (r - (acq.orbit.a - 6378137.0)) / r
    height = acq.orbit.a - 6378137.0
    out = {}
    for b in bands:
        for d in detectors:
            tx, _ = acq.focal_plane.polynomials(b, d)
            centre = (acq.focal_plane.n_pixels(b) - 1) / 2
            along = height * np.polynomial.polynomial.polyval(centre, tx)
            out[b, d] = int(round((t_first - along / ground_speed) * TICKS_PER_S))
    return out
