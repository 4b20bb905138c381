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
from ipf.geometry.footprint import convex_hull
from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, TaskError
from ipf.products import tile as tp
from ipf.products.datastrip import read_datastrip, read_geometry
from ipf.products.store import ImageStore

__all__ = ["data_footprint", "product_inputs", "format_metadata_tile_l1c"]


def data_footprint(store: ImageStore, tile: tp.TileGrid) -> list[tuple[float, float]]:
    """Footprint (lat, lon) of the tile's valid data, a closed ring: the convex hull
    (:func:`ipf.geometry.footprint.convex_hull`) of the outer corners of the pixels any detector
    sees, in the coarsest band's detector footprint, from the tile's UTM zone to WGS84. The tile
    window's corners when no footprint image exists."""
    import pyproj

    names = store.names(kind="detector_footprint")
    x0w, y0w, x1w, y1w = tile.window_m
    corners = [(x0w, y0w), (x1w, y0w), (x1w, y1w), (x0w, y1w)]
    if names:
        name = max(names, key=lambda n: (store.attrs(n)["resolution"], n))
        p = tp.placement(store, tp.DETFOO, store.attrs(name)["band"])
        res, (r0, c0) = p.resolution, p.window
        seen = np.asarray(store.read(name)) > 0
        rows = np.nonzero(seen.any(axis=1))[0]
        if rows.size:
            first = seen[rows].argmax(axis=1)
            last = seen.shape[1] - 1 - seen[rows, ::-1].argmax(axis=1)
            pts = []
            for r, f, l in zip(rows, first, last):
                for dr in (0, 1):
                    pts += [((c0 + f) * res, (r0 + r + dr) * res), ((c0 + l + 1) * res, (r0 + r + dr) * res)]
            corners = convex_hull(np.array(pts, np.float64)).tolist()
    xs = [tile.ulx + x for x, _ in corners]
    ys = [tile.uly - y for _, y in corners]
    lon, lat = pyproj.Transformer.from_crs(tile.epsg, 4326, always_xy=True).transform(xs, ys)
    ring = [(round(float(la), 9), round(float(lo), 9)) for la, lo in zip(lat, lon)]
    return ring + ring[:1]


def product_inputs(tile: ImageStore, l1b: ImageStore, processing_centre: str) -> safe.ProductInputs:
    """What :func:`ipf.formats.safe.assemble_safe` needs, read from the tile and L1B stores."""
    l1c = tp.read_l1c_tile(tile)
    ds = read_datastrip(l1b)
    if ds.identifier != l1c.datastrip:
        raise InputError(f"PDI_DS is datastrip {ds.identifier} but the tile was made from {l1c.datastrip}",
                         source=l1b.root)
    angles = {n: np.asarray(tile.read(n), dtype=float).tolist()
              for n in tile.names(kind="sun_angle") + tile.names(kind="viewing_angle")}
    return safe.ProductInputs(tile=l1c, source_datastrip=ds.metadata.identifier, packet_quality=ds.quality,
                              geometry=read_geometry(l1b, missing_ok=True), angles=angles,
                              footprint_latlon=data_footprint(tile, l1c),
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
