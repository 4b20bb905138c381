"""L1B radiometry of a full tile's detectors, one core, through ``ipf JobOrder.xml``.

A synthetic L1A product with the size of the detectors that cover one 109.8 km MGRS tile (5
detectors × 13 bands, 11 520 lines at 10 m: 1.03 Gpix of counts) and GIPPs drawn by the
simulator's instrument model; RADIO_AB and RADIO_FINALIZE run in an ``ipf`` subprocess, whose
wall time and peak RSS are measured. The image content is a textured field with noise (the speed
of the corrections does not depend on the scene).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DETECTORS = (4, 5, 6, 7, 8)
LINES_10M = 11520


def _l1a(store_dir: Path, pixels_10m: int) -> float:
    from ipf.formats.msi_bands import BANDS
    from ipf.products.datastrip import write_datastrip
    from ipf.products.store import ImageStore, image_name

    rng = np.random.default_rng(5)
    store = ImageStore(store_dir)
    mpix = 0.0
    for det in DETECTORS:
        for b in BANDS:
            f = b.resolution_m // 10
            lines, pixels = LINES_10M // f, pixels_10m // f
            block_lines = min(lines, 384)
            y, x = np.mgrid[0:block_lines, 0:pixels]
            block = (1200 + 400 * np.sin(x / 7.0 + det) * np.cos(y / 11.0)
                     + rng.normal(0, 20, (block_lines, pixels))).astype(np.uint16)
            dn = np.tile(block, (lines // block_lines + 1, 1))[:lines]
            attrs = dict(band=b.name, detector=det, resolution=b.resolution_m, lines=lines,
                         pixels=pixels)
            store.write(image_name("dn", b.name, det), dn, kind="dn", unit="DN", **attrs)
            store.write(image_name("valid", b.name, det), np.ones(lines, bool), kind="line_valid",
                        **attrs)
            store.write(image_name("time", b.name, det), np.arange(lines) * 1.5e-3 * f,
                        kind="line_time", **attrs)
            mpix += lines * pixels / 1e6
    write_datastrip(store, _datastrip_info(pixels_10m))
    store.flush()
    return mpix


def _datastrip_info(pixels_10m: int):
    """The datastrip entry of the synthetic L1A (quantisation step 1 in every band)."""
    from datetime import datetime, timezone

    from ipf.formats import l0
    from ipf.formats.msi_bands import BANDS
    from ipf.products.datastrip import DatastripInfo

    t0 = datetime(2023, 3, 20, 10, 48, tzinfo=timezone.utc)
    bands = [l0.BandInfo(name=b.name, index=i, resolution=b.resolution_m,
                         line_period_ticks=b.resolution_m // 10, pixels=pixels_10m * 10 // b.resolution_m,
                         lines=LINES_10M * 10 // b.resolution_m, quantisation_step=1)
             for i, b in enumerate(BANDS)]
    ds = l0.Datastrip(identifier="BENCH_TILE", spacecraft="Sentinel-2A", sensing_start=t0,
                      sensing_stop=t0, reference_time=t0, ticks_per_second=1, algorithm="NONE",
                      block_lines=384, wavelet_levels=3, bands=bands,
                      start_ticks={d: {b.name: 0 for b in bands} for d in DETECTORS}, granules=[],
                      orbit_file="", attitude_file="")
    return DatastripInfo.from_l0(ds, [])


def run() -> dict:
    from ipf.interface import joborder as jo
    from ipf.formats import gipp
    from ipf.simulator.focal_plane import FocalPlane
    from ipf.simulator.instrument import draw_instrument

    with tempfile.TemporaryDirectory(dir=os.environ.get("IPF_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        fp = FocalPlane(2592, 98)
        inst = draw_instrument(np.random.default_rng(3), fp, DETECTORS)
        for model, band in inst.gipps():
            gipp.write_gipp(model, tmp / "GIPP", band=band)
        mpix = _l1a(tmp / "L1A", fp.n_pixels_10m)
        D, P = jo.FileNameType.DIRECTORY, jo.FileNameType.PHYSICAL
        gipps = [jo.JobInput(file_type=t, file_name_type=P, file_names=tuple(
            sorted(p for p in (tmp / "GIPP").glob(f"*_{t}_*.*") if p.suffix in (".xml", ".HDR")))) for t in (
            "GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "GIP_R2CRCO", "GIP_R2DEPI",
            "GIP_R2BINN", "GIP_SPAMOD")]
        job = jo.JobOrder(processor_name="S2IPF_L1B", version="01.00", processing_station="BENCH",
                          stdout_log_level="WARNING",
                          stderr_log_level="ERROR", procs=(
            jo.IpfProc(task_name="RADIO_AB", task_version="01.00.00",
                       inputs=(jo.JobInput(file_type="PDI_DS", file_name_type=D,
                                           file_names=(tmp / "L1A",)), *gipps),
                       outputs=(jo.JobOutput(file_type="PDI_DS", file_name_type=D,
                                             file_name=tmp / "L1B"),)),
            jo.IpfProc(task_name="RADIO_FINALIZE", task_version="01.00.00",
                       inputs=(jo.JobInput(file_type="PDI_DS", file_name_type=D,
                                           file_names=(tmp / "L1B",)),),
                       outputs=(jo.JobOutput(file_type="REPORT", file_name_type=P,
                                             file_name=tmp / "report.json"),))))
        order = jo.write(job, tmp / "JobOrder.xml")
        t0 = time.perf_counter()
        child = subprocess.Popen([str(Path(sys.executable).with_name("ipf")), str(order)])
        _, wait_status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t0
        status = os.waitstatus_to_exitcode(wait_status)
        child.returncode = status
        rss = usage.ru_maxrss  # this run's own peak, KiB
        if status != 0:
            raise RuntimeError(f"ipf exited with {status}")
    return {"l1b.tile": {
        "name": f"L1B radiometry, full tile's detectors ({mpix:.0f} Mpix)", "unit": "s",
        "value": round(seconds, 1), "mpix_per_s": round(mpix / seconds, 1),
        "peak_rss_mib": round(rss / 1024)}}
