"""Sun and viewing angle grids of the L1C tile metadata (ipf.geometry.angles)."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from ipf.geometry.angles import (ANGLE_GRID_SIZE, ANGLE_STEP_M, angle_grids, covered_lines, grid_nodes,
                                 mean_angles, node_heights, sun_angle_grid, viewing_angle_grid)
from ipf.formats.geotiff import read_dem
from ipf.geometry.direct import direct_location, intersect_height_utm
from ipf.geometry.geodesy import geodesy, utm_epsg_for
from ipf.geometry.sun import sun_angles
from ipf.geometry.tiles import Tile, tile_at
from tests.helpers import models

EQUINOX_DAY = datetime(2023, 3, 20, tzinfo=timezone.utc)


def _small_scene(small):
    folder, sim = small
    given, _ = models(folder)
    dem = read_dem(next((folder / "AUX").glob("*_DEM_SRTMFO_*")), next((folder / "AUX").glob("*_DEM_GEOIDF_*.HDR")))
    return given, dem, geodesy(dem.epsg), sim.config


def _image_range(cfg, band):
    return (-0.5, cfg.lines(band) - 0.5)


def _topocentric_angles(lon, lat, h, target):
    """Zenith and azimuth (deg) of an ECEF target seen from (lon, lat, h), by PROJ's topocentric
    conversion (independent of ipf.geometry.angles)."""
    from pyproj import Transformer

    t = Transformer.from_pipeline(f"+proj=topocentric +ellps=WGS84 +lon_0={float(lon)!r} "
                                  f"+lat_0={float(lat)!r} +h_0={float(h)!r}")
    e, n, u = t.transform(*target)
    return np.degrees(np.arctan2(np.hypot(e, n), u)), np.degrees(np.arctan2(e, n)) % 360


def _separation(zen_a, az_a, zen_b, az_b):
    """Angle (deg) between the directions of (zenith, azimuth) pairs in degrees."""
    def unit(z, a):
        z, a = np.radians(z), np.radians(a)
        return np.stack([np.sin(z) * np.sin(a), np.sin(z) * np.cos(a), np.cos(z)], -1)
    return np.degrees(np.arccos(np.clip(np.sum(unit(zen_a, az_a) * unit(zen_b, az_b), -1), -1, 1)))


def _azimuth_difference(a, b):
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def test_grid_nodes_start_at_the_upper_left_corner_every_5_km():
    tile = tile_at(3.5, 43.6)
    e, n = grid_nodes(tile)
    assert e.shape == n.shape == (ANGLE_GRID_SIZE, ANGLE_GRID_SIZE) == (23, 23)
    assert (e[0, 0], n[0, 0]) == (tile.ulx, tile.uly) == (499980.0, 4900020.0)
    assert e[4, 7] == tile.ulx + 7 * ANGLE_STEP_M and n[4, 7] == tile.uly - 4 * ANGLE_STEP_M
    assert np.all(e[:, 0] == tile.ulx) and np.all(n[0, :] == tile.uly)
    xmin, ymin, xmax, ymax = tile.bounds
    assert e[0, -1] >= xmax and n[-1, 0] <= ymin and e[0, -2] < xmax
    e2, n2 = grid_nodes(tile, step=100.0, size=5)
    assert e2.shape == (5, 5) and e2[0, 4] == tile.ulx + 400 and n2[4, 0] == tile.uly - 400


def test_sun_grid_equals_the_point_formula_at_every_node():
    tile = tile_at(3.5, 43.6)
    geo = geodesy(tile.epsg)
    e, n = grid_nodes(tile)
    t = datetime(2023, 3, 20, 10, 48, 40, tzinfo=timezone.utc)
    zen, az = sun_angle_grid(geo, e, n, t)
    lon, lat = geo.from_utm(e, n)
    for i, j in [(0, 0), (0, 22), (11, 11), (22, 0), (22, 22), (5, 17)]:
        z1, a1 = sun_angles(lat[i, j], lon[i, j], t)
        assert abs(zen[i, j] - z1) < 1e-9 and abs(az[i, j] - a1) < 1e-9
    # naive datetimes and datetime64 are UTC
    for same in (t.replace(tzinfo=None), np.datetime64("2023-03-20T10:48:40")):
        z2, a2 = sun_angle_grid(geo, e, n, same)
        np.testing.assert_array_equal(z2, zen)
        np.testing.assert_array_equal(a2, az)
    # the Sun is lower towards the north-west in a morning tile: zenith grows north and west
    assert zen[0, 0] > zen[22, 22] and np.all(np.diff(zen, axis=0) < 0) and np.all(np.diff(zen, axis=1) < 0)


@pytest.mark.parametrize("lon, lat, noon_azimuth", [(3.5, 43.6, 180.0), (18.4, -33.9, 0.0)])
def test_sun_at_solar_noon_of_the_march_equinox(lon, lat, noon_azimuth):
    """20 March 2023 (equinox at 21:24 UTC, declination -0.16° at noon rising 0.39°/day, equation
    of time -7.5 min): the Sun crosses the meridian, due south (north in the southern hemisphere),
    at 12:07:30 UTC - lon / 15 h, at a zenith of |lat - declination|; the rising declination
    moves the lowest zenith ~15 s later, by less than 1e-4°."""
    geo = geodesy(utm_epsg_for(lon, lat))
    e, n = geo.to_utm(lon, lat)
    times = [EQUINOX_DAY + timedelta(hours=10, seconds=10 * k) for k in range(1080)]
    zen, az = np.array([sun_angle_grid(geo, e, n, t) for t in times]).T
    off = (az - noon_azimuth + 180.0) % 360.0 - 180.0
    k = int(np.flatnonzero(np.sign(off[:-1]) != np.sign(off[1:]))[0])
    transit = times[k] + timedelta(seconds=10 * off[k] / (off[k] - off[k + 1]))
    noon = EQUINOX_DAY + timedelta(hours=12, minutes=7.5) - timedelta(hours=lon / 15)
    assert abs((transit - noon).total_seconds()) < 60
    zen_transit, az_transit = sun_angle_grid(geo, e, n, transit)
    assert _azimuth_difference(az_transit, noon_azimuth) < 1e-3
    assert abs(zen_transit - abs(lat + 0.16)) < 0.05
    assert 0 <= zen_transit - zen.min() < 1e-4
    morning = sun_angle_grid(geo, e, n, transit - timedelta(hours=1))[1]
    afternoon = sun_angle_grid(geo, e, n, transit + timedelta(hours=1))[1]
    assert 0 < morning < 180 < afternoon < 360


def test_viewing_angles_point_back_to_the_satellite(small, rng):
    """Image points located on the DEM: the viewing direction is the reverse line of sight of the
    point, towards the satellite position at the line time (angles by PROJ topocentric)."""
    given, dem, geo, cfg = _small_scene(small)
    for band in cfg.bands:
        for det in cfg.detectors:
            lines = rng.uniform(0, cfg.lines(band) - 1, 6)
            pix = rng.uniform(0, given.n_pixels(band, det) - 1, 6)
            e, n, h = direct_location(given, geo, dem, band, det, lines, pix)
            zen, az = viewing_angle_grid(given, geo, band, det, e, n, h, _image_range(cfg, band))
            pos, look = given.lines_of_sight(band, det, lines, pix)
            lon, lat = geo.from_utm(e, n)
            for k in range(lines.size):
                z1, a1 = _topocentric_angles(lon[k], lat[k], h[k], pos[k])
                assert abs(zen[k] - z1) < 1e-6 and _separation(zen[k], az[k], z1, a1) < 1e-6
                ground = geo.geodetic_to_ecef(lon[k], lat[k], h[k])
                z2, a2 = _topocentric_angles(lon[k], lat[k], h[k], ground - look[k])
                assert abs(zen[k] - z2) < 1e-6 and _separation(zen[k], az[k], z2, a2) < 1e-6


def test_viewing_angles_against_the_simulator_orbit(wide, rng):
    """Edge detectors of the full-size focal plane (zenith ~10-12°): the angles point to the
    simulator's own (analytic) satellite position at the line time."""
    model, acq, geo = wide
    for det in (1, 12):
        lines = rng.uniform(0, 1999, 5)
        pix = rng.uniform(0, model.n_pixels("B04", det) - 1, 5)
        h = rng.uniform(-50, 2500, 5)
        pos, look = model.lines_of_sight("B04", det, lines, pix)
        e, n = intersect_height_utm(geo, pos, look, h)
        zen, az = viewing_angle_grid(model, geo, "B04", det, e, n, h)
        sat, _ = acq.orbit.state(model.line_time("B04", det, lines))
        lon, lat = geo.from_utm(e, n)
        for k in range(lines.size):
            z1, a1 = _topocentric_angles(lon[k], lat[k], h[k], sat[k])
            assert abs(zen[k] - z1) < 1e-6 and _azimuth_difference(az[k], a1) < 1e-6
            assert _separation(zen[k], az[k], z1, a1) < 1e-6


