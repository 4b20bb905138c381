"""The whole simulator run: deterministic files, the real L0 layout and metadata (valid against
PSD 14.8 when ../shared is present), decodable packets of the right size, radiometry matching the
truth, reported faults."""

import json

import numpy as np
import pytest
from lxml import etree

from ipf.formats import aux, geotiff, gipp, gipp_gs2, l0, l0_metadata
from ipf.formats.msi_bands import BY_NAME
from ipf.simulator import radiometry as rad
from ipf.simulator.imaging import bin_elements
from ipf.simulator.location import locate_on_dem_nb
from tests.helpers import SHARED

PSD = SHARED / "real" / "schemas" / "psd-14.8_s2tbx"


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _datastrip(root):
    return l0_metadata.read_datastrip_metadata(next(l0.find_datastrip(root / "L0").glob("*_MTD_L0__DS_*.xml")))


def _granules(root):
    """{granule id: (folder, Granule metadata)}."""
    out = {}
    for folder in l0.find_granules(root / "L0"):
        gr = l0_metadata.read_granule_metadata(next(folder.glob("*_MTD_L0__GR_*.xml")))
        out[gr.granule_id] = (folder, gr)
    return out


def _band_image(root, sim, folder, gr, band, lines_10m):
    """Decoded DN (lines, elements), valid lines and report of ``band`` in a granule, as FORMAT_ISP
    and DECOMP decode it (datastrip line clocks, block stream, block table)."""
    f = BY_NAME[band].resolution_m // 10
    first, lines = (gr.position - 1) // f, lines_10m // f
    blocks, report = l0.decode_granule_band(l0.band_file(folder, band).read_bytes(), _datastrip(root))
    stream = l0.BlockStream(first + lines, 0.0)
    for block in blocks:
        stream.add(block)
    table = stream.table
    table = table[table[:, 0] >= first]
    table[:, 0] -= first
    dn, valid, _ = l0.decode_blocks(stream.payload, table, lines, sim.instrument.n_elements(band))
    return dn, valid, report


def test_same_seed_gives_identical_files(small_run):
    a, b, c, _ = small_run
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys() and len(fa) > 40
    assert all(fa[k] == fb[k] for k in fa)
    assert {k.parts[0] for k in fa} == {"GIPP", "L0", "AUX", "truth", "joborders"}
    assert _files(c).keys() != fa.keys() or any(_files(c)[k] != fa[k] for k in fa)


