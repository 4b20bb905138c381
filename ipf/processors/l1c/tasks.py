"""Level-1C tile processor: orthorectified TOA reflectance of one MGRS tile.

- TILE_INIT: PDI_DS (L1B, refined geometry when GEO1B_FINALIZE made it) + DEM + AUX + GIPPs ->
  TILE_GRID store: the tile (:func:`ipf.geometry.tiles.choose_tile`: the TILE_ID parameter, or
  the tile holding most of the datastrip footprint), its DEM in the tile's UTM zone
  (:func:`ipf.geometry.dem.tile_dem`), the inverse location grids of every (band, detector)
  (:func:`ipf.geometry.ortho.inverse_grid`), cos(sun zenith) at the grid nodes, and the sun and
  viewing angles on the 5 km grid (:mod:`ipf.geometry.angles`); entry
  :class:`~ipf.products.tile.TileGrid`.
- GEN_ORTHO_TOA: PDI_DS + TILE_GRID -> PDI_TILE_TOA store: per band, L1C counts
  ``round(ρ·10000) + 1000`` (processing baseline 04.00: 0 no data, 65535 saturated), the quality
  mask (bits of the L1B mask, no data outside the swath) and the detector footprint (detector id,
  0 outside), by strips (:func:`ipf.geometry.ortho.ortho_strips`).
- MASK_S2: PDI_TILE_TOA -> MSK_CLOUDS store: opaque cloud, cirrus and snow at 60 m
  (:mod:`ipf.radiometry.clouds`), cloud cover.
- TILE_FINALIZE: PDI_TILE_TOA + TILE_GRID + MSK_CLOUDS -> PDI_TILE (the L1C tile: images hard
  linked, entry :class:`~ipf.products.tile.L1CTile`) and REPORT (JSON quality summary).

Tile images cover a *window* of the tile, the part the datastrip can reach (aligned on 60 m):
image attribute ``window`` = ``[row, col]`` of its first pixel in the full tile at its
resolution, ``tile_shape`` the full tile; everything outside is no data. Images are named by
:func:`ipf.products.tile.image_name`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.formats.safe import PROCESSING_BASELINE
from ipf.geometry.datation import utc
from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, TaskError
from ipf.products import datastrip as dsp
from ipf.products import tile as tp
from ipf.products.datastrip import read_datastrip, read_geometry
from ipf.products.store import ImageStore
from ipf.radiometry import masks, reflectance

__all__ = [
    "BASELINE", "STRIP_M", "WINDOW_ALIGN_M", "sensing_mid", "resampling_method", "window_heights",
    "ortho_band", "tile_init", "gen_ortho_toa", "mask_s2", "tile_finalize",
]

BASELINE = PROCESSING_BASELINE
STRIP_M = 10240
"""Output rows per strip, in metres (1024 rows at 10 m)."""
WINDOW_ALIGN_M = 60


# --------------------------------------------------------------------------- helpers
def sensing_mid(ds) -> datetime:
    """Middle of the datastrip's sensing period (UTC; naive times are taken as UTC)."""
    return utc(ds.sensing_start + (ds.sensing_stop - ds.sensing_start) / 2)


def _sensor_model(ctx: TaskContext, store: ImageStore):
    """Sensor model of the L1B product, with the refined attitude when it has one."""
    from ipf.formats.aux import select_ut1utc
    from ipf.products.datastrip import sensor_model

    return sensor_model(store, select_ut1utc(ctx.inputs("AUX_UT1UTC")), ctx.inputs("GIP_SPAMOD"),
                        ctx.inputs("GIP_VIEDIR"), refined=True)


