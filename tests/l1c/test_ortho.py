"""Orthorectification kernels (numba vs NumPy reference), the inverse location grid's accuracy
against the exact inverse location, and the TOA counts kernel."""

import numpy as np
import pytest

from ipf.formats.msi_bands import BY_NAME
from ipf.geometry import ortho
from ipf.radiometry import masks, reflectance
from tests.helpers import models


def _synthetic(seed=0, step=8):
    """Two overlapping detectors mapped affinely (plus a height parallax) onto a 120 × 100 grid,
    inverse-grid nodes every ``step`` pixels."""
    rng = np.random.default_rng(seed)
    shape = (120, 100)
    gh, gw = -(-(shape[0] - 1) // step) + 1, -(-(shape[1] - 1) // step) + 1
    gi, gj = np.meshgrid(np.arange(gh) * step, np.arange(gw) * step, indexing="ij")
    grids = []
    for det, offset in ((1, 0.0), (2, -55.0)):
        line = np.stack([gi * 0.98 + 0.02 * gj + 3.0, gi * 0.98 + 0.02 * gj + 3.6])
        pix = np.stack([gj * 1.01 - 0.01 * gi + offset + 2.0, gj * 1.01 - 0.01 * gi + offset + 1.5])
        grids.append((det, ortho.InverseGrid(line, pix, 0.0, 1000.0, step, 110, 64)))
    dem = ortho.TileDem(rng.uniform(0, 1000, (40, 40)).astype(np.float32), 5.0, 395.0, 10.0)
    src = {det: rng.normal(100, 20, (110, 64)).astype(np.float32) for det, _ in grids}
    mask = {det: (rng.random((110, 64)) < 0.05).astype(np.uint8) * masks.SATURATED for det, _ in grids}
    return shape, grids, dem, src, mask


def _run(fn, shape, grids, dem, src, mask, row0, rows, method="bicubic"):
    out = np.zeros((rows, shape[1]), np.float32)
    out_mask = np.zeros((rows, shape[1]), np.uint8)
    out_det = np.zeros((rows, shape[1]), np.uint8)
    score = np.full((rows, shape[1]), ortho.NODATA_SCORE, np.float32)
    heights = ortho.tile_heights(dem, 0.0, 400.0, 10.0, (0, shape[0]), (0, shape[1]))
    for det, g in grids:
        window = ortho.column_window(g, row0, row0 + rows, shape[1])
        fn(src[det], mask[det], g, heights, (0, 0), row0, window, det, out, out_mask, out_det, score, method)
    return out, out_mask, out_det, score


@pytest.mark.parametrize("step", [8, 11])
@pytest.mark.parametrize("method", ortho.METHODS)
def test_ortho_kernel_equals_reference(method, step):
    shape, grids, dem, src, mask = _synthetic(step=step)
    seen = set()
    for row0, rows in ((0, 50), (50, 70)):
        a = _run(ortho.ortho_strip, shape, grids, dem, src, mask, row0, rows, method)
        b = _run(ortho.ortho_strip_reference, shape, grids, dem, src, mask, row0, rows, method)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6, atol=1e-4)
        for x, y in zip(a[1:3], b[1:3]):  # mask and detector: the same pixels
            assert np.array_equal(x, y)
        np.testing.assert_allclose(a[3], b[3], rtol=0, atol=1e-5)  # overlap score, to rounding
        seen |= set(np.unique(a[2]).tolist())
        assert (a[1] > 0).any()
    assert seen == {0, 1, 2}  # both detectors and unseen pixels


def test_overlap_goes_to_the_detector_farthest_from_its_edge():
    shape, grids, dem, src, mask = _synthetic()
    out, _, det, score = _run(ortho.ortho_strip, shape, grids, dem, src, mask, 0, 120)
    rows, cols = np.meshgrid(np.arange(120), np.arange(shape[1]), indexing="ij")
    margins = {}
    for d, g in grids:
        r, c, _ = ortho.image_coordinates_reference(g, dem, 0.0, 400.0, 10.0, rows, cols)
        inside = (r >= -0.5) & (r <= g.lines - 0.5) & (c >= -0.5) & (c <= g.pixels - 0.5)
        margins[d] = np.where(inside, np.minimum(c + 0.5, g.pixels - 0.5 - c), -1.0)
    both = (margins[1] > 0) & (margins[2] > 0)
    assert both.sum() > 100
    expected = np.where(margins[2] > margins[1], 2, 1)
    assert np.array_equal(det[both], expected[both])
    assert (det[(margins[1] < 0) & (margins[2] < 0)] == ortho.NO_DETECTOR).all()


