"""Radiometric forward model of the MSI and its exact inverse (for tests and the processors).

Chain for band b, detector d, pixel p (all parameters from the GIPPs):

1. TOA radiance (W m-2 sr-1 µm-1): ``L = rho * E0_b * cos(θs) / (π d²)`` (d in AU).
2. Spectral crosstalk (GIP_R2CRCO): ``L'_b = L_b + Σ_s c_bs L_s`` at the same ground point,
   before the optics (so the leaked light is blurred by the PSF of b).
3. PSF (GIP_R2DECT): separable Gaussian whose MTF at Nyquist is ``mtf_nyquist_across/along``:
   ``MTF(f) = exp(-2 π² σ² f²)`` with f in cycles/pixel, so ``σ = sqrt(-2 ln MTF_N) / π`` pixels.
4. Signal (GIP_R2ABCA, GIP_R2EQOG, GIP_R2DEPI): ``X = A_b g_dp L'`` DN; dead pixels multiply X by
   their residual response, hot pixels add their extra dark signal.
5. Noise (GIP_R2DENT): photon noise ``Poisson(X k) / k`` (k electrons per DN), plus the dark
   signal, plus Gaussian read noise σ_r DN; rounding and 12-bit saturation to 0..4095.

:func:`invert_dn` returns ``(DN - dark) / (A g)``, the estimate of ``L'``; the per-pixel noise
standard deviation in radiance is :func:`radiance_noise_sigma`.
"""

from __future__ import annotations

import numpy as np


__all__ = ["DN_MAX", "toa_radiance", "toa_reflectance", "mtf_sigma", "gaussian_kernel", "convolve_axis",
           "gaussian_blur", "box_downsample", "residual_sigma", "signal_dn", "apply_defects", "add_noise",
           "invert_dn", "radiance_noise_sigma", "remove_crosstalk"]

DN_MAX = 4095


def toa_radiance(rho: np.ndarray, e0: float, cos_sza: np.ndarray, d_au: float) -> np.ndarray:
    """TOA radiance (W m-2 sr-1 µm-1) of TOA reflectance ``rho``."""
    return rho * (e0 * cos_sza / (np.pi * d_au**2))


def toa_reflectance(radiance: np.ndarray, e0: float, cos_sza: np.ndarray, d_au: float) -> np.ndarray:
    """Inverse of :func:`toa_radiance`."""
    return radiance * (np.pi * d_au**2) / (e0 * cos_sza)


def mtf_sigma(mtf_nyquist: float) -> float:
    """Standard deviation (pixels) of the Gaussian PSF whose MTF at Nyquist is ``mtf_nyquist``."""
    return float(np.sqrt(-2.0 * np.log(mtf_nyquist)) / np.pi)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised sampled Gaussian of standard deviation ``sigma`` samples (half width 4σ)."""
    if sigma <= 1e-3:
        return np.ones(1)
    r = int(np.ceil(4 * sigma))
    x = np.arange(-r, r + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def convolve_axis(image: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """Convolution along one axis with edge replication (same shape, float32)."""
    r = len(kernel) // 2
    if r == 0:
        return image.astype(np.float32, copy=False)
    a = np.moveaxis(image, axis, 0)
    pad = np.concatenate([np.repeat(a[:1], r, 0), a, np.repeat(a[-1:], r, 0)], 0)
    out = np.zeros(a.shape, np.float32)
    for i, w in enumerate(kernel):
        out += np.float32(w) * pad[i:i + a.shape[0]]
    return np.moveaxis(out, 0, axis)


def gaussian_blur(image: np.ndarray, sigma_rows: float, sigma_cols: float) -> np.ndarray:
    """Separable Gaussian blur, sigmas in samples along rows (axis 0) and columns (axis 1)."""
    return convolve_axis(convolve_axis(image, gaussian_kernel(sigma_rows), 0), gaussian_kernel(sigma_cols), 1)


def box_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor × factor blocks (crops the incomplete border)."""
    if factor == 1:
        return image
    h, w = (s // factor * factor for s in image.shape)
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3), dtype=np.float32)


def residual_sigma(sigma: float, factor: int) -> float:
    """Blur (in fine samples) still to apply after a ``factor`` box average to reach ``sigma``:
    the box of ``factor`` samples has variance (factor² - 1) / 12."""
    return float(np.sqrt(max(sigma**2 - (factor**2 - 1) / 12.0, 0.0)))


def signal_dn(radiance: np.ndarray, absolute_gain: float, relative_gain: np.ndarray) -> np.ndarray:
    """Noiseless dark-subtracted signal X = A g L (DN); relative_gain broadcasts on pixels."""
    return radiance * (absolute_gain * relative_gain)


def apply_defects(x: np.ndarray, dark: np.ndarray, dead: dict[int, float],
                  hot: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Dead pixels scale the signal (last axis = pixel), hot pixels raise the dark signal."""
    x = x.copy()
    dark = np.array(dark, dtype=np.float64)
    for p, v in dead.items():
        x[..., p] *= v
    for p, v in hot.items():
        dark[p] += v
    return x, dark


def add_noise(x: np.ndarray, dark: np.ndarray, electrons_per_dn: float, read_noise_dn: float,
              rng: np.random.Generator) -> np.ndarray:
    """Photon + read noise, dark signal, rounding and 12-bit saturation -> uint16 DN."""
    electrons = rng.poisson(np.maximum(x, 0.0) * electrons_per_dn)
    dn = electrons / electrons_per_dn + dark + rng.normal(0.0, read_noise_dn, x.shape)
    return np.clip(np.rint(dn), 0, DN_MAX).astype(np.uint16)


def invert_dn(dn: np.ndarray, absolute_gain: float, relative_gain: np.ndarray,
              dark: np.ndarray) -> np.ndarray:
    """Radiance estimate ``(DN - dark) / (A g)`` (W m-2 sr-1 µm-1, float64)."""
    return (dn.astype(np.float64) - dark) / (absolute_gain * relative_gain)


def radiance_noise_sigma(radiance: np.ndarray, absolute_gain: float, relative_gain: np.ndarray,
                         electrons_per_dn: float, read_noise_dn: float) -> np.ndarray:
    """Noise standard deviation of :func:`invert_dn` (W m-2 sr-1 µm-1), incl. rounding."""
    x = np.maximum(signal_dn(radiance, absolute_gain, relative_gain), 0.0)
    var = x / electrons_per_dn + read_noise_dn**2 + 1.0 / 12.0
    return np.sqrt(var) / (absolute_gain * relative_gain)


def remove_crosstalk(radiance: np.ndarray, sources: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Invert step 2: ``L_b = L'_b - Σ c L_s`` given (coefficient, source radiance) pairs."""
    out = np.array(radiance, dtype=np.float64)
    for c, s in sources:
        out -= c * s
    return out
