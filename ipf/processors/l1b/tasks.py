"""Level-1B processor tasks: the radiometric corrections (RADIO_AB) and their report
(RADIO_FINALIZE).

RADIO_AB, per detector, in this order (each step a function of :mod:`ipf.radiometry`):
dark signal and relative gains (GIP_R2EQOG) with the absolute gain (GIP_R2ABCA) to radiance;
defective pixels (GIP_R2DEPI); crosstalk (GIP_R2CRCO, each source registered on the target
band by phase correlation and resampled onto its grid); restoration: deconvolution (GIP_R2DECT) and denoising (GIP_R2DENT, noise model of the
band); binning (GIP_R2BINN: the 60 m bands' lines of 20 m elements, 3 to a pixel); saturation,
no-data and defective flags. Output: an L1B image store of float32 radiance (W m-2 sr-1 µm-1) and uint8 masks.
"""

from __future__ import annotations

import json

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import gipp
from ipf.products.datastrip import (LINE_TIME, LINE_VALID, MASK, DatastripInfo, DnAttrs, LineTimeAttrs,
                                    MaskAttrs, RadianceAttrs, find_images, read_datastrip,
                                    read_image, write_datastrip, write_image)
from ipf.products.store import ImageStore
from ipf.radiometry import binning, crosstalk, deconvolution, defective, denoising, equalization, masks

__all__ = ["radio_ab", "radio_finalize"]


def _by_band(ctx: TaskContext, file_type: str, info: DatastripInfo) -> dict:
    """Band -> the ``file_type`` GIPP valid over the datastrip (the Job Order may list versions)."""
    chosen = gipp.select_band_gipps(ctx.inputs(file_type), file_type, info.sensing_start, info.sensing_stop)
    return {band: gipp.read_gipp(p, gipp.GIPP_TYPES[file_type]) for band, p in chosen.items()}


def _valid_gipp(ctx: TaskContext, file_type: str, info: DatastripInfo) -> gipp.GippData:
    """The band-independent ``file_type`` GIPP valid over the datastrip."""
    path = gipp.select_gipp(ctx.inputs(file_type), file_type, "B00", info.sensing_start, info.sensing_stop)
    return gipp.read_gipp(path, gipp.GIPP_TYPES[file_type])


def _remove_crosstalk(ctx: TaskContext, det: int, radiance: dict, attrs: dict[str, DnAttrs], valid: dict,
                      crco: gipp.GIP_R2CRCO, binn: dict[str, gipp.Binning], missing: set[str]) -> dict:
    """:func:`crosstalk.remove_crosstalk` of one detector for the GIP_R2CRCO couplings whose
    source is in the product (else added to ``missing``) and has a valid line (else a warning).
    Pixels are (resolution along, element pitch across): before binning, a band that GIP_R2BINN
    bins across holds elements of ``element_pitch_across_m``."""
    couplings = []
    for band in radiance:
        for c in crco.couplings:
            if c.target != band:
                continue
            if c.source not in radiance:
                missing.add(c.source)
                continue
            if not valid[c.source].any():
                ctx.warn(f"D{det:02d} crosstalk {c.source} -> {band} not corrected: {c.source} "
                         "has no valid line")
                continue
            couplings.append((band, c.source, c.coefficient))
    pitch = {band: (a.resolution, binn[band].element_pitch_across_m
                    if band in binn and binn[band].across > 1 else a.resolution)
             for band, a in attrs.items()}
    corrected, links = crosstalk.remove_crosstalk(radiance, pitch, couplings)
    for k in links:
        ctx.log.debug(f"D{det:02d} crosstalk {k.source} -> {k.target}: offset "
                      f"{k.offset[0]:+.2f} {k.offset[1]:+.2f} px")
    return corrected


