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


__all__ = ["CLOUD_REFLECTANCE", "SNOW_NDSI", "CIRRUS_REFLECTANCE", "OPAQUE", "CIRRUS", "SNOW", "ndsi",
           "classify", "SATURATED_REFLECTANCE", "reflectance_60m", "cover_fractions"]

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


SATURATED_REFLECTANCE = 1.0
"""Reflectance a saturated L1C count enters :func:`reflectance_60m` with."""


def reflectance_60m(dn: np.ndarray, resolution: int, chunk_rows: int = 120) -> np.ndarray:
    """TOA reflectance of L1C counts ``dn`` at ``resolution`` m averaged on the 60 m grid (NaN
    where any pixel has no data), float32.

    The counts are averaged first (the reflectance is affine in them), by chunks of ``chunk_rows``
    60 m rows. Saturated pixels carry a marker, not a reflectance; they enter the average as
    :data:`SATURATED_REFLECTANCE` (a bright surface, so the snow index of a saturated cloud or
    snow field is set by its SWIR reflectance)."""
    from ipf.radiometry import reflectance as r

    k = 60 // resolution
    h, w = dn.shape[0] // k, dn.shape[1] // k
    out = np.empty((h, w), np.float32)
    saturated = np.float32(SATURATED_REFLECTANCE * r.QUANTIFICATION_VALUE - r.RADIO_ADD_OFFSET)
    for i in range(0, h, chunk_rows):
        j = min(i + chunk_rows, h)
        block = np.asarray(dn[i * k:j * k, :w * k]).reshape(j - i, k, w, k)
        counts = np.where(block == r.SATURATED_DN, saturated, block.astype(np.float32))
        mean = counts.mean(axis=(1, 3), dtype=np.float32)
        nodata = (block == r.NODATA_DN).any(axis=(1, 3))
        out[i:j] = np.where(nodata, np.nan, (mean + r.RADIO_ADD_OFFSET) / r.QUANTIFICATION_VALUE)
    return out


def cover_fractions(classes: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Fractions of the ``valid`` pixels of ``classes`` (:func:`classify`) in each class:
    ``cloud_cover`` (opaque or cirrus), ``opaque_cover``, ``cirrus_cover``, ``snow_cover``."""
    n = max(int(valid.sum()), 1)
    return {"cloud_cover": float(((classes & (OPAQUE | CIRRUS)) > 0)[valid].sum() / n),
            "opaque_cover": float(((classes & OPAQUE) > 0)[valid].sum() / n),
            "cirrus_cover": float(((classes & CIRRUS) > 0)[valid].sum() / n),
            "snow_cover": float(((classes & SNOW) > 0)[valid].sum() / n)}
