"""Saturation and no-data masks of L1B images, and the 0/1 layers of the L1C raster masks.

The L1C raster masks (processing baseline 04.00, ``shared/reference/s2-l1c-product-format.md``
§1.4): MSK_QUALIT_<band> has the 8 layers :data:`QUALIT_LAYERS` (:func:`quality_layers` of the
quality bits), MSK_CLASSI_B00 the 3 layers :data:`CLASSI_LAYERS` (:func:`classi_layers` of the
cloud classes of :mod:`ipf.radiometry.clouds`).
"""

from __future__ import annotations

import numpy as np


__all__ = ["DN_MAX", "SATURATED", "NO_DATA", "DEFECTIVE", "saturation_threshold", "quality_mask",
           "QUALIT_LAYERS", "QUALIT_BITS", "CLASSI_LAYERS", "quality_layers", "classi_layers"]

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


QUALIT_LAYERS = ("ANC_LOST", "ANC_DEG", "MSI_LOST", "MSI_DEG", "QT_DEFECTIVE_PIXELS",
                 "QT_NODATA_PIXELS", "QT_PARTIALLY_CORRECTED_PIXELS", "SATURATED_PIXELS_L1A")
"""MSK_QUALIT layers in file order (baseline 04.00; SNAP's PSD 14.8 mask model)."""
QUALIT_BITS = {"QT_DEFECTIVE_PIXELS": DEFECTIVE, "QT_NODATA_PIXELS": NO_DATA, "SATURATED_PIXELS_L1A": SATURATED}
"""Quality-mask bit behind each MSK_QUALIT layer; the other layers are 0 (no lost or degraded
ancillary or MSI packet reaches L1C here, no partial crosstalk correction)."""
CLASSI_LAYERS = ("OPAQUE", "CIRRUS", "SNOW")
"""MSK_CLASSI layers in file order: opaque clouds, cirrus clouds, snow and ice."""


def quality_layers(q: np.ndarray) -> np.ndarray:
    """(rows, cols) quality bits -> (rows, cols, 8) uint8 0/1 layers in :data:`QUALIT_LAYERS`
    order (a view of layer-planar memory, the order the JPEG 2000 encoder takes)."""
    out = np.zeros((len(QUALIT_LAYERS),) + q.shape, np.uint8)
    for name, bit in QUALIT_BITS.items():
        np.not_equal(q & bit, 0, out=out[QUALIT_LAYERS.index(name)].view(bool))
    return np.moveaxis(out, 0, -1)


def classi_layers(classes: np.ndarray, bits: dict[str, int]) -> np.ndarray:
    """(rows, cols) cloud class bits (``bits``: the bit of each name of :data:`CLASSI_LAYERS`) ->
    (rows, cols, 3) uint8 0/1 layers in :data:`CLASSI_LAYERS` order (a view of layer-planar
    memory)."""
    out = np.zeros((len(CLASSI_LAYERS),) + classes.shape, np.uint8)
    for k, name in enumerate(CLASSI_LAYERS):
        np.not_equal(classes & bits[name], 0, out=out[k].view(bool))
    return np.moveaxis(out, 0, -1)
