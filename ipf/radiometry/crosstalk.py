"""Spectral crosstalk correction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


__all__ = ["Scale", "CrosstalkLink", "remove_crosstalk", "correct_crosstalk", "resample_to", "area_prefilter", "sample_bilinear", "estimate_offset",
           "register_band"]


def correct_crosstalk(radiance: np.ndarray, sources: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Remove the light of other bands: ``L_b = L'_b - Σ_s c_bs L_s``.

    radiance: (lines, pixels) radiance of the target band b; sources: (coefficient c_bs, source
    band radiance on the target's grid) pairs from GIP_R2CRCO. First-order correction, exact when
    the sources carry no crosstalk themselves (the coefficients are < 1%, so the second-order
    error is < 1e-4 of the signal). Reference: S2 MSI L1 ATBD, §"Crosstalk correction".
    """
    out = np.array(radiance, dtype=np.float32)
    for c, s in sources:
        out -= np.float32(c) * s.astype(np.float32, copy=False)
    return out


Scale = float | tuple[float, float]
"""Target pixel size / source pixel size: one value for both axes, or (along, across) when the
pixels are not square (the 20 m elements of a 60 m band's lines before binning)."""


def _axes(scale: Scale) -> tuple[float, float]:
    return (float(scale), float(scale)) if np.isscalar(scale) else (float(scale[0]), float(scale[1]))


