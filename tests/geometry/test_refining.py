"""Geometric refining (TP_COLLECT, TP_FILTER, SPATIO, GEO1B_FINALIZE) on a small scene with B04
(the GRI band), against the simulator's attitude error; the matching and filtering functions on
synthetic data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ipf.interface import joborder as jo
from ipf.interface.exitcodes import ExitCode
from ipf.products.datastrip import read_geometry
from ipf.products.store import ImageStore, image_name
from ipf.geometry import refining as rf

IPF = Path(sys.executable).with_name("ipf")
SEED = 5


def _run(job: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(IPF), str(job)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 'small' simulation with B02 and B04, processed L0 -> L1B (refined) through its Job Orders."""
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run

    sim = tmp_path_factory.mktemp("refining") / "sim"
    run(replace(SIZES["small"], bands=("B02", "B04")), SEED, sim)
    runs = {level: _run(sim / "joborders" / f"JobOrder_{level}.xml") for level in ("L0", "L1A", "L1B")}
    for level, r in runs.items():
        assert r.returncode == 0, (level, r.stdout[-3000:], r.stderr[-3000:])
    return sim, runs["L1B"]


def _product(sim: Path, kind: str) -> Path:
    return next((sim / "products").glob(f"*_MSI_{kind}_*"))


def _given_model(sim: Path, store):
    from ipf.products.datastrip import sensor_model
    from ipf.validation.accuracy import geometry_files

    return sensor_model(store, *geometry_files(sim), refined=False)


def test_refining_recovers_the_attitude_error(scene):
    from ipf.validation.accuracy import refining

    sim, run = scene
    assert "IMAGE_BAND_ID" not in run.stdout
    final = ImageStore(_product(sim, "L1B_DS"))
    geometry = read_geometry(final)
    assert geometry.refined is True and geometry.image_band == "B04"
    assert geometry.tie_points >= 50
    res = geometry.residuals
    assert res["after"]["rms_px"] < 0.1 < 1 < res["before"]["rms_px"]
    r = refining(sim, final.root)
    print(json.dumps(r, indent=1))
    given, refined = r["ground_error"]["given"], r["ground_error"]["refined"]
    assert given["mean_m"] > 10
    assert refined["mean_px"] < 0.1 and refined["p95_px"] < 0.2, refined
    # roll and pitch biases are what the ground sees most (0.8 m per µrad)
    assert np.all(np.abs(r["bias_error_urad"][:2]) < 1.0), r["bias_error_urad"]


def test_final_product_links_the_radiometric_images(scene):
    sim, _ = scene
    radio, final = ImageStore(_product(sim, "L1BRDS")), ImageStore(_product(sim, "L1B_DS"))
    assert set(final.index) == set(radio.index) | {"__geometry__"}
    for name in radio.names(kind="radiance"):
        assert final.index[name] == radio.index[name]
        assert (final.root / f"{name}.npy").stat().st_ino == (radio.root / f"{name}.npy").stat().st_ino
    assert np.array_equal(final.read(image_name("mask", "B04", 6)), radio.read(image_name("mask", "B04", 6)))


def test_l1b_sensor_model_applies_the_refined_attitude(scene):
    from ipf.products.datastrip import sensor_model
    from ipf.validation.accuracy import geometry_files

    sim, _ = scene
    store = ImageStore(_product(sim, "L1B_DS"))
    files = geometry_files(sim)
    given, refined = sensor_model(store, *files, refined=False), sensor_model(store.root, *files)
    c = read_geometry(store).attitude_correction
    t = given.line_time("B04", 6, np.array([0.0, 100.0, 287.0]))
    expected = given.attitude.matrix(t) @ rf.small_rotation(
        np.asarray(c.bias_rad) + np.asarray(c.drift_rad_s) * t[:, None])
    assert np.allclose(refined.attitude.matrix(t), expected, atol=1e-11, rtol=0)
    assert not np.allclose(given.attitude.matrix(t), expected, atol=1e-6, rtol=0)
    radio = ImageStore(_product(sim, "L1BRDS"))
    assert np.array_equal(sensor_model(radio, *files).attitude.quaternions, given.attitude.quaternions)


