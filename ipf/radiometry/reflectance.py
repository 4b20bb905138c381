"""Top-of-atmosphere reflectance and its L1C digital numbers (processing baseline 04.00+)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


__all__ = ["QUANTIFICATION_VALUE", "RADIO_ADD_OFFSET", "NODATA_DN", "SATURATED_DN", "toa_reflectance",
           "reflectance_to_dn", "dn_to_reflectance", "toa_counts_reference", "toa_counts", "quick_look_reflectance",
           "BandStatistics", "band_statistics"]

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


def quick_look_reflectance(radiance: np.ndarray, solar_irradiance: float, cos_sun_zenith: np.ndarray,
                           sun_earth_distance_au: float) -> np.ndarray:
    """ρ = π L d² / (E0 cos θs) of :func:`toa_reflectance` in the precision of the inputs (NumPy
    promotion; float64 with a float64 ``cos_sun_zenith``), as QL_CLOUD_MASK computes it."""
    return np.pi * sun_earth_distance_au**2 * radiance / (solar_irradiance * cos_sun_zenith)


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


def _interp_nodes(nodes: np.ndarray, step: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    gh, gw = nodes.shape
    gy, gx = rows / step, cols * (1.0 / step)
    iy = np.minimum(gy.astype(np.int64), gh - 2)
    ix = np.minimum(gx.astype(np.int64), gw - 2)
    fy, fx = (gy - iy)[:, None], (gx - ix)[None, :]
    by_row = nodes[iy] * (1 - fy) + nodes[iy + 1] * fy
    return by_row[:, ix] * (1 - fx) + by_row[:, ix + 1] * fx


def toa_counts_reference(radiance: np.ndarray, mask: np.ndarray, seen: np.ndarray,
                         cos_nodes: np.ndarray, step: int, row0: int, col0: int, scale: float
                         ) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`toa_counts`."""
    from ipf.radiometry.masks import NO_DATA, SATURATED

    rows = np.arange(row0, row0 + radiance.shape[0], dtype=np.float64)
    cols = np.arange(col0, col0 + radiance.shape[1], dtype=np.float64)
    cos = np.maximum(_interp_nodes(cos_nodes, step, rows, cols), 1e-3)
    rho = radiance.astype(np.float64) * scale / cos
    nodata = ~np.asarray(seen, bool) | ((mask & NO_DATA) > 0)
    dn = reflectance_to_dn(rho, nodata=nodata, saturated=(mask & SATURATED) > 0)
    return dn, np.where(nodata, mask | NO_DATA, mask).astype(np.uint8)


@functools.cache
def _toa_kernel():
    import numba

    @numba.njit(cache=True)
    def kernel(radiance, mask, seen, cos_nodes, step, row0, col0, scale, nodata_bit, saturated_bit,
               q, offset, dn, quality):
        gh, gw = cos_nodes.shape
        n, m = radiance.shape
        by_row = np.empty(gw)
        cell = np.empty(m, np.int64)
        frac = np.empty(m)
        for j in range(m):
            gx = (col0 + j) / step
            ix = min(int(gx), gw - 2)
            cell[j] = ix
            frac[j] = gx - ix
        for i in range(n):
            gy = (row0 + i) / step
            iy = min(int(gy), gh - 2)
            fy = gy - iy
            for g in range(gw):
                by_row[g] = cos_nodes[iy, g] * (1 - fy) + cos_nodes[iy + 1, g] * fy
            for j in range(m):
                mk = mask[i, j]
                if not seen[i, j] or (mk & nodata_bit):
                    dn[i, j] = 0
                    quality[i, j] = mk | nodata_bit
                    continue
                quality[i, j] = mk
                if mk & saturated_bit:
                    dn[i, j] = 65535
                    continue
                ix = cell[j]
                fx = frac[j]
                cos = max(by_row[ix] * (1 - fx) + by_row[ix + 1] * fx, 1e-3)
                v = np.rint(radiance[i, j] * scale / cos * q + offset)
                dn[i, j] = min(max(v, 1.0), 65534.0)

    return kernel


