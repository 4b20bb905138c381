"""INIT_LOC_L0 end to end through ``ipf``: footprints of a fresh small simulation."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from lxml import etree

from ipf.interface.exitcodes import ExitCode
from ipf.geometry.footprint import contains, signed_area
from ipf.geometry.geodesy import geodesy

IPF = [str(Path(sys.executable).with_name("ipf"))]


def _ipf(job):
    return subprocess.run([*IPF, str(job)], capture_output=True, text=True, timeout=120)


def test_l0_job_order_writes_footprints_containing_the_truth(small):
    folder, sim = small
    run = _ipf(folder / "joborders" / "JobOrder_L0.xml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "INIT_LOC_L0: end of task: OK" in run.stdout
    report = json.loads((folder / "reports" / "L0_FOOTPRINT_REPORT.json").read_text())
    truth = json.loads((folder / "truth" / "truth.json").read_text())
    e0, n0, e1, n1 = truth["footprint_utm"]
    ce, cn = (e0 + e1) / 2, (n0 + n1) / 2
    geo = geodesy(truth["utm_epsg"])
    lon, lat = geo.from_utm(ce, cn)
    assert report["utm_epsg"] == truth["utm_epsg"] and report["band"] == "B02"
    ring = np.array(report["footprint"]["coordinates"][0])
    assert np.all(ring[0] == ring[-1]) and signed_area(ring[:-1]) > 0
    assert contains(ring[:-1], float(lon), float(lat))
    assert contains(np.array(report["footprint_utm"])[:-1], ce, cn)
    cfg = sim.config
    granules = len(cfg.detectors) * (cfg.n_lines_10m // cfg.granule_lines_10m)
    assert len(report["granules"]) == granules and report["corners_outside_dem"] == 0
    assert report["inputs"]["ut1utc"].endswith(".HDR")
    # every granule footprint within ~100 m (attitude error) of the simulator's true corners
    for g in report["granules"]:
        grid = sim.grids["B02", g["detector"]]
        utm = np.array(g["footprint_utm"])[:-1]
        assert signed_area(utm) > 0
        area = abs(signed_area(utm))
        expected = (g["lines"] * 10.0) * (g["pixels"] * 10.0)
        assert 0.95 < area / expected < 1.05
        l0, l1 = g["first_line"] - 0.5, g["first_line"] + g["lines"] - 0.5
        p1 = g["pixels"] - 0.5
        for corner_line, corner_pix in ((l0, -0.5), (l0, p1), (l1, p1), (l1, -0.5)):
            e, n = grid.evaluate(corner_line, corner_pix, 0.0)
            d = np.hypot(utm[:, 0] - e, utm[:, 1] - n).min()
            assert d < 150, (g["granule"], d)
        glon, glat = np.array(g["footprint"]["coordinates"][0]).T
        ge, gn = geo.to_utm(glon, glat)
        assert np.hypot(ge - np.array(g["footprint_utm"])[:, 0], gn - np.array(g["footprint_utm"])[:, 1]).max() < 0.01


def test_missing_viewing_directions_is_a_processing_error(small, tmp_path):
    folder, _ = small
    tree = etree.parse(str(folder / "joborders" / "JobOrder_L0.xml"))
    procs = tree.findall(".//Ipf_Proc")
    for p in procs:
        if p.findtext("Task_Name").strip() != "INIT_LOC_L0":
            p.getparent().remove(p)
    tree.find(".//List_of_Ipf_Procs").set("count", "1")
    names = tree.find(".//Input[File_Type='GIP_VIEDIR']/List_of_File_Names")
    for f in names.findall("File_Name"):
        if f.text.strip().endswith("_B02.xml"):
            names.remove(f)
    names.set("count", str(len(names)))
    for f in tree.iter("File_Name"):
        f.text = str((folder / "joborders" / f.text.strip()).resolve())
    out = tree.find(".//Output/File_Name")
    out.text = str(tmp_path / "FOOTPRINT.json")
    job = tmp_path / "JobOrder.xml"
    tree.write(str(job), xml_declaration=True, encoding="UTF-8")
    run = _ipf(job)
    assert run.returncode == ExitCode.PROCESSING_ERROR, run.stdout + run.stderr
    assert "no GIP_VIEDIR viewing directions for B02" in run.stdout + run.stderr
    assert not (tmp_path / "FOOTPRINT.json").exists()
