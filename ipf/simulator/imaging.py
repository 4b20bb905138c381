"""Image formation of one detector over a range of lines: scene -> PSF -> DN.

For a chunk of lines (all bands of one detector covering the same ground):

1. every pixel is located on the DEM with the *true* geometry (:mod:`ipf.simulator.location`);
2. the band-independent scene fields are rendered on a 5 m grid aligned with the track (axes:
   along-track ``a`` and across-track ``c`` unit vectors in the UTM plane) covering the chunk
   footprint plus the PSF support;
3. per band: radiance with spectral crosstalk, box average to a grid 2× finer than the L0
   element pitch (``res/10`` samples of 5 m; ``res/30`` for the 20 m elements of a 60 m band),
   the remaining Gaussian blur so that the total PSF has the GIP_R2DECT MTF (the PSF in pixels
   is converted to metres with the chunk-mean ground sampling distance along and across track:
   terrain-induced PSF distortion is neglected), bilinear sampling at the located elements;
4. the radiometric model of :mod:`ipf.simulator.radiometry` with the GIPP parameters.

A 60 m band's L0 line holds ``k`` = 3 elements of 20 m per 60 m pixel (GIP_R2BINN), which L1B
averages (:func:`bin_elements`). The GIP_R2DECT MTF is that of the binned pixel: with the PSF
variances adding up, the element's PSF across track has the variance of the binned pixel's
minus that of the ``k`` element positions, ``(k² - 1) / (12 k²)`` pixel².
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ipf.formats.msi_bands import BY_NAME
from ipf.simulator import radiometry as rad
from ipf.simulator.location import LocationGrid, locate_on_dem_nb


__all__ = ["RENDER_STEP", "RENDER_MARGIN_M", "SunModel", "ImagingContext", "locate", "radiance_chunk",
           "dn_chunk", "bin_elements"]

RENDER_STEP = 5.0
RENDER_MARGIN_M = 4 * 0.8 * 60 + 120.0  # 4 sigma of the widest PSF (MTF >= 0.09) + 2 pixels of 60 m


@dataclass
class SunModel:
    """Sun: Sun-Earth distance (AU) and cos(θs) = c0 + c1 (E - e_ref) + c2 (N - n_ref)."""

    d_au: float
    coeffs: tuple[float, float, float]
    ref: tuple[float, float]

    def cos_zenith(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        c0, c1, c2 = self.coeffs
        return c0 + c1 * (e - self.ref[0]) + c2 * (n - self.ref[1])


@dataclass
class ImagingContext:
    """What :func:`image_chunk` needs; ``grids`` are the true location grids by (band, detector)."""

    instrument: object
    scene: object
    sun: SunModel
    bands: tuple[str, ...]
    grids: dict[tuple[str, int], LocationGrid] = field(default_factory=dict)


def locate(ctx: ImagingContext, band: str, detector: int, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground (E, N, h) of all L0 elements of ``lines`` (arrays (n_lines, n_elements))."""
    n_pix = ctx.instrument.n_elements(band)
    s = ctx.scene
    g = s.dem_grid
    return locate_on_dem_nb(ctx.grids[band, detector], lines[:, None].astype(np.float64),
                            np.arange(n_pix, dtype=np.float64)[None, :], s.dem, g.x0, g.y0, g.step)