def toa_counts(radiance: np.ndarray, mask: np.ndarray, seen: np.ndarray, cos_nodes: np.ndarray,
               step: int, row0: int, col0: int, scale: float, dn: np.ndarray | None = None,
               quality: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """L1C counts and quality mask of orthorectified radiance, one pass (numba).

    radiance (W m-2 sr-1 µm-1), mask (uint8 L1B bits), seen (bool, or detector ids: non-zero where
    a detector sees the pixel):
    (rows, cols) of the output pixels (row0 + i, col0 + j); cos_nodes: cos(sun zenith) at
    output pixels (gi·step, gj·step); scale = π d² / E0 (sr µm m² W-1 · W m-2 µm-1, d in AU).
    ρ = radiance · scale / cos θs (:func:`toa_reflectance`), then :func:`reflectance_to_dn`;
    no data: not seen or NO_DATA (count 0, NO_DATA bit set); SATURATED: 65535. ``dn`` (uint16)
    and ``quality`` (uint8): C-contiguous arrays of that shape to write into (default: new ones).
    """
    from ipf.radiometry.masks import NO_DATA, SATURATED

    seen = np.asarray(seen)
    dn = np.empty(radiance.shape, np.uint16) if dn is None else dn
    quality = np.empty(radiance.shape, np.uint8) if quality is None else quality
    for a, t in ((dn, np.uint16), (quality, np.uint8)):
        if a.shape != radiance.shape or a.dtype != t or not a.flags.c_contiguous:
            raise ValueError(f"output array must be C-contiguous {t.__name__} of shape {radiance.shape}")
    _toa_kernel()(np.ascontiguousarray(radiance, np.float32), np.ascontiguousarray(mask, np.uint8),
                  np.ascontiguousarray(seen if seen.dtype in (np.bool_, np.uint8) else seen != 0),
                  np.ascontiguousarray(cos_nodes, np.float64),
                  step, row0, col0, float(scale), NO_DATA, SATURATED, float(QUANTIFICATION_VALUE),
                  float(-RADIO_ADD_OFFSET), dn, quality)
    return dn, quality


@dataclass(frozen=True)
class BandStatistics:
    """Statistics of one band of an L1C tile (:func:`band_statistics`)."""

    coverage: float
    """Pixels some detector sees / pixels of the whole tile."""
    saturated_fraction: float
    """Seen pixels with the SATURATED bit / seen pixels (0 when none is seen)."""
    defective_fraction: float
    """Seen pixels with the DEFECTIVE bit / seen pixels."""
    mean_reflectance: float | None
    """Mean TOA reflectance of the good pixels (quality 0); ``None`` when there is none."""
    detectors: list[int]
    """The detectors of ``detectors`` seeing at least one pixel."""


def band_statistics(dn: np.ndarray, quality: np.ndarray, detector_footprint: np.ndarray, detectors: list[int],
                    tile_pixels: int) -> BandStatistics:
    """Coverage, saturated and defective fractions, mean reflectance and detectors of one band.

    dn: L1C counts; quality: :mod:`ipf.radiometry.masks` bits; detector_footprint: detector id
    per pixel, 0 where none sees it (all three over the same window of the tile); tile_pixels:
    pixels of the whole tile at the band's resolution. The mean reflectance is that of the mean
    count (float64) of the good pixels, ρ = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE.
    """
    from ipf.radiometry.masks import DEFECTIVE, SATURATED

    q = np.asarray(quality)
    detfoo = np.asarray(detector_footprint)
    per_detector = {d: int(np.count_nonzero(detfoo == d)) for d in detectors}
    n_seen = int(np.count_nonzero(detfoo))
    good = q == 0
    n_good = int(np.count_nonzero(good))
    dn_mean = float(np.asarray(dn).mean(where=good, dtype=np.float64)) if n_good else None
    return BandStatistics(
        coverage=n_seen / tile_pixels,
        saturated_fraction=int(np.count_nonzero(q & SATURATED)) / max(n_seen, 1),
        defective_fraction=int(np.count_nonzero(q & DEFECTIVE)) / max(n_seen, 1),
        mean_reflectance=None if dn_mean is None else (dn_mean + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE,
        detectors=[d for d, n in per_detector.items() if n])
