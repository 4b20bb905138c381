"""Cloud, cirrus and snow tests on TOA reflectance (the L0 quick-look and the L1C MASK_S2).

Threshold tests in the spirit of the S2 L1C cloud mask (S2 MPC L1C ATBD, "cloud masks"): a
cloud is bright in the blue (ρ(B02) above ``cloud_reflectance``) unless the normalised
difference snow index ``(ρ(B03) - ρ(B11)) / (ρ(B03) + ρ(B11))`` exceeds ``snow_ndsi`` (snow is
as bright as clouds in the visible but dark in the SWIR); cirrus is where ρ(B10) exceeds
``cirrus_reflectance`` (water vapour absorbs the 1375 nm band below ≈ 3 km, so surfaces stay
dark there) and the pixel is not an opaque cloud.
"""

from __future__ import annotations

import numpy as np

CLOUD_REFLECTANCE = 0.30
SNOW_NDSI = 0.40
CIRRUS_REFLECTANCE = 0.035

OPAQUE = 1
CIRRUS = 2
SNOW = 4


def ndsi(green: np.ndarray, swir: np.ndarray) -> np.ndarray:
    """Normalised difference snow index (NaN where both are 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (green - swir) / (green + swir)


def classify(blue: np.ndarray, green: np.ndarray | None = None, swir: np.ndarray | None = None,
             cirrus: np.ndarray | None = None, cloud_reflectance: float = CLOUD_REFLECTANCE,
             snow_ndsi: float = SNOW_NDSI, cirrus_reflectance: float = CIRRUS_REFLECTANCE
             ) -> np.ndarray:
    """Class bits (uint8: :data:`OPAQUE`, :data:`CIRRUS`, :data:`SNOW`) of reflectance images
    of one shape (NaN = no data, class 0); the snow and cirrus tests need their bands."""
    with np.errstate(invalid="ignore"):
        bright = blue > cloud_reflectance
        snow = np.zeros(blue.shape, bool)
        if green is not None and swir is not None:
            snow = bright & (ndsi(green, swir) > snow_ndsi)
        opaque = bright & ~snow
        out = np.where(opaque, OPAQUE, 0) | np.where(snow, SNOW, 0)
        if cirrus is not None:
            out |= np.where((cirrus > cirrus_reflectance) & ~opaque & ~snow, CIRRUS, 0)
    return out.astype(np.uint8)