def test_filter_drops_planted_outliers(scene):
    from ipf.geometry.geodesy import geodesy
    from ipf.products.refining import TiePointsFile

    sim, _ = scene
    f = TiePointsFile.model_validate_json(_product(sim, "TPCOL").read_text())
    tp = f.tie_points()
    clean = rf.filter_tie_points(tp)
    planted = np.zeros(len(tp), bool)
    planted[::7] = True
    bad = rf.TiePoints(**{**{k: getattr(tp, k) for k in ("band", "detector", "line", "pixel", "h", "score")},
                          "e": tp.e + np.where(planted, 25.0, 0.0), "n": tp.n - np.where(planted, 12.0, 0.0),
                          "dline": tp.dline + np.where(planted, 1.2, 0.0),
                          "dpixel": tp.dpixel + np.where(planted, 2.5, 0.0)})
    keep = rf.filter_tie_points(bad)
    assert not (keep & planted).any()
    assert (keep[~planted] == clean[~planted]).mean() > 0.9
    model, geo = _given_model(sim, ImageStore(_product(sim, "L1BRDS"))), geodesy(f.epsg)
    a = rf.estimate_attitude_correction(model, geo, tp.select(clean))
    b = rf.estimate_attitude_correction(model, geo, bad.select(keep))
    assert np.allclose(a.bias[:2], b.bias[:2], atol=0.5e-6, rtol=0), (a.bias, b.bias)
    everything = rf.estimate_attitude_correction(model, geo, bad.select(bad.score >= 0.7))
    assert everything.after["rms_px"] > 3 * b.after["rms_px"]


def test_too_few_tie_points_keep_the_given_attitude(scene, tmp_path):
    """A fully clouded (saturated) image band: no tie point, a warning, an unrefined final L1B."""
    sim, _ = scene
    radio = tmp_path / "cloudy_L1BRDS"
    shutil.copytree(_product(sim, "L1BRDS"), radio)
    store = ImageStore(radio)
    for name in store.names(kind="mask", band="B04"):
        mask = np.asarray(store.read(name, mmap=False))
        attrs = {k: v for k, v in store.attrs(name).items() if k not in ("shape", "dtype")}
        store.write(name, mask | 1, **attrs)
    store.flush()
    job = jo.read(sim / "joborders" / "JobOrder_L1B.xml")
    moved = {_product(sim, "L1BRDS").resolve(): radio}
    procs = []
    for p in job.procs[2:]:
        outputs = []
        for o in p.outputs:
            moved[o.file_name.resolve()] = tmp_path / o.file_name.name
            outputs.append(o.model_copy(update={"file_name": moved[o.file_name.resolve()]}))
        inputs = [i.model_copy(update={"file_names": tuple(moved.get(f.resolve(), f) for f in i.file_names)})
                  for i in p.inputs]
        procs.append(p.model_copy(update={"inputs": tuple(inputs), "outputs": tuple(outputs)}))
    assert [p.task_name for p in procs] == ["TP_COLLECT", "TP_FILTER", "SPATIO", "GEO1B_FINALIZE"]
    path = jo.write(job.model_copy(update={"procs": tuple(procs)}), tmp_path / "JobOrder_geo.xml")
    r = _run(path)
    assert r.returncode == ExitCode.PROCESSING_WARNING, (r.stdout[-3000:], r.stderr[-3000:])
    assert "the given attitude is kept" in r.stderr
    final = ImageStore(tmp_path / _product(sim, "L1B_DS").name)
    geometry = read_geometry(final)
    assert geometry.refined is False and geometry.tie_points == 0
    assert final.names(kind="radiance") == store.names(kind="radiance")


def test_estimation_needs_enough_points():
    tp = rf.TiePoints.empty()
    with pytest.raises(ValueError, match="tie points"):
        rf.estimate_attitude_correction(None, None, tp)


