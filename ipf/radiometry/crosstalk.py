"""Spectral crosstalk correction."""

from __future__ import annotations

import numpy as np


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
