"""DEM_SRTM + DEM_GEOID (heights above the geoid, ENVI geoid grid) and GRI_ORBIT names."""

from datetime import datetime

import numpy as np
import pytest

from ipf.formats import aux, geotiff
from ipf.interface.errors import FormatError, InputError
from ipf.simulator.simulate import synthetic_geoid
from tests.helpers import SHARED

REAL_GEOID = SHARED / "real" / "aux" / "DEM_GEOIDF"
T = datetime(2023, 3, 20, 10, 30, 0)


def _header_keys(path) -> list[str]:
    return [line.split("=")[0].strip() for line in path.read_text().splitlines() if "=" in line]


def test_names_of_the_real_families():
    assert aux.dem_srtm_name("SIMU", T, T) == "S2__OPER_DEM_SRTMFO_SIMU_20230320T103000_S20230320T103000"
    assert aux.geoid_name("MPC", T, T) == "S2__OPER_DEM_GEOIDF_MPC__20230320T103000_S20230320T103000"
    assert aux.gri_file_name("S2A", 65, "PDMC", T, T) == "S2A_OPER_AUX_GRI065_PDMC_20230320T103000_S20230320T103000"


def test_the_real_geoid_header_loads():
    header = REAL_GEOID / "S2__OPER_DEM_GEOIDF_MPC__20200112T130120_S20190507T000000.HDR"
    if not header.is_file():
        pytest.skip("no real DEM_GEOID header in ../shared")
    h = aux.read_envi_header(header)
    assert (h.samples, h.lines, h.dtype, h.little_endian, h.header_offset) == (1440, 721, "f4", True, 0)
    assert (h.lon0, h.lat0, h.step_lon, h.step_lat) == (-180.0, 90.0, 0.25, 0.25)
    assert h.description.endswith(".gtx")


def test_geoid_round_trip_with_the_real_header_keys(tmp_path):
    grid = synthetic_geoid()
    hdr = aux.write_geoid(tmp_path, aux.geoid_name("SIMU", T, T), grid)
    assert hdr.suffix == ".HDR" and hdr.with_suffix(".gtx").stat().st_size == 1440 * 721 * 4
    back = aux.read_geoid(hdr)
    assert np.array_equal(back.values, grid.values) and back.wraps
    assert (back.lon0, back.lat0, back.step_lon, back.step_lat) == (-180.0, 90.0, 0.25, 0.25)
    assert aux.read_geoid(hdr.with_suffix(".gtx")).source == back.source == str(hdr.with_suffix(".gtx"))
    assert 10 < np.ptp(grid.values) < 150 and np.abs(grid.values).max() < 100
    real = REAL_GEOID / "S2__OPER_DEM_GEOIDF_MPC__20200112T130120_S20190507T000000.HDR"
    if real.is_file():
        assert _header_keys(hdr) == _header_keys(real)
        assert aux.read_envi_header(hdr).model_dump(exclude={"source", "description"}) == \
            aux.read_envi_header(real).model_dump(exclude={"source", "description"})


def test_undulation_is_bilinear_and_wraps_in_longitude():
    lon = -180.0 + 0.25 * np.arange(1440)
    lat = 90.0 - 0.25 * np.arange(721)
    values = (np.sin(np.radians(lon))[None, :] * 10 + lat[:, None] * 0.1).astype(np.float32)
    g = aux.GeoidGrid(values=values, lon0=-180.0, lat0=90.0, step_lon=0.25, step_lat=0.25)
    assert g.undulation(lon[10], lat[20]) == pytest.approx(float(values[20, 10]))
    mid = g.undulation(lon[10] + 0.1, lat[20])
    assert mid == pytest.approx(0.6 * values[20, 10] + 0.4 * values[20, 11])
    across = g.undulation(179.875, 0.0)
    assert across == pytest.approx(0.5 * values[360, 1439] + 0.5 * values[360, 0])
    assert g.undulation(180.0, 0.0) == pytest.approx(g.undulation(-180.0, 0.0))


