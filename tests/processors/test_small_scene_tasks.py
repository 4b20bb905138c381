"""FORMAT_ISP, FORMAT_METADATA_GR_L0C, INIT_LOC_L0, QL_GEO, QL_CLOUD_MASK, RADIO_AB and TP_COLLECT
called in process on the session's ``small`` simulation (fixture ``small_products``), against
the simulator's truth or a known answer, and on damaged inputs."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from ipf.formats import gipp, l0, msi_compression
from ipf.formats.l0_metadata import read_granule_metadata
from ipf.interface.errors import FormatError, TaskError
from ipf.products import datastrip as dsp
from ipf.products.store import ImageStore, image_name
from tests.processors.proc_fixtures import job_inputs, task_context

BANDS, DETECTORS = ("B01", "B02", "B05"), (6, 7)


def _granules(sim):
    return l0.find_granules(sim / "L0")


# ------------------------------------------------------------------------------- FORMAT_ISP
def test_format_isp_consolidates_every_line_of_a_clean_datastrip(small_products):
    store = ImageStore(small_products.l0c)
    info = dsp.read_datastrip(store)
    assert sorted((a["band"], a["detector"]) for a in map(store.attrs, store.names(kind="blocks"))) == \
        [(b, d) for b in BANDS for d in DETECTORS]
    assert len(info.quality) == 2 * len(BANDS)
    assert sum(q.crc_errors + q.sequence_gaps + q.lost_packets + q.invalid_lines for q in info.quality) == 0
    for band in BANDS:
        lines = info.band(band).lines
        valid = store.read(image_name("valid", band, 6))
        time = store.read(image_name("time", band, 6))
        assert valid.shape == (lines,) and valid.all() and np.all(np.diff(time) > 0)
        table = store.read(image_name("table", band, 6))
        assert table[:, 1].sum() == lines and table[0, 0] == 0
    first, lines, offset, length = store.read(image_name("table", "B02", 6))[0]
    block, status = msi_compression.decode(store.read(image_name("blocks", "B02", 6))[offset:offset + length]
                                           .tobytes())
    assert str(status) == "ok" and block.shape == (lines, 192)
    assert [(g.detector, g.first_line_10m, g.lines_10m) for g in info.granules] == [(6, 0, 288), (7, 0, 288)]
    assert [(b.band, b.lines, b.quantisation_step) for b in info.bands] == [("B01", 48, 1), ("B02", 288, 2),
                                                                         ("B05", 144, 2)]
    assert info.wavelet_levels == 3
    assert store.attrs(image_name("blocks", "B01", 6))["pixels"] == 3 * 32  # 20 m elements of a 60 m band


def test_format_isp_flags_the_lines_of_a_corrupt_granule(small_products, tmp_path):
    sim = small_products.sim
    granules = [shutil.copytree(g, tmp_path / g.name) for g in _granules(sim)]
    gr = read_granule_metadata(l0.granule_metadata_file(granules[0]))
    path = l0.band_file(granules[0], "B02")
    data = bytearray(path.read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(data))
    ctx = task_context("FORMAT_ISP", job_inputs(sim, "L0", "FORMAT_ISP", PDI_GR=granules),
                       {"PDI_DS": tmp_path / "l0c"})
    from ipf.processors.l0.tasks import format_isp

    format_isp(ctx)
    assert any(f"D{gr.detector:02d} B02 granule {gr.granule_id}" in w and "lines flagged invalid" in w
               for w in ctx.warnings)
    q = next(q for q in dsp.read_datastrip(tmp_path / "l0c").quality
             if q.granule == gr.granule_id and q.band == "B02")
    assert q.invalid_lines > 0 and q.crc_errors + q.sequence_gaps > 0
    valid = ImageStore(tmp_path / "l0c").read(image_name("valid", "B02", gr.detector))
    assert (~valid).sum() == q.invalid_lines


def test_format_isp_without_granules_is_a_task_error(small_products, tmp_path):
    from ipf.processors.l0.tasks import format_isp

    with pytest.raises(TaskError, match="no PDI_GR granule"):
        format_isp(task_context("FORMAT_ISP", job_inputs(small_products.sim, "L0", "FORMAT_ISP", PDI_GR=[]),
                                {"PDI_DS": tmp_path / "l0c"}))


# ---------------------------------------------------------------------- FORMAT_METADATA_GR_L0C
@pytest.fixture(scope="module")
def footprints(small_products, tmp_path_factory):
    """The INIT_LOC_L0 footprint report of the small simulation."""
    from ipf.processors.l0.tasks import init_loc_l0

    report = tmp_path_factory.mktemp("init_loc") / "FOOTPRINT.json"
    init_loc_l0(task_context("INIT_LOC_L0", job_inputs(small_products.sim, "L0", "INIT_LOC_L0"),
                             {"REPORT": report}))
    return report


def test_format_metadata_gr_l0c_granules_with_footprints(small_products, footprints, tmp_path):
    from ipf.processors.l0.tasks import format_metadata_gr_l0c

    out = tmp_path / "gr.json"
    ctx = task_context("FORMAT_METADATA_GR_L0C", {"PDI_DS": small_products.l0c, "REPORT": footprints},
                       {"REPORT": out})
    format_metadata_gr_l0c(ctx)
    r = json.loads(out.read_text())
    assert not ctx.warnings and r["footprint_source"] == footprints.name
    assert [(g["detector"], g["index"]) for g in r["granules"]] == [(d, 0) for d in DETECTORS]
    for g in r["granules"]:
        assert g["status"] == "NOMINAL" and g["invalid_lines"] == 0
        assert g["bands"]["B02"]["lines"] == 288 and g["bands"]["B01"]["lines"] == 48
        assert g["sensing_start"] < g["sensing_stop"] and g["footprint"]["type"] == "Polygon"
    assert all(g["bands"]["B02"]["first_line"] == 0 for g in r["granules"])


def test_format_metadata_gr_l0c_missing_granules_and_foreign_footprints(small_products, footprints, tmp_path):
    from ipf.processors.l0.tasks import format_isp, format_metadata_gr_l0c

    d06 = [g for g in _granules(small_products.sim)
           if read_granule_metadata(l0.granule_metadata_file(g)).detector == 6]
    format_isp(task_context("FORMAT_ISP", job_inputs(small_products.sim, "L0", "FORMAT_ISP", PDI_GR=d06),
                            {"PDI_DS": tmp_path / "l0c"}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(footprints.read_text()), "datastrip": "DS_OTHER"}))
    out = tmp_path / "gr.json"
    ctx = task_context("FORMAT_METADATA_GR_L0C", {"PDI_DS": tmp_path / "l0c", "REPORT": other},
                       {"REPORT": out})
    format_metadata_gr_l0c(ctx)
    r = json.loads(out.read_text())
    assert [g["status"] for g in r["granules"]] == ["NOMINAL", "MISSING"]
    assert all(g["invalid_lines"] == g["lines"] for g in r["granules"][1:])
    assert r["footprint_source"] is None and "footprint" not in r["granules"][0]
    assert sum("not in the L0c" in w for w in ctx.warnings) == 1
    assert any("DS_OTHER" in w for w in ctx.warnings)


def test_format_metadata_gr_l0c_rejects_a_report_that_is_not_footprints(small_products, tmp_path):
    from ipf.processors.l0.tasks import format_metadata_gr_l0c

    bad = tmp_path / "bad.json"
    bad.write_text('{"granules": []}')
    with pytest.raises(FormatError, match="not an INIT_LOC_L0 footprint report"):
        format_metadata_gr_l0c(task_context("FORMAT_METADATA_GR_L0C",
                                            {"PDI_DS": small_products.l0c, "REPORT": bad},
                                            {"REPORT": tmp_path / "gr.json"}))


# ------------------------------------------------------------------------------ INIT_LOC_L0
def test_init_loc_l0_granule_corners_near_the_truth(small_products, footprints):
    r = json.loads(footprints.read_text())
    truth = small_products.truth
    assert r["band"] == "B02" and len(r["granules"]) == 2 and r["corners_outside_dem"] == 0
    for g in r["granules"]:
        utm = np.array(g["footprint_utm"])[:-1]
        l0_, l1_ = g["first_line"] - 0.5, g["first_line"] + g["lines"] - 0.5
        for line, pixel in ((l0_, -0.5), (l0_, g["pixels"] - 0.5), (l1_, g["pixels"] - 0.5), (l1_, -0.5)):
            e, n = truth.grids["B02", g["detector"]].evaluate(line, pixel, 0.0)
            assert np.hypot(utm[:, 0] - e, utm[:, 1] - n).min() < 150, g["granule"]


def test_init_loc_l0_without_viewing_directions_of_the_band(small_products, tmp_path):
    from ipf.processors.l0.tasks import init_loc_l0

    inputs = job_inputs(small_products.sim, "L0", "INIT_LOC_L0")
    inputs["GIP_VIEDIR"] = [p for p in inputs["GIP_VIEDIR"] if not p.name.endswith("_B02.xml")]
    with pytest.raises(TaskError, match="no GIP_VIEDIR viewing directions for B02 detector 6"):
        init_loc_l0(task_context("INIT_LOC_L0", inputs, {"REPORT": tmp_path / "fp.json"}))


def test_a_datastrip_with_a_bad_ephemeris_is_an_input_error_naming_it(small_products, tmp_path):
    """The sensor model's inputs are checked when the datastrip metadata is read: a position off
    the orbit is an error naming the file and the GPS_Point, exit code 148."""
    import re

    from ipf.interface.errors import exit_code
    from ipf.interface.exitcodes import ExitCode
    from ipf.processors.l0.tasks import init_loc_l0

    ds_dir = shutil.copytree(l0.find_datastrip(small_products.sim / "L0"), tmp_path / "DS")
    mtd = l0.datastrip_metadata_file(ds_dir)
    text = mtd.read_text()
    points = [m.start() for m in re.finditer("<GPS_Point>", text)]
    start = text.index("<POSITION_VALUES", points[2])
    end = text.index("</POSITION_VALUES>", start)
    mtd.write_text(text[:start] + '<POSITION_VALUES unit="mm">0 0 0' + text[end:])
    inputs = job_inputs(small_products.sim, "L0", "INIT_LOC_L0", PDI_DS=ds_dir)
    with pytest.raises(FormatError) as info:
        init_loc_l0(task_context("INIT_LOC_L0", inputs, {"REPORT": tmp_path / "fp.json"}))
    assert info.value.source == str(mtd) and exit_code(info.value) is ExitCode.PROCESSING_ERROR
    assert info.value.element.endswith("GPS_Points_List/GPS_Point[3]/POSITION_VALUES")


# ---------------------------------------------------------------------------------- QL_GEO
def test_ql_geo_grid_nodes_near_the_truth(small_products):
    from ipf.geometry.geodesy import geodesy

    store = ImageStore(small_products.ql_geo)
    grid = dsp.read_ql_grid(store)
    assert (grid.band, grid.step) == ("B02", 16)
    geo = geodesy(grid.epsg)
    for det in DETECTORS:
        lon, lat, h, cos_sza = (store.read(image_name(k, "B02", det)) for k in ("lon", "lat", "height", "cos_sza"))
        assert lon.shape == (288 // 16, 192 // 16) == cos_sza.shape
        assert np.all((cos_sza > 0) & (cos_sza <= 1))
        lines, pixels = np.meshgrid(np.arange(18) * 16 + 7.5, np.arange(12) * 16 + 7.5, indexing="ij")
        e, n = geo.to_utm(lon, lat)
        te, tn = small_products.truth.grids["B02", det].evaluate(lines.ravel(), pixels.ravel(), h.ravel())
        assert np.hypot(e.ravel() - te, n.ravel() - tn).max() < 150


# --------------------------------------------------------------------------- QL_CLOUD_MASK
def _cloud_mask(small_products, tmp_path, l0c=None):
    from ipf.processors.l0.ql import ql_cloud_mask

    report = tmp_path / "cloud.json"
    inputs = job_inputs(small_products.sim, "L0", "QL_CLOUD_MASK", PDI_DS=l0c or small_products.l0c,
                        QL_GEO=small_products.ql_geo)
    ql_cloud_mask(task_context("QL_CLOUD_MASK", inputs, {"QL_CLOUD_MASK": tmp_path / "cld", "REPORT": report}))
    return json.loads(report.read_text()), ImageStore(tmp_path / "cld")


@pytest.mark.parametrize("threshold,cover", [(0.0, 1.0), (10.0, 0.0)])
def test_ql_cloud_mask_threshold(small_products, tmp_path, monkeypatch, threshold, cover):
    from ipf.processors.l0 import ql

    monkeypatch.setattr(ql, "CLOUD_REFLECTANCE", threshold)
    r, store = _cloud_mask(small_products, tmp_path)
    assert r["band"] == "B02" and r["snow_test"] is False and r["threshold"] == threshold
    assert r["cloud_cover"] == cover
    for det in DETECTORS:
        assert r["detectors"][str(det)] == {"cloud_cover": cover, "cells": 18 * 12}
        mask = store.read(image_name("cloud", "B02", det))
        assert mask.shape == (18, 12) and mask.dtype == np.uint8 and mask.all() == bool(cover)


def test_ql_cloud_mask_on_b01_averages_its_elements(small_products, tmp_path):
    """Without B02, B01 (60 m lines of 20 m elements) gives the cloud test on the same cells."""
    l0c = tmp_path / "l0c"
    shutil.copytree(small_products.l0c, l0c)
    index = json.loads((l0c / "index.json").read_text())
    (l0c / "index.json").write_text(json.dumps({k: v for k, v in index.items() if not k.startswith("blocks_B02")}))
    r, _ = _cloud_mask(small_products, tmp_path, l0c)
    reference, _ = _cloud_mask(small_products, tmp_path / "b02")
    assert r["band"] == "B01"
    assert any(reference["detectors"][str(det)]["cloud_cover"] > 0 for det in DETECTORS)
    for det in DETECTORS:
        b01, b02 = r["detectors"][str(det)]["cloud_cover"], reference["detectors"][str(det)]["cloud_cover"]
        assert r["detectors"][str(det)]["cells"] == 18 * 12
        assert abs(b01 - b02) < 0.05
        assert (b01 > 0) == (b02 > 0)


def test_ql_cloud_mask_needs_a_blue_band(small_products, tmp_path):
    l0c = tmp_path / "l0c"
    shutil.copytree(small_products.l0c, l0c)
    index = json.loads((l0c / "index.json").read_text())
    (l0c / "index.json").write_text(json.dumps({k: v for k, v in index.items()
                                                if not k.startswith(("blocks_B02", "blocks_B01"))}))
    with pytest.raises(TaskError, match="neither B02 nor B01"):
        _cloud_mask(small_products, tmp_path, l0c)


# -------------------------------------------------------------------------------- RADIO_AB
def test_radio_ab_radiance_of_the_calibration(small_products):
    l1a, l1b = ImageStore(small_products.l1a), ImageStore(small_products.l1b)
    inputs = job_inputs(small_products.sim, "L1B", "RADIO_AB")
    eq = next(g for g in map(gipp.read_gipp, inputs["GIP_R2EQOG"]) if g.band == "B02")
    gain = next(b.absolute_gain for b in gipp.read_gipp(inputs["GIP_R2ABCA"][0]).bands if b.band == "B02")
    assert dsp.read_datastrip(l1b).entry() == dsp.read_datastrip(l1a).entry()
    for det in DETECTORS:
        row = eq.detectors.index(det)
        dn = l1a.read(image_name("dn", "B02", det)).astype(np.float64)
        expected = (dn - np.asarray(eq.dark_signal[row])) / (gain * np.asarray(eq.relative_gain[row]))
        L = l1b.read(image_name("radiance", "B02", det))
        assert L.dtype == np.float32 and L.shape == (288, 192)
        assert abs(L.mean() / expected.mean() - 1) < 1e-2  # crosstalk and restoration move it < 1 %
        assert l1b.attrs(image_name("radiance", "B02", det))["steps"][:3] == \
            ["equalisation", "defective pixels", "crosstalk"]
        assert l1b.read(image_name("radiance", "B01", det)).shape == (48, 32)


def test_radio_ab_invalid_lines_are_no_data(small_products, tmp_path):
    from ipf.processors.l1b.tasks import radio_ab
    from ipf.radiometry.masks import NO_DATA

    l1a = tmp_path / "l1a"
    shutil.copytree(small_products.l1a, l1a)
    store = ImageStore(l1a)
    valid = np.array(store.read(image_name("valid", "B02", 6)))
    valid[100:120] = False
    store.write(image_name("valid", "B02", 6), valid, **store.attrs(image_name("valid", "B02", 6)))
    store.flush()
    radio_ab(task_context("RADIO_AB", job_inputs(small_products.sim, "L1B", "RADIO_AB", PDI_DS=l1a),
                          {"PDI_DS": tmp_path / "l1b"}))
    out = ImageStore(tmp_path / "l1b")
    mask, L = out.read(image_name("mask", "B02", 6)), out.read(image_name("radiance", "B02", 6))
    flagged = (mask & NO_DATA) > 0
    assert flagged[100:120].all() and not flagged[:100].any() and not flagged[120:].any()
    assert not L[100:120].any() and L[:100].all()


def test_radio_ab_without_the_gains_of_a_band(small_products, tmp_path):
    from ipf.processors.l1b.tasks import radio_ab

    inputs = job_inputs(small_products.sim, "L1B", "RADIO_AB", PDI_DS=small_products.l1a)
    inputs["GIP_R2EQOG"] = [p for p in inputs["GIP_R2EQOG"] if "_B05." not in p.name]
    with pytest.raises(TaskError, match="no GIP_R2EQOG for band B05"):
        radio_ab(task_context("RADIO_AB", inputs, {"PDI_DS": tmp_path / "l1b"}))


# ------------------------------------------------------------------------------ TP_COLLECT
def _tp_collect(small_products, tmp_path, **params):
    from ipf.processors.l1b.geo import tp_collect
    from ipf.products.refining import TiePointsFile

    out = tmp_path / "tp.json"
    ctx = task_context("TP_COLLECT", job_inputs(small_products.sim, "L1B", "TP_COLLECT", PDI_DS=small_products.l1b),
                       {"TIE_POINTS": out}, params)
    tp_collect(ctx)
    return TiePointsFile.model_validate_json(out.read_text()), ctx


def test_tp_collect_on_the_nearest_band_against_the_gri(small_products, tmp_path):
    f, ctx = _tp_collect(small_products, tmp_path)
    assert ("info", "IMAGE_BAND_ID B04 is not in the product: tie points on B02") in ctx.log.records
    assert f.image_band == "B02" and f.gri_band == "B04" and not f.filtered
    assert f.epsg == json.loads((small_products.sim / "truth" / "truth.json").read_text())["utm_epsg"]
    n = len(f.score)
    assert 20 <= n <= f.candidates and set(f.band) == {"B02"} and 6 in f.detector and set(f.detector) <= set(DETECTORS)
    assert all(-1 <= s <= 1 for s in f.score) and all(0 <= p < 192 for p in f.pixel)
    # the given attitude is off by tens of metres: a shift of a few pixels, found within the search
    shift = np.hypot(f.dline, f.dpixel)
    assert 0.2 < np.median(shift) < 10


def test_tp_collect_refining_none_and_a_gri_of_another_band(small_products, tmp_path):
    f, _ = _tp_collect(small_products, tmp_path, REFINING_TYPE="NONE")
    assert f.score == [] and f.epsg == 0 and f.candidates == 0
    with pytest.raises(TaskError, match="is not a GRI of GRI_BAND_ID B03"):
        _tp_collect(small_products, tmp_path, GRI_BAND_ID="B03")


def test_format_isp_granule_beyond_the_last_packet_line_is_missing(small_products, tmp_path):
    """A second granule of detector 6 whose POSITION (1000) lies beyond the 288 lines any packet
    carries: clamped to no line and warned MISSING; the first granule keeps its 288 lines."""
    from ipf.processors.l0.tasks import format_isp, format_metadata_gr_l0c

    sim = small_products.sim
    ds_dir = shutil.copytree(l0.find_datastrip(sim / "L0"), tmp_path / "ds" / l0.find_datastrip(sim / "L0").name)
    granules = [shutil.copytree(g, tmp_path / "gr" / g.name) for g in _granules(sim)]
    d06 = next(g for g in granules if read_granule_metadata(l0.granule_metadata_file(g)).detector == 6)
    old_id = read_granule_metadata(l0.granule_metadata_file(d06)).granule_id
    new_id = re.sub(r"_S(\d{8}T\d{4})\d\d_D06", r"_S\g<1>59_D06", old_id)
    assert new_id != old_id
    extra = shutil.copytree(d06, tmp_path / "gr" / "extra")
    mtd = l0.granule_metadata_file(extra)
    text = mtd.read_text(encoding="utf-8").replace(old_id, new_id)
    mtd.write_text(re.sub(r"<POSITION>\d+</POSITION>", "<POSITION>1000</POSITION>", text), encoding="utf-8")
    ds_mtd = l0.datastrip_metadata_file(ds_dir)
    text = ds_mtd.read_text(encoding="utf-8")
    granule = re.search(rf'<Granule granuleId="{old_id}">.*?</Granule>', text, re.DOTALL).group(0)
    twin = re.sub(r"<POSITION>\d+</POSITION>", "<POSITION>1000</POSITION>", granule.replace(old_id, new_id))
    ds_mtd.write_text(text.replace(granule, granule + twin), encoding="utf-8")
    ctx = task_context("FORMAT_ISP", job_inputs(sim, "L0", "FORMAT_ISP", PDI_DS=ds_dir, PDI_GR=granules + [extra]),
                       {"PDI_DS": tmp_path / "l0c"})
    format_isp(ctx)
    assert any(new_id in w and "MISSING" in w for w in ctx.warnings)
    info = dsp.read_datastrip(tmp_path / "l0c")
    lines = {g.granule: (g.first_line_10m, g.lines_10m) for g in info.granules}
    assert lines[old_id] == (0, 288) and lines[new_id] == (288, 0)
    assert {q.lines for q in info.quality if q.granule == new_id} == {0}
    out = tmp_path / "gr.json"
    format_metadata_gr_l0c(task_context("FORMAT_METADATA_GR_L0C", {"PDI_DS": tmp_path / "l0c"}, {"REPORT": out}))
    status = {g["granule"]: g["status"] for g in json.loads(out.read_text())["granules"]}
    assert status[new_id] == "MISSING" and status[old_id] == "NOMINAL"
