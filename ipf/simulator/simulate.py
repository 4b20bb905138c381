"""End-to-end simulation: truth scene -> L0 datastrip + granules, GIPPs, AUX and truth files.

Output folder::

    GIPP/   Earth Explorer GIPPs (band-dependent ones per simulated band), .xml or .HDR + .DBL
            (docs/gipps.md), and the GS2 GIP_VIEDIR (per band), GIP_SPAMOD and GIP_BLINDP .xml
            (docs/gipp_gs2.md)
    L0/     DATASTRIP/<datastrip PDI>: PSD 14.8 datastrip metadata (:mod:`ipf.formats.l0_metadata`:
            datation, ephemeris and given attitude in Satellite_Ancillary_Data_Info),
            ANC_DATA/ SAD packets and manifest.safe (:mod:`ipf.formats.l0_manifest`);
            GRANULE/<granule PDIs>: granule metadata and IMG_DATA/ band files
            (:mod:`ipf.formats.l0`, docs/l0_format.md, docs/l0_metadata.md)
    joborders/  Job Orders of the processors (:mod:`ipf.simulator.joborders`)
    AUX/    AUX_UT1UTC (.HDR + .DBL, the synthetic Earth orientation the attitudes are expressed
            with), DEM_SRTM folder ``S2__OPER_DEM_SRTMFO_SIMU_<t_ref>_S<t_ref>/`` holding a GeoTIFF
            of heights above the geoid (30 m, block mean of the truth DEM minus the geoid),
            DEM_GEOID ``S2__OPER_DEM_GEOIDF_SIMU_<t_ref>_S<t_ref>.gtx`` + ``.HDR`` (global 0.25°
            grid of :func:`synthetic_geoid`), GRI_ORBIT
            ``S2x_OPER_AUX_GRI<relative orbit>_SIMU_<t_ref>_S<t_ref>.TIF`` (cloud-free B04 10 m
            ortho-image); docs/dem_gri.md
    truth/  true attitude (:mod:`ipf.simulator.truth`), DEM (10 m, ellipsoidal heights, the
            exact surface: bilinear between nodes), TOA reflectance per simulated band at its resolution (uint16,
            reflectance × 10000, area mean of the 5 m truth), truth.json (random choices,
            attitude error, injected faults)

L0 metadata written by convention (see also docs/l0_metadata.md): ``Band_Time_Stamp`` gives the
GPS time of line 1 of every (band, detector); a datastrip's packet counters start at 1
(``DATA_STRIP_START``, ``SCENE_POSITION``) and count its packets; a granule's
``DATA_STRIP_START`` is the 1-based index of its first packet in the datastrip's packets of
that (detector, band) and ``SCENE_POSITION`` its 1-based rank among the detector's granules;
``COMPRESSION_RATE`` is the bits per element of the band's compressed blocks; the degradation
summary counts the injected faults (lost packets, and corrupted ones as kept degraded);
``CLOUDY_PIXEL_PERCENTAGE`` of a granule is the truth cloud fraction of its ground area (the
first band's elements, every 4th line and element, located with the true geometry), standing
for the on-board/L0 value.

Everything derives from one seed through numpy Generators: the main generator draws the
instrument, the attitude error and the scene in that order; the noise of (detector, band, chunk)
and the faults of (detector, granule, band) use their own generators seeded by
``[seed, stream, ...]``, so the output does not depend on the processing order. The Earth
orientation table depends on the date only.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ipf.formats import (
    aux,
    ccsds,
    gipp,
    gipp_gs2,
    l0,
    l0_manifest,
    l0_metadata,
    msi_compression,
    sad,
    safe,
)
from ipf.formats.msi_bands import BY_NAME
from ipf.geometry.sun import sun_angles, sun_direction_ecef, sun_earth_distance_au
from ipf.interface.files import atomic_write
from ipf.simulator import ancillary
from ipf.simulator import radiometry as rad
from ipf.simulator.acquisition import (
    LINE_TICKS_10M,
    TICKS_PER_S,
    Acquisition,
    align_start_ticks,
    line_ticks,
)
from ipf.simulator.attitude import draw_attitude_error
from ipf.simulator.config import SimulationConfig
from ipf.simulator.imaging import (
    ImagingContext,
    SunModel,
    dn_chunk,
    locate,
    radiance_chunk,
)
from ipf.simulator.instrument import Instrument, draw_instrument
from ipf.simulator.location import Geodesy, LocationGrid, build_grid, utm_epsg_for
from ipf.simulator.msi_focal_plane import MsiFocalPlane
from ipf.simulator.orbit import CircularOrbit, design_orbit
from ipf.simulator.scene import Scene, make_scene
from ipf.simulator.truth import write_true_attitude

__all__ = ["GRI_MTF", "TRUTH_STRIP_M", "OUTPUT_FORMAT", "DOWNLINK_DELAY_S", "REFERENCE_BAND", "Simulation",
           "ticks_range", "draw_geometry", "setup", "write_gipps", "dem_name", "synthetic_geoid", "ut1utc_name", "granule_starts",
           "datastrip_metadata", "write_l0", "write_sad", "write_aux", "render_truth", "write_truth", "run"]

GRI_MTF = 0.3
TRUTH_STRIP_M = 1200.0
OUTPUT_FORMAT = 5
"""Version of what the simulator writes (raised when a file changes, e.g. a GIPP gains fields),
so that ``make demo`` does not reuse an older simulation."""
DOWNLINK_DELAY_S = 900
REFERENCE_BAND = 3
"""``Auxiliary_Data_Info/REFERENCE_BAND`` (bandId of B04)."""


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
    eop: aux.EarthOrientationTable

    @property
    def context(self) -> ImagingContext:
        return ImagingContext(self.instrument, self.scene, self.sun, self.config.bands, self.grids)

    def ticks_range(self) -> tuple[int, int]:
        """First and last line time of the acquisition, ticks from t_ref."""
        return ticks_range(self.config, self.acquisition)

    def span(self) -> tuple[int, int]:
        """Ticks of the ancillary data span (:func:`ipf.simulator.ancillary.span_ticks`)."""
        return ancillary.span_ticks(*self.ticks_range())


def ticks_range(config: SimulationConfig, acq: Acquisition) -> tuple[int, int]:
    """First and last line time of the acquisition, ticks from the orbit's reference time."""
    t = [(s, s + (config.lines(b) - 1) * line_ticks(BY_NAME[b].resolution_m))
         for (b, _), s in acq.start_ticks.items()]
    return min(a for a, _ in t), max(b for _, b in t)


