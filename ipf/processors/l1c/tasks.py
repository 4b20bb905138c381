"""Level-1C tile processor: orthorectified TOA reflectance of one MGRS tile.

- TILE_INIT: PDI_DS (L1B, refined geometry when GEO1B_FINALIZE made it) + DEM + AUX + GIPPs ->
  TILE_GRID store: the tile (from the TILE_ID parameter, or the tile holding most of the
  datastrip footprint), its DEM in the tile's UTM zone, the inverse location grids of every
  (band, detector) (:func:`ipf.geometry.ortho.inverse_grid`), cos(sun zenith) at the grid nodes,
  and the sun and viewing angles on the 5 km grid (:mod:`ipf.geometry.angles`).
- GEN_ORTHO_TOA: PDI_DS + TILE_GRID -> PDI_TILE_TOA store: per band, L1C counts
  ``round(ρ·10000) + 1000`` (processing baseline 04.00: 0 no data, 65535 saturated), the quality
  mask (bits of the L1B mask, no data outside the swath) and the detector footprint (detector id,
  0 outside), by strips (:func:`ipf.geometry.ortho.ortho_strip`).
- MASK_S2: PDI_TILE_TOA -> MSK_CLOUDS store: opaque cloud, cirrus and snow at 60 m
  (:mod:`ipf.radiometry.clouds`), cloud cover.
- TILE_FINALIZE: PDI_TILE_TOA + TILE_GRID + MSK_CLOUDS -> PDI_TILE (the L1C tile: images hard
  linked, tile metadata) and REPORT (JSON quality summary).

Tile images cover a *window* of the tile, the part the datastrip can reach (aligned on 60 m):
image attribute ``window`` = ``[row, col]`` of its first pixel in the full tile at its
resolution, ``tile_shape`` the full tile; everything outside is no data.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import gipp
from ipf.formats.msi_bands import BY_NAME
from ipf.products.store import ImageStore
from ipf.radiometry import masks, reflectance

BASELINE = "04.00"
STRIP_M = 10240
"""Output rows per strip, in metres (1024 rows at 10 m)."""
WINDOW_ALIGN_M = 60
SATURATED_REFLECTANCE = 1.0


# --------------------------------------------------------------------------- helpers
def _datastrip(store: ImageStore):
    from ipf.formats import l0

    meta = store.index.get("__datastrip__", {}).get("metadata")
    if meta is None:
        raise TaskError(f"{store.root}: no datastrip metadata (not an L1B product?)")
    return l0.Datastrip.model_validate(meta)


def _sensor_model(ctx: TaskContext, store: ImageStore):
    """Sensor model of the L1B product, with the refined attitude when it has one."""
    try:
        from ipf.processors.l1b.geo import l1b_sensor_model
    except ImportError:  # pragma: no cover - refining not installed
        l1b_sensor_model = None
    try:
        if l1b_sensor_model is not None:
            return l1b_sensor_model(store, ctx.input("AUX_RESORB"), ctx.input("AUX_SADATT"),
                                    ctx.input("GIP_SPAMOD"), ctx.inputs("GIP_VIEDIR"), refined=True)
        from ipf.formats import aux
        from ipf.geometry.sensor import sensor_model

        return sensor_model(_datastrip(store), aux.read_orbit(ctx.input("AUX_RESORB")),
                            aux.read_attitude(ctx.input("AUX_SADATT")),
                            gipp.read_gipp(ctx.input("GIP_SPAMOD"), gipp.GIP_SPAMOD),
                            [gipp.read_gipp(p, gipp.GIP_VIEDIR) for p in ctx.inputs("GIP_VIEDIR")])
    except ValueError as exc:
        raise TaskError(str(exc)) from None


def _radiance_images(store: ImageStore) -> list[dict]:
    images = [store.attrs(n) | {"name": n} for n in store.names(kind="radiance")]
    if not images:
        raise TaskError(f"{store.root}: no radiance image (not an L1B product?)")
    return sorted(images, key=lambda a: (BY_NAME[a["band"]].index, a["detector"]))


def sensing_mid(ds) -> datetime:
    """Middle of the datastrip's sensing period (UTC; naive times are taken as UTC)."""
    mid = ds.sensing_start + (ds.sensing_stop - ds.sensing_start) / 2
    return mid if mid.tzinfo is not None else mid.replace(tzinfo=timezone.utc)


