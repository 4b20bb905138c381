"""The Sentinel-2 tiling grid: MGRS 100 km squares, each the origin of a 109.8 km UTM tile.

A tile ``ZZBCD`` (UTM zone ``ZZ``, latitude band ``B``, 100 km square column ``C`` and row ``D``)
covers, in its zone's UTM projection (WGS84, EPSG 326ZZ north / 327ZZ south), the square
``[E0, E0 + 100 km] × [N0, N0 + 100 km]`` extended east and south by 9.8 km and shifted by 20 m,
so its upper-left corner is ``(E0 - 20, N0 + 100 000 + 20)`` and it holds 10980 pixels of 10 m
(e.g. 31TEJ: UL 499980, 4900020). The official S2 grid (GIP_TILPAR / the ESA tiling KML) shifts
some tiles by 0 to 40 m from this rule (real corners seen: ULX 300000, 199980, 399960, 699960;
ULY 6100020, 5900020, 4400040); where it matters, the grid file should replace the rule.
Lettering: MGRS (NGA.SIG.0012), AA scheme for WGS84.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


__all__ = ["TILE_SIZE_M", "SQUARE_M", "Tile", "utm_zone", "latitude_band", "square_letters", "tile_at",
           "tiles_covering", "choose_tile"]

TILE_SIZE_M = 109_800
"""Side of an S2 tile (m): 10980 pixels of 10 m, 5490 of 20 m, 1830 of 60 m."""
SQUARE_M = 100_000
_COLUMNS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_BANDS = "CDEFGHJKLMNPQRSTUVWX"


@dataclass(frozen=True)
class Tile:
    """One S2 tile: its name, UTM EPSG code and upper-left corner (m)."""

    name: str
    epsg: int
    ulx: float
    uly: float

    def transform(self, resolution: int) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform (x0, dx, 0, y0, 0, -dy) of the tile at ``resolution`` m."""
        return (self.ulx, float(resolution), 0.0, self.uly, 0.0, -float(resolution))

    def shape(self, resolution: int) -> tuple[int, int]:
        n = TILE_SIZE_M // resolution
        return (n, n)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the tile's UTM projection."""
        return (self.ulx, self.uly - TILE_SIZE_M, self.ulx + TILE_SIZE_M, self.uly)


def utm_zone(lon: float) -> int:
    """UTM zone of a longitude (degrees); the Norway/Svalbard exceptions are not applied."""
    return int((lon + 180) // 6) % 60 + 1


def latitude_band(lat: float) -> str:
    """MGRS latitude band letter (8° bands from 80° S; X spans 72-84° N)."""
    if not -80 <= lat <= 84:
        raise ValueError(f"latitude {lat} outside the UTM/MGRS range")
    return _BANDS[min(int((lat + 80) // 8), 19)]


def square_letters(zone: int, easting: float, northing: float) -> str:
    """Column and row letters of the 100 km square holding (easting, northing) in ``zone``."""
    column = _COLUMNS[(zone - 1) % 3][int(easting // SQUARE_M) - 1]
    row = _ROWS[(int(northing // SQUARE_M) + (5 if zone % 2 == 0 else 0)) % 20]
    return column + row


def tile_at(lon: float, lat: float) -> Tile:
    """The tile whose 100 km square contains the point (lon, lat) in degrees."""
    import pyproj

    zone = utm_zone(lon)
    epsg = (32600 if lat >= 0 else 32700) + zone
    e, n = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    return _tile(zone, epsg, math.floor(e / SQUARE_M) * SQUARE_M,
                 math.floor(n / SQUARE_M) * SQUARE_M, latitude_band(lat))


def _tile(zone: int, epsg: int, e0: float, n0: float, band: str) -> Tile:
    name = f"{zone:02d}{band}{square_letters(zone, e0 + 1, n0 + 1)}"
    return Tile(name, epsg, e0 - 20.0, n0 + SQUARE_M + 20.0)


def tiles_covering(lon: list[float], lat: list[float]) -> list[Tile]:
    """Tiles of the UTM zone of the footprint's centre that intersect the footprint (polygon
    vertices in degrees; its bounding box in UTM is used), sorted by name."""
    import pyproj

    clon, clat = sum(lon) / len(lon), sum(lat) / len(lat)
    zone = utm_zone(clon)
    epsg = (32600 if clat >= 0 else 32700) + zone
    es, ns = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    xmin, xmax, ymin, ymax = min(es), max(es), min(ns), max(ns)
    tiles = []
    for e0 in range(math.floor((xmin - TILE_SIZE_M) / SQUARE_M) * SQUARE_M,
                    math.floor(xmax / SQUARE_M) * SQUARE_M + 1, SQUARE_M):
        for n0 in range(math.floor(ymin / SQUARE_M) * SQUARE_M,
                        math.floor((ymax + TILE_SIZE_M) / SQUARE_M) * SQUARE_M + 1, SQUARE_M):
            tile_box = (e0 - 20, n0 + SQUARE_M + 20 - TILE_SIZE_M, e0 - 20 + TILE_SIZE_M,
                        n0 + SQUARE_M + 20)
            if tile_box[0] < xmax and tile_box[2] > xmin and tile_box[1] < ymax and tile_box[3] > ymin:
                if not 100_000 <= e0 < 900_000:
                    continue
                _, lat_c = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True).transform(
                    e0 + SQUARE_M / 2, n0 + SQUARE_M / 2)
                tiles.append(_tile(zone, epsg, e0, n0, latitude_band(lat_c)))
    return sorted(tiles, key=lambda t: t.name)


def _overlap_m2(tile: Tile, lon, lat) -> float:
    """Area (m²) of the intersection of ``tile`` with the bounding box, in the tile's UTM zone,
    of the points (lon, lat)."""
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, tile.epsg, always_xy=True).transform(lon, lat)
    x0, y0, x1, y1 = tile.bounds
    return (max(0.0, min(x1, max(x)) - max(x0, min(x)))
            * max(0.0, min(y1, max(y)) - max(y0, min(y))))


def choose_tile(lon, lat, tile_id: str | None = None) -> Tile:
    """The tile to make of a datastrip whose footprint has vertices (``lon``, ``lat``) (degrees).

    ``tile_id`` (the TILE_ID task parameter: ``31TEJ`` or ``T31TEJ``, any case; empty, ``None``
    or ``AUTO`` for automatic): that tile, which must be one of :func:`tiles_covering` the
    footprint; automatic: the covering tile whose area inside the footprint's bounding box (in
    the tile's UTM zone) is largest, the first by name on a tie.
    :class:`~ipf.interface.errors.InputError` when the footprint reaches no tile or not the
    tile asked for.
    """
    from ipf.interface.errors import InputError

    candidates = tiles_covering(list(map(float, lon)), list(map(float, lat)))
    wanted = str(tile_id or "AUTO").strip().upper()
    wanted = "" if wanted == "AUTO" else wanted.removeprefix("T")
    if wanted:
        for t in candidates:
            if t.name == wanted:
                return t
        raise InputError(f"TILE_ID {wanted}: the datastrip footprint does not reach this tile "
                         f"(it reaches {', '.join(t.name for t in candidates) or 'none'})")
    if not candidates:
        raise InputError("the datastrip footprint reaches no tile")
    return max(candidates, key=lambda t: _overlap_m2(t, lon, lat))
