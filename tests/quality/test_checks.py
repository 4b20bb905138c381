"""OLQC checks (ipf.quality.checks) on small fabricated SAFE folders: the registry and its report
order, the manifest, metadata-value and radiometric branches, an unknown check name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import gipp, safe
from ipf.quality import checks
from ipf.quality.report import Status

REPORT_ORDER = ["METADATA_SCHEMA", "MANIFEST_CHECKSUMS", "JP2_INTEGRITY", "NODATA_PIXELS", "SATURATED_PIXELS",
                "REFLECTANCE_MEAN", "CLOUD_COVER", "GEOMETRIC_RESIDUAL"]


def _check(name: str, threshold: float = 0.0, minimum: float | None = None, severity: str = "FAILED",
           category: str | None = "GENERAL_QUALITY", level: str = "L1C") -> gipp.QualityCheck:
    return gipp.QualityCheck(name=name, level=level, threshold=threshold, minimum=minimum, unit="count",
                             severity=severity, category=category)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _manifest(product: Path, files: dict[str, bytes]) -> None:
    streams = "".join(
        f'<byteStream size="{len(data)}"><fileLocation href="./{rel}"/>'
        f'<checksum checksumName="SHA3-256">{hashlib.sha3_256(data).hexdigest()}</checksum></byteStream>'
        for rel, data in files.items())
    _write(product / safe.MANIFEST, f"<XFDU><dataObjectSection><dataObject>{streams}</dataObject>"
                                    "</dataObjectSection></XFDU>")


def _datastrip(product: Path, refining: str) -> Path:
    return _write(product / "DATASTRIP" / "DS_X" / safe.DATASTRIP_MTD, f"<Level-1C_DataStrip_ID>{refining}"
                                                                       "</Level-1C_DataStrip_ID>")


# --------------------------------------------------------------------------- registry
def test_registry_holds_the_checks_in_report_order():
    assert list(checks.CHECKS) == REPORT_ORDER


def test_a_name_registered_twice_is_refused():
    with pytest.raises(ValueError, match="METADATA_SCHEMA registered twice"):
        checks.register_check("METADATA_SCHEMA")(lambda product, check, stats: [])
    assert list(checks.CHECKS) == REPORT_ORDER


def test_results_follow_the_registration_order_not_the_gipp_order(tmp_path):
    _write(tmp_path / safe.PRODUCT_MTD, "<r><Cloud_Coverage_Assessment>12.5</Cloud_Coverage_Assessment></r>")
    result = checks.run_checks(tmp_path, [_check("GEOMETRIC_RESIDUAL"), _check("CLOUD_COVER", threshold=50),
                                          _check("MANIFEST_CHECKSUMS"), _check("CLOUD_COVER", level="L0")])
    assert [r.name for r in result] == ["MANIFEST_CHECKSUMS", "CLOUD_COVER", "GEOMETRIC_RESIDUAL"]


def test_an_unknown_check_name_fails_naming_the_known_checks(tmp_path):
    _write(tmp_path / safe.PRODUCT_MTD, "<r><Cloud_Coverage_Assessment>1</Cloud_Coverage_Assessment></r>")
    result = checks.run_checks(tmp_path, [_check("STRIPING"), _check("CLOUD_COVER", threshold=50)])
    assert [r.name for r in result] == ["CLOUD_COVER", "STRIPING"]
    unknown = result[1]
    assert unknown.status == Status.FAILED
    assert unknown.message.startswith("no such L1C check in this OLQC: STRIPING (known: METADATA_SCHEMA, ")
    assert "GEOMETRIC_RESIDUAL" in unknown.message


# --------------------------------------------------------------------------- judge
@pytest.mark.parametrize("value, minimum, status", [(5.0, None, Status.PASSED), (10.0, None, Status.PASSED),
                                                    (10.5, None, Status.WARNING), (1.0, 2.0, Status.WARNING),
                                                    (2.0, 2.0, Status.PASSED)])
def test_judge_against_threshold_and_minimum(value, minimum, status):
    r = checks.judge(_check("X", threshold=10, minimum=minimum, severity="WARNING", category=None), value, item="B01")
    assert (r.status, r.value, r.item, r.category) == (status, value, "B01", "GENERAL_QUALITY")


# --------------------------------------------------------------------------- manifest
def test_manifest_checksums(tmp_path):
    files = {"MTD_MSIL1C.xml": b"<a/>", "GRANULE/G/IMG_DATA/T_B01.jp2": b"12345", "HTML/x.html": b"x"}
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    _manifest(tmp_path, files)
    (ok,) = checks.manifest_checksums(tmp_path, _check("MANIFEST_CHECKSUMS"))
    assert (ok.status, ok.value, ok.message) == (Status.PASSED, 0.0, "3 files match")

    (tmp_path / "GRANULE/G/IMG_DATA/T_B01.jp2").write_bytes(b"12346")
    (tmp_path / "HTML/x.html").write_bytes(b"xy")
    (tmp_path / "MTD_MSIL1C.xml").unlink()
    (tmp_path / "extra.txt").write_bytes(b"")
    (bad,) = checks.manifest_checksums(tmp_path, _check("MANIFEST_CHECKSUMS"))
    assert bad.status == Status.FAILED and bad.value == 4
    assert bad.message == ("GRANULE/G/IMG_DATA/T_B01.jp2: SHA3-256 differs; HTML/x.html: 2 bytes, manifest says 1; "
                           "MTD_MSIL1C.xml: listed, missing; extra.txt: not in the manifest")


def test_manifest_missing_or_malformed(tmp_path):
    (missing,) = checks.manifest_checksums(tmp_path, _check("MANIFEST_CHECKSUMS"))
    assert (missing.status, missing.message, missing.value) == (Status.FAILED, "manifest.safe missing", None)
    _write(tmp_path / safe.MANIFEST, "<XFDU>")
    (broken,) = checks.manifest_checksums(tmp_path, _check("MANIFEST_CHECKSUMS"))
    assert broken.status == Status.FAILED and "malformed XML" in broken.message


# --------------------------------------------------------------------------- metadata values
def test_cloud_cover(tmp_path):
    _write(tmp_path / safe.PRODUCT_MTD, "<r><x><Cloud_Coverage_Assessment>62.0</Cloud_Coverage_Assessment></x></r>")
    (r,) = checks.cloud_cover(tmp_path, _check("CLOUD_COVER", threshold=50, severity="WARNING"))
    assert (r.status, r.value) == (Status.WARNING, 62.0)
    _write(tmp_path / safe.PRODUCT_MTD, "<r><Cloud_Coverage_Assessment>n/a</Cloud_Coverage_Assessment></r>")
    (r,) = checks.cloud_cover(tmp_path, _check("CLOUD_COVER", threshold=50))
    assert r.status == Status.FAILED and r.message.startswith("cloud cover unreadable")
    (tmp_path / safe.PRODUCT_MTD).unlink()
    (r,) = checks.cloud_cover(tmp_path, _check("CLOUD_COVER", threshold=50))
    assert r.status == Status.FAILED and r.message.startswith("cloud cover unreadable")


def test_geometric_residual(tmp_path):
    check = _check("GEOMETRIC_RESIDUAL", threshold=0.5, category=None)
    (r,) = checks.geometric_residual(tmp_path, check)
    assert (r.status, r.message) == (Status.FAILED, "MTD_DS.xml missing")
    _datastrip(tmp_path, '<Image_Refining flag="NOT_REFINED"/>')
    (r,) = checks.geometric_residual(tmp_path, check)
    assert (r.status, r.category, r.message) == (Status.WARNING, "GEOMETRIC_QUALITY", "the product was not refined")
    _datastrip(tmp_path, '<Image_Refining flag="REFINED"><Residuals_After><RMS>0.8</RMS></Residuals_After>'
                         '</Image_Refining>')
    (r,) = checks.geometric_residual(tmp_path, check)
    assert (r.status, r.value) == (Status.FAILED, 0.8)
    _datastrip(tmp_path, '<Image_Refining flag="REFINED"><Residuals_After><RMS>0.2</RMS></Residuals_After>'
                         '</Image_Refining>')
    (r,) = checks.geometric_residual(tmp_path, check)
    assert (r.status, r.value) == (Status.PASSED, 0.2)
    _datastrip(tmp_path, '<Image_Refining flag="REFINED"/>')
    (r,) = checks.geometric_residual(tmp_path, check)
    assert (r.status, r.message) == (Status.FAILED, "no residual after refining in MTD_DS")


# --------------------------------------------------------------------------- radiometry
def test_band_statistics():
    from ipf.radiometry import reflectance as r

    dn = np.array([[0, 0, r.SATURATED_DN, 1000 - r.RADIO_ADD_OFFSET], [3000 - r.RADIO_ADD_OFFSET, 0, 0, 0]],
                  np.uint16)
    (stats,) = checks.band_statistics({"B02": dn}).values()
    assert stats["nodata_pct"] == 100.0 * 5 / 8
    assert stats["saturated_pct"] == 100.0 / 3
    assert stats["mean_reflectance"] == pytest.approx(2000 / r.QUANTIFICATION_VALUE)
    (empty,) = checks.band_statistics({"B03": np.zeros((2, 2), np.uint16)}).values()
    assert empty == {"nodata_pct": 100.0, "saturated_pct": 0.0, "mean_reflectance": None}


def test_per_band():
    check = _check("REFLECTANCE_MEAN", threshold=0.9, minimum=0.01, category="RADIOMETRIC_QUALITY")
    (r,) = checks.per_band(check, {}, "mean_reflectance")
    assert (r.status, r.message) == (Status.FAILED, "no band image could be read")
    a, b, c = checks.per_band(check, {"B01": {"mean_reflectance": 0.2}, "B02": {"mean_reflectance": None},
                                      "B03": {"mean_reflectance": 0.001}}, "mean_reflectance")
    assert (a.item, a.status) == ("B01", Status.PASSED)
    assert (b.item, b.status, b.message) == ("B02", Status.FAILED, "no valid pixel")
    assert (c.item, c.status) == ("B03", Status.FAILED)


def _granule_with_one_band(product: Path, dn: np.ndarray) -> Path:
    from ipf.formats import jp2

    _write(product / "GRANULE" / "G" / safe.TILE_MTD,
           "<Level-1C_Tile_ID><Geometric_Info><Tile_Geocoding><HORIZONTAL_CS_CODE>EPSG:32631</HORIZONTAL_CS_CODE>"
           f'<Size resolution="60"><NROWS>{dn.shape[0]}</NROWS><NCOLS>{dn.shape[1]}</NCOLS></Size>'
           '<Geoposition resolution="60"><ULX>600000</ULX><ULY>4900020</ULY></Geoposition>'
           "</Tile_Geocoding></Geometric_Info></Level-1C_Tile_ID>")
    params = gipp.GIP_JP2KPA(reversible=True, n_resolutions=2, codeblock_size=64, tile_size=256, n_layers=1,
                             progression_order="LRCP")
    band = product / "GRANULE" / "G" / "IMG_DATA" / "T31TEJ_20230320T104839_B01.jp2"
    band.parent.mkdir(parents=True)
    return jp2.write_jp2(band, dn, 32631, 600000.0, 4900020.0, 60.0, params)


def test_radiometric_checks_decode_the_bands_without_jp2_integrity(tmp_path):
    dn = np.full((32, 40), 1000 + 1000, np.uint16)
    dn[:8] = 0
    _granule_with_one_band(tmp_path, dn)
    results = checks.run_checks(tmp_path, [_check("REFLECTANCE_MEAN", threshold=1.0),
                                           _check("NODATA_PIXELS", threshold=10.0, severity="WARNING")])
    assert [(r.name, r.item, r.status) for r in results] == [("NODATA_PIXELS", "B01", Status.WARNING),
                                                             ("REFLECTANCE_MEAN", "B01", Status.PASSED)]
    assert results[0].value == 25.0
    (alone,) = checks.saturated_pixels(tmp_path, _check("SATURATED_PIXELS"))
    assert (alone.item, alone.status, alone.value) == ("B01", Status.PASSED, 0.0)


def test_jp2_integrity_fills_the_statistics_the_radiometric_checks_use(tmp_path):
    dn = np.full((32, 40), 3000, np.uint16)
    band = _granule_with_one_band(tmp_path, dn)
    results = checks.run_checks(tmp_path, [_check("SATURATED_PIXELS"), _check("JP2_INTEGRITY")])
    assert [(r.name, r.status) for r in results] == [("JP2_INTEGRITY", Status.PASSED),
                                                     ("SATURATED_PIXELS", Status.PASSED)]
    band.write_bytes(band.read_bytes()[:100])
    integrity, saturated = checks.run_checks(tmp_path, [_check("SATURATED_PIXELS"), _check("JP2_INTEGRITY")])
    assert integrity.status == Status.FAILED and "T31TEJ_20230320T104839_B01.jp2: does not decode" in integrity.message
    assert (saturated.status, saturated.message) == (Status.FAILED, "no band image could be read")