@pytest.mark.parametrize("method", ortho.METHODS)
def test_constant_image_is_reproduced(method):
    shape, grids, dem, src, mask = _synthetic()
    src = {d: np.full_like(s, 7.5) for d, s in src.items()}
    if method == "cubic_spline":
        src = {d: ortho.spline_coefficients(s) for d, s in src.items()}
    out, _, det, _ = _run(ortho.ortho_strip, shape, grids, dem, src, mask, 0, 120, method)
    np.testing.assert_allclose(out[det > 0], 7.5, atol=1e-5)


def test_spline_coefficients_equal_reference_and_interpolate():
    rng = np.random.default_rng(4)
    for shape in ((1, 7), (2, 2), (9, 5), (33, 40)):
        x = rng.normal(size=shape)
        c = ortho.spline_coefficients(x)
        np.testing.assert_allclose(c, ortho.spline_coefficients_reference(x), rtol=1e-6, atol=1e-6)
    # at the samples (t = 0: weights 1/6, 4/6, 1/6) the spline gives the image back
    cp = np.pad(c.astype(float), 1, mode="reflect")
    w = {-1: 1 / 6, 0: 4 / 6, 1: 1 / 6}
    back = sum(w[a] * w[b] * cp[1 + a:1 + a + 33, 1 + b:1 + b + 40] for a in w for b in w)
    np.testing.assert_allclose(back, x, atol=1e-5)


def test_spline_reproduces_a_cubic_exactly_bicubic_does_not():
    """Cubic B-spline interpolation reproduces polynomials up to degree 3 (away from the
    borders); Keys' convolution only up to degree 2."""
    shape, grids, dem, _, mask = _synthetic()
    line, pix = np.mgrid[0:110, 0:64].astype(np.float64)
    field = ((line - 50) / 8) ** 3 + ((pix - 30) / 6) ** 3
    errors = {}
    for method in ortho.METHODS:
        src = {d: (ortho.spline_coefficients(field) if method == "cubic_spline" else field.astype(np.float32))
               for d, _ in grids}
        none = {d: np.zeros_like(m) for d, m in mask.items()}
        out, _, det, _ = _run(ortho.ortho_strip, shape, grids, dem, src, none, 0, 120, method)
        err = []
        for d, g in grids:
            rows, cols = np.nonzero(det == d)
            r, c, _ = ortho.image_coordinates_reference(g, dem, 0.0, 400.0, 10.0, rows, cols)
            inner = (r > 12) & (r < g.lines - 13) & (c > 12) & (c < g.pixels - 13)
            truth = ((r - 50) / 8) ** 3 + ((c - 30) / 6) ** 3
            err.append(np.abs(out[rows, cols] - truth)[inner])
        errors[method] = np.concatenate(err).max()
    assert errors["cubic_spline"] < 1e-3 and errors["bicubic"] > 10 * errors["cubic_spline"], errors


