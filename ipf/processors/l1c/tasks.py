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
from datetime import datetime, timezone

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.formats.safe import PROCESSING_BASELINE
from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, TaskError
from ipf.products import tile as tp
from ipf.products.datastrip import read_datastrip, read_geometry
from ipf.products.store import ImageStore
from ipf.products.store import image_name as l1b_image_name
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
def _radiance_images(store: ImageStore) -> list[dict]:
    """Attributes (with ``name``) of the L1B radiance images, in band then detector order."""
    images = [store.attrs(n) | {"name": n} for n in store.names(kind="radiance")]
    if not images:
        raise InputError("no radiance image (not an L1B product?)", source=store.root / "index.json")
    return sorted(images, key=lambda a: (BY_NAME[a["band"]].index, a["detector"]))


def sensing_mid(ds) -> datetime:
    """Middle of the datastrip's sensing period (UTC; naive times are taken as UTC)."""
    mid = ds.sensing_start + (ds.sensing_stop - ds.sensing_start) / 2
    return mid if mid.tzinfo is not None else mid.replace(tzinfo=timezone.utc)


def _sensor_model(ctx: TaskContext, store: ImageStore):
    """Sensor model of the L1B product, with the refined attitude when it has one."""
    from ipf.products.datastrip import sensor_model

    return sensor_model(store, ctx.input("AUX_RESORB"), ctx.input("AUX_SADATT"), ctx.input("GIP_SPAMOD"),
                        ctx.inputs("GIP_VIEDIR"), refined=True)


