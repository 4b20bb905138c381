"""Codestreams assembled from standalone tiles are the bytes OpenJPEG writes for the whole image."""

import numpy as np
import pytest

from ipf.formats import gipp, j2k, jp2


def _params(**kw):
    base = dict(reversible=True, n_resolutions=4, codeblock_size=32, tile_size=256, n_layers=1,
                progression_order="LRCP", bypass=True)
    return gipp.GIP_JP2KPA(**{**base, **kw})


def _both(tmp_path, source, params, rgb=False):
    """(assembled from standalone tiles, OpenJPEG's tile writer) codestream bytes."""
    import glymur

    options = jp2.encoder_options(params, source.shape, rgb)
    tile = options.get("tilesize") or source.shape[:2]
    assert j2k.tiles_are_standalone(source.shape[:2], tile, options["numres"], options["cbsize"][0])
    ours, theirs = tmp_path / "ours.j2k", tmp_path / "theirs.j2k"
    glymur.set_option("lib.num_threads", 1)
    jp2._encode_standalone_tiles(ours, source, options)
    if "tilesize" in options:
        jp2._encode_with_tile_writer(theirs, source, options)
    else:
        glymur.Jp2k(theirs, data=np.ascontiguousarray(source), **options)
    return ours.read_bytes(), theirs.read_bytes()


def _masks(rng, rows, cols, layers):
    a = np.zeros((rows, cols, layers), np.uint8)
    a[rng.random((rows, cols)) < 0.002, 1] = 1
    a[: rows // 3, : cols // 5, layers - 1] = 1
    return a


@pytest.mark.parametrize("order", ["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"])
def test_masks_with_constant_layers_are_the_whole_image_coding(tmp_path, order):
    rng = np.random.default_rng(3)
    a = _masks(rng, 700, 600, 5)
    ours, theirs = _both(tmp_path, a, _params(progression_order=order))
    assert ours == theirs


@pytest.mark.parametrize("bypass,levels", [(True, 4), (False, 4), (True, 6)])
def test_uint16_band_with_no_data_tiles_is_the_whole_image_coding(tmp_path, bypass, levels):
    """6 levels: the second tile starts at 256 / 32 = 8 in the lowest sub-bands, inside a 32-wide
    code-block, as 10 m tiles of 1024 do with 64-wide blocks."""
    rng = np.random.default_rng(4)
    a = (1000 + rng.integers(0, 3000, (600, 560))).astype(np.uint16)
    a[:256, :256] = 0
    a[512:, 300:] = 0
    ours, theirs = _both(tmp_path, a, _params(bypass=bypass, n_resolutions=levels))
    assert ours == theirs


def test_rgb_with_the_colour_transform_is_the_whole_image_coding(tmp_path):
    rng = np.random.default_rng(5)
    a = rng.integers(1, 256, (520, 520, 3)).astype(np.uint8)
    a[256:512, :256] = 0
    a[:256, 256:512] = (10, 20, 30)
    a[256:, 512:, 0] = 7
    ours, theirs = _both(tmp_path, a, _params(), rgb=True)
    assert ours == theirs


def test_one_tile_image_and_irreversible_wavelet(tmp_path):
    rng = np.random.default_rng(6)
    a = rng.integers(0, 4000, (200, 180)).astype(np.uint16)
    ours, theirs = _both(tmp_path, a, _params(tile_size=1024))
    assert ours == theirs
    b = np.dstack([a, np.zeros_like(a)])
    ours, theirs = _both(tmp_path, b, _params(reversible=False))
    assert ours == theirs


def test_constant_tiles_decode_to_their_values(tmp_path):
    a = np.zeros((600, 600, 3), np.uint8)
    a[..., 1] = 1
    a[300:, 300:, 2] = 255
    path = jp2.write_jp2(tmp_path / "m.jp2", a, 32631, 500000.0, 4900000.0, 10.0, _params())
    np.testing.assert_array_equal(jp2.read_jp2(path), a)


@pytest.mark.parametrize("shape,tile,res,cb,ok", [
    ((10980, 10980), (1024, 1024), 6, 64, True),
    ((5490, 5490), (1024, 1024), 6, 64, True),
    ((1830, 1830), (192, 192), 5, 4, True),
    ((1830, 1830), (192, 192), 5, 64, False),   # 192 / 2 = 96: code-blocks cut at 32 in the second tile
    ((1000, 1000), (100, 100), 4, 32, False),   # 100 is not a multiple of 2^3
    ((1030, 1030), (512, 512), 4, 64, False),   # a 6-sample edge tile has no sample at 1/8
    ((300, 300), (300, 300), 3, 64, True),
])
def test_which_tilings_can_be_coded_tile_by_tile(shape, tile, res, cb, ok):
    assert j2k.tiles_are_standalone(shape, tile, res, cb) is ok


def test_tilings_that_cannot_be_assembled_fall_back_to_openjpeg(tmp_path):
    rng = np.random.default_rng(7)
    a = rng.integers(0, 255, (400, 400)).astype(np.uint8)
    params = _params(tile_size=192, n_resolutions=5, codeblock_size=64)
    assert not j2k.tiles_are_standalone(a.shape, (192, 192), 5, 64)
    path = jp2.write_jp2(tmp_path / "f.jp2", a, 32631, 500000.0, 4900000.0, 10.0, params)
    np.testing.assert_array_equal(jp2.read_jp2(path), a)


def test_plt_lengths_round_trip_over_several_segments():
    lengths = [0, 1, 127, 128, 16383, 16384, 2**21, 2**28 + 5] * 4000
    data = j2k.plt_segments(lengths)
    got, pos, z = [], 0, 0
    while pos < len(data):
        marker, size, zplt = data[pos] << 8 | data[pos + 1], data[pos + 2] << 8 | data[pos + 3], data[pos + 4]
        assert marker == j2k.PLT and size <= 65535 and zplt == z
        got += j2k.plt_lengths(data[pos + 5:pos + 2 + size])
        pos, z = pos + 2 + size, z + 1
    assert z > 1 and got == lengths


def test_packet_orders():
    assert j2k.packet_order("LRCP", 2, 2) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert j2k.packet_order("CPRL", 2, 2) == [(0, 0), (1, 0), (0, 1), (1, 1)]
    with pytest.raises(j2k.CodestreamError):
        j2k.packet_order("XYZW", 2, 2)


def test_read_tile_refuses_what_it_cannot_cut():
    with pytest.raises(j2k.CodestreamError, match="SOC"):
        j2k.read_tile(b"not a codestream")
    with pytest.raises(j2k.CodestreamError, match="inside a header"):
        j2k.read_tile(b"\xff\x4f\xff\x51\x00")
