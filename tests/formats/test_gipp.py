"""Earth Explorer GIPPs: the real header conventions, the two file forms, and the choice among
several versions of a type as the IPF makes it."""

from datetime import datetime, timezone

import numpy as np
import pytest
from lxml import etree

from ipf.formats import gipp
from ipf.interface.errors import FormatError, InputError
from tests.helpers import SHARED

REAL_GIPP = SHARED / "real" / "gipp"


def _binn(pitch: float = 20.0) -> gipp.GIP_R2BINN:
    return gipp.GIP_R2BINN(bands=[gipp.Binning(band="B01", element_pitch_across_m=pitch, across=3, along=1)])


def _dect() -> gipp.GIP_R2DECT:
    return gipp.GIP_R2DECT(band="B02", mtf_nyquist_across=0.3, mtf_nyquist_along=0.3, deconvolution=True,
                           target_mtf_nyquist=0.4, filter_half_size=3)


def test_header_follows_the_real_fixed_header(tmp_path):
    path = gipp.write_gipp(_binn(), tmp_path, creation=datetime(2023, 2, 3, 4, 5, 6), version=7)
    assert path.name == "S2A_OPER_GIP_R2BINN_MPC__20230203T040506_V20230101T000000_21000101T000000_B00.xml"
    root = etree.parse(str(path)).getroot()
    assert [etree.QName(e).localname for e in root] == ["Earth_Explorer_Header", "Data_Block"]
    header = root[0]
    assert etree.QName(header).namespace == gipp.HEADER_NS
    fixed = header.find(f"{{{gipp.HEADER_NS}}}Fixed_Header")
    assert [etree.QName(e).localname for e in fixed] == [
        "File_Name", "File_Description", "Notes", "Mission", "File_Class", "File_Type", "File_Version",
        "Validity_Period", "Source"]
    assert [etree.QName(e).localname for e in fixed[-1]] == ["System", "Creator", "Creator_Version",
                                                             "Creation_Date"]
    h = gipp.read_header(path)
    assert (h.file_name, h.mission, h.file_type, h.file_version) == (path.stem, "Sentinel-2A", "GIP_R2BINN", "0007")
    assert h.creation_date == datetime(2023, 2, 3, 4, 5, 6) and h.band == "B00"
    assert gipp.read_gipp(path) == _binn()


@pytest.mark.parametrize("folder", ["GIP_SPAMOD", "GIP_ATMIMA", "GIP_DATATI", "GIP_ATMSAD"])
def test_real_headers_read(folder):
    if not (REAL_GIPP / folder).is_dir():
        pytest.skip("no real GIPPs in ../shared")
    (hdr,) = sorted((REAL_GIPP / folder).glob("*.HDR"))
    h = gipp.read_header(hdr)
    assert h.file_type == folder and h.file_name == hdr.stem and h.mission.startswith("Sentinel-2")
    assert hdr.stem[25:40] == f"{h.creation_date:%Y%m%dT%H%M%S}"
    # the same header for the .DBL beside it
    assert gipp.read_header(hdr.with_suffix(".DBL")) == h


def test_file_type_not_the_expected_one_names_the_element(tmp_path):
    path = gipp.write_gipp(_binn(), tmp_path)
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path, gipp.GIP_R2CRCO)
    assert info.value.element == "Earth_Explorer_Header/Fixed_Header/File_Type"
    assert "GIP_R2BINN" in str(info.value) and "GIP_R2CRCO" in str(info.value)


def test_a_header_with_a_type_another_than_the_block_is_refused(tmp_path):
    path = gipp.write_gipp(_binn(), tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(">GIP_R2BINN<", ">GIP_R2XXXX<"), encoding="utf-8")
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.element == "Earth_Explorer_Header/Fixed_Header/File_Type"


def test_other_suffixes_are_refused(tmp_path):
    path = gipp.write_gipp(_binn(), tmp_path)
    other = path.rename(path.with_suffix(".txt"))
    with pytest.raises(FormatError, match=r"\.xml, \.HDR or \.DBL"):
        gipp.read_gipp(other)


