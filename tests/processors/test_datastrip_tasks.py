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

from tests.l0_samples import write_sample_datastrip
from tests.processors.proc_fixtures import task_context

T0 = datetime(2023, 3, 20, 10, 48, 39, 611298, tzinfo=timezone.utc)


def _info(quality=None, metadata_file: str = "S2A_OPER_MTD_L0__DS_SIMU_20260601T110000_S20260601T103000.xml"
          ) -> dsp.DatastripInfo:
    q = quality if quality is not None else [dsp.PacketQuality(
        granule="GR0", detector=6, band="B02", n_packets=8, crc_errors=1, sequence_gaps=0,
        lost_packets=2, time_jumps=1, time_jumps_redated=1, time_jumps_dropped=0,
        incomplete_groups=0, truncated=False, invalid_lines=3, lines=16)]
    return dsp.DatastripInfo(identifier="DS_TEST", spacecraft="Sentinel-2A", sensing_start=T0,
                             sensing_stop=T0, wavelet_levels=3,
                             bands=[dsp.BandImage(band="B02", resolution=10, lines=16, quantisation_step=2)],
                             granules=[dsp.GranuleLines(granule="GR0", detector=6, first_line_10m=0,
                                                        lines_10m=16)],
                             quality=q, metadata_file=metadata_file)


def _write_info(store: ImageStore, quality=None) -> dsp.DatastripInfo:
    """The datastrip entry of :func:`_info` and a sample L0 datastrip metadata file in ``store``."""
    mtd = write_sample_datastrip(store.root.parent / f"{store.root.name}_mtd")
    info = _info(quality, mtd.name)
    dsp.write_datastrip(store, info, mtd)
    return info


def test_datastrip_entry_json_and_round_trip(tmp_path):
    store = ImageStore(tmp_path / "s")
    info = _write_info(store)
    store.flush()
    raw = json.loads((tmp_path / "s" / "index.json").read_text())["__datastrip__"]
    assert raw["sensing_start"] == "2023-03-20T10:48:39.611298+00:00"
    assert raw["metadata_file"] == info.metadata_file and (tmp_path / "s" / info.metadata_file).is_file()
    assert raw["wavelet_levels"] == 3 and raw["kind"] == "datastrip"
    assert raw["bands"] == [{"band": "B02", "resolution": 10, "lines": 16, "quantisation_step": 2}]
    assert raw["quality"][0]["truncated"] is False and raw["quality"][0]["lost_packets"] == 2
    again = dsp.read_datastrip(tmp_path / "s")
    assert again.entry() == raw and again.band("B02").quantisation_step == 2
    assert again.metadata.datastrip_id == "S2A_OPER_MSI_L0__DS_SIMU_20260601T110000_S20260601T103000_N00.01"
    assert again.metadata_path == tmp_path / "s" / info.metadata_file
    # a copy into another store links the metadata file; a wrong file name is refused
    other = ImageStore(tmp_path / "t")
    dsp.write_datastrip(other, again)
    assert (tmp_path / "t" / info.metadata_file).stat().st_ino == (tmp_path / "s" / info.metadata_file).stat().st_ino
    with pytest.raises(ValueError, match="not the entry's"):
        dsp.write_datastrip(other, again, tmp_path / "s" / "index.json")
    with pytest.raises(InputError, match="not read from a store"):
        _info().metadata


def test_a_datastrip_entry_without_its_metadata_file_is_an_input_error(tmp_path):
    store = ImageStore(tmp_path / "s")
    info = _write_info(store)
    store.flush()
    (tmp_path / "s" / info.metadata_file).unlink()
    with pytest.raises(InputError, match="metadata file .* is not in the store") as e:
        dsp.read_datastrip(tmp_path / "s")
    assert e.value.element == "__datastrip__"


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
    if key == "__datastrip__":
        write_sample_datastrip(tmp_path / "s").rename(tmp_path / "s" / entry["metadata_file"])
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
    _write_info(store)
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
    assert dsp.read_datastrip(out).entry() == dsp.read_datastrip(l0c).entry()
    assert dsp.read_datastrip(out).metadata_path.read_bytes() == dsp.read_datastrip(l0c).metadata_path.read_bytes()


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
    _write_info(store)
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
    assert dsp.read_datastrip(final).entry() == dsp.read_datastrip(radio).entry()
    assert (tmp_path / "final" / dsp.read_datastrip(final).metadata_file).is_file()


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


