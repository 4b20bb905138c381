"""The L1C SAFE product: names, orbit numbers, a whole product from synthetic inputs (every XML
valid, manifest complete and right, GDAL's SENTINEL2 driver identifies it), determinism and the
refusals (name that disagrees with the tile, metadata that breaks the XSD)."""

from __future__ import annotations

import math
import re
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from ipf.interface import xmlio
from ipf.interface.errors import FormatError, InputError, IpfError
from ipf.interface.exitcodes import ExitCode
from ipf.formats import safe

START = datetime(2023, 3, 20, 10, 48, 39, 611298)
GEN = datetime(2023, 3, 20, 10, 48, 42)
BANDS = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20}
NAME = safe.safe_name("S2A", START, "04.00", 108, "31TEJ", GEN)


def tile_meta(**over) -> dict:
    """An L1C tile entry as TILE_FINALIZE writes it (fractions 0..1, angles in degrees)."""
    meta = {
        "name": "31TEJ", "epsg": 32631, "ulx": 499980.0, "uly": 4900020.0, "window_m": [13200, 58080, 68040, 87180],
        "datastrip": "S2A_OPER_MSI_L0__DS_SIMU_20230320T104842_S20230320T104839_N00.01",
        "spacecraft": "Sentinel-2A", "sensing_start": "2023-03-20T10:48:39.611298+00:00",
        "sensing_stop": "2023-03-20T10:48:44.504074+00:00", "sensing_mid": "2023-03-20T10:48:42.057686+00:00",
        "sun_earth_distance_au": 0.9959, "h_range": [-10.0, 3174.0], "footprint_lonlat": [[3.17, 43.59], [3.83, 43.61]],
        "refined": True, "processing_baseline": "04.00", "quantification_value": 10000, "radio_add_offset": -1000,
        "nodata_value": 0, "saturated_value": 65535, "reflectance_conversion_u": 1.0082114802987518,
        "cloud_cover": 0.0876, "snow_cover": 0.0287, "coverage": 0.0665,
        "mean_angles": {"sun": {"zenith": 46.2, "azimuth": 157.5}, **{b: {"zenith": 1.1, "azimuth": 180.0} for b in BANDS}},
        "bands": {b: {"resolution": r, "solar_irradiance": 1500.0 + i, "coverage": 0.0665, "saturated_fraction": 0.01,
                      "defective_fraction": 0.003, "mean_reflectance": 0.1, "detectors": [6, 7]}
                  for i, (b, r) in enumerate(BANDS.items())},
    }
    meta.update(over)
    return meta


def product_inputs(**over) -> safe.ProductInputs:
    grid = [[40.0 + 0.01 * (i + j) for j in range(23)] for i in range(23)]
    half = [[1.0 if j < 12 else math.nan for j in range(23)] for _ in range(23)]
    angles = {"sun_zenith": grid, "sun_azimuth": grid}
    for b in BANDS:
        for d in (6, 7):
            angles[f"view_zenith_{b}_D{d:02d}"] = half
            angles[f"view_azimuth_{b}_D{d:02d}"] = half
    ds_id = "S2A_OPER_MSI_L0__DS_SIMU_20230320T104842_S20230320T104839_N00.01"
    quality = [{"granule": "G1", "band": b, "detector": d, "lines": 768, "invalid_lines": 16 if d == 7 else 0,
                "n_packets": 48, "lost_packets": 1 if d == 7 else 0, "crc_errors": 0, "sequence_gaps": 0,
                "time_jumps": 0} for b in BANDS for d in (6, 7)]
    geometry = {"refined": True, "image_band": "B04", "reference_time": "2023-03-20T10:48:42+00:00",
                "attitude_correction": {"bias_rad": [3.5e-05, 4.3e-05, 7.6e-05], "drift_rad_s": [9.5e-07, 7.8e-07, -7.3e-07]},
                "residuals": {"before": {"rms_px": 4.37, "mean_px": 4.37, "p95_px": 4.6, "max_px": 4.67,
                                         "mean_e_m": -18.8, "mean_n_m": 39.5},
                              "after": {"rms_px": 0.025, "mean_px": 0.021, "p95_px": 0.048, "max_px": 0.076,
                                        "mean_e_m": 0.0, "mean_n_m": 0.0}},
                "tie_points": 400}
    kw = dict(tile=tile_meta(), source_datastrip=ds_id, packet_quality=quality,
              geometry=geometry, angles=angles,
              footprint_latlon=[(43.59, 3.17), (43.72, 3.22), (43.61, 3.83), (43.47, 3.78), (43.59, 3.17)])
    kw.update(over)
    return safe.ProductInputs(**kw)


