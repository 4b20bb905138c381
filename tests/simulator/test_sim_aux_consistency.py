"""The written files describe the simulated geometry: a location model built only from them (the
datastrip metadata's datation, ephemeris and attitudes, the AUX_UT1UTC, GIP_SPAMOD and
GIP_VIEDIR, or the truth file's attitude) reproduces the simulator's lines of sight; the SAD
packets carry the metadata's samples; the AUX_UT1UTC reads back to the simulator's table."""

import numpy as np
import pytest

from ipf.formats import aux, gipp_gs2, l0, l0_metadata, sad
from ipf.formats.msi_bands import BANDS
from ipf.geometry.attitude import msi_to_piloting
from ipf.geometry.frames import gps_to_utc, quaternions_to_itrf
from ipf.geometry.rotation import quat_to_matrix, slerp
from ipf.geometry.viewing import viewing_from_viedir_tables
from ipf.simulator.location import intersect_height
from ipf.simulator.truth import read_true_attitude


def _hermite(t, t_nodes, p, v):
    i = np.clip(np.searchsorted(t_nodes, t) - 1, 0, len(t_nodes) - 2)
    h = t_nodes[i + 1] - t_nodes[i]
    s = ((t - t_nodes[i]) / h)[:, None]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p[i] + h10 * h[:, None] * v[i] + h01 * p[i + 1] + h11 * h[:, None] * v[i + 1]


def _datastrip(root):
    return l0_metadata.read_datastrip_metadata(next(l0.find_datastrip(root / "L0").glob("*_MTD_L0__DS_*.xml")))


@pytest.mark.parametrize("true", [False, True])
def test_files_reproduce_the_simulated_geometry(small_run, small_sim, true):
    a = small_run[0]
    ds = _datastrip(a)
    eop = aux.read_ut1utc(next((a / "AUX").glob("*_AUX_UT1UTC_*.HDR")))
    spamod = gipp_gs2.read_gs2(next((a / "GIPP").glob("*_GIP_SPAMOD_*.xml")))
    viewing = viewing_from_viedir_tables(
        [gipp_gs2.read_gs2(p) for p in sorted((a / "GIPP").glob("*_GIP_VIEDIR_*.xml"))], spamod)
    align = msi_to_piloting(spamod)
    ref = np.datetime64(small_sim.orbit.t_ref.replace(tzinfo=None), "ns")

    def seconds(t):
        return (t - ref) / np.timedelta64(1, "s")

    leap = ds.auxiliary.gps_time_utc_s
    eph, att = ds.ancillary.ephemeris, ds.ancillary.attitudes
    t_orb = seconds(gps_to_utc(eph.gps_time, leap))
    utc_att = gps_to_utc(att.gps_time, leap)
    if true:
        times, q = read_true_attitude(a)
        assert np.array_equal(times, utc_att)
    else:
        q = quaternions_to_itrf(utc_att, att.quaternion, eop.at(utc_att))
    period_s = ds.time_stamp.line_period_ms / 1000
    names = {b.index: b for b in BANDS}
    rng = np.random.default_rng(5)
    assert len(ds.time_stamp.stamps) == len(small_sim.config.bands) * len(small_sim.config.detectors)
    for stamp in ds.time_stamp.stamps:
        band = names[stamp.band]
        r = band.resolution_m // 10
        k = 3 if r == 6 else 1
        n_elements = viewing[band.name, stamp.detector].n_pixels * k
        assert small_sim.instrument.n_elements(band.name) == n_elements
        lines = rng.uniform(0, small_sim.config.lines(band.name) - 1, 50)
        elements = rng.uniform(0, n_elements - 1, 50)
        t = seconds(gps_to_utc(stamp.gps_time, leap)) + (lines + 1 - stamp.reference_line) * period_s * r
        pos = _hermite(t, t_orb, eph.position_m, eph.velocity_m_s)
        u = viewing[band.name, stamp.detector].directions((elements - (k - 1) / 2) / k) @ align.T
        look = np.einsum("nij,nj->ni", quat_to_matrix(slerp(t, seconds(utc_att), q)), u)
        e, n = intersect_height(small_sim.geodesy, pos, look, 100.0)
        p_sim, l_sim = small_sim.acquisition.lines_of_sight(band.name, stamp.detector, lines, elements, true=true)
        e2, n2 = intersect_height(small_sim.geodesy, p_sim, l_sim, 100.0)
        assert np.hypot(e - e2, n - n2).max() < 0.01


