"""The L0 -> L0c -> L1A -> L1B chain through ``ipf JobOrder.xml`` on the small simulated scene:
products, decoding exactness, radiometric accuracy against the truth, faulty L0."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ipf.interface.exitcodes import ExitCode
from ipf.formats import ccsds, l0, msi_compression
from ipf.formats.l0_metadata import read_granule_metadata
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.products.datastrip import read_datastrip
from ipf.products.store import ImageStore, image_name
from ipf.radiometry import masks
from tests.processors.proc_fixtures import task_context


@pytest.fixture(scope="module")
def clean(l1b_scene):
    return l1b_scene.sim, l1b_scene.runs


@pytest.fixture(scope="module")
def faulty(faulty_scene):
    return faulty_scene.sim, faulty_scene.runs


def _product(sim: Path, level: str) -> ImageStore:
    return ImageStore(next((sim / "products").glob(f"*_MSI_{level}_DS_*")))


def test_chain_runs_from_job_orders(clean):
    sim, runs = clean
    for level, run in runs.items():
        assert run.returncode == 0, (level, run.stdout, run.stderr)
        assert "end of processing: OK (0)" in run.stdout
    l1b = _product(sim, "L1B")
    assert l1b.names(kind="radiance") == [f"radiance_{b}_D{d:02d}" for b in ("B01", "B02", "B05")
                                          for d in (6, 7)]
    report = json.loads((sim / "reports" / "L1B_RADIOMETRY_REPORT.json").read_text())
    assert report["bands"]["B02"]["absolute_gain"] > 0
    assert "deconvolution" in report["bands"]["B02"]["steps"]
    assert "denoising" in report["bands"]["B01"]["steps"]


def test_l1a_decoding_equals_reference_decoder(clean):
    """DECOMP (numba) gives the same counts as a decoding by the NumPy reference kernels."""
    sim, _ = clean
    l1a = _product(sim, "L1A")
    granule = sorted((sim / "L0" / "GRANULE").glob("*_GR_*_D06_*"))[0]
    blocks, report = ccsds.decode_packets(l0.band_file(granule, "B02").read_bytes(), gps_utc_s=ccsds.GPS_UTC_S)
    assert report.ok and blocks
    dn = l1a.read(image_name("dn", "B02", 6))
    for blk in blocks:
        header = msi_compression.HEADER.unpack_from(blk.data)
        rows, cols, levels, qstep, n = header[2], header[3], header[4], header[6], header[7]
        payload = blk.data[msi_compression.HEADER.size:msi_compression.HEADER.size + n]
        u = msi_compression.rice_decode_ref(payload, rows * cols)
        c = msi_compression.dequantise(msi_compression.unscan(msi_compression.unzigzag(u),
                                                              (rows, cols), levels), levels, qstep)
        ref = np.clip(msi_compression.dwt53_inverse_ref(c, levels), 0, 4095)
        r0 = blk.sec.first_line
        assert np.array_equal(dn[r0:r0 + rows], ref.astype(np.uint16))


def test_l1b_accuracy_against_truth(clean):
    from ipf.validation.accuracy import l1b

    sim, _ = clean
    figures = l1b(sim, _product(sim, "L1B").root)
    print(json.dumps(figures, indent=1))
    for band in ("B02", "B05"):
        f = figures[band]
        assert abs(f["bias_pct"]) < 0.3, (band, f)
        # the deconvolution (B02) amplifies the noise by its filter's gain; the rest of the error
        # is the on-board compression's quantisation
        assert f["rmse_pct"] < 1.25 * f["noise_deconvolved_pct"], (band, f)
        assert f["striping_pct"] < 2 * f["striping_noise_pct"] + 0.05, (band, f)
    assert figures["B02"]["noise_deconvolved_pct"] > figures["B02"]["noise_pct"]
    assert figures["B02"]["defective_rmse_pct"] < 10 * figures["B02"]["noise_pct"]


def test_faulty_l0_gives_flagged_lines_not_a_crash(faulty):
    sim, runs = faulty
    assert runs["L0"].returncode == ExitCode.PROCESSING_WARNING, runs["L0"].stdout
    assert "lines flagged invalid" in runs["L0"].stderr
    assert runs["L1A"].returncode in (0, ExitCode.PROCESSING_WARNING), runs["L1A"].stderr
    assert runs["L1B"].returncode == 0, runs["L1B"].stderr
    summary = json.loads((sim / "reports" / "L0C_DS_REPORT.json").read_text())
    assert summary["invalid_lines"] > 0 and summary["crc_errors"] + summary["sequence_gaps"] > 0
    l1a, l1b = _product(sim, "L1A"), _product(sim, "L1B")
    flagged = 0
    for name in l1b.names(kind="mask"):
        a = l1b.attrs(name)
        mask = np.asarray(l1b.read(name))
        no_data_lines = ((mask & masks.NO_DATA) > 0).all(axis=1)
        lost = ~np.asarray(l1a.read(image_name("valid", a["band"], a["detector"])), bool)
        # exactly the lines lost in L0 are flagged, whole, in L1B
        assert np.array_equal(no_data_lines, lost), name
        assert not ((mask & masks.NO_DATA) > 0)[~lost].any(), name
        flagged += int(lost.sum())
    assert flagged > 0


def test_time_jumps_are_redated_from_the_datastrip(faulty):
    """Blocks whose packet time jumped keep their lines, dated by the datastrip's line clock."""
    sim, runs = faulty
    summary = json.loads((sim / "reports" / "L0C_DS_REPORT.json").read_text())
    assert summary["time_jumps"] > 0 and summary["time_jumps_redated"] == summary["time_jumps"]
    assert "re-dated from the datastrip line clock" in runs["L0"].stderr
    l0c = _product(sim, "L0C")
    info = read_datastrip(l0c)
    clocks = l0.line_clocks(info.metadata)
    for band in info.bands:
        for det in sorted({g.detector for g in info.granules}):
            t = np.asarray(l0c.read(image_name("time", band.band, det)))
            valid = np.asarray(l0c.read(image_name("valid", band.band, det)), bool)
            clock = clocks[ccsds.apid_for(det, BY_NAME[band.band].index)]
            expected = clock.t0 + clock.period * np.arange(len(t))
            assert np.abs(t[valid] - expected[valid]).max() < 1e-6, (band.band, det)
            assert np.isnan(t[~valid]).all()


