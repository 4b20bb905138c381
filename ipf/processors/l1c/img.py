"""L1C tile images as JPEG 2000: the band files, the pixel-level quality masks, TCI and PVI.

- FORMAT_IMG_L1C: PDI_TILE (the L1C tile store of TILE_FINALIZE) + GIP_JP2KPA -> PDI_TILE_IMG,
  a directory holding what goes into the granule of the SAFE product (processing baseline
  04.00 raster masks, ``shared/reference/s2-l1c-product-format.md`` §1.3, §1.4)::

      IMG_DATA/T<tile>_<time>_<band>.jp2   L1C counts, uint16, full tile at the band resolution
      QI_DATA/MSK_DETFOO_<band>.jp2        detector id 1..12, 0 where no detector sees the pixel
      QI_DATA/MSK_QUALIT_<band>.jp2        8 layers of 0/1, :data:`QUALIT_LAYERS`
      QI_DATA/MSK_CLASSI_B00.jp2           3 layers of 0/1 at 60 m, :data:`CLASSI_LAYERS`

- FORMAT_IMG_PVI_TCI: PDI_TILE + GIP_JP2KPA -> PDI_TILE_TCI, a directory holding
  ``T<tile>_<time>_TCI.jp2`` (true colour, 8-bit R, G, B = B04, B03, B02 at 10 m,
  :func:`tci_counts`) and ``QI_DATA/T<tile>_<time>_PVI.jp2`` (the 343 × 343 preview at 320 m,
  :func:`preview`). A tile without some of B04, B03, B02 (a simulated subset of the bands) has
  those channels at 0 (no data), with a warning in the log.

``<time>`` is the datatake sensing start (``YYYYMMDDTHHMMSS``), as in real band file names; a
simulated datatake has one datastrip, so it is the datastrip sensing start of the tile entry
(:class:`ipf.products.tile.L1CTile`).
Tile images cover a window of the tile (TILE_FINALIZE); the files cover the whole tile, no data
outside the window (0; the QT_NODATA layer set). Encoding and georeferencing:
:mod:`ipf.formats.jp2`.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError
from ipf.formats import gipp
from ipf.formats.safe import band_file_stem
from ipf.formats.jp2 import Placed, write_jp2
from ipf.products import tile as tp
from ipf.products.store import ImageStore
from ipf.radiometry import clouds, masks, reflectance

__all__ = [
    "QUALIT_LAYERS", "QUALIT_BITS", "CLASSI_LAYERS", "TCI_BANDS", "TCI_SATURATION_REFLECTANCE", "PVI_RESOLUTION",
    "quality_layers", "classi_layers", "tci_counts", "BlockMeans", "TrueColour", "preview", "product_time",
    "format_img_l1c", "format_img_pvi_tci",
]

QUALIT_LAYERS = ("ANC_LOST", "ANC_DEG", "MSI_LOST", "MSI_DEG", "QT_DEFECTIVE_PIXELS",
                 "QT_NODATA_PIXELS", "QT_PARTIALLY_CORRECTED_PIXELS", "SATURATED_PIXELS_L1A")
"""MSK_QUALIT layers in file order (baseline 04.00; SNAP's PSD 14.8 mask model)."""
QUALIT_BITS = {"QT_DEFECTIVE_PIXELS": masks.DEFECTIVE, "QT_NODATA_PIXELS": masks.NO_DATA,
               "SATURATED_PIXELS_L1A": masks.SATURATED}
"""Quality-mask bit of the tile store behind each MSK_QUALIT layer; the other layers are 0
(no lost or degraded ancillary or MSI packet reaches L1C here, no partial crosstalk correction)."""
CLASSI_LAYERS = ("OPAQUE", "CIRRUS", "SNOW")
"""MSK_CLASSI layers in file order: opaque clouds, cirrus clouds, snow and ice."""
TCI_BANDS = ("B04", "B03", "B02")
TCI_SATURATION_REFLECTANCE = 0.3558
"""TOA reflectance coded 255 in the L1C TCI (ESA, Sentinel-2 MSI user guide, "Definitions")."""
PVI_RESOLUTION = 320


# --------------------------------------------------------------------------- pixels
def quality_layers(q: np.ndarray) -> np.ndarray:
    """(rows, cols) quality bits -> (rows, cols, 8) uint8 0/1 layers in :data:`QUALIT_LAYERS`
    order (a view of layer-planar memory, the order the encoder takes)."""
    out = np.zeros((len(QUALIT_LAYERS),) + q.shape, np.uint8)
    for name, bit in QUALIT_BITS.items():
        np.not_equal(q & bit, 0, out=out[QUALIT_LAYERS.index(name)].view(bool))
    return np.moveaxis(out, 0, -1)


def classi_layers(classes: np.ndarray, bits: dict[str, int]) -> np.ndarray:
    """(rows, cols) cloud class bits -> (rows, cols, 3) uint8 0/1 layers in
    :data:`CLASSI_LAYERS` order (a view of layer-planar memory)."""
    out = np.zeros((len(CLASSI_LAYERS),) + classes.shape, np.uint8)
    for k, name in enumerate(CLASSI_LAYERS):
        np.not_equal(classes & bits[name], 0, out=out[k].view(bool))
    return np.moveaxis(out, 0, -1)


@functools.cache
def _tci_lut() -> np.ndarray:
    """TCI count (uint8) of every L1C count 0..65535 (:func:`tci_counts`)."""
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
    clipped to 1..255 (ρ = (DN − 1000) / 10000; SATURATED -> 255), 0 where the band has no data
    (ESA: "reflectances coded between 1 and 255, 0 being reserved for No Data"; 255 is reflectance
    0.3558 in L1C). Each channel on its own: a pixel has no data in the bands that miss it. A view
    of channel-planar memory."""
    lut = _tci_lut()
    out = np.empty((len(dn),) + dn[0].shape, np.uint8)
    for k, band in enumerate(dn):
        np.take(lut, band, out=out[k], mode="clip")
    return np.moveaxis(out, 0, -1)


class BlockMeans:
    """A (rows, cols, layers) uint8 :class:`~ipf.formats.jp2.TileSource` passed through that adds
    each slice read to the sums and valid (non-zero) pixel counts of its ``factor`` × ``factor``
    blocks, so the PVI comes from the slices the TCI encoder reads; a slice read again is not
    added twice. :meth:`means` as :func:`preview`."""

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
    :class:`BlockMeans` over :class:`~ipf.formats.jp2.Placed` with :func:`tci_counts`."""

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
        _true_colour_kernel()(*self.channels, self.present, self.window[0], self.window[1], _tci_lut(),
                              reflectance.NODATA_DN, self.offset[0], self.offset[1], r0, c0, out, self.sums,
                              self.counts, self.factor, first)
        return out


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
    """PVI of a true-colour image (any :class:`~ipf.formats.jp2.TileSource` of (rows, cols, 3)
    uint8): the mean of the valid (non-zero) pixels of each ``factor`` × ``factor`` block,
    rounded, per channel; 0 where a block has none. Blocks past ``rows // factor`` are dropped
    (10980 / 32 -> 343 × 343 at 320 m, the size of real PVIs). ``region`` (row0, col0, row1,
    col1), in pixels: the part of the image that may hold data (the rest is taken as 0)."""
    acc = BlockMeans(tci, factor)
    n_rows, n_cols = tci.shape[0] // factor, tci.shape[1] // factor
    r0, c0, r1, c1 = region or (0, 0, tci.shape[0], tci.shape[1])
    i0, i1 = r0 // factor, min(n_rows, -(-r1 // factor))
    j0, j1 = c0 // factor, min(n_cols, -(-c1 // factor))
    for i in range(i0, i1, strip_blocks):
        k = min(strip_blocks, i1 - i)
        acc.add(np.asarray(tci[i * factor:(i + k) * factor, j0 * factor:j1 * factor]), i * factor, j0 * factor)
    return acc.means()


# --------------------------------------------------------------------------- helpers
def _l1c_tile(store: ImageStore) -> tp.L1CTile:
    tile = tp.read_l1c_tile(store)
    if not tp.tile_bands(store):
        raise InputError("no L1C band image (not the PDI_TILE of TILE_FINALIZE)", source=store.root / "index.json")
    return tile


def product_time(tile: tp.TileGrid) -> str:
    """``YYYYMMDDTHHMMSS`` of the datatake sensing start of the tile: a simulated datatake has
    one datastrip, so its sensing start."""
    return tile.sensing_start.strftime("%Y%m%dT%H%M%S")


def _jp2_params(ctx: TaskContext) -> gipp.GIP_JP2KPA:
    return gipp.read_gipp(ctx.input("GIP_JP2KPA"), gipp.GIP_JP2KPA)


def _write(path: Path, image, tile: tp.TileGrid, resolution: int, params: gipp.GIP_JP2KPA, **kw) -> int:
    """Write one georeferenced JP2 of the tile grid at ``resolution``; returns its size in bytes."""
    write_jp2(path, image, tile.epsg, tile.ulx, tile.uly, resolution, params,
              htj2k=bool(getattr(params, "htj2k", False)), **kw)
    return path.stat().st_size


def _placed(store: ImageStore, prefix: str, band: str | None, dtype, **kw) -> Placed:
    p = tp.placement(store, prefix, band)
    return Placed([tp.read_image(store, prefix, band)], p.window, p.tile_shape, dtype, **kw)


# --------------------------------------------------------------------------- tasks
def format_img_l1c(ctx: TaskContext) -> None:
    """FORMAT_IMG_L1C: PDI_TILE + GIP_JP2KPA -> PDI_TILE_IMG (band JP2s, MSK_DETFOO,
    MSK_QUALIT per band, MSK_CLASSI)."""
    store = ImageStore(ctx.input("PDI_TILE"))
    tile = _l1c_tile(store)
    params = _jp2_params(ctx)
    out = ctx.output("PDI_TILE_IMG")
    img, qi = out / "IMG_DATA", out / "QI_DATA"
    img.mkdir(exist_ok=True)
    qi.mkdir(exist_ok=True)
    bands = tp.tile_bands(store)
    t0, total = time.perf_counter(), 0
    for k, band in enumerate(bands, 1):
        res = tp.placement(store, tp.TOA, band).resolution
        image = img / f"{band_file_stem(tile.name, tile.sensing_start, band)}.jp2"
        total += _write(image, _placed(store, tp.TOA, band, np.uint16), tile, res, params)
        total += _write(qi / f"MSK_DETFOO_{band}.jp2", _placed(store, tp.DETFOO, band, np.uint8), tile, res,
                        params)
        total += _write(qi / f"MSK_QUALIT_{band}.jp2",
                        _placed(store, tp.QUALITY, band, np.uint8, layers=len(QUALIT_LAYERS),
                                fill=int(masks.NO_DATA), convert=quality_layers), tile, res, params)
        ctx.progress(100.0 * k / (len(bands) + 1), f"{band}: image, detector footprint and quality mask")
    attrs = tp.image_attrs(store, tp.CLASSI)
    bits = attrs.get("bits") or {"OPAQUE": clouds.OPAQUE, "CIRRUS": clouds.CIRRUS, "SNOW": clouds.SNOW}
    total += _write(qi / "MSK_CLASSI_B00.jp2",
                    _placed(store, tp.CLASSI, None, np.uint8, layers=len(CLASSI_LAYERS),
                            convert=lambda c: classi_layers(c, bits)), tile, attrs["resolution"], params)
    ctx.progress(100.0, "cloud classes")
    ctx.log.info(f"tile {tile.name}: {len(bands)} bands and {2 * len(bands) + 1} masks as JPEG 2000, "
                 f"{total / 2**20:.1f} MiB in {time.perf_counter() - t0:.1f} s")


def format_img_pvi_tci(ctx: TaskContext) -> None:
    """FORMAT_IMG_PVI_TCI: PDI_TILE + GIP_JP2KPA -> PDI_TILE_TCI (TCI at 10 m, PVI at 320 m)."""
    store = ImageStore(ctx.input("PDI_TILE"))
    tile = _l1c_tile(store)
    params = _jp2_params(ctx)
    present = [b for b in TCI_BANDS if tp.has_image(store, tp.TOA, b)]
    if not present:
        raise InputError(f"none of {', '.join(TCI_BANDS)}: no true colour image", source=store.root / "index.json")
    if len(present) < len(TCI_BANDS):
        ctx.log.warning(f"no {', '.join(b for b in TCI_BANDS if b not in present)} in the tile: "
                        "their true colour channels are no data (0)")
    places = [tp.placement(store, tp.TOA, b) for b in present]
    if len({(p.window, p.shape, p.resolution) for p in places}) != 1:
        raise InputError(f"{', '.join(present)} differ in window or resolution", source=store.root / "index.json")
    a = places[0]
    channels = [tp.read_image(store, tp.TOA, b) if b in present else None for b in TCI_BANDS]
    tci = TrueColour(channels, a.window, a.tile_shape, PVI_RESOLUTION // a.resolution)
    out = ctx.output("PDI_TILE_TCI")
    (out / "QI_DATA").mkdir(exist_ok=True)
    tci_name, pvi_name = (f"{band_file_stem(tile.name, tile.sensing_start, k)}.jp2" for k in ("TCI", "PVI"))
    _write(out / tci_name, tci, tile, a.resolution, params, rgb=True)
    ctx.progress(80.0, "true colour image")
    if tci.pixels_read == tci.shape[0] * tci.shape[1]:
        pvi = tci.means()
    else:
        (r0, c0), (rows, cols) = a.window, a.shape
        pvi = preview(tci, tci.factor, (r0, c0, r0 + rows, c0 + cols))
    _write(out / "QI_DATA" / pvi_name, pvi, tile, PVI_RESOLUTION, params, rgb=True)
    ctx.progress(100.0, f"preview {pvi.shape[0]} x {pvi.shape[1]}")