def test_cli_refuses_a_non_empty_output_folder(small_run, capsys):
    from ipf.simulator.cli import main

    assert main(["--size", "small", "--out", str(small_run[0]), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_outputs_are_readable_and_consistent(small_run, small_sim):
    a, _, _, summary = small_run
    assert summary["sizes_bytes"]["L0"] > 10000 and set(summary["timings_s"]) >= {"setup", "l0"}
    ds_folder = l0.find_datastrip(a / "L0")
    ds = _datastrip(a)
    assert ds.datastrip_id == ds_folder.name and ds.spacecraft == "Sentinel-2A"
    assert sorted(b.band for b in ds.bands) == [0, 1, 4] and len(ds.granules) == 2
    assert ds.active_detectors == (6, 7) and ds.time_stamp.line_period_ms == 99 * 1000 / 65536
    assert np.all(np.abs(np.linalg.norm(ds.ancillary.ephemeris.position_m, axis=1) - 7164137.0) < 1.0)
    granules = _granules(a)
    assert {g.granule_id for g in ds.granules} == set(granules) == {f.name for f, _ in granules.values()}
    for folder, gr in granules.values():
        assert gr.datastrip_id == ds.datastrip_id and 0 <= gr.cloudy_percentage <= 100
        assert gr.position == 1 and gr.sensing_time >= ds.sensing_start
    assert {p.stem for p in (a / "GIPP").iterdir()} >= {g.file_name for g in ds.auxiliary.gipps}
    for t in set(gipp.GIPP_TYPES) - {"GIP_VIEDIR", "GIP_SPAMOD"}:
        assert gipp.find_gipp(a / "GIPP", t, "B00" if t not in ("GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT") else "B05")
    gs2 = [gipp_gs2.read_gs2(p) for p in sorted((a / "GIPP").glob("*_GIP_[BSV]*.xml"))]
    assert sorted(type(m).__name__ for m in gs2) == ["GIP_BLINDP", "GIP_SPAMOD"] + ["GIP_VIEDIR"] * 3
    viedir = {m.band: m for m in gs2 if isinstance(m, gipp_gs2.GIP_VIEDIR)}
    assert [d.n_pixels for d in viedir["B02"].detectors] == [192, 192] and viedir["B01"].detectors[0].n_pixels == 32
    assert viedir["B02"].tdi_config == "NO_TDI"
    spamod = next(m for m in gs2 if isinstance(m, gipp_gs2.GIP_SPAMOD))
    assert (spamod.piloting_to_msi.r1, spamod.piloting_to_msi.r2, spamod.piloting_to_msi.r3) == (-0.0292, -0.9626, -0.0224)
    eqog = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_R2EQOG", "B01"))
    assert eqog.relative_gain.shape == (2, 96)
    (srtm,) = (a / "AUX").glob("S2__OPER_DEM_SRTMFO_SIMU_*")
    (geoid,) = (a / "AUX").glob("S2__OPER_DEM_GEOIDF_SIMU_*.HDR")
    assert srtm.is_dir() and srtm.name == ds.auxiliary.dem and geoid.with_suffix(".gtx").is_file()
    dem, epsg, *_ = aux.read_geotiff(geotiff.dem_raster(srtm))
    (gri_file,) = (a / "AUX").glob("S2A_OPER_AUX_GRI[0-9][0-9][0-9]_SIMU_*_S*.TIF")
    gri, epsg2, *_ = aux.read_geotiff(gri_file)
    assert epsg == epsg2 == 32631 and dem.max() > 500 and gri.min() > 0 and geotiff.gri_band(gri_file) == "B04"
    assert f"_GRI{ds.orbit_number:03d}_" in gri_file.name
    assert not list((a / "AUX").glob("*RESORB*")) and not list((a / "AUX").glob("*SADATT*"))
    info = json.loads((a / "truth" / "truth.json").read_text())
    assert info["seed"] == 0 and info["faults"] == {} and info["format"] >= 5
    counters = {(c.detector, c.band): c.packets for c in ds.packet_counters}
    for folder, gr in granules.values():
        for c in gr.packet_counters:
            band = next(b for b, v in BY_NAME.items() if v.index == c.band)
            img, valid, report = _band_image(a, small_sim, folder, gr, band, small_sim.config.n_lines_10m)
            assert report.ok and valid.all() and report.n_packets == c.packets == counters[gr.detector, c.band]
            assert img.max() <= 4095 and img.min() > 0
            assert img.shape == (small_sim.config.lines(band), (96 if band == "B01" else 192 // (BY_NAME[band].resolution_m // 10)))


def test_metadata_valid_against_psd_14_8(small_run):
    if not PSD.is_dir():
        pytest.skip("../shared (PSD 14.8 schemas) not present")
    a = small_run[0]
    for name, files in (("S2_PDI_Level-0_Datastrip_Metadata.xsd", l0.find_datastrip(a / "L0").glob("*_MTD_*.xml")),
                        ("S2_PDI_Level-0_Granule_Metadata.xsd",
                         [p for g in l0.find_granules(a / "L0") for p in g.glob("*_MTD_*.xml")])):
        schema = etree.XMLSchema(etree.parse(str(PSD / name)))
        files = list(files)
        assert files
        for p in files:
            assert schema.validate(etree.parse(str(p))), (p.name, schema.error_log.last_error)


def test_band_time_stamps_date_the_packets(small_run):
    """Every packet's GPS time is its first line's time by the metadata's Band_Time_Stamp and
    LINE_PERIOD (within 1 ns)."""
    from ipf.formats import ccsds

    a = small_run[0]
    ds = _datastrip(a)
    period_ns = ds.time_stamp.line_period_ms * 1e6
    stamps = {(s.band, s.detector): s for s in ds.time_stamp.stamps}
    gps_epoch = np.datetime64("1980-01-06T00:00:00", "ns")
    for folder, gr in _granules(a).values():
        for path in sorted((folder / l0.IMG_DATA).glob("*.bin")):
            blocks, report = ccsds.decode_packets(path.read_bytes(), gps_utc_s=ccsds.GPS_UTC_S)
            assert report.ok
            for blk in blocks:
                s = stamps[blk.sec.band_index, blk.sec.detector]
                r = BY_NAME[next(b for b, v in BY_NAME.items() if v.index == blk.sec.band_index)].resolution_m // 10
                t = gps_epoch + np.timedelta64(blk.sec.coarse * 10**9 + round(blk.sec.fine * 1e9 / 65536), "ns")
                expected = s.gps_time + np.timedelta64(round((blk.sec.first_line + 1 - s.reference_line) * period_ns * r), "ns")
                assert abs(int((t - expected).astype(np.int64))) <= 1


def test_l0_radiometry_matches_truth_at_true_location(small_run, small_sim):
    """Calibrating L0 with the GIPPs and locating it with the true geometry reproduces the truth;
    a 60 m band binned like L1B too."""
    a = small_run[0]
    sim = small_sim
    eqs = {}
    for band, det in (("B02", 6), ("B01", 7)):
        folder, gr = next(v for v in _granules(a).values() if v[1].detector == det)
        dn = _band_image(a, sim, folder, gr, band, sim.config.n_lines_10m)[0]
        eq = eqs.setdefault(band, gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_R2EQOG", band)))
        abca = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_R2ABCA"))
        cal = next(b for b in abca.bands if b.band == band)
        row = eq.detectors.index(det)
        L = rad.invert_dn(dn, cal.absolute_gain, eq.relative_gain[row], eq.dark_signal[row])
        lines = np.arange(dn.shape[0], dtype=float)
        pix = np.arange(dn.shape[1], dtype=float)
        e, n, _ = locate_on_dem_nb(sim.grids[band, det], lines[:, None], pix[None, :], sim.scene.dem,
                                   sim.scene.dem_grid.x0, sim.scene.dem_grid.y0, sim.scene.dem_grid.step)
        rho = sim.scene.reflectance(BY_NAME[band].index, **sim.scene.fields(e, n))
        truth = rad.toa_radiance(rho, cal.solar_irradiance, sim.sun.cos_zenith(e, n), sim.sun.d_au)
        ok = (dn < 4095) & (dn > 0)
        ok[:, [p.pixel for p in sim.instrument.r2depi.pixels if p.band == band and p.detector == det]] = False
        if band == "B01":
            L, truth = (bin_elements(sim.context, band, np.where(ok, x, np.nan)) for x in (L, truth))
            ok = np.isfinite(L)
        assert np.corrcoef(L[ok], truth[ok])[0, 1] > 0.9, band
        assert abs(np.median(L[ok] / truth[ok]) - 1) < 0.05, band


def test_fault_injection_is_reported_by_the_decoder(small_run, small_sim):
    c = small_run[2]
    info = json.loads((c / "truth" / "truth.json").read_text())
    injected = sum(len(v["lost"]) + len(v["crc"]) + len(v["time_jump"]) for v in info["faults"].values())
    assert injected > 0
    ds = _datastrip(c)
    assert ds.degradation.lost == sum(len(v["lost"]) for v in info["faults"].values())
    assert ds.degradation.kept_degraded == sum(len(v["crc"]) for v in info["faults"].values())
    found = 0
    for gid, (folder, gr) in _granules(c).items():
        for band in small_sim.config.bands:
            _, valid, report = _band_image(c, small_sim, folder, gr, band, small_sim.config.n_lines_10m)
            log = info["faults"][f"{gid}/{band}"]
            assert len(report.crc_errors) == len(log["crc"])
            if log["crc"] or log["lost"]:
                assert not valid.all()
            found += len(report.crc_errors) + len(report.sequence_gaps) + len(report.time_jumps)
    assert found > 0
