"""L1B -> L1C of one full MGRS tile (13 bands), one core, through ``ipf JobOrder.xml``.

The geometry of the simulator's ``tile`` size (5 detectors × 13 bands, 11 520 lines at 10 m, 2592
pixels per detector), its nadir placed so that the swath covers tile 31TEJ, without its image
formation: GIPPs drawn by the instrument model, orbit and given attitude, a smooth synthetic DEM
and an unrefined L1B store of textured radiance with noise (the speed of the resampling does not
depend on the scene). The whole L1C Job Order of the simulator's chain runs in one ``ipf``
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
from datetime import timedelta
from pathlib import Path

import numpy as np

from ipf.geometry import tiles

TILE = "31TEJ"
EPSG = 32631
TILE_UL_M = (499980.0, 4900020.0)
TILE_SIZE_M = float(tiles.TILE_SIZE_M)
NADIR_LAT_LON = (43.784, 3.529)
"""Nadir at the reference time (deg) that centres the swath of detectors 4..8 on the tile."""
DEM_MARGIN_M = 5000.0
DEM_STEP_M = 30.0
COS_SUN_ZENITH = 0.7
"""cos(sun zenith) over the tile at the sensing time (about), to turn reflectance into radiance."""
GOAL_S = 60.0
GOAL_MIB = 4096
GOAL_JP2_S = 180.0
TILE_TASKS = ("TILE_INIT", "GEN_ORTHO_TOA", "MASK_S2", "TILE_FINALIZE")


def _utc(orbit, ticks: int):
    """UTC (naive) of ``ticks`` (2^-16 s) from the orbit's reference time."""
    from ipf.simulator.acquisition import TICKS_PER_S

    return (orbit.t_ref + timedelta(microseconds=int(round(ticks * 1e6 / TICKS_PER_S)))).replace(tzinfo=None)


