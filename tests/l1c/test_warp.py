"""Grid-driven resampling kernel: equal to its NumPy reference, exact where it must be."""

import numpy as np
import pytest

from ipf.geometry import warp

RNG = np.random.default_rng(11)


def affine_grid(out_shape, step, r0, c0, drdi, dcdj, drdj=0.0, dcdi=0.0):
    gh, gw = warp.grid_shape(out_shape, step)
    i = np.arange(gh)[:, None] * step
    j = np.arange(gw)[None, :] * step
    return r0 + drdi * i + drdj * j + 0 * i, c0 + dcdj * j + dcdi * i + 0 * j


@pytest.mark.parametrize("method", ["cubic", "nearest"])
def test_kernel_equals_reference(method):
    src = RNG.normal(100, 20, (70, 90)).astype(np.float32)
    out_shape, step = (61, 83), 8
    gr, gc = affine_grid(out_shape, step, -3.2, 5.1, 1.13, 0.97, 0.05, -0.08)
    a = warp.warp(src, gr, gc, out_shape, step, method, nodata=-1)
    b = warp.warp_reference(src, gr, gc, out_shape, step, method, nodata=-1)
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-4)
    assert (a == -1).any() and (a != -1).any()


def test_identity_is_exact():
    src = RNG.normal(100, 20, (40, 50)).astype(np.float32)
    gr, gc = affine_grid(src.shape, 4, 0.0, 0.0, 1.0, 1.0)
    np.testing.assert_allclose(warp.warp(src, gr, gc, src.shape, 4), src, atol=1e-4)
    assert np.array_equal(warp.warp(src, gr, gc, src.shape, 4, "nearest"), src)


def test_cubic_accuracy_on_a_smooth_field():
    y, x = np.mgrid[0:200, 0:200]
    f = lambda r, c: np.sin(r / 9.0) * np.cos(c / 13.0) * 100  # noqa: E731
    src = f(y, x).astype(np.float32)
    out_shape, step = (150, 150), 16
    gr, gc = affine_grid(out_shape, step, 20.3, 10.7, 1.1, 0.9, 0.02, 0.03)
    out = warp.warp(src, gr, gc, out_shape, step)
    i, j = np.mgrid[0:150, 0:150]
    truth = f(20.3 + 1.1 * i + 0.02 * j, 10.7 + 0.9 * j + 0.03 * i)
    assert np.abs(out - truth)[2:-2, 2:-2].max() < 0.05  # of a ±100 signal


def test_grid_shape_is_checked():
    src = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="does not cover"):
        warp.warp(src, np.zeros((2, 2)), np.zeros((2, 2)), (20, 20), 4)
