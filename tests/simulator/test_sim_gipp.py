import numpy as np
import pytest
import xmlschema

from ipf.formats import gipp, gipp_gs2
from ipf.interface.errors import FormatError
from tests.helpers import SHARED

GS2_SCHEMAS = SHARED / "real" / "schemas" / "gipp_sen2vm" / "GS2_GIPP"


def test_committed_xsds_are_current():
    assert gipp.schema_path("EE_Header").read_text(encoding="utf-8") == gipp.header_xsd()
    for t, cls in gipp.GIPP_TYPES.items():
        assert gipp.schema_path(t).read_text(encoding="utf-8") == gipp.xsd_for(cls), t


def test_all_gipps_round_trip(small_sim, tmp_path):
    written = []
    for model, band in small_sim.instrument.gipps():
        path = gipp.write_gipp(model, tmp_path, band=band)
        assert path.name == gipp.gipp_file_name(model.FILE_TYPE, band)
        back = gipp.read_gipp(path)
        assert type(back) is type(model)
        for name in type(model).model_fields:
            a, b = getattr(model, name), getattr(back, name)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b)
            else:
                assert a == b, name
        written.append(model.FILE_TYPE)
    assert set(written) == set(gipp.GIPP_TYPES) - {"GIP_VIEDIR", "GIP_SPAMOD"}
    assert not list(tmp_path.glob(".tmp_*"))
    names = {p.name for p in tmp_path.iterdir()}
    stem = "S2A_OPER_GIP_R2EQOG_MPC__20230101T000000_V20230101T000000_21000101T000000_B02"
    assert {f"{stem}.HDR", f"{stem}.DBL"} <= names
    assert "S2A_OPER_GIP_R2ABCA_MPC__20230101T000000_V20230101T000000_21000101T000000_B00.xml" in names
    assert not [n for n in names if n.endswith(".npy")]


def test_gs2_gipps_round_trip_and_are_valid(small_sim, tmp_path):
    """GIP_VIEDIR (one per band), GIP_SPAMOD, GIP_BLINDP: real names, read back equal, valid
    against the real Sen2VM schemas when ../shared is present."""
    models = small_sim.instrument.gs2_gipps()
    assert [type(m).__name__ for m in models] == ["GIP_SPAMOD", "GIP_BLINDP", "GIP_VIEDIR", "GIP_VIEDIR", "GIP_VIEDIR"]
    validated = 0
    for model in models:
        path = gipp_gs2.write_gs2(model, tmp_path, mission="S2A")
        assert path.name == gipp_gs2.gs2_file_name(model)
        assert gipp_gs2.read_gs2(path) == model
        if (GS2_SCHEMAS / model.SCHEMA).is_file():
            xmlschema.XMLSchema10(str(GS2_SCHEMAS / model.SCHEMA)).validate(str(path))
            validated += 1
    assert validated == (len(models) if GS2_SCHEMAS.is_dir() else 0)
    v = next(m for m in models if isinstance(m, gipp_gs2.GIP_VIEDIR) and m.band == "B05")
    assert [d.detector for d in v.detectors] == [6, 7] and v.detectors[0].n_pixels == 96


def test_invalid_gipp_is_not_written(tmp_path):
    bad = gipp.GIP_R2DECT.model_construct(band="B02", psf_model="airy", mtf_nyquist_across=0.3,
                                          mtf_nyquist_along=0.3, deconvolution=True,
                                          target_mtf_nyquist=0.3, filter_half_size=3)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        gipp.write_gipp(bad, tmp_path, band="B02")
    assert list(tmp_path.iterdir()) == []


def test_per_pixel_arrays_are_inline_and_read_back_bit_identical(small_sim, tmp_path):
    model = small_sim.instrument.r2eqog["B02"]
    path = gipp.write_gipp(model, tmp_path, band="B02")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".DBL", ".HDR"]
    dbl = path.with_suffix(".DBL").read_text(encoding="utf-8")
    assert f'<Values detector_id="{model.detectors[0]:02d}">' in dbl
    for p in (path, path.with_suffix(".DBL")):
        back = gipp.read_gipp(p, gipp.GIP_R2EQOG)
        for a, b in ((model.relative_gain, back.relative_gain), (model.dark_signal, back.dark_signal)):
            assert b.dtype == np.float32 and a.tobytes() == b.tobytes()


def test_rows_not_matching_the_detectors_are_a_format_error(small_sim, tmp_path):
    path = gipp.write_gipp(small_sim.instrument.r2eqog["B02"], tmp_path, band="B02")
    dbl = path.with_suffix(".DBL")
    first = small_sim.instrument.r2eqog["B02"].detectors[0]
    text = dbl.read_text(encoding="utf-8").replace(f'detector_id="{first:02d}"', 'detector_id="99"', 1)
    dbl.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.source == str(dbl) and info.value.element == "Data_Block/Relative_Gain/Values/@detector_id"


def test_missing_data_block_is_a_format_error_naming_it(small_sim, tmp_path):
    path = gipp.write_gipp(small_sim.instrument.r2eqog["B02"], tmp_path, band="B02")
    path.with_suffix(".DBL").unlink()
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.source == str(path.with_suffix(".DBL"))