def test_zenith_grows_from_nadir_to_the_swath_edge(small, wide):
    given, dem, geo, cfg = _small_scene(small)
    for det in cfg.detectors:
        lines, pix = np.meshgrid(np.linspace(0, cfg.lines("B02") - 1, 5),
                                 np.linspace(0, given.n_pixels("B02", det) - 1, 9))
        e, n, h = direct_location(given, geo, dem, "B02", det, lines, pix)
        zen, _ = viewing_angle_grid(given, geo, "B02", det, e, n, h, _image_range(cfg, "B02"))
        assert np.all(np.isfinite(zen)) and zen.max() < 1.0
    model, _, geo_w = wide
    azimuths = []
    for det in (1, 12):
        pix = np.linspace(0, model.n_pixels("B04", det) - 1, 25)
        pos, look = model.lines_of_sight("B04", det, 1000.0, pix)
        e, n = intersect_height_utm(geo_w, pos, look, 0.0)
        zen, az = viewing_angle_grid(model, geo_w, "B04", det, e, n, 0.0)
        outward = zen if det == 1 else zen[::-1]
        assert np.all(np.diff(outward) < 0)
        assert 11.5 < outward[0] < 13.0 and 9.5 < outward[-1] < 10.5
        azimuths.append(az.mean())
    # the two swath edges see the satellite from opposite sides of the track
    assert abs(_azimuth_difference(*azimuths) - 180.0) < 5.0


