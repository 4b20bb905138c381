"""L1B radiometry of a full tile's detectors, one core, through ``ipf JobOrder.xml``.

A synthetic L1A product with the size of the detectors that cover one 109.8 km MGRS tile (5
whole detectors of the real focal plane × 13 bands, 11 520 lines at 10 m, the 60 m bands in 20 m
elements: 0.85 Gpix of counts), the GIPPs drawn by the simulator's instrument model and the L0
datastrip metadata of the simulator's ``tile`` size (:func:`bench.l1c_tile._geometry`); RADIO_AB
and RADIO_FINALIZE run in an ``ipf`` subprocess, whose wall time and peak RSS are measured. The
image content is a textured field with noise (the speed of the corrections does not depend on
the scene).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _l1a(store_dir: Path, cfg, inst, ds, metadata: Path) -> float:
    """Write the L1A store (counts of every band and detector, all lines valid, line times, the
    datastrip entry with quantisation step 1 and its ``metadata``); returns its Mpix."""
    from bench.l1c_tile import write_datastrip_entry
    from ipf.formats.msi_bands import BY_NAME
    from ipf.products.store import ImageStore, image_name

    rng = np.random.default_rng(5)
    store = ImageStore(store_dir)
    mpix = 0.0
    bands = sorted(cfg.bands, key=lambda b: BY_NAME[b].index)
    for det in cfg.detectors:
        for b in bands:
            f = BY_NAME[b].resolution_m // 10
            lines, pixels = cfg.lines(b), inst.n_elements(b)
            block_lines = min(lines, 384)
            y, x = np.mgrid[0:block_lines, 0:pixels]
            block = (1200 + 400 * np.sin(x / 7.0 + det) * np.cos(y / 11.0)
                     + rng.normal(0, 20, (block_lines, pixels))).astype(np.uint16)
            dn = np.tile(block, (lines // block_lines + 1, 1))[:lines]
            attrs = dict(band=b, detector=det, resolution=BY_NAME[b].resolution_m, lines=lines, pixels=pixels)
            store.write(image_name("dn", b, det), dn, kind="dn", unit="DN", **attrs)
            store.write(image_name("valid", b, det), np.ones(lines, bool), kind="line_valid", **attrs)
            store.write(image_name("time", b, det), np.arange(lines) * 1.5e-3 * f, kind="line_time", **attrs)
            mpix += lines * pixels / 1e6
    write_datastrip_entry(store, cfg, ds, metadata, lambda band: 1)
    store.flush()
    return mpix


def run() -> dict:
    from bench import l1c_tile
    from ipf.interface import joborder as jo

    with tempfile.TemporaryDirectory(dir=os.environ.get("IPF_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        cfg, inst, ds = l1c_tile._geometry(tmp)
        mpix = _l1a(tmp / "L1A", cfg, inst, ds, l1c_tile._metadata_path(tmp, ds))
        D, P = jo.FileNameType.DIRECTORY, jo.FileNameType.PHYSICAL
        gipps = [jo.JobInput(file_type=t, file_name_type=P, file_names=tuple(
            sorted(p for p in (tmp / "GIPP").glob(f"*_{t}_*.*") if p.suffix in (".xml", ".HDR")))) for t in (
            "GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "GIP_R2CRCO", "GIP_R2DEPI",
            "GIP_R2BINN")]
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
