"""Restoration by deconvolution: an MTF-matching FIR filter (GIP_R2DECT)."""

from __future__ import annotations

import functools

import numpy as np

from ipf.interface.errors import InputError

__all__ = ["gaussian_mtf_sigma", "mtf_matching_filter", "filter_response", "convolve_separable_ref",
           "convolve_separable", "deconvolve"]


def gaussian_mtf_sigma(mtf_nyquist: float) -> float:
    """Standard deviation (pixels) of the Gaussian PSF whose MTF at Nyquist (0.5 cycle/pixel) is
    ``mtf_nyquist``: ``MTF(f) = exp(-2 π² σ² f²)``."""
    if not 0 < mtf_nyquist < 1:
        raise ValueError(f"MTF at Nyquist must be in (0, 1), got {mtf_nyquist}")
    return float(np.sqrt(-2.0 * np.log(mtf_nyquist)) / np.pi)


def mtf_matching_filter(mtf_nyquist: float, target_mtf_nyquist: float, half_size: int,
                        n_freq: int = 257) -> np.ndarray:
    """Symmetric FIR filter (2 half_size + 1 taps) that turns a Gaussian MTF into a Gaussian MTF
    of value ``target_mtf_nyquist`` at Nyquist.

    The ideal response is ``H(f) = MTF_target(f) / MTF(f) = exp(2 π² (σ² - σ_t²) f²)``; the taps
    are its least-squares fit on ``n_freq`` frequencies of [0, 0.5] with the DC gain held at 1,
    so radiometry is preserved. Reference: S2 MSI L1 ATBD, §"Deconvolution"; the filter
    design is the frequency-sampling/least-squares method (Oppenheim & Schafer, ch. 7).
    """
    sigma = gaussian_mtf_sigma(mtf_nyquist)
    sigma_t = gaussian_mtf_sigma(target_mtf_nyquist)
    f = np.linspace(0.0, 0.5, n_freq)
    wanted = np.exp(2 * np.pi**2 * (sigma**2 - sigma_t**2) * f**2)
    n = np.arange(1, half_size + 1)
    # h0 + 2 Σ h_n cos(2π f n) = H(f), with h0 = 1 - 2 Σ h_n (unit DC gain)
    basis = 2 * (np.cos(2 * np.pi * f[:, None] * n[None, :]) - 1.0)
    h_n, *_ = np.linalg.lstsq(basis, wanted - 1.0, rcond=None)
    return np.concatenate([h_n[::-1], [1.0 - 2 * h_n.sum()], h_n])


def filter_response(taps: np.ndarray, f: float | np.ndarray) -> np.ndarray:
    """Frequency response of symmetric ``taps`` at ``f`` cycles/pixel."""
    half = len(taps) // 2
    n = np.arange(-half, half + 1)
    return np.cos(2 * np.pi * np.multiply.outer(f, n)) @ taps


def convolve_separable_ref(image: np.ndarray, taps_along: np.ndarray, taps_across: np.ndarray
                           ) -> np.ndarray:
    """NumPy reference of :func:`convolve_separable` (one whole-array pass per tap)."""
    out = np.asarray(image, np.float32)
    for axis, taps in ((0, taps_along), (1, taps_across)):
        half = len(taps) // 2
        if half == 0:
            out = out * np.float32(taps[0])
            continue
        a = np.moveaxis(out, axis, 0)
        pad = np.concatenate([a[half:0:-1], a, a[-2:-half - 2:-1]], axis=0)
        acc = np.zeros(a.shape, np.float32)
        for i, w in enumerate(taps):
            if w != 0:
                acc += np.float32(w) * pad[i:i + a.shape[0]]
        out = np.moveaxis(acc, 0, axis)
    return np.ascontiguousarray(out)


@functools.cache
def _kernel():
    global mirror  # helpers as globals, not closure cells: ipf.interface.runtime
    import numba

    @numba.njit(cache=True)
    def mirror(k, n):
        if k < 0:
            return -k
        if k >= n:
            return 2 * (n - 1) - k
        return k

    @numba.njit(cache=True)
    def convolve(image, taps_along, taps_across):
        lines, pixels = image.shape
        ha, hc = len(taps_along) // 2, len(taps_across) // 2
        wa = taps_along.astype(np.float32)
        wc = taps_across.astype(np.float32)
        out = np.zeros((lines, pixels), np.float32)
        row = np.zeros(pixels, np.float32)
        buf = np.empty(pixels + 2 * hc, np.float32)
        for i in range(lines):
            row[:] = 0
            for t in range(len(wa)):
                w = wa[t]
                if w == 0:
                    continue
                src = image[mirror(i + t - ha, lines)]
                for j in range(pixels):
                    row[j] += w * src[j]
            for j in range(pixels + 2 * hc):
                buf[j] = row[mirror(j - hc, pixels)]
            dst = out[i]
            for t in range(len(wc)):
                w = wc[t]
                if w == 0:
                    continue
                for j in range(pixels):
                    dst[j] += w * buf[j + t]
        return out

    return convolve


def convolve_separable(image: np.ndarray, taps_along: np.ndarray, taps_across: np.ndarray
                       ) -> np.ndarray:
    """Separable convolution of (lines, pixels) ``image`` with mirror-symmetric edge extension
    (``k -> -k`` before the first sample): ``taps_along`` along axis 0, ``taps_across`` along
    axis 1; odd tap counts, each half shorter than the image. Returns float32.

    Numba kernel, one pass per axis; :func:`convolve_separable_ref` is its NumPy reference.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    for n, taps in zip(image.shape, (taps_along, taps_across)):
        if len(taps) // 2 >= n:
            raise ValueError(f"a {len(taps)}-tap filter needs more than {len(taps) // 2} samples, "
                             f"the image has {n}")
    return _kernel()(image, np.asarray(taps_along, np.float64), np.asarray(taps_across, np.float64))


def deconvolve(image: np.ndarray, mtf_along: float, mtf_across: float, target_mtf: float,
               half_size: int, *, band: str | None = None, detector: int | None = None
               ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Restore (lines, pixels) ``image`` to an MTF of ``target_mtf`` at Nyquist in both directions.

    mtf_along, mtf_across: the band's MTF at Nyquist along and across track (GIP_R2DECT).
    Returns the float32 restored image and the (along, across) filters, which the denoising needs
    to know how the noise was coloured. An image of no more than ``half_size`` lines or pixels
    is an :class:`~ipf.interface.errors.InputError` (element GIP_R2DECT/Filter_Half_Size)
    naming ``band`` and ``detector``.
    """
    lines, pixels = np.shape(image)
    if half_size >= min(lines, pixels):
        where = f"{band} detector {detector}" if band else "the image"
        raise InputError(f"a filter of half size {half_size} needs more than {half_size} lines and "
                         f"pixels; {where} has {lines} lines of {pixels} pixels",
                         element="GIP_R2DECT/Filter_Half_Size")
    taps = (mtf_matching_filter(mtf_along, target_mtf, half_size),
            mtf_matching_filter(mtf_across, target_mtf, half_size))
    return convolve_separable(image, *taps), taps
