"""Level-1B geometric refining tasks: TP_COLLECT, TP_FILTER, SPATIO, GEO1B_FINALIZE.

The science is :mod:`ipf.geometry.refining`; these tasks read and write the files:

- TP_COLLECT: L1B store (PDI_DS) + GRI (GRI_ORBIT) + DEM (DEM_SRTM + DEM_GEOID) + AUX_UT1UTC + GIP_VIEDIR + GIP_SPAMOD
  -> TIE_POINTS (JSON, :class:`ipf.products.refining.TiePointsFile`): tie points of band ``IMAGE_BAND_ID``
  of every detector against the GRI (band ``GRI_BAND_ID``), with the given attitude;
- TP_FILTER: TIE_POINTS -> HOMOLOG_POINTS_LIST (the same JSON, filtered);
- SPATIO: PDI_DS + HOMOLOG_POINTS_LIST + AUX_UT1UTC + GIP_VIEDIR + GIP_SPAMOD ->
  REFINED_MODEL (JSON, :class:`ipf.products.refining.RefinedModel`): attitude bias and drift with residual statistics;
  too few tie points (clouds, sea) give ``refined: false`` and a warning, never a failure;
- GEO1B_FINALIZE: PDI_DS + REFINED_MODEL -> PDI_DS, the final L1B product: the input store's
  images (hard links, copies across devices) and its datastrip entry, with the refined geometry
  (:class:`ipf.products.datastrip.RefinedGeometry`) added.

The given sensor model is that of the store's datastrip metadata (ephemeris, attitudes, line
datation) with AUX_UT1UTC, GIP_SPAMOD and GIP_VIEDIR; the attitude correction is relative to its
reference time (the datastrip sensing start). The sensor model of a final L1B product is
:func:`ipf.products.datastrip.sensor_model`.
``REFINING_TYPE`` ``NONE`` skips refining (SPATIO writes ``refined: false``).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import geotiff
from ipf.formats.aux import select_ut1utc
from ipf.formats.msi_bands import BY_NAME
from ipf.geometry import refining
from ipf.geometry.datation import utc
from ipf.formats.sensor_model import read_sensor_model
from ipf.products.datastrip import (MASK, AttitudeCorrection, RadianceAttrs, RefinedGeometry,
                                    find_images, read_datastrip, read_image, write_datastrip,
                                    write_geometry)
from ipf.products.refining import (AttitudeCorrectionModel, RefinedModel, read_refined_model,
                                   read_tie_points, tie_points_file, write_json)
from ipf.products.store import ImageStore

__all__ = ["tp_collect", "tp_filter", "spatio", "geo1b_finalize", "RefiningType", "REFINING_TYPES", "DEFAULTS",
           "MAX_RESIDUAL_PX"]


class RefiningType(StrEnum):
    """REFINING_TYPE of TP_COLLECT and SPATIO: ``REFINING`` estimates the attitude correction on
    tie points, ``NONE`` keeps the given attitude."""

    REFINING = "REFINING"
    NONE = "NONE"


REFINING_TYPES = tuple(RefiningType)
DEFAULTS = {"REFINING_TYPE": "REFINING", "GRI_BAND_ID": "B04", "IMAGE_BAND_ID": "B04",
            "TP_STEP": 64, "TP_HALF_WINDOW": 16, "TP_SEARCH": 10, "TP_MIN_TEXTURE": 1e-3,
            "TP_MIN_CORRELATION": 0.7, "TP_OUTLIER_K": 3.0}
MAX_RESIDUAL_PX = 1.0
"""RMS ground residual (pixel) above which a fitted correction is not applied."""


def _param(ctx: TaskContext, name: str):
    return ctx.params.get(name, DEFAULTS[name])


def _refining_type(ctx: TaskContext) -> RefiningType:
    value = str(_param(ctx, "REFINING_TYPE")).upper()
    if value not in RefiningType.__members__:
        raise TaskError(f"REFINING_TYPE {value!r} is not one of {', '.join(RefiningType)}")
    return RefiningType(value)


def _given_model(ctx: TaskContext, ds):
    return read_sensor_model(ds, select_ut1utc(ctx.inputs("AUX_UT1UTC")), ctx.inputs("GIP_SPAMOD"),
                             ctx.inputs("GIP_VIEDIR"))


def _image_band(ctx: TaskContext, store: ImageStore) -> str:
    """IMAGE_BAND_ID, or, when the product lacks it, the 10 m band nearest in wavelength."""
    wanted = str(_param(ctx, "IMAGE_BAND_ID"))
    present = sorted({a.band for a in find_images(store, RadianceAttrs)})
    if not present:
        raise TaskError(f"{store.root}: no radiance image (not an L1B store?)")
    if wanted in present:
        return wanted
    if wanted not in BY_NAME:
        raise TaskError(f"IMAGE_BAND_ID {wanted!r} is not an MSI band")
    w = BY_NAME[wanted].wavelength_nm
    band = min(present, key=lambda b: (BY_NAME[b].resolution_m, abs(BY_NAME[b].wavelength_nm - w)))
    ctx.log.info(f"IMAGE_BAND_ID {wanted} is not in the product: tie points on {band}")
    return band


# --------------------------------------------------------------------------- tasks
def tp_collect(ctx: TaskContext) -> None:
    """TP_COLLECT: tie points of the L1B image band against the GRI (module docstring)."""
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.geodesy import geodesy
    from ipf.geometry.grid import build_location_grid

    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    gri_band = str(_param(ctx, "GRI_BAND_ID"))
    gri_file = ctx.input("GRI_ORBIT")
    if geotiff.gri_band(gri_file) not in (None, gri_band):
        raise TaskError(f"{gri_file.name} is not a GRI of GRI_BAND_ID {gri_band}")
    band = _image_band(ctx, store)
    out = dict(datastrip=info.identifier, image_band=band, gri_band=gri_band, filtered=False)
    if _refining_type(ctx) is RefiningType.NONE:
        ctx.log.info("REFINING_TYPE NONE: no tie points collected")
        write_json(ctx.output("TIE_POINTS"), tie_points_file(refining.TiePoints.empty(), epsg=0,
                                                                candidates=0, **out))
        return
    dem = read_dem(ctx.input("DEM_SRTM"), ctx.input("DEM_GEOID"))
    r = geotiff.read_gri(gri_file)
    gri = refining.ReferenceImage(r.values, r.epsg, r.x0, r.y0, r.step)
    if gri.epsg != dem.epsg:
        raise TaskError(f"the GRI is in EPSG:{gri.epsg}, the DEM in EPSG:{dem.epsg}")
    model = _given_model(ctx, info.metadata)
    geo = geodesy(dem.epsg)
    half = int(_param(ctx, "TP_HALF_WINDOW"))
    h_range = (float(dem.heights.min()), float(dem.heights.max()))
    images = find_images(store, RadianceAttrs, band=band)
    parts, candidates = [], 0
    for k, a in enumerate(images, 1):
        det = a.detector
        image = np.asarray(store.read(a.name))
        mask = np.asarray(read_image(store, MASK, band, det))
        step = refining.candidate_step(*image.shape, int(_param(ctx, "TP_STEP")), half)
        grid = build_location_grid(model, geo, band, det, (0.0, image.shape[0] - 1.0), h_range,
                                   resolution_m=BY_NAME[band].resolution_m)
        tp = refining.collect_tie_points(image, mask, grid, dem, gri, band, det, step=step, half=half,
                                         search=int(_param(ctx, "TP_SEARCH")),
                                         min_texture=float(_param(ctx, "TP_MIN_TEXTURE")))
        n_cand = len(refining.candidate_windows(mask, image, step, half,
                                                float(_param(ctx, "TP_MIN_TEXTURE")))[0])
        candidates += n_cand
        ctx.log.info(f"D{det:02d} {band}: {len(tp)} tie points from {n_cand} textured windows "
                     f"(every {step} pixels)")
        parts.append(tp)
        ctx.progress(100.0 * k / len(images), f"detector {det}")
    tp = refining.TiePoints.concatenate(parts)
    write_json(ctx.output("TIE_POINTS"), tie_points_file(tp, epsg=dem.epsg, candidates=candidates, **out))


def tp_filter(ctx: TaskContext) -> None:
    """TP_FILTER: TIE_POINTS -> HOMOLOG_POINTS_LIST, low correlations and outliers removed."""
    f = read_tie_points(ctx.input("TIE_POINTS"))
    tp = f.tie_points()
    keep = refining.filter_tie_points(tp, float(_param(ctx, "TP_MIN_CORRELATION")),
                                      float(_param(ctx, "TP_OUTLIER_K")))
    low = int((tp.score < float(_param(ctx, "TP_MIN_CORRELATION"))).sum())
    ctx.log.info(f"{int(keep.sum())} of {len(tp)} tie points kept ({low} below the correlation "
                 f"threshold, {len(tp) - low - int(keep.sum())} outliers)")
    kept = tp.select(keep)
    write_json(ctx.output("HOMOLOG_POINTS_LIST"), tie_points_file(
        kept, **f.model_dump(include={"datastrip", "image_band", "gri_band", "epsg", "candidates"}),
        filtered=True))


def spatio(ctx: TaskContext) -> None:
    """SPATIO: the attitude correction from the filtered tie points (REFINED_MODEL, JSON)."""
    from ipf.geometry.geodesy import geodesy

    info = read_datastrip(ctx.input("PDI_DS"))
    f = read_tie_points(ctx.input("HOMOLOG_POINTS_LIST"))
    tp = f.tie_points()
    common = dict(datastrip=info.identifier, reference_time=info.sensing_start, image_band=f.image_band,
                  tie_points=len(tp))
    if _refining_type(ctx) is RefiningType.NONE:
        ctx.log.info("REFINING_TYPE NONE: the given attitude is kept")
        write_json(ctx.output("REFINED_MODEL"), RefinedModel(refined=False, reason="REFINING_TYPE NONE",
                                                               **common))
        return
    if len(tp) < refining.MIN_TIE_POINTS:
        reason = (f"{len(tp)} tie points after filtering (at least {refining.MIN_TIE_POINTS} needed): "
                  "the given attitude is kept")
        ctx.warn(reason)
        write_json(ctx.output("REFINED_MODEL"), RefinedModel(refined=False, reason=reason, **common))
        return
    model = _given_model(ctx, info.metadata)
    common["reference_time"] = utc(model.reference)
    c = refining.estimate_attitude_correction(model, geodesy(f.epsg), tp,
                                              float(BY_NAME[f.image_band].resolution_m))
    residuals = {"before": c.before, "after": c.after}
    ctx.log.info(f"{len(tp)} tie points; ground residual RMS {c.before['rms_px']:.3f} -> "
                 f"{c.after['rms_px']:.3f} pixel; bias (µrad) "
                 + " ".join(f"{1e6 * b:+.2f}" for b in c.bias)
                 + "; drift (µrad/s) " + " ".join(f"{1e6 * d:+.3f}" for d in c.drift))
    if not c.after["rms_px"] <= MAX_RESIDUAL_PX:
        reason = (f"residual RMS {c.after['rms_px']:.2f} pixel after the fit is above "
                  f"{MAX_RESIDUAL_PX} pixel: the given attitude is kept")
        ctx.warn(reason)
        write_json(ctx.output("REFINED_MODEL"), RefinedModel(refined=False, reason=reason,
                                                               residuals=residuals, **common))
        return
    correction = AttitudeCorrectionModel(bias_rad=list(c.bias), drift_rad_s=list(c.drift),
                                         bias_sigma_rad=list(c.bias_sigma),
                                         drift_sigma_rad_s=list(c.drift_sigma))
    write_json(ctx.output("REFINED_MODEL"), RefinedModel(refined=True, attitude_correction=correction,
                                                           residuals=residuals, **common))


def geo1b_finalize(ctx: TaskContext) -> None:
    """GEO1B_FINALIZE: PDI_DS + REFINED_MODEL -> PDI_DS with its refined geometry
    (:class:`ipf.products.datastrip.RefinedGeometry`)."""
    src = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(src)
    refined = read_refined_model(ctx.input("REFINED_MODEL"))
    if refined.datastrip != info.identifier:
        raise TaskError(f"the refined model is of datastrip {refined.datastrip}, the L1B of {info.identifier}")
    dst = ImageStore(ctx.output("PDI_DS"))
    names = src.images()
    for k, name in enumerate(names, 1):
        dst.link(src, name)
        if k % 16 == 0 or k == len(names):
            ctx.progress(100.0 * k / len(names), "images")
    geometry = dict(refined=refined.refined, reference_time=utc(refined.reference_time),
                    tie_points=refined.tie_points)
    if refined.refined and refined.attitude_correction is not None:
        c = refined.attitude_correction
        geometry.update(attitude_correction=AttitudeCorrection(bias_rad=c.bias_rad,
                                                               drift_rad_s=c.drift_rad_s),
                        image_band=refined.image_band)
    else:
        geometry["reason"] = refined.reason
    if refined.residuals is not None:
        geometry["residuals"] = refined.residuals
    dst.copy_entries(src)
    write_datastrip(dst, info)
    write_geometry(dst, RefinedGeometry(**geometry))
    dst.flush()
    state = "refined" if refined.refined else "given (not refined)"
    ctx.log.info(f"{len(names)} images; attitude {state}")