def tile_dem(dem, tile, margin_m: float = 200.0):
    """The DEM over the tile in the tile's UTM zone (:class:`~ipf.geometry.ortho.TileDem`):
    cropped when it is in that zone already, else reprojected (bilinear, one thread)."""
    from ipf.geometry.ortho import TileDem

    xmin, ymin, xmax, ymax = tile.bounds
    if dem.epsg == tile.epsg:
        rows, cols = dem.heights.shape
        c0 = int(np.clip(np.floor((xmin - margin_m - dem.x0) / dem.step), 0, cols - 2))
        c1 = int(np.clip(np.ceil((xmax + margin_m - dem.x0) / dem.step) + 1, c0 + 2, cols))
        r0 = int(np.clip(np.floor((dem.y0 - ymax - margin_m) / dem.step), 0, rows - 2))
        r1 = int(np.clip(np.ceil((dem.y0 - ymin + margin_m) / dem.step) + 1, r0 + 2, rows))
        return TileDem(np.ascontiguousarray(dem.heights[r0:r1, c0:c1]), dem.x0 + c0 * dem.step,
                       dem.y0 - r0 * dem.step, dem.step)
    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, reproject

    step = dem.step
    n = int(np.ceil((xmax - xmin + 2 * margin_m) / step))
    out = np.zeros((n, n), np.float32)
    src_t = Affine(dem.step, 0, dem.x0 - dem.step / 2, 0, -dem.step, dem.y0 + dem.step / 2)
    dst_t = Affine(step, 0, xmin - margin_m, 0, -step, ymax + margin_m)
    reproject(dem.heights, out, src_transform=src_t, src_crs=CRS.from_epsg(dem.epsg),
              dst_transform=dst_t, dst_crs=CRS.from_epsg(tile.epsg), resampling=Resampling.bilinear,
              num_threads=1)
    return TileDem(out, xmin - margin_m + step / 2, ymax + margin_m - step / 2, step)


def _choose_tile(ctx: TaskContext, model, dem, images: list[dict]):
    """The tile named by TILE_ID, or the one holding most of the datastrip footprint."""
    from ipf.geometry import tiles
    from ipf.geometry.direct import direct_location
    from ipf.geometry.geodesy import geodesy

    geo = geodesy(dem.epsg)
    es, ns = [], []
    first = images[0]["band"]
    for a in (a for a in images if a["band"] == first):
        lines = np.array([0, a["lines"] - 1, a["lines"] - 1, 0], float)
        pixels = np.array([0, 0, a["pixels"] - 1, a["pixels"] - 1], float)
        e, n, _ = direct_location(model, geo, dem, a["band"], a["detector"], lines, pixels)
        es += list(np.ravel(e))
        ns += list(np.ravel(n))
    lon, lat = geo.from_utm(np.array(es), np.array(ns))
    candidates = tiles.tiles_covering(list(map(float, lon)), list(map(float, lat)))
    wanted = str(ctx.params.get("TILE_ID") or "AUTO").strip().upper()
    wanted = "" if wanted == "AUTO" else wanted.removeprefix("T")
    if wanted:
        for t in candidates:
            if t.name == wanted:
                return t, (lon, lat)
        raise TaskError(f"TILE_ID {wanted}: the datastrip footprint does not reach this tile "
                        f"(it reaches {', '.join(t.name for t in candidates) or 'none'})")
    if not candidates:
        raise TaskError("the datastrip footprint reaches no tile")

    def overlap(t):
        import pyproj

        x, y = pyproj.Transformer.from_crs(4326, t.epsg, always_xy=True).transform(lon, lat)
        x0, y0, x1, y1 = t.bounds
        return (max(0.0, min(x1, max(x)) - max(x0, min(x)))
                * max(0.0, min(y1, max(y)) - max(y0, min(y))))

    return max(candidates, key=overlap), (lon, lat)


