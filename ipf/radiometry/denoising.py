"""Denoising by soft thresholding of an undecimated wavelet transform (GIP_R2DENT)."""

from __future__ import annotations

import numpy as np

from ipf.radiometry.deconvolution import convolve_separable


__all__ = ["starlet", "signal_estimate", "noise_sigma", "noise_scale_factors", "denoise"]

_B3 = np.array([1, 4, 6, 4, 1], np.float64) / 16


def _b3_taps(level: int) -> np.ndarray:
    """B3-spline smoothing filter with 2**level - 1 zeros between taps (à trous)."""
    step = 2**level
    taps = np.zeros(4 * step + 1)
    taps[::step] = _B3
    return taps


def starlet(image: np.ndarray, levels: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Isotropic undecimated wavelet ("starlet", à trous B3-spline) transform.

    Returns the detail planes ``w_1..w_J`` and the smooth residual ``c_J``; their sum is the
    image. Reference: Starck, Fadili & Murtagh, IEEE TIP 16(2), 2007.
    """
    c = np.asarray(image, np.float32)
    details = []
    for j in range(levels):
        taps = _b3_taps(j)
        smooth = convolve_separable(c, taps, taps)
        details.append(c - smooth)
        c = smooth
    return details, c


def signal_estimate(image: np.ndarray, levels: int) -> np.ndarray:
    """Low-noise estimate of the signal for the noise model of :func:`denoise`: the smooth
    plane ``c_J`` of the ``levels``-level starlet (B3-spline smoothing at scale 2^levels px).

    The photon noise grows with the signal, so its level must be read from the signal, not from
    the noisy pixel itself: with σ(pixel) the threshold is larger where the noise is positive,
    the garrote shrinks positive excursions more than negative ones, and the image is biased low
    (-0.1 % on the dark B10) by an amount that follows each column's gain (striping). ``c_J``
    carries about 1 % of the pixel noise variance and averages σ² over the support of the coarse
    planes, as the variance of a detail coefficient does. Float32, same shape.
    """
    return starlet(image, levels)[1]


def noise_sigma(radiance: np.ndarray, absolute_gain: float, relative_gain: np.ndarray,
                electrons_per_dn: float, read_noise_dn: float) -> np.ndarray:
    """Noise standard deviation of a radiance image (W m-2 sr-1 µm-1, float32, same shape).

    The signal ``x = L A g`` (DN; A absolute gain, g relative gain per pixel, GIP_R2ABCA and
    GIP_R2EQOG) carries photon noise (``x / electrons_per_dn`` DN²), read noise
    (``read_noise_dn``) and the rounding to integer DN (1/12 DN²), all from the band's noise
    model (GIP_R2DENT): ``σ = sqrt(x / e + r² + 1/12) / (A g)``. Evaluate it on
    :func:`signal_estimate`, not on the noisy image.
    """
    ag = (absolute_gain * np.asarray(relative_gain, np.float64)).astype(np.float32)
    x = np.maximum(radiance * ag, 0)
    return np.sqrt(x / np.float32(electrons_per_dn)
                   + np.float32(read_noise_dn**2 + 1 / 12)) / ag


def noise_scale_factors(levels: int, prefilter: tuple[np.ndarray, np.ndarray] | None = None
                        ) -> np.ndarray:
    """Standard deviation of each starlet plane for unit white noise, optionally coloured first
    by the separable ``prefilter`` (along, across) taps, e.g. the deconvolution filter."""
    size = 8 * 2**levels + 1
    delta = np.zeros((size, size), np.float32)
    delta[size // 2, size // 2] = 1.0
    if prefilter is not None:
        delta = convolve_separable(delta, *prefilter)
    details, _ = starlet(delta, levels)
    return np.array([np.sqrt(np.sum(w.astype(np.float64) ** 2)) for w in details])


def denoise(image: np.ndarray, noise_sigma: np.ndarray | float, levels: int,
            threshold_factor: float, prefilter: tuple[np.ndarray, np.ndarray] | None = None
            ) -> np.ndarray:
    """Shrink the starlet details of (lines, pixels) ``image`` with the non-negative garrote.

    noise_sigma: noise standard deviation before ``prefilter``, per pixel (same shape, signal
    dependent photon + read noise, evaluated on :func:`signal_estimate`) or scalar, in the
    image's unit; threshold t =
    ``threshold_factor`` × σ × (plane noise factor); a detail w becomes ``w (1 - t²/w²)⁺``, which
    removes noise like soft thresholding but leaves large coefficients (edges) almost unbiased.
    Returns float32. References: Gao, J. Comput. Graph. Stat. 7(4), 1998 (garrote shrinkage);
    Starck, Murtagh & Fadili, *Sparse Image and Signal Processing*, §6 (starlet denoising).
    """
    factors = noise_scale_factors(levels, prefilter)
    sigma = np.asarray(noise_sigma, np.float32)
    details, out = starlet(image, levels)
    tiny = np.float32(1e-30)
    for w, e in zip(details, factors):
        t2 = (np.float32(threshold_factor * e) * sigma) ** 2
        out += w * np.maximum(np.float32(0), 1 - t2 / np.maximum(w * w, tiny))
    return out.astype(np.float32, copy=False)