# --------------------------------------------------------------------------- TILE_INIT
def tile_init(ctx: TaskContext) -> None:
    """TILE_INIT: PDI_DS (L1B) + DEM (DEM_SRTM + DEM_GEOID) + AUX_UT1UTC + GIP_VIEDIR + GIP_SPAMOD ->
    TILE_GRID store (tile, tile DEM, inverse location grids, cos sun zenith nodes, angles)."""
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.dem import height_range, tile_dem
    from ipf.geometry.angles import cos_sun_zenith
    from ipf.geometry.footprint import detector_corners_lonlat
    from ipf.geometry.geodesy import geodesy
    from ipf.geometry.grid import build_location_grid, grid_steps
    from ipf.geometry.ortho import inverse_grid, node_coordinates, reachable_window
    from ipf.geometry.sun import sun_earth_distance_au
    from ipf.geometry.tiles import TILE_SIZE_M, choose_tile

    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    images = dsp.radiance_images(store)
    dem = read_dem(ctx.input("DEM_SRTM"), ctx.input("DEM_GEOID"))
    model = _sensor_model(ctx, store)
    first = images[0].band
    lon, lat = detector_corners_lonlat(model, dem, first, [(a.detector, a.lines, a.pixels)
                                                           for a in images if a.band == first])
    tile = choose_tile(lon, lat, ctx.params.get("TILE_ID"))
    geo = geodesy(tile.epsg)
    tdem = tile_dem(dem, tile)
    h_range = height_range(tdem.heights)
    out = ImageStore(ctx.output("TILE_GRID"))
    grids = []
    for k, a in enumerate(images, 1):
        band, det, res = a.band, a.detector, a.resolution
        loc = build_location_grid(model, geo, band, det, (0.0, a.lines - 1.0), h_range,
                                  resolution_m=res, exact_range=True)
        g = inverse_grid(loc, tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res), h_range,
                         a.lines, a.pixels)
        grids.append((g, res))
        tp.write_inverse_grid(out, band, det, res, g)
        ctx.progress(80.0 * k / len(images), f"inverse location grid {band} D{det:02d}")
    mid = sensing_mid(info)
    for res in sorted({a.resolution for a in images}):
        e, n = node_coordinates(tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res))
        tp.write_cos_sun_zenith(out, res, grid_steps(res), cos_sun_zenith(geo, e, n, mid))
    tp.write_tile_dem(out, tdem)
    _write_angles(out, model, geo, dem, tile, images, mid)
    window = reachable_window(grids, TILE_SIZE_M, WINDOW_ALIGN_M)
    if window is None:
        raise TaskError(f"tile {tile.name}: no detector sees it")
    geometry = read_geometry(store, missing_ok=True)
    tp.write_tile(out, tp.TileGrid(
        name=tile.name, epsg=tile.epsg, ulx=tile.ulx, uly=tile.uly, window_m=window, datastrip=info.identifier,
        spacecraft=info.spacecraft, sensing_start=info.sensing_start, sensing_stop=info.sensing_stop,
        sensing_mid=mid,
        sun_earth_distance_au=sun_earth_distance_au(mid), h_range=h_range,
        refined=bool(geometry is not None and geometry.refined),
        footprint_lonlat=[(float(x), float(y)) for x, y in zip(lon, lat)]))
    out.flush()
    ctx.log.info(f"tile {tile.name}: window {window[2] - window[0]} x {window[3] - window[1]} m, "
                 f"{len(images)} inverse location grids")


def _write_angles(out: ImageStore, model, geo, dem, tile, images, when) -> None:
    """Sun and viewing angle grids (:func:`ipf.geometry.angles.angle_grids`) into ``out``; a
    (band, detector) that sees no node of the grid is left out."""
    from ipf.geometry import angles

    bands = sorted({a.band for a in images}, key=lambda b: BY_NAME[b].index)
    detectors = sorted({a.detector for a in images})
    ranges = {(a.band, a.detector): (-0.5, a.lines - 0.5) for a in images}
    grids = angles.angle_grids(model, geo, dem, tile, bands, detectors, when, line_ranges=ranges)
    for key, (zen, az) in grids.items():
        if key == "sun":
            tp.write_angle_grid(out, "zenith", zen)
            tp.write_angle_grid(out, "azimuth", az)
        elif not np.isnan(zen).all():
            tp.write_angle_grid(out, "zenith", zen, *key)
            tp.write_angle_grid(out, "azimuth", az, *key)