def _window(grids: dict, tile) -> tuple[int, int, int, int]:
    """Ground window (x0, y0, x1, y1) in metres from the tile's upper-left corner (x right,
    y down), aligned on :data:`WINDOW_ALIGN_M`, that holds every pixel a detector can see."""
    x0 = y0 = np.inf
    x1 = y1 = -np.inf
    for (band, _), (g, res) in grids.items():
        p, l = g.pixel, g.line
        seen = ((p >= -4.5) & (p <= g.pixels + 3.5) & (l >= -4.5) & (l <= g.lines + 3.5)).any(axis=0)
        if not seen.any():
            continue
        i, j = np.nonzero(seen)
        y0 = min(y0, (i.min() - 1) * g.step * res)
        y1 = max(y1, (i.max() + 1) * g.step * res + res)
        x0 = min(x0, (j.min() - 1) * g.step * res)
        x1 = max(x1, (j.max() + 1) * g.step * res + res)
    if not np.isfinite(x0):
        raise TaskError(f"tile {tile.name}: no detector sees it")
    size = tile.shape(10)[0] * 10
    a = WINDOW_ALIGN_M
    return (int(max(0, np.floor(x0 / a) * a)), int(max(0, np.floor(y0 / a) * a)),
            int(min(size, np.ceil(x1 / a) * a)), int(min(size, np.ceil(y1 / a) * a)))


def _cos_sun_zenith_nodes(geo, e: np.ndarray, n: np.ndarray, when: datetime) -> np.ndarray:
    from ipf.geometry.geodesy import local_up
    from ipf.geometry.sun import sun_direction_ecef

    lon, lat = geo.from_utm(e, n)
    return local_up(np.asarray(lon), np.asarray(lat)) @ sun_direction_ecef(when)


# --------------------------------------------------------------------------- TILE_INIT
def tile_init(ctx: TaskContext) -> None:
    """TILE_INIT: PDI_DS (L1B) + DEM + AUX_RESORB + AUX_SADATT + GIP_VIEDIR + GIP_SPAMOD ->
    TILE_GRID store (tile, tile DEM, inverse location grids, cos sun zenith nodes, angles)."""
    from ipf.geometry.dem import read_dem
    from ipf.geometry.geodesy import geodesy
    from ipf.geometry.grid import build_location_grid, grid_steps
    from ipf.geometry.ortho import inverse_grid, node_coordinates
    from ipf.geometry.sun import sun_earth_distance_au

    store = ImageStore(ctx.input("PDI_DS"))
    ds = _datastrip(store)
    images = _radiance_images(store)
    try:
        dem = read_dem(ctx.input("DEM"))
    except (ValueError, OSError) as exc:
        raise TaskError(f"DEM: {exc}") from None
    model = _sensor_model(ctx, store)
    tile, (lon, lat) = _choose_tile(ctx, model, dem, images)
    geo = geodesy(tile.epsg)
    tdem = tile_dem(dem, tile)
    h_range = (float(np.floor(tdem.heights.min())) - 10.0, float(np.ceil(tdem.heights.max())) + 10.0)
    out = ImageStore(ctx.output("TILE_GRID"))
    grids = {}
    for k, a in enumerate(images, 1):
        band, det, res = a["band"], a["detector"], a["resolution"]
        loc = build_location_grid(model, geo, band, det, (0.0, a["lines"] - 1.0), h_range,
                                  resolution_m=res, exact_range=True)
        g = inverse_grid(loc, tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res), h_range,
                         a["lines"], a["pixels"])
        grids[band, det] = (g, res)
        common = dict(band=band, detector=det, resolution=res, step=g.step, h_lo=g.h_lo, h_hi=g.h_hi,
                      lines=g.lines, pixels=g.pixels)
        out.write(f"line_{band}_D{det:02d}", g.line, kind="inverse_line", **common)
        out.write(f"pixel_{band}_D{det:02d}", g.pixel, kind="inverse_pixel", **common)
        ctx.progress(80.0 * k / len(images), f"inverse location grid {band} D{det:02d}")
    mid = sensing_mid(ds)
    for res in sorted({a["resolution"] for a in images}):
        e, n = node_coordinates(tile.ulx, tile.uly, res, tile.shape(res), grid_steps(res))
        out.write(f"cos_sza_R{res}", _cos_sun_zenith_nodes(geo, e, n, mid), kind="cos_sun_zenith",
                  resolution=res, step=grid_steps(res))
    out.write("dem", tdem.heights, kind="dem", x0=tdem.x0, y0=tdem.y0, step=tdem.step,
              unit="m above the WGS84 ellipsoid")
    _write_angles(ctx, out, model, geo, dem, tile, images, mid)
    window = _window(grids, tile)
    out.index["__tile__"] = {
        "kind": "tile", "name": tile.name, "epsg": tile.epsg, "ulx": tile.ulx, "uly": tile.uly,
        "window_m": list(window), "datastrip": ds.identifier, "spacecraft": ds.spacecraft,
        "sensing_start": ds.sensing_start.isoformat(), "sensing_stop": ds.sensing_stop.isoformat(),
        "sensing_mid": mid.isoformat(), "sun_earth_distance_au": sun_earth_distance_au(mid),
        "h_range": list(h_range), "refined": bool(store.index.get("__geometry__", {}).get("refined")),
        "footprint_lonlat": [[float(x), float(y)] for x, y in zip(lon, lat)],
    }
    out.flush()
    ctx.log.info(f"tile {tile.name}: window {window[2] - window[0]} x {window[3] - window[1]} m, "
                 f"{len(images)} inverse location grids")


