"""FORMAT_IMG_L1C and FORMAT_IMG_PVI_TCI: the L1C tile as georeferenced JPEG 2000 files, through
``ipf JobOrder.xml`` on the small simulated scene, and the pixel conventions they apply."""

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import jp2
from ipf.products.store import ImageStore
from ipf.products.tile import read_l1c_tile
from ipf.radiometry import clouds, masks, truecolour


@pytest.fixture(scope="module")
def chain(l1c_scene):
    sim, job, run = l1c_scene.sim, l1c_scene.job, l1c_scene.run
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    tile = ImageStore(next((sim / "products").glob("*_MSI_L1C_TL_*")))
    img = next((sim / "products").glob("*_MSI_L1CIM_*"))
    tci = next((sim / "products").glob("*_MSI_L1CTC_*"))
    return sim, job, tile, img, tci


def _full(tile: ImageStore, name: str, fill: int = 0) -> np.ndarray:
    """The store image ``name`` placed in its full tile."""
    a = tile.attrs(name)
    out = np.full(a["tile_shape"], fill, np.dtype(a["dtype"]))
    (r, c), (h, w) = a["window"], a["shape"]
    out[r:r + h, c:c + w] = tile.read(name)
    return out


def _check_grid(path: Path, meta: dict, resolution: int, shape: tuple) -> None:
    for source in (None, "GMLJP2", "GEOJP2"):
        info = jp2.jp2_info(path, source)
        assert info.shape == shape, (path.name, source)
        assert info.epsg == meta["epsg"], (path.name, source)
        assert info.transform == (resolution, 0.0, meta["ulx"], 0.0, -resolution, meta["uly"]), (path.name, source)


def test_band_files_are_georeferenced_and_lossless(chain):
    _, _, tile, img, _ = chain
    meta = read_l1c_tile(tile).entry()
    stamp = datetime.fromisoformat(meta["sensing_start"]).strftime("%Y%m%dT%H%M%S")
    bands = sorted(tile.attrs(n)["band"] for n in tile.names(kind="toa"))
    names = sorted(p.name for p in (img / "IMG_DATA").iterdir())
    assert names == [f"T{meta['name']}_{stamp}_{b}.jp2" for b in bands]
    for band in bands:
        a = tile.attrs(f"toa_{band}")
        res, n = a["resolution"], a["tile_shape"][0]
        path = img / "IMG_DATA" / f"T{meta['name']}_{stamp}_{band}.jp2"
        _check_grid(path, meta, res, (n, n))
        dn = jp2.read_jp2(path)
        assert dn.dtype == np.uint16
        assert np.array_equal(dn, _full(tile, f"toa_{band}"))
        assert 0 < (dn > 0).mean() < 1


def test_quality_masks(chain):
    _, _, tile, img, _ = chain
    meta = read_l1c_tile(tile).entry()
    qi = img / "QI_DATA"
    bands = sorted(tile.attrs(n)["band"] for n in tile.names(kind="toa"))
    assert sorted(p.name for p in qi.iterdir()) == sorted(
        [f"MSK_DETFOO_{b}.jp2" for b in bands] + [f"MSK_QUALIT_{b}.jp2" for b in bands] + ["MSK_CLASSI_B00.jp2"])
    for band in bands:
        res, n = tile.attrs(f"toa_{band}")["resolution"], tile.attrs(f"toa_{band}")["tile_shape"][0]
        _check_grid(qi / f"MSK_DETFOO_{band}.jp2", meta, res, (n, n))
        det = jp2.read_jp2(qi / f"MSK_DETFOO_{band}.jp2")
        assert np.array_equal(det, _full(tile, f"detfoo_{band}"))
        _check_grid(qi / f"MSK_QUALIT_{band}.jp2", meta, res, (n, n, 8))
        layers = jp2.read_jp2(qi / f"MSK_QUALIT_{band}.jp2")
        q = _full(tile, f"quality_{band}", fill=int(masks.NO_DATA))
        nodata = layers[..., masks.QUALIT_LAYERS.index("QT_NODATA_PIXELS")]
        assert np.array_equal(nodata, (q & masks.NO_DATA) > 0)
        assert np.array_equal(nodata > 0, jp2.read_jp2(next((img / "IMG_DATA").glob(f"*_{band}.jp2"))) == 0)
        assert np.array_equal(layers[..., masks.QUALIT_LAYERS.index("QT_DEFECTIVE_PIXELS")],
                              (q & masks.DEFECTIVE) > 0)
        assert np.array_equal(layers[..., masks.QUALIT_LAYERS.index("SATURATED_PIXELS_L1A")],
                              (q & masks.SATURATED) > 0)
        assert layers.max() == 1 and not layers[..., :4].any() and not layers[..., 6].any()
    _check_grid(qi / "MSK_CLASSI_B00.jp2", meta, 60, (1830, 1830, 3))
    classi = jp2.read_jp2(qi / "MSK_CLASSI_B00.jp2")
    classes = _full(tile, "classi")
    for k, bit in enumerate((clouds.OPAQUE, clouds.CIRRUS, clouds.SNOW)):
        assert np.array_equal(classi[..., k], (classes & bit) > 0)


def test_tci_and_pvi(chain):
    _, _, tile, _, tci_dir = chain
    meta = read_l1c_tile(tile).entry()
    (tci_path,) = tci_dir.glob("*_TCI.jp2")
    (pvi_path,) = (tci_dir / "QI_DATA").glob("*_PVI.jp2")
    assert tci_path.name.replace("_TCI", "_PVI") == pvi_path.name
    _check_grid(tci_path, meta, 10, (10980, 10980, 3))
    _check_grid(pvi_path, meta, 320, (343, 343, 3))
    tci = jp2.read_jp2(tci_path)
    channels = [_full(tile, f"toa_{b}") if f"toa_{b}" in tile.index else np.zeros((10980, 10980), np.uint16)
                for b in truecolour.TCI_BANDS]
    assert np.array_equal(tci, truecolour.tci_counts(*channels))
    assert tci[..., 2].any()  # B02 is in the small scene
    pvi = jp2.read_jp2(pvi_path)
    assert np.array_equal(pvi, truecolour.preview(tci, 32))


def test_rerun_gives_identical_files(chain, img_again):
    """FORMAT_IMG_L1C and FORMAT_IMG_PVI_TCI of the Job Order run again (:mod:`tests.scenes`)."""
    _, _, _, img, tci = chain
    again = img_again.run
    assert again.returncode == 0, again.stdout[-2000:]
    for first in (img, tci):
        files = sorted(f for f in first.rglob("*") if f.is_file())
        assert files
        for f in files:
            assert f.read_bytes() == (img_again.sim / first.name / f.relative_to(first)).read_bytes(), f.name


def test_htj2k_gipp_gives_the_same_pixels(chain, img_htj2k):
    """GIP_JP2KPA with ``htj2k`` (RPCL): FORMAT_IMG_L1C writes HTJ2K files (``jph `` brand) that
    GDAL decodes to the pixels of the classic files (the run and the decoding of both files, in
    the background: :mod:`tests.scenes`)."""
    pytest.importorskip("imagecodecs")
    _, _, _, img, _ = chain
    run = img_htj2k.run
    assert run.returncode == 0, run.stdout[-2000:]
    ht = img_htj2k.sim / img.name
    files = sorted(f.relative_to(img) for f in img.rglob("*.jp2"))
    assert files == sorted(f.relative_to(ht) for f in ht.rglob("*.jp2"))
    for f in files:
        assert (ht / f).read_bytes()[20:24] == b"jph ", f
        assert img_htj2k.same_pixels[f], f