def _geometry(tmp: Path, seed: int = 7, size: str = "tile"):
    """Write GIPP/, AUX/ orbit + attitude and the L0 datastrip metadata of simulator size ``size``
    (``small``: a few detector images for unit tests); returns (config, focal plane, datastrip as
    the L0 processor reads it)."""
    from ipf.formats import aux, gipp, l0
    from ipf.formats.msi_bands import BY_NAME
    from ipf.geometry.rotation import matrix_to_quat
    from ipf.simulator.acquisition import (LINE_TICKS_10M, TICKS_PER_S, Acquisition, align_start_ticks,
                                           line_ticks)
    from ipf.simulator.attitude import draw_attitude_error
    from ipf.simulator.config import SIZES
    from ipf.simulator.focal_plane import FocalPlane
    from ipf.simulator.instrument import INSTRUMENT_TO_BODY, draw_instrument
    from ipf.simulator.orbit import design_orbit
    from ipf.simulator.simulate import ATTITUDE_STEP_TICKS, ORBIT_STEP_S

    cfg = dataclasses.replace(SIZES[size], lat_deg=NADIR_LAT_LON[0], lon_deg=NADIR_LAT_LON[1])
    rng = np.random.default_rng(seed)
    orbit = design_orbit(cfg.lat_deg, cfg.lon_deg, cfg.date)
    fp = FocalPlane(cfg.n_pixels_10m, cfg.overlap_10m)
    inst = draw_instrument(rng, fp, cfg.detectors, cfg.bands)
    acq = Acquisition(orbit, fp, draw_attitude_error(rng), INSTRUMENT_TO_BODY)
    acq.start_ticks = align_start_ticks(acq, cfg.bands, cfg.detectors,
                                        -(cfg.n_lines_10m // 2) * LINE_TICKS_10M / TICKS_PER_S)
    for model, band in inst.gipps():
        gipp.write_gipp(model, tmp / "GIPP", band=band, mission=cfg.mission)

    ends = [(s, s + (cfg.lines(b) - 1) * line_ticks(BY_NAME[b].resolution_m))
            for (b, _), s in acq.start_ticks.items()]
    t_lo, t_hi = min(a for a, _ in ends), max(b for _, b in ends)
    lo, hi = (t_lo // TICKS_PER_S - 10) * TICKS_PER_S, (t_hi // TICKS_PER_S + 11) * TICKS_PER_S
    orbit_name, att_name = (aux.aux_file_name(kind, _utc(orbit, lo), _utc(orbit, hi), cfg.mission)
                            for kind in (aux.ORBIT_TYPE, aux.ATTITUDE_TYPE))
    ref = np.datetime64(orbit.t_ref.replace(tzinfo=None), "us")
    t = np.arange(lo, hi + 1, TICKS_PER_S * int(ORBIT_STEP_S)) / TICKS_PER_S
    pos, vel = orbit.state(t)
    aux.write_orbit(tmp / "AUX" / orbit_name, aux.OrbitData(
        times=ref + np.round(t * 1e6).astype("timedelta64[us]"), position=pos, velocity=vel), cfg.mission)
    t = np.arange(lo, hi + 1, ATTITUDE_STEP_TICKS) / TICKS_PER_S
    aux.write_attitude(tmp / "AUX" / att_name, aux.AttitudeData(
        times=ref + np.round(t * 1e6).astype("timedelta64[us]"),
        quaternions=matrix_to_quat(acq.attitude(t, true=False))), cfg.mission)

    created, start = orbit.t_ref.replace(tzinfo=None), _utc(orbit, t_lo)
    granules = []
    for d in cfg.detectors:
        for gi, g0 in enumerate(range(0, cfg.n_lines_10m, cfg.granule_lines_10m)):
            first = min(acq.start_ticks[b, d] + g0 * 10 // BY_NAME[b].resolution_m
                        * line_ticks(BY_NAME[b].resolution_m) for b in cfg.bands)
            granules.append(l0.GranuleInfo(
                identifier=l0.granule_name(cfg.mission, created, _utc(orbit, first), d, gi), detector=d,
                index=gi, first_line_10m=g0, lines_10m=cfg.granule_lines_10m))
    ds = l0.Datastrip(
        identifier=l0.datastrip_name(cfg.mission, created, start), spacecraft="Sentinel-2A",
        sensing_start=start, sensing_stop=_utc(orbit, t_hi), reference_time=created,
        ticks_per_second=TICKS_PER_S, algorithm="DWT53-RICE", block_lines=cfg.block_lines,
        wavelet_levels=cfg.wavelet_levels,
        bands=[l0.BandInfo(name=b, index=BY_NAME[b].index, resolution=BY_NAME[b].resolution_m,
                           line_period_ticks=line_ticks(BY_NAME[b].resolution_m), pixels=fp.n_pixels(b),
                           lines=cfg.lines(b), quantisation_step=cfg.band_qstep(b)) for b in cfg.bands],
        start_ticks={d: {b: acq.start_ticks[b, d] for b in cfg.bands} for d in cfg.detectors},
        granules=granules, orbit_file=orbit_name, attitude_file=att_name)
    l0.write_datastrip(tmp / "L0" / ds.identifier, ds, cfg.mission)
    return cfg, fp, l0.read_datastrip(tmp / "L0" / ds.identifier)


def _dem(path: Path) -> Path:
    """Smooth relief of 0-1500 m ellipsoidal heights over the tile plus :data:`DEM_MARGIN_M`."""
    from ipf.formats import aux

    n = int(np.ceil((TILE_SIZE_M + 2 * DEM_MARGIN_M) / DEM_STEP_M))
    x = (np.arange(n) + 0.5) * DEM_STEP_M
    y = x[:, None]
    h = (750 + 350 * np.sin(2 * np.pi * x / 23e3) * np.cos(2 * np.pi * y / 31e3)
         + 250 * np.sin(2 * np.pi * (x + y) / 9.7e3) + 150 * np.sin(2 * np.pi * x / 4.1e3 + y / 2.9e3))
    return aux.write_geotiff(path, h.astype(np.float32), EPSG, TILE_UL_M[0] - DEM_MARGIN_M,
                             TILE_UL_M[1] + DEM_MARGIN_M, DEM_STEP_M, tags={"HEIGHT": "ellipsoidal WGS84, m"})


def _l1b(store_dir: Path, cfg, fp, ds) -> None:
    """Write the L1B store: radiance (reflectance 0.05-0.25 with noise), mask and line times."""
    from ipf.formats import ccsds
    from ipf.formats.msi_bands import BY_NAME
    from ipf.products.datastrip import DatastripInfo, write_datastrip
    from ipf.products.store import ImageStore, image_name
    from ipf.simulator.acquisition import TICKS_PER_S, line_ticks

    rng = np.random.default_rng(11)
    store = ImageStore(store_dir)
    ref_s = (ds.reference_time - ccsds.EPOCH).total_seconds()
    for det in cfg.detectors:
        for b in cfg.bands:
            info = BY_NAME[b]
            lines, pixels = cfg.lines(b), fp.n_pixels(b)
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
            ticks = ds.start_ticks[det][b] + np.arange(lines) * line_ticks(info.resolution_m)
            store.write(image_name("time", b, det), ref_s + ticks / TICKS_PER_S, kind="line_time",
                        unit="s since 2000-01-01T00:00:00Z", **attrs)
    write_datastrip(store, DatastripInfo.from_l0(ds, quality=[]))
    store.flush()


def _product_name(ds) -> str:
    """The SAFE name of tile :data:`TILE` as the simulator's Job Order gives it."""
    from ipf.formats import safe
    from ipf.processors.l1c.tasks import BASELINE

    mission = safe.mission_of(ds.spacecraft)
    rel = safe.relative_orbit(mission, safe.absolute_orbit(mission, ds.sensing_start, NADIR_LAT_LON[0]))
    return safe.safe_name(mission, ds.sensing_start.replace(tzinfo=None, microsecond=0), BASELINE, rel, TILE,
                          ds.reference_time.replace(tzinfo=None, microsecond=0))


def prepare(tmp: Path, log_level: str = "WARNING", jp2: bool = True) -> Path:
    """Write the inputs and the L1C Job Order of tile :data:`TILE` in ``tmp``; returns the Job Order.
    ``jp2``: the whole Job Order of the chain (up to the SAFE ``tmp/S2x_MSIL1C_*.SAFE``), else up to
    TILE_FINALIZE."""
    from ipf.interface import joborder as jo

    cfg, fp, ds = _geometry(tmp)
    dem = _dem(tmp / "AUX" / "S2__OPER_DEM_BENCH30.tif")
    _l1b(tmp / "L1B", cfg, fp, ds)
    D, P = jo.FileNameType.DIRECTORY, jo.FileNameType.PHYSICAL

    def inp(file_type, files, kind=P):
        return jo.JobInput(file_type=file_type, file_name_type=kind, file_names=tuple(files))

    def out(file_type, path, kind=D):
        return jo.JobOutput(file_type=file_type, file_name_type=kind, file_name=path)

    def proc(task, inputs, outputs):
        return jo.IpfProc(task_name=task, task_version="01.00.00", inputs=tuple(inputs),
                          outputs=tuple(outputs))

    l1b = inp("PDI_DS", [tmp / "L1B"], D)
    geometry = [inp("DEM", [dem]), inp("AUX_RESORB", [tmp / "AUX" / ds.orbit_file]),
                inp("AUX_SADATT", [tmp / "AUX" / ds.attitude_file]),
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