def test_sad_packets_carry_the_metadata_samples(small_run):
    """ANC_DATA: one SAD sample per attitude sample, the same GPS times and quaternions
    (piloting -> EME2000), and at the whole seconds the ephemeris within its mm resolution."""
    a = small_run[0]
    ds = _datastrip(a)
    (path,) = sorted((l0.find_datastrip(a / "L0") / l0.ANC_DATA).glob("*_AUX_S09123_*.bin"))
    data = sad.read_sad(path)
    att, eph = ds.ancillary.attitudes, ds.ancillary.ephemeris
    assert np.array_equal(data.times.astype("datetime64[ns]"), att.gps_time)
    assert np.abs(data.quaternions - att.quaternion).max() < 1e-15
    at_ephemeris = np.searchsorted(att.gps_time, eph.gps_time)
    assert np.array_equal(att.gps_time[at_ephemeris], eph.gps_time)
    assert np.abs(data.positions[at_ephemeris] - eph.position_m).max() <= 0.0005 + 1e-6
    assert np.abs(data.velocities[at_ephemeris] - eph.velocity_m_s).max() <= 0.0005 + 1e-6


def test_ancillary_covers_the_lines_and_is_in_eme2000(small_run, small_sim):
    """Ephemeris every 1 s and attitudes every 0.125 s span the lines with 10 s margins; the
    quaternions are not Earth-fixed (a fixed pointing in ITRF turns in EME2000 at the Earth rate)."""
    a = small_run[0]
    ds = _datastrip(a)
    att, eph = ds.ancillary.attitudes, ds.ancillary.ephemeris
    assert set(np.diff(eph.gps_time).astype(np.int64)) == {1_000_000_000}
    assert set(np.diff(att.gps_time).astype(np.int64)) == {125_000_000}
    first = min(s.gps_time for s in ds.time_stamp.stamps)
    assert eph.gps_time[0] <= first - np.timedelta64(10, "s") and att.gps_time[0] == eph.gps_time[0]
    assert eph.gps_time[-1] >= np.datetime64(ds.sensing_stop.replace(tzinfo=None), "ns") + np.timedelta64(28, "s")
    assert ds.auxiliary.gps_time_utc_s == 18 and ds.auxiliary.gps_time_tai_s == -19
    utc = gps_to_utc(att.gps_time, 18)
    itrf = quat_to_matrix(quaternions_to_itrf(utc, att.quaternion, small_sim.eop.at(utc)))
    t = (utc - np.datetime64(small_sim.orbit.t_ref.replace(tzinfo=None), "ns")) / np.timedelta64(1, "s")
    assert np.abs(itrf - small_sim.acquisition.attitude(t, true=False)).max() < 1e-12
    eme = quat_to_matrix(att.quaternion)
    assert np.linalg.norm(eme[-1] - itrf[-1]) > 1e-2


def test_ut1utc_reads_back_to_the_simulated_table(small_run, small_sim):
    a = small_run[0]
    table = aux.read_ut1utc(next((a / "AUX").glob("*_AUX_UT1UTC_*.HDR")))
    for name in ("mjd", "x_p", "y_p", "ut1_utc"):
        assert np.array_equal(getattr(table, name), getattr(small_sim.eop, name)), name
    assert table.n_rapid == small_sim.eop.n_rapid and table.tai_utc == 37.0
    ds = _datastrip(a)
    assert ds.auxiliary.iers_bulletin == next((a / "AUX").glob("*_AUX_UT1UTC_*.HDR")).stem
    utc = np.datetime64(ds.sensing_start.replace(tzinfo=None), "ns")
    eop = table.at(np.array([utc]))
    assert abs(float(eop.ut1_utc[0]) - ds.auxiliary.ut1_utc_s) < 1e-6
