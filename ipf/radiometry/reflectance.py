"""Top-of-atmosphere reflectance and its L1C digital numbers (processing baseline 04.00+)."""

from __future__ import annotations

import numpy as np

#: L1C conventions since processing baseline 04.00: ρ = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION
QUANTIFICATION_VALUE = 10000
RADIO_ADD_OFFSET = -1000
NODATA_DN = 0
SATURATED_DN = 65535


def toa_reflectance(radiance: np.ndarray, solar_irradiance: float, cos_sun_zenith: np.ndarray,
                    sun_earth_distance_au: float) -> np.ndarray:
    """ρ = π L d² / (E0 cos θs), unitless.

    radiance: W m-2 sr-1 µm-1; solar_irradiance E0: W m-2 µm-1 at 1 AU (GIP_R2ABCA);
    cos_sun_zenith: per pixel or scalar; sun_earth_distance_au: d in AU. Reference: S2 MSI L1
    ATBD, §"TOA reflectance"; MTD_MSIL1C ``U`` = 1/d².
    """
    scale = np.float32(np.pi * sun_earth_distance_au**2 / solar_irradiance)
    return np.asarray(radiance, np.float32) * scale / np.asarray(cos_sun_zenith, np.float32)


def reflectance_to_dn(rho: np.ndarray, nodata: np.ndarray | None = None,
                      saturated: np.ndarray | None = None) -> np.ndarray:
    """L1C uint16 counts ``round(ρ × 10000) + 1000`` (baseline 04.00 offset), clipped to
    1..65534; ``nodata`` pixels are 0 and ``saturated`` ones 65535."""
    dn = np.rint(np.asarray(rho, np.float64) * QUANTIFICATION_VALUE - RADIO_ADD_OFFSET)
    dn = np.clip(dn, 1, SATURATED_DN - 1).astype(np.uint16)
    if saturated is not None:
        dn[saturated] = SATURATED_DN
    if nodata is not None:
        dn[nodata] = NODATA_DN
    return dn


def dn_to_reflectance(dn: np.ndarray) -> np.ndarray:
    """Inverse of :func:`reflectance_to_dn` (float32; NaN for no-data)."""
    rho = (dn.astype(np.float32) + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE
    return np.where(dn == NODATA_DN, np.nan, rho).astype(np.float32)
