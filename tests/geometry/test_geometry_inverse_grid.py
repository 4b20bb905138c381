"""Inverse location and the location grid: accuracy against the exact direct model."""

import time

import numpy as np
import pytest

from ipf.formats.msi_bands import BY_NAME
from ipf.formats.geotiff import read_dem
from ipf.geometry.direct import direct_location, intersect_height_utm
from ipf.geometry.geodesy import geodesy
from ipf.geometry.grid import DEFAULT_STEP_M, build_location_grid, grid_steps
from ipf.geometry.inverse import inverse_location
from tests.helpers import models


def test_inverse_of_direct_location_on_the_dem(small, rng):
    folder, sim = small
    given, _ = models(folder)
    dem = read_dem(next((folder / "AUX").glob("*_DEM_SRTMFO_*")), next((folder / "AUX").glob("*_DEM_GEOIDF_*.HDR")))
    geo = geodesy(dem.epsg)
    worst = 0.0
    for band in sim.config.bands:
        for det in sim.config.detectors:
            n_lines = sim.config.lines(band)
            lines = rng.uniform(0, n_lines - 1, 300)
            pix = rng.uniform(0, given.n_pixels(band, det) - 1, 300)
            e, n, h = direct_location(given, geo, dem, band, det, lines, pix)
            l1, p1 = inverse_location(given, geo, band, det, e, n, h)
            grid = build_location_grid(given, geo, band, det, (0, n_lines - 1),
                                       (float(dem.heights.min()), float(dem.heights.max())),
                                       resolution_m=BY_NAME[band].resolution_m)
            l2, p2 = inverse_location(given, geo, band, det, e, n, h, grid=grid)
            lg, pg = grid.inverse(e, n, h)
            worst = max(worst, np.abs(l1 - lines).max(), np.abs(p1 - pix).max())
            for a, b in ((l1, lines), (p1, pix), (l2, lines), (p2, pix)):
                assert np.abs(a - b).max() < 1e-4
            assert np.abs(lg - lines).max() < 0.01 and np.abs(pg - pix).max() < 0.01
    print(f"\ninverse(direct(p)) - p, max: {worst:.2e} pixel")


@pytest.mark.parametrize("band", ["B04", "B11", "B01"])
def test_grid_interpolation_error_below_a_hundredth_of_a_pixel(wide, rng, band):
    """Real S2A focal plane, edge detectors (view angles up to 12 deg), heights -100..3000 m,
    default spacing (:data:`ipf.geometry.grid.DEFAULT_STEP_M`): 0.0064 / 0.0032 / 0.0012 pixel
    measured at 10 / 20 / 60 m, the bilinear error of the real viewing directions' curvature
    along the detector (it falls 10-fold with nodes every 16 pixels instead of 64)."""
    model, _, geo = wide
    res = BY_NAME[band].resolution_m
    n_lines = 20000 // res
    for det in (1, 12):
        t = time.perf_counter()
        grid = build_location_grid(model, geo, band, det, (0, n_lines - 1), (-100.0, 3000.0), resolution_m=res)
        elapsed = time.perf_counter() - t
        assert grid.dl == grid_steps(res) == max(1, round(DEFAULT_STEP_M / res))
        lines = rng.uniform(0, n_lines - 1, 1500)
        pix = rng.uniform(0, model.n_pixels(band, det) - 1, 1500)
        h = rng.uniform(-100, 3000, 1500)
        pos, look = model.lines_of_sight(band, det, lines, pix)
        e, n = intersect_height_utm(geo, pos, look, h)
        ge, gn = grid.evaluate(lines, pix, h)
        err = np.hypot(ge - e, gn - n).max() / res
        print(f"\n{band} D{det:02d}: grid every {grid.dl:.0f} lines / {grid.dp:.0f} pixels / {grid.dh:.0f} m, "
              f"{grid.e.size} nodes in {elapsed:.2f} s: max interpolation error {err:.5f} pixel")
        assert err < 0.01
        # the inverse on the grid model is the inverse of the grid
        l2, p2 = grid.inverse(ge, gn, h)
        assert np.abs(l2 - lines).max() < 1e-6 and np.abs(p2 - pix).max() < 1e-6
        # numba kernel and NumPy reference: the same steps, also for points far outside (``near``)
        far_e = np.concatenate([ge, ge + 50_000.0])
        far_n = np.concatenate([gn, gn - 3_000.0])
        hh = np.concatenate([h, h])
        for near in (None, 4.0 * grid.dl):
            a = grid.inverse(far_e, far_n, hh, near=near)
            b = grid.inverse(far_e, far_n, hh, near=near, kernel="numpy")
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_grid_location_on_dem_numba_numpy_and_exact(small, rng):
    folder, sim = small
    given, _ = models(folder)
    dem = read_dem(next((folder / "AUX").glob("*_DEM_SRTMFO_*")), next((folder / "AUX").glob("*_DEM_GEOIDF_*.HDR")))
    geo = geodesy(dem.epsg)
    for band in sim.config.bands:
        res = BY_NAME[band].resolution_m
        n_lines = sim.config.lines(band)
        grid = build_location_grid(given, geo, band, 6, (0, n_lines - 1),
                                   (float(dem.heights.min()), float(dem.heights.max())), resolution_m=res)
        lines = rng.uniform(0, n_lines - 1, 500)
        pix = rng.uniform(0, given.n_pixels(band, 6) - 1, 500)
        nb = grid.locate_on_dem(lines, pix, dem)
        ref = grid.locate_on_dem_ref(lines, pix, dem)
        for a, b in zip(ref, nb):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
        e, n, h = direct_location(given, geo, dem, band, 6, lines, pix)
        assert np.hypot(nb[0] - e, nb[1] - n).max() / res < 0.01
        assert grid.locate_on_dem(lines.reshape(20, 25), pix.reshape(20, 25), dem)[0].shape == (20, 25)


def test_grid_inverse_of_non_finite_points_is_nan():
    from ipf.geometry.grid import LocationGrid

    k, i, j = np.meshgrid(np.arange(2), np.arange(4), np.arange(5), indexing="ij")
    grid = LocationGrid(10.0 * j + 0.5 * i + 0.0 * k, -10.0 * i + 0.3 * j, 0.0, 500.0, 0.0, 1.0, 0.0, 1.0)
    line, pix = grid.inverse([15.0, np.nan, 20.0], [-12.0, -5.0, np.inf], [100.0, 100.0, 100.0])
    assert np.isfinite(line[0]) and np.isfinite(pix[0])
    assert np.isnan(line[1:]).all() and np.isnan(pix[1:]).all()
    e, n = grid.evaluate(line[:1], pix[:1], [100.0])
    assert abs(e[0] - 15.0) < 1e-9 and abs(n[0] + 12.0) < 1e-9