def resample_to(image: np.ndarray, shape: tuple[int, int], scale: Scale,
                offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Bring a band of another resolution onto the target band's grid by bilinear interpolation.

    image: (lines, pixels) source band; shape: target (lines, pixels); scale: target pixel size
    / source pixel size (e.g. 2 for a 20 m target and a 10 m source; (along, across) when they
    differ); offset: (lines, pixels) shift in target pixels (from :func:`estimate_offset`).
    Target pixel centre ``i`` maps to source coordinate ``(i + 0.5 + offset) * scale - 0.5`` on
    each axis; a finer source is first averaged over a target pixel (:func:`area_prefilter`).
    """
    return sample_bilinear(area_prefilter(image, scale), shape, scale, offset)


def _box(k: int) -> np.ndarray:
    """Normalised box of ``k`` samples (odd taps; an even ``k`` has half-weight end taps)."""
    if k <= 1:
        return np.ones(1)
    box = np.ones(k + 1 - k % 2)
    box[[0, -1]] = 0.5 if k % 2 == 0 else 1.0
    return box / box.sum()


def area_prefilter(image: np.ndarray, scale: Scale) -> np.ndarray:
    """Average a finer source over a target pixel (box of ``scale`` source pixels on each axis):
    the leaked light reaches the target band through the target's coarser pixels. Float32 copy."""
    src = np.asarray(image, np.float32)
    ka, kc = (int(round(v)) for v in _axes(scale))
    if ka <= 1 and kc <= 1:
        return src
    from ipf.radiometry.deconvolution import convolve_separable

    return convolve_separable(src, _box(ka), _box(kc))


def sample_bilinear(src: np.ndarray, shape: tuple[int, int], scale: Scale,
                    offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Bilinear samples of ``src`` at the target pixel centres of :func:`resample_to`."""

    def axis(n_out: int, n_in: int, o: float, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.clip((np.arange(n_out) + 0.5 + o) * k - 0.5, 0, n_in - 1)
        i0 = np.minimum(np.floor(x).astype(np.int64), n_in - 2 if n_in > 1 else 0)
        return i0, np.minimum(i0 + 1, n_in - 1), (x - i0).astype(np.float32)

    along, across = _axes(scale)
    r0, r1, wr = axis(shape[0], src.shape[0], offset[0], along)
    c0, c1, wc = axis(shape[1], src.shape[1], offset[1], across)
    rows = src[r0] * (1 - wr)[:, None] + src[r1] * wr[:, None]
    return rows[:, c0] * (1 - wc) + rows[:, c1] * wc


def estimate_offset(target: np.ndarray, source_on_target: np.ndarray, max_shift: int = 16
                    ) -> tuple[float, float]:
    """Shift (lines, pixels), in target pixels, at which ``source_on_target`` best matches
    ``target``: ``source(y + dy, x + dx) ≈ target(y, x)``.

    Phase correlation of the two (Hann-windowed, mean-removed) images, with a parabolic
    sub-pixel refinement of the peak, searched within ±``max_shift``. The bands of one detector
    look at the same ground through different parts of the focal plane, so they are offset along
    and across track by up to a few pixels; crosstalk must be removed at the same ground point.
    Reference: Kuglin & Hines, Proc. IEEE Int. Conf. Cybernetics and Society, 1975.
    """
    a = np.asarray(target, np.float64)
    b = np.asarray(source_on_target, np.float64)
    win = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    fa = np.fft.fft2((a - a.mean()) * win)
    fb = np.fft.fft2((b - b.mean()) * win)
    cross = fb * np.conj(fa)
    r = np.real(np.fft.ifft2(cross / np.maximum(np.abs(cross), 1e-12)))
    r = np.fft.fftshift(r)
    cy, cx = a.shape[0] // 2, a.shape[1] // 2
    m = min(max_shift, cy - 1, cx - 1)
    window = r[cy - m:cy + m + 1, cx - m:cx + m + 1]
    iy, ix = np.unravel_index(np.argmax(window), window.shape)

    def refine(lo: float, mid: float, hi: float) -> float:
        denom = lo - 2 * mid + hi
        return 0.0 if denom == 0 else 0.5 * (lo - hi) / denom

    y, x = iy + cy - m, ix + cx - m
    dy = refine(r[y - 1, x], r[y, x], r[y + 1, x]) if 0 < y < r.shape[0] - 1 else 0.0
    dx = refine(r[y, x - 1], r[y, x], r[y, x + 1]) if 0 < x < r.shape[1] - 1 else 0.0
    return float(y - cy + dy), float(x - cx + dx)


def register_band(target: np.ndarray, source: np.ndarray, scale: Scale, iterations: int = 3,
                  window: int = 512, prefiltered: np.ndarray | None = None) -> tuple[float, float]:
    """Offset (target pixels) that brings ``source`` onto ``target``'s ground (see
    :func:`resample_to`), by :func:`estimate_offset` repeated on the residual: each pass
    resamples the source with the offset found so far, which removes the bias of the sub-pixel
    peak fit (≈ 0.03 pixel). Estimated on the central ``window`` × ``window`` target pixels; an
    image narrower than 32 pixels is too small to register and gets a zero offset.
    ``prefiltered``: :func:`area_prefilter` of ``source`` at ``scale`` when the caller has it."""
    h, w = target.shape
    if min(h, w) < 32:
        return 0.0, 0.0
    y0, x0 = max(0, (h - window) // 2), max(0, (w - window) // 2)
    t = np.asarray(target[y0:y0 + window, x0:x0 + window], np.float32)
    src = area_prefilter(source, scale) if prefiltered is None else prefiltered
    offset = np.zeros(2)
    m = max(2, min(t.shape) // 16)
    inner = (slice(m, -m), slice(m, -m))
    for _ in range(iterations + 1):
        moved = sample_bilinear(src, t.shape, scale, (offset[0] + y0, offset[1] + x0))
        offset += estimate_offset(t[inner], moved[inner])
    return float(offset[0]), float(offset[1])


@dataclass(frozen=True)
class CrosstalkLink:
    """A coupling of GIP_R2CRCO registered on one detector: ``coefficient`` × the radiance of
    ``source`` leaks into ``target``; ``scale`` is the target / source pixel size (one value, or
    (along, across)) and
    ``offset`` (lines, pixels, in target pixels) brings the source onto the target's ground
    (:func:`register_band`)."""

    target: str
    source: str
    coefficient: float
    scale: Scale
    offset: tuple[float, float]


def remove_crosstalk(radiance: dict[str, np.ndarray], resolution: dict[str, int | tuple[float, float]],
                     couplings: Sequence[tuple[str, str, float]]
                     ) -> tuple[dict[str, np.ndarray], list[CrosstalkLink]]:
    """Remove the crosstalk of one detector, with every source registered on its target.

    Parameters
    ----------
    radiance : dict
        (lines, pixels) radiance of each band of the detector (W m-2 sr-1 µm-1).
    resolution : dict
        Pixel size (m) of each band, or its (along, across) pitch when the pixels are not square
        (a 60 m band's lines of 20 m elements before binning).
    couplings : sequence of (target, source, coefficient)
        The GIP_R2CRCO couplings to correct, both bands in ``radiance``; the sources of one
        target are subtracted in this order.

    Returns
    -------
    corrected, links
        The corrected radiance of each band (the given array for a band that receives no
        crosstalk) and the registered couplings, in the order of ``couplings``.

    Two Jacobi passes of :func:`correct_crosstalk`: the second subtracts the sources' already
    corrected radiance, which removes the second-order error (a bright band leaking into a
    source that leaks into a dark band, e.g. B8A -> B09 -> B10). A source is resampled as in
    :func:`resample_to`, but its :func:`area_prefilter` is computed once per (source image,
    scale) and shared by the registration, both passes and every target of that scale (only the
    sources that are themselves corrected change between passes).
    """
    prefiltered: dict[tuple[str, Scale], tuple[np.ndarray, np.ndarray]] = {}

    def prefilter(source: str, image: np.ndarray, scale: Scale) -> np.ndarray:
        hit = prefiltered.get((source, scale))
        if hit is None or hit[0] is not image:
            hit = prefiltered[source, scale] = (image, area_prefilter(image, scale))
        return hit[1]

    links = []
    for target, source, coefficient in couplings:
        (ta, tc), (sa, sc) = _axes(resolution[target]), _axes(resolution[source])
        scale = ta / sa if ta / sa == tc / sc else (ta / sa, tc / sc)
        image = radiance[source]
        offset = register_band(radiance[target], image, scale,
                               prefiltered=prefilter(source, image, scale))
        links.append(CrosstalkLink(target, source, coefficient, scale, offset))
    targets = {link.target for link in links}
    corrected = radiance
    for _ in range(2):
        corrected = {band: correct_crosstalk(L, [
            (k.coefficient, sample_bilinear(prefilter(k.source, corrected[k.source], k.scale),
                                            L.shape, k.scale, k.offset))
            for k in links if k.target == band])
            if band in targets else L for band, L in radiance.items()}
    return corrected, links
