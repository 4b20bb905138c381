"""L0 datastrip and granule metadata (PSD 14.8): our files validate against the real XSDs, round
trip exactly, the real L0 / L0U / L1B metadata load and their ancillary data pass the checks,
corrupted copies are refused naming the element."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from lxml import etree

from ipf.formats import l0_metadata as m
from ipf.interface.errors import FormatError, InputError
from tests.helpers import SHARED
from tests.l0_samples import sample_datastrip, sample_granule

REAL = SHARED / "real"
PSD = REAL / "schemas" / "psd-14.8_s2tbx"
L0_DS = next(iter(sorted((REAL / "l0").glob("S2B_OPER_MSI_L0__DS_*/S2B_OPER_MTD_L0__DS_*.xml"))), None) \
    if (REAL / "l0").is_dir() else None
L1B_DS = next(iter(sorted((REAL / "l1b").glob("*/DATASTRIP/*/*.xml"))), None) if (REAL / "l1b").is_dir() else None
L0U_GR = sorted((REAL / "l0" / "L0U_REFS_20220614").glob("DT35/GR/DB1/*/*.xml")) \
    if (REAL / "l0").is_dir() else []
L0U_DS = next(iter(sorted((REAL / "l0" / "L0U_REFS_20220614").glob("DT35/DS/*/S2B_OPER_MTD_L0U_DS_*.xml"))),
              None) if (REAL / "l0").is_dir() else None

def _same(a, b, path="") -> None:
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), path
    elif isinstance(a, m._Model):
        assert type(a) is type(b), path
        for k in type(a).model_fields:
            _same(getattr(a, k), getattr(b, k), f"{path}.{k}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def _schema(name: str) -> etree.XMLSchema:
    if not PSD.is_dir():
        pytest.skip("../shared (PSD 14.8 schemas) not present")
    return etree.XMLSchema(etree.parse(str(PSD / name)))


def test_gps_times_keep_nanoseconds():
    t = m.parse_gps_time("2022-10-11T06:40:43.456979752")
    assert m.format_gps_time(t) == "2022-10-11T06:40:43.456979752"
    assert m.format_gps_time(m.parse_gps_time("2022-10-11T06:40:16")) == "2022-10-11T06:40:16"
    assert m.parse_gps_time("2022-10-11T06:40:17.33089232444763") == np.datetime64("2022-10-11T06:40:17.330892324", "ns")
    assert m.gps_to_utc(t, 18) == np.datetime64("2022-10-11T06:40:25.456979752", "ns")


def test_datastrip_round_trip_exact_and_deterministic(tmp_path):
    ds = sample_datastrip()
    p = m.write_datastrip_metadata(tmp_path / "a", ds)
    assert p.name == "S2A_OPER_MTD_L0__DS_SIMU_20260601T110000_S20260601T103000.xml"
    back = m.read_datastrip_metadata(p)
    _same(ds, back)
    assert back.ancillary.attitudes.gps_time[1] - back.ancillary.attitudes.gps_time[0] == np.timedelta64(500_000_001, "ns")
    q = m.write_datastrip_metadata(tmp_path / "b", back)
    assert p.read_bytes() == q.read_bytes()


def test_granule_round_trip_exact(tmp_path):
    gr = sample_granule()
    p = m.write_granule_metadata(tmp_path, gr)
    assert p.name == "S2A_OPER_MTD_L0__GR_SIMU_20260601T110000_S20260601T103000_D06.xml"
    _same(gr, m.read_granule_metadata(p))


def test_written_files_valid_against_psd_14_8(tmp_path):
    ds_schema = _schema("S2_PDI_Level-0_Datastrip_Metadata.xsd")
    gr_schema = _schema("S2_PDI_Level-0_Granule_Metadata.xsd")
    for schema, path in ((ds_schema, m.write_datastrip_metadata(tmp_path, sample_datastrip())),
                         (gr_schema, m.write_granule_metadata(tmp_path, sample_granule()))):
        doc = etree.parse(str(path))
        assert schema.validate(doc), schema.error_log


def test_granule_line_ranges():
    ds = sample_datastrip()
    r = m.granule_line_ranges(ds, 6, 4000)
    assert [(first, n) for _, first, n in r] == [(0, 2304), (2304, 1696)]


def _summary(anc: m.SatelliteAncillary) -> str:
    e, a = anc.ephemeris, anc.attitudes
    r = np.linalg.norm(e.position_m, axis=1)
    v = np.linalg.norm(e.velocity_m_s, axis=1)
    qn = np.linalg.norm(a.quaternion, axis=1)
    return (f"ephemeris {len(e.gps_time)} points {e.gps_time[0]}..{e.gps_time[-1]} "
            f"|r| {r.min():.1f}..{r.max():.1f} m |v| {v.min():.3f}..{v.max():.3f} m/s; "
            f"attitudes {len(a.gps_time)} {a.gps_time[0]}..{a.gps_time[-1]} "
            f"|q|-1 {np.abs(qn - 1).max():.3g}")


@pytest.mark.parametrize("which", ["L0", "L1B"])
def test_real_datastrips_load(which, capsys):
    path = L0_DS if which == "L0" else L1B_DS
    if path is None:
        pytest.skip("../shared real products not present")
    ds = m.read_datastrip_metadata(path)
    m.check_ancillary(ds.ancillary, path)
    assert ds.spacecraft in ("Sentinel-2A", "Sentinel-2B") and len(ds.active_detectors) == 12
    assert len(ds.time_stamp.stamps) == 13 * 12 and ds.auxiliary.gps_time_utc_s == 18
    w = ds.ancillary.attitudes.quaternion[:, 0]
    assert np.all(np.abs(w) <= 1)
    with capsys.disabled():
        print(f"\n{which} {path.name}: {_summary(ds.ancillary)}; {len(ds.granules)} granules, "
              f"{len(ds.ancillary.time_correlation)} time correlations, {len(ds.auxiliary.gipps)} GIPPs")


def test_real_l0_attitude_points_z_to_nadir():
    """The convention: (x, y, z, w) in the file, rotation piloting -> EME2000; the piloting +Z
    axis points to the Earth centre within a degree (EME2000 <- ECEF by the Earth rotation angle)."""
    if L0_DS is None:
        pytest.skip("../shared real products not present")
    ds = m.read_datastrip_metadata(L0_DS)
    e, a = ds.ancillary.ephemeris, ds.ancillary.attitudes
    i = int(np.argmin(np.abs(a.gps_time - e.gps_time[0])))
    w, x, y, z = a.quaternion[i]
    zb = np.array([2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)])
    utc = m.gps_to_utc(e.gps_time[0], ds.auxiliary.gps_time_utc_s)
    days = (utc - np.datetime64("2000-01-01T12:00:00", "ns")) / np.timedelta64(86400, "s")
    era = 2 * np.pi * (0.7790572732640 + 1.00273781191135448 * days)
    c, s = np.cos(era), np.sin(era)
    r = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ e.position_m[0]
    assert np.degrees(np.arccos(zb @ (-r / np.linalg.norm(r)))) < 1.0


def test_real_granules_load(capsys):
    if not L0U_GR:
        pytest.skip("../shared real products not present")
    for p in L0U_GR:
        gr = m.read_granule_metadata(p)
        assert len(gr.packet_counters) == 13 and gr.datastrip_id is None
        assert f"_D{gr.detector:02d}_" in gr.granule_id
    with capsys.disabled():
        print(f"\n{len(L0U_GR)} L0U granules loaded, detectors "
              f"{sorted(m.read_granule_metadata(p).detector for p in L0U_GR)}")


@pytest.mark.parametrize("case,pattern,repl,element", [
    ("nan position", r"<POSITION_VALUES unit=\"mm\">[^<]*<", '<POSITION_VALUES unit="mm">NaN 1 2<',
     "GPS_Point[1]/POSITION_VALUES"),
    ("zero quaternion", r"<QUATERNION_VALUES>[^<]*<", "<QUATERNION_VALUES>0 0 0 0<",
     "Corrected_Attitudes/Values[1]/QUATERNION_VALUES"),
    ("time reversal", r"(<GPS_Point>(?:(?!</GPS_Point>).)*?<GPS_TIME>)\d{4}", r"\g<1>2030",
     "GPS_Point[2]/GPS_TIME"),
    ("missing IERS", r"<UT1_UTC[^>]*>[^<]*</UT1_UTC>", "", "IERS_Bulletin/UT1_UTC"),
])
def test_corrupted_copies_refused(tmp_path, case, pattern, repl, element):
    sources = [m.write_datastrip_metadata(tmp_path / "ours", sample_datastrip())]
    if L0_DS is not None:
        sources.append(L0_DS)
    for src in sources:
        (tmp_path / "bad").mkdir(exist_ok=True)
        text = src.read_text(encoding="utf-8")
        new = re.sub(pattern, repl, text, count=1, flags=re.DOTALL)
        assert new != text
        bad = tmp_path / "bad" / src.name
        bad.write_text(new, encoding="utf-8")
        with pytest.raises(FormatError) as err:
            m.read_datastrip_metadata(bad)
        assert element in (err.value.element or ""), err.value
        assert err.value.source == str(bad)


def test_check_ancillary_limits():
    ds = sample_datastrip()
    e = ds.ancillary.ephemeris
    slow = m.SatelliteAncillary(ephemeris=m.Ephemeris(gps_time=e.gps_time, position_m=e.position_m,
                                                      velocity_m_s=e.velocity_m_s * 0.9),
                                attitudes=ds.ancillary.attitudes)
    with pytest.raises(FormatError, match="VELOCITY_VALUES"):
        m.check_ancillary(slow, "x")
    one = m.SatelliteAncillary(ephemeris=m.Ephemeris(gps_time=e.gps_time[:1], position_m=e.position_m[:1],
                                                     velocity_m_s=e.velocity_m_s[:1]),
                               attitudes=ds.ancillary.attitudes)
    with pytest.raises(FormatError, match="at least 2"):
        m.check_ancillary(one, "x")


@pytest.mark.parametrize("pattern,repl,element", [
    (r"<GRANULE_ID([^>]*)>[^<]*<", r"<GRANULE_ID\1>NOT_A_GRANULE<", "/General_Info/GRANULE_ID"),
    (r"<EXT_POS_LIST>[^<]*<", "<EXT_POS_LIST>1 2 x<", "Footprint/EXT_POS_LIST"),
])
def test_corrupted_granules_refused_naming_the_element(tmp_path, pattern, repl, element):
    path = m.write_granule_metadata(tmp_path, sample_granule())
    text = path.read_text(encoding="utf-8")
    new = re.sub(pattern, repl, text, count=1)
    assert new != text
    path.write_text(new, encoding="utf-8")
    with pytest.raises(FormatError) as err:
        m.read_granule_metadata(path)
    assert (err.value.element or "").endswith(element), err.value


@pytest.mark.parametrize("pattern,repl,element", [
    (r"(</GIPP_FILENAME>)", r'\1<GIPP_FILENAME type="GIP_R2EQOG" version="0001">S2A_NOT_A_GIPP</GIPP_FILENAME>',
     "/Auxiliary_Data_Info/GIPP_List/GIPP_FILENAME[2]"),
    (r"(<Band_Time_Stamp bandId=\"(\d+)\">\s*<Detector detectorId=\")\d+", r"\g<1>13",
     "/Time_Stamp/Band_Time_Stamp[@bandId='{band}']/Detector[1]"),
    (r"(<Granule granuleId=\")[^\"]*", r"\1S2A_BAD", "/Granule_List/Granule[1]"),
    (r"<ACTIVE_DETECTOR>\d+<", "<ACTIVE_DETECTOR>x<", "/Active_Detectors_List/ACTIVE_DETECTOR[1]"),
    (r"<ACTIVE_DETECTOR>\d+<", "<ACTIVE_DETECTOR>\u00b2<", "/Active_Detectors_List/ACTIVE_DETECTOR[1]"),
    (r'degradationPercentage="[^"]*"', 'degradationPercentage="150"', "/Degradation_Summary"),
    (r'<Located_Geometric_Header pos="begin"', '<Located_Geometric_Header pos="middle"',
     "/Geometric_Header/Located_Geometric_Header"),
    (r"<ATTITUDE_QUALITY_INDICATOR>[^<]*<", "<ATTITUDE_QUALITY_INDICATOR>SOMETIMES<",
     "/Attitudes/Corrected_Attitudes"),
])
def test_refused_sub_model_values_name_their_element(tmp_path, pattern, repl, element):
    path = m.write_datastrip_metadata(tmp_path, sample_datastrip())
    text = path.read_text(encoding="utf-8")
    found = re.search(pattern, text)
    assert found is not None
    band = found.group(2) if "bandId" in pattern else ""
    path.write_text(re.sub(pattern, repl, text, count=1), encoding="utf-8")
    with pytest.raises(FormatError) as err:
        m.read_datastrip_metadata(path)
    assert (err.value.element or "").endswith(element.format(band=band)), err.value


def test_line_datation_law_with_reference_line_17():
    """B02 (10 m) and B05 (20 m) of detector 5 stamped at line 17 (1-based), GPS 10:30:18.000,
    GPS - UTC 18 s, LINE_PERIOD 1.5 ms: line 16 (0-based) is at 10:30:00.000 UTC, line 0 16
    periods earlier (B02 10:29:59.976, B05 10:29:59.952)."""
    from ipf.formats import l0, sensor_model
    from ipf.formats.ccsds import apid_for

    stamps = (m.BandTimeStamp(band=1, detector=5, reference_line=17,
                              gps_time=np.datetime64("2026-06-01T10:30:18", "ns")),
              m.BandTimeStamp(band=4, detector=5, reference_line=17,
                              gps_time=np.datetime64("2026-06-01T10:30:18", "ns")))
    ds = sample_datastrip().model_copy(update={"time_stamp": m.TimeStamp(line_period_ms=1.5, stamps=stamps)})
    law = m.line_datation(ds)
    assert law == {("B02", 5): (np.datetime64("2026-06-01T10:29:59.976", "ns"), 0.0015),
                   ("B05", 5): (np.datetime64("2026-06-01T10:29:59.952", "ns"), 0.003)}
    since_2000 = (np.datetime64("2026-06-01T10:29:59.976", "ns") - np.datetime64("2000-01-01", "ns")) \
        / np.timedelta64(1, "s")
    clock = l0.line_clocks(ds)[apid_for(5, 1)]
    assert clock.t0 == since_2000 and clock.period == 0.0015
    dated = sensor_model.datation_from_metadata(ds, np.datetime64("2026-06-01T10:30:00", "ns"))
    assert abs(dated["B02", 5].t0 - -0.024) < 1e-12 and abs(dated["B05", 5].t0 - -0.048) < 1e-12
    assert abs(float(dated["B05", 5].time(16))) < 1e-12


def test_sentinel_2c_and_2d_datastrips_and_gipps_accepted(tmp_path):
    from ipf.formats.gipp_gs2 import Gs2Header
    from ipf.formats.missions import MISSIONS

    assert MISSIONS == ("S2A", "S2B", "S2C", "S2D")
    ds = sample_datastrip()
    for letter in "CD":
        s2x = m.Datastrip(**{**dict(ds), "spacecraft": f"Sentinel-2{letter}",
                             "datatake_id": ds.datatake_id.replace("GS2A", f"GS2{letter}"),
                             "datastrip_id": ds.datastrip_id.replace("S2A_", f"S2{letter}_")})
        assert s2x.mission == f"S2{letter}"
        assert Gs2Header(satellite=f"S2{letter}").satellite == f"S2{letter}"
    with pytest.raises(ValueError):
        Gs2Header(satellite="S2E")


def test_real_unconsolidated_datastrip_loads(tmp_path, capsys):
    """The real L0U datastrip metadata: no Processing_Info (from the identifier), no
    Auxiliary_Data_Info, only ANC_DATA_REF in Satellite_Ancillary_Data_Info."""
    if L0U_DS is None:
        pytest.skip("../shared real L0U datastrip not present")
    ds = m.read_datastrip_metadata(L0U_DS)
    assert ds.datastrip_id == "S2B_OPER_MSI_L0U_DS_REFS_20220614T090618_S20220413T114741_N00.00"
    assert (ds.processing_baseline, ds.processing_centre) == ("00.00", "REFS")
    assert ds.creation == datetime(2022, 6, 14, 9, 6, 18, tzinfo=UTC)
    assert ds.ancillary is None and ds.auxiliary is None and ds.ancillary_ref == ".//ANC_DATA/"
    assert ds.spacecraft == "Sentinel-2B" and sorted(ds.active_detectors) == list(range(1, 13))
    assert len(ds.granules) == 504 and len(ds.bands) == 13 and len(ds.time_stamp.stamps) == 13 * 12
    assert len(ds.packet_counters) == 13 * 12 and ds.time_stamp.line_period_ms == 1.5658736
    with pytest.raises(InputError) as info:
        m.line_datation(ds)
    assert info.value.element == "Auxiliary_Data_Info/IERS_Bulletin/GPS_TIME_UTC"
    with pytest.raises(ValueError, match="ancillary"):
        m.write_datastrip_metadata(tmp_path, ds)
    with capsys.disabled():
        print(f"\nL0U {L0U_DS.name}: {ds.sensing_start:%H:%M:%S.%f}..{ds.sensing_stop:%H:%M:%S.%f}, "
              f"{len(ds.granules)} granules on {len(ds.active_detectors)} detectors, "
              f"{sum(c.packets for c in ds.packet_counters)} source packets, ancillary in {ds.ancillary_ref}")


def _unconsolidated(ds: m.Datastrip, **update) -> m.Datastrip:
    return ds.model_copy(update={"ancillary": None, "auxiliary": None, "ancillary_ref": ".//ANC_DATA/", **update})


def test_sensor_model_refuses_a_datastrip_without_ancillary_data(tmp_path):
    from ipf.formats.aux import EarthOrientationTable
    from ipf.formats.gipp_gs2 import GIP_SPAMOD
    from ipf.formats.sensor_model import read_sensor_model, sensor_model

    eop = EarthOrientationTable(mjd=np.array([61192, 61193]), x_p=np.zeros(2), y_p=np.zeros(2),
                                ut1_utc=np.zeros(2), tai_utc=37.0)
    ds = _unconsolidated(sample_datastrip())
    with pytest.raises(InputError) as info:
        sensor_model(ds, eop, GIP_SPAMOD(), [], source=tmp_path / "DS.xml")
    assert info.value.element == "Satellite_Ancillary_Data_Info" and info.value.source == str(tmp_path / "DS.xml")
    assert "ANC_DATA" in str(info.value)
    with pytest.raises(InputError) as info:
        sensor_model(_unconsolidated(sample_datastrip(), ancillary=sample_datastrip().ancillary), eop, GIP_SPAMOD(), [])
    assert info.value.element == "Auxiliary_Data_Info"
    assert info.value.source == "S2A_OPER_MTD_L0__DS_SIMU_20260601T110000_S20260601T103000.xml"
    if L0U_DS is not None:
        with pytest.raises(InputError) as info:
            read_sensor_model(m.read_datastrip_metadata(L0U_DS), tmp_path / "none", tmp_path / "none", [],
                              source=L0U_DS)
        assert (info.value.source, info.value.element) == (str(L0U_DS), "Satellite_Ancillary_Data_Info")