def _sample(work: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    h, w = work.shape
    u = np.clip(u, 0, h - 1.000001)
    v = np.clip(v, 0, w - 1.000001)
    i, j = u.astype(np.int64), v.astype(np.int64)
    fu, fv = u - i, v - j
    top = work[i, j] * (1 - fv) + work[i, j + 1] * fv
    return top + (work[i + 1, j] * (1 - fv) + work[i + 1, j + 1] * fv - top) * fu


def radiance_chunk(ctx: ImagingContext, detector: int, c0: int, c1: int,
                   clouds: bool = True) -> dict[str, np.ndarray]:
    """Blurred at-sensor radiance (incl. crosstalk) of every band for 10 m lines [c0, c1).

    Returns {band: float64 (n_lines_band, n_elements_band)} (L0 elements, see the module
    docstring; :func:`bin_elements` gives the L1B pixels); c0, c1 multiples of 6 with
    c1 - c0 >= 12 (the along-track direction is taken from the first and last lines).
    """
    inst = ctx.instrument
    pos = {}
    for b in ctx.bands:
        r = BY_NAME[b].resolution_m // 10
        lines = np.arange(c0 // r, c1 // r)
        e, n, _ = locate(ctx, b, detector, lines)
        pos[b] = (e, n)

    ref = pos[ctx.bands[0]]
    along = np.array([ref[0][-1].mean() - ref[0][0].mean(), ref[1][-1].mean() - ref[1][0].mean()])
    a = along / np.linalg.norm(along)
    c = np.array([a[1], -a[0]])
    e_all = np.concatenate([p[0].ravel() for p in pos.values()])
    n_all = np.concatenate([p[1].ravel() for p in pos.values()])
    origin = np.array([e_all.mean(), n_all.mean()])
    ua = (e_all - origin[0]) * a[0] + (n_all - origin[1]) * a[1]
    vc = (e_all - origin[0]) * c[0] + (n_all - origin[1]) * c[1]
    margin = RENDER_MARGIN_M
    u0 = np.floor((ua.min() - margin) / 60) * 60
    v0 = np.floor((vc.min() - margin) / 60) * 60
    nu = int(np.ceil((ua.max() + margin - u0) / 60)) * 12
    nv = int(np.ceil((vc.max() + margin - v0) / 60)) * 12
    uu = u0 + RENDER_STEP * (np.arange(nu) + 0.5)
    vv = v0 + RENDER_STEP * (np.arange(nv) + 0.5)
    E = origin[0] + uu[:, None] * a[0] + vv[None, :] * c[0]
    N = origin[1] + uu[:, None] * a[1] + vv[None, :] * c[1]
    f = ctx.scene.fields(E, N, clouds=clouds)
    k_sun = ctx.sun.cos_zenith(E, N).astype(np.float32) / np.float32(np.pi * ctx.sun.d_au**2)
    e0 = {b.band: b.solar_irradiance for b in inst.r2abca.bands}

    def radiance(band: str) -> np.ndarray:
        return ctx.scene.reflectance(BY_NAME[band].index, **f) * (k_sun * np.float32(e0[band]))

    out = {}
    for b in ctx.bands:
        L = radiance(b)
        for src, coef in inst.couplings(b):
            L += np.float32(coef) * radiance(src)
        k = inst.binning(b)
        factor = BY_NAME[b].resolution_m // 10 // k
        work = rad.box_downsample(L, factor)
        step = RENDER_STEP * factor
        e, n = pos[b]
        gsd_along = (float(np.mean(np.hypot(np.diff(e, axis=0), np.diff(n, axis=0))))
                     if e.shape[0] > 1 else float(BY_NAME[b].resolution_m))
        gsd_across = k * float(np.mean(np.hypot(np.diff(e, axis=1), np.diff(n, axis=1))))
        dect = inst.r2dect[b]
        sigma_across = np.sqrt(max(rad.mtf_sigma(dect.mtf_nyquist_across) ** 2 - (k * k - 1) / (12.0 * k * k), 0.0))
        s_along = rad.residual_sigma(rad.mtf_sigma(dect.mtf_nyquist_along) * gsd_along / RENDER_STEP, factor)
        s_across = rad.residual_sigma(sigma_across * gsd_across / RENDER_STEP, factor)
        work = rad.gaussian_blur(work, s_along * RENDER_STEP / step, s_across * RENDER_STEP / step)
        du = (e - origin[0]) * a[0] + (n - origin[1]) * a[1]
        dv = (e - origin[0]) * c[0] + (n - origin[1]) * c[1]
        out[b] = _sample(work, (du - u0) / step - 0.5, (dv - v0) / step - 0.5)
    return out


def dn_chunk(ctx: ImagingContext, detector: int, radiance: dict[str, np.ndarray],
             rng_for_band) -> dict[str, np.ndarray]:
    """Level-0 DN (uint16) of each band from :func:`radiance_chunk`; ``rng_for_band(band)``
    returns the noise generator of that band."""
    inst = ctx.instrument
    out = {}
    for b, L in radiance.items():
        eq = inst.r2eqog[b]
        row = eq.detectors.index(detector)
        x = rad.signal_dn(L, inst.absolute_gain(b), eq.relative_gain[row].astype(np.float64))
        dead, hot = inst.defects(b, detector)
        x, dark = rad.apply_defects(x, eq.dark_signal[row], dead, hot)
        dent = inst.r2dent[b]
        out[b] = rad.add_noise(x, dark, dent.electrons_per_dn, dent.read_noise_dn, rng_for_band(b))
    return out


def bin_elements(ctx: ImagingContext, band: str, image: np.ndarray) -> np.ndarray:
    """Mean of the GIP_R2BINN ``across`` elements of each pixel of an element image (lines,
    n_elements) of ``band``: the L1B pixels (the image itself when ``across`` is 1)."""
    k = ctx.instrument.binning(band)
    if k == 1:
        return image
    lines, n = image.shape
    return image[:, :n // k * k].reshape(lines, n // k, k).mean(axis=2)
