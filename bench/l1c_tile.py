"""L1B -> L1C of one full MGRS tile (13 bands), one core, through ``ipf JobOrder.xml``.

The geometry of the simulator's ``tile`` size (5 whole detectors of the real S2A focal plane × 13
bands, 11 520 lines at 10 m), its nadir placed so that the swath covers tile 31TEJ, without its
image formation: GIPPs drawn by the instrument model (GS2 GIP_VIEDIR and GIP_SPAMOD among them),
the simulator's AUX_UT1UTC and L0 datastrip metadata (orbit and given attitude), a smooth
synthetic DEM and an unrefined L1B store of textured radiance with noise (the speed of the
resampling does not depend on the scene). The whole L1C Job Order of the simulator's chain runs in one ``ipf``
subprocess, whose wall time and peak RSS are measured, with the seconds of each task from its
``IPF_RUN_SUMMARY``: TILE_INIT, GEN_ORTHO_TOA, MASK_S2 and TILE_FINALIZE (the L1C tile store,
"l1c.tile"), then FORMAT_IMG_L1C, FORMAT_IMG_PVI_TCI and FORMAT_METADATA_TILE_L1C (JPEG2000 files
and the SAFE product, "l1c.tile_jp2").
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from ipf.geometry import tiles

TILE = "31TEJ"
EPSG = 32631
TILE_UL_M = (499980.0, 4900020.0)
TILE_SIZE_M = float(tiles.TILE_SIZE_M)
NADIR_LAT_LON = (43.732, 3.828)
"""Nadir at the reference time (deg) that centres the swath of detectors 4..8 of the real focal
plane (right of the track: about 12 km west of the nadir on this descending pass) on the tile."""
DEM_MARGIN_M = 5000.0
DEM_STEP_M = 30.0
COS_SUN_ZENITH = 0.7
"""cos(sun zenith) over the tile at the sensing time (about), to turn reflectance into radiance."""
GOAL_S = 60.0
GOAL_MIB = 4096
GOAL_JP2_S = 180.0
TILE_TASKS = ("TILE_INIT", "GEN_ORTHO_TOA", "MASK_S2", "TILE_FINALIZE")


def _geometry(tmp: Path, seed: int = 7, size: str = "tile"):
    """Write GIPP/ (Earth Explorer and GS2 families), AUX/ (the AUX_UT1UTC) and the L0 datastrip
    metadata (``L0/<datastrip id>/``) of simulator size ``size`` (``small``: a few detector images
    for unit tests); returns (config, instrument, datastrip metadata)."""
    from ipf.formats import aux, gipp, gipp_gs2, l0_metadata
    from ipf.simulator import ancillary
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import datastrip_metadata, dem_name, draw_geometry

    cfg = dataclasses.replace(SIZES[size], lat_deg=NADIR_LAT_LON[0], lon_deg=NADIR_LAT_LON[1])
    inst, acq = draw_geometry(cfg, np.random.default_rng(seed))
    files = ([gipp.write_gipp(model, tmp / "GIPP", band=band, mission=cfg.mission) for model, band in inst.gipps()]
             + [gipp_gs2.write_gs2(model, tmp / "GIPP", mission=cfg.mission) for model in inst.gs2_gipps()])
    eop = ancillary.earth_orientation_table(cfg.date.date())
    aux.write_ut1utc(tmp / "AUX", eop, *ancillary.eop_validity(eop))
    ds = datastrip_metadata(cfg, acq, eop, files, dem_name(acq.orbit.t_ref))
    l0_metadata.write_datastrip_metadata(tmp / "L0" / ds.datastrip_id, ds)
    return cfg, inst, ds


def _metadata_path(tmp: Path, ds) -> Path:
    """The datastrip metadata file :func:`_geometry` wrote in ``tmp``."""
    from ipf.formats import l0_metadata

    return tmp / "L0" / ds.datastrip_id / l0_metadata.datastrip_mtd_name(ds)


def _dem(folder: Path) -> tuple[Path, Path]:
    """Smooth relief of 0-1500 m ellipsoidal heights over the tile plus :data:`DEM_MARGIN_M`, as
    the chain takes it: a DEM_SRTM folder of heights above the simulator's geoid and that
    DEM_GEOID in ``folder``; returns (DEM_SRTM folder, DEM_GEOID ``.HDR``)."""
    from ipf.formats import aux
    from ipf.formats.geotiff import write_dem_srtm
    from ipf.simulator.simulate import synthetic_geoid

    n = int(np.ceil((TILE_SIZE_M + 2 * DEM_MARGIN_M) / DEM_STEP_M))
    x = (np.arange(n) + 0.5) * DEM_STEP_M
    y = x[:, None]
    h = (750 + 350 * np.sin(2 * np.pi * x / 23e3) * np.cos(2 * np.pi * y / 31e3)
         + 250 * np.sin(2 * np.pi * (x + y) / 9.7e3) + 150 * np.sin(2 * np.pi * x / 4.1e3 + y / 2.9e3))
    geoid = synthetic_geoid()
    created = datetime(2023, 1, 1)
    hdr = aux.write_geoid(folder, aux.geoid_name("BNCH", created, created), geoid)
    srtm = write_dem_srtm(folder / aux.dem_srtm_name("BNCH", created, created), h.astype(np.float32), EPSG,
                          TILE_UL_M[0] - DEM_MARGIN_M, TILE_UL_M[1] + DEM_MARGIN_M, DEM_STEP_M, geoid)
    return srtm, hdr


def _l1b(store_dir: Path, cfg, inst, ds) -> None:
    """Write the L1B store (``store_dir``, beside the ``L0`` folder of :func:`_geometry`): radiance
    (reflectance 0.05-0.25 with noise) of the binned pixels (GIP_VIEDIR), mask, line times by the
    datastrip's band time stamps, and the datastrip entry with its metadata."""
    from ipf.formats.l0_metadata import line_datation
    from ipf.formats.msi_bands import BY_NAME
    from ipf.products.store import ImageStore, image_name

    rng = np.random.default_rng(11)
    store = ImageStore(store_dir)
    epoch = np.datetime64("2000-01-01T00:00:00", "ns")
    datation = line_datation(ds)
    for det in cfg.detectors:
        for b in cfg.bands:
            info = BY_NAME[b]
            lines, pixels = cfg.lines(b), inst.viedir[b].detector(det).n_pixels
            block_lines = min(lines, 384)
            y, x = np.mgrid[0:block_lines, 0:pixels]
            rho = (0.14 + 0.06 * np.sin(x / 7.0 + det) * np.cos(y / 11.0)
                   + 0.03 * np.sin(x / 97.0 + info.index)
                   + rng.normal(0, 0.004, (block_lines, pixels))) * (0.1 if b == "B10" else 1.0)
            block = (rho * info.e0 * COS_SUN_ZENITH / np.pi).astype(np.float32)
            radiance = np.tile(block, (lines // block_lines + 1, 1))[:lines]
            mask = np.zeros((lines, pixels), np.uint8)
            mask[::997, ::389] = 1
            attrs = dict(band=b, detector=det, resolution=info.resolution_m, lines=lines, pixels=pixels)
            store.write(image_name("radiance", b, det), radiance, kind="radiance", unit="W m-2 sr-1 um-1",
                        steps=[], absolute_gain=1.0, solar_irradiance=info.e0, **attrs)
            store.write(image_name("mask", b, det), mask, kind="mask",
                        bits={"SATURATED": 1, "NO_DATA": 2, "DEFECTIVE": 4}, **attrs)
            t0, period = datation[b, det]
            store.write(image_name("time", b, det), (t0 - epoch) / np.timedelta64(1, "s") + np.arange(lines) * period,
                        kind="line_time", unit="s since 2000-01-01T00:00:00Z", **attrs)
    write_datastrip_entry(store, cfg, ds, _metadata_path(store_dir.parent, ds), cfg.band_qstep)
    store.flush()


def write_datastrip_entry(store, cfg, ds, metadata: Path, qstep) -> None:
    """The datastrip entry of a benchmark store of simulation size ``cfg`` with L0 datastrip
    metadata ``ds`` (file ``metadata``); ``qstep(band)`` the bands' quantisation step."""
    from ipf.formats.msi_bands import BY_NAME
    from ipf.products.datastrip import (
        BandImage,
        DatastripInfo,
        GranuleLines,
        write_datastrip,
    )

    write_datastrip(store, DatastripInfo(
        identifier=ds.datastrip_id, spacecraft=ds.spacecraft, sensing_start=ds.sensing_start,
        sensing_stop=ds.sensing_stop, wavelet_levels=cfg.wavelet_levels,
        bands=[BandImage(band=b, resolution=BY_NAME[b].resolution_m, lines=cfg.lines(b), quantisation_step=qstep(b))
               for b in sorted(cfg.bands, key=lambda b: BY_NAME[b].index)],
        granules=[GranuleLines(granule=g.granule_id, detector=g.detector, first_line_10m=g.position - 1,
                               lines_10m=cfg.granule_lines_10m) for g in ds.granules],
        quality=[], metadata_file=metadata.name), metadata)


def _product_name(ds) -> str:
    """The SAFE name of tile :data:`TILE` as the simulator's Job Order gives it."""
    from ipf.formats import safe
    from ipf.processors.l1c.tasks import BASELINE

    mission = safe.mission_of(ds.spacecraft)
    rel = safe.relative_orbit(mission, safe.absolute_orbit(mission, ds.sensing_start, NADIR_LAT_LON[0]))
    return safe.safe_name(mission, ds.sensing_start.replace(tzinfo=None, microsecond=0), BASELINE, rel, TILE,
                          ds.creation.replace(tzinfo=None, microsecond=0))


def prepare(tmp: Path, log_level: str = "WARNING", jp2: bool = True) -> Path:
    """Write the inputs and the L1C Job Order of tile :data:`TILE` in ``tmp``; returns the Job Order.
    ``jp2``: the whole Job Order of the chain (up to the SAFE ``tmp/S2x_MSIL1C_*.SAFE``), else up to
    TILE_FINALIZE."""
    from ipf.interface import joborder as jo

    cfg, inst, ds = _geometry(tmp)
    srtm, geoid = _dem(tmp / "AUX")
    _l1b(tmp / "L1B", cfg, inst, ds)
    D, P = jo.FileNameType.DIRECTORY, jo.FileNameType.PHYSICAL

    def inp(file_type, files, kind=P):
        return jo.JobInput(file_type=file_type, file_name_type=kind, file_names=tuple(files))

    def out(file_type, path, kind=D):
        return jo.JobOutput(file_type=file_type, file_name_type=kind, file_name=path)

    def proc(task, inputs, outputs):
        return jo.IpfProc(task_name=task, task_version="01.00.00", inputs=tuple(inputs),
                          outputs=tuple(outputs))

    l1b = inp("PDI_DS", [tmp / "L1B"], D)
    geometry = [inp("DEM_SRTM", [srtm], D), inp("DEM_GEOID", [geoid]), inp("AUX_UT1UTC", sorted((tmp / "AUX").glob("*_AUX_UT1UTC_*.HDR"))),
                inp("GIP_VIEDIR", sorted((tmp / "GIPP").glob("*_GIP_VIEDIR_*.xml"))),
                inp("GIP_SPAMOD", sorted((tmp / "GIPP").glob("*_GIP_SPAMOD_*.xml")))]
    grid, toa, clouds = (inp(t, [tmp / t], D) for t in ("TILE_GRID", "PDI_TILE_TOA", "MSK_CLOUDS"))
    tile, img, tci = (inp(t, [tmp / t], D) for t in ("PDI_TILE", "PDI_TILE_IMG", "PDI_TILE_TCI"))
    jp2kpa = inp("GIP_JP2KPA", sorted((tmp / "GIPP").glob("*_GIP_JP2KPA_*.xml")))
    products = (
        proc("FORMAT_IMG_L1C", [tile, jp2kpa], [out("PDI_TILE_IMG", tmp / "PDI_TILE_IMG")]),
        proc("FORMAT_IMG_PVI_TCI", [tile, jp2kpa], [out("PDI_TILE_TCI", tmp / "PDI_TILE_TCI")]),
        proc("FORMAT_METADATA_TILE_L1C", [tile, img, tci, l1b],
             [out("PRODUCT", tmp / _product_name(ds))])) if jp2 else ()
    job = jo.JobOrder(
        processor_name="S2IPF_L1C", version="01.00", processing_station="BENCH", stdout_log_level=log_level,
        stderr_log_level="ERROR",
        sensing_time=jo.SensingTime(start=ds.sensing_start, stop=ds.sensing_stop),
        dynamic_parameters={"TILE_ID": TILE}, procs=(
            proc("TILE_INIT", [l1b, *geometry], [out("TILE_GRID", tmp / "TILE_GRID")]),
            proc("GEN_ORTHO_TOA", [l1b, grid], [out("PDI_TILE_TOA", tmp / "PDI_TILE_TOA")]),
            proc("MASK_S2", [toa], [out("MSK_CLOUDS", tmp / "MSK_CLOUDS")]),
            proc("TILE_FINALIZE", [toa, grid, clouds],
                 [out("PDI_TILE", tmp / "PDI_TILE"), out("REPORT", tmp / "report.json", P)]),
            *products))
    return jo.write(job, tmp / "JobOrder.xml")


def run() -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("IPF_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        order = prepare(tmp)
        summary_path = tmp / "summary.json"
        t0 = time.perf_counter()
        child = subprocess.Popen([str(Path(sys.executable).with_name("ipf")), str(order)],
                                 env={**os.environ, "IPF_RUN_SUMMARY": str(summary_path)})
        _, wait_status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t0
        status = os.waitstatus_to_exitcode(wait_status)
        child.returncode = status
        rss_mib = usage.ru_maxrss / 1024  # the child's own peak (ru_maxrss in KiB)
        if status != 0:
            raise RuntimeError(f"ipf exited with {status}")
        summary = json.loads(summary_path.read_text())
        tasks = {t["task"]: t["seconds"] for t in summary["tasks"]}
        coverage = json.loads((tmp / "report.json").read_text())["coverage"]
        index = json.loads((tmp / "PDI_TILE" / "index.json").read_text())
        mpix = sum(a["shape"][0] * a["shape"][1] for a in index.values() if a.get("kind") == "toa") / 1e6
        (product,) = tmp.glob("*.SAFE")
        jp2_files = sorted(product.rglob("*.jp2"))
        jp2_mib = sum(p.stat().st_size for p in jp2_files) / 2**20
    tile_s = sum(tasks[t] for t in TILE_TASKS)
    return {"l1c.tile": {
        "name": f"L1C tile {TILE}, 13 bands, no JPEG2000 ({mpix:.0f} Mpix)", "unit": "s",
        "value": round(tile_s, 1), "mpix_per_s": round(mpix / tile_s, 1),
        "peak_rss_mib": round(rss_mib), "coverage": round(coverage, 4),
        "note": f"tasks {', '.join(TILE_TASKS)} of the l1c.tile_jp2 run (IPF_RUN_SUMMARY)",
        "goal": f"<= {GOAL_S:.0f} s, <= {GOAL_MIB} MiB",
        "goal_met": tile_s <= GOAL_S and rss_mib <= GOAL_MIB},
        "l1c.tile_jp2": {
        "name": f"L1C tile {TILE}, 13 bands, JPEG2000 and SAFE", "unit": "s",
        "value": round(seconds, 1), "task_seconds": tasks, "peak_rss_mib": round(rss_mib),
        "jp2_files": len(jp2_files), "jp2_mib": round(jp2_mib, 1),
        "goal": f"<= {GOAL_JP2_S:.0f} s", "goal_met": seconds <= GOAL_JP2_S}}
