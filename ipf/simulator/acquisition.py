"""Acquisition model: orbit + attitude + viewing directions + line datation -> lines of sight in ECEF.

Line datation: line ``l`` of band b, detector d is acquired at
``t = (start_ticks[b, d] + l * line_ticks[res_b]) / 65536`` s from the orbit reference time, so
every line time is exactly representable in the CUC packet time (2^-16 s). The 10 m line period
is 99 ticks (1.5106 ms ≈ 10.0 m on ground), 20 m and 60 m are 2× and 6× that. The start time of
each (band, detector) is shifted by its along-track viewing angle so that all bands and detectors
start on the same ground line (as in S2 L0 granules; :func:`align_start_ticks`).

Lines of sight use the processor's own geometry code on the GIPPs the simulator writes: the
per-pixel GIP_VIEDIR tables with the GIP_SPAMOD focal plane and detector rotations
(:func:`ipf.geometry.viewing.viewing_from_viedir_tables`, MSI frame) and the piloting -> MSI
alignment (:func:`ipf.geometry.attitude.msi_to_piloting`), then the attitude piloting -> ECEF:
``d = R_att(t) @ A @ u_msi(p)``. A 60 m band's L0 line holds ``binning`` (3) elements per
GIP_VIEDIR pixel (20 m across, GIP_R2BINN); element ``e`` looks along pixel ``(e - (k - 1) / 2) / k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.geometry.geodesy import A_WGS84, B_WGS84
from ipf.simulator.attitude import AttitudeError, nominal_attitude
from ipf.simulator.orbit import CircularOrbit

__all__ = ["TICKS_PER_S", "LINE_TICKS_10M", "line_ticks", "Acquisition", "align_start_ticks"]

TICKS_PER_S = 65536
LINE_TICKS_10M = 99


def line_ticks(resolution_m: int) -> int:
    """Line period of a resolution in ticks of 2^-16 s."""
    return LINE_TICKS_10M * resolution_m // 10


@dataclass
class Acquisition:
    """Geometry of one acquisition (see module docstring).

    viewing: {(band, detector): viewing model} with ``directions(pixels)`` (unit vectors, MSI
    frame) and ``n_pixels`` (:class:`ipf.geometry.viewing.TableViewing`); alignment: the (3, 3)
    MSI -> piloting matrix (``msi_to_piloting(spamod)``); binning: L0 elements per GIP_VIEDIR
    pixel of each band (1 when absent); start_ticks: first-line time of each (band, detector) in
    ticks from ``orbit.t_ref``.
    """

    orbit: CircularOrbit
    viewing: dict
    alignment: np.ndarray
    attitude_error: AttitudeError
    binning: dict[str, int] = field(default_factory=dict)
    start_ticks: dict[tuple[str, int], int] = field(default_factory=dict)

    def n_elements(self, band: str, detector: int) -> int:
        """L0 elements per line of (band, detector): GIP_VIEDIR pixels × binning."""
        return self.viewing[band, detector].n_pixels * self.binning.get(band, 1)

    def viedir_pixel(self, band: str, elements) -> np.ndarray:
        """GIP_VIEDIR pixel (fractional) seen by L0 elements of ``band``."""
        k = self.binning.get(band, 1)
        return (np.asarray(elements, np.float64) - (k - 1) / 2) / k

    def line_time(self, band: str, detector: int, lines: np.ndarray) -> np.ndarray:
        """Time (s from t_ref) of (fractional) line indices."""
        res = BY_NAME[band].resolution_m
        return (self.start_ticks[band, detector] + np.asarray(lines, np.float64) * line_ticks(res)) / TICKS_PER_S

    def attitude(self, t: np.ndarray, true: bool = True) -> np.ndarray:
        """Piloting -> ECEF rotation matrices (..., 3, 3) at ``t``; the given law if ``true`` is False."""
        return self._attitude(t, *self.orbit.state(t), true)

    def _attitude(self, t, pos, vel, true: bool) -> np.ndarray:
        r = nominal_attitude(pos, vel)
        return r @ self.attitude_error.matrix(t) if true else r

    def directions(self, band: str, detector: int, elements) -> np.ndarray:
        """Unit lines of sight (..., 3) in the piloting frame of L0 ``elements`` of (band, detector)."""
        u = self.viewing[band, detector].directions(self.viedir_pixel(band, elements))
        return u @ self.alignment.T

    def lines_of_sight(self, band: str, detector: int, lines: np.ndarray, pixels: np.ndarray,
                       true: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(satellite position, unit look direction), both ECEF (..., 3), for broadcast
        (line, L0 element) arrays."""
        lines, pixels = np.broadcast_arrays(np.asarray(lines, np.float64), np.asarray(pixels, np.float64))
        t = self.line_time(band, detector, lines)
        pos, vel = self.orbit.state(t)
        rot = self._attitude(t, pos, vel, true)
        d = np.einsum("...ij,...j->...i", rot, self.directions(band, detector, pixels))
        return pos, d


def _ellipsoid_point(pos: np.ndarray, look: np.ndarray) -> np.ndarray:
    """ECEF point (3,) where the ray ``pos + s look`` first meets the WGS84 ellipsoid."""
    a2, b2 = A_WGS84**2, B_WGS84**2
    w = np.array([1 / a2, 1 / a2, 1 / b2])
    qa, qb, qc = np.sum(w * look * look), 2 * np.sum(w * pos * look), np.sum(w * pos * pos) - 1
    return pos + look * (-qb - np.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)


def align_start_ticks(acq: Acquisition, bands: tuple[str, ...], detectors: tuple[int, ...],
                      t_first: float) -> dict[tuple[str, int], int]:
    """Start ticks such that the centre element of every (band, detector) starts on the ground
    line (on the ellipsoid) seen at nadir at ``t_first`` (s from t_ref): Newton steps on the
    along-track distance to that nadir point with the given attitude, rounded to the tick."""
    pos, vel = acq.orbit.state(t_first)
    target = _ellipsoid_point(pos, -pos / np.linalg.norm(pos))
    up = target / np.linalg.norm(target)
    along = vel - np.dot(vel, up) * up
    along /= np.linalg.norm(along)
    speed = np.linalg.norm(vel) * np.linalg.norm(target) / np.linalg.norm(pos)
    out = {}
    for b in bands:
        for d in detectors:
            u = acq.directions(b, d, (acq.n_elements(b, d) - 1) / 2)
            t = t_first
            for _ in range(4):
                p, _ = acq.orbit.state(t)
                t -= np.dot(_ellipsoid_point(p, acq.attitude(t, true=False) @ u) - target, along) / speed
            out[b, d] = int(round(t * TICKS_PER_S))
    return out
