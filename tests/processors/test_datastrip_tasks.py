"""Unit tests of the datastrip product accessors and of the L0c/L1A/L1B tasks on fabricated
mini-products (no subprocess, no simulation)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import l0, msi_compression
from ipf.interface.errors import FormatError, InputError
from ipf.products import datastrip as dsp
from ipf.products.store import ImageStore, image_name

from tests.processors.proc_fixtures import task_context

T0 = datetime(2023, 3, 20, 10, 48, 39, 611298, tzinfo=timezone.utc)


def _info(quality=None) -> dsp.DatastripInfo:
    bands = [l0.BandInfo(name="B02", index=1, resolution=10, line_period_ticks=99, pixels=32,
                         lines=16, quantisation_step=2)]
    ds = l0.Datastrip(identifier="DS_TEST", spacecraft="Sentinel-2A", sensing_start=T0,
                      sensing_stop=T0, reference_time=T0, ticks_per_second=65536,
                      algorithm="DWT53-RICE", block_lines=8, wavelet_levels=3, bands=bands,
                      start_ticks={6: {"B02": 0}}, granules=[], orbit_file="o.xml",
                      attitude_file="a.xml")
    q = quality if quality is not None else [dsp.PacketQuality(
        granule="GR0", detector=6, band="B02", n_packets=8, crc_errors=1, sequence_gaps=0,
        lost_packets=2, time_jumps=1, time_jumps_redated=1, time_jumps_dropped=0,
        incomplete_groups=0, truncated=False, invalid_lines=3, lines=16)]
    return dsp.DatastripInfo.from_l0(ds, q)


def test_datastrip_entry_json_and_round_trip(tmp_path):
    store = ImageStore(tmp_path / "s")
    dsp.write_datastrip(store, _info())
    store.flush()
    raw = json.loads((tmp_path / "s" / "index.json").read_text())["__datastrip__"]
    assert raw["sensing_start"] == "2023-03-20T10:48:39.611298+00:00"
    assert raw["metadata"]["sensing_start"] == "2023-03-20T10:48:39.611298Z"
    assert raw["wavelet_levels"] == 3 and raw["kind"] == "datastrip"
    assert raw["quality"][0]["truncated"] is False and raw["quality"][0]["lost_packets"] == 2
    again = dsp.read_datastrip(tmp_path / "s")
    assert again.entry() == raw and again.metadata.bands[0].quantisation_step == 2


def test_missing_entries_are_input_errors(tmp_path):
    store = ImageStore(tmp_path / "empty")
    with pytest.raises(InputError, match="no datastrip entry") as e:
        dsp.read_datastrip(store)
    assert "__datastrip__" in str(e.value) and str(store.root) in str(e.value)
    with pytest.raises(InputError, match="GEO1B_FINALIZE"):
        dsp.read_geometry(store)
    assert dsp.read_geometry(store, missing_ok=True) is None
    with pytest.raises(InputError, match="QL_GEO"):
        dsp.read_ql_grid(store)
    store.index["__datastrip__"] = {"kind": "datastrip", "identifier": "X"}
    with pytest.raises(FormatError):
        dsp.read_datastrip(store)


def test_geometry_entry_keeps_only_the_keys_set(tmp_path):
    store = ImageStore(tmp_path / "g")
    g = dsp.RefinedGeometry(refined=False, reference_time=T0, tie_points=3, reason="too few")
    dsp.write_geometry(store, g)
    assert store.index["__geometry__"] == {"refined": False, "tie_points": 3, "reason": "too few",
                                           "reference_time": "2023-03-20T10:48:39.611298+00:00"}


ENTRIES = Path(__file__).resolve().parents[1] / "data" / "products" / "datastrip_entries.json"


@pytest.mark.parametrize("key, read", [("__datastrip__", dsp.read_datastrip),
                                       ("__geometry__", dsp.read_geometry),
                                       ("__ql__", dsp.read_ql_grid)])
def test_entries_written_before_the_models_dump_unchanged(key, read, tmp_path):
    """Entries of the demo's L1B and QL_GEO stores as the tasks wrote them before the typed models
    (tests/data/products): read and written again, the same JSON."""
    entry = json.loads(ENTRIES.read_text())[key]
    store = ImageStore(tmp_path / "s")
    store.index[key] = entry
    assert json.dumps(read(store).entry(), sort_keys=True) == json.dumps(entry, sort_keys=True)


def _l0c(root: Path) -> Path:
    """An L0c store of one B02 stream (D06): two blocks of 8 lines, the second one corrupt."""
    store = ImageStore(root)
    rng = np.random.default_rng(1)
    image = rng.integers(0, 4000, (16, 32)).astype(np.uint16)
    good = msi_compression.encode(image[:8], levels=3, qstep=1)
    bad = b"\x00" * 20
    attrs = dict(band="B02", detector=6, resolution=10, lines=16, pixels=32)
    store.write(image_name("blocks", "B02", 6), np.frombuffer(good + bad, np.uint8), kind="blocks", **attrs)
    store.write(image_name("table", "B02", 6), np.array([[0, 8, 0, len(good)], [8, 8, len(good), len(bad)]]),
                kind="block_table", **attrs)
    store.write(image_name("time", "B02", 6), np.arange(16) * 1e-3, kind="line_time", **attrs)
    store.write(image_name("valid", "B02", 6), np.ones(16, bool), kind="line_valid", **attrs)
    dsp.write_datastrip(store, _info())
    store.flush()
    return root, image


def test_decomp_decodes_blocks_and_flags_undecodable_lines(tmp_path):
    from ipf.processors.l1a.tasks import decomp

    l0c, image = _l0c(tmp_path / "l0c")
    ctx = task_context("DECOMP", {"PDI_DS": l0c}, {"PDI_DS": tmp_path / "l1a"})
    decomp(ctx)
    out = ImageStore(tmp_path / "l1a")
    dn = out.read(image_name("dn", "B02", 6))
    assert dn.dtype == np.uint16 and dn.shape == (16, 32)
    assert np.array_equal(dn[:8], msi_compression.decode(msi_compression.encode(image[:8]))[0])
    assert not dn[8:].any()
    assert out.read(image_name("valid", "B02", 6)).tolist() == [True] * 8 + [False] * 8
    assert len(ctx.warnings) == 1 and "lines 8..15" in ctx.warnings[0]
    assert dsp.read_datastrip(out) == dsp.read_datastrip(l0c)


def test_decomp_without_datastrip_entry_is_an_input_error(tmp_path):
    from ipf.processors.l1a.tasks import decomp

    l0c, _ = _l0c(tmp_path / "l0c")
    index = json.loads((l0c / "index.json").read_text())
    del index["__datastrip__"]
    (l0c / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="datastrip"):
        decomp(task_context("DECOMP", {"PDI_DS": l0c}, {"PDI_DS": tmp_path / "l1a"}))


def test_format_metadata_ds_l0c_sums_the_packet_quality(tmp_path):
    from ipf.processors.l0.tasks import format_metadata_ds_l0c

    l0c, _ = _l0c(tmp_path / "l0c")
    report = tmp_path / "report.json"
    format_metadata_ds_l0c(task_context("FORMAT_METADATA_DS_L0C", {"PDI_DS": l0c}, {"REPORT": report}))
    r = json.loads(report.read_text())
    assert (r["packets"], r["crc_errors"], r["lost_packets"], r["invalid_lines"], r["lines"]) == (8, 1, 2, 3, 16)
    assert r["datastrip"] == "DS_TEST" and r["sensing_start"] == "2023-03-20T10:48:39.611298+00:00"
    assert r["per_granule_band"][0]["granule"] == "GR0"


def _l1b(root: Path) -> Path:
    store = ImageStore(root)
    mask = np.zeros((4, 5), np.uint8)
    mask[0, :] = 2
    mask[:, 1] |= 4
    mask[3, 4] |= 1
    rad = np.arange(20, dtype=np.float32).reshape(4, 5)
    common = dict(band="B02", detector=6, resolution=10, lines=4, pixels=5)
    store.write(image_name("radiance", "B02", 6), rad, kind="radiance", steps=["equalisation"],
                absolute_gain=1.5, solar_irradiance=1941.63, **common)
    store.write(image_name("mask", "B02", 6), mask, kind="mask", **common)
    store.write(image_name("time", "B02", 6), np.arange(4.0), kind="line_time", **common)
    dsp.write_datastrip(store, _info())
    store.flush()
    return root


def test_radio_finalize_statistics(tmp_path):
    from ipf.processors.l1b.tasks import radio_finalize

    report = tmp_path / "r.json"
    radio_finalize(task_context("RADIO_FINALIZE", {"PDI_DS": _l1b(tmp_path / "l1b")}, {"REPORT": report}))
    d = json.loads(report.read_text())["bands"]["B02"]["detectors"]["6"]
    assert d["no_data_fraction"] == pytest.approx(5 / 20)
    assert d["saturated_fraction"] == pytest.approx(1 / 20)
    assert d["defective_pixels"] == 1
    good = [v for i, v in enumerate(range(20)) if i >= 5 and i % 5 != 1 and i != 19]
    assert d["mean_radiance"] == pytest.approx(np.mean(good))


def _tie_points(path: Path, n: int, score=0.9) -> Path:
    from ipf.products.refining import TiePointsFile

    rng = np.random.default_rng(0)
    cols = {k: rng.normal(0, 0.1, n).tolist() for k in ("line", "pixel", "e", "n", "h", "dline", "dpixel")}
    f = TiePointsFile(datastrip="DS_TEST", image_band="B02", gri_band="B04", epsg=32631,
                      filtered=False, candidates=n, band=["B02"] * n, detector=[6] * n,
                      score=[score] * (n - 1) + [0.1], **cols)
    path.write_text(f.model_dump_json())
    return path


def test_tp_filter_drops_low_correlations(tmp_path):
    from ipf.processors.l1b.geo import tp_filter
    from ipf.products.refining import TiePointsFile

    out = tmp_path / "hpl.json"
    tp_filter(task_context("TP_FILTER", {"TIE_POINTS": _tie_points(tmp_path / "tp.json", 30)},
                           {"HOMOLOG_POINTS_LIST": out}))
    f = TiePointsFile.model_validate_json(out.read_text())
    assert f.filtered and 0.1 not in f.score and len(f.score) <= 29


def test_tp_filter_rejects_a_file_that_is_not_tie_points(tmp_path):
    from ipf.processors.l1b.geo import tp_filter

    bad = tmp_path / "tp.json"
    bad.write_text('{"kind": "other"}')
    with pytest.raises(FormatError, match="not a tie points file"):
        tp_filter(task_context("TP_FILTER", {"TIE_POINTS": bad}, {"HOMOLOG_POINTS_LIST": tmp_path / "o.json"}))


@pytest.mark.parametrize("params,n,reason", [({"REFINING_TYPE": "NONE"}, 30, "REFINING_TYPE NONE"),
                                             ({}, 3, "tie points after filtering")])
def test_spatio_keeps_the_given_attitude(tmp_path, params, n, reason):
    from ipf.processors.l1b.geo import spatio
    from ipf.products.refining import RefinedModel

    out = tmp_path / "model.json"
    ctx = task_context("SPATIO", {"PDI_DS": _l1b(tmp_path / "l1b"),
                                  "HOMOLOG_POINTS_LIST": _tie_points(tmp_path / "tp.json", n)},
                       {"REFINED_MODEL": out}, params)
    spatio(ctx)
    m = RefinedModel.model_validate_json(out.read_text())
    assert not m.refined and reason in m.reason and m.tie_points == n


def test_geo1b_finalize_links_images_and_adds_the_geometry(tmp_path):
    from ipf.processors.l1b.geo import geo1b_finalize
    from ipf.products.refining import AttitudeCorrectionModel, RefinedModel

    src = _l1b(tmp_path / "l1b")
    model = tmp_path / "model.json"
    model.write_text(RefinedModel(datastrip="DS_TEST", refined=True, reference_time=T0, image_band="B02",
                                  attitude_correction=AttitudeCorrectionModel(
                                      bias_rad=[1e-5, 0, 0], drift_rad_s=[0, 1e-7, 0],
                                      bias_sigma_rad=[1e-7] * 3, drift_sigma_rad_s=[1e-9] * 3),
                                  residuals={"after": {"rms_px": 0.1}}, tie_points=40).model_dump_json())
    geo1b_finalize(task_context("GEO1B_FINALIZE", {"PDI_DS": src, "REFINED_MODEL": model},
                                {"PDI_DS": tmp_path / "final"}))
    final, radio = ImageStore(tmp_path / "final"), ImageStore(src)
    assert final.images() == radio.images()
    g = json.loads((tmp_path / "final" / "index.json").read_text())["__geometry__"]
    assert g == {"refined": True, "reference_time": "2023-03-20T10:48:39.611298+00:00", "tie_points": 40,
                 "image_band": "B02", "residuals": {"after": {"rms_px": 0.1}},
                 "attitude_correction": {"bias_rad": [1e-5, 0.0, 0.0], "drift_rad_s": [0.0, 1e-7, 0.0]}}
    assert dsp.read_datastrip(final) == dsp.read_datastrip(radio)


def test_geo1b_finalize_rejects_the_model_of_another_datastrip(tmp_path):
    from ipf.interface.errors import TaskError
    from ipf.processors.l1b.geo import geo1b_finalize
    from ipf.products.refining import RefinedModel

    model = tmp_path / "model.json"
    model.write_text(RefinedModel(datastrip="OTHER", refined=False, reason="x", reference_time=T0,
                                  tie_points=0).model_dump_json())
    with pytest.raises(TaskError, match="OTHER"):
        geo1b_finalize(task_context("GEO1B_FINALIZE", {"PDI_DS": _l1b(tmp_path / "l1b"),
                                                       "REFINED_MODEL": model}, {"PDI_DS": tmp_path / "f"}))
