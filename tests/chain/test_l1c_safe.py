"""The L1C user product through ``ipf JobOrder.xml`` on the small simulated scene: L0 -> L1B, then
the L1C tile, its JPEG2000 files and FORMAT_METADATA_TILE_L1C. The SAFE must be complete: every
XML valid against its XSD, manifest.safe listing every file with its size and SHA3-256, the band
files at the names MTD_MSIL1C.xml lists, and GDAL's SENTINEL2 driver opening the bands at the
tile's CRS and geotransform with the L1C counts of the tile store.

The small scene has bands B01, B02 and B05 only, so no true colour image: the L1C Job Order is
run without FORMAT_IMG_PVI_TCI and without the optional PDI_TILE_TCI input (a warning, exit 14).
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
import pytest
from lxml import etree

from ipf.interface import xmlio
from ipf.interface.errors import FormatError
from ipf.interface.exitcodes import ExitCode
from ipf.formats import safe
from ipf.products.store import ImageStore
from ipf.products.tile import read_l1c_tile


@pytest.fixture(scope="module")
def chain(l1c_safe_scene):
    """The L1C Job Order without FORMAT_IMG_PVI_TCI, after L0 -> L1B (:mod:`tests.scenes`)."""
    sim, run = l1c_safe_scene.sim, l1c_safe_scene.run
    (product,) = sorted((sim / "products").glob("*.SAFE"))
    return sim, product, run


def test_run_ends_with_the_product(chain):
    sim, product, run = chain
    assert run.returncode == ExitCode.PROCESSING_WARNING, (run.stdout[-3000:], run.stderr[-3000:])
    assert "no PDI_TILE_TCI folder" in run.stdout + run.stderr
    n = safe.parse_safe_name(product.name)
    tile = read_l1c_tile(next((sim / "products").glob("*_MSI_L1C_TL_*"))).entry()
    assert n.tile == tile["name"] and n.baseline == tile["processing_baseline"]
    assert not list((sim / "products").glob(".ipf-partial-*"))


def test_every_xml_validates_and_manifest_is_complete(chain):
    _, product, _ = chain
    xmls = [product / "MTD_MSIL1C.xml", product / "INSPIRE.xml", product / "manifest.safe",
            *product.glob("GRANULE/*/MTD_TL.xml"), *product.glob("DATASTRIP/*/MTD_DS.xml")]
    assert len(xmls) == 5
    for x in xmls:
        tree = xmlio.parse(x, error=FormatError, code=ExitCode.XML_ERROR)
        xmlio.validate(tree, safe.schema_for(tree.getroot()), source=x, error=FormatError,
                       code=ExitCode.XML_ERROR)
    man = etree.parse(str(product / "manifest.safe"))
    listed = {s.find("fileLocation").get("href")[2:]: s for s in man.xpath("//byteStream")}
    files = {f.relative_to(product).as_posix() for f in product.rglob("*") if f.is_file()}
    assert set(listed) == files - {"manifest.safe"}
    for rel, stream in listed.items():
        assert stream.get("size") == str((product / rel).stat().st_size)
        assert stream.findtext("checksum") == safe.sha3_256(product / rel)


def test_band_files_are_where_the_metadata_says(chain):
    _, product, _ = chain
    mtd = etree.parse(str(product / "MTD_MSIL1C.xml"))
    images = mtd.xpath("//IMAGE_FILE/text()")
    assert [f[-3:] for f in images] == ["B01", "B02", "B05"]
    for f in images:
        assert (product / f"{f}.jp2").read_bytes()[4:8] == b"jP  "
    tl = etree.parse(str(next(product.glob("GRANULE/*/MTD_TL.xml"))))
    for m in tl.xpath("//MASK_FILENAME/text()"):
        assert (product / m).is_file(), m
    assert len(tl.xpath("//MASK_FILENAME")) == 7


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_gdal_sentinel2_driver_reads_the_bands(chain):
    rasterio = pytest.importorskip("rasterio")
    sim, product, _ = chain
    with rasterio.Env() as env:
        if "SENTINEL2" not in env.drivers():
            pytest.skip("GDAL of this rasterio has no SENTINEL2 driver")
    store = ImageStore(next((sim / "products").glob("*_MSI_L1C_TL_*")))
    meta = read_l1c_tile(store).entry()
    name = f"SENTINEL2_L1C:{product}/MTD_MSIL1C.xml:10m:EPSG_{meta['epsg']}"
    with rasterio.open(name) as ds:
        assert ds.crs.to_epsg() == meta["epsg"]
        assert (ds.transform.c, ds.transform.f, ds.transform.a) == (meta["ulx"], meta["uly"], 10.0)
        assert (ds.width, ds.height) == (10980, 10980)
        # GDAL lists the four 10 m bands (B4, B3, B2, B8); the missing ones read as 0
        (k,) = [i + 1 for i, d in enumerate(ds.descriptions) if d.startswith("B2,")]
        a = store.attrs("toa_B02")
        (r0, c0), (rows, cols) = a["window"], a["shape"]
        window = rasterio.windows.Window(c0, r0, min(cols, 512), min(rows, 512))
        got = ds.read(k, window=window)
    want = np.asarray(store.read("toa_B02"))[:512, :512]
    assert np.array_equal(got, want)



@pytest.mark.xfail(strict=True, raises=statistics.StatisticsError,
                   reason="the small scene's L1C tile has sun angle grids but no viewing angle grid: MTD_TL "
                          "has no Mean_Viewing_Incidence_Angle, and create_item averages none")
def test_stactools_sentinel2_creates_an_item(chain):
    stac = pytest.importorskip("stactools.sentinel2.stac")
    _, product, _ = chain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = stac.create_item(str(product))
    assert {"inspire_metadata", "safe_manifest", "coastal", "blue", "rededge1"} <= set(item.assets)

# --------------------------------------------------------------------------- OLQC
def test_olqc_of_the_product(olqc_run):
    """The scene's OLQC Job Order on a copy of the product (the run: :mod:`tests.scenes`)."""
    from ipf.formats import metadata

    copy, report, olqc = olqc_run.product, olqc_run.report, olqc_run.run
    assert olqc.returncode == 0, (olqc.stdout[-3000:], olqc.stderr[-3000:])
    root = xmlio.parse(report, error=FormatError, code=ExitCode.XML_ERROR).getroot()
    xmlio.validate(root.getroottree(), "olqc/OLQC_Report.xsd", source=report, error=FormatError,
                   code=ExitCode.XML_ERROR)
    status = {(c.get("name"), c.get("item")): c.findtext("Status") for c in root.iter("Check")}
    for name in ("METADATA_SCHEMA", "MANIFEST_CHECKSUMS", "JP2_INTEGRITY", "GEOMETRIC_RESIDUAL", "CLOUD_COVER"):
        assert status[name, None] == "PASSED", (name, olqc.stdout[-2000:])
    assert {item for (name, item) in status if name == "REFLECTANCE_MEAN"} == {"B01", "B02", "B05"}
    checks = metadata.get(copy, "//Quality_Inspections/quality_check")
    assert checks == ["PASSED"] * 5
    assert root.findtext("Global_Status") in ("PASSED", "WARNING")


