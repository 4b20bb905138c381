"""FORMAT_METADATA_TILE_L1C: the L1C tile and its JPEG2000 files -> the L1C user product (SAFE).

Inputs: PDI_TILE (the L1C tile store of TILE_FINALIZE: ``__tile__`` metadata, angle grids,
detector footprints), PDI_TILE_IMG (FORMAT_IMG_L1C: ``IMG_DATA/*_<band>.jp2``, ``QI_DATA/MSK_*``),
PDI_TILE_TCI (FORMAT_IMG_PVI_TCI: ``*_TCI.jp2``, ``QI_DATA/*_PVI.jp2``; optional) and PDI_DS (the
L1B product: datastrip identity and L0 quality ``__datastrip__``, refining ``__geometry__``).
Output PRODUCT: the SAFE folder, named by the Job Order with :func:`ipf.formats.safe.safe_name`
(the name's generation time is the product's GENERATION_TIME, so the same Job Order gives the
same bytes); :func:`ipf.formats.safe.assemble_safe` writes it, every XML validated.
"""

from __future__ import annotations

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import safe
from ipf.products.store import ImageStore


def data_footprint(store: ImageStore, meta: dict) -> list[tuple[float, float]]:
    """Footprint (lat, lon) of the tile's valid data, a closed ring: the convex hull of the
    outer corners of the pixels any detector sees, in the coarsest band's detector footprint
    (``detfoo_<band>``), from the tile's UTM zone to WGS84. The tile window's corners when no
    footprint image exists."""
    import pyproj

    names = store.names(kind="detector_footprint")
    x0w, y0w, x1w, y1w = meta["window_m"]
    corners = [(x0w, y0w), (x1w, y0w), (x1w, y1w), (x0w, y1w)]
    if names:
        name = max(names, key=lambda n: (store.attrs(n)["resolution"], n))
        a = store.attrs(name)
        res = a["resolution"]
        r0, c0 = a["window"]
        seen = np.asarray(store.read(name)) > 0
        rows = np.nonzero(seen.any(axis=1))[0]
        if rows.size:
            first = seen[rows].argmax(axis=1)
            last = seen.shape[1] - 1 - seen[rows, ::-1].argmax(axis=1)
            pts = []
            for r, f, l in zip(rows, first, last):
                for dr in (0, 1):
                    pts += [((c0 + f) * res, (r0 + r + dr) * res), ((c0 + l + 1) * res, (r0 + r + dr) * res)]
            corners = _convex_hull(pts)
    xs = [meta["ulx"] + x for x, _ in corners]
    ys = [meta["uly"] - y for _, y in corners]
    lon, lat = pyproj.Transformer.from_crs(meta["epsg"], 4326, always_xy=True).transform(xs, ys)
    ring = [(round(float(la), 9), round(float(lo), 9)) for la, lo in zip(lat, lon)]
    return ring + ring[:1]


def _convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (Andrew's monotone chain), counter-clockwise in (x right, y down) order."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def product_inputs(tile: ImageStore, l1b: ImageStore, processing_centre: str) -> safe.ProductInputs:
    """What :func:`ipf.formats.safe.assemble_safe` needs, read from the tile and L1B stores."""
    meta = tile.index.get("__tile__")
    if meta is None or "bands" not in meta:
        raise TaskError(f"{tile.root}: not an L1C tile made by TILE_FINALIZE (no __tile__ bands)")
    ds = l1b.index.get("__datastrip__")
    if ds is None:
        raise TaskError(f"{l1b.root}: no __datastrip__ (not an L1B product?)")
    if ds.get("identifier") != meta.get("datastrip"):
        raise TaskError(f"PDI_DS is datastrip {ds.get('identifier')} but the tile was made from "
                        f"{meta.get('datastrip')}")
    angles = {n: np.asarray(tile.read(n), dtype=float).tolist()
              for n in tile.names(kind="sun_angle") + tile.names(kind="viewing_angle")}
    return safe.ProductInputs(tile=meta, datastrip=ds, geometry=l1b.index.get("__geometry__", {}),
                              angles=angles, footprint_latlon=data_footprint(tile, meta),
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
    try:
        safe.assemble_safe(ctx.output("PRODUCT"), name, inputs, ctx.input("PDI_TILE_IMG"),
                           tci[0] if tci else None)
    except ValueError as exc:
        raise TaskError(str(exc)) from None
    if not tci:
        ctx.warn("no PDI_TILE_TCI folder: the product has no TCI and no PVI")
    meta = inputs.tile
    ctx.log.info(f"L1C product {name}: {len(meta['bands'])} bands, cloud cover "
                 f"{100 * meta['cloud_cover']:.1f} %")
