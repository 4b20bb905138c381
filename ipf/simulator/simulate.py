"""End-to-end simulation: truth scene -> L0 datastrip + granules, GIPPs, AUX and truth files.

Output folder::

    GIPP/   the GIPP types (band-dependent ones per simulated band), .xml or .HDR + .DBL (docs/gipps.md)
    L0/     DATASTRIP/<datastrip PDI> (metadata, ANC_DATA/ SAD packets) and GRANULE/<granule
            PDIs> (metadata, IMG_DATA/ band files) (see ipf.formats.l0, docs/l0_format.md)
    joborders/  Job Orders of the L0, L1A and L1B processors (:mod:`ipf.simulator.joborders`)
    AUX/    orbit (AUX_RESORB) and given attitude (AUX_SADATT) XML, DEM GeoTIFF (30 m,
            block mean of the truth DEM), GRI GeoTIFF (cloud-free B04 10 m ortho-image)
    truth/  true attitude (AUX_SADATT, class TRUE), DEM (10 m, the exact surface: bilinear
            between nodes), TOA reflectance per simulated band at its resolution (uint16,
            reflectance × 10000, area mean of the 5 m truth), truth.json (random choices,
            attitude error, injected faults)

Everything derives from one seed through numpy Generators: the main generator draws the
instrument, the attitude error and the scene in that order; the noise of (detector, band, chunk)
and the faults of (detector, granule, band) use their own generators seeded by
``[seed, stream, ...]``, so the output does not depend on the processing order.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ipf.formats import aux, ccsds, gipp, l0, msi_compression, sad
from ipf.formats.msi_bands import BY_NAME
from ipf.formats import safe
from ipf.interface.files import atomic_write
from ipf.simulator import radiometry as rad
from ipf.simulator.acquisition import (LINE_TICKS_10M, TICKS_PER_S, Acquisition, align_start_ticks,
                                       line_ticks)
from ipf.simulator.attitude import draw_attitude_error
from ipf.simulator.config import SimulationConfig
from ipf.simulator.focal_plane import FocalPlane
from ipf.simulator.imaging import ImagingContext, SunModel, dn_chunk, radiance_chunk
from ipf.simulator.instrument import INSTRUMENT_TO_BODY, Instrument, draw_instrument
from ipf.simulator.location import Geodesy, LocationGrid, build_grid, utm_epsg_for
from ipf.simulator.orbit import CircularOrbit, design_orbit
from ipf.geometry.rotation import matrix_to_quat
from ipf.simulator.scene import Scene, make_scene
from ipf.geometry.sun import sun_angles, sun_direction_ecef, sun_earth_distance_au


__all__ = ["GRI_MTF", "ORBIT_STEP_S", "ATTITUDE_STEP_TICKS", "TRUTH_STRIP_M", "OUTPUT_FORMAT", "DOWNLINK_DELAY_S", "Simulation",
           "setup", "write_gipps", "write_l0", "write_sad", "write_aux", "render_truth", "write_truth", "run"]

GRI_MTF = 0.3
ORBIT_STEP_S = 1.0
ATTITUDE_STEP_TICKS = 8192
TRUTH_STRIP_M = 1200.0
OUTPUT_FORMAT = 4
DOWNLINK_DELAY_S = 900
"""Version of what the simulator writes (raised when a file changes, e.g. a GIPP gains fields),
so that ``make demo`` does not reuse an older simulation."""


@dataclass
class Simulation:
    """Everything drawn for one run."""

    config: SimulationConfig
    seed: int
    orbit: CircularOrbit
    acquisition: Acquisition
    instrument: Instrument
    geodesy: Geodesy
    scene: Scene
    sun: SunModel
    footprint: tuple[float, float, float, float]
    grids: dict[tuple[str, int], LocationGrid]

    @property
    def context(self) -> ImagingContext:
        return ImagingContext(self.instrument, self.scene, self.sun, self.config.bands, self.grids)

    def ticks_range(self) -> tuple[int, int]:
        """First and last line time of the acquisition, ticks from t_ref."""
        t = [(s, s + (self.config.lines(b) - 1) * line_ticks(BY_NAME[b].resolution_m))
             for (b, _), s in self.acquisition.start_ticks.items()]
        return min(a for a, _ in t), max(b for _, b in t)


def setup(config: SimulationConfig, seed: int) -> Simulation:
    """Draw the instrument, attitude error and scene, and build the true location grids."""
    rng = np.random.default_rng(seed)
    orbit = design_orbit(config.lat_deg, config.lon_deg, config.date)
    fp = FocalPlane(config.n_pixels_10m, config.overlap_10m)
    inst = draw_instrument(rng, fp, config.detectors, config.bands)
    acq = Acquisition(orbit, fp, draw_attitude_error(rng), INSTRUMENT_TO_BODY)
    t_first = -(config.n_lines_10m // 2) * LINE_TICKS_10M / TICKS_PER_S
    acq.start_ticks = align_start_ticks(acq, config.bands, config.detectors, t_first)
    geo = Geodesy(utm_epsg_for(config.lon_deg, config.lat_deg))

    es, ns = [], []
    for b in config.bands:
        for d in config.detectors:
            g = build_grid(acq, geo, b, d, config.lines(b), fp.n_pixels(b), (0.0, 4000.0),
                           line_step=64, pixel_step=64, dh=4000.0, line_margin=0)
            es.append(g.e.ravel())
            ns.append(g.n.ravel())
    e, n = np.concatenate(es), np.concatenate(ns)
    footprint = (float(np.floor(e.min() / 60) * 60), float(np.floor(n.min() / 60) * 60),
                 float(np.ceil(e.max() / 60) * 60), float(np.ceil(n.max() / 60) * 60))
    margin = 2040.0
    bounds = (footprint[0] - margin, footprint[1] - margin, footprint[2] + margin, footprint[3] + margin)

    ce, cn = (footprint[0] + footprint[2]) / 2, (footprint[1] + footprint[3]) / 2
    t0 = orbit.utc(0.0)
    lon, lat = geo.from_utm(np.array([ce, ce + 1000.0, ce]), np.array([cn, cn, cn + 1000.0]))
    la, lo = np.radians(lat), np.radians(lon)
    up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    cz = up @ sun_direction_ecef(t0)
    sun = SunModel(float(sun_earth_distance_au(t0)), (float(cz[0]), float((cz[1] - cz[0]) / 1000.0),
                                                       float((cz[2] - cz[0]) / 1000.0)), (ce, cn))
    zen, az = sun_angles(float(lat[0]), float(lon[0]), t0)
    scene = make_scene(rng, bounds, zen, az)

    h_range = (float(np.floor(scene.dem.min() / 100) * 100 - 100), float(np.ceil(scene.dem.max() / 100) * 100 + 100))
    grids = {(b, d): build_grid(acq, geo, b, d, config.lines(b), fp.n_pixels(b), h_range)
             for b in config.bands for d in config.detectors}
    return Simulation(config, seed, orbit, acq, inst, geo, scene, sun, footprint, grids)


# --------------------------------------------------------------------------- GIPP
def write_gipps(sim: Simulation, folder: Path) -> list[Path]:
    """Write every GIPP of the instrument."""
    return [gipp.write_gipp(model, folder, band=band, mission=sim.config.mission)
            for model, band in sim.instrument.gipps()]


# --------------------------------------------------------------------------- L0
def _sec_header(sim: Simulation, band: str, detector: int, first_line: int, n_lines: int) -> ccsds.SecondaryHeader:
    """GPS time of the block's first line (CUC: the line clock's ticks are 2^-16 s) and the
    block identification."""
    ticks = sim.acquisition.start_ticks[band, detector] + first_line * line_ticks(BY_NAME[band].resolution_m)
    coarse, fine = divmod(ticks, TICKS_PER_S)
    t_ref = ccsds.cuc_from_datetime(sim.orbit.t_ref)[0]
    cfg = sim.config
    return ccsds.SecondaryHeader(t_ref + coarse, fine, BY_NAME[band].index, detector, first_line, n_lines,
                                 sim.instrument.focal_plane.n_pixels(band),
                                 ccsds.compression_status(cfg.wavelet_levels, cfg.band_qstep(band)))


def _records(packets: list[bytes], detector: int) -> bytes:
    """The band-file records of ``packets``: each annotated with its reception time (the packet
    time in UTC plus :data:`DOWNLINK_DELAY_S`) and the virtual channel of its VMC board."""
    vcid = ccsds.VCID_MSI[(detector - 1) // 6]
    out = []
    for p in packets:
        coarse, fine = struct.unpack_from(">IH", p, ccsds.PRIMARY_SIZE)
        reception = ccsds.datetime_from_cuc(coarse, fine) + timedelta(seconds=DOWNLINK_DELAY_S)
        out.append(ccsds.annotate(p, reception, vcid))
    return b"".join(out)


def _utc_ticks(sim: Simulation, ticks: int) -> datetime:
    return sim.orbit.t_ref + timedelta(microseconds=int(round(ticks * 1e6 / TICKS_PER_S)))


def write_l0(sim: Simulation, folder: Path, log=lambda *a: None) -> tuple[Path, dict]:
    """Simulate and write the L0 datastrip PDI (metadata, SAD packets in ANC_DATA/) and granule
    PDIs into ``folder``/DATASTRIP and ``folder``/GRANULE; returns (datastrip folder, fault log)."""
    cfg = sim.config
    ctx = sim.context
    created = sim.orbit.t_ref.replace(tzinfo=None)
    t_lo, t_hi = sim.ticks_range()
    start = _utc_ticks(sim, t_lo).replace(tzinfo=None)
    stop = _utc_ticks(sim, t_hi).replace(tzinfo=None)
    ds_id = l0.datastrip_name(cfg.mission, created, start)
    seq: dict[int, int] = {}
    faults: dict[str, dict] = {}
    granules: list[l0.GranuleInfo] = []
    n_granules = cfg.n_lines_10m // cfg.granule_lines_10m
    for d in cfg.detectors:
        for gi in range(n_granules):
            g0 = gi * cfg.granule_lines_10m
            g1 = g0 + cfg.granule_lines_10m
            packets: dict[str, list[bytes]] = {b: [] for b in cfg.bands}
            for c0 in range(g0, g1, cfg.chunk_lines_10m):
                c1 = c0 + cfg.chunk_lines_10m
                chunk = c0 // cfg.chunk_lines_10m
                radiance = radiance_chunk(ctx, d, c0, c1)
                dn = dn_chunk(ctx, d, radiance, lambda b: np.random.default_rng(
                    [sim.seed, 1, d, BY_NAME[b].index, chunk]))
                for b, img in dn.items():
                    r = BY_NAME[b].resolution_m // 10
                    apid = ccsds.apid_for(d, BY_NAME[b].index)
                    for k in range(0, img.shape[0], cfg.block_lines):
                        first = c0 // r + k
                        stream = msi_compression.encode(img[k:k + cfg.block_lines], cfg.wavelet_levels,
                                                        cfg.band_qstep(b))
                        sec = _sec_header(sim, b, d, first, min(cfg.block_lines, img.shape[0] - k))
                        pk = ccsds.packetize(stream, apid, seq.get(apid, 0), sec)
                        seq[apid] = (seq.get(apid, 0) + len(pk)) % ccsds.SEQ_MODULO
                        packets[b] += pk
                log(f"detector {d} granule {gi} lines {c0}-{c1}")
            t0 = min(sim.acquisition.start_ticks[b, d] + g0 * 10 // BY_NAME[b].resolution_m
                     * line_ticks(BY_NAME[b].resolution_m) for b in cfg.bands)
            t1 = max(sim.acquisition.start_ticks[b, d] + (g1 * 10 // BY_NAME[b].resolution_m - 1)
                     * line_ticks(BY_NAME[b].resolution_m) for b in cfg.bands)
            g_start = _utc_ticks(sim, t0).replace(tzinfo=None)
            gname = l0.granule_name(cfg.mission, created, g_start, d)
            gfolder = folder / l0.GRANULE_DIR / gname
            (gfolder / l0.IMG_DATA).mkdir(parents=True, exist_ok=False)
            files = []
            for b in cfg.bands:
                pk = packets[b]
                if cfg.faults.active:
                    pk, flog = ccsds.inject_faults(pk, cfg.faults, np.random.default_rng(
                        [sim.seed, 2, d, gi, BY_NAME[b].index]))
                    faults[f"{gname}/{b}"] = flog
                data = _records(pk, d)
                fname = l0.band_file_name(gname, b)
                atomic_write(gfolder / l0.IMG_DATA / fname, data)
                r = BY_NAME[b].resolution_m // 10
                files.append(l0.BandFile(band=b, file=f"{l0.IMG_DATA}/{fname}", apid=ccsds.apid_for(d, BY_NAME[b].index),
                                         first_line=g0 // r, lines=(g1 - g0) // r,
                                         pixels=sim.instrument.focal_plane.n_pixels(b), packets=len(pk),
                                         bytes=len(data), sha256=hashlib.sha256(data).hexdigest()))
            l0.write_granule(gfolder, l0.Granule(identifier=gname, datastrip=ds_id, detector=d, index=gi,
                                                 sensing_start=g_start, sensing_stop=_utc_ticks(sim, t1).replace(tzinfo=None),
                                                 band_files=files), cfg.mission)
            granules.append(l0.GranuleInfo(identifier=gname, detector=d, index=gi, first_line_10m=g0,
                                           lines_10m=cfg.granule_lines_10m))
    orbit_name, att_name = _aux_names(sim)
    ds = l0.Datastrip(
        identifier=ds_id, spacecraft="Sentinel-2A" if cfg.mission == "S2A" else cfg.mission,
        sensing_start=start, sensing_stop=stop, reference_time=sim.orbit.t_ref.replace(tzinfo=None),
        ticks_per_second=TICKS_PER_S, algorithm="DWT53-RICE", block_lines=cfg.block_lines,
        wavelet_levels=cfg.wavelet_levels,
        bands=[l0.BandInfo(name=b, index=BY_NAME[b].index, resolution=BY_NAME[b].resolution_m,
                           line_period_ticks=line_ticks(BY_NAME[b].resolution_m),
                           pixels=sim.instrument.focal_plane.n_pixels(b), lines=cfg.lines(b),
                           quantisation_step=cfg.band_qstep(b)) for b in cfg.bands],
        start_ticks={d: {b: sim.acquisition.start_ticks[b, d] for b in cfg.bands} for d in cfg.detectors},
        granules=granules, orbit_file=orbit_name, attitude_file=att_name)
    ds_folder = folder / l0.DATASTRIP_DIR / ds_id
    (ds_folder / l0.ANC_DATA).mkdir(parents=True, exist_ok=True)
    l0.write_datastrip(ds_folder, ds, cfg.mission)
    write_sad(sim, ds_folder / l0.ANC_DATA, created)
    return ds_folder, faults


def write_sad(sim: Simulation, folder: Path, created: datetime) -> Path:
    """The SAD packets (:mod:`ipf.formats.sad`) of the AUX span: at every given-attitude sample
    (:data:`ATTITUDE_STEP_TICKS`) the GPS time, the orbit's ECEF position and velocity and the
    quaternion AUX_SADATT gives."""
    lo, hi = _aux_span(sim)
    t = np.arange(lo, hi + 1, ATTITUDE_STEP_TICKS) / TICKS_PER_S
    pos, vel = sim.orbit.state(t)
    gps_ref = np.datetime64(sim.orbit.t_ref.replace(tzinfo=None), "us") + np.timedelta64(ccsds.GPS_UTC_S, "s")
    times = gps_ref + np.round(t * 1e6).astype("timedelta64[us]")
    att = _attitude_samples(sim, true=False)
    start, stop = (_utc_ticks(sim, v).replace(tzinfo=None) for v in (lo, hi))
    orbit = safe.absolute_orbit(sim.config.mission, sim.orbit.t_ref, sim.config.lat_deg)
    name = sad.sad_file_name(sim.config.mission, l0.CENTRE, created, start, stop, orbit)
    return sad.write_sad(folder / name, sad.SadData(times, pos, vel, att.quaternions))


# --------------------------------------------------------------------------- AUX
def _aux_span(sim: Simulation) -> tuple[int, int]:
    lo, hi = sim.ticks_range()
    step = TICKS_PER_S
    return (lo // step - 10) * step, (hi // step + 11) * step


def _aux_names(sim: Simulation) -> tuple[str, str]:
    lo, hi = _aux_span(sim)
    a, b = (_utc_ticks(sim, t).replace(tzinfo=None) for t in (lo, hi))
    return (aux.aux_file_name(aux.ORBIT_TYPE, a, b, sim.config.mission),
            aux.aux_file_name(aux.ATTITUDE_TYPE, a, b, sim.config.mission))


def _attitude_samples(sim: Simulation, true: bool) -> aux.AttitudeData:
    lo, hi = _aux_span(sim)
    ticks = np.arange(lo, hi + 1, ATTITUDE_STEP_TICKS)
    t = ticks / TICKS_PER_S
    q = matrix_to_quat(sim.acquisition.attitude(t, true=true))
    times = np.datetime64(sim.orbit.t_ref.replace(tzinfo=None), "us") + np.round(t * 1e6).astype("timedelta64[us]")
    return aux.AttitudeData(times=times, quaternions=q)


def write_aux(sim: Simulation, folder: Path, gri: np.ndarray) -> list[Path]:
    """Orbit, given attitude, DEM and GRI (from :func:`render_truth`) files."""
    folder.mkdir(parents=True, exist_ok=True)
    orbit_name, att_name = _aux_names(sim)
    lo, hi = _aux_span(sim)
    t = np.arange(lo, hi + 1, TICKS_PER_S * int(ORBIT_STEP_S)) / TICKS_PER_S
    pos, vel = sim.orbit.state(t)
    times = np.datetime64(sim.orbit.t_ref.replace(tzinfo=None), "us") + np.round(t * 1e6).astype("timedelta64[us]")
    out = [aux.write_orbit(folder / orbit_name, aux.OrbitData(times=times, position=pos, velocity=vel),
                           sim.config.mission),
           aux.write_attitude(folder / att_name, _attitude_samples(sim, true=False), sim.config.mission)]
    s = sim.scene
    g = s.dem_grid
    h, w = (v // 3 * 3 for v in s.dem.shape)
    dem30 = s.dem[:h, :w].reshape(h // 3, 3, w // 3, 3).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
    stamp = sim.orbit.t_ref.strftime("%Y%m%dT%H%M%S")
    out.append(aux.write_geotiff(folder / f"S2__OPER_DEM_SIMU30_{stamp}.tif", dem30, sim.geodesy.utm_epsg,
                                 g.x0 - g.step / 2, g.y0 + g.step / 2, 3 * g.step,
                                 tags={"HEIGHT": "ellipsoidal WGS84, m"}))
    out.append(aux.write_geotiff(folder / f"S2__OPER_AUX_GRI_B04_SIMU_{stamp}.tif", gri, sim.geodesy.utm_epsg,
                                 sim.footprint[0], sim.footprint[3], 10.0, nodata=0,
                                 tags={"CONTENT": "cloud-free TOA reflectance x 10000, B04, orthorectified"}))
    return out


# --------------------------------------------------------------------------- truth
def render_truth(sim: Simulation, bands: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Truth images over the footprint, rendered strip by strip on the 5 m UTM grid.

    Returns {band: TOA reflectance × 10000 (uint16) at the band's resolution, area mean of the
    5 m truth} and "GRI": cloud-free B04 at 10 m blurred by a Gaussian PSF of MTF ``GRI_MTF``.
    """
    e0, n0, e1, n1 = sim.footprint
    step = 5.0
    strip = int(TRUTH_STRIP_M / step)
    pad = 24
    nrows, ncols = int(round((n1 - n0) / step)), int(round((e1 - e0) / step))
    res = {b: BY_NAME[b].resolution_m for b in bands} | {"GRI": 10}
    out = {b: np.zeros((nrows * 5 // r, ncols * 5 // r), np.uint16) for b, r in res.items()}
    x = e0 + step * (np.arange(-pad, ncols + pad) + 0.5)
    sigma = rad.mtf_sigma(GRI_MTF) * 10.0 / step
    for r0 in range(0, nrows, strip):
        r1 = min(r0 + strip, nrows)
        y = n1 - step * (np.arange(r0 - pad, r1 + pad) + 0.5)
        E, N = np.meshgrid(x, y)
        f = sim.scene.fields(E, N)
        for b in out:
            if b == "GRI":
                rho = rad.gaussian_blur(sim.scene.reflectance(BY_NAME["B04"].index, **(f | {"cloud": None})),
                                        sigma, sigma)
            else:
                rho = sim.scene.reflectance(BY_NAME[b].index, **f)
            k = res[b] // 5
            block = rad.box_downsample(rho[pad:rho.shape[0] - pad, pad:rho.shape[1] - pad], k)
            out[b][r0 // k:r0 // k + block.shape[0], :block.shape[1]] = np.clip(
                np.rint(block * 10000), 1, 65535).astype(np.uint16)
    return out


def write_truth(sim: Simulation, folder: Path, faults: dict, images: dict[str, np.ndarray]) -> list[Path]:
    """True attitude, DEM, reflectance per band (from :func:`render_truth`) and truth.json."""
    folder.mkdir(parents=True, exist_ok=True)
    _, att_name = _aux_names(sim)
    out = [aux.write_attitude(folder / att_name.replace("_OPER_", "_TRUE_"), _attitude_samples(sim, true=True),
                              sim.config.mission, file_class="TRUE")]
    s = sim.scene
    g = s.dem_grid
    epsg = sim.geodesy.utm_epsg
    out.append(aux.write_geotiff(folder / "TRUTH_DEM_10m.tif", s.dem, epsg, g.x0 - g.step / 2,
                                 g.y0 + g.step / 2, g.step, tags={"HEIGHT": "ellipsoidal WGS84, m; bilinear between pixel centres"}))
    for b in sim.config.bands:
        img = images[b]
        out.append(aux.write_geotiff(folder / f"TRUTH_TOA_{b}.tif", img, epsg, sim.footprint[0], sim.footprint[3],
                                     float(BY_NAME[b].resolution_m), nodata=0,
                                     tags={"CONTENT": "TOA reflectance x 10000, area mean"}))
    p = sim.scene.p
    info = {
        "seed": sim.seed, "size": sim.config.name, "format": OUTPUT_FORMAT, "utm_epsg": epsg,
        "reference_time": sim.orbit.t_ref.isoformat(),
        "footprint_utm": list(sim.footprint),
        "sun": {"d_au": sim.sun.d_au, "cos_zenith_coeffs": list(sim.sun.coeffs), "ref": list(sim.sun.ref)},
        "attitude_error": {"frame": "true body -> given body rotation vector, rad; drift rad/s from reference_time",
                           **asdict(sim.acquisition.attitude_error)},
        "orbit": {"a_m": sim.orbit.a, "inclination_rad": sim.orbit.inclination, "raan_rad": sim.orbit.raan,
                  "u0_rad": sim.orbit.u0},
        "scene": {k: v for k, v in asdict(p).items() if k != "keys"},
        "faults": faults,
    }
    path = folder / "truth.json"
    path.write_text(json.dumps(info, indent=1, sort_keys=True))
    out.append(path)
    return out


def run(config: SimulationConfig, seed: int, out: Path, log=lambda *a: None) -> dict:
    """Run a whole simulation into ``out``; returns timings (s) and output sizes (bytes)."""
    out = Path(out)
    timings = {}
    t = time.perf_counter()
    sim = setup(config, seed)
    timings["setup"] = time.perf_counter() - t
    t = time.perf_counter()
    write_gipps(sim, out / "GIPP")
    timings["gipp"] = time.perf_counter() - t
    t = time.perf_counter()
    _, faults = write_l0(sim, out / "L0", log)
    timings["l0"] = time.perf_counter() - t
    t = time.perf_counter()
    images = render_truth(sim, config.bands)
    write_aux(sim, out / "AUX", images["GRI"])
    write_truth(sim, out / "truth", faults, images)
    timings["aux_truth"] = time.perf_counter() - t
    from ipf.simulator.joborders import write_job_orders

    write_job_orders(out)
    sizes = {d: sum(f.stat().st_size for f in (out / d).rglob("*") if f.is_file())
             for d in ("GIPP", "L0", "AUX", "truth", "joborders")}
    return {"timings_s": timings, "sizes_bytes": sizes}
