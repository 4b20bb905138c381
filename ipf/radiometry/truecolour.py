"""True colour of L1C counts: the TCI (8-bit R, G, B = B04, B03, B02) and its block means (PVI).

- :func:`tci_counts`: L1C counts -> TCI counts through :func:`tci_lut` (ESA, Sentinel-2 MSI
  user guide, "Definitions": "reflectances coded between 1 and 255, 0 being reserved for No
  Data"; 255 is TOA reflectance :data:`TCI_SATURATION_REFLECTANCE`).
- :class:`BlockMeans`: a (rows, cols, layers) image source passed through that sums the valid
  (non-zero) pixels of each ``factor`` × ``factor`` block of the slices read;
  :func:`preview`: the same means read by strips (the PVI, ``shared/reference/
  s2-l1c-product-format.md`` §1.3: 343 × 343 at 320 m).
- :class:`TrueColour`: the TCI of three count windows placed in a tile, read by slices, with the
  block sums of :class:`BlockMeans` in the same numba pass; NumPy reference
  :func:`true_colour_reference` (then :class:`BlockMeans`).

An image source is anything with ``shape``, ``dtype`` and ``[rows, cols]`` slicing (a NumPy
array, :class:`ipf.formats.jp2.Placed`): the JPEG 2000 encoder reads the TCI through it.
"""

from __future__ import annotations

import functools

import numpy as np

from ipf.radiometry import reflectance

__all__ = ["TCI_BANDS", "TCI_SATURATION_REFLECTANCE", "tci_lut", "tci_counts", "BlockMeans", "TrueColour",
           "true_colour_reference", "preview"]

TCI_BANDS = ("B04", "B03", "B02")
"""Bands of the R, G, B channels of the TCI."""
TCI_SATURATION_REFLECTANCE = 0.3558
"""TOA reflectance coded 255 in the L1C TCI (ESA, Sentinel-2 MSI user guide, "Definitions")."""


@functools.cache
def tci_lut() -> np.ndarray:
    """TCI count (uint8, read-only) of every L1C count 0..65535 (:func:`tci_counts`)."""
    dn = np.arange(65536, dtype=np.uint32)
    scale = 255.0 / (TCI_SATURATION_REFLECTANCE * reflectance.QUANTIFICATION_VALUE)
    v = np.floor((dn.astype(np.float32) + reflectance.RADIO_ADD_OFFSET) * np.float32(scale) + 0.5)
    v = np.clip(v, 1, 255)
    v[reflectance.SATURATED_DN] = 255
    v[reflectance.NODATA_DN] = 0
    lut = v.astype(np.uint8)
    lut.flags.writeable = False
    return lut


def tci_counts(*dn: np.ndarray) -> np.ndarray:
    """L1C counts of R, G, B -> (rows, cols, 3) uint8 true colour: round(ρ · 255 / 0.3558)
    clipped to 1..255 (ρ = (DN − 1000) / 10000; SATURATED -> 255), 0 where the band has no data.
    Each channel on its own: a pixel has no data in the bands that miss it. A view of
    channel-planar memory."""
    lut = tci_lut()
    out = np.empty((len(dn),) + dn[0].shape, np.uint8)
    for k, band in enumerate(dn):
        np.take(lut, band, out=out[k], mode="clip")
    return np.moveaxis(out, 0, -1)