# --------------------------------------------------------------------------- GEN_ORTHO_TOA
def resampling_method(params: dict) -> str:
    """The RESAMPLING task parameter (BICUBIC or CUBIC_SPLINE) as an ortho method name."""
    from ipf.geometry.ortho import METHODS

    value = str(params.get("RESAMPLING") or "BICUBIC").strip().lower()
    if value not in METHODS:
        raise TaskError(f"RESAMPLING {value.upper()!r}: expected BICUBIC or CUBIC_SPLINE")
    return value


def window_heights(grids: ImageStore, tile: tp.TileGrid, resolution: int) -> np.ndarray:
    """DEM heights (m, float32) of the tile window's pixels at ``resolution``."""
    from ipf.geometry.ortho import tile_heights

    r0, r1, c0, c1 = tile.window(resolution)
    return tile_heights(tp.read_tile_dem(grids), tile.ulx, tile.uly, resolution, (r0, r1), (c0, c1))


def ortho_band(l1b: ImageStore, grids: ImageStore, band: str, tile: tp.TileGrid, strip_rows: int | None = None,
               method: str = "bicubic", heights: np.ndarray | None = None):
    """Orthorectified radiance of one band over the tile window, by strips: the L1B images and
    inverse grids of ``band`` through :func:`ipf.geometry.ortho.ortho_strips` (which see for
    what is yielded); heights: :func:`window_heights` at the band's resolution (computed when
    not given); strip_rows: :data:`STRIP_M` by default."""
    from ipf.geometry.ortho import ortho_source, ortho_strips

    res = tp.inverse_grid_resolution(grids, band)
    heights = window_heights(grids, tile, res) if heights is None else heights
    sources = [ortho_source(det, dsp.read_image(l1b, dsp.RADIANCE, band, det),
                            dsp.read_image(l1b, dsp.MASK, band, det), tp.read_inverse_grid(grids, band, det),
                            masks.NO_DATA, method)
               for det in tp.inverse_grid_detectors(grids, band)]
    return ortho_strips(sources, heights, tile.window(res), tile.tile_width(res),
                        strip_rows or max(1, STRIP_M // res), method)


def gen_ortho_toa(ctx: TaskContext) -> None:
    """GEN_ORTHO_TOA: PDI_DS (L1B) + TILE_GRID -> PDI_TILE_TOA (L1C counts, quality mask and
    detector footprint per band over the tile window)."""
    l1b = ImageStore(ctx.input("PDI_DS"))
    grids = ImageStore(ctx.input("TILE_GRID"))
    tile = tp.read_tile(grids)
    method = resampling_method(ctx.params)
    radiance: dict[str, dsp.RadianceAttrs] = {}
    for a in dsp.radiance_images(l1b):
        radiance.setdefault(a.band, a)
    bands = sorted(radiance, key=lambda b: (radiance[b].resolution, BY_NAME[b].index))
    out = ImageStore(ctx.output("PDI_TILE_TOA"))
    heights: dict[int, np.ndarray] = {}
    for k, band in enumerate(bands, 1):
        e0 = radiance[band].solar_irradiance
        res = radiance[band].resolution
        if res not in heights:
            heights = {res: window_heights(grids, tile, res)}
        r0, r1, c0, c1 = tile.window(res)
        shape = (r1 - r0, c1 - c0)
        cos_nodes, step = tp.read_cos_sun_zenith(grids, res)
        scale = np.pi * tile.sun_earth_distance_au**2 / e0
        place = dict(band=band, resolution=res, window=[r0, c0], tile_shape=[tile.tile_width(res)] * 2,
                     epsg=tile.epsg, tile=tile.name)
        toa_attrs = tp.ToaAttrs(resampling=method, quantification_value=reflectance.QUANTIFICATION_VALUE,
                                radio_add_offset=reflectance.RADIO_ADD_OFFSET, solar_irradiance=e0, **place)
        quality_attrs = tp.QualityMaskAttrs(bits={"SATURATED": masks.SATURATED, "NO_DATA": masks.NO_DATA,
                                                  "DEFECTIVE": masks.DEFECTIVE}, **place)
        with (out.creating(tp.image_name(tp.TOA, band), shape, np.uint16, **toa_attrs.attrs()) as toa,
              out.creating(tp.image_name(tp.QUALITY, band), shape, np.uint8, **quality_attrs.attrs()) as quality,
              out.creating(tp.image_name(tp.DETFOO, band), shape, np.uint8,
                           **tp.DetectorFootprintAttrs(**place).attrs()) as detfoo):
            for row, L, mask, det in ortho_band(l1b, grids, band, tile, method=method, heights=heights[res]):
                rows = slice(row, row + L.shape[0])
                reflectance.toa_counts(L, mask, det, cos_nodes, step, r0 + row, c0, scale,
                                       dn=toa[rows], quality=quality[rows])
                detfoo[rows] = det
            seen = np.count_nonzero(detfoo) / detfoo.size
        ctx.progress(100.0 * k / len(bands), f"{band}: {100 * seen:.1f} % of the window seen")
    tp.write_tile(out, tile)
    out.flush()


# --------------------------------------------------------------------------- MASK_S2
def mask_s2(ctx: TaskContext) -> None:
    """MASK_S2: PDI_TILE_TOA -> MSK_CLOUDS store (opaque cloud, cirrus and snow classes at 60 m,
    :func:`ipf.radiometry.clouds.classify`, thresholds from the task parameters)."""
    from ipf.radiometry import clouds

    toa = ImageStore(ctx.input("PDI_TILE_TOA"))
    tile = tp.read_tile(toa)
    present = tp.tile_bands(toa)
    blue = next((b for b in ("B02", "B01") if b in present), None)
    if blue is None:
        raise InputError("neither B02 nor B01: no cloud test possible", source=toa.root / "index.json")
    p = {k: float(ctx.params.get(k, d)) for k, d in (("CLOUD_REFLECTANCE", clouds.CLOUD_REFLECTANCE),
                                                   ("SNOW_NDSI", clouds.SNOW_NDSI),
                                                   ("CIRRUS_REFLECTANCE", clouds.CIRRUS_REFLECTANCE))}

    def rho(band: str) -> np.ndarray | None:
        if band not in present:
            return None
        return clouds.reflectance_60m(tp.read_image(toa, tp.TOA, band), tp.placement(toa, tp.TOA, band).resolution)

    rho_blue = rho(blue)
    classes = clouds.classify(rho_blue, rho("B03"), rho("B11"), rho("B10"), p["CLOUD_REFLECTANCE"],
                              p["SNOW_NDSI"], p["CIRRUS_REFLECTANCE"])
    cover = clouds.cover_fractions(classes, np.isfinite(rho_blue))
    r0, _, c0, _ = tile.window(60)
    out = ImageStore(ctx.output("MSK_CLOUDS"))
    out.write(tp.CLASSI, classes, **tp.CloudClassesAttrs(
        resolution=60, window=[r0, c0], tile_shape=[tile.tile_width(60)] * 2, epsg=tile.epsg, tile=tile.name,
        bits={"OPAQUE": clouds.OPAQUE, "CIRRUS": clouds.CIRRUS, "SNOW": clouds.SNOW},
        thresholds=p, blue_band=blue, **cover).attrs())
    tp.write_tile(out, tile)
    out.flush()
    ctx.log.info(f"tile {tile.name}: cloud cover {100 * cover['cloud_cover']:.1f} %, "
                 f"snow {100 * cover['snow_cover']:.1f} %")


# --------------------------------------------------------------------------- TILE_FINALIZE
def _mean_angles(grids: ImageStore) -> dict[str, tp.MeanAngles]:
    """Mean sun angles and mean viewing angles per band (over its detectors) of the angle grids."""
    from ipf.geometry.angles import mean_sun_angles, mean_viewing_angles

    out = {}
    if tp.has_image(grids, tp.SUN_ZENITH):
        z, az = mean_sun_angles(tp.read_image(grids, tp.SUN_ZENITH), tp.read_image(grids, tp.SUN_AZIMUTH))
        out["sun"] = tp.MeanAngles(zenith=z, azimuth=az)
    for band, pairs in tp.viewing_angle_grids(grids).items():
        z, az = mean_viewing_angles(pairs)
        out[band] = tp.MeanAngles(zenith=z, azimuth=az)
    return out


def _band_summary(toa: ImageStore, band: str, detectors: list[int]) -> tp.BandSummary:
    """:func:`ipf.radiometry.reflectance.band_statistics` of one band, with its resolution and
    solar irradiance."""
    a = tp.read_toa_attrs(toa, band)
    stats = reflectance.band_statistics(tp.read_image(toa, tp.TOA, band), tp.read_image(toa, tp.QUALITY, band),
                                        tp.read_image(toa, tp.DETFOO, band), detectors,
                                        a.tile_shape[0] * a.tile_shape[1])
    return tp.BandSummary(resolution=a.resolution, solar_irradiance=a.solar_irradiance, **asdict(stats))


REPORT_KEYS = ("name", "datastrip", "processing_baseline", "cloud_cover", "snow_cover", "coverage", "refined",
               "mean_angles", "bands", "window_m")
"""Entries of the L1C tile that TILE_FINALIZE's REPORT holds."""


def tile_finalize(ctx: TaskContext) -> None:
    """TILE_FINALIZE: PDI_TILE_TOA + TILE_GRID + MSK_CLOUDS -> PDI_TILE (the L1C tile, images
    linked, entry :class:`~ipf.products.tile.L1CTile`) and REPORT (JSON: coverage, cloud cover,
    statistics)."""
    toa = ImageStore(ctx.input("PDI_TILE_TOA"))
    grids = ImageStore(ctx.input("TILE_GRID"))
    cloud = ImageStore(ctx.input("MSK_CLOUDS"))
    tile = tp.read_tile(toa)
    if tp.read_tile(grids).name != tile.name or tp.read_tile(cloud).name != tile.name:
        raise TaskError("PDI_TILE_TOA, TILE_GRID and MSK_CLOUDS are not of the same tile")
    out = ImageStore(ctx.output("PDI_TILE"))
    bands = {}
    for band in sorted(tp.tile_bands(toa)):
        for prefix in (tp.TOA, tp.QUALITY, tp.DETFOO):
            out.link(toa, tp.image_name(prefix, band))
        bands[band] = _band_summary(toa, band, tp.inverse_grid_detectors(grids, band))
    out.link(cloud, tp.CLASSI)
    for name in tp.angle_images(grids):
        out.link(grids, name)
    c = tp.read_cloud_classes_attrs(cloud)
    l1c = tp.L1CTile(
        **{k: getattr(tile, k) for k in tp.TileGrid.model_fields},
        processing_baseline=BASELINE, quantification_value=reflectance.QUANTIFICATION_VALUE,
        radio_add_offset=reflectance.RADIO_ADD_OFFSET, nodata_value=reflectance.NODATA_DN,
        saturated_value=reflectance.SATURATED_DN, reflectance_conversion_u=1.0 / tile.sun_earth_distance_au**2,
        cloud_cover=c.cloud_cover, snow_cover=c.snow_cover, mean_angles=_mean_angles(grids), bands=bands,
        coverage=max((b.coverage for b in bands.values()), default=0.0))
    tp.write_tile(out, l1c)
    out.flush()
    entry = l1c.entry()
    report = {k: entry[k] for k in REPORT_KEYS}
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    ctx.log.info(f"L1C tile {l1c.name}: {100 * l1c.coverage:.1f} % covered, "
                 f"cloud cover {100 * l1c.cloud_cover:.1f} %")