# ------------------------------------------------------------------ moved functions, known answers
def test_tie_points_file_with_a_band_that_is_not_msi_or_binary_bytes_is_a_format_error(tmp_path):
    from ipf.products.refining import read_tie_points

    good = json.loads(_tie_points(tmp_path / "tp.json", 4).read_text())
    assert read_tie_points(tmp_path / "tp.json").image_band == "B02"
    for name, text in (("band", {**good, "band": ["B02", "B02", "B13", "B02"]}),
                       ("image_band", {**good, "image_band": "X1"})):
        (tmp_path / f"{name}.json").write_text(json.dumps(text))
        with pytest.raises(FormatError, match=f"not a tie points file \\({name}.*not an MSI band"):
            read_tie_points(tmp_path / f"{name}.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(FormatError, match="not a tie points file"):
        read_tie_points(tmp_path / "bin.json")


def test_refined_model_of_binary_bytes_is_a_format_error(tmp_path):
    from ipf.products.refining import read_refined_model

    (tmp_path / "rm.json").write_bytes(bytes(range(256)))
    with pytest.raises(FormatError, match="not a refined model"):
        read_refined_model(tmp_path / "rm.json")


def _block_stream(blocks):
    from ipf.formats import ccsds

    s = l0.BlockStream(16, 0.5)
    for first, image in blocks:
        data = image if isinstance(image, bytes) else msi_compression.encode(image, levels=1)
        sec = ccsds.SecondaryHeader(ccsds.GPS_TO_EPOCH_S + ccsds.GPS_UTC_S + 100, 0, 1, 6, first, 8 if isinstance(image, bytes) else len(image))
        block = ccsds.Block(apid=0, sec=sec, data=data, time=sec.utc_seconds(ccsds.GPS_UTC_S))
        assert s.add(block) == (first + sec.n_lines <= 16)
    return s


def test_block_stream_and_decode_blocks_known_answer():
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 4000, (8, 12)).astype(np.uint16) for _ in range(2))
    s = _block_stream([(0, a), (8, b"not a block"), (12, b)])
    assert s.table.tolist() == [[0, 8, 0, len(s.payload) - len(b"not a block")], [8, 8, s.table[1, 2], 11]]
    assert s.valid.tolist() == [True] * 16 and s.time[:3].tolist() == [100.0, 100.5, 101.0]
    dn, decoded, failed = l0.decode_blocks(s.payload, s.table, 16, 12)
    assert np.array_equal(dn[:8], a) and not dn[8:].any()
    assert decoded.tolist() == [True] * 8 + [False] * 8
    assert [(f, n) for f, n, _ in failed] == [(8, 8)] and failed[0][2] != "ok"


def test_decode_blocks_wrong_width_is_a_failure():
    image = np.arange(8 * 10, dtype=np.uint16).reshape(8, 10)
    data = np.frombuffer(msi_compression.encode(image, levels=1), np.uint8)
    dn, decoded, failed = l0.decode_blocks(data, np.array([[0, 8, 0, data.size]]), 8, 12)
    assert not decoded.any() and failed[0][:2] == (0, 8)


def test_binning_flags_and_cell_means_known_answers():
    from ipf.radiometry import binning, defective, equalization

    flags = np.zeros((4, 4), np.uint8)
    flags[0, 1], flags[3, 3], flags[2, 0] = 1, 2 | 4, 8
    assert binning.bin_flags(flags, 2, 2, (1, 2, 4)).tolist() == [[1, 0], [0, 6]]
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    image[0, 0] = np.nan
    image[2:, 2:] = np.nan
    means = binning.cell_means(image, 2, (2, 2))
    assert means[0, 0] == pytest.approx((1 + 4 + 5) / 3) and means[0, 1] == pytest.approx(4.5)
    assert np.isnan(means[1, 1])
    assert defective.defective_elements([1, 3, -1, 7], 5).tolist() == [False, True, False, True, False]
    L = equalization.nominal_radiance(np.array([110.0]), [5.0, 15.0], [0.5, 1.5], 4.0)
    assert L.tolist() == [25.0]


def test_local_up_and_quick_look_reflectance_known_answers():
    from ipf.geometry.geodesy import local_up
    from ipf.radiometry.reflectance import quick_look_reflectance

    assert np.allclose(local_up([0.0, 90.0, 0.0], [0.0, 0.0, 90.0]), [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    rho = quick_look_reflectance(np.array([100.0], np.float32), 2000.0, np.array([0.5]), 1.0)
    assert rho.dtype == np.float64 and rho[0] == pytest.approx(np.pi * 100 / 1000)


def test_image_attrs_models_dump_the_stored_keys_and_name_the_store_on_errors(tmp_path):
    store = ImageStore(tmp_path / "l1b")
    common = dict(band="B01", detector=6, resolution=60, lines=256, pixels=432)
    dsp.write_image(store, np.zeros((2, 2), np.float32), dsp.RadianceAttrs(
        steps=["equalisation"], absolute_gain=13.15, solar_irradiance=1913.57, **common))
    dsp.write_image(store, np.zeros((2, 2), np.uint8), dsp.MaskAttrs(**common))
    assert store.index["radiance_B01_D06"] == {
        **common, "kind": "radiance", "unit": "W m-2 sr-1 um-1", "steps": ["equalisation"],
        "absolute_gain": 13.15, "solar_irradiance": 1913.57, "shape": [2, 2], "dtype": "<f4"}
    assert store.index["mask_B01_D06"]["bits"] == {"SATURATED": 1, "NO_DATA": 2, "DEFECTIVE": 4}
    array, attrs = dsp.read_radiance(store, "B01", 6)
    assert attrs.solar_irradiance == 1913.57 and array.shape == (2, 2)
    assert [a.name for a in dsp.radiance_images(store)] == ["radiance_B01_D06"]
    with pytest.raises(InputError, match="no image 'radiance_B02_D06'"):
        dsp.read_radiance(store, "B02", 6)
    store.index["radiance_B01_D06"].pop("steps")
    with pytest.raises(FormatError, match="not a RadianceAttrs image"):
        dsp.read_radiance(store, "B01", 6)
    with pytest.raises(InputError, match="no radiance image"):
        dsp.radiance_images(ImageStore(tmp_path / "empty"))
