"""EME2000 -> ITRF (IAU 2006/2000A, CIO based) and GPS -> UTC: properties checked against
independent formulas (IERS Conventions 2010) rather than against ERFA itself."""

from __future__ import annotations

import erfa
import numpy as np
import pytest

from ipf.geometry.frames import EarthOrientation, eme2000_to_itrf, gps_to_utc, quaternions_to_itrf
from ipf.geometry.rotation import quat_to_matrix

ARCSEC = np.pi / 180 / 3600
EARTH_RATE = 2 * np.pi * 1.00273781191135448 / 86400  # rad/s of UT1 (IERS 2010 eq. 5.15)
EOP = EarthOrientation(ut1_utc=-0.0973, xp=0.0490 * ARCSEC, yp=0.4418 * ARCSEC, tai_utc=37.0)


def _times(start: str, n: int, step_s: float) -> np.ndarray:
    return np.datetime64(start, "ns") + (np.arange(n) * step_s * 1e9).astype("timedelta64[ns]")


def _era(times_utc: np.ndarray, ut1_utc: float) -> np.ndarray:
    """Earth rotation angle (rad) from IERS Conventions 2010 eq. 5.15, in long double."""
    ns = times_utc.astype("datetime64[ns]").astype(np.int64)
    tu = (ns.astype(np.longdouble) / 86400e9 + np.longdouble(2440587.5 - 2451545.0)
          + np.longdouble(ut1_utc) / 86400)
    turns = np.longdouble("0.7790572732640") + np.longdouble("1.00273781191135448") * tu
    return (2 * np.pi * (turns % 1)).astype(np.float64)


def _z_angle(m: np.ndarray) -> np.ndarray:
    """Angle (rad) of the rotation about z that ``m`` is closest to: m ≈ R3(angle), erfa's R3."""
    return np.arctan2(m[..., 0, 1], m[..., 0, 0])


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def test_rotation_matrices_are_orthonormal_and_proper():
    m = eme2000_to_itrf(_times("2022-04-10T10:30:00", 500, 7.3), EOP)
    assert m.shape == (500, 3, 3)
    np.testing.assert_allclose(m @ np.swapaxes(m, 1, 2), np.broadcast_to(np.eye(3), m.shape), atol=1e-14)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-14)


def test_transposed_matrix_brings_itrf_back_to_eme2000():
    rng = np.random.default_rng(1)
    m = eme2000_to_itrf(_times("2022-04-10T10:30:00", 100, 1.0), EOP)
    v = rng.normal(size=(100, 3)) * 7.0e6
    back = np.einsum("nji,nj->ni", m, np.einsum("nij,nj->ni", m, v))
    np.testing.assert_allclose(back, v, atol=1e-8)


@pytest.mark.parametrize("epoch", ["2000-01-01T12:00:00", "2022-04-10T10:30:00", "2035-07-01T00:00:00"])
def test_z_angle_is_the_earth_rotation_angle_within_the_cip_tilt(epoch):
    """Without polar motion, M = R3(ERA) · C2I · B^T: the CIO does not turn about the CIP, so
    the angle about z differs from ERA only by s + the frame bias in right ascension (< 0.1")
    and the second-order effect of the CIP tilt X (X ≈ 2004" per century, X²/2 ≤ 1.2" in 2035;
    measured: 0.02", 0.12", 0.50"). An equinox-based angle (GMST, IERS 2010 eq. 5.32) would
    differ by the accumulated precession in right ascension, 46" a year since J2000."""
    eop = EarthOrientation(ut1_utc=0.3, xp=0.0, yp=0.0, tai_utc=37.0)
    t = _times(epoch, 50, 86.4)
    years = (t[0] - np.datetime64("2000-01-01T12:00:00", "ns")) / np.timedelta64(1, "D") / 365.25
    tilt = 2004.2 * ARCSEC * abs(years) / 100 + 17.3 * ARCSEC  # precession + nutation in X
    bound = tilt ** 2 / 2 + 0.1 * ARCSEC
    diff = _wrap(_z_angle(eme2000_to_itrf(t, eop)) - _era(t, 0.3))
    assert np.abs(diff).max() < bound


def test_one_second_of_ut1_turns_by_the_earth_rate():
    t = _times("2022-04-10T10:30:00", 10, 60.0)
    m0 = eme2000_to_itrf(t, EOP)
    m1 = eme2000_to_itrf(t, EarthOrientation(ut1_utc=EOP.ut1_utc + 1.0, xp=EOP.xp, yp=EOP.yp, tai_utc=37.0))
    d = m1 @ np.swapaxes(m0, 1, 2)
    angle = np.arccos(np.clip((np.trace(d, axis1=1, axis2=2) - 1) / 2, -1, 1))
    np.testing.assert_allclose(angle, EARTH_RATE * 1.0, rtol=1e-6)
    axis = np.stack([d[:, 1, 2] - d[:, 2, 1], d[:, 2, 0] - d[:, 0, 2], d[:, 0, 1] - d[:, 1, 0]], -1)
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    np.testing.assert_allclose(axis, np.broadcast_to([0, 0, 1], axis.shape), atol=1e-5)  # the CIP


