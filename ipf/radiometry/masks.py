"""Saturation and no-data masks of L1B images."""

from __future__ import annotations

import numpy as np


__all__ = ["DN_MAX", "SATURATED", "NO_DATA", "DEFECTIVE", "saturation_threshold", "quality_mask"]

#: largest count of the 12-bit MSI video chain
DN_MAX = 4095

SATURATED = np.uint8(1)
NO_DATA = np.uint8(2)
DEFECTIVE = np.uint8(4)


def saturation_threshold(quantisation_step: int, dn_max: int = DN_MAX) -> int:
    """Count from which a decoded pixel is taken as saturated: ``dn_max`` for lossless on-board
    compression; with quantisation step q the decoded value of a saturated pixel can fall up to
    about 2q below it (measured on simulated data), so ``dn_max - 4 (q - 1)``."""
    return dn_max - 4 * (max(int(quantisation_step), 1) - 1)


def quality_mask(dn: np.ndarray, missing_lines: np.ndarray, defective: np.ndarray,
                 dn_max: int = DN_MAX) -> np.ndarray:
    """Per-pixel flags (uint8 bit field): SATURATED (raw count ≥ ``dn_max``, see
    :func:`saturation_threshold`), NO_DATA (line lost
    in the L0 packets: ``missing_lines`` (lines,) bool) and DEFECTIVE (``defective`` (pixels,)
    bool, restored by interpolation)."""
    flags = np.where(dn >= dn_max, SATURATED, np.uint8(0)).astype(np.uint8)
    flags[np.asarray(missing_lines, bool), :] |= NO_DATA
    flags[:, np.asarray(defective, bool)] |= DEFECTIVE
    return flags
