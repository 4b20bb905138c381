"""FORMAT_METADATA_TILE_L1C: the L1C tile and its JPEG2000 files -> the L1C user product (SAFE).

Inputs: PDI_TILE (the L1C tile store of TILE_FINALIZE: :class:`~ipf.products.tile.L1CTile`,
angle grids, detector footprints), PDI_TILE_IMG (FORMAT_IMG_L1C: ``IMG_DATA/*_<band>.jp2``,
``QI_DATA/MSK_*``), PDI_TILE_TCI (FORMAT_IMG_PVI_TCI: ``*_TCI.jp2``, ``QI_DATA/*_PVI.jp2``;
optional) and PDI_DS (the L1B product: datastrip identity and L0 packet quality
:class:`~ipf.products.datastrip.DatastripInfo`, refining
:class:`~ipf.products.datastrip.RefinedGeometry`). Output PRODUCT: the SAFE folder, named by
the Job Order with :func:`ipf.formats.safe.safe_name` (the name's generation time is the
product's GENERATION_TIME, so the same Job Order gives the same bytes);
:func:`ipf.formats.safe.assemble_safe` writes it, every XML validated.
"""

from __future__ import annotations

import numpy as np

from ipf.formats import safe
from ipf.geometry.footprint import data_footprint
from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, TaskError
from ipf.products import tile as tp
from ipf.products.datastrip import read_datastrip, read_geometry
from ipf.products.store import ImageStore

__all__ = ["product_inputs", "format_metadata_tile_l1c"]


def _data_footprint(store: ImageStore, tile: tp.TileGrid) -> list[tuple[float, float]]:
    """:func:`ipf.geometry.footprint.data_footprint` of the coarsest band's detector footprint
    (the tile window's corners when the tile has none)."""
    bands = tp.tile_bands(store, tp.DETFOO)
    if not bands:
        return data_footprint(None, 0, (0, 0), tile.window_m, tile.ulx, tile.uly, tile.epsg)
    band = max(bands, key=lambda b: (tp.placement(store, tp.DETFOO, b).resolution, tp.image_name(tp.DETFOO, b)))
    p = tp.placement(store, tp.DETFOO, band)
    return data_footprint(tp.read_image(store, tp.DETFOO, band), p.resolution, p.window, tile.window_m,
                          tile.ulx, tile.uly, tile.epsg)


def product_inputs(tile: ImageStore, l1b: ImageStore, processing_centre: str) -> safe.ProductInputs:
    """What :func:`ipf.formats.safe.assemble_safe` needs, read from the tile and L1B stores."""
    l1c = tp.read_l1c_tile(tile)
    ds = read_datastrip(l1b)
    if ds.identifier != l1c.datastrip:
        raise InputError(f"PDI_DS is datastrip {ds.identifier} but the tile was made from {l1c.datastrip}",
                         source=l1b.root)
    angles = {n: np.asarray(tile.read(n), dtype=float).tolist() for n in tp.angle_images(tile)}
    return safe.ProductInputs(tile=l1c, source_datastrip=ds.identifier, packet_quality=ds.quality,
                              geometry=read_geometry(l1b, missing_ok=True), angles=angles,
                              footprint_latlon=_data_footprint(tile, l1c),
                              processing_centre=processing_centre or "S2IP")


def format_metadata_tile_l1c(ctx: TaskContext) -> None:
    """FORMAT_METADATA_TILE_L1C: PDI_TILE + PDI_TILE_IMG (+ PDI_TILE_TCI) + PDI_DS -> PRODUCT (SAFE)."""
    tile = ImageStore(ctx.input("PDI_TILE"))
    l1b = ImageStore(ctx.input("PDI_DS"))
    tci = [p for p in ctx.inputs("PDI_TILE_TCI") if p.is_dir()]
    if len(tci) > 1:
        raise TaskError(f"expected at most one PDI_TILE_TCI input, the Job Order gives {len(tci)}")
    name = ctx.staged["PRODUCT"].final.name
    inputs = product_inputs(tile, l1b, ctx.job.processing_station)
    safe.assemble_safe(ctx.output("PRODUCT"), name, inputs, ctx.input("PDI_TILE_IMG"), tci[0] if tci else None)
    if not tci:
        ctx.warn("no PDI_TILE_TCI folder: the product has no TCI and no PVI")
    ctx.log.info(f"L1C product {name}: {len(inputs.tile.bands)} bands, cloud cover "
                 f"{100 * inputs.tile.cloud_cover:.1f} %")
