"""Metadata reading and updating of an L1C SAFE (ipf.formats.metadata and ``ipf-tools metadata``):
round trips, manifest checksums refreshed, refusals that leave the files unchanged, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from ipf.interface.errors import IpfError
from ipf.interface.exitcodes import ExitCode
from ipf.formats import metadata, safe
from ipf.ops.tools import main as tools_main
from tests.formats.test_safe import make_product

CLOUD = "/n1:Level-1C_User_Product/n1:Quality_Indicators_Info/Cloud_Coverage_Assessment"
GENERAL = '//quality_check[@checkType="GENERAL_QUALITY"]'


@pytest.fixture
def product(tmp_path) -> Path:
    return make_product(tmp_path)


def _manifest_entry(product: Path, rel: str) -> tuple[str, str]:
    man = etree.parse(str(product / "manifest.safe"))
    (stream,) = man.xpath(f'//byteStream[fileLocation/@href="./{rel}"]')
    return stream.get("size"), stream.findtext("checksum")


def _assert_manifest_right(product: Path) -> None:
    man = etree.parse(str(product / "manifest.safe"))
    for stream in man.xpath("//byteStream"):
        f = product / stream.find("fileLocation").get("href")[2:]
        assert stream.get("size") == str(f.stat().st_size), f
        assert stream.findtext("checksum") == safe.sha3_256(f), f


def test_get_values_of_each_file(product):
    assert metadata.get(product, CLOUD) == ["8.76"]
    assert metadata.get(product, "//Cloud_Coverage_Assessment") == ["8.76"]
    assert metadata.get(product, "count(//IMAGE_FILE)") == ["6"]
    assert metadata.get(product, "//Granule/@imageFormat") == ["JPEG2000"]
    assert metadata.get(product, "//HORIZONTAL_CS_CODE", file="MTD_TL.xml") == ["EPSG:32631"]
    assert metadata.get(product, "//Image_Refining/@flag", file="MTD_DS.xml") == ["REFINED"]
    assert metadata.get(product, "//safe:relativeOrbitNumber", file="manifest.safe") == ["108"]
    granule = next(product.glob("GRANULE/*")).name
    assert metadata.get(product, "//TILE_ID", file=f"GRANULE/{granule}/MTD_TL.xml")[0].endswith("_N04.00")
    assert metadata.get(product, "//NO_SUCH_ELEMENT") == []
    assert metadata.get(product, "//Reflectance_Conversion")[0].startswith("<Reflectance_Conversion")


def test_set_round_trip_refreshes_the_manifest(product):
    before = _manifest_entry(product, "MTD_MSIL1C.xml")
    assert metadata.set_value(product, GENERAL, "PASSED") == 1
    assert metadata.set_value(product, CLOUD, "12.5") == 1
    assert metadata.get(product, GENERAL) == ["PASSED"]
    assert metadata.get(product, CLOUD) == ["12.5"]
    assert _manifest_entry(product, "MTD_MSIL1C.xml") != before
    _assert_manifest_right(product)
    assert not list(product.rglob(".*")), "temporary files left behind"


def test_set_attribute_and_other_files(product):
    assert metadata.set_value(product, "//Query_Options/@completeSingleTile", "false") == 1
    assert metadata.get(product, "//Query_Options/@completeSingleTile") == ["false"]
    n = metadata.set_value(product, "//Image_Content_QI/CLOUDY_PIXEL_PERCENTAGE/text()", "3.5", file="MTD_TL.xml")
    assert n == 1 and metadata.get(product, "//CLOUDY_PIXEL_PERCENTAGE", file="MTD_TL.xml") == ["3.5"]
    assert metadata.set_value(product, "//quality_check", "FAILED") == 5
    _assert_manifest_right(product)


@pytest.mark.parametrize("xpath, value, message", [
    (CLOUD, "cloudy", "not valid against"),            # not a number
    (CLOUD, "101", "not valid against"),               # not a percentage
    (GENERAL, "MAYBE", "not valid against"),           # not a check result
    ("//PRODUCT_TYPE", "S2MSI2A", "not valid against"),
    ("//Granule/@granuleIdentifier", "x", "not valid against"),
    ("//Product_Info", "x", "has child elements"),
    ("//NO_SUCH_ELEMENT", "1", "selects no element"),
    ("count(//IMAGE_FILE)", "1", "selects no element"),
    ("//Cloud_Coverage_Assessment[", "1", "invalid XPath"),
])
def test_refused_update_leaves_files_unchanged(product, xpath, value, message):
    mtd, man = product / "MTD_MSIL1C.xml", product / "manifest.safe"
    old = mtd.read_bytes(), man.read_bytes()
    with pytest.raises(IpfError) as err:
        metadata.set_value(product, xpath, value)
    assert err.value.code == ExitCode.XML_ERROR
    assert message in str(err.value)
    assert str(mtd) in str(err.value) and xpath in str(err.value)
    assert (mtd.read_bytes(), man.read_bytes()) == old
    assert not list(product.rglob(".*"))


def test_edited_manifest_is_refused(product):
    man = product / "manifest.safe"
    old = man.read_bytes()
    with pytest.raises(IpfError, match="not valid against"):
        metadata.set_value(product, "//dataObject[1]/byteStream/checksum", "not-a-digest", file="manifest.safe")
    assert man.read_bytes() == old


def test_missing_files_and_paths_outside(product, tmp_path):
    with pytest.raises(IpfError) as err:
        metadata.get(tmp_path / "nothing.SAFE", CLOUD)
    assert err.value.code == ExitCode.MISSING_MANDATORY_FILE
    with pytest.raises(IpfError, match="outside the product"):
        metadata.get(product, "//x", file="../../etc/passwd")
    (product / "GRANULE" / next(product.glob("GRANULE/*")).name / "IMG_DATA" / "T31TEJ_20230320T104839_B01.jp2").unlink()
    with pytest.raises(IpfError, match="listed in manifest.safe but missing"):
        metadata.set_value(product, CLOUD, "1")
    assert metadata.get(product, CLOUD) == ["8.76"]


def test_refresh_manifest_after_a_file_changed(product):
    jp2 = next(product.glob("GRANULE/*/IMG_DATA/*_B02.jp2"))
    jp2.write_bytes(b"re-encoded")
    metadata.refresh_manifest(product)
    _assert_manifest_right(product)


def test_cli_exit_codes(product, capsys):
    assert tools_main(["metadata", "get", str(product), "//Cloud_Coverage_Assessment"]) == 0
    assert capsys.readouterr().out == "8.76\n"
    assert tools_main(["metadata", "set", str(product), GENERAL, "WARNING"]) == 0
    assert tools_main(["metadata", "get", str(product), GENERAL]) == 0
    assert capsys.readouterr().out == "WARNING\n"
    assert tools_main(["metadata", "get", str(product), "//NOTHING"]) == 1
    assert tools_main(["metadata", "set", str(product), CLOUD, "x"]) == ExitCode.XML_ERROR == 133
    assert "not valid against" in capsys.readouterr().err
    assert tools_main(["metadata", "get", str(product / "nope"), CLOUD]) == ExitCode.MISSING_MANDATORY_FILE
    assert tools_main(["metadata", "get", str(product), "//HORIZONTAL_CS_CODE", "--file", "MTD_TL.xml"]) == 0
    assert capsys.readouterr().out == "EPSG:32631\n"
    with pytest.raises(SystemExit) as usage:
        tools_main(["metadata", "set", str(product), CLOUD])
    assert usage.value.code == 128


def test_cli_is_installed(product):
    exe = Path(sys.executable).with_name("ipf-tools")
    if not exe.exists():
        pytest.skip("ipf-tools not installed in this environment (pip install -e .)")
    run = subprocess.run([str(exe), "metadata", "get", str(product), "//PRODUCT_TYPE"], capture_output=True,
                         text=True, timeout=60)
    assert (run.returncode, run.stdout) == (0, "S2MSI1C\n")