def _write_angles(ctx, out: ImageStore, model, geo, dem, tile, images, when) -> None:
    try:
        from ipf.geometry import angles
    except ImportError:  # pragma: no cover - until the angle module lands
        ctx.log.warning("sun and viewing angle grids not computed (ipf.geometry.angles missing)")
        return
    bands = sorted({a["band"] for a in images}, key=lambda b: BY_NAME[b].index)
    detectors = sorted({a["detector"] for a in images})
    ranges = {(a["band"], a["detector"]): (-0.5, a["lines"] - 0.5) for a in images}
    grids = angles.angle_grids(model, geo, dem, tile, bands, detectors, when, line_ranges=ranges)
    for key, (zen, az) in grids.items():
        if key == "sun":
            out.write("sun_zenith", zen, kind="sun_angle", angle="zenith", unit="deg")
            out.write("sun_azimuth", az, kind="sun_angle", angle="azimuth", unit="deg")
        else:
            band, det = key
            if np.isnan(zen).all():
                continue
            common = dict(band=band, detector=det, unit="deg")
            out.write(f"view_zenith_{band}_D{det:02d}", zen, kind="viewing_angle", angle="zenith", **common)
            out.write(f"view_azimuth_{band}_D{det:02d}", az, kind="viewing_angle", angle="azimuth", **common)


# --------------------------------------------------------------------------- GEN_ORTHO_TOA
def _tile_of(grid_store: ImageStore) -> dict:
    meta = grid_store.index.get("__tile__")
    if meta is None:
        raise TaskError(f"{grid_store.root}: not a TILE_GRID store made by TILE_INIT")
    return meta


NODATA_MARGIN = {"bicubic": 2, "cubic_spline": 5}
"""L1B pixels around a no-data one flagged no data too: the cubic support, and for the spline
the reach of its prefilter (pole √3 - 2: 0.27⁵ ≈ 0.1 % of a jump)."""


def resampling_method(params: dict) -> str:
    """The RESAMPLING task parameter (BICUBIC or CUBIC_SPLINE) as an ortho method name."""
    value = str(params.get("RESAMPLING") or "BICUBIC").strip().lower()
    if value not in NODATA_MARGIN:
        raise TaskError(f"RESAMPLING {value.upper()!r}: expected BICUBIC or CUBIC_SPLINE")
    return value