def test_inverse_grid_matches_exact_inverse_location(small):
    """Interpolating the tile grid (nodes every 640 m, two heights) vs Newton on the exact
    model, at random tile pixels of every band and detector: < 0.01 pixel."""
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.geodesy import geodesy
    from ipf.geometry.grid import build_location_grid, grid_steps
    from ipf.geometry.inverse import inverse_location
    from ipf.geometry.tiles import Tile
    from ipf.geometry.dem import tile_dem

    folder, sim = small
    model, _ = models(folder)
    dem = read_dem(next((folder / "AUX").glob("*_DEM_SRTMFO_*")), next((folder / "AUX").glob("*_DEM_GEOIDF_*.HDR")))
    geo = geodesy(dem.epsg)
    e0, n0, e1, n1 = sim.footprint
    tile = Tile("TEST", dem.epsg, float(np.floor(e0 / 60) * 60 - 600), float(np.ceil(n1 / 60) * 60 + 600))
    tdem = tile_dem(dem, tile)
    h_range = (float(tdem.heights.min()) - 10, float(tdem.heights.max()) + 10)
    rng = np.random.default_rng(5)
    worst = 0.0
    for (band, det) in [(b, d) for b in sim.config.bands for d in sim.config.detectors]:
        res = BY_NAME[band].resolution_m
        lines = sim.config.lines(band)
        pixels = model.n_pixels(band, det)
        loc = build_location_grid(model, geo, band, det, (0.0, lines - 1.0), h_range, resolution_m=res,
                                  exact_range=True)
        size = int(np.ceil((e1 - tile.ulx + 600) / res))
        g = ortho.inverse_grid(loc, tile.ulx, tile.uly, res, (size, size), grid_steps(res), h_range, lines, pixels)
        rows = rng.uniform(0, size - 1, 4000).round()
        cols = rng.uniform(0, size - 1, 4000).round()
        r, c, h = ortho.image_coordinates_reference(g, tdem, tile.ulx, tile.uly, res, rows, cols)
        keep = (r > 2) & (r < lines - 3) & (c > 2) & (c < pixels - 3)
        assert keep.sum() > 50
        e = tile.ulx + (cols[keep] + 0.5) * res
        n = tile.uly - (rows[keep] + 0.5) * res
        rl, rp = inverse_location(model, geo, band, det, e, n, h[keep])
        worst = max(worst, float(np.max(np.hypot(rl - r[keep], rp - c[keep]))))
    print(f"inverse grid interpolation error, max over bands and detectors: {worst:.5f} pixel")
    assert worst < 0.01, worst


def test_toa_counts_kernel_equals_reference():
    rng = np.random.default_rng(2)
    L = rng.uniform(0, 400, (37, 53)).astype(np.float32)
    mask = rng.choice(np.array([0, 0, 0, masks.SATURATED, masks.NO_DATA, masks.DEFECTIVE], np.uint8), L.shape)
    seen = rng.random(L.shape) > 0.1
    nodes = rng.uniform(0.5, 0.8, (5, 6))
    a = reflectance.toa_counts(L, mask, seen, nodes, 16, 10, 7, 0.0021)
    b = reflectance.toa_counts_reference(L, mask, seen, nodes, 16, 10, 7, 0.0021)
    assert np.array_equal(a[1], b[1])
    assert np.abs(a[0].astype(int) - b[0].astype(int)).max() <= 0
    assert (a[0] == 0).any() and (a[0] == 65535).any() and ((a[1] & masks.NO_DATA) > 0).any()
    detectors = np.where(seen, rng.integers(1, 13, L.shape), 0).astype(np.uint8)
    c = reflectance.toa_counts(L, mask, detectors, nodes, 16, 10, 7, 0.0021)
    d = reflectance.toa_counts_reference(L, mask, detectors, nodes, 16, 10, 7, 0.0021)
    assert all(np.array_equal(x, y) for x, y in zip(a + b, c + d))


def test_toa_counts_follow_the_reflectance_formula():
    L = np.full((4, 4), 100.0, np.float32)
    nodes = np.full((2, 2), 0.5)
    dn, q = reflectance.toa_counts(L, np.zeros((4, 4), np.uint8), np.ones((4, 4), bool), nodes, 8, 0, 0,
                                   np.pi * 1.0**2 / 1500.0)
    rho = reflectance.toa_reflectance(L, 1500.0, 0.5, 1.0)
    assert np.array_equal(dn, reflectance.reflectance_to_dn(rho))
    assert (q == 0).all()


def test_tile_heights_equal_reference():
    _, _, dem, _, _ = _synthetic()
    a = ortho.tile_heights(dem, 0.0, 400.0, 10.0, (3, 50), (7, 90))
    b = ortho.tile_heights_reference(dem, 0.0, 400.0, 10.0, (3, 50), (7, 90))
    assert a.dtype == np.float32 and np.array_equal(a, b)
    with pytest.raises(ValueError, match="do not cover"):
        out = np.zeros((10, 100), np.float32)
        ortho.ortho_strip(np.zeros((5, 5), np.float32), np.zeros((5, 5), np.uint8), _synthetic()[1][0][1], a,
                          (3, 7), 0, (7, 90), 1, out, out.astype(np.uint8), out.astype(np.uint8), out)


def test_dilate():
    m = np.zeros((7, 7), bool)
    m[3, 3] = True
    d = ortho.dilate(m, 2)
    assert d.sum() == 25 and d[1:6, 1:6].all()