def test_polar_motion_puts_the_cip_at_xp_minus_yp_in_the_itrf():
    t = _times("2022-04-10T10:30:00", 3, 3600.0)
    m = eme2000_to_itrf(t, EOP)
    rb = erfa.bp06(2451545.0, 0.0)[0]
    tt = (t.astype(np.int64) / 86400e9 + 2440587.5) + (37 + 32.184) / 86400
    x, y = erfa.xy06(tt, 0.0)
    cip = np.einsum("ij,nj->ni", rb, np.stack([x, y, np.sqrt(1 - x * x - y * y)], -1))
    itrf = np.einsum("nij,nj->ni", m, cip)
    np.testing.assert_allclose(itrf[:, 0], EOP.xp, atol=1e-11)
    np.testing.assert_allclose(itrf[:, 1], -EOP.yp, atol=1e-11)


def test_matches_erfa_c2t06a_with_frame_bias():
    t = _times("2022-04-10T10:30:00", 300, 4.1)
    ns = t.astype(np.int64)
    day, rem = np.divmod(ns, 86400 * 10 ** 9)
    jd1, frac = 2440587.5 + day.astype(float), rem / 86400e9
    ref = erfa.c2t06a(jd1, frac + (37 + 32.184) / 86400, jd1, frac + EOP.ut1_utc / 86400, EOP.xp, EOP.yp)
    ref = ref @ erfa.bp06(2451545.0, 0.0)[0].T
    np.testing.assert_allclose(eme2000_to_itrf(t, EOP), ref, atol=1e-12)


def test_quaternions_compose_with_the_frame_rotation_and_back():
    rng = np.random.default_rng(7)
    t = _times("2022-04-10T10:30:00", 400, 0.25)
    q = rng.normal(size=(400, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    q_itrf = quaternions_to_itrf(t, q, EOP)
    m = eme2000_to_itrf(t, EOP)
    np.testing.assert_allclose(quat_to_matrix(q_itrf), m @ quat_to_matrix(q), atol=1e-13)
    np.testing.assert_allclose(np.swapaxes(m, 1, 2) @ quat_to_matrix(q_itrf), quat_to_matrix(q), atol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(q_itrf, axis=-1), 1.0, atol=1e-15)


def test_quaternion_signs_are_continuous():
    t = _times("2022-04-10T00:00:00", 300, 300.0)  # a day: ERA crosses 180 degrees
    q = np.tile([0.3, -0.5, 0.7, 0.2], (300, 1))
    q_itrf = quaternions_to_itrf(t, q / np.linalg.norm(q[0]), EOP)
    assert q_itrf[0, 0] >= 0
    assert (np.sum(q_itrf[1:] * q_itrf[:-1], axis=-1) > 0).all()


def test_deterministic_and_independent_of_the_other_times():
    t = _times("2022-04-10T10:30:00", 1000, 0.1)
    a = eme2000_to_itrf(t, EOP)
    assert a.tobytes() == eme2000_to_itrf(t.copy(), EOP).tobytes()
    assert a[500:501].tobytes() == eme2000_to_itrf(t[500:501], EOP).tobytes()


def test_per_time_earth_orientation_arrays():
    t = _times("2022-04-10T10:30:00", 4, 60.0)
    ut1 = np.array([-0.1, -0.1, 0.2, 0.2])
    m = eme2000_to_itrf(t, EarthOrientation(ut1_utc=ut1, xp=0.0, yp=0.0, tai_utc=37.0))
    for i in range(4):
        one = eme2000_to_itrf(t[i:i + 1], EarthOrientation(ut1_utc=ut1[i], xp=0.0, yp=0.0, tai_utc=37.0))
        np.testing.assert_array_equal(m[i], one[0])


def test_gps_to_utc():
    gps = np.array(["2022-04-10T10:30:18.000000001", "2017-01-01T00:00:18"], dtype="datetime64[ns]")
    utc = gps_to_utc(gps, 18)
    assert utc.dtype == np.dtype("datetime64[ns]")
    assert list(utc.astype(str)) == ["2022-04-10T10:30:00.000000001", "2017-01-01T00:00:00.000000000"]
    assert gps_to_utc(np.datetime64("2022-01-01T00:00:18.5", "ms"), 18.5) == np.datetime64("2022-01-01", "ns")
