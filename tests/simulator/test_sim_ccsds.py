from datetime import datetime, timezone

import numpy as np

from ipf.formats import ccsds


APID = ccsds.apid_for(7, 8)
CLOCK = {APID: ccsds.LineClock(700_000_000.0, 99 / 65536)}  # the line clock of _stream
GPS_700M = 700_000_000 + ccsds.GPS_TO_EPOCH_S + ccsds.GPS_UTC_S  # GPS coarse time of 700 000 000 s UTC
RECEPTION = datetime(2023, 3, 20, 11, tzinfo=timezone.utc)


def _file(packets):
    """A band file of ``packets``: annotation + packet records."""
    return b"".join(ccsds.annotate(p, RECEPTION, 20) for p in packets)


def _stream(n_blocks=20, size=500, apid=None, seg_max=ccsds.MAX_USER_DATA):
    rng = np.random.default_rng(0)
    apid = apid or ccsds.apid_for(7, 8)
    packets, seq = [], 0
    for i in range(n_blocks):
        sec = ccsds.SecondaryHeader(GPS_700M + (i * 16 * 99) // 65536, (i * 16 * 99) % 65536, 8, 7, 16 * i, 16)
        pk = ccsds.packetize(rng.bytes(size), apid, seq, sec, seg_max)
        seq += len(pk)
        packets += pk
    return packets


def test_primary_header_fields_and_crc():
    sec = ccsds.SecondaryHeader(1, 2, 3, 4, 5, 6)
    pkt = ccsds.build_packet(ccsds.apid_for(4, 3), ccsds.SEQ_UNSEGMENTED, 16385, sec, b"abc")
    w0, w1, length = ccsds.PRIMARY.unpack_from(pkt)
    assert w0 >> 13 == 0 and (w0 >> 12) & 1 == 0 and (w0 >> 11) & 1 == 1
    # APID: class 0b10 | VMC 0 | spare | WICOM 1 | detector bit 1 | band 3 (detector 4 = 0*6 + 1*2 + 1 + 1)
    assert w0 & 0x7FF == 0b10_0_0_01_1_0011
    assert ccsds.apid_fields(w0 & 0x7FF) == (4, 3)
    assert ccsds.SecondaryHeader.unpack(pkt, 0) == sec
    assert w1 >> 14 == 3 and w1 & 0x3FFF == 1
    assert length == len(pkt) - 7
    assert ccsds.crc16_ccitt(b"123456789") == 0x29B1
    assert ccsds.crc16_ccitt(pkt[:-2]) == int.from_bytes(pkt[-2:], "big")


def test_clean_stream_decodes_with_valid_crcs():
    blocks, report = ccsds.decode_packets(_file(_stream()), gps_utc_s=ccsds.GPS_UTC_S)
    assert report.ok and report.n_packets == 20 and len(blocks) == 20
    assert [b.sec.first_line for b in blocks] == [16 * i for i in range(20)]


def test_segmentation_reassembles_blocks():
    packets = _stream(n_blocks=5, size=2500, seg_max=1000)
    assert len(packets) == 15
    blocks, report = ccsds.decode_packets(_file(packets), gps_utc_s=ccsds.GPS_UTC_S)
    assert report.ok and len(blocks) == 5 and all(len(b.data) == 2500 for b in blocks)


def test_cuc_time_round_trip():
    t = datetime(2023, 3, 20, 10, 48, 42, 500000, tzinfo=timezone.utc)
    assert abs((ccsds.datetime_from_cuc(*ccsds.cuc_from_datetime(t, 18), 18) - t).total_seconds()) < 2e-5


def test_injected_faults_are_detected():
    rng = np.random.default_rng(3)
    packets = _stream(60)
    faulty, log = ccsds.inject_faults(packets, ccsds.FaultInjection(0.1, 0.1, 0.1, 0.05), rng)
    assert log["lost"] and log["crc"] and log["time_jump"]
    blocks, report = ccsds.decode_packets(_file(faulty), CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert not report.ok
    assert len(report.crc_errors) == len(log["crc"])
    assert len(report.sequence_gaps) >= 1
    received = sorted(set(range(60)) - set(log["lost"]))
    # a loss before the first received packet leaves no gap in the sequence counts
    assert report.lost_packets == sum(received[0] < i < received[-1] for i in log["lost"])
    jumped = {16 * i for i in log["time_jump"]} - {16 * i for i in log["crc"]} - {16 * i for i in log["lost"]}
    assert jumped and jumped == {line for _, line, _ in report.time_jumps}
    assert len(blocks) == 60 - len(log["lost"]) - len(log["crc"])
    # re-dated from the clock: every kept block has the date of its line, the jumped ones flagged
    assert all(abs(b.time - CLOCK[APID].time(b.sec.first_line)) < 1e-6 for b in blocks)
    assert {b.sec.first_line for b in blocks if "redated" in b.flags} == jumped


def _jump(packet: bytes, seconds: float) -> bytes:
    out, _ = ccsds.inject_faults([packet], ccsds.FaultInjection(time_jump_rate=1.0, time_jump_s=seconds),
                                 np.random.default_rng(0))
    return out[0]


def test_time_jump_in_a_single_packet_stream_is_redated():
    (packet,) = _stream(1)
    blocks, report = ccsds.decode_packets(_file([_jump(packet, 0.05)]), CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert [(a, line) for a, line, _ in report.time_jumps] == [(APID, 0)]
    assert abs(report.time_jumps[0][2] - 0.05) < 1e-4
    (block,) = blocks
    assert {"time-jump", "redated"} <= block.flags
    assert block.time == CLOCK[APID].time(0) and block.sec.utc_seconds(ccsds.GPS_UTC_S) != block.time
    assert report.as_dict()["time_jumps_redated"] == 1 and not report.ok
    # without the datastrip's clock the times are not checked
    blocks, report = ccsds.decode_packets(_file([_jump(packet, 0.05)]), gps_utc_s=ccsds.GPS_UTC_S)
    assert report.ok and blocks[0].time == blocks[0].sec.utc_seconds(ccsds.GPS_UTC_S)


def test_time_jumps_of_most_blocks_flag_exactly_those():
    """A jump shared by most blocks of a stream: each block is judged against the clock, not
    against the others (a per-stream median would flag the on-time blocks)."""
    packets = _stream(5)
    faulty = [_jump(p, 0.02) if i in (0, 1, 3) else p for i, p in enumerate(packets)]
    blocks, report = ccsds.decode_packets(_file(faulty), CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert sorted(line for _, line, _ in report.time_jumps) == [0, 16, 48]
    assert [b.time for b in blocks] == [CLOCK[APID].time(16 * i) for i in range(5)]
    # a jump below the tolerance (a quarter of a line period) is not one
    small = [_jump(p, 0.2 * CLOCK[APID].period) for p in packets]
    _, report = ccsds.decode_packets(_file(small), CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert report.ok


def test_jumped_duplicate_of_an_on_time_block_is_dropped():
    packets = _stream(3)
    blocks, report = ccsds.decode_packets(_file(packets + [_jump(packets[1], 0.05)]), CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert report.time_jumps_dropped == 1 and report.as_dict()["time_jumps_redated"] == 0
    assert [b.sec.first_line for b in blocks] == [0, 16, 32]
    assert not any(b.flags for b in blocks)


def test_garbage_and_truncation_never_raise():
    data = _file(_stream(5))
    _, report = ccsds.decode_packets(data[:-7], gps_utc_s=ccsds.GPS_UTC_S)
    assert report.truncated
    blocks, report = ccsds.decode_packets(np.random.default_rng(0).bytes(5000), gps_utc_s=ccsds.GPS_UTC_S)
    assert not report.ok


def test_short_foreign_packet_is_skipped_not_taken_as_the_end():
    """An idle packet (APID 0x7FF, too short for the MSI ancillary data) after the first of four
    image records is skipped by its length: the four blocks decode, nothing is truncated."""
    idle = ccsds.PRIMARY.pack((1 << 11) | 0x7FF, (3 << 14), 9) + bytes(10)
    records = [ccsds.annotate(p, RECEPTION, 20) for p in _stream(n_blocks=4)]
    data = records[0] + ccsds.annotate(idle, RECEPTION, 20) + b"".join(records[1:])
    blocks, report = ccsds.decode_packets(data, CLOCK, gps_utc_s=ccsds.GPS_UTC_S)
    assert len(blocks) == 4 and not report.truncated and report.ok
    assert report.foreign_packets == 1 and report.n_packets == 4
    assert report.as_dict()["foreign_packets"] == 1
    bare, report = ccsds.decode_packets(b"".join(_stream(n_blocks=2)[:1]) + idle + _stream(n_blocks=2)[1],
                                        annotated=False, gps_utc_s=ccsds.GPS_UTC_S)
    assert len(bare) == 2 and report.foreign_packets == 1 and not report.truncated
