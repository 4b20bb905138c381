"""L1B radiometry speed, one core: Mpix/s of each correction on one 10 m detector granule
(2592 pixels × 2304 lines), and each numba kernel against its NumPy reference in the same run."""

from __future__ import annotations

import time

import numpy as np

from ipf.radiometry import binning, deconvolution, defective, denoising, equalization

LINES, PIXELS = 2304, 2592


def _best(fn, repeat=3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run() -> dict:
    rng = np.random.default_rng(1)
    dn = rng.integers(200, 3000, (LINES, PIXELS)).astype(np.uint16)
    dark = rng.uniform(90, 110, PIXELS)
    gain = rng.uniform(0.95, 1.05, PIXELS)
    bad = np.zeros(PIXELS, bool)
    bad[rng.choice(PIXELS, 12, replace=False)] = True
    radiance = equalization.equalize(dn, dark, gain, 12.0)
    ta = deconvolution.mtf_matching_filter(0.22, 0.30, 6)
    tc = deconvolution.mtf_matching_filter(0.28, 0.30, 6)
    sigma = np.full(radiance.shape, 0.5, np.float32)
    mpix = LINES * PIXELS / 1e6
    corrections = {
        "equalize": lambda: equalization.equalize(dn, dark, gain, 12.0),
        "interpolate_defective": lambda: defective.interpolate_defective(radiance, bad),
        "deconvolve": lambda: deconvolution.deconvolve(radiance, 0.22, 0.28, 0.30, 6),
        "denoise (4 levels)": lambda: denoising.denoise(radiance, sigma, 4, 2.5, (ta, tc)),
        "bin 3x3 (60 m)": lambda: binning.bin_pixels(radiance, 3, 3),
    }
    results = {}
    for name, fn in corrections.items():
        t = _best(fn)
        results[f"radiometry.{name}"] = {
            "name": f"L1B {name}, {PIXELS}x{LINES} px", "unit": "Mpix/s",
            "value": round(mpix / t, 1), "seconds": round(t, 4)}
    t_nb = _best(lambda: deconvolution.convolve_separable(radiance, ta, tc))
    t_np = _best(lambda: deconvolution.convolve_separable_ref(radiance, ta, tc))
    results["radiometry.kernel.convolve_separable"] = {
        "name": "numba separable 13-tap FIR vs its NumPy reference", "unit": "Mpix/s",
        "value": round(mpix / t_nb, 1), "anchor_name": "NumPy reference",
        "anchor": round(mpix / t_np, 1), "ratio": round(t_np / t_nb, 2), "goal": 5.0,
        "goal_met": t_np / t_nb >= 5.0}
    return results
