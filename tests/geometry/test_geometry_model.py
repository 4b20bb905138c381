"""Sensor model pieces against the simulator: orbit, attitude, datation, viewing, lines of sight."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from ipf.formats import l0
from ipf.formats.l0_metadata import read_datastrip_metadata
from ipf.geometry.datation import datation_from_line_times, seconds_since
from tests.helpers import models


def test_importing_the_geometry_is_light():
    code = ("import sys, ipf.geometry, ipf.geometry.sensor, ipf.geometry.direct, ipf.geometry.grid, "
            "ipf.geometry.inverse, ipf.geometry.footprint, ipf.geometry.dem, ipf.processors.l0.tasks; "
            "print(','.join(m for m in ('numba', 'pyproj', 'rasterio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    import ipf.geometry

    for f in Path(ipf.geometry.__file__).parent.glob("*.py"):
        text = f.read_text()
        assert "from ipf.simulator" not in text and "import ipf.simulator" not in text, f


def test_orbit_attitude_and_lines_of_sight_match_the_simulator(wide, rng):
    model, acq, _ = wide
    t = rng.uniform(-15, 15, 500)
    pos, vel = model.orbit.state(t)
    p0, v0 = acq.orbit.state(t)
    assert np.abs(pos - p0).max() < 1e-3 and np.abs(vel - v0).max() < 1e-5
    rot = model.attitude.matrix(t) @ np.swapaxes(acq.attitude(t, true=True), -1, -2)
    assert np.abs(rot - np.eye(3)).max() < 1e-8
    for band, det in model.viewing:
        lines = rng.uniform(0, 1000, 200)
        pix = rng.uniform(0, model.n_pixels(band, det) - 1, 200)
        np.testing.assert_allclose(model.line_time(band, det, lines), acq.line_time(band, det, lines),
                                   rtol=0, atol=1e-12)
        p1, u1 = model.lines_of_sight(band, det, lines, pix)
        p2, u2 = acq.lines_of_sight(band, det, lines, pix, true=True)
        assert np.abs(p1 - p2).max() < 1e-3
        assert np.abs(u1 - u2).max() < 1e-8


def test_datation_from_datastrip_and_from_l0c_line_times(small):
    folder, sim = small
    given, _ = models(folder)
    offset = float(seconds_since(given.reference, sim.orbit.t_ref))
    assert set(given.datation) == {(b, d) for b in sim.config.bands for d in sim.config.detectors}
    for (band, det), d in given.datation.items():
        lines = np.arange(sim.config.lines(band), dtype=float)
        # Band_Time_Stamp GPS times are rounded to the ns, the simulator's ticks are 2^-16 s
        np.testing.assert_allclose(d.time(lines) + offset, sim.acquisition.line_time(band, det, lines),
                                   rtol=0, atol=2e-9)
        # L0c line times: s since 2000 from the packet times, with lost lines
        ref = float(seconds_since(given.reference, np.datetime64("2000-01-01T00:00:00", "us")))
        t2000 = ref + d.time(lines)
        t2000[5:40] = np.nan
        fit = datation_from_line_times(t2000, d.period, given.reference)
        assert abs(fit.t0 - d.t0) < 1e-6 and fit.period == d.period
        assert np.abs(fit.line(d.time(lines)) - lines).max() < 1e-3


def test_packet_times_follow_the_datastrip_line_clocks(small):
    """Every block of the small scene is on its datastrip line clock (no time jump reported) and
    its UTC time is the simulator's line time."""
    folder, sim = small
    ds = read_datastrip_metadata(l0.datastrip_metadata_file(l0.find_datastrip(folder / "L0")))
    clocks = l0.line_clocks(ds)
    t_ref = float(seconds_since(np.datetime64(sim.orbit.t_ref.replace(tzinfo=None), "us"),
                                np.datetime64("2000-01-01T00:00:00", "us")))
    for g in l0.find_granules(folder / "L0"):
        for band in sim.config.bands:
            blocks, report = l0.decode_granule_band(l0.band_file(g, band).read_bytes(), ds, clocks)
            assert report.ok and blocks
            for b in blocks:
                det = b.sec.detector
                t = sim.acquisition.line_time(band, det, np.array([b.sec.first_line]))[0] + t_ref
                assert abs(b.time - t) < 1e-6


def test_alignment_and_attitude_from_spamod_and_the_datastrip(small, rng):
    """MSI -> piloting from GIP_SPAMOD; the datastrip's piloting -> EME2000 attitudes turned to
    ITRF with AUX_UT1UTC give back the simulator's Earth-fixed (given) law."""
    folder, sim = small
    given, true = models(folder)
    np.testing.assert_allclose(given.alignment, sim.acquisition.alignment, rtol=0, atol=1e-15)
    offset = float(seconds_since(given.reference, sim.orbit.t_ref))
    t = rng.uniform(given.attitude.t[0], given.attitude.t[-1], 300)
    for model, flag in ((given, False), (true, True)):
        rot = model.attitude.matrix(t) @ np.swapaxes(sim.acquisition.attitude(t + offset, true=flag), -1, -2)
        assert np.abs(rot - np.eye(3)).max() < 1e-8
    pos, _ = given.orbit.state(t)
    assert np.abs(pos - sim.orbit.state(t + offset)[0]).max() < 2e-3
