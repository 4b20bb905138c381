"""Simulator geometry: orbit, attitude law, lines of sight of the real S2A focal plane, location
grids on the ellipsoid and the DEM, start-time alignment of bands and detectors."""

from datetime import datetime, timezone

import numpy as np
import pytest

from ipf.formats.msi_bands import BY_NAME
from ipf.simulator.acquisition import Acquisition, align_start_ticks
from ipf.simulator.attitude import AttitudeError
from ipf.simulator.instrument import blind_pixels, spacecraft_model
from ipf.simulator.msi_focal_plane import MsiFocalPlane
from ipf.geometry.attitude import msi_to_piloting
from ipf.geometry.viewing import viewing_from_viedir_tables
from ipf.simulator.location import (Geodesy, build_grid, intersect_height, inverse_location,
                                    locate_on_dem_nb, locate_on_dem_ref, utm_epsg_for)
from ipf.simulator.orbit import design_orbit
from ipf.geometry.rotation import matrix_to_quat, quat_to_matrix, slerp
from ipf.geometry.sun import sun_angles

DATE = datetime(2023, 3, 20, tzinfo=timezone.utc)


def _acquisition(orbit, bands, detectors, error=None, binning=None):
    """An acquisition on the whole detectors of the real S2A focal plane (GS2 models), no
    attitude error by default."""
    error = error or AttitudeError((0, 0, 0), (0, 0, 0))
    fp = MsiFocalPlane.load()
    spamod = spacecraft_model()
    viewing = viewing_from_viedir_tables([fp.viedir(b, detectors) for b in bands], spamod)
    return Acquisition(orbit, viewing, msi_to_piloting(spamod), error, binning or {})


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
    acq = _acquisition(orbit, ("B04",), (6,))
    t_nodes = np.arange(-4, 4.01, 0.125)
    qn = matrix_to_quat(acq.attitude(t_nodes))
    t = rng.uniform(-3, 3, 100)
    err = quat_to_matrix(slerp(t, t_nodes, qn)) @ np.swapaxes(acq.attitude(t), -1, -2) - np.eye(3)
    assert np.abs(err).max() < 1e-8


@pytest.fixture(scope="module")
def wide(orbit):
    """Whole real detectors, edge ones (largest view angles), a binned 60 m band."""
    acq = _acquisition(orbit, ("B04", "B11", "B01"), (1, 6, 7, 12),
                       AttitudeError((3e-5, -4e-5, 1e-4), (1e-6, 0, -1e-6)), {"B01": 3})
    acq.start_ticks = align_start_ticks(acq, ("B04", "B11", "B01"), (1, 6, 7, 12), -0.5)
    return acq, Geodesy(utm_epsg_for(3.5, 43.6))


@pytest.mark.parametrize("band,detector", [("B04", 1), ("B11", 12), ("B01", 1)])
def test_location_grid_matches_exact_intersection(wide, rng, band, detector):
    acq, geo = wide
    n_pix = acq.n_elements(band, detector)
    grid = build_grid(acq, geo, band, detector, 600, n_pix, (-100.0, 3100.0))
    lines, pix, h = rng.uniform(0, 599, 300), rng.uniform(0, n_pix - 1, 300), rng.uniform(-100, 3000, 300)
    pos, look = acq.lines_of_sight(band, detector, lines, pix)
    e, n = intersect_height(geo, pos, look, h)
    ge, gn = grid.evaluate(lines, pix, h)
    assert np.hypot(ge - e, gn - n).max() < 1e-3 * BY_NAME[band].resolution_m
    lon, lat = geo.from_utm(e, n)
    p = geo.geodetic_to_ecef(lon, lat, h)
    cross = np.cross(p - pos, look)
    assert np.linalg.norm(cross, axis=-1).max() < 1e-3