def test_nan_outside_the_detector_and_the_line_range(small):
    given, dem, geo, cfg = _small_scene(small)
    band, det, hh = "B05", 6, 250.0
    n_pix, n_lines = given.n_pixels(band, det), cfg.lines(band)
    lr = _image_range(cfg, band)
    lines = np.array([40.0, 40.0, 40.0, 40.0, -0.45, -0.55, n_lines - 0.55, n_lines - 0.45, -30.0])
    pix = np.array([-0.45, -0.55, n_pix - 0.55, n_pix - 0.45, 10.0, 10.0, 10.0, 10.0, 10.0])
    seen = np.array([1, 0, 1, 0, 1, 0, 1, 0, 0], bool)
    pos, look = given.lines_of_sight(band, det, lines, pix)
    e, n = intersect_height_utm(geo, pos, look, hh)
    zen, az = viewing_angle_grid(given, geo, band, det, e, n, hh, lr)
    np.testing.assert_array_equal(np.isfinite(zen), seen)
    np.testing.assert_array_equal(np.isfinite(az), seen)
    # without a line range, every line the orbit and attitude cover counts
    first, last = covered_lines(given, band, det)
    assert first < -30.0 and last > n_lines + 30
    zen_all, _ = viewing_angle_grid(given, geo, band, det, e, n, hh)
    np.testing.assert_array_equal(np.isfinite(zen_all), (pix >= -0.5) & (pix <= n_pix - 0.5))
    # far across track (5 and 50 km) and the neighbouring detector
    far_e, far_n = e[0] + np.array([5e3, 50e3, -50e3]), n[0] + np.array([0.0, 0.0, 10e3])
    assert np.all(np.isnan(viewing_angle_grid(given, geo, band, det, far_e, far_n, hh, lr)[0]))
    other = viewing_angle_grid(given, geo, band, 7, e[4:8], n[4:8], hh, lr)[0]
    assert np.all(np.isnan(other))
    assert viewing_angle_grid(given, geo, band, det, e[:0], n[:0], hh)[0].shape == (0,)


