"""Restoration of defective pixels and invalid lines."""

from __future__ import annotations

import numpy as np

from ipf.interface.errors import InputError

__all__ = ["interpolate_defective", "fill_invalid_lines", "defective_elements"]


def interpolate_defective(image: np.ndarray, defective: np.ndarray, *, band: str | None = None,
                          detector: int | None = None) -> np.ndarray:
    """Replace defective detector elements by linear interpolation across track.

    image: (lines, pixels); defective: (pixels,) bool, True for elements listed in GIP_R2DEPI.
    Each defective element takes, on every line, the value linearly interpolated between the
    nearest valid elements on either side (the nearest one at the detector edges). Returns a new
    float32 array; :class:`~ipf.interface.errors.InputError` (element GIP_R2DEPI) when every
    element is listed, naming ``band`` and ``detector``. Reference: S2 MSI L1 ATBD,
    §"Defective pixels".
    """
    out = np.array(image, dtype=np.float32)
    bad = np.asarray(defective, bool)
    if not bad.any():
        return out
    good = np.flatnonzero(~bad)
    if good.size == 0:
        where = f"{band} detector {detector}" if band else "the detector"
        raise InputError(f"all {bad.size} elements of {where} are listed defective: nothing to "
                         "interpolate from", element="GIP_R2DEPI")
    cols = np.flatnonzero(bad)
    right = np.searchsorted(good, cols)
    left = right - 1
    left_c = good[np.clip(left, 0, good.size - 1)]
    right_c = good[np.clip(right, 0, good.size - 1)]
    left_c = np.where(left < 0, right_c, left_c)
    right_c = np.where(right >= good.size, left_c, right_c)
    span = np.maximum(right_c - left_c, 1)
    w = np.where(right_c == left_c, 0.0, (cols - left_c) / span).astype(np.float32)
    out[:, cols] = out[:, left_c] * (1 - w) + out[:, right_c] * w
    return out


def fill_invalid_lines(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Give each invalid line of ``image`` the values of the nearest valid line.

    image: (lines, pixels); valid: (lines,) bool, False for the lines lost or undecodable in the
    L0 (L1A line-validity flags). The filters that follow (crosstalk registration,
    deconvolution, denoising) then do not ring on the gaps; the lines stay flagged NO_DATA. The
    later line wins a tie. ``image`` itself is returned when every line or no line is valid,
    else a new array.
    """
    if valid.all() or not valid.any():
        return image
    good = np.flatnonzero(valid)
    nearest = good[np.clip(np.searchsorted(good, np.arange(len(valid))), 0, len(good) - 1)]
    prev = good[np.clip(np.searchsorted(good, np.arange(len(valid))) - 1, 0, len(good) - 1)]
    idx = np.arange(len(valid))
    pick = np.where(np.abs(prev - idx) < np.abs(nearest - idx), prev, nearest)
    return image[pick]


def defective_elements(elements, n_pixels: int) -> np.ndarray:
    """Bool (n_pixels,) vector, True at the listed detector elements (GIP_R2DEPI); elements
    outside 0..n_pixels-1 are ignored."""
    bad = np.zeros(n_pixels, bool)
    e = np.asarray(list(elements), np.int64)
    bad[e[(e >= 0) & (e < n_pixels)]] = True
    return bad
