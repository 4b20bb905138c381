"""Bad input *data* (GIPP values, stores, sensor model inputs, L1C tile fields) ends in an
:class:`~ipf.interface.errors.IpfError` of its category naming the file and the element, hence
exit code 148 (PROCESSING_ERROR), never 131 (UNEXPECTED_EXCEPTION)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import gipp, safe
from ipf.geometry.sensor import SensorModel
from ipf.interface.errors import FormatError, InputError, exit_code
from ipf.interface.exitcodes import ExitCode
from ipf.products.store import INDEX, ImageStore
from ipf.radiometry import deconvolution, defective
from tests.processors.proc_fixtures import task_context

DATA = Path(__file__).parent / "data" / "products" / "datastrip_entries.json"


def _dect(**kw) -> gipp.GIP_R2DECT:
    values = dict(band="B02", mtf_nyquist_across=0.3, mtf_nyquist_along=0.3, deconvolution=True,
                  target_mtf_nyquist=0.35, filter_half_size=3)
    return gipp.GIP_R2DECT.model_construct(**{**values, **kw})


def _assert_processing_error(err, cls, *needles):
    assert type(err) is cls, type(err)
    assert exit_code(err) is ExitCode.PROCESSING_ERROR
    text = str(err)
    assert "\n" not in text
    for needle in needles:
        assert needle in text, (needle, text)


# ------------------------------------------------------------------------------ GIPP bounds
@pytest.mark.parametrize("field, value, element", [
    ("mtf_nyquist_along", 1.2, "Data_Block/Mtf_Nyquist_Along"),
    ("mtf_nyquist_across", 0.0, "Data_Block/Mtf_Nyquist_Across"),
    ("target_mtf_nyquist", -0.1, "Data_Block/Target_Mtf_Nyquist"),
    ("filter_half_size", 0, "Data_Block/Filter_Half_Size"),
])
def test_gip_r2dect_out_of_range_is_a_format_error(tmp_path, field, value, element):
    path = gipp.write_gipp(_dect(**{field: value}), tmp_path, band="B02")
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.source == str(path) and info.value.element == element
    _assert_processing_error(info.value, FormatError, path.name, element, repr(value))


def test_nested_gipp_field_out_of_range_names_its_element(tmp_path):
    binn = gipp.GIP_R2BINN.model_construct(bands=[
        gipp.Binning(band="B02", element_pitch_across_m=10.0, across=1, along=1),
        gipp.Binning.model_construct(band="B01", element_pitch_across_m=20.0, across=0, along=1)])
    path = gipp.write_gipp(binn, tmp_path)
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.element == "Data_Block/Bands/Band_Binning[2]/Across"
    _assert_processing_error(info.value, FormatError, path.name, "greater than or equal to 1")


def test_valid_gipps_still_read(tmp_path):
    path = gipp.write_gipp(_dect(), tmp_path, band="B02")
    assert gipp.read_gipp(path).filter_half_size == 3


# ------------------------------------------------------------------------------ radiometry
def test_a_detector_listed_all_defective_is_an_input_error():
    with pytest.raises(InputError) as info:
        defective.interpolate_defective(np.ones((4, 5)), np.ones(5, bool), band="B02", detector=6)
    assert info.value.element == "GIP_R2DEPI"
    _assert_processing_error(info.value, InputError, "GIP_R2DEPI", "B02 detector 6", "all 5 elements")


def test_a_deconvolution_filter_longer_than_the_image_is_an_input_error():
    with pytest.raises(InputError) as info:
        deconvolution.deconvolve(np.ones((3, 40), np.float32), 0.3, 0.3, 0.35, 4, band="B04", detector=2)
    assert info.value.element == "GIP_R2DECT/Filter_Half_Size"
    _assert_processing_error(info.value, InputError, "B04 detector 2", "half size 4", "3 lines")


# ------------------------------------------------------------------------------ sensor model
def _empty_model() -> SensorModel:
    return SensorModel(np.datetime64("2023-03-20T10:00:00", "us"), None, None, np.eye(3), {}, {})


def test_no_viewing_directions_of_a_detector_is_an_input_error():
    with pytest.raises(InputError) as info:
        _empty_model().n_pixels("B02", 6)
    assert info.value.element == "GIP_VIEDIR"
    _assert_processing_error(info.value, InputError, "GIP_VIEDIR", "B02 detector 6")


def test_no_line_datation_of_a_detector_is_an_input_error():
    with pytest.raises(InputError) as info:
        _empty_model().line_time("B8A", 12, [0.0])
    assert info.value.element == "Band_Time_Stamp"
    _assert_processing_error(info.value, InputError, "Band_Time_Stamp", "B8A detector 12")


def test_a_datastrip_without_two_valid_attitudes_is_an_input_error():
    from ipf.formats.aux import EarthOrientationTable
    from ipf.formats.gipp_gs2 import GIP_SPAMOD
    from ipf.formats.sensor_model import sensor_model
    from tests.l0_samples import sample_datastrip

    ds = sample_datastrip()
    att = ds.ancillary.attitudes
    invalid = att.model_copy(update={"valid": np.zeros(len(att.gps_time), bool)})
    ds = ds.model_copy(update={"ancillary": ds.ancillary.model_copy(update={"attitudes": invalid})})
    eop = EarthOrientationTable(mjd=np.array([61192, 61193]), x_p=np.zeros(2), y_p=np.zeros(2),
                                ut1_utc=np.zeros(2), tai_utc=37.0)
    with pytest.raises(InputError) as info:
        sensor_model(ds, eop, GIP_SPAMOD(), [])
    assert info.value.element == "Satellite_Ancillary_Data_Info/Attitudes/Corrected_Attitudes"
    _assert_processing_error(info.value, InputError, "QUATERNION_VALIDITY", "0 valid attitude")


# ------------------------------------------------------------------------------ SAFE
def test_not_a_sentinel_2_spacecraft_is_an_input_error():
    with pytest.raises(InputError) as info:
        safe.mission_of("Landsat-8")
    _assert_processing_error(info.value, InputError, "spacecraft", "'Landsat-8'")


def test_a_tile_epsg_that_is_not_utm_is_an_input_error():
    with pytest.raises(InputError) as info:
        safe._cs_name(4326)
    _assert_processing_error(info.value, InputError, "__tile__/epsg", "EPSG:4326")


def test_duplicate_manifest_ids_are_an_input_error(tmp_path):
    for folder in ("DATASTRIP/DS_A", "DATASTRIP/DS_B"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / safe.DATASTRIP_MTD).write_text("<x/>")
    with pytest.raises(InputError) as info:
        safe.manifest_objects(tmp_path)
    assert info.value.source == str(tmp_path) and info.value.element == safe.MANIFEST
    _assert_processing_error(info.value, InputError, "same manifest ID", "Datastrip1_Metadata")


# ------------------------------------------------------------------------------ image store
@pytest.mark.parametrize("text", ["{\"a\": {\"band\": ", "[1, 2]", "{\"a\": 3}", "\xff\xfe"])
def test_a_corrupt_store_index_is_a_format_error(tmp_path, text):
    (tmp_path / INDEX).write_bytes(text.encode("latin-1"))
    with pytest.raises(FormatError) as info:
        ImageStore(tmp_path)
    assert info.value.source == str(tmp_path / INDEX)
    _assert_processing_error(info.value, FormatError, INDEX, "not a store index")


def test_an_image_the_store_lacks_is_an_input_error(tmp_path):
    store = ImageStore(tmp_path)
    store.write("dn_B02_D06", np.zeros((2, 3), np.uint16), kind="dn")
    store.flush()
    for call in (lambda s: s.read("dn_B03_D06"), lambda s: s.attrs("dn_B03_D06"),
                 lambda s: ImageStore(tmp_path / "other").link(s, "dn_B03_D06")):
        with pytest.raises(InputError) as info:
            call(ImageStore(tmp_path))
        assert info.value.element == "dn_B03_D06"
        _assert_processing_error(info.value, InputError, str(tmp_path), "dn_B03_D06")
    (tmp_path / "dn_B02_D06.npy").write_bytes(b"not numpy")
    with pytest.raises(FormatError) as info:
        ImageStore(tmp_path).read("dn_B02_D06")
    _assert_processing_error(info.value, FormatError, "dn_B02_D06.npy")
    (tmp_path / "dn_B02_D06.npy").unlink()
    with pytest.raises(InputError) as info:
        ImageStore(tmp_path).read("dn_B02_D06")
    _assert_processing_error(info.value, InputError, "dn_B02_D06.npy", "has no file")


# ------------------------------------------------------------------------------ through tasks
def _l1a_without_images(folder: Path) -> Path:
    """A store with the datastrip entry of the demo run and no image."""
    from tests.l0_samples import write_sample_datastrip

    folder.mkdir()
    entries = json.loads(DATA.read_text())
    (folder / INDEX).write_text(json.dumps({"__datastrip__": entries["__datastrip__"]}))
    write_sample_datastrip(folder).rename(folder / entries["__datastrip__"]["metadata_file"])
    return folder


def test_radio_ab_with_an_mtf_out_of_range_ends_in_148(tmp_path):
    from ipf.processors.l1b.tasks import radio_ab

    abca = gipp.write_gipp(gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(
        band="B02", absolute_gain=1.0, solar_irradiance=1900.0)]), tmp_path / "gipp")
    dect = gipp.write_gipp(_dect(mtf_nyquist_along=1.5), tmp_path / "gipp", band="B02")
    ctx = task_context("RADIO_AB", {"PDI_DS": _l1a_without_images(tmp_path / "l1a"), "GIP_R2ABCA": abca,
                                    "GIP_R2EQOG": [], "GIP_R2DECT": [dect]}, {"PDI_DS": tmp_path / "l1b"})
    with pytest.raises(FormatError) as info:
        radio_ab(ctx)
    assert exit_code(info.value) is ExitCode.PROCESSING_ERROR != ExitCode.UNEXPECTED_EXCEPTION
    _assert_processing_error(info.value, FormatError, dect.name, "Data_Block/Mtf_Nyquist_Along", "1.5")


def test_radio_finalize_of_a_corrupt_store_ends_in_148(tmp_path):
    from ipf.processors.l1b.tasks import radio_finalize

    l1b = tmp_path / "l1b"
    l1b.mkdir()
    (l1b / INDEX).write_text("{\"radiance_B02_D06\": ")
    ctx = task_context("RADIO_FINALIZE", {"PDI_DS": l1b}, {"REPORT": tmp_path / "out" / "report.json"})
    with pytest.raises(FormatError) as info:
        radio_finalize(ctx)
    assert exit_code(info.value) is ExitCode.PROCESSING_ERROR
    _assert_processing_error(info.value, FormatError, str(l1b / INDEX), "not a store index (JSON)")


def test_radio_ab_uses_the_gipp_version_valid_over_the_datastrip(tmp_path):
    """Two GIP_R2ABCA versions listed: the one created last does not cover the sensing period
    (2023-03-20), so the other is used and the run goes on to the bad GIP_R2DECT; with only that
    expired one, an InputError names the type, band and sensing period."""
    from datetime import datetime

    from ipf.processors.l1b.tasks import radio_ab

    abca = gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(band="B02", absolute_gain=1.0,
                                                               solar_irradiance=1900.0)])
    valid = gipp.write_gipp(abca, tmp_path / "gipp", creation=datetime(2023, 1, 1))
    expired = gipp.write_gipp(abca, tmp_path / "gipp", validity_start=datetime(2022, 1, 1),
                              validity_stop=datetime(2023, 3, 1), creation=datetime(2023, 2, 1), version=2)
    dect = gipp.write_gipp(_dect(mtf_nyquist_along=1.5), tmp_path / "gipp", band="B02")
    l1a = _l1a_without_images(tmp_path / "l1a")
    ctx = task_context("RADIO_AB", {"PDI_DS": l1a, "GIP_R2ABCA": [expired, valid], "GIP_R2EQOG": [],
                                    "GIP_R2DECT": [dect]}, {"PDI_DS": tmp_path / "l1b"})
    with pytest.raises(FormatError, match="Mtf_Nyquist_Along"):
        radio_ab(ctx)
    ctx = task_context("RADIO_AB", {"PDI_DS": l1a, "GIP_R2ABCA": [expired], "GIP_R2EQOG": [],
                                    "GIP_R2DECT": [dect]}, {"PDI_DS": tmp_path / "l1b2"})
    with pytest.raises(InputError, match=r"no GIP_R2ABCA of B00 valid over the sensing period 2023-03-20T10:48:38"):
        radio_ab(ctx)