def fake_images(root: Path, bands=BANDS, tci: bool = True) -> tuple[Path, Path]:
    """PDI_TILE_IMG and PDI_TILE_TCI folders with small stand-in files (FORMAT_IMG_* names)."""
    img, tc = root / "img", root / "tci"
    for sub in (img / "IMG_DATA", img / "QI_DATA", tc / "QI_DATA"):
        sub.mkdir(parents=True, exist_ok=True)
    for b in bands:
        (img / "IMG_DATA" / f"T31TEJ_20230320T104839_{b}.jp2").write_bytes(f"band {b}".encode())
        for kind in ("MSK_DETFOO", "MSK_QUALIT"):
            (img / "QI_DATA" / f"{kind}_{b}.jp2").write_bytes(f"{kind} {b}".encode())
    (img / "QI_DATA" / "MSK_CLASSI_B00.jp2").write_bytes(b"classi")
    if tci:
        (tc / "T31TEJ_20230320T104839_TCI.jp2").write_bytes(b"tci")
        (tc / "QI_DATA" / "T31TEJ_20230320T104839_PVI.jp2").write_bytes(b"pvi")
    return img, tc


def make_product(root: Path, name: str = NAME, **over) -> Path:
    img, tc = fake_images(root)
    return safe.assemble_safe(root / name, name, product_inputs(**over), img, tc)


# ------------------------------------------------------------------------------- names and orbits
def test_safe_name_format_and_round_trip():
    assert NAME == "S2A_MSIL1C_20230320T104839_N0400_R108_T31TEJ_20230320T104842.SAFE"
    n = safe.parse_safe_name(NAME)
    assert (n.mission, n.baseline, n.relative_orbit, n.tile) == ("S2A", "04.00", 108, "31TEJ")
    assert n.datatake_start == START.replace(microsecond=0) and n.discriminator == GEN
    assert safe.safe_name("Sentinel-2B", START, "05.09", 7, "T34UCF", GEN).startswith("S2B_MSIL1C_20230320T104839_N0509_R007_T34UCF_")
    assert safe.granule_name("31TEJ", 40431, START) == "L1C_T31TEJ_A040431_20230320T104839"
    assert safe.datastrip_folder("S2IP", GEN, START) == "DS_S2IP_20230320T104842_S20230320T104839"
    assert safe.datastrip_id("S2A", "sgs", GEN, START, "04.00") == "S2A_OPER_MSI_L1C_DS_SGS__20230320T104842_S20230320T104839_N04.00"


@pytest.mark.parametrize("bad", [dict(rel_orbit=0), dict(rel_orbit=144), dict(baseline="4.0"),
                                 dict(tile="31TEJX"), dict(mission="Landsat-8")])
def test_safe_name_refuses_bad_fields(bad):
    kw = dict(mission="S2A", datatake_start=START, baseline="04.00", rel_orbit=108, tile="31TEJ", discriminator=GEN)
    with pytest.raises(InputError if "mission" in bad else ValueError):
        safe.safe_name(**{**kw, **bad})
    with pytest.raises(ValueError):
        safe.parse_safe_name("S2A_MSIL2A_20230320T104839_N0400_R108_T31TEJ_20230320T104842.SAFE")


@pytest.mark.parametrize("mission, when, lat, absolute, relative", [
    # real products not used as references by ipf.formats.safe.ORBIT_REFERENCES
    ("S2A", datetime(2021, 9, 8, 4, 27, 1), 28.5, None, 133),    # ..._N0301_R133_T46RER (stactools test data)
    ("S2C", datetime(2025, 3, 17, 3, 5, 51), 35.5, None, 75),    # S2C_MSIL1C_20250317T030551_N0511_R075_T50SMJ
    ("S2C", datetime(2025, 6, 25, 9, 50, 51), 45.5, None, 79),   # S2C_MSIL1C_20250625T095051_N0511_R079_T33TWE
    # and the references themselves
    ("S2B", datetime(2023, 8, 23, 9, 55, 59), 54.5, 33753, 122),
    ("S2A", datetime(2015, 11, 25, 16, 36, 22), 36.6, 2225, 83),
])
def test_orbit_numbers_of_real_products(mission, when, lat, absolute, relative):
    a = safe.absolute_orbit(mission, when, lat)
    if absolute is not None:
        assert a == absolute
    assert safe.relative_orbit(mission, a) == relative
    # the latitude of the scene moves the ascending node by minutes, not by an orbit
    assert safe.absolute_orbit(mission, when, lat - 20) == a == safe.absolute_orbit(mission, when, lat + 20)


