"""The L1B -> L1C tile chain through ``ipf JobOrder.xml`` on the small simulated scene: the tile
product, its conventions, accuracy against the truth, determinism and a wrong TILE_ID."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ipf.geometry.tiles import TILE_SIZE_M
from ipf.products.store import ImageStore
from ipf.products.tile import read_l1c_tile
from ipf.radiometry import masks
from tests.helpers import run_job

_ipf = run_job


@pytest.fixture(scope="module")
def chain(l1c_scene):
    return l1c_scene.sim, l1c_scene.job, l1c_scene.run


def _tile(sim: Path) -> ImageStore:
    return ImageStore(next((sim / "products").glob("*_MSI_L1C_TL_*")))


def test_l1c_tile_product(chain):
    sim, job, run = chain
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    tile = _tile(sim)
    meta = read_l1c_tile(tile).entry()
    assert job.stem.endswith("_T" + meta["name"])
    assert meta["quantification_value"] == 10000 and meta["radio_add_offset"] == -1000
    assert abs(meta["reflectance_conversion_u"] - 1 / meta["sun_earth_distance_au"] ** 2) < 1e-12
    assert sorted(tile.attrs(n)["band"] for n in tile.names(kind="toa")) == ["B01", "B02", "B05"]
    for name in tile.names(kind="toa"):
        a = tile.attrs(name)
        band, res = a["band"], a["resolution"]
        assert a["tile_shape"] == [TILE_SIZE_M // res] * 2
        dn = np.asarray(tile.read(name))
        q = np.asarray(tile.read(f"quality_{band}"))
        det = np.asarray(tile.read(f"detfoo_{band}"))
        assert dn.shape == q.shape == det.shape
        assert set(np.unique(det).tolist()) == {0, 6, 7}
        # no data exactly where no detector sees the pixel or the L1B had no data
        assert np.array_equal(dn == 0, (q & masks.NO_DATA) > 0)
        assert ((q & masks.NO_DATA) > 0)[det == 0].all()
        good = (det > 0) & (q == 0)
        rho = (dn[good].astype(float) - 1000) / 10000
        assert 0.0 < np.median(rho) < 0.5
    report = json.loads((sim / "reports" / f"L1C_T{meta['name']}_REPORT.json").read_text())
    assert report["name"] == meta["name"] and 0 < report["coverage"] < 1
    assert 0 <= report["cloud_cover"] <= 1
    sun = tile.read("sun_zenith")
    assert sun.shape == (23, 23) and np.isfinite(sun).all()
    view = [tile.attrs(n) for n in tile.names(kind="viewing_angle", angle="zenith")]
    assert {(a["band"], a["detector"]) for a in view} <= {(b, d) for b in ("B01", "B02", "B05") for d in (6, 7)}


def test_l1c_accuracy_against_truth(chain):
    from ipf.validation import accuracy_l1c

    sim, _, run = chain
    assert run.returncode == 0
    figures = accuracy_l1c.l1c(sim, _tile(sim).root, patch_m=480)
    accuracy_l1c.print_table(figures, "L1C accuracy, small scene")
    for band, f in figures.items():
        assert abs(f["bias_pct"]) < 1.0, (band, f)
        if f["patches"] >= 5:  # the 60 m band of the small scene has too few
            assert np.hypot(*f["shift_mean_px"]) < 0.3, (band, f)
    assert figures["B02"]["patches"] >= 5 and figures["B05"]["patches"] >= 5


def test_l1c_is_deterministic(chain, l1c_again):
    """The L1C Job Order run again on a copy of the scene after L1B gives the same bytes."""
    sim, job, run = chain
    assert run.returncode == 0
    first = _tile(sim).root
    again = l1c_again.run
    assert again.returncode == 0, again.stdout[-2000:]
    second = _tile(l1c_again.sim).root
    for f in sorted(first.iterdir()):
        assert f.read_bytes() == (second / f.name).read_bytes(), f.name
    (report,) = (sim / "reports").glob("L1C_T*_REPORT.json")
    assert (l1c_again.sim / "reports" / report.name).read_text() == report.read_text()


def test_unreached_tile_is_a_clear_error(l1b_scene, tmp_path):
    """On a copy of the scene after L1B (no L1C product yet)."""
    from ipf.interface import joborder as jo

    sim = tmp_path / "sim"
    shutil.copytree(l1b_scene.after_l1b, sim)
    (job,) = sorted((sim / "joborders").glob("JobOrder_L1C_T*.xml"))
    order = jo.read(job)
    moved = order.model_copy(update={"dynamic_parameters": {"TILE_ID": "T32TQM"}})
    assert not list((sim / "products").glob("*MSI*L1C*")) and not list((sim / "reports").glob("L1C_T*"))
    path = jo.write(moved, tmp_path / job.name)
    bad = _ipf(path)
    assert bad.returncode != 0
    assert "TILE_ID 32TQM" in bad.stdout + bad.stderr
    assert not list((sim / "products").glob("*MSI*L1C*"))  # nothing half-made left
    assert not list((sim / "reports").glob("L1C_T*"))
