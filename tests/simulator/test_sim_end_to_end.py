import json

import numpy as np

from ipf.formats import aux, gipp, l0
from ipf.formats.msi_bands import BY_NAME
from ipf.simulator import radiometry as rad
from ipf.simulator.location import locate_on_dem_nb


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


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


def test_outputs_are_readable_and_consistent(small_run):
    a, _, _, summary = small_run
    assert summary["sizes_bytes"]["L0"] > 10000 and set(summary["timings_s"]) >= {"setup", "l0"}
    ds_folder = l0.find_datastrip(a / "L0")
    ds = l0.read_datastrip(ds_folder)
    assert [b.name for b in ds.bands] == ["B02", "B05", "B01"] and len(ds.granules) == 2
    orbit = aux.read_orbit(a / "AUX" / ds.orbit_file)
    att = aux.read_attitude(a / "AUX" / ds.attitude_file)
    assert np.all(np.abs(np.linalg.norm(orbit.position, axis=1) - 7164137.0) < 1.0)
    assert np.allclose(np.linalg.norm(att.quaternions, axis=1), 1.0, atol=1e-12)
    assert orbit.times[0] <= np.datetime64(ds.sensing_start.replace(tzinfo=None)) <= orbit.times[-1]
    for t in gipp.GIPP_TYPES:
        assert gipp.find_gipp(a / "GIPP", t, "B00" if t not in ("GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "GIP_VIEDIR") else "B05")
    dem, epsg, *_ = aux.read_geotiff(next((a / "AUX").glob("*DEM*.tif")))
    gri, epsg2, *_ = aux.read_geotiff(next((a / "AUX").glob("*GRI*.tif")))
    assert epsg == epsg2 == 32631 and dem.max() > 500 and gri.min() > 0
    info = json.loads((a / "truth" / "truth.json").read_text())
    assert info["seed"] == 0 and info["faults"] == {}
    for g in ds.granules:
        gr = l0.read_granule(a / "L0" / l0.GRANULE_DIR / g.identifier)
        for bf in gr.band_files:
            img, valid, report = l0.decode_band_file(a / "L0" / l0.GRANULE_DIR / g.identifier / bf.file, bf.first_line, bf.lines, bf.pixels)
            assert report.ok and valid.all() and report.n_packets == bf.packets
            assert img.max() <= 4095 and img.min() > 0


def test_l0_radiometry_matches_truth_at_true_location(small_run, small_sim):
    """Calibrating L0 with the GIPPs and locating it with the true geometry reproduces the truth."""
    a = small_run[0]
    sim = small_sim
    ds = l0.read_datastrip(l0.find_datastrip(a / "L0"))
    band, det = "B02", 6
    rows = []
    for g in sorted((g for g in ds.granules if g.detector == det), key=lambda g: g.index):
        gr = l0.read_granule(a / "L0" / l0.GRANULE_DIR / g.identifier)
        bf = next(b for b in gr.band_files if b.band == band)
        rows.append(l0.decode_band_file(a / "L0" / l0.GRANULE_DIR / g.identifier / bf.file, bf.first_line, bf.lines, bf.pixels)[0])
    dn = np.vstack(rows)
    eq = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_R2EQOG", band))
    abca = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_R2ABCA"))
    cal = next(b for b in abca.bands if b.band == band)
    L = rad.invert_dn(dn, cal.absolute_gain, eq.relative_gain[0], eq.dark_signal[0])
    lines = np.arange(dn.shape[0], dtype=float)
    pix = np.arange(dn.shape[1], dtype=float)
    e, n, _ = locate_on_dem_nb(sim.grids[band, det], lines[:, None], pix[None, :], sim.scene.dem,
                               sim.scene.dem_grid.x0, sim.scene.dem_grid.y0, sim.scene.dem_grid.step)
    rho = sim.scene.reflectance(BY_NAME[band].index, **sim.scene.fields(e, n))
    truth = rad.toa_radiance(rho, cal.solar_irradiance, sim.sun.cos_zenith(e, n), sim.sun.d_au)
    ok = (dn < 4095) & (dn > 0)
    ok[:, [p.pixel for p in sim.instrument.r2depi.pixels if p.band == band and p.detector == det]] = False
    corr = np.corrcoef(L[ok], truth[ok])[0, 1]
    assert corr > 0.9
    assert abs(np.median(L[ok] / truth[ok]) - 1) < 0.05


def test_fault_injection_is_reported_by_the_decoder(small_run):
    c = small_run[2]
    info = json.loads((c / "truth" / "truth.json").read_text())
    injected = sum(len(v["lost"]) + len(v["crc"]) + len(v["time_jump"]) for v in info["faults"].values())
    assert injected > 0
    found = 0
    for gfolder in l0.find_granules(c / "L0"):
        gr = l0.read_granule(gfolder)
        for bf in gr.band_files:
            img, valid, report = l0.decode_band_file(gfolder / bf.file, bf.first_line, bf.lines, bf.pixels)
            log = info["faults"][f"{gfolder.name}/{bf.band}"]
            assert len(report.crc_errors) == len(log["crc"])
            if log["crc"] or log["lost"]:
                assert not valid.all()
            found += len(report.crc_errors) + len(report.sequence_gaps) + len(report.time_jumps)
    assert found > 0
