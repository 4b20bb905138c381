"""AUX_UT1UTC (IERS Bulletin A): the real files of ../shared load, values checked by hand against
the text, our HDR + DBL round trips exactly, bad rows are errors naming their line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from ipf.formats.aux import EarthOrientationTable, read_ut1utc, ut1utc_file_name, write_ut1utc
from ipf.interface.errors import FormatError, InputError, MissingInputError
from tests.helpers import SHARED

REAL = SHARED / "real" / "aux" / "AUX_UT1UTC"
STEM_2022 = "S2__OPER_AUX_UT1UTC_PDMC_20220407T000000_V20220408T000000_20230407T000000"
TXT_2019 = "S2__OPER_AUX_UT1UTC_PDMC_20190725T000000_V20190726T000000_20200725T000000.txt"
ARCSEC = np.pi / 180 / 3600
CREATION, START, STOP = datetime(2022, 4, 7), datetime(2022, 4, 8), datetime(2023, 4, 7)


def _real(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def _table(**changes) -> EarthOrientationTable:
    values = dict(mjd=np.array([59670, 59671, 59672, 59677, 59678], dtype=np.int64),
                  x_p=np.array([0.04339, -0.00362, 0.04435, 0.049, 0.0505]),
                  y_p=np.array([0.42686, 0.4289, 0.43106, 0.4418, 0.4434]),
                  ut1_utc=np.array([-0.09952, -0.099793, 0.10001, -0.09846, -0.09786]),
                  n_rapid=3, tai_utc=37.0)
    return EarthOrientationTable(**{**values, **changes})


def _same(a: EarthOrientationTable, b: EarthOrientationTable) -> None:
    for name in ("mjd", "x_p", "y_p", "ut1_utc"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.n_rapid, a.tai_utc) == (b.n_rapid, b.tai_utc)


def test_real_hdr_dbl_pair():
    """Lines 94, 100, 154 and 518 of the DBL: the first and last rapid-service rows, the first and
    last predictions."""
    table = read_ut1utc(_real(f"{STEM_2022}.HDR"))
    assert (len(table.mjd), table.n_rapid, table.tai_utc) == (372, 7, 37.0)
    assert table.source.endswith(f"{STEM_2022}.DBL")
    assert (table.mjd[0], table.x_p[0], table.y_p[0], table.ut1_utc[0]) == (59670, 0.04339, 0.42686, -0.099520)
    assert (table.mjd[6], table.x_p[6], table.y_p[6], table.ut1_utc[6]) == (59676, 0.04768, 0.44011, -0.099048)
    assert (table.mjd[7], table.x_p[7], table.y_p[7], table.ut1_utc[7]) == (59677, 0.0490, 0.4418, -0.09846)
    assert (table.mjd[-1], table.x_p[-1], table.y_p[-1], table.ut1_utc[-1]) == (60041, 0.0307, 0.4059, -0.00102)
    np.testing.assert_array_equal(np.diff(table.mjd), 1)
    _same(read_ut1utc(_real(f"{STEM_2022}.DBL")), table)


def test_real_txt():
    """Rapid service 58774..58780 (line 91: '19 10 24  58780 0.17013 .00009 0.28992 .00009 -0.154249
    0.000007'), then three predictions from 59076 (line 113: '2020  8 15  59076 0.2393 0.3620
    -0.27381'); TAI-UTC(MJD 58781) = 37.0."""
    table = read_ut1utc(_real(TXT_2019))
    assert (len(table.mjd), table.n_rapid, table.tai_utc) == (10, 7, 37.0)
    assert (table.mjd[6], table.x_p[6], table.y_p[6], table.ut1_utc[6]) == (58780, 0.17013, 0.28992, -0.154249)
    assert (table.mjd[7], table.x_p[7], table.y_p[7], table.ut1_utc[7]) == (59076, 0.2393, 0.3620, -0.27381)


def test_real_file_written_back_exactly(tmp_path):
    table = read_ut1utc(_real(f"{STEM_2022}.HDR"))
    hdr = write_ut1utc(tmp_path, table, CREATION, START, STOP)
    assert hdr == tmp_path / f"{STEM_2022}.HDR"
    _same(read_ut1utc(hdr), table)


def test_interpolation_linear_in_mjd():
    table = read_ut1utc(_real(f"{STEM_2022}.HDR"))
    eop = table.at(np.array(["2022-04-08T12:00", "2022-04-09T00:00"], dtype="datetime64[ns]"))
    np.testing.assert_allclose(eop.ut1_utc, [(-0.09846 - 0.09786) / 2, -0.09786], rtol=0, atol=1e-15)
    np.testing.assert_allclose(eop.xp, np.array([(0.0490 + 0.0505) / 2, 0.0505]) * ARCSEC, rtol=1e-14)
    np.testing.assert_allclose(eop.yp, np.array([(0.4418 + 0.4434) / 2, 0.4434]) * ARCSEC, rtol=1e-14)
    assert eop.tai_utc == 37.0


def test_leap_second_step_is_not_interpolated():
    """Bulletin A across 2016-12-31: UT1-UTC -0.4091 s on MJD 57753, +0.5908 s on 57754 (after
    23:59:60); during 31 December UT1-UTC follows the -0.0001 s/day drift, not the 1 s step."""
    table = _table(mjd=np.array([57752, 57753, 57754, 57755, 57756]),
                   ut1_utc=np.array([-0.4090, -0.4091, 0.5908, 0.5907, 0.5906]))
    eop = table.at(np.array(["2016-12-31T00:00", "2016-12-31T12:00", "2017-01-01T00:00", "2017-01-02T06:00"],
                            dtype="datetime64[ns]"))
    np.testing.assert_allclose(eop.ut1_utc, [-0.4091, -0.40915, 0.5908, 0.590675], rtol=0, atol=1e-12)


def test_outside_the_table_names_the_file(tmp_path):
    hdr = write_ut1utc(tmp_path, _table(), CREATION, START, STOP)
    table = read_ut1utc(hdr)
    table.at(np.array(["2022-04-01T00:00", "2022-04-09T00:00"], dtype="datetime64[ns]"))
    with pytest.raises(InputError, match="outside the Earth orientation table MJD 59670..59678") as err:
        table.at(np.array(["2022-04-09T00:00:00.001"], dtype="datetime64[ns]"))
    assert err.value.source == str(hdr.with_suffix(".DBL"))


def test_round_trip_exact_and_deterministic(tmp_path):
    table = _table()
    hdr = write_ut1utc(tmp_path / "a", table, CREATION, START, STOP, mission="S2A")
    again = write_ut1utc(tmp_path / "b", table, CREATION, START, STOP, mission="S2A")
    assert hdr.name == "S2A_OPER_AUX_UT1UTC_PDMC_20220407T000000_V20220408T000000_20230407T000000.HDR"
    assert hdr.read_bytes() == again.read_bytes()
    assert hdr.with_suffix(".DBL").read_bytes() == again.with_suffix(".DBL").read_bytes()
    _same(read_ut1utc(hdr), table)
    _same(read_ut1utc(hdr.with_suffix(".DBL")), table)
    predicted_only = _table(n_rapid=0, x_p=np.array([0.0434, -0.0036, 0.0444, 0.049, 0.0505]),
                            y_p=np.array([0.4269, 0.4289, 0.4311, 0.4418, 0.4434]),
                            ut1_utc=np.array([-0.09952, -0.09979, 0.10001, -0.09846, -0.09786]))
    _same(read_ut1utc(write_ut1utc(tmp_path / "c", predicted_only, CREATION, START, STOP)), predicted_only)
    rapid_only = _table(n_rapid=5)
    _same(read_ut1utc(write_ut1utc(tmp_path / "d", rapid_only, CREATION, START, STOP)), rapid_only)


def test_values_rounded_to_the_bulletin_resolution(tmp_path):
    """Predicted rows carry 0.0001" and 0.00001 s, rapid-service rows 0.00001" and 0.000001 s."""
    table = _table(n_rapid=1, x_p=np.array([0.0433912, 0.0436249, 0.04435, 0.049, 0.0505]),
                   ut1_utc=np.array([-0.0995204, -0.0997934, 0.10001, -0.09846, -0.09786]))
    back = read_ut1utc(write_ut1utc(tmp_path, table, CREATION, START, STOP))
    np.testing.assert_array_equal(back.x_p[:2], [0.04339, 0.0436])
    np.testing.assert_array_equal(back.ut1_utc[:2], [-0.09952, -0.09979])


def test_file_name():
    assert ut1utc_file_name(CREATION, START, STOP) == STEM_2022


def _written_dbl(tmp_path: Path) -> tuple[Path, list[str]]:
    dbl = write_ut1utc(tmp_path, _table(), CREATION, START, STOP).with_suffix(".DBL")
    return dbl, dbl.read_text().splitlines()


def _line_of(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if line.strip()[:1].isdigit() and text in line)


@pytest.mark.parametrize("row, bad, message", [
    ("59671", lambda s: s.replace("-0.00362", "-0.0O362"), "not a row"),
    ("59671", lambda s: s.replace("-0.099793", ""), "not a row"),
    ("59678", lambda s: s.replace("59678", "59679"), "MJD 59679 is not the date 2022-04-09"),
    ("59677", lambda s: s.replace("  4  8", "  2 30"), "no date 2022-2-30"),
    ("59678", lambda s: s.replace("0.4434", "nan"), "not a row"),
    ("59678", lambda s: "99999999999999999999 " + s.split(None, 1)[1], "no date 99999999999999999999"),
    ("59678", lambda s: "\u00b2\u00b2 " + s.split(None, 1)[1], "not a row"),
])
def test_bad_rows_name_their_line(tmp_path, row, bad, message):
    dbl, lines = _written_dbl(tmp_path)
    i = _line_of(lines, row)
    lines[i] = bad(lines[i])
    dbl.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=message) as err:
        read_ut1utc(dbl)
    assert err.value.element == f"line {i + 1}"
    assert err.value.source == str(dbl)


