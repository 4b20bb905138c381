"""S2 tiling grid: names and corners of known tiles."""

import pytest

from ipf.geometry import tiles


@pytest.mark.parametrize("lon,lat,name", [
    (3.88, 43.61, "31TEJ"),      # Montpellier
    (2.35, 48.86, "31UDQ"),      # Paris
    (12.49, 41.90, "33TTG"),     # Rome (even zone: row letters offset by 5)
    (-58.38, -34.60, "21HUB"),   # Buenos Aires (southern hemisphere)
])
def test_known_tile_names(lon, lat, name):
    t = tiles.tile_at(lon, lat)
    assert t.name == name
    assert t.shape(10) == (10980, 10980) and t.shape(60) == (1830, 1830)
    assert t.epsg == (32600 if lat > 0 else 32700) + int(name[:2])


def test_tile_corner_and_transform():
    t = tiles.tile_at(3.88, 43.61)
    assert (t.ulx, t.uly) == (499980.0, 4900020.0)  # 31TEJ of the S2 grid
    assert t.transform(20) == (499980.0, 20.0, 0.0, 4900020.0, 0.0, -20.0)
    assert t.bounds == (499980.0, 4790220.0, 609780.0, 4900020.0)


def test_tiles_covering_a_strip():
    found = tiles.tiles_covering([2.95, 3.9, 3.9, 2.95], [43.4, 43.4, 43.8, 43.8])
    names = [t.name for t in found]
    assert names == ["31TDJ", "31TEJ"]  # the strip crosses the 500 km easting
    for t in found:
        assert t.epsg == 32631
