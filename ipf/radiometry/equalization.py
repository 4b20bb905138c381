"""Dark signal and relative gain correction (equalisation) and absolute calibration."""

from __future__ import annotations

import numpy as np


__all__ = ["equalize", "nominal_radiance"]


def equalize(dn: np.ndarray, dark: np.ndarray, relative_gain: np.ndarray,
             absolute_gain: float) -> np.ndarray:
    """Radiance from raw counts: ``L = (DN - dark) / (A g)``.

    dn: (lines, pixels) raw counts; dark: (pixels,) dark signal in DN and relative_gain:
    (pixels,) unitless, both of one detector (GIP_R2EQOG); absolute_gain: A in DN per
    W m-2 sr-1 µm-1 (GIP_R2ABCA). Returns float32 radiance (lines, pixels).

    Reference: S2 MSI L1 ATBD (S2PAD-ATBD-0001), §"Dark signal correction" and
    §"Relative response correction (equalisation)".
    """
    scale = (1.0 / (absolute_gain * np.asarray(relative_gain, np.float64))).astype(np.float32)
    out = dn.astype(np.float32)
    out -= np.asarray(dark, np.float32)
    out *= scale
    return out


def nominal_radiance(dn: np.ndarray, dark: np.ndarray, relative_gain: np.ndarray,
                     absolute_gain: float) -> np.ndarray:
    """Radiance with the detector's mean dark signal and relative gain (quick look):
    ``L = (DN - mean(dark)) / (A mean(g))``, W m-2 sr-1 µm-1, in the precision of ``dn``.

    dn: raw counts (NaN where missing); dark (DN), relative_gain: (pixels,) of one detector
    (GIP_R2EQOG); absolute_gain: A in DN per W m-2 sr-1 µm-1 (GIP_R2ABCA).
    """
    gain = absolute_gain * float(np.mean(relative_gain))
    return (dn - float(np.mean(dark))) / gain
