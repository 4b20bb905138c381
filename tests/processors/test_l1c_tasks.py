"""The L1C tasks (TILE_INIT, GEN_ORTHO_TOA, MASK_S2, TILE_FINALIZE, FORMAT_IMG_L1C,
FORMAT_IMG_PVI_TCI, FORMAT_METADATA_TILE_L1C) and OLQC_TILE_L1C called in process on a mini L1B
product (the full-tile benchmark's synthetic L1B at the simulator's ``small`` size: 2 detectors ×
B02, B05, B01 over tile 31TEJ), the tile entries and :func:`ipf.geometry.tiles.choose_tile`."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ipf.geometry.tiles import choose_tile
from ipf.interface.errors import FormatError, InputError, TaskError
from ipf.products import tile as tp
from ipf.products.store import ImageStore
from tests.processors.proc_fixtures import task_context

ROOT = Path(__file__).resolve().parents[2]
TILE_ENTRY = ROOT / "tests" / "data" / "products" / "tile_entry.json"
"""TILE_FINALIZE's entry of the demo tile as written before the typed models."""


# ------------------------------------------------------------------------------- choose_tile
def _box(lon0, lat0, dlon=0.05, dlat=0.05):
    return [lon0, lon0 + dlon, lon0 + dlon, lon0], [lat0, lat0, lat0 + dlat, lat0 + dlat]


def test_choose_tile_auto_named_and_refused():
    lon, lat = _box(3.5, 43.7)
    assert choose_tile(lon, lat).name == "31TEJ"
    assert choose_tile(lon, lat, "t31tej").name == "31TEJ"
    assert choose_tile(lon, lat, " AUTO ").name == "31TEJ"
    with pytest.raises(InputError, match="TILE_ID 32TQM: the datastrip footprint does not reach"):
        choose_tile(lon, lat, "32TQM")


def test_choose_tile_takes_the_tile_holding_most_of_the_footprint():
    # 31TEJ spans E 499980..609780: a box across its east edge, mostly west of it, then mostly east
    import pyproj

    to_ll = pyproj.Transformer.from_crs(32631, 4326, always_xy=True)
    for (e0, e1), want in (((590_000, 612_000), "31TEJ"), ((607_000, 640_000), "31TFJ")):
        lon, lat = to_ll.transform([e0, e1, e1, e0], [4_850_000, 4_850_000, 4_860_000, 4_860_000])
        assert choose_tile(lon, lat).name == want


# ------------------------------------------------------------------------------- entries
def test_image_names():
    assert tp.image_name(tp.TOA, "B02") == "toa_B02"
    assert tp.image_name(tp.INVERSE_LINE, "B8A", 6) == "line_B8A_D06"
    assert tp.image_name(tp.COS_SUN_ZENITH, resolution=20) == "cos_sza_R20"
    assert tp.image_name(tp.SUN_ZENITH) == "sun_zenith"


def test_l1c_tile_entry_dumps_the_json_it_was_read_from():
    entry = json.loads(TILE_ENTRY.read_text())["__tile__"]
    tile = tp.L1CTile.model_validate(entry)
    assert json.dumps(tile.entry(), sort_keys=True) == json.dumps(entry, sort_keys=True)
    grid = tp.TileGrid.model_validate(entry)
    assert "bands" not in grid.entry() and list(grid.entry()["window_m"]) == entry["window_m"]
    assert isinstance(tile.entry()["h_range"][0], float) and tile.window(60)[0] == entry["window_m"][1] // 60


def test_missing_or_wrong_entry_names_the_store(tmp_path):
    store = ImageStore(tmp_path / "empty")
    with pytest.raises(InputError, match="empty/index.json: __tile__"):
        tp.read_tile(store)
    store.index["__tile__"] = {"kind": "tile", "name": "31TEJ"}
    with pytest.raises(FormatError, match="not a tile store made by TILE_INIT"):
        tp.read_tile(store)
    with pytest.raises(InputError, match="no image 'toa_B02'"):
        tp.read_image(store, tp.TOA, "B02")


