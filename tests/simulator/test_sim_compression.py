import numpy as np
import pytest

from ipf.formats import msi_compression as mc


@pytest.mark.parametrize("shape", [(16, 37), (5, 8), (1, 7), (2, 2), (17, 33), (16, 96)])
@pytest.mark.parametrize("levels", [1, 3])
def test_dwt53_numba_equals_reference_and_inverts(shape, levels):
    x = np.random.default_rng(0).integers(0, 4096, shape)
    ref = mc.dwt53_forward_ref(x, levels)
    assert np.array_equal(mc.dwt53_forward_nb(x, levels), ref)
    assert np.array_equal(mc.dwt53_inverse_nb(ref, levels), x)
    assert np.array_equal(mc.dwt53_inverse_ref(ref, levels), x)


def test_dwt53_compacts_energy_of_smooth_image():
    y, x = np.mgrid[0:16, 0:64]
    img = (1000 + 10 * x + 5 * y).astype(np.int64)
    c = mc.dwt53_forward_ref(img, 2)
    detail = c[mc.detail_mask(c.shape, 2)]
    assert np.mean(detail == 0) > 0.9  # only the symmetric-extension borders of a ramp are non-zero


def test_rice_numba_equals_reference():
    rng = np.random.default_rng(1)
    u = mc.zigzag(rng.integers(-300, 300, 1000))
    u[100:200] = 0
    u[5] = 10**6
    enc = mc.rice_encode_ref(u)
    assert mc.rice_encode_nb(u) == enc
    assert np.array_equal(mc.rice_decode_ref(enc, u.size), u)
    dec, complete = mc.rice_decode_nb(enc, u.size)
    assert complete and np.array_equal(dec, u)


def test_zigzag_round_trip():
    v = np.arange(-1000, 1000)
    assert np.array_equal(mc.unzigzag(mc.zigzag(v)), v)
    assert mc.zigzag(v).min() == 0


def _scene_like(shape, seed=2):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    img = 800 + 600 * np.sin(x / 23.0) * np.cos(y / 7.0) + 300 * (x > shape[1] // 2) + rng.normal(0, 6, shape)
    return np.clip(img, 0, 4095).astype(np.uint16)


@pytest.mark.parametrize("shape", [(16, 2592), (16, 432), (13, 101), (3, 3)])
def test_lossless_round_trip_is_bit_exact(shape):
    img = _scene_like(shape)
    stream = mc.encode(img, levels=3, qstep=1)
    out, status = mc.decode(stream)
    assert status == "ok"
    assert out.dtype == np.uint16 and np.array_equal(out, img)
    if img.size > 10000:
        assert len(stream) < img.size * 1.5 / 1.6


@pytest.mark.parametrize("qstep", [2, 4, 8])
def test_quantised_error_within_documented_bound(qstep):
    img = _scene_like((16, 1296), seed=qstep)
    out, status = mc.decode(mc.encode(img, 3, qstep))
    err = np.abs(out.astype(int) - img.astype(int)).max()
    assert status == "ok"
    assert 0 < err <= mc.quantisation_error_bound(img.shape, 3, qstep)
    assert len(mc.encode(img, 3, qstep)) < len(mc.encode(img, 3, 1))


def test_decode_reports_corruption_without_raising():
    stream = mc.encode(_scene_like((16, 200)), 3, 1)
    assert mc.decode(stream[:10]) == (None, "bad-header")
    assert mc.decode(b"XXXX" + stream[4:])[1] == "bad-header"
    assert mc.decode(stream[: len(stream) // 2])[1] == "truncated"
    forged = mc.HEADER.pack(mc.MAGIC, mc.VERSION, 65535, 65535, 3, 12, 1, 8) + bytes(8)
    assert mc.decode(forged) == (None, "truncated")
    garbage = mc.HEADER.pack(mc.MAGIC, mc.VERSION, 16, 64, 3, 12, 1, 400) + np.random.default_rng(0).bytes(400)
    out, status = mc.decode(garbage)
    assert status in ("ok", "truncated") and (out is None or out.max() <= 4095)
