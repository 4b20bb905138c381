"""GS2 GIPP family (GIP_VIEDIR, GIP_SPAMOD, GIP_BLINDP): the real files load in every form, files
we write validate against our XSDs and the real ones and round-trip exactly, bad files are
FormatErrors naming the element."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import gipp_gs2 as g
from ipf.interface.errors import FormatError
from tests.helpers import SHARED

REAL = SHARED / "real" / "gipp"
REAL_XSD = SHARED / "real" / "schemas" / "gipp_sen2vm" / "GS2_GIPP"


def _real(kind: str, pattern: str = "*") -> list[Path]:
    folder = REAL / kind
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return sorted(p for p in folder.glob(pattern) if p.suffix in (".xml", ".DBL", ".HDR"))


def _real_schema(model: g.Gs2Model):
    xmlschema = pytest.importorskip("xmlschema")
    if not REAL_XSD.is_dir():
        pytest.skip(f"{REAL_XSD} is absent")
    return xmlschema.XMLSchema10(str(REAL_XSD / model.SCHEMA))


def _viedir(n: int = 5, band: str = "B05", detectors=(1, 2)) -> g.GIP_VIEDIR:
    rows = [g.ViewingDirections(detector=d, n_pixels=n, tan_psi_x=np.linspace(-0.1, -0.09, n) + 0.03 * d,
                                tan_psi_y=np.full(n, 0.01 * (-1) ** d) + np.arange(n) * 1e-7) for d in detectors]
    return g.GIP_VIEDIR(band=band, detectors=rows)


def _blindp() -> g.GIP_BLINDP:
    side = g.BlindSide(valid=[0, 1, 2], non_valid=[3])
    det = g.BlindDetector(detector=1, normalization_coef=10.0, left=side, right=g.BlindSide(valid=[9], non_valid=[]))
    return g.GIP_BLINDP(bands=[g.BlindBand(band="B8A", blind_pixel_number=8, detectors=[det])])


# --------------------------------------------------------------------------- real files
@pytest.mark.parametrize("band", ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10",
                                  "B11", "B12"])
def test_every_real_viedir_loads(band):
    (path,) = _real("GIP_VIEDIR", f"*_{band}.xml")
    m = g.read_gs2(path)
    assert isinstance(m, g.GIP_VIEDIR) and m.band == band
    assert [d.detector for d in m.detectors] == list(range(1, 13))
    n = {10: 2552, 20: 1276, 60: 425}[{"B01": 60, "B09": 60, "B10": 60, "B02": 10, "B03": 10, "B04": 10,
                                        "B08": 10}.get(band, 20)]
    assert {d.n_pixels for d in m.detectors} == {n}
    assert m.tdi_config == ("APPLIED" if band in g.TDI_BANDS else "NO_TDI")
    d1 = m.detector(1)
    assert d1.tan_psi_x.dtype == np.float64 and d1.tan_psi_x.shape == (n,)
    assert -0.19 < d1.tan_psi_x[0] < -0.18 and np.all(np.diff(d1.tan_psi_x) > 0)
    assert 0.18 < m.detector(12).tan_psi_x[-1] < 0.19
    assert m.header.satellite == "S2A" and m.specific_header.applicability_end_date == datetime(2100, 1, 1)


def test_tdi_lists_are_selectable():
    (path,) = _real("GIP_VIEDIR", "*_B03.xml")
    applied, a, b = (g.read_gs2(path, tdi_config=t) for t in ("APPLIED", "LINE_A", "LINE_B"))
    assert (applied.tdi_config, a.tdi_config, b.tdi_config) == ("APPLIED", "LINE_A", "LINE_B")
    assert not np.array_equal(a.detector(1).tan_psi_y, b.detector(1).tan_psi_y)
    with pytest.raises(FormatError) as e:
        g.read_gs2(path, tdi_config="NO_TDI")
    assert "VIEWING_DIRECTIONS_LIST" in e.value.element


def test_real_spamod_xml_and_hdr_dbl_pair_load():
    paths = _real("GIP_SPAMOD")
    xml = next(p for p in paths if p.suffix == ".xml")
    hdr = next(p for p in paths if p.suffix == ".HDR")
    dbl = hdr.with_suffix(".DBL")
    a, b, c = g.read_gs2(xml), g.read_gs2(hdr), g.read_gs2(dbl, g.GIP_SPAMOD)
    assert b == c and a.specific_header.version_number == "0024" and b.specific_header.version_number == "0025"
    assert a.piloting_to_msi == g.RotationAndScale(r1=-0.0292, r2=-0.9626, r3=-0.0224, scale_factor=1.0,
                                                   combination_order="ROTATION_THEN_SCALE")
    assert a.msi_to_focal_plane("SWIR").combination_order == "SCALE_THEN_ROTATION"
    assert [r.detector for r in a.focal_plane_to_detector_swir] == list(range(1, 13))
    assert a.gse.offset_imu == -0.1 and a.gse.star_trackers[2].scalar == -0.2120109025
    assert a.gse.str_innov_thd == (0.01, 0.01, 0.01)
    assert a.location_accuracy.dop_quality[0] == "Ideal" and a.location_accuracy.absolute_location == 20.0


def test_real_blindp_loads():
    (path,) = _real("GIP_BLINDP")
    m = g.read_gs2(path)
    assert isinstance(m, g.GIP_BLINDP) and len(m.bands) == 13
    b0 = m.bands[0]
    assert b0.band == "B01" and b0.blind_pixel_number == 20 and len(b0.detectors) == 12
    assert b0.detectors[0].left == g.BlindSide(valid=[0, 1, 2, 3, 4, 5], non_valid=[6, 7, 8, 9])
    assert b0.detectors[0].normalization_coef == 10.0


def test_real_files_round_trip_exactly(tmp_path):
    paths = [*_real("GIP_VIEDIR", "*_B10.xml"), *_real("GIP_VIEDIR", "*_B12.xml"), *_real("GIP_SPAMOD", "*.xml"),
             *_real("GIP_BLINDP")]
    for path in paths:
        m = g.read_gs2(path)
        out = g.write_gs2(m, tmp_path / path.stem)
        assert g.read_gs2(out) == m
        assert g.to_xml(g.read_gs2(out)) == out.read_bytes()


# --------------------------------------------------------------------------- writing
def test_written_names_and_deterministic_bytes(tmp_path):
    m = _viedir()
    t0, t1, c = datetime(2024, 2, 1), datetime(2100, 1, 1), datetime(2024, 1, 15, 12, 30)
    a = g.write_gs2(m, tmp_path / "a", mission="S2B", validity_start=t0, validity_stop=t1, creation=c)
    b = g.write_gs2(m, tmp_path / "b", mission="S2B", validity_start=t0, validity_stop=t1, creation=c)
    assert a.name == "S2B_OPER_GIP_VIEDIR_MPC__20240115T123000_V20240201T000000_21000101T000000_B05.xml"
    assert a.read_bytes() == b.read_bytes()
    back = g.read_gs2(a)
    assert back.specific_header.type == "S2B_BAND_NUMBER_4_VIEWING_DIRECTIONS_FILE"
    assert back.header.satellite == "S2B" and back.header.production_date == c
    assert back.detectors == m.detectors
    assert g.write_gs2(g.GIP_SPAMOD(), tmp_path).name.endswith("_B00.xml")
    assert g.write_gs2(_blindp(), tmp_path).name.startswith("S2A_OPER_GIP_BLINDP_MPC__")


def test_floats_read_back_bit_exactly(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.2, 0.2, 50)
    m = g.GIP_VIEDIR(band="B8A", detectors=[g.ViewingDirections(detector=7, n_pixels=50, tan_psi_x=x,
                                                                 tan_psi_y=x[::-1] / 7)])
    back = g.read_gs2(g.write_gs2(m, tmp_path))
    assert back.detectors[0].tan_psi_x.tobytes() == x.tobytes()
    assert back == m


@pytest.mark.parametrize("model", [_viedir(), g.GIP_SPAMOD(), _blindp()], ids=["VIEDIR", "SPAMOD", "BLINDP"])
def test_written_files_valid_against_real_schemas(tmp_path, model):
    schema = _real_schema(model)
    path = g.write_gs2(model, tmp_path)
    assert schema.is_valid(str(path)), next(schema.iter_errors(str(path))).reason


def test_real_spamod_gse_is_beyond_the_real_schema(tmp_path):
    (xml,) = _real("GIP_SPAMOD", "*.xml")
    m = g.read_gs2(xml)
    schema = _real_schema(m)
    assert not schema.is_valid(str(xml))
    assert schema.is_valid(str(g.write_gs2(m.model_copy(update={"gse": None}), tmp_path)))


# --------------------------------------------------------------------------- bad files
def _edit(tmp_path: Path, model: g.Gs2Model, old: str, new: str) -> Path:
    path = g.write_gs2(model, tmp_path / "good")
    text = path.read_text()
    assert old in text
    bad = tmp_path / path.name
    bad.write_text(text.replace(old, new, 1))
    return bad


def test_nb_of_pixels_differing_from_the_list(tmp_path):
    bad = _edit(tmp_path, _viedir(), "<NB_OF_PIXELS>5<", "<NB_OF_PIXELS>6<")
    with pytest.raises(FormatError) as e:
        g.read_gs2(bad)
    assert "NB_OF_PIXELS" in str(e.value) and "TAN_PSI_X_LIST" in e.value.element
    assert "detector_id='01'" in e.value.element


def test_non_finite_values(tmp_path):
    m = _viedir()
    first = repr(float(m.detectors[1].tan_psi_y[0]))
    bad = _edit(tmp_path, m, f"<TAN_PSI_Y_LIST>{first} ", "<TAN_PSI_Y_LIST>NaN ")
    with pytest.raises(FormatError) as e:
        g.read_gs2(bad)
    assert "non-finite" in str(e.value) and "detector_id='02'" in e.value.element
    assert e.value.element.endswith("TAN_PSI_Y_LIST")


def test_duplicate_detector(tmp_path):
    bad = _edit(tmp_path, _viedir(), 'detector_id="02"', 'detector_id="01"')
    with pytest.raises(FormatError) as e:
        g.read_gs2(bad)
    assert "VIEWING_DIRECTIONS" in (e.value.element or "")


def test_schema_errors_name_the_element(tmp_path):
    bad = _edit(tmp_path, g.GIP_SPAMOD(), '<R2 axis="Y" unit="mrad">0.0</R2>', '<R2 axis="Y" unit="mrad">big</R2>')
    with pytest.raises(FormatError) as e:
        g.read_gs2(bad)
    assert "R2" in e.value.element and "PILOTING_TO_MSI_FRAME" in e.value.element
    bad = _edit(tmp_path, _blindp(), "<BLIND_PIXEL_NUMBER>8<", "<BLIND_PIXEL_NUMBER>eight<")
    with pytest.raises(FormatError) as e:
        g.read_gs2(bad)
    assert "BLIND_PIXEL_NUMBER" in e.value.element


def test_wrong_root_and_missing_dbl(tmp_path):
    path = g.write_gs2(_blindp(), tmp_path)
    with pytest.raises(FormatError) as e:
        g.read_gs2(path, g.GIP_VIEDIR)
    assert e.value.element == "/GS2_BLIND_PIXELS"
    hdr = tmp_path / "X.HDR"
    hdr.write_text("<Earth_Explorer_Header/>")
    with pytest.raises(FormatError, match="DBL"):
        g.read_gs2(hdr)


def test_models_refuse_inconsistent_content():
    with pytest.raises(ValueError, match="NB_OF_PIXELS"):
        g.ViewingDirections(detector=1, n_pixels=3, tan_psi_x=[0.0, 1.0], tan_psi_y=[0.0, 1.0])
    with pytest.raises(ValueError, match="non-finite"):
        g.ViewingDirections(detector=1, n_pixels=2, tan_psi_x=[0.0, np.inf], tan_psi_y=[0.0, 1.0])
    with pytest.raises(ValueError, match="twice"):
        _viedir(detectors=(3, 3))
    with pytest.raises(ValueError, match="01..12"):
        g.GIP_SPAMOD(focal_plane_to_detector_vnir=[g.DetectorRotation(detector=1)])
