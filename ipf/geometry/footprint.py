"""Footprint polygons: image corners located on the ground, convex hulls, point-in-polygon.

Polygons are ``(m, 2)`` arrays of (x, y) vertices — (lon, lat) in degrees or UTM (E, N) in m —
counter-clockwise, not closed (:func:`closed_ring` repeats the first vertex, as GeoJSON wants).
"""

from __future__ import annotations

import numpy as np


__all__ = ["image_corners", "signed_area", "counter_clockwise", "convex_hull", "contains", "closed_ring",
           "detector_corners_lonlat", "data_footprint"]


def image_corners(first_line: float, last_line: float, n_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """(lines, pixels) (4,) of the outer corners of lines ``first_line..last_line`` of an image of
    ``n_pixels`` pixels: pixel edges at -0.5 and n_pixels - 0.5, line edges at first - 0.5 and
    last + 0.5; in the order (first line, first pixel), (first, last), (last, last),
    (last, first)."""
    l0, l1 = first_line - 0.5, last_line + 0.5
    p0, p1 = -0.5, n_pixels - 0.5
    return np.array([l0, l0, l1, l1]), np.array([p0, p1, p1, p0])


def signed_area(poly: np.ndarray) -> float:
    """Signed area of a polygon (positive when counter-clockwise), in squared units."""
    x, y = np.asarray(poly, np.float64).T
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def counter_clockwise(poly: np.ndarray) -> np.ndarray:
    """The polygon with its vertices in counter-clockwise order."""
    poly = np.asarray(poly, np.float64)
    return poly if signed_area(poly) >= 0 else poly[::-1].copy()


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (m, 2), counter-clockwise, of points (k, 2) (Andrew's monotone chain)."""
    pts = sorted(set(map(tuple, np.asarray(points, np.float64).tolist())))
    if len(pts) < 3:
        return np.array(pts, np.float64)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], np.float64)


def contains(poly: np.ndarray, x: float, y: float) -> bool:
    """Whether (x, y) lies inside the polygon (even-odd rule; boundary points may go either way)."""
    px, py = np.asarray(poly, np.float64).T
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = px + (y - py) * (qx - px) / (qy - py)
    return bool(np.count_nonzero(crosses & (x < xi)) % 2)


def closed_ring(poly: np.ndarray, decimals: int | None = None) -> list[list[float]]:
    """The polygon as a closed list of [x, y] (first vertex repeated), optionally rounded."""
    poly = np.asarray(poly, np.float64)
    if decimals is not None:
        poly = np.round(poly, decimals)
    ring = poly.tolist()
    return ring + ring[:1]


def detector_corners_lonlat(model, dem, band: str, images) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) (degrees) of the corner pixel centres of the detector images of ``band`` located
    on ``dem`` (:func:`ipf.geometry.direct.direct_location`): for each ``(detector, lines,
    pixels)`` of ``images``, (first line, first pixel), (last, first), (last, last), (first,
    last)."""
    from ipf.geometry.direct import direct_location
    from ipf.geometry.geodesy import geodesy

    geo = geodesy(dem.epsg)
    es, ns = [], []
    for detector, lines, pixels in images:
        ls = np.array([0, lines - 1, lines - 1, 0], float)
        ps = np.array([0, 0, pixels - 1, pixels - 1], float)
        e, n, _ = direct_location(model, geo, dem, band, detector, ls, ps)
        es += list(np.ravel(e))
        ns += list(np.ravel(n))
    return geo.from_utm(np.array(es), np.array(ns))


def data_footprint(seen: np.ndarray | None, resolution: int, origin: tuple[int, int],
                   window_m: tuple[int, int, int, int], ulx: float, uly: float, epsg: int
                   ) -> list[tuple[float, float]]:
    """Footprint (lat, lon) of a tile's valid data, a closed ring (MTD_MSIL1C
    ``Product_Footprint``), degrees rounded to 1e-9.

    The :func:`convex_hull` of the outer corners of the pixels of ``seen`` (a (rows, cols) image
    of the tile at ``resolution`` m, non-zero where a detector sees the pixel, whose first pixel
    is (row, col) ``origin`` of the tile), from the tile's UTM zone ``epsg`` (upper-left corner
    ``ulx``, ``uly``, m) to WGS84 (pyproj). The corners of ``window_m`` (x0, y0, x1, y1, m from
    the upper-left corner, y down) when ``seen`` is ``None`` or sees nothing.
    """
    import pyproj

    x0w, y0w, x1w, y1w = window_m
    corners = [(x0w, y0w), (x1w, y0w), (x1w, y1w), (x0w, y1w)]
    if seen is not None:
        r0, c0 = origin
        seen = np.asarray(seen) > 0
        rows = np.nonzero(seen.any(axis=1))[0]
        if rows.size:
            first = seen[rows].argmax(axis=1)
            last = seen.shape[1] - 1 - seen[rows, ::-1].argmax(axis=1)
            pts = []
            for r, f, l in zip(rows, first, last):
                for dr in (0, 1):
                    pts += [((c0 + f) * resolution, (r0 + r + dr) * resolution),
                            ((c0 + l + 1) * resolution, (r0 + r + dr) * resolution)]
            corners = convex_hull(np.array(pts, np.float64)).tolist()
    xs = [ulx + x for x, _ in corners]
    ys = [uly - y for _, y in corners]
    lon, lat = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True).transform(xs, ys)
    ring = [(round(float(la), 9), round(float(lo), 9)) for la, lo in zip(lat, lon)]
    return ring + ring[:1]