# ------------------------------------------------------------------------------- the tasks
@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The inputs of the L1C chain on a mini L1B product."""
    from bench import l1c_tile as bench

    tmp = tmp_path_factory.mktemp("l1c")
    cfg, inst, ds = bench._geometry(tmp, size="small")
    dem = bench._dem(tmp / "AUX")
    bench._l1b(tmp / "L1B", cfg, inst, ds)
    gipps = {t: sorted((tmp / "GIPP").glob(f"*_{t}_*.xml"))
             for t in ("GIP_VIEDIR", "GIP_SPAMOD", "GIP_JP2KPA", "GIP_OLQCPA")}
    return SimpleNamespace(tmp=tmp, ds=ds, dem=dem, l1b=tmp / "L1B", gipps=gipps,
                           name=bench._product_name(ds))


def _run(task, name, inputs, outputs, params=None, **job):
    ctx = task_context(name, inputs, outputs, params)
    ctx.job.__dict__.update(job)
    ctx.table = SimpleNamespace(processor_name="S2IPF_L1C", version="01.00")
    task(ctx)
    return ctx


@pytest.fixture(scope="module")
def chain(mini):
    """TILE_INIT, GEN_ORTHO_TOA, MASK_S2, TILE_FINALIZE run one after the other."""
    from ipf.processors.l1c import tasks

    t = mini.tmp
    aux = {"AUX_UT1UTC": sorted((t / "AUX").glob("*_AUX_UT1UTC_*.HDR"))}
    ctx = {}
    ctx["init"] = _run(tasks.tile_init, "TILE_INIT",
                       {"PDI_DS": mini.l1b, "DEM_SRTM": mini.dem[0], "DEM_GEOID": mini.dem[1], **aux,
                        "GIP_VIEDIR": mini.gipps["GIP_VIEDIR"],
                        "GIP_SPAMOD": mini.gipps["GIP_SPAMOD"]}, {"TILE_GRID": t / "TILE_GRID"},
                       {"TILE_ID": "T31TEJ"})
    ctx["ortho"] = _run(tasks.gen_ortho_toa, "GEN_ORTHO_TOA", {"PDI_DS": mini.l1b, "TILE_GRID": t / "TILE_GRID"},
                        {"PDI_TILE_TOA": t / "PDI_TILE_TOA"})
    ctx["mask"] = _run(tasks.mask_s2, "MASK_S2", {"PDI_TILE_TOA": t / "PDI_TILE_TOA"}, {"MSK_CLOUDS": t / "MSK_CLOUDS"})
    ctx["final"] = _run(tasks.tile_finalize, "TILE_FINALIZE",
                        {"PDI_TILE_TOA": t / "PDI_TILE_TOA", "TILE_GRID": t / "TILE_GRID",
                         "MSK_CLOUDS": t / "MSK_CLOUDS"},
                        {"PDI_TILE": t / "PDI_TILE", "REPORT": t / "report.json"})
    return ctx


def test_tile_init_writes_the_grid_entry_and_images(mini, chain):
    store = ImageStore(mini.tmp / "TILE_GRID")
    grid = tp.read_tile(store)
    assert (grid.name, grid.epsg, grid.ulx, grid.uly) == ("31TEJ", 32631, 499980.0, 4900020.0)
    assert grid.refined is False and grid.datastrip == mini.ds.datastrip_id
    x0, y0, x1, y1 = grid.window_m
    assert 0 <= x0 < x1 <= tp.TILE_SIZE_M and 0 <= y0 < y1 <= tp.TILE_SIZE_M
    assert all(v % 60 == 0 for v in grid.window_m) and x1 - x0 < 20_000  # two small detectors
    assert grid.h_range[0] < grid.h_range[1] and len(grid.footprint_lonlat) == 8
    assert grid.sensing_start <= grid.sensing_mid <= grid.sensing_stop
    for band in ("B01", "B02", "B05"):
        for det in (6, 7):
            assert tp.has_image(store, tp.INVERSE_LINE, band, det) and tp.has_image(store, tp.INVERSE_PIXEL, band, det)
    for res in (10, 20, 60):
        cos = np.asarray(tp.read_image(store, tp.COS_SUN_ZENITH, resolution=res))
        assert 0.3 < cos.min() <= cos.max() < 1.0
    assert tp.read_image(store, tp.SUN_ZENITH).shape == (23, 23)
    assert any(r[1].startswith("tile 31TEJ: window") for r in chain["init"].log.records)


def test_gen_ortho_toa_writes_counts_masks_and_footprints(mini, chain):
    store = ImageStore(mini.tmp / "PDI_TILE_TOA")
    grid = tp.read_tile(store)
    assert grid == tp.read_tile(mini.tmp / "TILE_GRID")
    assert tp.tile_bands(store) == ["B01", "B02", "B05"]
    for band, res in (("B01", 60), ("B02", 10), ("B05", 20)):
        p = tp.placement(store, tp.TOA, band)
        r0, r1, c0, c1 = grid.window(res)
        assert (p.resolution, p.window, p.shape, p.tile_shape) == (res, (r0, c0), (r1 - r0, c1 - c0),
                                                                    (109800 // res,) * 2)
        dn = np.asarray(tp.read_image(store, tp.TOA, band))
        det = np.asarray(tp.read_image(store, tp.DETFOO, band))
        assert dn.dtype == np.uint16 and set(np.unique(det)) <= {0, 6, 7} and {6, 7} <= set(np.unique(det))
        assert np.array_equal(dn == 0, det == 0)  # no data exactly where no detector sees
        rho = (dn[dn > 0].astype(float) - 1000) / 10000
        assert 0.02 < np.median(rho) < 0.4


def test_mask_s2_and_tile_finalize(mini, chain):
    cloud = ImageStore(mini.tmp / "MSK_CLOUDS")
    grid = tp.read_tile(cloud)
    r0, r1, c0, c1 = grid.window(60)
    assert tp.read_image(cloud, tp.CLASSI).shape == (r1 - r0, c1 - c0)
    l1c = tp.read_l1c_tile(mini.tmp / "PDI_TILE")
    assert sorted(l1c.bands) == ["B01", "B02", "B05"] and l1c.processing_baseline == "04.00"
    assert 0 < l1c.coverage == max(b.coverage for b in l1c.bands.values()) < 0.05
    for b in l1c.bands.values():
        assert b.detectors == [6, 7] and 0.02 < b.mean_reflectance < 0.4 and b.solar_irradiance > 1000
    grids = ImageStore(mini.tmp / "TILE_GRID")
    viewed = {grids.attrs(n)["band"] for n in grids.names(kind="viewing_angle")}  # a 4 km swath may miss the 5 km nodes
    assert set(l1c.mean_angles) == {"sun"} | viewed and 0 < l1c.mean_angles["sun"].zenith < 90
    assert l1c.reflectance_conversion_u == pytest.approx(1 / l1c.sun_earth_distance_au**2)
    assert 0 <= l1c.cloud_cover <= 1 and l1c.cloud_cover == tp.read_cloud_classes_attrs(cloud).cloud_cover
    report = json.loads((mini.tmp / "report.json").read_text())
    assert report["name"] == "31TEJ" and report["bands"]["B02"]["detectors"] == [6, 7]
    assert report["window_m"] == list(l1c.window_m)


def test_gen_ortho_toa_refuses_a_store_without_tile_entry_and_a_bad_resampling(mini, chain, tmp_path):
    from ipf.processors.l1c import tasks

    with pytest.raises(InputError, match="__tile__"):
        _run(tasks.gen_ortho_toa, "GEN_ORTHO_TOA", {"PDI_DS": mini.l1b, "TILE_GRID": mini.l1b},
             {"PDI_TILE_TOA": tmp_path / "toa"})
    with pytest.raises(TaskError, match="RESAMPLING 'NEAREST'"):
        _run(tasks.gen_ortho_toa, "GEN_ORTHO_TOA", {"PDI_DS": mini.l1b, "TILE_GRID": mini.tmp / "TILE_GRID"},
             {"PDI_TILE_TOA": tmp_path / "toa2"}, {"RESAMPLING": "NEAREST"})


@pytest.fixture(scope="module")
def product(mini, chain):
    """FORMAT_IMG_L1C, FORMAT_IMG_PVI_TCI and FORMAT_METADATA_TILE_L1C after the tile tasks."""
    from ipf.processors.l1c import img, safe

    t = mini.tmp
    jp2 = {"PDI_TILE": t / "PDI_TILE", "GIP_JP2KPA": mini.gipps["GIP_JP2KPA"]}
    ctx = {"img": _run(img.format_img_l1c, "FORMAT_IMG_L1C", jp2, {"PDI_TILE_IMG": t / "PDI_TILE_IMG"}),
           "tci": _run(img.format_img_pvi_tci, "FORMAT_IMG_PVI_TCI", jp2, {"PDI_TILE_TCI": t / "PDI_TILE_TCI"})}
    ctx["safe"] = _run(safe.format_metadata_tile_l1c, "FORMAT_METADATA_TILE_L1C",
                       {"PDI_TILE": t / "PDI_TILE", "PDI_TILE_IMG": t / "PDI_TILE_IMG",
                        "PDI_TILE_TCI": t / "PDI_TILE_TCI", "PDI_DS": mini.l1b},
                       {"PRODUCT": t / mini.name}, processing_station="S2IP")
    return ctx


def test_format_img_tasks_write_the_jp2_files(mini, product):
    from ipf.formats.safe import band_file_stem, mask_file_name

    t = mini.tmp
    stem = band_file_stem("31TEJ", tp.read_l1c_tile(t / "PDI_TILE").sensing_start, "B01").removesuffix("_B01")
    assert stem == f"T31TEJ_{mini.ds.sensing_start:%Y%m%dT%H%M%S}"
    for band in ("B01", "B02", "B05"):
        assert (t / "PDI_TILE_IMG" / "IMG_DATA" / f"{stem}_{band}.jp2").stat().st_size > 0
        for kind in ("DETFOO", "QUALIT"):
            assert (t / "PDI_TILE_IMG" / "QI_DATA" / mask_file_name(kind, band)).is_file()
    assert (t / "PDI_TILE_IMG" / "QI_DATA" / "MSK_CLASSI_B00.jp2").is_file()
    assert (t / "PDI_TILE_TCI" / f"{stem}_TCI.jp2").is_file()
    assert (t / "PDI_TILE_TCI" / "QI_DATA" / f"{stem}_PVI.jp2").is_file()
    assert ("warning", "no B04, B03 in the tile: their true colour channels are no data (0)") in \
        product["tci"].log.records


def test_format_metadata_tile_l1c_and_olqc(mini, product):
    from ipf.processors.olqc.tasks import olqc_tile_l1c

    safe_dir = mini.tmp / mini.name
    assert (safe_dir / "MTD_MSIL1C.xml").is_file() and (safe_dir / "manifest.safe").is_file()
    granule = next((safe_dir / "GRANULE").iterdir())
    assert sorted(p.name.rsplit("_", 1)[1] for p in (granule / "IMG_DATA").glob("*.jp2")) == \
        ["B01.jp2", "B02.jp2", "B05.jp2", "TCI.jp2"]
    assert not product["safe"].warnings
    ctx = _run(olqc_tile_l1c, "OLQC_TILE_L1C", {"PDI_SAFE": safe_dir, "GIP_OLQCPA": mini.gipps["GIP_OLQCPA"]},
               {"REPORT": mini.tmp / "olqc" / "report.xml"})
    report = (mini.tmp / "olqc" / "report.xml").read_text()
    assert mini.name in report and "OLQC of" in ctx.log.records[-1][1]


def test_format_metadata_tile_l1c_refuses_another_datastrip(mini, product, tmp_path):
    from ipf.processors.l1c import safe

    other = ImageStore(tmp_path / "L1B")
    other.index = json.loads((mini.l1b / "index.json").read_text())
    other.index["__datastrip__"]["identifier"] = "S2A_OTHER"
    other.flush()
    mtd = other.index["__datastrip__"]["metadata_file"]
    (tmp_path / "L1B" / mtd).write_bytes((mini.l1b / mtd).read_bytes())
    with pytest.raises(InputError, match="PDI_DS is datastrip S2A_OTHER"):
        safe.product_inputs(ImageStore(mini.tmp / "PDI_TILE"), other, "S2IP")


# ------------------------------------------------------------------------------- image attributes
def test_tile_image_attributes_read_back_as_written(mini, chain):
    """The typed attributes dump to the attributes in the store (same keys and value types)."""
    grids = ImageStore(mini.tmp / "TILE_GRID")
    for name, model in (("line_B02_D06", tp.InverseGridAttrs), ("pixel_B02_D06", tp.InverseGridAttrs),
                        ("cos_sza_R10", tp.CosSunZenithAttrs), ("dem", tp.TileDemAttrs),
                        ("sun_zenith", tp.AngleAttrs)):
        stored = {k: v for k, v in grids.attrs(name).items() if k not in ("shape", "dtype")}
        assert json.dumps(tp.typed_attrs(grids, name, model).attrs(), sort_keys=True) == \
            json.dumps(stored, sort_keys=True), name
    g = tp.read_inverse_grid(grids, "B02", 6)
    assert (g.lines, g.pixels) == tuple(grids.attrs("line_B02_D06")[k] for k in ("lines", "pixels"))
    assert tp.inverse_grid_detectors(grids, "B02") == [6, 7] and tp.inverse_grid_resolution(grids, "B02") == 10
    dem = tp.read_tile_dem(grids)
    assert dem.heights.shape == tuple(grids.attrs("dem")["shape"]) and isinstance(dem.step, float)
    toa = ImageStore(mini.tmp / "PDI_TILE_TOA")
    for name, model in (("toa_B02", tp.ToaAttrs), ("quality_B02", tp.QualityMaskAttrs),
                        ("detfoo_B02", tp.DetectorFootprintAttrs)):
        stored = {k: v for k, v in toa.attrs(name).items() if k not in ("shape", "dtype")}
        assert json.dumps(tp.typed_attrs(toa, name, model).attrs(), sort_keys=True) == \
            json.dumps(stored, sort_keys=True), name
    cloud = ImageStore(mini.tmp / "MSK_CLOUDS")
    stored = {k: v for k, v in cloud.attrs("classi").items() if k not in ("shape", "dtype")}
    assert tp.read_cloud_classes_attrs(cloud).attrs() == stored
    with pytest.raises(FormatError, match="image dem"):
        tp.typed_attrs(grids, "dem", tp.InverseGridAttrs)
    with pytest.raises(InputError, match="no image 'line_B04_D06'"):
        tp.read_inverse_grid(grids, "B04", 6)


# ------------------------------------------------------------------------------- moved functions
def test_mask_file_name_round_trip():
    from ipf.formats.safe import mask_file_name, parse_mask_file_name

    for kind, band in (("DETFOO", "B02"), ("QUALIT", "B8A"), ("CLASSI", "B00")):
        assert parse_mask_file_name(mask_file_name(kind, band)) == (kind, band)
    assert mask_file_name("CLASSI") == "MSK_CLASSI_B00.jp2" and mask_file_name("QUALIT", "B12") == "MSK_QUALIT_B12.jp2"
    assert parse_mask_file_name("T31TEJ_20230320T104839_B02.jp2") is None
    with pytest.raises(ValueError):
        mask_file_name("CLOUDS", "B02")


def test_data_footprint_of_a_known_mask():
    """A 60 m detector footprint seeing a 3 x 4 pixel block at (row 2, col 5) of its window placed
    at (10, 20) of the tile: the ring is that block's outer corners, in the tile's UTM zone."""
    import pyproj

    from ipf.geometry.footprint import data_footprint

    seen = np.zeros((8, 12), np.uint8)
    seen[2:5, 5:9] = 7
    ulx, uly = 499980.0, 4900020.0
    ring = data_footprint(seen, 60, (10, 20), (0, 0, 6000, 6000), ulx, uly, 32631)
    assert len(ring) == 5 and ring[0] == ring[-1]
    to_utm = pyproj.Transformer.from_crs(4326, 32631, always_xy=True)
    e, n = to_utm.transform([lon for _, lon in ring[:-1]], [lat for lat, _ in ring[:-1]])
    corners = {(round(x - ulx), round(uly - y)) for x, y in zip(e, n)}
    assert corners == {(25 * 60, 12 * 60), (29 * 60, 12 * 60), (29 * 60, 15 * 60), (25 * 60, 15 * 60)}
    window = data_footprint(np.zeros((8, 12)), 60, (10, 20), (600, 1200, 1800, 2400), ulx, uly, 32631)
    assert window == data_footprint(None, 60, (0, 0), (600, 1200, 1800, 2400), ulx, uly, 32631)
    e, n = to_utm.transform([lon for _, lon in window[:-1]], [lat for lat, _ in window[:-1]])
    assert {(round(x - ulx), round(uly - y)) for x, y in zip(e, n)} == {(600, 1200), (1800, 1200), (1800, 2400),
                                                                          (600, 2400)}