def test_a_geoid_that_does_not_cover_the_dem_names_file_and_key(tmp_path):
    regional = aux.GeoidGrid(values=np.zeros((5, 5), np.float32), lon0=10.0, lat0=50.0, step_lon=0.25,
                             step_lat=0.25)
    hdr = aux.write_geoid(tmp_path, "REGIONAL", regional)
    heights = np.full((4, 4), 100.0, np.float32)
    tif = aux.write_geotiff(tmp_path / "DEM" / "DEM.TIF", heights, 32631, 500000.0, 4800000.0, 30.0)
    with pytest.raises(InputError, match="does not cover") as err:
        geotiff.read_dem(tif.parent, hdr)
    assert err.value.element == "map info" and "REGIONAL.gtx" in str(err.value.source)


@pytest.mark.parametrize("edit, key", [
    (("data type = 4", "data type = 12"), "data type"),
    (("byte order = 0", "byte order = 2"), "byte order"),
    (("samples = 1440", "samples = many"), "samples"),
    (("Geographic Lat/Lon", "UTM"), "map info"),
    (("ENVI\n", "NOT ENVI\n"), "ENVI"),
])
def test_a_bad_geoid_header_names_the_key(tmp_path, edit, key):
    hdr = aux.write_geoid(tmp_path, "G", synthetic_geoid())
    hdr.write_text(hdr.read_text().replace(*edit, 1))
    with pytest.raises(FormatError) as err:
        aux.read_geoid(hdr)
    assert err.value.element == key and str(err.value.source) == str(hdr)


def test_a_geoid_header_of_the_first_line_alone_is_a_format_error(tmp_path):
    hdr = aux.write_geoid(tmp_path, "G", synthetic_geoid())
    hdr.write_text("ENVI")
    with pytest.raises(FormatError) as err:
        aux.read_geoid(hdr)
    assert err.value.element == "samples" and str(err.value.source) == str(hdr)


def test_a_geoid_grid_of_the_wrong_size_is_a_format_error(tmp_path):
    hdr = aux.write_geoid(tmp_path, "G", synthetic_geoid())
    gtx = hdr.with_suffix(".gtx")
    gtx.write_bytes(gtx.read_bytes()[:-4])
    with pytest.raises(FormatError, match="bytes") as err:
        aux.read_geoid(hdr)
    assert str(err.value.source) == str(gtx)


def test_dem_srtm_plus_geoid_gives_back_the_ellipsoidal_heights(tmp_path):
    rng = np.random.default_rng(5)
    h = (200 + 1500 * rng.random((60, 80))).astype(np.float32)
    geoid = synthetic_geoid()
    folder = geotiff.write_dem_srtm(tmp_path / aux.dem_srtm_name("SIMU", T, T), h, 32631, 560000.0,
                                    4830000.0, 30.0, geoid)
    (tif,) = folder.iterdir()
    assert tif.name == f"{folder.name}.TIF" and geotiff.dem_raster(folder) == tif
    stored, *_ = aux.read_geotiff(tif)
    n = geotiff.geoid_on_dem(geoid, 32631, 560015.0, 4829985.0, 30.0, h.shape)
    assert 5 < np.abs(n).min() and np.ptp(n) > 0.01
    assert np.abs(stored - (h - n)).max() < 1e-3
    hdr = aux.write_geoid(tmp_path, "G", geoid)
    dem = geotiff.read_dem(folder, hdr)
    assert dem.heights.dtype == np.float32 and np.array_equal(dem.heights, h)
    assert (dem.epsg, dem.x0, dem.y0, dem.step) == (32631, 560015.0, 4829985.0, 30.0)
    assert np.array_equal(geotiff.read_dem(tif).heights, stored)


def test_a_dem_srtm_folder_of_several_geotiffs_is_refused(tmp_path):
    for name in ("A.TIF", "B.tif"):
        aux.write_geotiff(tmp_path / "DEM" / name, np.zeros((2, 2), np.float32), 32631, 0.0, 0.0, 30.0)
    with pytest.raises(FormatError, match="2 GeoTIFFs"):
        geotiff.read_dem(tmp_path / "DEM")
