"""The true colour of L1C counts (TCI lookup, numba kernel against its NumPy reference, block
means, preview) and the 0/1 layers of the L1C raster masks."""

import numpy as np
import pytest

from ipf.formats import jp2
from ipf.radiometry import clouds, masks, truecolour


def test_tci_counts_scale_and_special_values():
    dn = np.array([[0, 65535, 1000, 1001, 4558, 9000, 2800]], np.uint16)
    out = truecolour.tci_counts(dn, dn, np.zeros_like(dn))
    assert out.shape == (1, 7, 3) and out.dtype == np.uint8
    assert out[0, :, 0].tolist() == [0, 255, 1, 1, 255, 255, 129]
    assert not out[..., 2].any()


def test_quality_and_cloud_layers():
    q = np.array([[0, masks.NO_DATA, masks.SATURATED | masks.DEFECTIVE]], np.uint8)
    layers = masks.quality_layers(q)
    L = masks.QUALIT_LAYERS
    assert layers[0, 1, L.index("QT_NODATA_PIXELS")] == 1 and layers[0, 1].sum() == 1
    assert layers[0, 2, L.index("SATURATED_PIXELS_L1A")] == layers[0, 2, L.index("QT_DEFECTIVE_PIXELS")] == 1
    assert layers[0, 2].sum() == 2 and not layers[0, 0].any()
    c = np.array([[clouds.OPAQUE | clouds.SNOW, clouds.CIRRUS]], np.uint8)
    bits = {"OPAQUE": clouds.OPAQUE, "CIRRUS": clouds.CIRRUS, "SNOW": clouds.SNOW}
    assert masks.classi_layers(c, bits).tolist() == [[[1, 0, 1], [0, 1, 0]]]


def test_preview_means_valid_pixels_per_block():
    tci = np.zeros((70, 70, 3), np.uint8)
    tci[:4, :4] = 10
    tci[0, 0] = 13  # block (0, 0): 15 pixels of 10 and one of 13, the rest no data
    tci[40:60, 4:36] = 200
    pvi = truecolour.preview(tci, 4)
    assert pvi.shape == (17, 17, 3)
    assert pvi[0, 0].tolist() == [10, 10, 10]  # round(163 / 16)
    assert (pvi[10:15, 1:9] == 200).all() and pvi.sum() == 10 * 3 + 200 * 3 * 40
    assert np.array_equal(truecolour.preview(tci, 4, region=(40, 4, 60, 36)),
                          np.where(np.arange(17)[:, None, None] >= 10, pvi, 0))


def test_block_means_of_the_slices_read_is_the_preview():
    rng = np.random.default_rng(5)
    tci = rng.integers(0, 256, (70, 75, 3), dtype=np.uint8)
    tci[rng.random((70, 75)) < 0.4] = 0
    tci[:20] = 0
    blocks = truecolour.BlockMeans(tci, 4)
    for r in range(0, 70, 24):  # slices not aligned on blocks; each read twice
        for c in range(0, 75, 24):
            assert np.array_equal(blocks[r:r + 24, c:c + 24], tci[r:r + 24, c:c + 24])
            blocks[r:r + 24, c:c + 24]
    assert blocks.shape == tci.shape and blocks.pixels_read == 70 * 75
    means = blocks.means()
    assert means.shape == (17, 18, 3) and means.dtype == np.uint8
    assert np.array_equal(means, truecolour.preview(tci, 4))
    block = tci[8:12, 12:16, 1]
    assert means[2, 3, 1] == (np.floor(block.sum() / np.count_nonzero(block) + 0.5) if block.any() else 0)


@pytest.mark.parametrize("missing", [None, 1])
def test_true_colour_kernel_equals_placed_counts_and_block_means(missing):
    rng = np.random.default_rng(8)
    windows = [rng.integers(0, 12000, (50, 61)).astype(np.uint16) for _ in range(3)]
    windows[0][rng.random((50, 61)) < 0.1] = 0
    windows[2][:5] = 65535
    channels = [None if k == missing else w for k, w in enumerate(windows)]
    fast = truecolour.TrueColour(channels, (7, 12), (70, 80), 4)
    nodata = np.zeros((50, 61), np.uint16)
    ref = truecolour.BlockMeans(jp2.Placed([w if w is not None else nodata for w in channels], (7, 12), (70, 80),
                                        np.uint8, layers=3, convert=truecolour.tci_counts), 4)
    assert fast.shape == ref.shape == (70, 80, 3)
    for r in range(0, 70, 24):
        for c in range(0, 80, 24):
            a, b = fast[r:r + 24, c:c + 24], ref[r:r + 24, c:c + 24]
            assert a.dtype == np.uint8 and np.array_equal(a, b)
            fast[r:r + 24, c:c + 24]  # read again: not counted twice
    assert fast.pixels_read == 70 * 80
    assert np.array_equal(fast.sums, ref.sums) and np.array_equal(fast.counts, ref.counts)
    assert np.array_equal(fast.means(), ref.means())
    if missing is not None:
        assert not fast[0:70, 0:80][..., missing].any()


@pytest.mark.parametrize("missing", [None, 0, 2])
def test_true_colour_kernel_equals_its_numpy_reference(missing):
    """:class:`TrueColour` (numba) against :func:`true_colour_reference` through
    :class:`BlockMeans` (NumPy), by slices that cross the window and the block edges."""
    rng = np.random.default_rng(11)
    windows = [rng.integers(0, 20000, (33, 47)).astype(np.uint16) for _ in range(3)]
    windows[1][rng.random((33, 47)) < 0.2] = 0
    windows[0][3:6] = 65535
    channels = [None if k == missing else w for k, w in enumerate(windows)]
    fast = truecolour.TrueColour(channels, (5, 9), (50, 64), 8)
    ref = truecolour.BlockMeans(truecolour.true_colour_reference(channels, (5, 9), (50, 64)), 8)
    for r in range(0, 50, 13):
        for c in range(0, 64, 17):
            assert np.array_equal(fast[r:r + 13, c:c + 17], ref[r:r + 13, c:c + 17])
    assert np.array_equal(fast.sums, ref.sums) and np.array_equal(fast.counts, ref.counts)
    assert np.array_equal(fast.means(), ref.means())
    full = truecolour.true_colour_reference(channels, (5, 9), (50, 64))
    assert not full[:5].any() and not full[:, :9].any() and not full[38:].any()