# --------------------------------------------------------------------------- TILE_INIT
def tile_init(ctx: TaskContext) -> None:
    """TILE_INIT: PDI_DS (L1B) + DEM + AUX_RESORB + AUX_SADATT + GIP_VIEDIR + GIP_SPAMOD ->
    TILE_GRID store (tile, tile DEM, inverse location grids, cos sun zenith nodes, angles)."""
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.dem import height_range, tile_dem
    from ipf.geometry.footprint import detector_corners_lonlat
    from ipf.geometry.geodesy import geodesy, local_up
    from ipf.geometry.grid import build_location_grid, grid_steps
    from ipf.geometry.ortho import inverse_grid, node_coordinates, reachable_window
    from ipf.geometry.sun import sun_direction_ecef, sun_earth_distance_au
    from ipf.geometry.tiles import TILE_SIZE_M, choose_tile

    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    images = _radiance_images(store)
    dem = read_dem(ctx.input("DEM"))
    model = _sensor_model(ctx, store)
    first = images[0]["band"]
    lon, lat = detector_corners_lonlat(model, dem, first, [(a["detector"], a["lines"], a["pixels"])
                                                           for a in images if a["band"] == first])
    tile = choose_tile(lon, lat, ctx.params.get("TILE_ID"))
    geo = geodesy(tile.epsg)
    tdem = tile_dem(dem, tile)
    h_range = height_range(tdem.heights)
    out = ImageStore(ctx.output("TILE_GRID"))
    grids = []
    for k, a in enumerate(images, 1):
        band, det, res = a["band"], a["detector"], a["resolution"]
        loc = build_location_grid(model, geo, band, det, (0.0, a["lines"] - 1.0), h_range,
                                  resolution_m=res, exact_range=True)
        g = inverse_grid(loc, tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res), h_range,
                         a["lines"], a["pixels"])
        grids.append((g, res))
        common = dict(band=band, detector=det, resolution=res, step=g.step, h_lo=g.h_lo, h_hi=g.h_hi,
                      lines=g.lines, pixels=g.pixels)
        out.write(tp.image_name(tp.INVERSE_LINE, band, det), g.line, kind="inverse_line", **common)
        out.write(tp.image_name(tp.INVERSE_PIXEL, band, det), g.pixel, kind="inverse_pixel", **common)
        ctx.progress(80.0 * k / len(images), f"inverse location grid {band} D{det:02d}")
    mid = sensing_mid(info.metadata)
    for res in sorted({a["resolution"] for a in images}):
        e, n = node_coordinates(tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res))
        node_lon, node_lat = geo.from_utm(e, n)
        cos_sza = local_up(np.asarray(node_lon), np.asarray(node_lat)) @ sun_direction_ecef(mid)
        out.write(tp.image_name(tp.COS_SUN_ZENITH, resolution=res), cos_sza, kind="cos_sun_zenith",
                  resolution=res, step=grid_steps(res))
    out.write(tp.DEM, tdem.heights, kind="dem", x0=tdem.x0, y0=tdem.y0, step=tdem.step,
              unit="m above the WGS84 ellipsoid")
    _write_angles(out, model, geo, dem, tile, images, mid)
    window = reachable_window(grids, TILE_SIZE_M, WINDOW_ALIGN_M)
    if window is None:
        raise TaskError(f"tile {tile.name}: no detector sees it")
    geometry = read_geometry(store, missing_ok=True)
    ds = info.metadata
    tp.write_tile(out, tp.TileGrid(
        name=tile.name, epsg=tile.epsg, ulx=tile.ulx, uly=tile.uly, window_m=window, datastrip=ds.identifier,
        spacecraft=ds.spacecraft, sensing_start=ds.sensing_start, sensing_stop=ds.sensing_stop, sensing_mid=mid,
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

    bands = sorted({a["band"] for a in images}, key=lambda b: BY_NAME[b].index)
    detectors = sorted({a["detector"] for a in images})
    ranges = {(a["band"], a["detector"]): (-0.5, a["lines"] - 0.5) for a in images}
    grids = angles.angle_grids(model, geo, dem, tile, bands, detectors, when, line_ranges=ranges)
    for key, (zen, az) in grids.items():
        if key == "sun":
            out.write(tp.SUN_ZENITH, zen, kind="sun_angle", angle="zenith", unit="deg")
            out.write(tp.SUN_AZIMUTH, az, kind="sun_angle", angle="azimuth", unit="deg")
        else:
            band, det = key
            if np.isnan(zen).all():
                continue
            common = dict(band=band, detector=det, unit="deg")
            out.write(tp.image_name(tp.VIEW_ZENITH, band, det), zen, kind="viewing_angle", angle="zenith",
                      **common)
            out.write(tp.image_name(tp.VIEW_AZIMUTH, band, det), az, kind="viewing_angle", angle="azimuth",
                      **common)


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
    from ipf.geometry.ortho import TileDem, tile_heights

    d = tp.image_attrs(grids, tp.DEM)
    dem = TileDem(np.asarray(tp.read_image(grids, tp.DEM)), d["x0"], d["y0"], d["step"])
    r0, r1, c0, c1 = tile.window(resolution)
    return tile_heights(dem, tile.ulx, tile.uly, resolution, (r0, r1), (c0, c1))


def ortho_band(l1b: ImageStore, grids: ImageStore, band: str, tile: tp.TileGrid, strip_rows: int | None = None,
               method: str = "bicubic", heights: np.ndarray | None = None):
    """Orthorectified radiance of one band over the tile window, by strips: the L1B images and
    inverse grids of ``band`` through :func:`ipf.geometry.ortho.ortho_strips` (which see for
    what is yielded); heights: :func:`window_heights` at the band's resolution (computed when
    not given); strip_rows: :data:`STRIP_M` by default."""
    from ipf.geometry.ortho import InverseGrid, ortho_source, ortho_strips

    names = grids.names(kind="inverse_line", band=band)
    if not names:
        raise InputError(f"no inverse location grid for {band}", source=grids.root / "index.json")
    res = grids.attrs(names[0])["resolution"]
    heights = window_heights(grids, tile, res) if heights is None else heights
    sources = []
    for name in names:
        a = grids.attrs(name)
        det = a["detector"]
        g = InverseGrid(np.asarray(grids.read(name)),
                        np.asarray(tp.read_image(grids, tp.INVERSE_PIXEL, band, det)),
                        a["h_lo"], a["h_hi"], a["step"], a["lines"], a["pixels"])
        sources.append(ortho_source(det, l1b.read(l1b_image_name("radiance", band, det)),
                                    l1b.read(l1b_image_name("mask", band, det)), g, masks.NO_DATA, method))
    return ortho_strips(sources, heights, tile.window(res), tile.tile_width(res),
                        strip_rows or max(1, STRIP_M // res), method)


def gen_ortho_toa(ctx: TaskContext) -> None:
    """GEN_ORTHO_TOA: PDI_DS (L1B) + TILE_GRID -> PDI_TILE_TOA (L1C counts, quality mask and
    detector footprint per band over the tile window)."""
    from ipf.geometry.grid import grid_steps

    l1b = ImageStore(ctx.input("PDI_DS"))
    grids = ImageStore(ctx.input("TILE_GRID"))
    tile = tp.read_tile(grids)
    method = resampling_method(ctx.params)
    radiance = {}
    for a in _radiance_images(l1b):
        radiance.setdefault(a["band"], a)
    bands = sorted(radiance, key=lambda b: (radiance[b]["resolution"], BY_NAME[b].index))
    out = ImageStore(ctx.output("PDI_TILE_TOA"))
    heights: dict[int, np.ndarray] = {}
    for k, band in enumerate(bands, 1):
        attrs = radiance[band]
        res = attrs["resolution"]
        if res not in heights:
            heights = {res: window_heights(grids, tile, res)}
        r0, r1, c0, c1 = tile.window(res)
        shape = (r1 - r0, c1 - c0)
        cos_nodes = np.asarray(tp.read_image(grids, tp.COS_SUN_ZENITH, resolution=res))
        scale = np.pi * tile.sun_earth_distance_au**2 / attrs["solar_irradiance"]
        common = dict(band=band, resolution=res, window=[r0, c0], tile_shape=[tile.tile_width(res)] * 2,
                      epsg=tile.epsg, tile=tile.name)
        with (out.creating(tp.image_name(tp.TOA, band), shape, np.uint16, kind="toa",
                           unit="L1C count: reflectance x 10000 + 1000", resampling=method,
                           quantification_value=reflectance.QUANTIFICATION_VALUE,
                           radio_add_offset=reflectance.RADIO_ADD_OFFSET,
                           solar_irradiance=attrs["solar_irradiance"], **common) as toa,
              out.creating(tp.image_name(tp.QUALITY, band), shape, np.uint8, kind="quality_mask",
                           bits={"SATURATED": masks.SATURATED, "NO_DATA": masks.NO_DATA,
                                 "DEFECTIVE": masks.DEFECTIVE}, **common) as quality,
              out.creating(tp.image_name(tp.DETFOO, band), shape, np.uint8, kind="detector_footprint", nodata=0,
                           **common) as detfoo):
            for row, L, mask, det in ortho_band(l1b, grids, band, tile, method=method, heights=heights[res]):
                rows = slice(row, row + L.shape[0])
                reflectance.toa_counts(L, mask, det, cos_nodes, grid_steps(res), r0 + row, c0, scale,
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
    out.write(tp.CLASSI, classes, kind="cloud_classes", resolution=60, window=[r0, c0],
              tile_shape=[tile.tile_width(60)] * 2, epsg=tile.epsg, tile=tile.name,
              bits={"OPAQUE": clouds.OPAQUE, "CIRRUS": clouds.CIRRUS, "SNOW": clouds.SNOW},
              thresholds=p, blue_band=blue, **cover)
    tp.write_tile(out, tile)
    out.flush()
    ctx.log.info(f"tile {tile.name}: cloud cover {100 * cover['cloud_cover']:.1f} %, "
                 f"snow {100 * cover['snow_cover']:.1f} %")


# --------------------------------------------------------------------------- TILE_FINALIZE
def _mean_angles(grids: ImageStore) -> dict[str, tp.MeanAngles]:
    """Mean sun angles and mean viewing angles per band (over its detectors) of the angle grids."""
    from ipf.geometry.angles import mean_angles

    out = {}
    with np.errstate(invalid="ignore"):
        if tp.has_image(grids, tp.SUN_ZENITH):
            out["sun"] = tp.MeanAngles(zenith=float(np.nanmean(tp.read_image(grids, tp.SUN_ZENITH))),
                                       azimuth=float(np.nanmean(tp.read_image(grids, tp.SUN_AZIMUTH))))
        views = {}
        for name in grids.names(kind="viewing_angle", angle="zenith"):
            a = grids.attrs(name)
            views.setdefault(a["band"], []).append(
                (np.asarray(grids.read(name)),
                 np.asarray(tp.read_image(grids, tp.VIEW_AZIMUTH, a["band"], a["detector"]))))
        for band, pairs in views.items():
            z = np.concatenate([p[0].ravel() for p in pairs])
            az = np.concatenate([p[1].ravel() for p in pairs])
            mz, ma = mean_angles(z, az)
            out[band] = tp.MeanAngles(zenith=float(mz), azimuth=float(ma))
    return out


def _band_summary(toa: ImageStore, band: str, detectors: list[int]) -> tp.BandSummary:
    """Coverage, saturated and defective fractions, mean reflectance and detectors of one band."""
    a = tp.image_attrs(toa, tp.TOA, band)
    q = np.asarray(tp.read_image(toa, tp.QUALITY, band))
    detfoo = np.asarray(tp.read_image(toa, tp.DETFOO, band))
    per_detector = {d: int(np.count_nonzero(detfoo == d)) for d in detectors}
    n_seen = int(np.count_nonzero(detfoo))
    good = q == 0
    n_good = int(np.count_nonzero(good))
    dn_mean = float(np.asarray(tp.read_image(toa, tp.TOA, band)).mean(where=good, dtype=np.float64)) if n_good else None
    return tp.BandSummary(
        resolution=a["resolution"], solar_irradiance=a["solar_irradiance"],
        coverage=n_seen / (a["tile_shape"][0] * a["tile_shape"][1]),
        saturated_fraction=int(np.count_nonzero(q & masks.SATURATED)) / max(n_seen, 1),
        defective_fraction=int(np.count_nonzero(q & masks.DEFECTIVE)) / max(n_seen, 1),
        mean_reflectance=(None if dn_mean is None else
                          (dn_mean + reflectance.RADIO_ADD_OFFSET) / reflectance.QUANTIFICATION_VALUE),
        detectors=[d for d, n in per_detector.items() if n])


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
    for band in sorted(toa.attrs(n)["band"] for n in toa.names(kind="toa")):
        for prefix in (tp.TOA, tp.QUALITY, tp.DETFOO):
            out.link(toa, tp.image_name(prefix, band))
        detectors = sorted({grids.attrs(n)["detector"] for n in grids.names(kind="inverse_line", band=band)})
        bands[band] = _band_summary(toa, band, detectors)
    out.link(cloud, tp.CLASSI)
    for name in grids.names(kind="sun_angle") + grids.names(kind="viewing_angle"):
        out.link(grids, name)
    c = tp.image_attrs(cloud, tp.CLASSI)
    l1c = tp.L1CTile(
        **{k: getattr(tile, k) for k in tp.TileGrid.model_fields},
        processing_baseline=BASELINE, quantification_value=reflectance.QUANTIFICATION_VALUE,
        radio_add_offset=reflectance.RADIO_ADD_OFFSET, nodata_value=reflectance.NODATA_DN,
        saturated_value=reflectance.SATURATED_DN, reflectance_conversion_u=1.0 / tile.sun_earth_distance_au**2,
        cloud_cover=c["cloud_cover"], snow_cover=c["snow_cover"], mean_angles=_mean_angles(grids), bands=bands,
        coverage=max((b.coverage for b in bands.values()), default=0.0))
    tp.write_tile(out, l1c)
    out.flush()
    entry = l1c.entry()
    report = {k: entry[k] for k in REPORT_KEYS}
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    ctx.log.info(f"L1C tile {l1c.name}: {100 * l1c.coverage:.1f} % covered, "
                 f"cloud cover {100 * l1c.cloud_cover:.1f} %")
