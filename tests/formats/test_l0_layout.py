"""L0 layout and records: an EOPF-style lister of the public layout finds our packets, SAD
packets round trip and the real ANC_DATA file's packet headers read, annotation checks."""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import ccsds, l0, sad
from ipf.formats.l0_metadata import read_datastrip_metadata
from ipf.formats.msi_bands import BANDS
from tests.helpers import SHARED
from tests.l0_samples import declared_packets

REAL_DS = SHARED / "real" / "l0" / "S2B_OPER_MSI_L0__DS_REFS_20221124T163650_S20221011T064025_N02.08"
RECEPTION = datetime(2023, 3, 20, 11, tzinfo=timezone.utc)


def _bits(data: bytes, start: int, stop: int) -> int:
    """Bits [start, stop) of ``data`` (EOPF offsets: from the first bit, MSB first)."""
    value = int.from_bytes(data[:(stop + 7) // 8], "big")
    return (value >> ((stop + 7) // 8 * 8 - stop)) & ((1 << (stop - start)) - 1)


def _eopf_list(root: Path, det: int, band: str) -> list[dict]:
    """A minimal reader of the public layout: glob ``GRANULE/**/IMG_DATA/S2*_D{DET}_B{BAND}.bin``,
    skip the 20-byte annotation of each record, read the primary header at EOPF's offsets."""
    out = []
    for path in sorted(root.glob(f"GRANULE/**/IMG_DATA/S2*_D{det:02d}_B{band}.bin")):
        data, pos = path.read_bytes(), 0
        while pos < len(data):
            pkt = data[pos + 20:]
            out.append({k: _bits(pkt, a, b) for k, (a, b) in {
                "version": (0, 3), "type": (3, 4), "secondary": (4, 5), "vmc": (7, 8), "wicom": (9, 11),
                "detector": (11, 12), "band": (12, 16), "flags": (16, 18), "count": (18, 32),
                "length": (32, 48)}.items()})
            pos += 20 + 6 + out[-1]["length"] + 1
    return out


def test_eopf_style_lister_counts_our_packets_per_detector_and_band(small):
    folder, _ = small
    root = folder / "L0"
    expected = declared_packets(root)
    assert expected
    for (det, index), n in expected.items():
        band = BANDS[index].name
        packets = _eopf_list(root, det, band[1:])
        assert len(packets) == n, (det, band)
        k = det - 1
        assert {(p["vmc"], p["wicom"], p["detector"], p["band"]) for p in packets} == {
            (k // 6, (k % 6) // 2, k % 2, index)}
        assert all(p["version"] == 0 and p["type"] == 0 and p["secondary"] == 1 for p in packets)


def test_sad_round_trip_within_the_field_resolution():
    t = np.datetime64("2023-03-20T10:48:30", "us") + np.arange(9) * np.timedelta64(125_000, "us")
    t[3] += np.timedelta64(7, "us")
    rng = np.random.default_rng(1)
    data = sad.SadData(t, rng.normal(size=(9, 3)) * 7e6, rng.normal(size=(9, 3)) * 7e3,
                       rng.normal(size=(9, 4)))
    back = sad.decode_sad(sad.encode_sad(data))
    assert np.abs((back.times - t) / np.timedelta64(1, "us")).max() <= 2**-16 * 1e6 / 2 + 1
    for a, b in zip(back[1:], data[1:]):
        np.testing.assert_array_equal(a, b)
    assert len(sad.encode_sad(data)) == 9 * (20 + sad.PACKET_SIZE)
    (annotation, *_), *_ = sad.read_headers(sad.encode_sad(data, reception_delay_s=900.0, gps_utc_s=18))
    assert annotation.reception == datetime(2023, 3, 20, 11, 3, 12, tzinfo=timezone.utc)  # UTC: 10:48:30 GPS - 18 s + 900 s


def test_sad_of_the_simulation_is_the_datastrip_ephemeris_and_attitudes(small):
    """Decoding ANC_DATA gives the orbit and the datastrip metadata's Corrected_Attitudes
    (piloting -> EME2000, same samples) and ephemeris (1 mm resolution of GPS_Points_List)."""
    folder, sim = small
    ds_dir = l0.find_datastrip(folder / "L0")
    (path,) = (ds_dir / l0.ANC_DATA).glob("S2A_OPER_AUX_S09123_SIMU_*_WF_LN.bin")
    data = sad.read_sad(path)
    assert len(data.times) > 100 and np.all(np.diff(data.times) == np.timedelta64(125_000, "us"))
    t = ((data.times - np.timedelta64(ccsds.GPS_UTC_S, "s")) - np.datetime64(sim.orbit.t_ref.replace(tzinfo=None), "us")
         ) / np.timedelta64(1, "s")
    pos, vel = sim.orbit.state(t)
    np.testing.assert_allclose(data.positions, pos, atol=1e-6)
    np.testing.assert_allclose(data.velocities, vel, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(data.quaternions, axis=1), 1.0, atol=1e-12)
    anc = read_datastrip_metadata(l0.datastrip_metadata_file(ds_dir)).ancillary
    att = anc.attitudes
    assert len(att.gps_time) == len(data.times)
    assert np.abs((att.gps_time - data.times.astype("datetime64[ns]")) / np.timedelta64(1, "ns")).max() <= 8000
    np.testing.assert_allclose(data.quaternions, att.quaternion, rtol=0, atol=1e-15)
    eph = anc.ephemeris
    at = np.searchsorted(data.times.astype("datetime64[ns]"), eph.gps_time)
    inside = at < len(data.times)
    same = data.times.astype("datetime64[ns]")[at[inside]] == eph.gps_time[inside]
    assert same.sum() >= 10
    np.testing.assert_allclose(data.positions[at[inside][same]], eph.position_m[inside][same], rtol=0, atol=5e-4)
    np.testing.assert_allclose(data.velocities[at[inside][same]], eph.velocity_m_s[inside][same], rtol=0, atol=5e-4)


def test_sad_errors_are_format_errors():
    from ipf.interface.errors import FormatError

    t = np.array(["2023-03-20T10:48:30"], "datetime64[us]")
    raw = bytearray(sad.encode_sad(sad.SadData(t, np.zeros((1, 3)), np.zeros((1, 3)), np.eye(4)[:1])))
    with pytest.raises(FormatError):
        sad.decode_sad(bytes(raw[:-3]))
    raw[50] ^= 1
    with pytest.raises(FormatError, match="CRC"):
        sad.decode_sad(bytes(raw))


def test_real_anc_data_packet_headers():
    files = sorted((REAL_DS / "ANC_DATA").glob("*.bin")) if REAL_DS.is_dir() else []
    if not files:
        pytest.skip("real L0 datastrip not in ../shared")
    data = files[0].read_bytes()
    headers = sad.read_headers(data)
    assert len(headers) == 15 and sum(20 + 6 + h[4] + 1 for h in headers) == len(data)
    assert {(h[1], h[2], h[4]) for h in headers} == {(150, ccsds.SEQ_UNSEGMENTED, 74)}
    assert all(h[0].data_length == h[4] and not h[0].crc_error for h in headers)
    assert [h[3] for h in headers] == list(range(headers[0][3], headers[0][3] + 15))
    assert all(a.reception.date().isoformat() == "2022-10-11" for a, *_ in headers)
    # our CRC-16 protects their packets too
    pos = 20
    for h in headers:
        end = pos + 6 + h[4] + 1
        assert ccsds.crc16_ccitt(data[pos:end - 2]) == int.from_bytes(data[end - 2:end], "big")
        pos = end + 20
    assert sad.read_sad(files[0]).times.size == 0  # not our APID: no sample, no error


def _packets(n: int) -> list[bytes]:
    apid = ccsds.apid_for(3, 9)
    return [ccsds.build_packet(apid, ccsds.SEQ_UNSEGMENTED, i, ccsds.SecondaryHeader(
        1_000_000_000, 0, 9, 3, 16 * i, 16, 100), bytes(50)) for i in range(n)]


def test_annotation_length_mismatch_is_flagged_and_reading_goes_on():
    packets = _packets(4)
    records = [bytearray(ccsds.annotate(p, RECEPTION, 20)) for p in packets]
    struct.pack_into(">H", records[1], 10, 7)
    blocks, report = ccsds.decode_packets(b"".join(map(bytes, records)), gps_utc_s=ccsds.GPS_UTC_S)
    assert report.annotation_errors == [len(records[0])] and not report.ok
    assert [b.sec.first_line for b in blocks] == [0, 32, 48]
    assert report.as_dict()["crc_errors"] == 1
    # the packet length corrupted instead: resynchronised on the annotation's
    records = [bytearray(ccsds.annotate(p, RECEPTION, 20)) for p in packets]
    struct.pack_into(">H", records[2], 20 + 4, 9)
    blocks, report = ccsds.decode_packets(b"".join(map(bytes, records)), gps_utc_s=ccsds.GPS_UTC_S)
    assert len(report.annotation_errors) == 1 and [b.sec.first_line for b in blocks] == [0, 16, 48]


def test_annotation_fields_and_reception_crc_flag():
    (p,) = _packets(1)
    rec = ccsds.annotate(p, RECEPTION, 21)
    a = ccsds.Annotation.unpack(rec)
    assert (a.reception, a.data_length, a.frames, a.missing_frames, a.crc_error, a.vcid) == (
        RECEPTION, len(p) - 7, 1, 0, False, 21)
    bad = bytearray(p)
    bad[-5] ^= 1
    assert ccsds.Annotation.unpack(ccsds.annotate(bytes(bad), RECEPTION, 21)).crc_error
    # a packet the ground station flagged is a CRC error even if its CRC matches
    flagged = bytearray(rec)
    flagged[16] = 1
    blocks, report = ccsds.decode_packets(bytes(flagged), gps_utc_s=ccsds.GPS_UTC_S)
    assert not blocks and report.crc_errors == [0]


def test_granule_names_have_no_index_and_match_the_eopf_glob():
    t = datetime(2023, 3, 20, 10, 48, 41)
    g = l0.granule_name("S2A", t, t, 6)
    assert g == "S2A_OPER_MSI_L0__GR_SIMU_20230320T104841_S20230320T104841_D06_N00.01"
    assert l0.band_file_name(g, "B8A") == "S2A_OPER_MSI_L0__GR_SIMU_20230320T104841_S20230320T104841_D06_B8A.bin"
    assert Path(l0.band_file_name(g, "B02")).match("S2*_D06_B02.bin")


def test_granules_shorter_than_a_second_are_refused():
    from dataclasses import replace

    from ipf.simulator.config import SIZES

    with pytest.raises(ValueError, match="1 s"):
        replace(SIZES["small"], granule_lines_10m=96)
    assert all(c.granule_lines_10m * 99 >= 65536 or c.granule_lines_10m == c.n_lines_10m for c in SIZES.values())
