"""Direct location of the processor model (files only) against the simulator's locations."""

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.formats.geotiff import read_dem
from ipf.geometry.direct import (direct_location, height_levels, intersect_height, locate_columns,
                                 locate_columns_ref, ray_columns)
from ipf.geometry.geodesy import geodesy
from ipf.simulator.location import intersect_height as sim_intersect_height
from ipf.simulator.location import locate_on_dem_nb
from tests.helpers import models


def _points(model, sim, band, det, rng, n=400):
    lines = rng.uniform(0, sim.config.lines(band) - 1, n)
    pix = rng.uniform(0, model.n_pixels(band, det) - 1, n)
    return lines, pix


def _elements(sim, band, pix):
    """The simulator's L0 element of processor pixels (GIP_VIEDIR pixels; a 60 m pixel is the
    mean of ``k`` elements, centred on element ``k p + (k - 1) / 2``)."""
    k = sim.acquisition.binning.get(band, 1)
    return pix * k + (k - 1) / 2


def test_true_attitude_reproduces_the_simulated_locations(small, rng):
    """Processor model + true attitude AUX + truth DEM vs the simulator: < 0.01 px and < 1 m."""
    folder, sim = small
    _, true = models(folder)
    dem = read_dem(folder / "truth" / "TRUTH_DEM_10m.tif")
    geo = geodesy(dem.epsg)
    s, g = sim.scene, sim.scene.dem_grid
    worst = {}
    for band in sim.config.bands:
        res = BY_NAME[band].resolution_m
        for det in sim.config.detectors:
            lines, pix = _points(true, sim, band, det, rng)
            elements = _elements(sim, band, pix)
            e, n, h = direct_location(true, geo, dem, band, det, lines, pix)
            e0, n0, h0 = locate_on_dem_nb(sim.grids[band, det], lines, elements, s.dem, g.x0, g.y0, g.step)
            err = np.hypot(e - e0, n - n0)
            worst[band, det] = (float(err.max()), float(err.max() / res))
            assert err.max() < 1.0 and err.max() / res < 0.01
            assert np.abs(h - h0).max() < 0.05
            assert np.abs(s.height(e, n) - h).max() < 1e-3  # on the DEM
            # and on fixed heights, exact intersections on both sides
            pos, look = true.lines_of_sight(band, det, lines, pix)
            ps, ls = sim.acquisition.lines_of_sight(band, det, lines, elements, true=True)
            e1, n1, _ = geo.ecef_to_utm(intersect_height(geo, pos, look, 500.0))
            e2, n2 = sim_intersect_height(sim.geodesy, ps, ls, 500.0)
            assert np.hypot(e1 - e2, n1 - n2).max() < 0.01
    print("\ntrue attitude vs simulator, max (m, px):",
          {f"{b}/D{d:02d}": (round(m, 4), round(p, 5)) for (b, d), (m, p) in worst.items()})


def test_given_attitude_is_tens_of_metres_off(small, rng):
    folder, sim = small
    given, true = models(folder)
    dem = read_dem(folder / "truth" / "TRUTH_DEM_10m.tif")
    geo = geodesy(dem.epsg)
    errs = []
    for band in sim.config.bands:
        for det in sim.config.detectors:
            lines, pix = _points(given, sim, band, det, rng, 200)
            e, n, _ = direct_location(given, geo, dem, band, det, lines, pix)
            et, nt, _ = direct_location(true, geo, dem, band, det, lines, pix)
            errs.append(np.hypot(e - et, n - nt))
    err = np.concatenate(errs)
    print(f"\ngiven vs true attitude on ground: min {err.min():.1f} mean {err.mean():.1f} max {err.max():.1f} m")
    assert 10 < err.min() and err.max() < 150


def test_aux_dem_against_truth_dem(small, rng):
    """The 30 m AUX DEM (block mean) moves the near-nadir small scene by centimetres only."""
    folder, sim = small
    _, true = models(folder)
    dem10 = read_dem(folder / "truth" / "TRUTH_DEM_10m.tif")
    dem30 = read_dem(next((folder / "AUX").glob("*_DEM_SRTMFO_*")), next((folder / "AUX").glob("*_DEM_GEOIDF_*.HDR")))
    assert dem30.epsg == dem10.epsg and dem30.step == 30.0
    geo = geodesy(dem10.epsg)
    lines, pix = _points(true, sim, "B02", 6, rng)
    e, n, _ = direct_location(true, geo, dem10, "B02", 6, lines, pix)
    e3, n3, _ = direct_location(true, geo, dem30, "B02", 6, lines, pix)
    assert np.hypot(e - e3, n - n3).max() < 1.0


def test_numba_kernel_equals_numpy_reference(small, rng):
    folder, sim = small
    given, _ = models(folder)
    dem = read_dem(folder / "truth" / "TRUTH_DEM_10m.tif")
    geo = geodesy(dem.epsg)
    for band in sim.config.bands:
        lines, pix = _points(given, sim, band, 7, rng, 300)
        pos, look = given.lines_of_sight(band, 7, lines, pix)
        h0, dh, k = height_levels(float(dem.heights.min()), float(dem.heights.max()))
        ce, cn = ray_columns(geo, pos, look, h0, dh, k)
        # plus rays that miss the level range: columns shifted to a flat area far off
        ref = locate_columns_ref(ce, cn, h0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        nb = locate_columns(ce, cn, h0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        for a, b in zip(ref, nb):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
        lo = locate_columns(ce, cn, h0 + 5000.0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        lo_ref = locate_columns_ref(ce, cn, h0 + 5000.0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        assert np.all(lo[2] == h0 + 5000.0) and np.all(lo_ref[2] == h0 + 5000.0)
        hi = locate_columns(ce, cn, h0 - 5000.0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        hi_ref = locate_columns_ref(ce, cn, h0 - 5000.0, dh, dem.heights, dem.x0, dem.y0, dem.step)
        top = h0 - 5000.0 + dh * (k - 1)
        assert np.all(hi[2] == top) and np.allclose(hi_ref[2], top)
        e, n, h = direct_location(given, geo, dem, band, 7, lines, pix, kernel="numpy")
        e2, n2, h2 = direct_location(given, geo, dem, band, 7, lines, pix)
        assert np.abs(e - e2).max() < 1e-6 and np.abs(h - h2).max() < 1e-6