def test_swath_and_ground_sampling(wide):
    """The real focal plane: 290 km swath, detector 1 on the right of the track (pixel index
    growing to the left), 10 m pixels and lines, adjacent detectors overlapping on ground."""
    acq, geo = wide
    g1 = build_grid(acq, geo, "B04", 1, 64, 2552, (0.0, 500.0), pixel_step=8)
    g12 = build_grid(acq, geo, "B04", 12, 64, 2552, (0.0, 500.0), pixel_step=8)
    swath = np.hypot(g12.e[0, 0, -1] - g1.e[0, 0, 0], g12.n[0, 0, -1] - g1.n[0, 0, 0])
    assert 290e3 < swath < 300e3  # MSI: 290 km nominal; 2 x 786 km x tan(0.1857) and the Earth curvature
    assert g1.e[0, 0, 0] < g12.e[0, 0, -1]  # descending pass heading south: right of track is west
    gsd = np.hypot(np.diff(g1.e[0, 2]), np.diff(g1.n[0, 2])) / g1.dp
    assert np.all((gsd > 9.5) & (gsd < 11.5))
    along = np.hypot(np.diff(g1.e[0, :, 5]), np.diff(g1.n[0, :, 5])) / g1.dl
    assert np.all((along > 9.8) & (along < 10.2))
    g6 = build_grid(acq, geo, "B04", 6, 64, 2552, (0.0, 500.0), pixel_step=8)
    g7 = build_grid(acq, geo, "B04", 7, 64, 2552, (0.0, 500.0), pixel_step=8)
    across = np.array([g12.e[0, 0, -1] - g1.e[0, 0, 0], g12.n[0, 0, -1] - g1.n[0, 0, 0]]) / swath
    overlap = ((g6.e[0, 0, -1] - g7.e[0, 0, 0]) * across[0] + (g6.n[0, 0, -1] - g7.n[0, 0, 0]) * across[1]) / 10.0
    assert 100 < overlap < 200


def test_bands_and_detectors_start_on_the_same_ground_line(wide):
    """Start times aligned on the ellipsoid: the first line's centre element of every band of a
    detector, and the facing ends of the adjacent detectors 6 and 7, are on the same ground line
    within 5 m (half a 10 m line) along track."""
    acq, geo = wide
    grids = {(b, d): build_grid(acq, geo, b, d, 8, acq.n_elements(b, d), (0.0, 100.0), line_step=1,
                                pixel_step=16, line_margin=0)
             for b in ("B04", "B11", "B01") for d in (1, 6, 7, 12)}

    def start(b, d):
        return np.array(grids[b, d].evaluate(0.0, (acq.n_elements(b, d) - 1) / 2, 0.0))

    for d in (1, 6, 7, 12):
        g = grids["B04", d]
        a = np.array([g.e[0, 1, 0] - g.e[0, 0, 0], g.n[0, 1, 0] - g.n[0, 0, 0]])
        a /= np.linalg.norm(a)
        for b in ("B11", "B01"):
            assert abs(np.dot(start(b, d) - start("B04", d), a)) < 5.0, (b, d)
        if d == 6:
            end6 = np.array(grids["B04", 6].evaluate(0.0, 2551.0, 0.0))
            first7 = np.array(grids["B04", 7].evaluate(0.0, 0.0, 0.0))
            assert abs(np.dot(first7 - end6, a)) < 5.0


def test_binned_elements_look_at_their_pixel(wide):
    """Element e of a 60 m line looks along GIP_VIEDIR pixel (e - 1) / 3: the mean direction of
    the three elements of pixel p is pixel p's."""
    acq, _ = wide
    u = acq.directions("B01", 6, np.arange(3 * 10, 3 * 11))
    p = acq.viewing["B01", 6].directions(10.0) @ acq.alignment.T
    assert np.allclose(u.mean(axis=0), p, atol=1e-9)
    assert acq.n_elements("B01", 6) == 3 * 425


def test_blind_pixel_layout_is_the_real_one():
    b = blind_pixels(("B01", "B02"), (6,))
    b01, b02 = (x.detectors[0] for x in b.bands)
    assert b01.left.valid == list(range(6)) and b01.right.non_valid == [1286, 1287, 1288, 1289]
    assert b01.right.valid == list(range(1290, 1296)) and b.bands[0].blind_pixel_number == 20
    assert b02.left.non_valid == [16, 17, 18, 19] and b02.right.valid[-1] == 20 + 2552 + 19


def test_dem_location_numba_equals_reference_and_inverse_round_trip(small_sim, rng):
    s = small_sim.scene
    g = s.dem_grid
    for (band, det), grid in small_sim.grids.items():
        n_lines = small_sim.config.lines(band)
        n_pix = small_sim.instrument.n_elements(band)
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
