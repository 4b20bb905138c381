"""L1C tile images as JPEG 2000: the band files, the pixel-level quality masks, TCI and PVI.

- FORMAT_IMG_L1C: PDI_TILE (the L1C tile store of TILE_FINALIZE) + GIP_JP2KPA -> PDI_TILE_IMG,
  a directory holding what goes into the granule of the SAFE product (processing baseline
  04.00 raster masks, ``shared/reference/s2-l1c-product-format.md`` §1.3, §1.4)::

      IMG_DATA/T<tile>_<time>_<band>.jp2   L1C counts, uint16, full tile at the band resolution
      QI_DATA/MSK_DETFOO_<band>.jp2        detector id 1..12, 0 where no detector sees the pixel
      QI_DATA/MSK_QUALIT_<band>.jp2        8 layers of 0/1, :data:`ipf.radiometry.masks.QUALIT_LAYERS`
      QI_DATA/MSK_CLASSI_B00.jp2           3 layers of 0/1 at 60 m, :data:`ipf.radiometry.masks.CLASSI_LAYERS`

- FORMAT_IMG_PVI_TCI: PDI_TILE + GIP_JP2KPA -> PDI_TILE_TCI, a directory holding
  ``T<tile>_<time>_TCI.jp2`` (true colour, 8-bit R, G, B = B04, B03, B02 at 10 m,
  :func:`ipf.radiometry.truecolour.tci_counts`) and ``QI_DATA/T<tile>_<time>_PVI.jp2`` (the 343 × 343 preview at 320 m,
  :func:`ipf.radiometry.truecolour.preview`). A tile without some of B04, B03, B02 (a simulated subset of the bands) has
  those channels at 0 (no data), with a warning in the log.

``<time>`` is the datatake sensing start (``YYYYMMDDTHHMMSS``), as in real band file names; a
simulated datatake has one datastrip, so it is the datastrip sensing start of the tile entry
(:class:`ipf.products.tile.L1CTile`).
Tile images cover a window of the tile (TILE_FINALIZE); the files cover the whole tile, no data
outside the window (0; the QT_NODATA layer set). Encoding and georeferencing:
:mod:`ipf.formats.jp2`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError
from ipf.formats import gipp
from ipf.formats.safe import band_file_stem, mask_file_name
from ipf.formats.jp2 import Placed, write_jp2
from ipf.products import tile as tp
from ipf.products.store import ImageStore
from ipf.radiometry import masks
from ipf.radiometry.masks import CLASSI_LAYERS, QUALIT_LAYERS, classi_layers, quality_layers
from ipf.radiometry.truecolour import TCI_BANDS, TrueColour, preview

__all__ = ["PVI_RESOLUTION", "format_img_l1c", "format_img_pvi_tci"]

PVI_RESOLUTION = 320
"""Resolution of the PVI, m (343 × 343 pixels over the tile)."""


# --------------------------------------------------------------------------- helpers
def _l1c_tile(store: ImageStore) -> tp.L1CTile:
    tile = tp.read_l1c_tile(store)
    if not tp.tile_bands(store):
        raise InputError("no L1C band image (not the PDI_TILE of TILE_FINALIZE)", source=store.root / "index.json")
    return tile


def _jp2_params(ctx: TaskContext, tile: tp.L1CTile) -> gipp.GIP_JP2KPA:
    path = gipp.select_gipp(ctx.inputs("GIP_JP2KPA"), "GIP_JP2KPA", "B00", tile.sensing_start, tile.sensing_stop)
    return gipp.read_gipp(path, gipp.GIP_JP2KPA)


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
    params = _jp2_params(ctx, tile)
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
        total += _write(qi / mask_file_name("DETFOO", band), _placed(store, tp.DETFOO, band, np.uint8), tile, res,
                        params)
        total += _write(qi / mask_file_name("QUALIT", band),
                        _placed(store, tp.QUALITY, band, np.uint8, layers=len(QUALIT_LAYERS),
                                fill=int(masks.NO_DATA), convert=quality_layers), tile, res, params)
        ctx.progress(100.0 * k / (len(bands) + 1), f"{band}: image, detector footprint and quality mask")
    attrs = tp.read_cloud_classes_attrs(store)
    total += _write(qi / mask_file_name("CLASSI"),
                    _placed(store, tp.CLASSI, None, np.uint8, layers=len(CLASSI_LAYERS),
                            convert=lambda c: classi_layers(c, attrs.bits)), tile, attrs.resolution, params)
    ctx.progress(100.0, "cloud classes")
    ctx.log.info(f"tile {tile.name}: {len(bands)} bands and {2 * len(bands) + 1} masks as JPEG 2000, "
                 f"{total / 2**20:.1f} MiB in {time.perf_counter() - t0:.1f} s")


def format_img_pvi_tci(ctx: TaskContext) -> None:
    """FORMAT_IMG_PVI_TCI: PDI_TILE + GIP_JP2KPA -> PDI_TILE_TCI (TCI at 10 m, PVI at 320 m)."""
    store = ImageStore(ctx.input("PDI_TILE"))
    tile = _l1c_tile(store)
    params = _jp2_params(ctx, tile)
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
