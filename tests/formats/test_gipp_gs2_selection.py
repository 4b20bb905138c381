"""Choosing among versions of a GS2 GIPP (GIP_VIEDIR per band, GIP_SPAMOD): the Earth Explorer
family's rule (validity covering the sensing period, then latest creation, then version) on the GS2
headers (or the .HDR of a pair); none valid is an InputError naming the type, band and period."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import gipp_gs2 as g
from ipf.formats.sensor_model import read_viedirs
from ipf.interface.errors import FormatError, InputError
from tests.l0_samples import sample_datastrip

OLD = (datetime(2020, 1, 1), datetime(2025, 1, 1), datetime(2019, 12, 1))
NEW = (datetime(2025, 1, 1), None, datetime(2024, 12, 1))


def _viedir(band: str, offset: float) -> g.GIP_VIEDIR:
    n = 4
    rows = [g.ViewingDirections(detector=d, n_pixels=n, tan_psi_x=np.linspace(-0.1, -0.09, n) + 0.03 * d + offset,
                                tan_psi_y=np.full(n, 0.01)) for d in (1, 2)]
    return g.GIP_VIEDIR(band=band, detectors=rows)


def _write(model: g.Gs2Model, folder: Path, period, version: str = "0001") -> Path:
    start, stop, created = period
    model = model.model_copy(update={"specific_header": model.specific_header.model_copy(
        update={"version_number": version, "applicability_end_date": stop})})
    return g.write_gs2(model, folder, validity_start=start, creation=created)


def test_the_version_valid_over_the_sensing_period_is_chosen(tmp_path):
    old = _write(g.GIP_SPAMOD(), tmp_path, OLD)
    new = _write(g.GIP_SPAMOD(), tmp_path, NEW)
    assert g.read_gs2_validity(new).validity_stop == g.DEFAULT_VALIDITY_STOP
    files = [new, old]
    assert g.select_gs2(files, "GIP_SPAMOD", "B00", datetime(2024, 6, 1, tzinfo=UTC),
                        datetime(2024, 6, 1, 0, 5, tzinfo=UTC)) == old
    assert g.select_gs2(files, "GIP_SPAMOD", "B00", datetime(2026, 6, 1), datetime(2026, 6, 1, 0, 5)) == new
    assert g.select_gs2(old, "GIP_SPAMOD") == old
    assert g.select_gs2(files, "GIP_SPAMOD") == new


def test_latest_creation_then_highest_version(tmp_path):
    first = _write(g.GIP_SPAMOD(), tmp_path / "a", NEW, "0002")
    later = _write(g.GIP_SPAMOD(), tmp_path / "b", (NEW[0], None, datetime(2024, 12, 2)), "0001")
    higher = _write(g.GIP_SPAMOD(), tmp_path / "c", NEW, "0003")
    period = (datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert g.select_gs2([first, later, higher], "GIP_SPAMOD", "B00", *period) == later
    assert g.select_gs2([first, higher], "GIP_SPAMOD", "B00", *period) == higher


def test_viedirs_chosen_per_band_over_the_datastrip_period(tmp_path):
    ds = sample_datastrip()
    files = [_write(_viedir(b, off), tmp_path, period) for b in ("B05", "B02")
             for off, period in ((0.0, OLD), (0.001, NEW))]
    chosen = g.select_gs2_bands(files, "GIP_VIEDIR", ds.sensing_start, ds.sensing_stop)
    assert list(chosen) == ["B02", "B05"] and all(g.read_gs2_validity(p).validity_start == NEW[0]
                                                  for p in chosen.values())
    read = read_viedirs(reversed(files), ds)
    assert [v.band for v in read] == ["B02", "B05"]
    assert all(v.detector(1).tan_psi_x[0] == pytest.approx(-0.1 + 0.03 + 0.001) for v in read)


def test_none_valid_names_the_type_band_and_period(tmp_path):
    files = [_write(_viedir("B05", 0.0), tmp_path, OLD), _write(_viedir("B02", 0.0), tmp_path, NEW)]
    with pytest.raises(InputError) as info:
        g.select_gs2(files, "GIP_VIEDIR", "B05", datetime(2026, 6, 1, 10, 30), datetime(2026, 6, 1, 10, 31))
    text = str(info.value)
    assert info.value.element == "GIP_VIEDIR" and "GIP_VIEDIR of B05" in text
    assert "2026-06-01T10:30:00 to 2026-06-01T10:31:00" in text and "valid 2020-01-01T00:00:00 to 2025-01-01" in text
    with pytest.raises(InputError, match="B05"):
        read_viedirs(files, sample_datastrip())


def _hdr(path: Path, file_type: str, version: str, start: str, stop: str, created: str) -> Path:
    """An Earth Explorer header beside a GS2 data block (the form of the real pairs)."""
    hdr = path.with_suffix(".HDR")
    hdr.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<Earth_Explorer_Header xmlns="http://eop-cfi.esa.int/S2/S2_SCHEMAS">
  <Fixed_Header>
    <File_Name>{path.stem}</File_Name><File_Description>test</File_Description><Notes></Notes>
    <Mission>Sentinel-2A</Mission><File_Class>OPER</File_Class><File_Type>{file_type}</File_Type>
    <File_Version>{version}</File_Version>
    <Validity_Period><Validity_Start>UTC={start}</Validity_Start><Validity_Stop>UTC={stop}</Validity_Stop></Validity_Period>
    <Source><System>MPC_</System><Creator>s2ipf</Creator><Creator_Version>1</Creator_Version>
      <Creation_Date>UTC={created}</Creation_Date></Source>
  </Fixed_Header>
  <Variable_Header/>
</Earth_Explorer_Header>
""")
    return hdr


def test_a_pair_is_chosen_by_its_hdr(tmp_path):
    xml = _write(g.GIP_SPAMOD(), tmp_path, OLD)
    dbl = xml.rename(xml.with_suffix(".DBL"))
    hdr = _hdr(dbl, "GIP_SPAMOD", "0007", "2025-01-01T00:00:00", "2100-01-01T00:00:00", "2024-12-01T00:00:00")
    for path in (hdr, dbl):
        v = g.read_gs2_validity(path)
        assert (v.validity_start, v.file_version, v.creation_date) == (datetime(2025, 1, 1), "0007",
                                                                       datetime(2024, 12, 1))
    assert g.select_gs2([hdr], "GIP_SPAMOD", "B00", datetime(2026, 1, 1), datetime(2026, 1, 2)) == hdr
    _hdr(dbl, "GIP_BLINDP", "0007", "2025-01-01T00:00:00", "2100-01-01T00:00:00", "2024-12-01T00:00:00")
    with pytest.raises(FormatError) as info:
        g.read_gs2_validity(hdr)
    assert info.value.element.endswith("File_Type")


def test_a_bad_applicability_date_is_a_format_error(tmp_path):
    path = _write(g.GIP_SPAMOD(), tmp_path, OLD)
    path.write_text(path.read_text().replace("<APPLICABILITY_DATE>2020-01-01T00:00:00.0Z",
                                             "<APPLICABILITY_DATE>soon"))
    with pytest.raises(FormatError) as info:
        g.read_gs2_validity(path)
    assert info.value.element == "SPECIFIC_HEADER/APPLICABILITY_DATE" and info.value.source == str(path)
