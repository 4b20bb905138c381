"""Dark signal and relative gain correction (equalisation) and absolute calibration."""

from __future__ import annotations

import numpy as np


__all__ = ["equalize"]


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