def window_heights(grids: ImageStore, meta: dict, resolution: int) -> np.ndarray:
    """DEM heights (m, float32) of the tile window's pixels at ``resolution``."""
    from ipf.geometry.ortho import TileDem, tile_heights

    d = grids.attrs("dem")
    dem = TileDem(np.asarray(grids.read("dem")), d["x0"], d["y0"], d["step"])
    x0, y0, x1, y1 = meta["window_m"]
    return tile_heights(dem, meta["ulx"], meta["uly"], resolution, (y0 // resolution, y1 // resolution),
                        (x0 // resolution, x1 // resolution))


def ortho_band(l1b: ImageStore, grids: ImageStore, band: str, meta: dict, strip_rows: int | None = None,
               method: str = "bicubic", heights: np.ndarray | None = None):
    """Orthorectified radiance of one band over the tile window, by strips.

    Yields ``(row, radiance float32, mask uint8, detector uint8)`` for consecutive strips of the
    window (row: first window row of the strip); radiance in W m-2 sr-1 µm-1; method: see
    :data:`ipf.geometry.ortho.METHODS`; heights: :func:`window_heights` at the band's
    resolution (computed when not given). The yielded arrays are views of buffers reused for the
    next strip.
    """
    from ipf.geometry.ortho import NODATA_SCORE, InverseGrid, column_window, dilate, ortho_strip, spline_coefficients

    names = grids.names(kind="inverse_line", band=band)
    if not names:
        raise TaskError(f"{grids.root}: no inverse location grid for {band}")
    res = grids.attrs(names[0])["resolution"]
    heights = window_heights(grids, meta, res) if heights is None else heights
    x0, y0, x1, y1 = meta["window_m"]
    r0, r1, c0, c1 = y0 // res, y1 // res, x0 // res, x1 // res
    sources = []
    for name in names:
        a = grids.attrs(name)
        det = a["detector"]
        g = InverseGrid(np.asarray(grids.read(name)), np.asarray(grids.read(f"pixel_{band}_D{det:02d}")),
                        a["h_lo"], a["h_hi"], a["step"], a["lines"], a["pixels"])
        mask = np.array(l1b.read(f"mask_{band}_D{det:02d}"))
        nodata = (mask & masks.NO_DATA) > 0
        if nodata.any():
            mask[dilate(nodata, NODATA_MARGIN[method])] |= masks.NO_DATA
        src = l1b.read(f"radiance_{band}_D{det:02d}")
        sources.append((det, spline_coefficients(src) if method == "cubic_spline" else src, mask, g))
    strip_rows = min(strip_rows or max(1, STRIP_M // res), max(r1 - r0, 1))
    tile_width = meta_tile_width(res)
    buffers = (np.empty((strip_rows, tile_width), np.float32), np.empty((strip_rows, tile_width), np.uint8),
               np.empty((strip_rows, tile_width), np.uint8), np.empty((strip_rows, tile_width), np.float32))
    for row in range(r0, r1, strip_rows):
        n = min(strip_rows, r1 - row)
        out, out_mask, out_det, score = (b[:n] for b in buffers)
        for b, v in zip((out, out_mask, out_det, score), (0, 0, 0, NODATA_SCORE)):
            b[:, c0:c1] = v
        for det, src, mask, g in sources:
            w0, w1 = column_window(g, row, row + n, tile_width)
            w0, w1 = max(w0, c0), min(w1, c1)
            if w1 > w0:
                ortho_strip(src, mask, g, heights, (r0, c0), row, (w0, w1), det, out, out_mask, out_det,
                            score, method)
        yield row - r0, out[:, c0:c1], out_mask[:, c0:c1], out_det[:, c0:c1]


def meta_tile_width(resolution: int) -> int:
    from ipf.geometry.tiles import TILE_SIZE_M

    return TILE_SIZE_M // resolution


def gen_ortho_toa(ctx: TaskContext) -> None:
    """GEN_ORTHO_TOA: PDI_DS (L1B) + TILE_GRID -> PDI_TILE_TOA (L1C counts, quality mask and
    detector footprint per band over the tile window)."""
    from ipf.geometry.grid import grid_steps

    l1b = ImageStore(ctx.input("PDI_DS"))
    grids = ImageStore(ctx.input("TILE_GRID"))
    meta = _tile_of(grids)
    d_au = meta["sun_earth_distance_au"]
    bands = sorted({a["band"] for a in _radiance_images(l1b)}, key=lambda b: BY_NAME[b].index)
    method = resampling_method(ctx.params)
    out = ImageStore(ctx.output("PDI_TILE_TOA"))
    x0, y0, x1, y1 = meta["window_m"]
    heights: dict[int, np.ndarray] = {}
    bands.sort(key=lambda b: (l1b.attrs(l1b.names(kind="radiance", band=b)[0])["resolution"], BY_NAME[b].index))
    for k, band in enumerate(bands, 1):
        attrs = l1b.attrs(l1b.names(kind="radiance", band=band)[0])
        res = attrs["resolution"]
        if res not in heights:
            heights = {res: window_heights(grids, meta, res)}
        shape = ((y1 - y0) // res, (x1 - x0) // res)
        cos_nodes = np.asarray(grids.read(f"cos_sza_R{res}"))
        scale = np.pi * d_au**2 / attrs["solar_irradiance"]
        common = dict(band=band, resolution=res, window=[y0 // res, x0 // res],
                      tile_shape=[meta_tile_width(res)] * 2, epsg=meta["epsg"], tile=meta["name"])
        with (out.creating(f"toa_{band}", shape, np.uint16, kind="toa",
                           unit="L1C count: reflectance x 10000 + 1000", resampling=method,
                           quantification_value=reflectance.QUANTIFICATION_VALUE,
                           radio_add_offset=reflectance.RADIO_ADD_OFFSET,
                           solar_irradiance=attrs["solar_irradiance"], **common) as toa,
              out.creating(f"quality_{band}", shape, np.uint8, kind="quality_mask",
                           bits={"SATURATED": masks.SATURATED, "NO_DATA": masks.NO_DATA,
                                 "DEFECTIVE": masks.DEFECTIVE}, **common) as quality,
              out.creating(f"detfoo_{band}", shape, np.uint8, kind="detector_footprint", nodata=0,
                           **common) as detfoo):
            for row, L, mask, det in ortho_band(l1b, grids, band, meta, method=method, heights=heights[res]):
                rows = slice(row, row + L.shape[0])
                reflectance.toa_counts(L, mask, det, cos_nodes, grid_steps(res), y0 // res + row,
                                       x0 // res, scale, dn=toa[rows], quality=quality[rows])
                detfoo[rows] = det
            seen = np.count_nonzero(detfoo) / detfoo.size
        ctx.progress(100.0 * k / len(bands), f"{band}: {100 * seen:.1f} % of the window seen")
    out.index["__tile__"] = meta
    out.flush()


# --------------------------------------------------------------------------- MASK_S2
def _reflectance_60m(toa: ImageStore, band: str, meta: dict, chunk_rows: int = 120) -> np.ndarray | None:
    """TOA reflectance of ``band`` averaged on the 60 m window grid (NaN where any no data).

    The counts are averaged first (the reflectance is affine in them), by chunks of
    ``chunk_rows`` 60 m rows. Saturated pixels carry a marker, not a reflectance; they enter
    the average as :data:`SATURATED_REFLECTANCE` (a bright surface, so the snow index of a
    saturated cloud or snow field is set by its SWIR reflectance)."""
    name = f"toa_{band}"
    if name not in toa.index:
        return None
    res = toa.attrs(name)["resolution"]
    dn = toa.read(name)
    k = 60 // res
    h, w = dn.shape[0] // k, dn.shape[1] // k
    out = np.empty((h, w), np.float32)
    saturated = np.float32(SATURATED_REFLECTANCE * reflectance.QUANTIFICATION_VALUE - reflectance.RADIO_ADD_OFFSET)
    for i in range(0, h, chunk_rows):
        j = min(i + chunk_rows, h)
        block = np.asarray(dn[i * k:j * k, :w * k]).reshape(j - i, k, w, k)
        counts = np.where(block == reflectance.SATURATED_DN, saturated, block.astype(np.float32))
        mean = counts.mean(axis=(1, 3), dtype=np.float32)
        nodata = (block == reflectance.NODATA_DN).any(axis=(1, 3))
        out[i:j] = np.where(nodata, np.nan, (mean + reflectance.RADIO_ADD_OFFSET) / reflectance.QUANTIFICATION_VALUE)
    return out


def mask_s2(ctx: TaskContext) -> None:
    """MASK_S2: PDI_TILE_TOA -> MSK_CLOUDS store (opaque cloud, cirrus and snow classes at 60 m,
    :func:`ipf.radiometry.clouds.classify`, thresholds from the task parameters)."""
    from ipf.radiometry import clouds

    toa = ImageStore(ctx.input("PDI_TILE_TOA"))
    meta = _tile_of(toa)
    blue = next((b for b in ("B02", "B01") if f"toa_{b}" in toa.index), None)
    if blue is None:
        raise TaskError(f"{toa.root}: neither B02 nor B01: no cloud test possible")
    p = {k: float(ctx.params.get(k, d)) for k, d in (("CLOUD_REFLECTANCE", clouds.CLOUD_REFLECTANCE),
                                                   ("SNOW_NDSI", clouds.SNOW_NDSI),
                                                   ("CIRRUS_REFLECTANCE", clouds.CIRRUS_REFLECTANCE))}
    rho_blue = _reflectance_60m(toa, blue, meta)
    classes = clouds.classify(rho_blue, _reflectance_60m(toa, "B03", meta), _reflectance_60m(toa, "B11", meta),
                              _reflectance_60m(toa, "B10", meta), p["CLOUD_REFLECTANCE"], p["SNOW_NDSI"],
                              p["CIRRUS_REFLECTANCE"])
    valid = np.isfinite(rho_blue)
    n = max(int(valid.sum()), 1)
    cover = {"cloud_cover": float(((classes & (clouds.OPAQUE | clouds.CIRRUS)) > 0)[valid].sum() / n),
             "opaque_cover": float(((classes & clouds.OPAQUE) > 0)[valid].sum() / n),
             "cirrus_cover": float(((classes & clouds.CIRRUS) > 0)[valid].sum() / n),
             "snow_cover": float(((classes & clouds.SNOW) > 0)[valid].sum() / n)}
    x0, y0, _, _ = meta["window_m"]
    out = ImageStore(ctx.output("MSK_CLOUDS"))
    out.write("classi", classes, kind="cloud_classes", resolution=60, window=[y0 // 60, x0 // 60],
              tile_shape=[meta_tile_width(60)] * 2, epsg=meta["epsg"], tile=meta["name"],
              bits={"OPAQUE": clouds.OPAQUE, "CIRRUS": clouds.CIRRUS, "SNOW": clouds.SNOW},
              thresholds=p, blue_band=blue, **cover)
    out.index["__tile__"] = meta
    out.flush()
    ctx.log.info(f"tile {meta['name']}: cloud cover {100 * cover['cloud_cover']:.1f} %, "
                 f"snow {100 * cover['snow_cover']:.1f} %")


# --------------------------------------------------------------------------- TILE_FINALIZE
def _mean_angles(grids: ImageStore) -> dict:
    out = {}
    with np.errstate(invalid="ignore"):
        if "sun_zenith" in grids.index:
            out["sun"] = {"zenith": float(np.nanmean(grids.read("sun_zenith"))),
                          "azimuth": float(np.nanmean(grids.read("sun_azimuth")))}
        try:
            from ipf.geometry.angles import mean_angles
        except ImportError:  # pragma: no cover
            return out
        views = {}
        for name in grids.names(kind="viewing_angle", angle="zenith"):
            a = grids.attrs(name)
            views.setdefault(a["band"], []).append(
                (np.asarray(grids.read(name)), np.asarray(grids.read(name.replace("zenith", "azimuth")))))
        for band, pairs in views.items():
            z = np.concatenate([p[0].ravel() for p in pairs])
            az = np.concatenate([p[1].ravel() for p in pairs])
            mz, ma = mean_angles(z, az)
            out[band] = {"zenith": float(mz), "azimuth": float(ma)}
    return out


def tile_finalize(ctx: TaskContext) -> None:
    """TILE_FINALIZE: PDI_TILE_TOA + TILE_GRID + MSK_CLOUDS -> PDI_TILE (the L1C tile, images
    linked, metadata ``__tile__``) and REPORT (JSON: coverage, cloud cover, statistics)."""
    toa = ImageStore(ctx.input("PDI_TILE_TOA"))
    grids = ImageStore(ctx.input("TILE_GRID"))
    cloud = ImageStore(ctx.input("MSK_CLOUDS"))
    meta = dict(_tile_of(toa))
    if _tile_of(grids)["name"] != meta["name"] or _tile_of(cloud)["name"] != meta["name"]:
        raise TaskError("PDI_TILE_TOA, TILE_GRID and MSK_CLOUDS are not of the same tile")
    out = ImageStore(ctx.output("PDI_TILE"))
    bands = {}
    for name in toa.names(kind="toa"):
        a = toa.attrs(name)
        band = a["band"]
        out.link(toa, name)
        out.link(toa, f"quality_{band}")
        out.link(toa, f"detfoo_{band}")
        q = np.asarray(toa.read(f"quality_{band}"))
        detfoo = np.asarray(toa.read(f"detfoo_{band}"))
        candidates = sorted({grids.attrs(n)["detector"] for n in grids.names(kind="inverse_line", band=band)})
        per_detector = {d: int(np.count_nonzero(detfoo == d)) for d in candidates}
        n_seen = int(np.count_nonzero(detfoo))
        good = q == 0
        n_good = int(np.count_nonzero(good))
        dn_mean = float(np.asarray(toa.read(name)).mean(where=good, dtype=np.float64)) if n_good else None
        tile_pixels = a["tile_shape"][0] * a["tile_shape"][1]
        bands[band] = {
            "resolution": a["resolution"], "solar_irradiance": a["solar_irradiance"],
            "coverage": n_seen / tile_pixels,
            "saturated_fraction": int(np.count_nonzero(q & masks.SATURATED)) / max(n_seen, 1),
            "defective_fraction": int(np.count_nonzero(q & masks.DEFECTIVE)) / max(n_seen, 1),
            "mean_reflectance": (None if dn_mean is None else
                                 (dn_mean + reflectance.RADIO_ADD_OFFSET) / reflectance.QUANTIFICATION_VALUE),
            "detectors": [d for d, n in per_detector.items() if n],
        }
    out.link(cloud, "classi")
    for name in grids.names(kind="sun_angle") + grids.names(kind="viewing_angle"):
        out.link(grids, name)
    c = cloud.attrs("classi")
    d = meta["sun_earth_distance_au"]
    meta.update({
        "processing_baseline": BASELINE, "quantification_value": reflectance.QUANTIFICATION_VALUE,
        "radio_add_offset": reflectance.RADIO_ADD_OFFSET, "nodata_value": reflectance.NODATA_DN,
        "saturated_value": reflectance.SATURATED_DN, "reflectance_conversion_u": 1.0 / d**2,
        "cloud_cover": c["cloud_cover"], "snow_cover": c["snow_cover"],
        "mean_angles": _mean_angles(grids), "bands": bands,
    })
    meta["coverage"] = max((b["coverage"] for b in bands.values()), default=0.0)
    out.index["__tile__"] = meta
    out.flush()
    report = {k: meta[k] for k in ("name", "datastrip", "processing_baseline", "cloud_cover", "snow_cover",
                                   "coverage", "refined", "mean_angles", "bands", "window_m")}
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    ctx.log.info(f"L1C tile {meta['name']}: {100 * meta['coverage']:.1f} % covered, "
                 f"cloud cover {100 * meta['cloud_cover']:.1f} %")