def _granule_report(sim: Path) -> dict:
    return json.loads((sim / "reports" / "L0C_GR_REPORT.json").read_text())


def test_granule_metadata_of_a_clean_l0(clean):
    sim, _ = clean
    report = _granule_report(sim)
    footprints = {g["granule"]: g for g in
                  json.loads((sim / "reports" / "L0_FOOTPRINT_REPORT.json").read_text())["granules"]}
    folders = l0.find_granules(sim / "L0")
    assert len(report["granules"]) == len(folders) and report["footprint_source"]
    by_id = {g["granule"]: g for g in report["granules"]}
    granules = [read_granule_metadata(l0.granule_metadata_file(f)) for f in folders]
    lines_10m = read_datastrip(_product(sim, "L0C")).band("B02").lines
    for gr in granules:
        g = by_id[gr.granule_id]
        index = sorted(h.position for h in granules if h.detector == gr.detector).index(gr.position)
        assert (g["detector"], g["index"], g["status"]) == (gr.detector, index, "NOMINAL")
        start = datetime.fromisoformat(g["sensing_start"])
        assert abs(start - gr.sensing_time) <= timedelta(microseconds=1)  # first line of the earliest band
        assert start < datetime.fromisoformat(g["sensing_stop"])
        following = [h.position for h in granules if h.detector == gr.detector and h.position > gr.position]
        n_10m = (min(following) if following else lines_10m + 1) - gr.position
        for c in gr.packet_counters:
            band = BANDS[c.band]
            r = band.resolution_m // 10
            b = g["bands"][band.name]
            assert (b["first_line"], b["lines"], b["invalid_lines"]) == ((gr.position - 1) // r, n_10m // r, 0)
            assert b["n_packets"] == c.packets
        assert g["footprint"] == footprints[gr.granule_id]["footprint"]
    assert [(g["detector"], g["index"]) for g in report["granules"]] == sorted(
        (g["detector"], g["index"]) for g in report["granules"])


def test_granule_metadata_of_a_faulty_l0(faulty):
    sim, _ = faulty
    report = _granule_report(sim)
    l0c = _product(sim, "L0C")
    summary = json.loads((sim / "reports" / "L0C_DS_REPORT.json").read_text())
    for key in ("crc_errors", "lost_packets", "time_jumps", "invalid_lines"):
        assert sum(g[key] for g in report["granules"]) == summary[key], key
    assert {g["status"] for g in report["granules"]} <= {"NOMINAL", "DEGRADED"}
    assert any(g["status"] == "DEGRADED" for g in report["granules"])
    for g in report["granules"]:
        invalid = 0
        for band, b in g["bands"].items():
            valid = np.asarray(l0c.read(image_name("valid", band, g["detector"])), bool)
            assert b["invalid_lines"] == int((~valid[b["first_line"]:b["first_line"] + b["lines"]]).sum())
            invalid += b["invalid_lines"]
        assert (g["status"] == "DEGRADED") == bool(invalid or g["crc_errors"] or g["sequence_gaps"]
                                                   or g["time_jumps"] or g["incomplete_groups"])


def test_granule_not_given_to_format_isp_is_reported_missing(clean, tmp_path):
    """Without the footprint REPORT, and with a granule FORMAT_ISP did not receive."""
    import shutil

    from ipf.processors.l0.tasks import format_metadata_gr_l0c

    sim, _ = clean
    store = tmp_path / "L0C"
    shutil.copytree(_product(sim, "L0C").root, store)
    index = json.loads((store / "index.json").read_text())
    gone = index["__datastrip__"]["quality"][0]["granule"]
    index["__datastrip__"]["quality"] = [q for q in index["__datastrip__"]["quality"]
                                         if q["granule"] != gone]
    (store / "index.json").write_text(json.dumps(index))
    ctx = task_context("FORMAT_METADATA_GR_L0C", {"PDI_DS": store}, {"REPORT": tmp_path / "GR.json"})
    format_metadata_gr_l0c(ctx)
    report = json.loads((tmp_path / "GR.json").read_text())
    status = {g["granule"]: g["status"] for g in report["granules"]}
    assert status.pop(gone) == "MISSING" and set(status.values()) == {"NOMINAL"}
    assert len(ctx.warnings) == 1 and gone in ctx.warnings[0]
    assert report["footprint_source"] is None
    assert not any("footprint" in g for g in report["granules"])


def test_quick_look_cloud_cover_matches_truth(clean):
    """Per detector, against the granules' CLOUDY_PIXEL_PERCENTAGE (the simulator writes the truth
    cloud fraction of the granule's ground area there)."""
    sim, _ = clean
    report = json.loads((sim / "reports" / "L0_QL_CLOUD_REPORT.json").read_text())
    truth: dict[int, list[float]] = {}
    for folder in l0.find_granules(sim / "L0"):
        gr = read_granule_metadata(l0.granule_metadata_file(folder))
        truth.setdefault(gr.detector, []).append(gr.cloudy_percentage / 100)
    assert set(truth) == {int(d) for d in report["detectors"]}
    for det, fractions in truth.items():
        cover = report["detectors"][str(det)]["cloud_cover"]
        assert abs(cover - np.mean(fractions)) < 0.05, (det, cover, fractions)
    footprints = json.loads((sim / "reports" / "L0_FOOTPRINT_REPORT.json").read_text())
    from ipf.geometry.footprint import contains

    e0, n0, e1, n1 = json.loads((sim / "truth" / "truth.json").read_text())["footprint_utm"]
    assert contains(np.asarray(footprints["footprint_utm"], float)[:, :2], (e0 + e1) / 2, (n0 + n1) / 2)
