import numpy as np
import pytest
import xmlschema

from ipf.formats import gipp
from ipf.interface.errors import FormatError


def test_committed_xsds_are_current():
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
    assert set(written) == set(gipp.GIPP_TYPES)
    assert not list(tmp_path.glob(".tmp_*"))
    names = {p.name for p in tmp_path.glob("*.xml")}
    assert "S2A_OPER_GIP_R2EQOG_MPC__20230101T000000_V20230101T000000_21000101T000000_B02.xml" in names
    assert gipp.find_gipp(tmp_path, "GIP_VIEDIR", "B05").exists()


def test_invalid_gipp_is_not_written(tmp_path):
    bad = gipp.GIP_R2DECT.model_construct(band="B02", psf_model="airy", mtf_nyquist_across=0.3,
                                          mtf_nyquist_along=0.3, deconvolution=True,
                                          target_mtf_nyquist=0.3, filter_half_size=3)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        gipp.write_gipp(bad, tmp_path, band="B02")
    assert list(tmp_path.iterdir()) == []


def test_sidecar_checksum_is_verified(small_sim, tmp_path):
    path = gipp.write_gipp(small_sim.instrument.r2eqog["B02"], tmp_path, band="B02")
    sidecar = next(tmp_path.glob("*.Relative_Gain.npy"))
    a = np.load(sidecar)
    a[0, 0] += 1
    np.save(sidecar, a)
    with pytest.raises(FormatError, match=r"Relative_Gain\.npy: .*Sha256: SHA-256 of .* is not the one"):
        gipp.read_gipp(path)


def test_missing_sidecar_is_a_format_error_naming_the_gipp(small_sim, tmp_path):
    path = gipp.write_gipp(small_sim.instrument.r2eqog["B02"], tmp_path, band="B02")
    next(tmp_path.glob("*.Relative_Gain.npy")).unlink()
    with pytest.raises(FormatError) as info:
        gipp.read_gipp(path)
    assert info.value.source == str(path) and info.value.element == "Data_Block"
    assert "FileNotFoundError" in str(info.value)
