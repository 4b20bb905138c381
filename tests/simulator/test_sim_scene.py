import numpy as np
import pytest

from ipf.simulator import scene as sc

BOUNDS = (500000.0, 4820000.0, 512000.0, 4832000.0)


@pytest.fixture(scope="module")
def scene():
    return sc.make_scene(np.random.default_rng(7), BOUNDS, 48.0, 150.0)


def test_same_seed_same_scene_and_windows_agree(scene):
    other = sc.make_scene(np.random.default_rng(7), BOUNDS, 48.0, 150.0)
    rng = np.random.default_rng(0)
    e, n = rng.uniform(BOUNDS[0], BOUNDS[2], 5000), rng.uniform(BOUNDS[1], BOUNDS[3], 5000)
    a = scene.fields(e, n)
    b = other.fields(e[::-1], n[::-1])
    for k in a:
        assert np.array_equal(a[k], b[k][::-1]), k
    c = scene.fields(e[:100], n[:100])
    assert np.array_equal(c["cls"], a["cls"][:100])
    different = sc.make_scene(np.random.default_rng(8), BOUNDS, 48.0, 150.0)
    assert not np.array_equal(different.fields(e, n)["cls"], a["cls"])


def test_bilinear_stack_numba_equals_reference(scene):
    rng = np.random.default_rng(1)
    e = rng.uniform(BOUNDS[0] - 100, BOUNDS[2] + 100, (50, 40))
    n = rng.uniform(BOUNDS[1] - 100, BOUNDS[3] + 100, (50, 40))
    a = sc.bilinear_stack(scene._field_stack, scene.field_grid, e, n)
    b = sc.bilinear_stack_ref(scene._field_stack, scene.field_grid, e, n)
    assert a.shape == (50, 40, len(sc.FIELD_LAYERS)) and np.array_equal(a, b)


def test_dem_relief_sea_and_slopes(scene):
    dem = scene.dem
    assert dem.min() == 0.0
    assert 1500 < dem.max() < 4000
    sea = scene.coast < 0
    assert 0.05 < sea.mean() < 0.6
    gy, gx = np.gradient(dem.astype(np.float64), scene.dem_grid.step)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    assert 35 < slope.max() < 79  # steep, yet a ray at 10.3 deg off nadir meets the surface once


def test_land_cover_classes_and_spectra(scene):
    y = np.arange(BOUNDS[3], BOUNDS[1], -5.0)
    x = np.arange(BOUNDS[0], BOUNDS[2], 5.0)
    E, N = np.meshgrid(x, y)
    f = scene.fields(E, N)
    counts = np.bincount(f["cls"].ravel(), minlength=len(sc.CLASS_NAMES))
    for c in (sc.WATER, sc.FOREST, sc.CROP_GREEN, sc.BARE_SOIL, sc.URBAN, sc.ROAD, sc.SNOW):
        assert counts[c] > 0, sc.CLASS_NAMES[c]
    assert 0.02 < (f["cloud"] > 0.5).mean() < 0.4
    red, nir = sc.SPECTRA[:, 3], sc.SPECTRA[:, 7]
    ndvi = (nir - red) / (nir + red)
    assert ndvi[sc.FOREST] > 0.7 and ndvi[sc.CROP_GREEN] > 0.7 and ndvi[sc.WATER] < 0
    assert sc.SPECTRA[sc.SNOW, 1] > 0.9 > sc.SPECTRA[sc.SNOW, 11] * 5
    rho = scene.reflectance(1, **f)
    assert rho[f["cloud"] > 0.99].min() > 0.8
    assert np.isclose(rho[f["cls"] == sc.WATER].mean(), sc.SPECTRA[sc.WATER, 1], rtol=0.2)