# ------------------------------------------------------------------------------- the product
def _validate_file(path: Path) -> etree._ElementTree:
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    xmlio.validate(tree, safe.schema_for(tree.getroot()), source=path, error=FormatError,
                   code=ExitCode.XML_ERROR)
    return tree


def test_product_layout_metadata_and_manifest(tmp_path):
    p = make_product(tmp_path)
    (granule,) = (p / "GRANULE").iterdir()
    (ds,) = (p / "DATASTRIP").iterdir()
    assert re.fullmatch(r"L1C_T31TEJ_A\d{6}_20230320T104839", granule.name)
    assert ds.name == "DS_S2IP_20230320T104842_S20230320T104839"
    assert (p / "AUX_DATA").is_dir() and (granule / "AUX_DATA").is_dir()
    xmls = [p / "MTD_MSIL1C.xml", granule / "MTD_TL.xml", ds / "MTD_DS.xml", p / "INSPIRE.xml", p / "manifest.safe"]
    trees = {x.name: _validate_file(x) for x in xmls}
    assert not list(p.rglob(".*")), "temporary files left behind"

    mtd = trees["MTD_MSIL1C.xml"]
    assert mtd.getroot().tag == f"{{{safe.NS_PRODUCT}}}Level-1C_User_Product"
    assert (p / "MTD_MSIL1C.xml").read_bytes()[:400].count(b"<n1:Level-1C_User_Product") == 1
    images = mtd.xpath("//IMAGE_FILE/text()")
    assert images[0].endswith("_B01") and images[-1].endswith("_TCI") and len(images) == len(BANDS) + 1
    for f in images:
        assert (p / f"{f}.jp2").is_file(), f
        assert f.startswith(f"GRANULE/{granule.name}/IMG_DATA/T31TEJ_20230320T104839_")
    assert (p / f"{images[1]}.jp2").read_bytes() == b"band B02"
    assert mtd.xpath("//PRODUCT_URI/text()") == [p.name]
    assert mtd.xpath("//Query_Options/PRODUCT_FORMAT/text()") == ["SAFE_COMPACT"]
    assert mtd.xpath("//RADIO_ADD_OFFSET/@band_id") == ["0", "1", "2", "3", "4"]
    assert set(mtd.xpath("//RADIO_ADD_OFFSET/text()")) == {"-1000"}
    assert mtd.xpath("//Special_Values/SPECIAL_VALUE_INDEX/text()") == ["0", "65535"]
    assert float(mtd.xpath("//Cloud_Coverage_Assessment/text()")[0]) == pytest.approx(8.76)
    g = mtd.xpath("//Granule")[0]
    assert g.get("granuleIdentifier").endswith("_T31TEJ_N04.00") and "_A" + granule.name.split("_A")[1][:6] in g.get("granuleIdentifier")
    assert mtd.xpath("//GENERATION_TIME/text()") == ["2023-03-20T10:48:42.000000Z"]

    tl = trees["MTD_TL.xml"]
    assert tl.xpath("//HORIZONTAL_CS_CODE/text()") == ["EPSG:32631"]
    assert tl.xpath("//Size/@resolution") == ["10", "20", "60"] and tl.xpath("//Size/NROWS/text()") == ["10980", "5490", "1830"]
    assert tl.xpath("//Geoposition[@resolution='10']/ULX/text()") == ["499980"]
    assert b"</Tile_Geocoding>" in (granule / "MTD_TL.xml").read_bytes()[:3072]
    assert len(tl.xpath("//Sun_Angles_Grid/Zenith/Values_List/VALUES")) == 23
    assert len(tl.xpath("//Viewing_Incidence_Angles_Grids")) == 2 * len(BANDS)
    assert "NaN" in tl.xpath("//Viewing_Incidence_Angles_Grids/Zenith/Values_List/VALUES/text()")[0]
    masks = tl.xpath("//MASK_FILENAME/text()")
    assert len(masks) == 2 * len(BANDS) + 1 and all((p / m).is_file() for m in masks)
    assert (p / tl.xpath("//PVI_FILENAME/text()")[0]).read_bytes() == b"pvi"

    dsx = trees["MTD_DS.xml"]
    assert dsx.xpath("//Image_Refining/@flag") == ["REFINED"]
    assert dsx.xpath("//SPACECRAFT_NAME/text()") == ["Sentinel-2A"]
    assert dsx.xpath("//PROCESSING_CENTER/text()") == ["S2IP"]
    assert float(dsx.xpath("//Residuals_After/RMS/text()")[0]) == 0.025
    assert float(dsx.xpath("/*/*[local-name()='Quality_Indicators_Info']/DEGRADED_MSI_DATA_PERCENTAGE/text()")[0]) == pytest.approx(
        100 * 16 * 5 / (768 * 10))

    man = trees["manifest.safe"]
    listed = {o.xpath("byteStream/fileLocation/@href")[0][2:]: o for o in man.xpath("//dataObject")}
    files = {f.relative_to(p).as_posix() for f in p.rglob("*") if f.is_file()} - {"manifest.safe"}
    assert set(listed) == files
    for rel, obj in listed.items():
        assert obj.xpath("byteStream/@size")[0] == str((p / rel).stat().st_size)
        assert obj.xpath("byteStream/checksum/text()")[0] == safe.sha3_256(p / rel)
    ids = set(man.xpath("//dataObject/@ID"))
    assert {"S2_Level-1C_Product_Metadata", "S2_Level-1C_Tile1_Metadata", "S2_Level-1C_Datastrip1_Metadata",
            "IMG_DATA_Band_60m_1_Tile1_Data", "IMG_DATA_Band_10m_1_Tile1_Data", "IMG_DATA_Band_TCI_Tile1_Data",
            "Preview_0_Tile1_Data", "ClassiPixelsMask_Band_00m_0_Tile1_Data"} <= ids
    assert man.xpath("//*[local-name()='relativeOrbitNumber']/text()") == ["108"]

    ins = trees["INSPIRE.xml"]
    ns = {"gmd": safe.NS_GMD, "gco": safe.NS_GCO, "gml": safe.NS_GML}
    assert ins.xpath("//gmd:identificationInfo//gmd:title/gco:CharacterString/text()", namespaces=ns)[0] == p.name
    box = [float(ins.xpath(f"//gmd:{k}/gco:Decimal/text()", namespaces=ns)[0])
           for k in ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")]
    assert box == [3.17, 3.83, 43.47, 43.72]
    assert ins.xpath("//gml:beginPosition/text()", namespaces=ns) == ["2023-03-20T10:48:39.611Z"]
    assert ins.xpath("//gml:endPosition/text()", namespaces=ns) == ["2023-03-20T10:48:44.504Z"]
    assert ins.xpath("//gmd:referenceSystemIdentifier//gmd:code/gco:CharacterString/text()", namespaces=ns) == [
        "http://www.opengis.net/def/crs/EPSG/0/32631"]
    assert ins.xpath("//gco:Distance/text()", namespaces=ns) == ["10"]
    assert ins.xpath("//gmd:pass/@gco:nilReason", namespaces=ns) == ["unknown"]
    assert listed["INSPIRE.xml"].get("ID") == "INSPIRE_Metadata"


def test_inspire_bounding_box_across_the_antimeridian():
    m = safe.InspireMetadata(
        product_uri=NAME, datatake_id="GS2A_20230320T104839_040431_N04.00", generation_time=GEN,
        sensing_start=START, sensing_stop=START, epsg=32601, resolution_m=10, processing_centre="S2IP",
        processing_baseline="04.00", source_datastrip="DS",
        footprint_latlon=[(-10.0, 179.6), (-10.0, -179.5), (-11.0, -179.4), (-11.0, 179.7), (-10.0, 179.6)])
    root = safe.inspire_xml(m)
    ns = {"gmd": safe.NS_GMD, "gco": safe.NS_GCO}
    box = [float(root.xpath(f"//gmd:{k}/gco:Decimal/text()", namespaces=ns)[0])
           for k in ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")]
    assert box == [179.6, -179.4, -11.0, -10.0]
    tree = etree.fromstring(safe.serialize(root)).getroottree()
    xmlio.validate(tree, safe.schema_for(tree.getroot()), source="INSPIRE.xml", error=FormatError)


def test_stactools_sentinel2_creates_an_item(tmp_path):
    """stactools-sentinel2's ``create_item`` on the product: every metadata asset found through
    manifest.safe, the bands, the tile's CRS and the product's properties."""
    stac = pytest.importorskip("stactools.sentinel2.stac")
    p = make_product(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # antimeridian's note on the clockwise ring (real footprints too)
        item = stac.create_item(str(p))
    assets = item.assets
    for key, rel in (("safe_manifest", "manifest.safe"), ("product_metadata", "MTD_MSIL1C.xml"),
                     ("inspire_metadata", "INSPIRE.xml")):
        assert Path(assets[key].href) == p / rel
    assert Path(assets["granule_metadata"].href).name == "MTD_TL.xml"
    assert Path(assets["datastrip_metadata"].href).name == "MTD_DS.xml"
    assert {"coastal", "blue", "green", "red", "rededge1", "visual", "preview"} <= set(assets)
    props = item.properties
    assert props["proj:code"] == "EPSG:32631" and props["s2:product_uri"] == p.name
    assert props["platform"] == "sentinel-2a" and props["sat:relative_orbit"] == 108
    assert props["eo:cloud_cover"] == pytest.approx(8.76)
    assert props["view:incidence_angle"] == pytest.approx(1.1)


def test_product_is_deterministic(tmp_path):
    a, b = make_product(tmp_path / "a"), make_product(tmp_path / "b")
    for f in sorted(a.rglob("*")):
        if f.is_file():
            assert f.read_bytes() == (b / f.relative_to(a)).read_bytes(), f


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_gdal_sentinel2_driver_identifies_the_product(tmp_path):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.Env() as env:
        if "SENTINEL2" not in env.drivers():
            pytest.skip("GDAL of this rasterio has no SENTINEL2 driver")
    p = make_product(tmp_path)
    with rasterio.open(p / "MTD_MSIL1C.xml") as ds:  # the container has no geotransform: a warning
        assert ds.driver == "SENTINEL2"
        subs = ds.subdatasets
        tags = ds.tags()
    assert [s.split(":")[-2:] for s in subs] == [["10m", "EPSG_32631"], ["20m", "EPSG_32631"],
                                                 ["60m", "EPSG_32631"], ["TCI", "EPSG_32631"]]
    assert tags["PRODUCT_URI"] == p.name and tags["QUANTIFICATION_VALUE"] == "10000"
    assert tags["FOOTPRINT"].startswith("POLYGON((3.17 43.59")


def test_name_that_disagrees_with_the_tile_is_refused(tmp_path):
    wrong = safe.safe_name("S2A", START, "04.00", 108, "31TEK", GEN)
    with pytest.raises(InputError, match="tile 31TEK"):
        make_product(tmp_path, wrong)
    with pytest.raises(InputError, match="compact L1C product name"):
        make_product(tmp_path, "L1C.SAFE")


def test_missing_band_file_is_refused(tmp_path):
    img, tc = fake_images(tmp_path)
    (img / "QI_DATA" / "MSK_QUALIT_B05.jp2").unlink()
    with pytest.raises(InputError, match="MSK_QUALIT_B05"):
        safe.assemble_safe(tmp_path / NAME, NAME, product_inputs(), img, tc)


def test_invalid_metadata_is_never_renamed_into_place(tmp_path):
    # a cloud cover fraction above 1 gives a percentage the XSD refuses
    with pytest.raises(IpfError) as err:
        make_product(tmp_path, tile=tile_meta(cloud_cover=1.5))
    assert err.value.code == ExitCode.XML_ERROR and "MTD_TL.xml" in str(err.value)
    assert "CLOUDY_PIXEL_PERCENTAGE" in str(err.value)
    granule = next((tmp_path / NAME / "GRANULE").iterdir())
    assert not list(granule.glob("*.xml")) and not list(granule.glob(".*"))


def test_writers_fill_optional_parts(tmp_path):
    """A tile without TCI/PVI and an unrefined datastrip still give valid metadata."""
    img, _ = fake_images(tmp_path, tci=False)
    p = safe.assemble_safe(tmp_path / NAME, NAME, product_inputs(geometry=None), img, None)
    for x in ("MTD_MSIL1C.xml", "manifest.safe"):
        _validate_file(p / x)
    tl = _validate_file(next(p.glob("GRANULE/*/MTD_TL.xml")))
    ds = _validate_file(next(p.glob("DATASTRIP/*/MTD_DS.xml")))
    assert ds.xpath("//Image_Refining/@flag") == ["NOT_REFINED"] and not ds.xpath("//Refining_Characteristics")
    assert not tl.xpath("//PVI_FILENAME")
    assert not etree.parse(str(p / "MTD_MSIL1C.xml")).xpath("//IMAGE_FILE[contains(., '_TCI')]")
