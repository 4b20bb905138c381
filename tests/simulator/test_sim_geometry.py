from datetime import datetime, timezone

import numpy as np
import pytest

from ipf.simulator.acquisition import Acquisition, align_start_ticks
from ipf.simulator.attitude import AttitudeError
from ipf.simulator.focal_plane import FocalPlane
from ipf.simulator.instrument import INSTRUMENT_TO_BODY
from ipf.simulator.location import (Geodesy, build_grid, intersect_height, inverse_location,
                                    locate_on_dem_nb, locate_on_dem_ref, utm_epsg_for)
from ipf.simulator.orbit import design_orbit
from ipf.geometry.rotation import matrix_to_quat, quat_to_matrix, slerp
from ipf.geometry.sun import sun_angles

DATE = datetime(2023, 3, 20, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def orbit():
    return design_orbit(43.6, 3.5, DATE)


def test_orbit_is_sun_synchronous_with_1030_descending_node(orbit):
    assert 98.4 < np.degrees(orbit.inclination) < 98.7
    pos, vel = orbit.state(np.array([0.0]))
    geo = Geodesy(utm_epsg_for(3.5, 43.6))
    lon, lat, h = geo.ecef_to_geodetic(pos)
    assert 780e3 < h[0] < 800e3 and vel[0, 2] < 0
    e, n = intersect_height(geo, pos, -pos / np.linalg.norm(pos), 0.0)
    lon0, lat0 = geo.from_utm(e, n)
    assert abs(lat0[0] - 43.6) < 1e-6 and abs(lon0[0] - 3.5) < 1e-6
    dt = (np.pi - orbit.u0) / orbit.mean_motion
    p, _ = orbit.state(np.array([dt]))
    assert abs(p[0, 2]) < 1.0
    lon_node = np.degrees(np.arctan2(p[0, 1], p[0, 0]))
    t = orbit.utc(dt)
    lmst = (t.hour + t.minute / 60 + (t.second + t.microsecond / 1e6) / 3600 + lon_node / 15) % 24
    assert abs(lmst - 10.5) < 1 / 3600
    zen, az = sun_angles(43.6, 3.5, orbit.t_ref)
    assert 40 < zen < 55 and 120 < az < 180


def test_quaternions_round_trip_and_slerp(orbit, rng):
    q = rng.normal(size=(50, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 0] < 0] *= -1
    assert np.allclose(matrix_to_quat(quat_to_matrix(q)), q, atol=1e-14)
    acq = Acquisition(orbit, FocalPlane(), AttitudeError((0, 0, 0), (0, 0, 0)), INSTRUMENT_TO_BODY)
    t_nodes = np.arange(-4, 4.01, 0.125)
    qn = matrix_to_quat(acq.attitude(t_nodes))
    t = rng.uniform(-3, 3, 100)
    err = quat_to_matrix(slerp(t, t_nodes, qn)) @ np.swapaxes(acq.attitude(t), -1, -2) - np.eye(3)
    assert np.abs(err).max() < 1e-8


@pytest.fixture(scope="module")
def wide(orbit):
    """Full-size focal plane, edge detectors (largest view angles)."""
    acq = Acquisition(orbit, FocalPlane(2592, 98), AttitudeError((3e-5, -4e-5, 1e-4), (1e-6, 0, -1e-6)),
                      INSTRUMENT_TO_BODY)
    acq.start_ticks = align_start_ticks(acq, ("B04", "B11"), (1, 12), -0.5)
    return acq, Geodesy(utm_epsg_for(3.5, 43.6))


@pytest.mark.parametrize("band,detector", [("B04", 1), ("B11", 12)])
def test_location_grid_matches_exact_intersection(wide, rng, band, detector):
    acq, geo = wide
    n_pix = acq.focal_plane.n_pixels(band)
    grid = build_grid(acq, geo, band, detector, 600, n_pix, (-100.0, 3100.0))
    lines, pix, h = rng.uniform(0, 599, 300), rng.uniform(0, n_pix - 1, 300), rng.uniform(-100, 3000, 300)
    pos, look = acq.lines_of_sight(band, detector, lines, pix)
    e, n = intersect_height(geo, pos, look, h)
    ge, gn = grid.evaluate(lines, pix, h)
    assert np.hypot(ge - e, gn - n).max() < 0.01
    lon, lat = geo.from_utm(e, n)
    p = geo.geodetic_to_ecef(lon, lat, h)
    cross = np.cross(p - pos, look)
    assert np.linalg.norm(cross, axis=-1).max() < 1e-3


def test_swath_and_ground_sampling(wide):
    acq, geo = wide
    g1 = build_grid(acq, geo, "B04", 1, 64, 2592, (0.0, 500.0))
    g12 = build_grid(acq, geo, "B04", 12, 64, 2592, (0.0, 500.0))
    swath = np.hypot(g12.e[0, 0, -1] - g1.e[0, 0, 0], g12.n[0, 0, -1] - g1.n[0, 0, 0])
    assert 285e3 < swath < 310e3  # MSI: 290 km; here 12 x (2592 - 98) pixels
    gsd = np.hypot(np.diff(g1.e[0, 2]), np.diff(g1.n[0, 2])) / g1.dp
    assert np.all((gsd > 9.5) & (gsd < 11.5))
    along = np.hypot(np.diff(g1.e[0, :, 5]), np.diff(g1.n[0, :, 5])) / g1.dl
    assert np.all((along > 9.8) & (along < 10.2))


def test_dem_location_numba_equals_reference_and_inverse_round_trip(small_sim, rng):
    s = small_sim.scene
    g = s.dem_grid
    for (band, det), grid in small_sim.grids.items():
        n_lines = small_sim.config.lines(band)
        n_pix = small_sim.instrument.focal_plane.n_pixels(band)
        lines, pix = rng.uniform(0, n_lines - 1, 2000), rng.uniform(0, n_pix - 1, 2000)
        ref = locate_on_dem_ref(grid, lines, pix, s.dem, g.x0, g.y0, g.step)
        nb = locate_on_dem_nb(grid, lines, pix, s.dem, g.x0, g.y0, g.step)
        for a, b in zip(ref, nb):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-7)
        e, n, h = nb
        assert np.abs(s.height(e, n) - h).max() < 1e-3
        line2, pix2 = inverse_location(grid, e, n, h)
        assert np.abs(line2 - lines).max() < 0.01 and np.abs(pix2 - pix).max() < 0.01