def draw_geometry(config: SimulationConfig, rng: np.random.Generator) -> tuple[Instrument, Acquisition]:
    """The orbit, the instrument (drawn first from ``rng``) and the acquisition with its attitude
    error (drawn next) and start times: everything but the scene."""
    orbit = design_orbit(config.lat_deg, config.lon_deg, config.date)
    inst = draw_instrument(rng, MsiFocalPlane.load(), config.detectors, config.bands, config.windows(),
                           config.mission)
    acq = Acquisition(orbit, inst.viewing, inst.alignment, draw_attitude_error(rng),
                      {b: inst.binning(b) for b in config.bands})
    t_first = -(config.n_lines_10m // 2) * LINE_TICKS_10M / TICKS_PER_S
    acq.start_ticks = align_start_ticks(acq, config.bands, config.detectors, t_first)
    return inst, acq


def setup(config: SimulationConfig, seed: int) -> Simulation:
    """Draw the instrument, attitude error and scene, and build the true location grids."""
    rng = np.random.default_rng(seed)
    inst, acq = draw_geometry(config, rng)
    orbit = acq.orbit
    geo = Geodesy(utm_epsg_for(config.lon_deg, config.lat_deg))

    es, ns = [], []
    for b in config.bands:
        for d in config.detectors:
            g = build_grid(acq, geo, b, d, config.lines(b), inst.n_elements(b), (0.0, 4000.0),
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
    grids = {(b, d): build_grid(acq, geo, b, d, config.lines(b), inst.n_elements(b), h_range)
             for b in config.bands for d in config.detectors}
    eop = ancillary.earth_orientation_table(config.date.date())
    return Simulation(config, seed, orbit, acq, inst, geo, scene, sun, footprint, grids, eop)


# --------------------------------------------------------------------------- GIPP
def write_gipps(sim: Simulation, folder: Path) -> list[Path]:
    """Write every GIPP of the instrument (Earth Explorer and GS2 families)."""
    mission = sim.config.mission
    return ([gipp.write_gipp(model, folder, band=band, mission=mission) for model, band in sim.instrument.gipps()]
            + [gipp_gs2.write_gs2(model, folder, mission=mission) for model in sim.instrument.gs2_gipps()])


# --------------------------------------------------------------------------- L0
def _sec_header(sim: Simulation, band: str, detector: int, first_line: int, n_lines: int) -> ccsds.SecondaryHeader:
    """GPS time of the block's first line (CUC: the line clock's ticks are 2^-16 s) and the
    block identification."""
    ticks = sim.acquisition.start_ticks[band, detector] + first_line * line_ticks(BY_NAME[band].resolution_m)
    coarse, fine = divmod(ticks, TICKS_PER_S)
    t_ref = ccsds.cuc_from_datetime(sim.orbit.t_ref, ancillary.GPS_UTC_S)[0]
    cfg = sim.config
    return ccsds.SecondaryHeader(t_ref + coarse, fine, BY_NAME[band].index, detector, first_line, n_lines,
                                 sim.instrument.n_elements(band),
                                 ccsds.compression_status(cfg.wavelet_levels, cfg.band_qstep(band)))


def _records(packets: list[bytes], detector: int) -> bytes:
    """The band-file records of ``packets``: each annotated with its reception time (the packet
    time in UTC plus :data:`DOWNLINK_DELAY_S`) and the virtual channel of its VMC board."""
    vcid = ccsds.VCID_MSI[(detector - 1) // 6]
    out = []
    for p in packets:
        coarse, fine = struct.unpack_from(">IH", p, ccsds.PRIMARY_SIZE)
        reception = ccsds.datetime_from_cuc(coarse, fine, ancillary.GPS_UTC_S) + timedelta(seconds=DOWNLINK_DELAY_S)
        out.append(ccsds.annotate(p, reception, vcid))
    return b"".join(out)


def _utc(t_ref: datetime, ticks: int) -> datetime:
    return t_ref + timedelta(microseconds=int(round(ticks * 1e6 / TICKS_PER_S)))


def _utc_ticks(sim: Simulation, ticks: int) -> datetime:
    return _utc(sim.orbit.t_ref, ticks)


def dem_name(t_ref: datetime) -> str:
    """The DEM_SRTM folder of a simulation of reference time ``t_ref`` (creation and start):
    ``S2__OPER_DEM_SRTMFO_SIMU_<t_ref>_S<t_ref>``, the datastrip's ``PRODUCTION_DEM_TYPE``."""
    return aux.dem_srtm_name(l0.CENTRE, t_ref, t_ref)


def synthetic_geoid() -> aux.GeoidGrid:
    """A smooth geoid undulation N (m) on the global 0.25° grid of the real DEM_GEOID (1440 × 721
    cell centres from 180° W, 90° N): a few tens of metres of long-wavelength terms plus a 10°
    ripple of ±4 m (up to about 2 m over 50 km). The same for every simulation."""
    lon = np.radians(-180.0 + 0.25 * np.arange(1440))
    lat = np.radians(90.0 - 0.25 * np.arange(721))[:, None]
    n = (18.0 + 22.0 * np.sin(2 * lat) * np.cos(lon + 0.7) + 9.0 * np.cos(5 * lon) * np.cos(3 * lat)
         + 4.0 * np.sin(37 * lon + 1.3) * np.cos(29 * lat + 0.4))
    return aux.GeoidGrid(values=n.astype(np.float32), lon0=-180.0, lat0=90.0, step_lon=0.25, step_lat=0.25)


def ut1utc_name(eop: aux.EarthOrientationTable) -> str:
    """File name (no extension) of the AUX_UT1UTC of ``eop`` (:func:`ancillary.eop_validity`)."""
    return aux.ut1utc_file_name(*ancillary.eop_validity(eop))


def granule_starts(config: SimulationConfig, acq: Acquisition) -> dict[tuple[int, int], datetime]:
    """{(detector, granule index): UTC of the granule's first line over its bands}."""
    out = {}
    for d in config.detectors:
        for gi in range(config.n_lines_10m // config.granule_lines_10m):
            g0 = gi * config.granule_lines_10m
            t0 = min(acq.start_ticks[b, d] + g0 * 10 // BY_NAME[b].resolution_m
                     * line_ticks(BY_NAME[b].resolution_m) for b in config.bands)
            out[d, gi] = _utc(acq.orbit.t_ref, t0)
    return out


def datastrip_metadata(config: SimulationConfig, acq: Acquisition, eop: aux.EarthOrientationTable,
                       gipp_files: list[Path], dem: str, compression_rates: dict[str, float] | None = None,
                       packets: dict[tuple[int, str], int] | None = None,
                       degradation: l0_metadata.Degradation | None = None) -> l0_metadata.Datastrip:
    """The L0 datastrip metadata of an acquisition: identity (creation = the reference time),
    granules (:func:`granule_starts`), band time stamps, ephemeris and given attitude
    (:mod:`ipf.simulator.ancillary`) and ``Auxiliary_Data_Info`` (the Earth orientation of
    ``eop`` at the sensing start, ``gipp_files``, the ``dem`` and AUX_UT1UTC names).
    ``compression_rates`` (bits per element, default 0), ``packets`` per (detector, band)
    (default 0) and ``degradation`` (default none) are what the packets say."""
    mission, t_ref = config.mission, acq.orbit.t_ref
    created = t_ref
    t_lo, t_hi = ticks_range(config, acq)
    start, stop = _utc(t_ref, t_lo), _utc(t_ref, t_hi)
    abs_orbit = safe.absolute_orbit(mission, t_ref, config.lat_deg)
    granules = tuple(l0_metadata.GranuleRef(granule_id=l0.granule_name(mission, created, t, d), detector=d,
                                            position=gi * config.granule_lines_10m + 1)
                     for (d, gi), t in granule_starts(config, acq).items())
    stamps = tuple(l0_metadata.BandTimeStamp(band=BY_NAME[b].index, detector=d, reference_line=1,
                                             gps_time=ancillary.gps_times(t_ref, np.array([acq.start_ticks[b, d]]))[0])
                   for b in config.bands for d in config.detectors)
    utc0 = ancillary.utc_times(t_ref, np.array([t_lo]))
    e = eop.at(utc0)
    arcsec = np.pi / 180 / 3600
    refs = tuple(l0_metadata.GippRef(type="_".join(p.name.split("_")[2:4]), version="0001", file_name=p.stem)
                 for p in sorted(gipp_files, key=lambda p: p.name))
    span = ancillary.span_ticks(t_lo, t_hi)
    return l0_metadata.Datastrip(
        spacecraft=f"Sentinel-2{mission[-1]}",
        datatake_id=f"G{mission}_{start:%Y%m%dT%H%M%S}_{abs_orbit:06d}_N{l0.BASELINE[1:]}",
        datastrip_id=l0.datastrip_name(mission, created, start), datatake_start=start, sensing_start=start,
        sensing_stop=stop, processing_baseline=l0.BASELINE[1:], processing_centre=l0.CENTRE, creation=created,
        orbit_number=safe.relative_orbit(mission, abs_orbit), absolute_orbit=abs_orbit, granules=granules,
        active_detectors=tuple(config.detectors),
        bands=tuple(l0_metadata.SpectralBand(band=BY_NAME[b].index,
                                             compression_rate=(compression_rates or {}).get(b, 0.0))
                    for b in sorted(config.bands, key=lambda b: BY_NAME[b].index)),
        packet_counters=tuple(l0_metadata.PacketCounter(detector=d, band=BY_NAME[b].index, data_strip_start=1,
                                                        scene_position=1, packets=(packets or {}).get((d, b), 0))
                              for d in config.detectors for b in config.bands),
        degradation=degradation or l0_metadata.Degradation(percentage=0.0, lost=0, too_degraded=0, kept_degraded=0),
        time_stamp=l0_metadata.TimeStamp(line_period_ms=LINE_TICKS_10M * 1000 / TICKS_PER_S, stamps=stamps),
        ancillary=l0_metadata.SatelliteAncillary(ephemeris=ancillary.ephemeris(acq, span),
                                                 attitudes=ancillary.attitudes(acq, span, eop)),
        auxiliary=l0_metadata.AuxiliaryInfo(
            ut1_utc_s=round(float(e.ut1_utc[0]), 7), gps_time_utc_s=ancillary.GPS_UTC_S,
            gps_time_tai_s=ancillary.GPS_TAI_S, pole_u_arcsec=round(float(e.xp[0]) / arcsec, 6),
            pole_v_arcsec=round(float(e.yp[0]) / arcsec, 6), gipps=refs, dem=dem,
            iers_bulletin=ut1utc_name(eop), reference_band=REFERENCE_BAND))


def _cloudy_percentage(sim: Simulation, detector: int, first_10m: int, lines_10m: int) -> float:
    """Truth cloud fraction (%) of the ground seen by the granule (first band, every 4th line
    and element)."""
    band = sim.config.bands[0]
    r = BY_NAME[band].resolution_m // 10
    lines = np.arange(first_10m // r, (first_10m + lines_10m) // r, 4, dtype=np.float64)
    e, n, _ = locate(sim.context, band, detector, lines)
    return round(float(sim.scene.cloud_fraction(e[:, ::4], n[:, ::4]).mean()) * 100.0, 4)


def write_l0(sim: Simulation, folder: Path, gipp_files: list[Path] = (), log=lambda *a: None) -> tuple[Path, dict]:
    """Simulate and write the L0 datastrip PDI (metadata, SAD packets in ANC_DATA/, then the
    manifest.safe listing them) and granule PDIs into ``folder``/DATASTRIP and
    ``folder``/GRANULE; ``gipp_files`` are listed in the datastrip's ``GIPP_List``. Returns
    (datastrip folder, fault log)."""
    cfg = sim.config
    ctx = sim.context
    mission = cfg.mission
    created = sim.orbit.t_ref
    starts = granule_starts(cfg, sim.acquisition)
    ds_id = l0.datastrip_name(mission, created, _utc_ticks(sim, sim.ticks_range()[0]))
    seq: dict[int, int] = {}
    in_file: dict[tuple[int, str], int] = {}
    faults: dict[str, dict] = {}
    block_bytes = {b: 0 for b in cfg.bands}
    degraded = {"lost": 0, "crc": 0}
    for (d, gi), g_start in starts.items():
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
                    block_bytes[b] += len(stream)
                    sec = _sec_header(sim, b, d, first, min(cfg.block_lines, img.shape[0] - k))
                    pk = ccsds.packetize(stream, apid, seq.get(apid, 0), sec)
                    seq[apid] = (seq.get(apid, 0) + len(pk)) % ccsds.SEQ_MODULO
                    packets[b] += pk
            log(f"detector {d} granule {gi} lines {c0}-{c1}")
        gname = l0.granule_name(mission, created, g_start, d)
        gfolder = folder / l0.GRANULE_DIR / gname
        (gfolder / l0.IMG_DATA).mkdir(parents=True, exist_ok=False)
        counters = []
        n_total = n_bad = 0
        for b in cfg.bands:
            pk = packets[b]
            n_total += len(pk)
            if cfg.faults.active:
                pk, flog = ccsds.inject_faults(pk, cfg.faults, np.random.default_rng(
                    [sim.seed, 2, d, gi, BY_NAME[b].index]))
                faults[f"{gname}/{b}"] = flog
                degraded["lost"] += len(flog["lost"])
                degraded["crc"] += len(flog["crc"])
                n_bad += len(flog["lost"]) + len(flog["crc"])
            atomic_write(gfolder / l0.IMG_DATA / l0.band_file_name(gname, b), _records(pk, d))
            before = in_file.get((d, b), 0)
            counters.append(l0_metadata.PacketCounter(detector=d, band=BY_NAME[b].index, data_strip_start=before + 1,
                                                      scene_position=gi + 1, packets=len(pk)))
            in_file[d, b] = before + len(pk)
        l0_metadata.write_granule_metadata(gfolder, l0_metadata.Granule(
            granule_id=gname, datastrip_id=ds_id, detector=d, sensing_time=g_start, position=g0 + 1,
            creation=created, processing_centre=l0.CENTRE, packet_counters=tuple(counters),
            degraded_percentage=round(100.0 * n_bad / max(n_total, 1), 4),
            cloudy_percentage=_cloudy_percentage(sim, d, g0, cfg.granule_lines_10m)))
    elements = {b: cfg.lines(b) * sim.instrument.n_elements(b) * len(cfg.detectors) for b in cfg.bands}
    n_made = sum(in_file.values()) + degraded["lost"]
    ds = datastrip_metadata(
        cfg, sim.acquisition, sim.eop, list(gipp_files), dem_name(sim.orbit.t_ref),
        compression_rates={b: round(8.0 * block_bytes[b] / elements[b], 3) for b in cfg.bands}, packets=in_file,
        degradation=l0_metadata.Degradation(
            percentage=round(100.0 * (degraded["lost"] + degraded["crc"]) / max(n_made, 1), 4),
            lost=degraded["lost"], too_degraded=0, kept_degraded=degraded["crc"]))
    ds_folder = folder / l0.DATASTRIP_DIR / ds.datastrip_id
    (ds_folder / l0.ANC_DATA).mkdir(parents=True, exist_ok=True)
    l0_metadata.write_datastrip_metadata(ds_folder, ds)
    write_sad(sim, ds_folder / l0.ANC_DATA, created, ds.ancillary.attitudes)
    l0_manifest.write_datastrip_manifest(ds_folder, ds)
    return ds_folder, faults


def write_sad(sim: Simulation, folder: Path, created: datetime, att: l0_metadata.Attitudes) -> Path:
    """The SAD packets (:mod:`ipf.formats.sad`) of the ancillary span: at every sample of the
    datastrip's attitudes ``att`` the GPS time, the orbit's ECEF position and velocity and the
    quaternion (w, x, y, z) piloting -> EME2000."""
    lo, hi = sim.span()
    ticks = np.arange(lo, hi + 1, ancillary.ATTITUDE_STEP_TICKS)
    pos, vel = sim.orbit.state(ticks / TICKS_PER_S)
    start, stop = (_utc_ticks(sim, v).replace(tzinfo=None) for v in (lo, hi))
    orbit = safe.absolute_orbit(sim.config.mission, sim.orbit.t_ref, sim.config.lat_deg)
    name = sad.sad_file_name(sim.config.mission, l0.CENTRE, created, start, stop, orbit)
    return sad.write_sad(folder / name, sad.SadData(att.gps_time.astype("datetime64[us]"), pos, vel, att.quaternion))


# --------------------------------------------------------------------------- AUX
def write_aux(sim: Simulation, folder: Path, gri: np.ndarray) -> list[Path]:
    """AUX_UT1UTC (.HDR + .DBL; the .HDR path returned), DEM_GEOID (:func:`synthetic_geoid`;
    the .HDR), DEM_SRTM (folder: the 30 m block mean of the truth DEM as heights above that geoid,
    which the processors' ``read_dem`` turns back into the ellipsoidal block mean) and GRI_ORBIT
    (from :func:`render_truth`)."""
    from ipf.formats.geotiff import write_dem_srtm

    folder.mkdir(parents=True, exist_ok=True)
    out = [aux.write_ut1utc(folder, sim.eop, *ancillary.eop_validity(sim.eop))]
    s = sim.scene
    g = s.dem_grid
    h, w = (v // 3 * 3 for v in s.dem.shape)
    dem30 = s.dem[:h, :w].reshape(h // 3, 3, w // 3, 3).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
    t_ref, mission = sim.orbit.t_ref, sim.config.mission
    geoid = synthetic_geoid()
    out.append(aux.write_geoid(folder, aux.geoid_name(l0.CENTRE, t_ref, t_ref), geoid))
    out.append(write_dem_srtm(folder / dem_name(t_ref), dem30, sim.geodesy.utm_epsg, g.x0 - g.step / 2,
                              g.y0 + g.step / 2, 3 * g.step, geoid))
    orbit = safe.relative_orbit(mission, safe.absolute_orbit(mission, t_ref, sim.config.lat_deg))
    out.append(aux.write_geotiff(folder / f"{aux.gri_file_name(mission, orbit, l0.CENTRE, t_ref, t_ref)}.TIF",
                                 gri, sim.geodesy.utm_epsg, sim.footprint[0], sim.footprint[3], 10.0, nodata=0,
                                 tags={"CONTENT": "cloud-free TOA reflectance x 10000, B04, orthorectified",
                                       "BAND": "B04"}))
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
    lo, hi = sim.span()
    ticks = np.arange(lo, hi + 1, ancillary.ATTITUDE_STEP_TICKS)
    q = ancillary.continuous_quaternions(sim.acquisition.attitude(ticks / TICKS_PER_S, true=True))
    out = [write_true_attitude(folder, ancillary.utc_times(sim.orbit.t_ref, ticks), q)]
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
    gipp_files = write_gipps(sim, out / "GIPP")
    timings["gipp"] = time.perf_counter() - t
    t = time.perf_counter()
    _, faults = write_l0(sim, out / "L0", gipp_files, log)
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
