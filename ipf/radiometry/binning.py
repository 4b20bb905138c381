"""Binning of detector elements and lines (60 m bands)."""

from __future__ import annotations

import warnings

import numpy as np


__all__ = ["bin_pixels", "bin_mask", "bin_flags", "cell_means"]


def bin_pixels(image: np.ndarray, across: int, along: int) -> np.ndarray:
    """Mean of ``along`` × ``across`` blocks of (lines, pixels) ``image`` (GIP_R2BINN).

    The incomplete last block of each axis is dropped. Returns float32
    (lines // along, pixels // across).
    """
    if across == 1 and along == 1:
        return np.asarray(image, np.float32)
    h = image.shape[0] // along * along
    w = image.shape[1] // across * across
    blocks = image[:h, :w].reshape(h // along, along, w // across, across)
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def bin_mask(mask: np.ndarray, across: int, along: int) -> np.ndarray:
    """A binned pixel is flagged when any of its elements is."""
    h = mask.shape[0] // along * along
    w = mask.shape[1] // across * across
    return mask[:h, :w].reshape(h // along, along, w // across, across).any(axis=(1, 3))


def bin_flags(flags: np.ndarray, across: int, along: int, bits) -> np.ndarray:
    """Binned uint8 bit field: each of ``bits`` set in a binned pixel when any of its elements
    has it (:func:`bin_mask` per bit); other bits are dropped."""
    out = None
    for bit in bits:
        b = np.where(bin_mask((flags & bit) > 0, across, along), np.uint8(bit), np.uint8(0))
        out = b if out is None else out | b
    return out.astype(np.uint8)


def cell_means(image: np.ndarray, cell: int, shape: tuple[int, int]) -> np.ndarray:
    """Mean of ``image`` over ``shape`` cells of ``cell`` × ``cell`` pixels, NaN pixels left out
    (NaN for a cell without a finite pixel); ``image`` is (shape[0] · cell, shape[1] · cell)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(image.reshape(shape[0], cell, shape[1], cell), axis=(1, 3))
