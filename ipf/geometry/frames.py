"""Reference frames and time scales: EME2000 (J2000) -> ITRF, GPS -> UTC.

The celestial-to-terrestrial transform follows the IERS Conventions (2010), IAU 2006/2000A
precession-nutation, CIO based, through ERFA (``pyerfa``):

    v_ITRF = W(x_p, y_p, s') · R3(ERA(UT1)) · C2I(TT) · B^T · v_EME2000

- ``B`` is the IAU 2006 frame bias (GCRS -> J2000 mean equator and equinox, ``erfa.bp06`` at
  J2000), so the input frame is EME2000 and not the GCRS (they differ by ~23 mas);
- ``C2I`` (``erfa.c2i06a``, GCRS -> CIRS) is evaluated at TT on a fixed grid of nodes every
  :data:`C2I_STEP_S` s of TT from J2000 and interpolated linearly element by element: the
  departure from the exact matrix is below 1e-12 rad (4e-13 measured against ``erfa.c2t06a``,
  0.3 µm on the ground), 10^4 times cost ~25 ms instead of ~280 ms, and a time's result does not
  depend on the other times of the call;
- ``ERA`` (``erfa.era00``) at UT1 = UTC + (UT1-UTC), ``s'`` (``erfa.sp00``) and the polar motion
  matrix ``W`` (``erfa.pom00``) at each time, TT = UTC + (TAI-UTC) + 32.184 s.

Neglected (each below 2 cm on the ground along a 790 km line of sight):

- the celestial pole offsets dX, dY of the IERS bulletins (< 1 mas): the CIP is the IAU
  2006/2000A model's;
- the diurnal and sub-diurnal tidal and libration terms of polar motion (< 0.1 mas) and UT1
  (< 0.05 ms), which the daily EOP values do not carry;
- leap seconds inside the interval: TAI-UTC is one value per call.

Times are ``datetime64[ns]`` arrays; angles in rad; UT1-UTC and TAI-UTC in s. Rotation
matrices ``M`` map components: ``v_ITRF = M @ v_EME2000``. Quaternions are scalar first
``(w, x, y, z)`` as in :mod:`ipf.geometry.rotation`: ``quat_to_matrix(q)`` maps the piloting
frame's components to the reference frame's.
"""

from __future__ import annotations

from dataclasses import dataclass

import erfa
import numpy as np

from ipf.geometry.rotation import matrix_to_quat

__all__ = ["C2I_STEP_S", "TT_MINUS_TAI_S", "EarthOrientation", "eme2000_to_itrf", "quaternions_to_itrf",
           "continuous_quaternions", "gps_to_utc"]

C2I_STEP_S = 600
"""Spacing (s of TT, divides a day) of the nodes where the precession-nutation matrix is evaluated."""
TT_MINUS_TAI_S = 32.184

_DAY_S = 86400
_DAY_NS = _DAY_S * 1_000_000_000
_JD_UNIX_EPOCH = 2440587.5
_JD_J2000 = 2451545.0
_BIAS = erfa.bp06(_JD_J2000, 0.0)[0]


@dataclass(frozen=True)
class EarthOrientation:
    """Earth orientation parameters at the times of a call (scalars or arrays broadcasting with them).

    ``ut1_utc``: UT1-UTC (s); ``xp``, ``yp``: pole coordinates (rad, IERS convention: the CIP is at
    x = xp, y = -yp in the ITRF); ``tai_utc``: TAI-UTC (s), one value.
    """

    ut1_utc: np.ndarray | float
    xp: np.ndarray | float
    yp: np.ndarray | float
    tai_utc: float