class BlockMeans:
    """A (rows, cols, layers) uint8 image source passed through that adds each slice read to the
    sums and valid (non-zero) pixel counts of its ``factor`` × ``factor`` blocks, so the PVI comes
    from the slices the TCI encoder reads; a slice read again is not added twice. :meth:`means`
    as :func:`preview`."""

    def __init__(self, source, factor: int):
        self.source, self.factor = source, factor
        self.shape, self.dtype = tuple(source.shape), np.dtype(source.dtype)
        blocks = (-(-self.shape[0] // factor), -(-self.shape[1] // factor), self.shape[2])
        self.sums = np.zeros(blocks, np.uint32)
        self.counts = np.zeros(blocks, np.uint32)
        self.pixels_read = 0
        self._seen: set[tuple[int, int, int, int]] = set()

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        out = self.source[key]
        rows, cols = key
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        if (r0, r1, c0, c1) not in self._seen:
            self._seen.add((r0, r1, c0, c1))
            self.pixels_read += (r1 - r0) * (c1 - c0)
            self.add(np.asarray(out), r0, c0)
        return out

    def add(self, block: np.ndarray, r0: int, c0: int) -> None:
        """Add ``block``, whose first pixel is (``r0``, ``c0``) of the image."""
        if not block.any():
            return
        f = self.factor
        (r1, c1), i0, j0 = (r0 + block.shape[0], c0 + block.shape[1]), r0 // f, c0 // f
        rows = np.arange(i0 * f, r1, f).clip(r0) - r0
        cols = np.arange(j0 * f, c1, f).clip(c0) - c0
        for acc, values in ((self.sums, block), (self.counts, block > 0)):
            part = np.add.reduceat(np.add.reduceat(values, rows, axis=0, dtype=np.uint32), cols, axis=1)
            acc[i0:i0 + len(rows), j0:j0 + len(cols)] += part

    def means(self) -> np.ndarray:
        """(rows // factor, cols // factor, layers) uint8: the rounded mean of the valid pixels of
        each whole block, 0 where a block has none."""
        n_rows, n_cols = self.shape[0] // self.factor, self.shape[1] // self.factor
        sums, counts = self.sums[:n_rows, :n_cols], self.counts[:n_rows, :n_cols]
        mean = np.floor(sums / np.maximum(counts, 1) + 0.5)
        return np.where(counts > 0, mean, 0).astype(np.uint8)


class TrueColour(BlockMeans):
    """The TCI of three L1C count windows (R, G, B: (rows, cols) uint16, ``None`` for a band the
    tile lacks) placed at ``offset`` in a tile of ``size`` (rows, cols), read by slices as
    (rows, cols, 3) uint8 (:func:`tci_counts`, no data outside the windows) while adding each
    slice's pixels to the PVI block sums (:class:`BlockMeans`), in one numba pass; reference:
    :class:`BlockMeans` over :func:`true_colour_reference`."""

    def __init__(self, channels, offset: tuple[int, int], size: tuple[int, int], factor: int):
        shapes = {np.shape(c) for c in channels if c is not None}
        if len(channels) != 3 or len(shapes) != 1:
            raise ValueError("three channel windows of one shape (or None) expected")
        (window,) = shapes
        self.channels = tuple(_readonly(c if c is not None else np.zeros((0, 0), np.uint16)) for c in channels)
        self.present = np.array([c is not None for c in channels], np.bool_)
        self.window, self.offset = tuple(window), tuple(offset)
        self.source, self.factor = None, factor
        self.shape, self.dtype = (size[0], size[1], 3), np.dtype(np.uint8)
        blocks = (-(-size[0] // factor), -(-size[1] // factor), 3)
        self.sums = np.zeros(blocks, np.uint32)
        self.counts = np.zeros(blocks, np.uint32)
        self.pixels_read = 0
        self._seen = set()

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        first = (r0, r1, c0, c1) not in self._seen
        if first:
            self._seen.add((r0, r1, c0, c1))
            self.pixels_read += (r1 - r0) * (c1 - c0)
        out = np.empty((r1 - r0, c1 - c0, 3), np.uint8)
        _true_colour_kernel()(*self.channels, self.present, self.window[0], self.window[1], tci_lut(),
                              reflectance.NODATA_DN, self.offset[0], self.offset[1], r0, c0, out, self.sums,
                              self.counts, self.factor, first)
        return out


def true_colour_reference(channels, offset: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """NumPy reference of :class:`TrueColour`: the whole (rows, cols, 3) uint8 TCI of ``size``,
    :func:`tci_counts` of the windows at ``offset`` (a missing channel and the outside as no
    data)."""
    shapes = {np.shape(c) for c in channels if c is not None}
    (window,) = shapes
    full = []
    for c in channels:
        band = np.full(tuple(size), reflectance.NODATA_DN, np.uint16)
        if c is not None:
            band[offset[0]:offset[0] + window[0], offset[1]:offset[1] + window[1]] = c
        full.append(band)
    return tci_counts(*full)


def _readonly(a) -> np.ndarray:
    """A read-only plain ndarray view of ``a`` as uint16 (one numba type for the three channels)."""
    view = np.asarray(a, np.uint16).view(np.ndarray)
    view.flags.writeable = False
    return view


@functools.cache
def _true_colour_kernel():
    import numba

    @numba.njit(cache=True)
    def kernel(red, green, blue, present, wr, wc, lut, nodata, orow, ocol, r0, c0, out, sums, counts, factor,
               accumulate):
        h, w = out.shape[0], out.shape[1]
        blank = lut[nodata]
        j0 = min(max(ocol - c0, 0), w)
        j1 = min(max(ocol + wc - c0, j0), w)
        block_col = np.empty(w, np.int64)
        for j in range(w):
            block_col[j] = (c0 + j) // factor
        for i in range(h):
            y = r0 + i
            wy = y - orow
            row_in = 0 <= wy < wr
            bi = y // factor
            for k in range(3):
                src = red if k == 0 else (green if k == 1 else blue)
                inside = row_in and present[k]
                for j in range(w):
                    if inside and j0 <= j < j1:
                        v = lut[src[wy, c0 + j - ocol]]
                    else:
                        v = blank
                    out[i, j, k] = v
                if accumulate:
                    for j in range(w):
                        v = out[i, j, k]
                        bj = block_col[j]
                        sums[bi, bj, k] += v
                        counts[bi, bj, k] += v != 0

    return kernel


def preview(tci, factor: int, region: tuple[int, int, int, int] | None = None,
            strip_blocks: int = 16) -> np.ndarray:
    """PVI of a true-colour image (any image source of (rows, cols, 3) uint8): the mean of the
    valid (non-zero) pixels of each ``factor`` × ``factor`` block, rounded, per channel; 0 where a
    block has none. Blocks past ``rows // factor`` are dropped (10980 / 32 -> 343 × 343 at 320 m,
    the size of real PVIs). ``region`` (row0, col0, row1, col1), in pixels: the part of the image
    that may hold data (the rest is taken as 0)."""
    acc = BlockMeans(tci, factor)
    n_rows, n_cols = tci.shape[0] // factor, tci.shape[1] // factor
    r0, c0, r1, c1 = region or (0, 0, tci.shape[0], tci.shape[1])
    i0, i1 = r0 // factor, min(n_rows, -(-r1 // factor))
    j0, j1 = c0 // factor, min(n_cols, -(-c1 // factor))
    for i in range(i0, i1, strip_blocks):
        k = min(strip_blocks, i1 - i)
        acc.add(np.asarray(tci[i * factor:(i + k) * factor, j0 * factor:j1 * factor]), i * factor, j0 * factor)
    return acc.means()