def radio_ab(ctx: TaskContext) -> None:
    """RADIO_AB: PDI_DS (L1A store) + radiometric GIPPs -> PDI_DS (L1B store)."""
    l1a = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(l1a)
    qsteps = {b.band: b.quantisation_step for b in info.bands}
    abca = _valid_gipp(ctx, "GIP_R2ABCA", info)
    calib = {b.band: b for b in abca.bands}
    eqog = _by_band(ctx, "GIP_R2EQOG", info)
    dect = _by_band(ctx, "GIP_R2DECT", info)
    dent = _by_band(ctx, "GIP_R2DENT", info)
    crco = _valid_gipp(ctx, "GIP_R2CRCO", info)
    depi = _valid_gipp(ctx, "GIP_R2DEPI", info)
    binn = {b.band: b for b in _valid_gipp(ctx, "GIP_R2BINN", info).bands}
    out = ImageStore(ctx.output("PDI_DS"))

    detectors = sorted({a.detector for a in find_images(l1a, DnAttrs)})
    if not detectors:
        raise TaskError(f"{l1a.root}: no DN image (not an L1A store?)")
    missing_sources = set()
    for n, det in enumerate(detectors, 1):
        radiance, flags, attrs, valid_of = {}, {}, {}, {}
        for a in find_images(l1a, DnAttrs, detector=det):
            band = a.band
            for table, what in ((calib, "GIP_R2ABCA"), (eqog, "GIP_R2EQOG"), (dect, "GIP_R2DECT"),
                                (dent, "GIP_R2DENT")):
                if band not in table:
                    raise TaskError(f"no {what} for band {band}")
            eq = eqog[band]
            if det not in eq.detectors:
                raise TaskError(f"GIP_R2EQOG of {band} has no detector {det}")
            row = eq.detectors.index(det)
            if len(eq.relative_gain[row]) != a.pixels:
                raise TaskError(f"GIP_R2EQOG of {band} has {len(eq.relative_gain[row])} pixels "
                                f"for detector {det}, the image {a.pixels}")
            dn = l1a.read(a.name)
            valid = np.asarray(read_image(l1a, LINE_VALID, band, det), bool)
            if not valid.any():
                ctx.warn(f"D{det:02d} {band}: no valid line; the band is all no-data")
            bad = defective.defective_elements(
                [p.pixel for p in depi.pixels if p.band == band and p.detector == det], a.pixels)
            L = equalization.equalize(dn, eq.dark_signal[row], eq.relative_gain[row],
                                      calib[band].absolute_gain)
            radiance[band] = defective.interpolate_defective(defective.fill_invalid_lines(L, valid), bad,
                                                             band=band, detector=det)
            flags[band] = masks.quality_mask(
                dn, ~valid, bad, masks.saturation_threshold(qsteps.get(band, 1)))
            attrs[band], valid_of[band] = a, valid

        corrected = _remove_crosstalk(ctx, det, radiance, attrs, valid_of, crco, binn, missing_sources)

        for band, L in corrected.items():
            a, eq, row = attrs[band], eqog[band], eqog[band].detectors.index(det)
            steps = ["equalisation", "defective pixels", "crosstalk"]
            taps = None
            if dent[band].denoising:
                sigma = denoising.noise_sigma(denoising.signal_estimate(L, dent[band].wavelet_levels),
                                              calib[band].absolute_gain, eq.relative_gain[row],
                                              dent[band].electrons_per_dn, dent[band].read_noise_dn)
            d = dect[band]
            if d.deconvolution:
                L, taps = deconvolution.deconvolve(L, d.mtf_nyquist_along, d.mtf_nyquist_across,
                                                   d.target_mtf_nyquist, d.filter_half_size,
                                                   band=band, detector=det)
                steps.append("deconvolution")
            if dent[band].denoising:
                L = denoising.denoise(L, sigma, dent[band].wavelet_levels,
                                      dent[band].threshold_factor, taps)
                steps.append("denoising")
            mask = flags[band]
            b = binn.get(band)
            if b is not None and (b.across > 1 or b.along > 1):
                if a.pixels % b.across or a.lines % b.along:
                    raise TaskError(f"D{det:02d} {band}: {a.lines} lines of {a.pixels} elements do not "
                                    f"bin by {b.across} x {b.along} (GIP_R2BINN)")
                L = binning.bin_pixels(L, b.across, b.along)
                mask = binning.bin_flags(mask, b.across, b.along,
                                         (masks.SATURATED, masks.NO_DATA, masks.DEFECTIVE))
                steps.append(f"binning {b.across}x{b.along}")
            L[(mask & masks.NO_DATA) > 0] = 0
            common = dict(band=band, detector=det, resolution=a.resolution, lines=a.lines,
                          pixels=L.shape[1])
            write_image(out, L.astype(np.float32), RadianceAttrs(
                steps=steps, absolute_gain=calib[band].absolute_gain,
                solar_irradiance=calib[band].solar_irradiance, **common))
            write_image(out, mask, MaskAttrs(**common))
            write_image(out, read_image(l1a, LINE_TIME, band, det, mmap=False),
                        LineTimeAttrs(**common))
        ctx.progress(100.0 * n / len(detectors), f"detector {det}")
    for source in sorted(missing_sources):
        ctx.log.info(f"crosstalk from {source} not corrected: band not in the product")
    write_datastrip(out, info)
    out.flush()


def radio_finalize(ctx: TaskContext) -> None:
    """RADIO_FINALIZE: absolute calibration and mask statistics of the L1B store (REPORT, JSON)."""
    store = ImageStore(ctx.input("PDI_DS"))
    bands: dict[str, dict] = {}
    for a in find_images(store, RadianceAttrs):
        mask = read_image(store, MASK, a.band, a.detector)
        radiance = store.read(a.name)
        n = mask.size
        entry = bands.setdefault(a.band, {"absolute_gain": a.absolute_gain,
                                          "solar_irradiance": a.solar_irradiance,
                                          "steps": a.steps, "detectors": {}})
        good = mask == 0
        entry["detectors"][str(a.detector)] = {
            "saturated_fraction": float((mask & masks.SATURATED > 0).sum() / n),
            "no_data_fraction": float((mask & masks.NO_DATA > 0).sum() / n),
            "defective_pixels": int(((mask & masks.DEFECTIVE) > 0).any(axis=0).sum()),
            "mean_radiance": float(radiance[good].mean()) if good.any() else None,
        }
    if not bands:
        raise TaskError(f"{store.root}: no radiance image (not an L1B store?)")
    report = {"datastrip": read_datastrip(store).identifier, "bands": bands,
              "unit": "W m-2 sr-1 um-1"}
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