def test_olqc_fails_a_truncated_jp2_and_updates_the_product(olqc_truncated):
    """The OLQC Job Order on a copy of the product whose B02 file is cut to half its size (the
    run: :mod:`tests.scenes`)."""
    from ipf.formats import metadata

    copy, report, olqc, band = (olqc_truncated.product, olqc_truncated.report, olqc_truncated.run,
                                olqc_truncated.edited)
    assert olqc.returncode == ExitCode.PROCESSING_WARNING, olqc.stdout[-2000:]
    root = etree.parse(str(report)).getroot()
    assert root.findtext("Global_Status") == "FAILED"
    checks = {c.get("name"): c for c in root.iter("Check") if c.get("item") is None}
    assert checks["JP2_INTEGRITY"].findtext("Status") == "FAILED"
    assert band.name in checks["JP2_INTEGRITY"].findtext("Message")
    assert checks["MANIFEST_CHECKSUMS"].findtext("Status") == "FAILED"
    assert metadata.get(copy, "//Quality_Inspections/quality_check[@checkType='FORMAT_CORRECTNESS']") == ["FAILED"]
    assert metadata.get(copy, "//Quality_Inspections/quality_check[@checkType='GEOMETRIC_QUALITY']") == ["PASSED"]
    assert "JP2_INTEGRITY" in olqc.stdout + olqc.stderr


def test_olqc_finds_an_edited_xml_and_a_wrong_size(olqc_checks):
    """The checks run in the test process on copies of the product (:mod:`tests.scenes`)."""
    assert all(r.status == "PASSED" for r in olqc_checks.unchanged)
    (result,) = olqc_checks.edited_xml
    assert result.status == "FAILED" and "MTD_TL.xml" in result.message and result.value == 1
    (result,) = olqc_checks.wrong_size
    assert result.status == "FAILED" and "300 x 200, MTD_TL says 5490 x 5490" in result.message