def test_true_attitude_moves_ground_by_tens_of_metres(small_sim):
    acq = small_sim.acquisition
    lines, pix = np.array([0.0, 144.0, 287.0]), np.array([96.0, 0.0, 191.0])
    geo = small_sim.geodesy
    pos, look_true = acq.lines_of_sight("B02", 6, lines, pix, true=True)
    _, look_given = acq.lines_of_sight("B02", 6, lines, pix, true=False)
    et, nt = intersect_height(geo, pos, look_true, 0.0)
    eg, ng = intersect_height(geo, pos, look_given, 0.0)
    shift = np.hypot(et - eg, nt - ng)
    assert np.all((shift > 5) & (shift < 150))


def test_ground_point_to_image_and_back(small_sim, rng):
    """Inverse location of a ground point, then direct location of that pixel on the DEM."""
    s = small_sim.scene
    g = s.dem_grid
    grid = small_sim.grids["B05", 7]
    centre_e, centre_n = grid.evaluate(72.0, 48.0, 0.0)
    e = centre_e + rng.uniform(-300, 300, 500)
    n = centre_n + rng.uniform(-300, 300, 500)
    h = s.height(e, n).astype(np.float64)
    line, pix = inverse_location(grid, e, n, h)
    e2, n2, h2 = locate_on_dem_nb(grid, line, pix, s.dem, g.x0, g.y0, g.step)
    assert np.hypot(e2 - e, n2 - n).max() / 20.0 < 0.01