def _versions(tmp_path):
    """Three B02 GIP_R2DECT: v1 valid from 2023 (created 2023-01-01), v2 valid from 2023-06
    (created 2023-05-01), an expired one (2020 to 2023-03, created 2023-06-01); and a B03."""
    v1 = gipp.write_gipp(_dect(), tmp_path, band="B02", validity_start=datetime(2023, 1, 1),
                         creation=datetime(2023, 1, 1), version=1)
    v2 = gipp.write_gipp(_dect(), tmp_path, band="B02", validity_start=datetime(2023, 6, 1),
                         creation=datetime(2023, 5, 1), version=2)
    old = gipp.write_gipp(_dect(), tmp_path, band="B02", validity_start=datetime(2020, 1, 1),
                          validity_stop=datetime(2023, 3, 1), creation=datetime(2023, 6, 1), version=3)
    b03 = gipp.write_gipp(_dect().model_copy(update={"band": "B03"}), tmp_path, band="B03")
    return v1, v2, old, b03


def test_the_latest_created_valid_version_is_chosen(tmp_path):
    v1, v2, old, b03 = _versions(tmp_path)
    paths = [v1, v2, old, b03]
    july = (datetime(2023, 7, 1, 10, tzinfo=timezone.utc), datetime(2023, 7, 1, 10, 5, tzinfo=timezone.utc))
    assert gipp.select_gipp(paths, "GIP_R2DECT", "B02", *july) == v2
    # before v2 starts: v1 (the expired one, although created last, does not cover April)
    april = (datetime(2023, 4, 1), datetime(2023, 4, 1, 0, 5))
    assert gipp.select_gipp(paths, "GIP_R2DECT", "B02", *april) == v1
    # February: all three B02 cover it, the expired one is the latest created
    assert gipp.select_gipp(paths, "GIP_R2DECT", "B02", datetime(2023, 2, 1), datetime(2023, 2, 2)) == old
    assert gipp.select_band_gipps(paths, "GIP_R2DECT", *july) == {"B02": v2, "B03": b03}


def test_same_creation_the_highest_version_wins(tmp_path):
    a = gipp.write_gipp(_binn(20.0), tmp_path / "a", version=4)
    b = gipp.write_gipp(_binn(21.0), tmp_path / "b", version=12)
    assert gipp.select_gipp([b, a], "GIP_R2BINN", start=datetime(2024, 1, 1)) == b


def test_no_valid_version_is_an_input_error_naming_type_band_and_period(tmp_path):
    v1, v2, old, _ = _versions(tmp_path)
    with pytest.raises(InputError) as info:
        gipp.select_gipp([old], "GIP_R2DECT", "B02", datetime(2023, 7, 1), datetime(2023, 7, 2))
    text = str(info.value)
    assert "GIP_R2DECT" in text and "B02" in text and "2023-07-01T00:00:00 to 2023-07-02T00:00:00" in text
    assert old.name in text
    with pytest.raises(InputError, match="no GIP_R2DECT of B04"):
        gipp.select_gipp([v1, v2], "GIP_R2DECT", "B04", datetime(2023, 7, 1), datetime(2023, 7, 2))
    # a period that ends after the validity stop is not covered
    with pytest.raises(InputError):
        gipp.select_gipp([old], "GIP_R2DECT", "B02", datetime(2023, 2, 28, 23), datetime(2023, 3, 1, 1))


def test_pair_files_are_listed_by_their_header(tmp_path):
    ones = np.ones((2, 4), np.float32)
    eq = gipp.write_gipp(gipp.GIP_R2EQOG(band="B02", detectors=[3, 4], relative_gain=ones, dark_signal=ones),
                         tmp_path, band="B02")
    abca = gipp.write_gipp(gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(
        band="B02", absolute_gain=1.0, solar_irradiance=1900.0)]), tmp_path)
    assert gipp.gipp_files(tmp_path, "GIP_R2EQOG") == [eq] and eq.suffix == ".HDR"
    assert gipp.find_gipp(tmp_path, "GIP_R2ABCA") == abca and abca.suffix == ".xml"
    assert gipp.select_gipp([eq], "GIP_R2EQOG", "B02", datetime(2023, 3, 20), datetime(2023, 3, 20)) == eq


def test_a_header_without_the_namespace_is_refused(tmp_path):
    ones = np.ones((1, 3), np.float32)
    hdr = gipp.write_gipp(gipp.GIP_R2EQOG(band="B02", detectors=[1], relative_gain=ones, dark_signal=ones),
                          tmp_path, band="B02")
    hdr.write_text(hdr.read_text(encoding="utf-8").replace(f' xmlns="{gipp.HEADER_NS}"', ""), encoding="utf-8")
    with pytest.raises(FormatError, match="in no namespace, not 'Earth_Explorer_Header' in http://eop-cfi"):
        gipp.read_gipp(hdr.with_suffix(".DBL"))