# --------------------------------------------------------------------------- synthetic
def _texture(rng, shape, sigma=2.0):
    f = np.fft.fft2(rng.normal(size=shape))
    ky, kx = np.meshgrid(np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1]), indexing="ij")
    return np.real(np.fft.ifft2(f * np.exp(-2 * (np.pi * sigma) ** 2 * (kx**2 + ky**2))))


def _fourier_shift(img, dl, dp):
    ky, kx = np.meshgrid(np.fft.fftfreq(img.shape[0]), np.fft.fftfreq(img.shape[1]), indexing="ij")
    return np.real(np.fft.ifft2(np.fft.fft2(img) * np.exp(-2j * np.pi * (ky * dl + kx * dp))))


def test_ncc_surface_equals_direct_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 9, 9))
    b = rng.normal(size=(3, 15, 15))
    c = rf.ncc_surface(a, b)
    for k in range(3):
        for i in range(7):
            for j in range(7):
                ref = np.corrcoef(a[k].ravel(), b[k, i:i + 9, j:j + 9].ravel())[0, 1]
                assert abs(c[k, i, j] - ref) < 1e-10


def test_correlation_measures_a_subpixel_offset_with_gain():
    rng = np.random.default_rng(1)
    img = _texture(rng, (128, 128))
    shift = (2.3, -1.6)
    moved = 100 + 7.0 * _fourier_shift(img, *shift)
    a = img[None, 40:73, 40:73]
    b = moved[None, 40 - 5:73 + 5, 40 - 5:73 + 5]
    di, dj, score, inside = rf.subpixel_peak(rf.ncc_surface(a, b))
    assert inside[0] and score[0] > 0.95
    # a[x] = moved[x + shift]: the image content sits ``shift`` further in b
    assert abs(di[0] - shift[0]) < 0.15 and abs(dj[0] - shift[1]) < 0.15, (di, dj)


def test_filter_keeps_an_affine_field_and_drops_outliers():
    rng = np.random.default_rng(2)
    n = 300
    line, pixel = rng.uniform(0, 1500, n), rng.uniform(0, 2500, n)
    dl = 4.0 + 1e-4 * line - 2e-4 * pixel + rng.normal(0, 0.03, n)
    dp = -2.0 + 3e-4 * pixel + rng.normal(0, 0.03, n)
    score = np.full(n, 0.95)
    outliers = np.zeros(n, bool)
    outliers[rng.choice(n, 20, replace=False)] = True
    dl = dl + np.where(outliers, rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 3, n), 0)
    low = ~outliers & (np.arange(n) % 25 == 0)
    score[low] = 0.4
    z = np.zeros(n)
    tp = rf.TiePoints(np.full(n, "B04"), np.full(n, 6), line, pixel, z, z, z, score, dl, dp)
    keep = rf.filter_tie_points(tp, min_score=0.7, k=3.0)
    assert not (keep & outliers).any() and not (keep & low).any()
    assert keep[~outliers & ~low].mean() > 0.97


def test_corrected_attitude_is_the_given_one_times_the_correction():
    from ipf.geometry.attitude import Attitude
    from ipf.geometry.rotation import matrix_to_quat

    t = np.arange(-8, 9) * 0.125  # AUX_SADATT sampling; x rotates at about the orbital rate
    att = Attitude(t, matrix_to_quat(rf.small_rotation(np.stack([1.1e-3 * t, 1e-4 * t**2, 0.3 + 0 * t], -1))))
    bias, drift = np.array([3e-5, -4e-5, 1e-4]), np.array([1e-6, -2e-6, 5e-7])
    c = rf.corrected_attitude(att, bias, drift)
    tq = np.linspace(-0.9, 0.9, 37)
    expected = att.matrix(tq) @ rf.small_rotation(bias + drift * tq[:, None])
    assert np.abs(c.matrix(tq) - expected).max() < 1e-11
