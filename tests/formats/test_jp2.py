"""JPEG 2000 writer: lossless round trips, georeferencing as GDAL reads it, encoder parameters
in the codestream, determinism and atomic writes."""

import glymur
import numpy as np
import pytest

from ipf.formats import gipp, jp2

EPSG, ULX, ULY = 32631, 499980.0, 4900020.0
PARAMS = gipp.GIP_JP2KPA(reversible=True, n_resolutions=6, codeblock_size=64, tile_size=1024,
                         n_layers=1, progression_order="LRCP")


def _params(**kw) -> gipp.GIP_JP2KPA:
    return PARAMS.model_copy(update=kw)


def _texture(shape, dtype, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    a = rng.integers(0, info.max, shape, dtype=dtype, endpoint=True)
    a.flat[:3] = (0, info.max, 1)
    return a


def _codestream(path):
    cs = glymur.Jp2k(path).get_codestream(header_only=True)
    return {s.marker_id: s for s in cs.segment}


@pytest.mark.parametrize("shape, dtype", [((700, 530), np.uint16), ((300, 410), np.uint8),
                                          ((260, 190, 8), np.uint8), ((130, 90, 3), np.uint16)])
def test_round_trip_is_lossless(tmp_path, shape, dtype):
    a = _texture(shape, dtype)
    params = _params(tile_size=256)
    path = jp2.write_jp2(tmp_path / "a.jp2", a, EPSG, ULX, ULY, 20, params)
    back = jp2.read_jp2(path)
    assert back.dtype == a.dtype and np.array_equal(back, a)
    assert np.array_equal(glymur.Jp2k(path)[:], a)


def test_tiles_of_layer_planar_views_are_written_losslessly(tmp_path):
    planar = np.ascontiguousarray(np.moveaxis(_texture((150, 130, 5), np.uint8), -1, 0))
    view = np.moveaxis(planar, 0, -1)
    assert not view.flags.c_contiguous
    placed = jp2.Placed([view], (20, 10), (200, 170), np.uint8, layers=5, fill=1,
                        convert=lambda v: np.moveaxis(np.ascontiguousarray(np.moveaxis(v, -1, 0)), 0, -1))
    full = np.ones((200, 170, 5), np.uint8)
    full[20:170, 10:140] = view
    for name, image, want in (("view.jp2", view, view), ("placed.jp2", placed, full)):
        path = jp2.write_jp2(tmp_path / name, image, EPSG, ULX, ULY, 20, _params(tile_size=64))
        assert np.array_equal(jp2.read_jp2(path), want), name


def test_rgb_uses_the_colour_transform_and_stays_lossless(tmp_path):
    a = _texture((300, 280, 3), np.uint8)
    path = jp2.write_jp2(tmp_path / "rgb.jp2", a, EPSG, ULX, ULY, 10, _params(tile_size=128), rgb=True)
    assert np.array_equal(jp2.read_jp2(path), a)
    assert _codestream(path)["COD"].mct == 1
    colr = glymur.Jp2k(path).box[2].box[1]
    assert colr.colorspace == glymur.core.SRGB
    with pytest.raises(jp2.Jp2Error, match="3 layers"):
        jp2.write_jp2(tmp_path / "bad.jp2", a[..., :2], EPSG, ULX, ULY, 10, PARAMS, rgb=True)


@pytest.mark.parametrize("boxes, source", [((True, True), None), ((True, True), "GMLJP2"),
                                           ((True, True), "GEOJP2"), ((False, True), None),
                                           ((True, False), None)])
def test_gdal_reads_crs_transform_and_size(tmp_path, boxes, source):
    geojp2, gmljp2 = boxes
    a = _texture((183, 205), np.uint16)
    path = jp2.write_jp2(tmp_path / "g.jp2", a, EPSG, ULX, ULY, 60, PARAMS, geojp2=geojp2, gmljp2=gmljp2)
    info = jp2.jp2_info(path, source)
    assert info.shape == (183, 205) and info.dtype == np.uint16
    assert info.epsg == EPSG
    assert info.transform == (60.0, 0.0, ULX, 0.0, -60.0, ULY)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_only_the_asked_boxes_are_written(tmp_path):
    a = _texture((64, 64), np.uint8)
    ids = {}
    for geojp2, gmljp2 in ((True, False), (False, True), (False, False)):
        p = jp2.write_jp2(tmp_path / f"{geojp2}{gmljp2}.jp2", a, EPSG, ULX, ULY, 10, PARAMS,
                          geojp2=geojp2, gmljp2=gmljp2)
        ids[geojp2, gmljp2] = [b.box_id for b in glymur.Jp2k(p).box]
    assert ids[True, False] == ["jP  ", "ftyp", "jp2h", "uuid", "jp2c"]
    assert ids[False, True] == ["jP  ", "ftyp", "jp2h", "asoc", "jp2c"]
    assert jp2.jp2_info(tmp_path / "FalseFalse.jp2").epsg is None


def test_geojp2_payload_is_a_geotiff_gdal_reads(tmp_path):
    import rasterio

    tif = tmp_path / "g.tif"
    tif.write_bytes(jp2.geotiff_1x1(EPSG, ULX, ULY, 20.0))
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == EPSG and (ds.width, ds.height) == (1, 1)
        assert tuple(ds.transform)[:6] == (20.0, 0.0, ULX, 0.0, -20.0, ULY)
    tif.write_bytes(jp2.geotiff_1x1(4326, 2.5, 45.0, 0.001))
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 4326


def test_same_input_gives_identical_bytes(tmp_path):
    a = _texture((1100, 1300), np.uint16)
    p1 = jp2.write_jp2(tmp_path / "one.jp2", a, EPSG, ULX, ULY, 10, _params(tile_size=512))
    p2 = jp2.write_jp2(tmp_path / "two.jp2", a.copy(), EPSG, ULX, ULY, 10, _params(tile_size=512))
    assert p1.read_bytes() == p2.read_bytes()


@pytest.mark.parametrize("tile, levels, cb, order, layers", [(256, 4, 32, "RPCL", 1), (512, 6, 64, "LRCP", 3),
                                                             (300, 3, 16, "CPRL", 2)])
def test_gipp_parameters_are_in_the_codestream(tmp_path, tile, levels, cb, order, layers):
    a = _texture((900, 700), np.uint16)
    params = _params(tile_size=tile, n_resolutions=levels, codeblock_size=cb, progression_order=order,
                     n_layers=layers)
    path = jp2.write_jp2(tmp_path / "p.jp2", a, EPSG, ULX, ULY, 10, params)
    seg = _codestream(path)
    assert (seg["SIZ"].ytsiz, seg["SIZ"].xtsiz) == (tile, tile)
    assert (seg["SIZ"].ysiz, seg["SIZ"].xsiz) == a.shape
    cod = seg["COD"]
    assert cod.num_res == levels - 1  # decomposition levels
    assert cod.code_block_size == (cb, cb)
    assert cod.prog_order == glymur.core.PROGRESSION_ORDER[order]
    assert cod.layers == layers
    assert cod.xform == glymur.core.WAVELET_XFORM_5X3_REVERSIBLE
    assert np.array_equal(jp2.read_jp2(path), a)  # the last layer is lossless


@pytest.mark.parametrize("bypass", [False, True])
def test_bypass_is_the_code_block_style_and_stays_lossless(tmp_path, bypass):
    a = _texture((600, 500), np.uint16)
    path = jp2.write_jp2(tmp_path / "b.jp2", a, EPSG, ULX, ULY, 10, _params(tile_size=256, bypass=bypass))
    assert _codestream(path)["COD"].cstyle == (1 if bypass else 0)
    assert np.array_equal(jp2.read_jp2(path), a)


def test_irreversible_uses_the_9_7_wavelet(tmp_path):
    a = _texture((200, 200), np.uint16)
    path = jp2.write_jp2(tmp_path / "i.jp2", a, EPSG, ULX, ULY, 10, _params(reversible=False))
    assert _codestream(path)["COD"].xform == glymur.core.WAVELET_XFORM_9X7_IRREVERSIBLE


def test_small_images_get_fewer_resolution_levels(tmp_path):
    a = _texture((20, 50), np.uint8)
    path = jp2.write_jp2(tmp_path / "s.jp2", a, EPSG, ULX, ULY, 10, _params(n_resolutions=6))
    seg = _codestream(path)
    assert seg["COD"].num_res == 4  # 2^4 <= 20 < 2^5
    assert (seg["SIZ"].ytsiz, seg["SIZ"].xtsiz) == (20, 50)
    assert np.array_equal(jp2.read_jp2(path), a)
    assert jp2.n_resolutions(6, (1024, 1024)) == 6 and jp2.n_resolutions(6, (1, 7)) == 1


class _Failing:
    """A tile source that fails on its third tile."""

    def __init__(self, a):
        self.a, self.shape, self.dtype, self.calls = a, a.shape, a.dtype, 0

    def __getitem__(self, key):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("disk gone")
        return self.a[key]


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    a = _texture((600, 600), np.uint16)
    with pytest.raises(RuntimeError, match="disk gone"):
        jp2.write_jp2(tmp_path / "f.jp2", _Failing(a), EPSG, ULX, ULY, 10, _params(tile_size=256))
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "f.jp2"
    old.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        jp2.write_jp2(old, _Failing(a), EPSG, ULX, ULY, 10, _params(tile_size=256))
    assert list(tmp_path.iterdir()) == [old] and old.read_bytes() == b"old"


def test_refused_inputs(tmp_path):
    with pytest.raises(jp2.Jp2Error, match="HTJ2K is written with 64 x 64 code-blocks and RPCL"):
        jp2.write_jp2(tmp_path / "h.jp2", np.zeros((8, 8), np.uint16), EPSG, ULX, ULY, 10, PARAMS, htj2k=True)
    with pytest.raises(jp2.Jp2Error, match="one quality layer"):
        jp2.write_jp2(tmp_path / "h.jp2", np.zeros((8, 8), np.uint16), EPSG, ULX, ULY, 10,
                      _params(progression_order="RPCL", n_layers=3), htj2k=True)
    with pytest.raises(jp2.Jp2Error, match="float32"):
        jp2.write_jp2(tmp_path / "f.jp2", np.zeros((8, 8), np.float32), EPSG, ULX, ULY, 10, PARAMS)
    with pytest.raises(jp2.Jp2Error, match="code-block"):
        jp2.write_jp2(tmp_path / "c.jp2", np.zeros((8, 8), np.uint8), EPSG, ULX, ULY, 10,
                      _params(codeblock_size=128))
    assert list(tmp_path.iterdir()) == []


def test_placed_window_reads_by_slices():
    w = np.arange(12, dtype=np.uint8).reshape(3, 4) + 10
    p = jp2.Placed([w], (2, 5), (8, 11), np.uint8, fill=9)
    full = np.full((8, 11), 9, np.uint8)
    full[2:5, 5:9] = w
    for rows, cols in ((slice(0, 8), slice(0, 11)), (slice(3, 7), slice(6, 11)), (slice(0, 2), slice(0, 3))):
        assert np.array_equal(p[rows, cols], full[rows, cols])
    layers = jp2.Placed([w, w], (2, 5), (8, 11), np.uint16, layers=2, convert=lambda x, y: np.stack([x, 2 * y], -1))
    got = layers[0:8, 0:11]
    assert got.shape == layers.shape == (8, 11, 2) and got.dtype == np.uint16
    assert np.array_equal(got[..., 1], 2 * np.where(full == 9, 0, full))
    blank = p[0:2, 0:3]
    assert not blank.flags.writeable and p[0:2, 0:3] is blank


HT = _params(progression_order="RPCL", tile_size=256, n_resolutions=5, htj2k=True)


@pytest.mark.parametrize("shape, dtype, rgb", [((700, 530), np.uint16, False), ((300, 410, 3), np.uint8, True),
                                               ((260, 300, 8), np.uint8, False), ((200, 600), np.uint16, False),
                                               ((3, 40, 8), np.uint8, False)])
def test_htj2k_is_lossless_georeferenced_and_tiled_as_asked(tmp_path, shape, dtype, rgb):
    pytest.importorskip("imagecodecs")
    a = _texture(shape, dtype, seed=3)
    path = jp2.write_jp2(tmp_path / "h.jp2", a, EPSG, ULX, ULY, 10, HT, htj2k=True, rgb=rgb)
    assert path.read_bytes()[20:24] == b"jph "  # ftyp brand (ISO/IEC 15444-15 annex D)
    np.testing.assert_array_equal(jp2.read_jp2(path), a)
    np.testing.assert_array_equal(glymur.Jp2k(path)[:], a)
    info = jp2.jp2_info(path)
    assert info.epsg == EPSG and info.transform == (10.0, 0.0, ULX, 0.0, -10.0, ULY) and info.shape == shape
    cs = _codestream(path)
    assert "CAP" in cs  # Part 15 capabilities
    siz, cod = cs["SIZ"], cs["COD"]
    assert (siz.ysiz, siz.xsiz) == shape[:2]
    assert (siz.ytsiz, siz.xtsiz) == (min(256, shape[0]), min(256, shape[1]))
    assert cod.layers == 1 and cod.prog_order == glymur.core.RPCL
    assert cod.num_res == jp2.n_resolutions(5, (min(256, shape[0]), min(256, shape[1]))) - 1
    assert cod.code_block_size == (64, 64) and cod.cstyle == 0x40  # HT block coder
    assert cod.xform == glymur.core.WAVELET_XFORM_5X3_REVERSIBLE


def test_htj2k_refuses_a_single_resolution_level(tmp_path):
    pytest.importorskip("imagecodecs")
    with pytest.raises(jp2.Jp2Error, match="2 resolution levels"):
        jp2.write_jp2(tmp_path / "h.jp2", np.zeros((1, 64), np.uint16), EPSG, ULX, ULY, 10, HT, htj2k=True)


def test_htj2k_without_its_encoder_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    with pytest.raises(jp2.Jp2Error, match=r"s2ipf\[htj2k\]"):
        jp2.write_jp2(tmp_path / "h.jp2", np.zeros((64, 64), np.uint16), EPSG, ULX, ULY, 10, HT, htj2k=True)
    assert list(tmp_path.iterdir()) == []