def _split_jd(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whole Julian day at 0 h, fraction of day) of ``datetime64`` times, exact to the ns."""
    ns = np.asarray(times).astype("datetime64[ns]").astype(np.int64)
    day, rem = np.divmod(ns, _DAY_NS)
    return _JD_UNIX_EPOCH + day.astype(np.float64), rem / _DAY_NS


def _c2i(jd1: np.ndarray, tt_frac: np.ndarray) -> np.ndarray:
    """GCRS -> CIRS matrices (n, 3, 3) at TT ``jd1 + tt_frac``, interpolated between the nodes."""
    sec = (jd1 - _JD_J2000) * _DAY_S + tt_frac * _DAY_S
    k = np.floor(sec / C2I_STEP_S).astype(np.int64)
    nodes = np.unique(np.concatenate([k, k + 1]))
    node_day, node_sec = np.divmod(nodes * C2I_STEP_S, _DAY_S)
    at_nodes = erfa.c2i06a(_JD_J2000 + node_day.astype(np.float64), node_sec / _DAY_S)
    i = np.searchsorted(nodes, k)
    w = (sec / C2I_STEP_S - k)[:, None, None]
    return (1.0 - w) * at_nodes[i] + w * at_nodes[i + 1]


def eme2000_to_itrf(times_utc: np.ndarray, eop: EarthOrientation) -> np.ndarray:
    """Rotation matrices EME2000 -> ITRF.

    Parameters
    ----------
    times_utc : (n,) datetime64 array
        UTC times.
    eop : EarthOrientation
        UT1-UTC, pole coordinates and TAI-UTC at these times.

    Returns
    -------
    (n, 3, 3) ndarray
        ``M`` with ``v_ITRF = M[i] @ v_EME2000`` at ``times_utc[i]``.
    """
    jd1, frac = _split_jd(np.atleast_1d(times_utc))
    shape = frac.shape
    ut1_utc, xp, yp = (np.broadcast_to(np.asarray(v, np.float64), shape) for v in (eop.ut1_utc, eop.xp, eop.yp))
    tt_frac = frac + (float(eop.tai_utc) + TT_MINUS_TAI_S) / _DAY_S
    era = erfa.era00(jd1, frac + ut1_utc / _DAY_S)
    rpom = erfa.pom00(xp, yp, erfa.sp00(jd1, tt_frac))
    c2t = erfa.c2tcio(_c2i(jd1, tt_frac), era, rpom)
    return c2t @ _BIAS.T


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products ``a ⊗ b`` of (..., 4) scalar-first quaternions."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], -1)


def quaternions_to_itrf(times_utc: np.ndarray, q_piloting_to_eme2000: np.ndarray,
                        eop: EarthOrientation) -> np.ndarray:
    """Attitude quaternions piloting -> ITRF from piloting -> EME2000 ones.

    Parameters
    ----------
    times_utc : (n,) datetime64 array
        UTC times of the samples.
    q_piloting_to_eme2000 : (n, 4) ndarray
        Unit quaternions (w, x, y, z) of the piloting frame w.r.t. EME2000.
    eop : EarthOrientation
        Earth orientation at these times.

    Returns
    -------
    (n, 4) ndarray
        Unit quaternions (w, x, y, z) with ``quat_to_matrix(q_itrf) = M @ quat_to_matrix(q)``,
        ``M`` = :func:`eme2000_to_itrf`; signs chosen so consecutive samples are on the same
        hemisphere (first sample: w >= 0).
    """
    q = np.asarray(q_piloting_to_eme2000, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return continuous_quaternions(_quat_mul(matrix_to_quat(eme2000_to_itrf(times_utc, eop)), q))


def continuous_quaternions(q: np.ndarray) -> np.ndarray:
    """Quaternions (n, 4) (w, x, y, z) with signs chosen so that the first has w >= 0 and each
    next one is on the hemisphere of the previous one (same rotations)."""
    q = np.asarray(q, np.float64)
    flips = np.concatenate([[q[0, 0] < 0], np.sum(q[1:] * q[:-1], axis=-1) < 0])
    sign = np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)
    return q * sign[:, None]


def gps_to_utc(times_gps: np.ndarray, gps_minus_utc_s: float) -> np.ndarray:
    """UTC ``datetime64[ns]`` of GPS times, GPS = UTC + ``gps_minus_utc_s`` (s; 18 since 2017)."""
    shift = np.timedelta64(int(round(float(gps_minus_utc_s) * 1e9)), "ns")
    return np.asarray(times_gps).astype("datetime64[ns]") - shift
