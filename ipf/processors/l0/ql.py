"""Level-0 quick-look tasks: QL_GEO (geolocation of the quick-look grid) and QL_CLOUD_MASK.

The quick-look grid samples each detector every ``QL_STEP`` lines and pixels of its first 10 m
band (160 m). QL_GEO locates its nodes on the DEM with the sensor model of :mod:`ipf.geometry`
(given attitude) and adds the Sun zenith there; QL_CLOUD_MASK decodes the L0c blocks of a blue
band (B02, else B01), averages them over each quick-look cell, converts them to TOA reflectance
with the nominal calibration (GIP_R2ABCA gain, GIP_R2EQOG mean dark and gain) and flags as cloud
the cells brighter than ``CLOUD_REFLECTANCE``, except snow (NDSI = (B03 - B11)/(B03 + B11) above
``SNOW_NDSI``, when both bands are in the product): the opaque-cloud class of
:func:`ipf.radiometry.clouds.classify`.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, TaskError
from ipf.formats import gipp
from ipf.formats.l0 import decode_blocks
from ipf.products.datastrip import (BLOCK_TABLE, BLOCKS, CLOUD, COS_SZA, HEIGHT, LAT, LON,
                                    BlocksAttrs, CloudMaskAttrs, QuickLookGrid,
                                    QuickLookNodesAttrs, find_images, has_image, image_attrs,
                                    image_name, read_datastrip, read_image, read_ql_grid,
                                    write_image, write_ql_grid)
from ipf.products.store import ImageStore
from ipf.radiometry import binning, clouds, equalization, reflectance

__all__ = ["ql_geo", "ql_cloud_mask", "QL_STEP", "CLOUD_REFLECTANCE", "SNOW_NDSI"]

QL_STEP = 16
CLOUD_REFLECTANCE = clouds.CLOUD_REFLECTANCE
SNOW_NDSI = clouds.SNOW_NDSI


def ql_geo(ctx: TaskContext) -> None:
    """QL_GEO: PDI_DS (L0c) + AUX_UT1UTC + DEM (DEM_SRTM + DEM_GEOID) + GIPPs -> QL_GEO store (lon, lat, height,
    cos(sun zenith) of the quick-look grid nodes, per detector)."""
    from ipf.formats.aux import select_ut1utc
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.datation import utc
    from ipf.geometry.direct import direct_location
    from ipf.geometry.geodesy import geodesy, local_up
    from ipf.geometry.sun import sun_direction_ecef
    from ipf.products.datastrip import sensor_model

    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    dem = read_dem(ctx.input("DEM_SRTM"), ctx.input("DEM_GEOID"))
    model = sensor_model(store, select_ut1utc(ctx.inputs("AUX_UT1UTC")), ctx.inputs("GIP_SPAMOD"),
                         ctx.inputs("GIP_VIEDIR"), refined=False)
    geo = geodesy(dem.epsg)
    band = next((b for b in info.bands if b.resolution == 10), info.bands[0])
    step = max(1, QL_STEP * 10 // band.resolution)
    out = ImageStore(ctx.output("QL_GEO"))
    images = find_images(store, BlocksAttrs, band=band.band)
    for k, a in enumerate(images, 1):
        det = a.detector
        lines = np.arange(0, a.lines, step) + (step - 1) / 2
        pixels = np.arange(0, a.pixels, step) + (step - 1) / 2
        ll, pp = np.meshgrid(lines, pixels, indexing="ij")
        e, n, h = direct_location(model, geo, dem, band.band, det, ll.ravel(), pp.ravel())
        lon, lat = (np.asarray(v) for v in geo.from_utm(e, n))
        t = model.line_time(band.band, det, lines)
        up = local_up(lon.reshape(ll.shape), lat.reshape(ll.shape))
        mid = utc(model.reference) + timedelta(seconds=float(np.mean(t)))
        cos_sza = up @ sun_direction_ecef(mid)
        attrs = dict(detector=det, band=band.band, resolution=band.resolution, step=step,
                     lines=len(lines), pixels=len(pixels))
        for kind, value in ((LON, lon), (LAT, lat), (HEIGHT, h), (COS_SZA, cos_sza)):
            write_image(out, np.asarray(value, np.float64).reshape(ll.shape),
                        QuickLookNodesAttrs(kind=kind, **attrs))
        ctx.progress(100.0 * k / len(images), f"detector {det}")
    write_ql_grid(out, QuickLookGrid(band=band.band, step=step, epsg=dem.epsg,
                                     sensing_mid=info.sensing_start))
    out.flush()


def _ql_radiance(l0c: ImageStore, band: str, det: int, cell: int, shape: tuple[int, int],
                 eq: gipp.GIP_R2EQOG, eq_file, absolute_gain: float, elements: int = 1) -> np.ndarray:
    """Mean radiance of ``band`` over each quick-look cell of ``cell`` × ``cell`` of its pixels
    (NaN where the cell has no decoded line); a line of ``elements`` elements per pixel (the
    20 m elements of a 60 m band) is first averaged to pixels."""
    a = image_attrs(l0c, BlocksAttrs, image_name(BLOCKS, band, det))
    dn, decoded, _ = decode_blocks(l0c.read(a.name), read_image(l0c, BLOCK_TABLE, band, det),
                                   a.lines, a.pixels)
    counts = np.full(dn.shape, np.nan, np.float32)
    counts[decoded] = dn[decoded]
    if det not in eq.detectors:
        raise InputError(f"no detector {det} for {band}", source=eq_file, element="GIP_R2EQOG")
    row = eq.detectors.index(det)
    radiance = binning.bin_pixels(equalization.nominal_radiance(counts, eq.dark_signal[row], eq.relative_gain[row],
                                                                absolute_gain), elements, 1)
    h, w = shape[0] * cell, shape[1] * cell
    cells = np.full((h, w), np.nan, np.float32)
    n, m = min(h, radiance.shape[0]), min(w, radiance.shape[1])
    cells[:n, :m] = radiance[:n, :m]
    return binning.cell_means(cells, cell, shape)


def ql_cloud_mask(ctx: TaskContext) -> None:
    """QL_CLOUD_MASK: PDI_DS (L0c) + QL_GEO + GIP_R2ABCA + GIP_R2EQOG + GIP_R2BINN -> QL_CLOUD_MASK store
    (cloud mask per detector) and REPORT (cloud cover per detector and datastrip, JSON)."""
    from ipf.geometry.sun import sun_earth_distance_au

    l0c = ImageStore(ctx.input("PDI_DS"))
    qlg = ImageStore(ctx.input("QL_GEO"))
    grid = read_ql_grid(qlg)
    ds = read_datastrip(l0c)
    period = ds.sensing_start, ds.sensing_stop
    abca_file = gipp.select_gipp(ctx.inputs("GIP_R2ABCA"), "GIP_R2ABCA", "B00", *period)
    calib = {b.band: b for b in gipp.read_gipp(abca_file, gipp.GIP_R2ABCA).bands}
    eqog = {band: (gipp.read_gipp(p, gipp.GIP_R2EQOG), p)
            for band, p in gipp.select_band_gipps(ctx.inputs("GIP_R2EQOG"), "GIP_R2EQOG", *period).items()}
    binn_file = gipp.select_gipp(ctx.inputs("GIP_R2BINN"), "GIP_R2BINN", "B00", *period)
    across = {b.band: b.across for b in gipp.read_gipp(binn_file, gipp.GIP_R2BINN).bands}
    present = {a.band for a in find_images(l0c, BlocksAttrs)}
    blue = next((b for b in ("B02", "B01") if b in present), None)
    if blue is None:
        raise TaskError("neither B02 nor B01 in the L0c product: no cloud test possible")
    d = sun_earth_distance_au(ds.sensing_start)
    out = ImageStore(ctx.output("QL_CLOUD_MASK"))
    report = {"datastrip": ds.identifier, "band": blue, "threshold": CLOUD_REFLECTANCE,
              "snow_test": {"B03", "B11"} <= present, "detectors": {}}
    cloudy = valid = 0
    for a in find_images(qlg, QuickLookNodesAttrs, kind=COS_SZA):
        det, step = a.detector, grid.step
        cos_sza = np.asarray(qlg.read(a.name))
        shape = cos_sza.shape

        def band_reflectance(band):
            if band not in present or band not in eqog or not has_image(l0c, BLOCKS, band, det):
                return None
            if band not in calib:
                raise InputError(f"no {band} in the calibration", source=abca_file,
                                 element="GIP_R2ABCA")
            blocks = image_attrs(l0c, BlocksAttrs, image_name(BLOCKS, band, det))
            cell = max(1, step * a.resolution // blocks.resolution)
            elements = across.get(band, 1)
            if blocks.pixels % elements:
                raise InputError(f"{band} lines of {blocks.pixels} elements are not {elements} per pixel",
                                 source=binn_file, element="GIP_R2BINN")
            L = _ql_radiance(l0c, band, det, cell, shape, *eqog[band], calib[band].absolute_gain, elements)
            return reflectance.quick_look_reflectance(L, calib[band].solar_irradiance, cos_sza, d)

        rho = band_reflectance(blue)
        g, s = (band_reflectance("B03"), band_reflectance("B11")) if report["snow_test"] else (None, None)
        cloud = (clouds.classify(rho, g, s, cloud_reflectance=CLOUD_REFLECTANCE,
                                 snow_ndsi=SNOW_NDSI) & clouds.OPAQUE) > 0
        ok = np.isfinite(rho)
        write_image(out, (cloud & ok).astype(np.uint8), CloudMaskAttrs(detector=det, step=step),
                    name=image_name(CLOUD, blue, det))
        cover = float((cloud & ok).sum() / max(ok.sum(), 1))
        report["detectors"][str(det)] = {"cloud_cover": round(cover, 4), "cells": int(ok.sum())}
        cloudy += int((cloud & ok).sum())
        valid += int(ok.sum())
    report["cloud_cover"] = round(cloudy / max(valid, 1), 4)
    out.flush()
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    ctx.log.info(f"quick-look cloud cover {100 * report['cloud_cover']:.1f} %")