def test_rows_out_of_order(tmp_path):
    dbl, lines = _written_dbl(tmp_path)
    i, j = _line_of(lines, "59671"), _line_of(lines, "59672")
    lines[i], lines[j] = lines[j], lines[i]
    dbl.write_text("\n".join(lines))
    with pytest.raises(FormatError, match="MJD 59671 does not follow MJD 59672") as err:
        read_ut1utc(dbl)
    assert err.value.element == f"line {j + 1}"


def test_no_tai_utc_no_table_not_text(tmp_path):
    dbl, lines = _written_dbl(tmp_path)
    dbl.write_text("\n".join(line for line in lines if "TAI-UTC" not in line))
    with pytest.raises(FormatError, match="no TAI-UTC"):
        read_ut1utc(dbl)
    dbl.write_text("\n".join(line for line in lines if not line.strip()[:1].isdigit()))
    with pytest.raises(FormatError, match="fewer than 2 rows"):
        read_ut1utc(dbl)
    dbl.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FormatError, match="not a text file"):
        read_ut1utc(dbl)


def test_header_checked_and_data_block_required(tmp_path):
    hdr = write_ut1utc(tmp_path, _table(), CREATION, START, STOP)
    hdr.with_suffix(".DBL").unlink()
    with pytest.raises(MissingInputError, match="no .DBL"):
        read_ut1utc(hdr)
    hdr.write_text(hdr.read_text().replace("<File_Type>AUX_UT1UTC<", "<File_Type>AUX_RESORB<"))
    with pytest.raises(FormatError, match="File_Type is 'AUX_RESORB'") as err:
        read_ut1utc(hdr)
    assert err.value.element == "/Earth_Explorer_Header/Fixed_Header/File_Type"
    with pytest.raises(MissingInputError):
        read_ut1utc(tmp_path / "absent.txt")


def test_model_checks():
    with pytest.raises(ValueError, match="strictly increasing"):
        _table(mjd=np.array([59670, 59670, 59672, 59677, 59678]))
    with pytest.raises(ValueError, match="same length"):
        _table(x_p=np.zeros(4))
    with pytest.raises(ValueError, match="n_rapid"):
        _table(n_rapid=6)