def test_mean_angles_are_circular_in_azimuth_and_skip_nan():
    z, a = mean_angles([1.0, 2.0, np.nan, 3.0, 4.0], [350.0, 10.0, 123.0, 355.0, 5.0])
    assert z == pytest.approx(2.5) and _azimuth_difference(a, 0.0) < 1e-9
    assert 0.0 <= a < 360.0
    assert mean_angles([5.0, 7.0], [170.0, 190.0]) == pytest.approx((6.0, 180.0))
    assert mean_angles([5.0, 7.0], [300.0, 340.0])[1] == pytest.approx(320.0)
    z, a = mean_angles(np.array([[1.0, 9.0], [3.0, np.nan]]), np.array([[90.0, np.nan], [100.0, 200.0]]))
    assert (z, a) == pytest.approx((2.0, 95.0))
    assert all(np.isnan(mean_angles([np.nan], [np.nan])))


def test_node_heights_from_the_dem_zero_outside_and_across_zones(small):
    _, dem, geo, _ = _small_scene(small)
    e0, n0, e1, n1 = dem.bounds
    # outside: beyond the north-west corner, where the border heights are not 0 (land)
    e = np.array([e0, (e0 + e1) / 2, e1, e0 - 100.0, e0])
    n = np.array([n1, (n0 + n1) / 2, n0, n1, n1 + 100.0])
    h = node_heights(dem, geo, e, n)
    np.testing.assert_allclose(h[:3], dem.height(e[:3], n[:3]), rtol=0, atol=1e-9)
    assert np.all(h[3:] == 0) and np.all(dem.height(e[3:], n[3:]) != 0)
    west = geodesy(geo.utm_epsg - 1)
    inside_e, inside_n = e[:3] + np.array([1.0, 0.0, -1.0]), n[:3] + np.array([-1.0, 0.0, 1.0])
    ew, nw = west.to_utm(*geo.from_utm(inside_e, inside_n))
    np.testing.assert_allclose(node_heights(dem, west, ew, nw), dem.height(inside_e, inside_n), rtol=0, atol=1e-4)


def test_angle_grids_of_a_tile_centred_on_the_scene(small):
    given, dem, geo, cfg = _small_scene(small)
    e_c, n_c, _ = direct_location(given, geo, dem, "B02", 6, np.array([cfg.lines("B02") / 2]), np.array([96.0]))
    tile = Tile("TEST", geo.utm_epsg, float(e_c[0]) - 11 * ANGLE_STEP_M, float(n_c[0]) + 11 * ANGLE_STEP_M)
    t = datetime(2023, 3, 20, 10, 48, 40, tzinfo=timezone.utc)
    ranges = {(b, d): _image_range(cfg, b) for b in cfg.bands for d in cfg.detectors}
    grids = angle_grids(given, geo, dem, tile, cfg.bands, cfg.detectors, t, ranges)
    assert set(grids) == {"sun"} | set(ranges)
    e, n = grid_nodes(tile)
    sun = sun_angle_grid(geo, e, n, t)
    for g, s in zip(grids["sun"], sun):
        assert g.shape == (23, 23) and np.all(np.isfinite(g))
        np.testing.assert_array_equal(g, s)
    for band in cfg.bands:
        zen, az = grids[band, 6]
        assert zen.shape == az.shape == (23, 23)
        # the scene (~2 km × 3 km) holds only the centre node
        assert np.isfinite(zen[11, 11]) and np.isfinite(az[11, 11]) and np.isfinite(zen).sum() == 1
        ref = viewing_angle_grid(given, geo, band, 6, e_c, n_c, node_heights(dem, geo, e_c, n_c), ranges[band, 6])
        assert abs(zen[11, 11] - ref[0][0]) < 1e-9 and _azimuth_difference(az[11, 11], ref[1][0]) < 1e-9
    # without line ranges the detector sees the nodes along its track
    open_grids = angle_grids(given, geo, dem, tile, ["B02"], [6], t)
    zen = open_grids["B02", 6][0]
    assert np.isfinite(zen).sum() > 1 and np.all(np.isfinite(zen[np.isfinite(grids["B02", 6][0])]))
    with pytest.raises(ValueError, match="EPSG"):
        angle_grids(given, geodesy(geo.utm_epsg - 1), dem, tile, ["B02"], [6], t)
