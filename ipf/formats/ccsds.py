"""MSI L0 instrument source packets and their ground-station records.

Bit layout after ESA EOPF's S2 L0 mapping (offsets in bits from the packet start; every field
and where we differ from that map: docs/l0_format.md)::

    primary header (0-48)
      version 0-3 (=0) | type 3-4 (=0) | secondary header flag 4-5 (=1)
      | APID 5-16: class 5-7 (=0b10, MSI image) | VMC board 7-8 | spare 8-9 | WICOM 9-11
                   | detector bit 11-12 | band 12-16 (4 bits)
      | sequence flags 16-18 | sequence count 18-32 | packet data length 32-48
    system ancillary data (48-128, the secondary header)
      GPS time of the block's first line: coarse u32 (s since 1980-01-06) | fine u16 (2^-16 s)
      | spare u32 (=0)
    compression status (128-144): algorithm 4 bits (1 = DWT53-RICE) | wavelet levels 4 bits
      | quantisation step u8 (saturated at 255)
    instrument ancillary data (144-912, 96 bytes): first line u32 | line count u16 | band
      index u8 | detector u8 | pixels u16 | spare (86 bytes of 0)
    user data (912-): one segment of a compressed image block (ipf.formats.msi_compression)
    packet error control: the last 16 bits, CRC-16-CCITT (poly 0x1021, init 0xFFFF) of every
      preceding byte of the packet

Detector ``d`` (1..12) is ``VMC * 6 + WICOM * 2 + detector bit + 1``. A block larger than
``MAX_USER_DATA`` bytes is split into segments (sequence flags first=1, continuation=0, last=2;
a whole block in one packet has flags 3).

In a band file every packet is preceded by a 20-byte annotation (:class:`Annotation`, ground
reception time, packet data length, frame counts, reception CRC flag, VCID, channel).
:func:`decode_packets` never raises: it reports sequence gaps, CRC errors, annotation errors,
time jumps, truncated data and incomplete segment groups. Time jumps are found against the
datastrip's line clock of each APID (:class:`LineClock`) and re-dated from it (:func:`check_times`).
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np


__all__ = ["EPOCH", "GPS_EPOCH", "GPS_UTC_S", "GPS_TO_EPOCH_S", "PRIMARY", "PRIMARY_SIZE", "HEADER_SIZE",
           "CRC_SIZE", "ANNOTATION", "ANNOTATION_SIZE", "MAX_USER_DATA", "SEQ_CONTINUATION", "SEQ_FIRST",
           "SEQ_LAST", "SEQ_UNSEGMENTED", "SEQ_MODULO", "APID_CLASS_MSI", "ALGORITHM_DWT53_RICE",
           "VCID_MSI", "crc16_ccitt", "apid_for", "apid_fields", "compression_status", "compression_fields",
           "cuc_from_datetime", "datetime_from_cuc", "SecondaryHeader", "build_packet", "packetize",
           "Annotation", "annotate", "Packet", "Block", "LineClock", "DecodeReport", "parse_packets",
           "decode_packets", "check_times", "FaultInjection", "inject_faults"]

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
GPS_EPOCH = datetime(1980, 1, 6, tzinfo=timezone.utc)
GPS_UTC_S = 18
"""GPS - UTC (s), the leap seconds since 2017-01-01 (IERS Bulletin C): the simulator's value.
Decoding never assumes it: the callers pass the datastrip's ``GPS_TIME_UTC``."""
GPS_TO_EPOCH_S = int((EPOCH - GPS_EPOCH).total_seconds())
"""Seconds from the GPS epoch to :data:`EPOCH` without leap seconds."""
PRIMARY = struct.Struct(">HHH")
_SYSTEM = struct.Struct(">IHI")
_INSTRUMENT = struct.Struct(">IHBBH86x")
PRIMARY_SIZE = PRIMARY.size
HEADER_SIZE = _SYSTEM.size + 2 + _INSTRUMENT.size
"""Bytes of the packet data field before the user data (bits 48-912 of the EOPF map)."""
CRC_SIZE = 2
ANNOTATION = struct.Struct(">IIHHHHBBBx")
ANNOTATION_SIZE = ANNOTATION.size
MAX_USER_DATA = 65536 - HEADER_SIZE - CRC_SIZE - 1024
SEQ_CONTINUATION, SEQ_FIRST, SEQ_LAST, SEQ_UNSEGMENTED = 0, 1, 2, 3
SEQ_MODULO = 1 << 14
APID_CLASS_MSI = 0b10
ALGORITHM_DWT53_RICE = 1
VCID_MSI = (20, 21)
"""Virtual channel of the image packets of VMC board 0 and 1 (annotation)."""
_US_PER_DAY = 86_400_000_000


def crc16_ccitt(data: bytes) -> int:
    """CRC-16-CCITT (poly 0x1021, init 0xFFFF, no reflection, no final xor) of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


def apid_for(detector: int, band_index: int) -> int:
    """APID of the packets of ``detector`` (1..12) and ``band_index`` (0..12)."""
    k = detector - 1
    vmc, wicom, bit = k // 6, (k % 6) // 2, k % 2
    return (APID_CLASS_MSI << 9) | (vmc << 8) | (wicom << 5) | (bit << 4) | band_index


def apid_fields(apid: int) -> tuple[int, int]:
    """(detector 1..12, band index) of an MSI image APID (inverse of :func:`apid_for`)."""
    vmc, wicom, bit = (apid >> 8) & 1, (apid >> 5) & 3, (apid >> 4) & 1
    return vmc * 6 + wicom * 2 + bit + 1, apid & 0xF


def compression_status(levels: int, qstep: int, algorithm: int = ALGORITHM_DWT53_RICE) -> int:
    """The 16-bit compression status word: algorithm (4 bits) | levels (4 bits) | qstep (u8)."""
    return ((algorithm & 0xF) << 12) | ((levels & 0xF) << 8) | min(qstep, 255)


def compression_fields(word: int) -> tuple[int, int, int]:
    """(algorithm, wavelet levels, quantisation step) of a compression status word (inverse of
    :func:`compression_status`)."""
    return (word >> 12) & 0xF, (word >> 8) & 0xF, word & 0xFF


def cuc_from_datetime(t: datetime, gps_utc_s: int) -> tuple[int, int]:
    """GPS time (coarse s since 1980-01-06, fine 2^-16 s) of a UTC datetime, GPS - UTC
    ``gps_utc_s`` (s)."""
    us = (t - GPS_EPOCH) // timedelta(microseconds=1) + gps_utc_s * 1_000_000
    coarse, rem = divmod(us, 1_000_000)
    return coarse, min(round(rem * 65536 / 1_000_000), 65535)


def datetime_from_cuc(coarse: int, fine: int, gps_utc_s: int) -> datetime:
    """UTC datetime of a GPS CUC time (inverse of :func:`cuc_from_datetime`, resolution 2^-16 s)."""
    return GPS_EPOCH + timedelta(seconds=coarse - gps_utc_s + fine / 65536)


@dataclass(frozen=True)
class SecondaryHeader:
    """Time (GPS CUC) and image-block identification carried by every packet (system and
    instrument ancillary data, compression status)."""

    coarse: int
    fine: int
    band_index: int
    detector: int
    first_line: int
    n_lines: int
    pixels: int = 0
    compression: int = 0

    def utc_seconds(self, gps_utc_s: int) -> float:
        """Time in s since 2000-01-01T00:00:00 UTC, GPS - UTC ``gps_utc_s`` (s, the datastrip's
        ``GPS_TIME_UTC``)."""
        return (self.coarse - GPS_TO_EPOCH_S - gps_utc_s) + self.fine / 65536

    def pack(self) -> bytes:
        """Bytes 6..114 of the packet (bits 48-912)."""
        return (_SYSTEM.pack(self.coarse, self.fine, 0) + self.compression.to_bytes(2, "big")
                + _INSTRUMENT.pack(self.first_line, self.n_lines, self.band_index, self.detector, self.pixels))

    @classmethod
    def unpack(cls, buffer: bytes, offset: int) -> SecondaryHeader:
        """The header of the packet starting at ``offset``."""
        coarse, fine, _ = _SYSTEM.unpack_from(buffer, offset + PRIMARY_SIZE)
        compression = int.from_bytes(buffer[offset + PRIMARY_SIZE + 10:offset + PRIMARY_SIZE + 12], "big")
        first, n, band, det, pixels = _INSTRUMENT.unpack_from(buffer, offset + PRIMARY_SIZE + 12)
        return cls(coarse, fine, band, det, first, n, pixels, compression)


def build_packet(apid: int, seq_flags: int, seq_count: int, sec: SecondaryHeader,
                 user_data: bytes) -> bytes:
    """One space packet (primary header, ancillary data, user data, CRC)."""
    length = HEADER_SIZE + len(user_data) + CRC_SIZE - 1
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"packet data field too long: {length + 1} bytes")
    word0 = (0 << 13) | (0 << 12) | (1 << 11) | (apid & 0x7FF)
    word1 = ((seq_flags & 3) << 14) | (seq_count % SEQ_MODULO)
    body = PRIMARY.pack(word0, word1, length) + sec.pack() + user_data
    return body + crc16_ccitt(body).to_bytes(2, "big")


def packetize(block: bytes, apid: int, seq_count: int, sec: SecondaryHeader,
              max_user_data: int = MAX_USER_DATA) -> list[bytes]:
    """Split one compressed block into packets; sequence counts start at ``seq_count``."""
    chunks = [block[i:i + max_user_data] for i in range(0, max(len(block), 1), max_user_data)]
    if len(chunks) == 1:
        return [build_packet(apid, SEQ_UNSEGMENTED, seq_count, sec, chunks[0])]
    flags = [SEQ_FIRST] + [SEQ_CONTINUATION] * (len(chunks) - 2) + [SEQ_LAST]
    return [build_packet(apid, f, seq_count + i, sec, c) for i, (f, c) in enumerate(zip(flags, chunks))]


@dataclass(frozen=True)
class Annotation:
    """The 20-byte ground annotation before each packet of a band file: reception time (UTC,
    days since 2000-01-01 u32, ms of day u32, µs u16), packet data length u16 (as in the
    packet's primary header), transfer frames u16, missing frames u16, CRC error found at
    reception u8, VCID u8, channel u8, spare u8."""

    reception: datetime | None
    data_length: int
    frames: int = 1
    missing_frames: int = 0
    crc_error: bool = False
    vcid: int = 0
    channel: int = 1

    def pack(self) -> bytes:
        """The 20 bytes."""
        us = (self.reception - EPOCH) // timedelta(microseconds=1)
        days, rest = divmod(us, _US_PER_DAY)
        ms, us = divmod(rest, 1000)
        return ANNOTATION.pack(days, ms, us, self.data_length, self.frames, self.missing_frames,
                               int(self.crc_error), self.vcid, self.channel)

    @classmethod
    def unpack(cls, buffer: bytes, offset: int = 0) -> Annotation:
        """The annotation at ``offset``."""
        days, ms, us, length, frames, missing, crc, vcid, channel = ANNOTATION.unpack_from(buffer, offset)
        try:
            reception = EPOCH + timedelta(days=days, milliseconds=ms, microseconds=us)
        except OverflowError:
            reception = None
        return cls(reception, length, frames, missing, bool(crc), vcid, channel)


def annotate(packet: bytes, reception: datetime, vcid: int, channel: int = 1) -> bytes:
    """The record of ``packet`` in a band file: its :class:`Annotation` then the packet. The
    reception CRC flag is the packet's own CRC check."""
    length = int.from_bytes(packet[4:6], "big")
    crc_error = len(packet) < PRIMARY_SIZE + CRC_SIZE or crc16_ccitt(packet[:-CRC_SIZE]) != int.from_bytes(
        packet[-CRC_SIZE:], "big")
    return Annotation(reception, length, crc_error=crc_error, vcid=vcid, channel=channel).pack() + packet


@dataclass
class Packet:
    """A parsed packet; ``crc_ok`` False when the stored CRC does not match or the annotation
    says the ground station found a CRC error; ``annotation_ok`` False when the annotation's
    packet length disagrees with the packet's."""

    apid: int
    seq_flags: int
    seq_count: int
    sec: SecondaryHeader | None
    user_data: bytes
    crc_ok: bool
    offset: int
    annotation: Annotation | None = None
    annotation_ok: bool = True


@dataclass
class Block:
    """A reassembled image block with its quality flags.

    ``time`` is the datation of its first line (s since 2000-01-01T00:00:00 UTC): the packet's
    GPS time in UTC (:meth:`SecondaryHeader.utc_seconds` with the datastrip's GPS - UTC), or the
    line clock's time when the block was re-dated (flag ``"redated"``, see :func:`check_times`).
    """

    apid: int
    sec: SecondaryHeader
    data: bytes
    time: float
    flags: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class LineClock:
    """Expected datation of the image lines of one APID, from the datastrip:
    ``t(line) = t0 + line * period`` (t0 in s since 2000-01-01T00:00:00 UTC, period in s)."""

    t0: float
    period: float

    def time(self, line: int) -> float:
        """Expected time (s since 2000-01-01T00:00:00 UTC) of image line ``line``."""
        return self.t0 + line * self.period


@dataclass
class DecodeReport:
    """What :func:`decode_packets` found in a packet stream. ``foreign_packets``: well-formed
    packets too short to be MSI image packets (idle packets, other APIDs), skipped; not a fault
    and not in ``n_packets``."""

    n_packets: int = 0
    crc_errors: list[int] = field(default_factory=list)
    annotation_errors: list[int] = field(default_factory=list)
    sequence_gaps: list[tuple[int, int, int]] = field(default_factory=list)
    time_jumps: list[tuple[int, int, float]] = field(default_factory=list)
    time_jumps_dropped: int = 0
    incomplete_groups: int = 0
    truncated: bool = False
    foreign_packets: int = 0

    @property
    def lost_packets(self) -> int:
        """Packets missing from the sequence counts (sum of the gaps, modulo 2^14)."""
        return sum((found - expected) % SEQ_MODULO for _, expected, found in self.sequence_gaps)

    @property
    def ok(self) -> bool:
        """True when no fault was found."""
        return not (self.crc_errors or self.annotation_errors or self.sequence_gaps or self.time_jumps
                    or self.incomplete_groups or self.truncated)

    def as_dict(self) -> dict:
        """JSON-friendly summary (the counts of :class:`ipf.products.datastrip.PacketQuality`;
        annotation errors are counted with the CRC errors: the record is corrupted)."""
        return {"n_packets": self.n_packets,
                "crc_errors": len(set(self.crc_errors) | set(self.annotation_errors)),
                "sequence_gaps": len(self.sequence_gaps), "lost_packets": self.lost_packets,
                "time_jumps": len(self.time_jumps),
                "time_jumps_redated": len(self.time_jumps) - self.time_jumps_dropped,
                "time_jumps_dropped": self.time_jumps_dropped,
                "incomplete_groups": self.incomplete_groups, "truncated": self.truncated,
                "foreign_packets": self.foreign_packets}


def _packet_end(buffer: bytes, pos: int) -> int | None:
    """End of the packet starting at ``pos`` by its primary header, None when it cannot hold one."""
    if pos + PRIMARY_SIZE > len(buffer):
        return None
    length = PRIMARY.unpack_from(buffer, pos)[2]
    end = pos + PRIMARY_SIZE + length + 1
    return end if end <= len(buffer) and length + 1 >= HEADER_SIZE + CRC_SIZE else None


def _foreign_end(buffer: bytes, p: int, annotation: Annotation | None) -> int | None:
    """End of the packet at ``p`` when it is well formed but too short for the MSI ancillary
    data (idle packet, another APID): inside the buffer, of the length its annotation gives, and
    followed by a record (or the end); else None."""
    if p + PRIMARY_SIZE > len(buffer):
        return None
    length = PRIMARY.unpack_from(buffer, p)[2]
    end = p + PRIMARY_SIZE + length + 1
    if end > len(buffer) or length + 1 >= HEADER_SIZE + CRC_SIZE:
        return None
    if annotation is not None and (annotation.data_length != length or not _record_fits(buffer, end)):
        return None
    return end


def _record_fits(buffer: bytes, pos: int) -> bool:
    """Whether a record (annotation + packet of the length it gives) starts at ``pos``."""
    if pos == len(buffer):
        return True
    if pos + ANNOTATION_SIZE + PRIMARY_SIZE > len(buffer):
        return False
    length = ANNOTATION.unpack_from(buffer, pos)[3]
    p = pos + ANNOTATION_SIZE
    return PRIMARY.unpack_from(buffer, p)[2] == length and _packet_end(buffer, p) is not None


def parse_packets(buffer: bytes, report: DecodeReport | None = None, annotated: bool = True) -> list[Packet]:
    """Split a band file (records of a 20-byte annotation and a packet; with ``annotated``
    False a bare packet stream) into packets, checking CRCs and annotation lengths.

    A record whose annotation length disagrees with its packet is flagged; reading goes on at
    the end given by the packet's length, else by the annotation's, whichever is followed by a
    record (or the end). A well-formed packet too short for the MSI ancillary data (idle packet,
    another APID) is skipped by its length and counted (``report.foreign_packets``). Only a
    record whose end lies past the buffer stops the parsing (``report.truncated``).
    """
    report = report if report is not None else DecodeReport()
    out: list[Packet] = []
    skip = ANNOTATION_SIZE if annotated else 0
    pos, n = 0, len(buffer)
    while pos < n:
        annotation = None
        if annotated:
            if pos + ANNOTATION_SIZE > n:
                report.truncated = True
                break
            annotation = Annotation.unpack(buffer, pos)
        p = pos + skip
        foreign = _foreign_end(buffer, p, annotation)
        if foreign is not None:
            report.foreign_packets += 1
            pos = foreign
            continue
        end = _packet_end(buffer, p)
        annotation_ok = annotation is None or (end is not None and annotation.data_length == end - p - PRIMARY_SIZE - 1)
        if not annotation_ok:
            by_annotation = p + PRIMARY_SIZE + annotation.data_length + 1
            if end is None or not _record_fits(buffer, end):
                end = by_annotation if _record_fits(buffer, by_annotation) and by_annotation <= n else None
            if end is None or end - p < PRIMARY_SIZE + HEADER_SIZE + CRC_SIZE:
                report.annotation_errors.append(pos)
                report.truncated = True
                break
        elif end is None:
            report.truncated = True
            break
        w0, w1, _ = PRIMARY.unpack_from(buffer, p)
        crc_ok = (crc16_ccitt(buffer[p:end - CRC_SIZE]) == int.from_bytes(buffer[end - 2:end], "big")
                  and not (annotation is not None and annotation.crc_error))
        sec = SecondaryHeader.unpack(buffer, p) if (w0 >> 11) & 1 else None
        pkt = Packet(apid=w0 & 0x7FF, seq_flags=w1 >> 14, seq_count=w1 & 0x3FFF, sec=sec,
                     user_data=bytes(buffer[p + PRIMARY_SIZE + HEADER_SIZE:end - CRC_SIZE]),
                     crc_ok=crc_ok, offset=pos, annotation=annotation, annotation_ok=annotation_ok)
        if not crc_ok:
            report.crc_errors.append(pos)
        if not annotation_ok:
            report.annotation_errors.append(pos)
        out.append(pkt)
        report.n_packets += 1
        pos = end
    return out


def decode_packets(buffer: bytes, clocks: Mapping[int, LineClock] | None = None,
                   time_tolerance: float = 0.25, annotated: bool = True, *,
                   gps_utc_s: int) -> tuple[list[Block], DecodeReport]:
    """Parse a band file (:func:`parse_packets`) and reassemble its image blocks.

    clocks: the expected line datation of each APID (:func:`ipf.formats.l0.line_clocks` of the
    datastrip); the times of the blocks of an APID without a clock are not checked.
    time_tolerance: see :func:`check_times`; gps_utc_s: GPS - UTC (s) of the packet times, the
    datastrip's ``GPS_TIME_UTC`` (:func:`ipf.formats.l0.decode_granule_band` passes it).
    Returns the usable blocks (segment groups with a CRC or annotation error or a missing
    segment, and time-jumped blocks whose lines an on-time block also claims, are dropped and
    counted) and the report. Never raises.
    """
    report = DecodeReport()
    packets = parse_packets(buffer, report, annotated)
    last_count: dict[int, int] = {}
    for p in packets:
        if p.apid in last_count:
            expected = (last_count[p.apid] + 1) % SEQ_MODULO
            if p.seq_count != expected:
                report.sequence_gaps.append((p.apid, expected, p.seq_count))
        last_count[p.apid] = p.seq_count

    blocks: list[Block] = []
    group: list[Packet] = []
    for p in packets:
        if p.seq_flags in (SEQ_UNSEGMENTED, SEQ_FIRST) and group:
            report.incomplete_groups += 1
            group = []
        if p.seq_flags in (SEQ_CONTINUATION, SEQ_LAST) and (not group or group[-1].apid != p.apid
                                                            or group[-1].seq_count + 1 != p.seq_count):
            report.incomplete_groups += 1
            group = []
            continue
        group.append(p)
        if p.seq_flags in (SEQ_UNSEGMENTED, SEQ_LAST):
            if all(g.crc_ok and g.annotation_ok and g.sec is not None for g in group):
                sec = group[0].sec
                blocks.append(Block(apid=p.apid, sec=sec, data=b"".join(g.user_data for g in group),
                                    time=sec.utc_seconds(gps_utc_s)))
            group = []
    if group:
        report.incomplete_groups += 1
    return check_times(blocks, clocks or {}, report, time_tolerance), report


def check_times(blocks: list[Block], clocks: Mapping[int, LineClock], report: DecodeReport,
                time_tolerance: float = 0.25) -> list[Block]:
    """Find the time jumps of ``blocks`` against the line clocks and re-date them.

    A block of an APID with a clock is a time jump when its packet time (``Block.time`` before
    this call) differs from the clock's time of its first line by more than ``time_tolerance``
    line periods; each block is checked on its own, so a stream of one packet, or one where
    most blocks jumped, is judged correctly. Its CRC is good (groups with a CRC error never
    become blocks), so its line counter is trusted unless an on-time block of the same APID
    claims one of its lines: then the jumped block is dropped (its lines come from the on-time
    block) and counted in ``report.time_jumps_dropped``. Otherwise it is re-dated from the
    clock (``time`` set, flags ``"time-jump"`` and ``"redated"``) and its lines stay valid: no
    hole, no wrong date. Every jump is listed in ``report.time_jumps`` as (APID, first line,
    offset s). Returns the blocks kept, in stream order.
    """
    jumped: list[Block] = []
    claimed: dict[int, set[int]] = {}
    for b in blocks:
        clock = clocks.get(b.apid)
        if clock is None:
            continue
        offset = b.time - clock.time(b.sec.first_line)
        if abs(offset) > time_tolerance * clock.period:
            report.time_jumps.append((b.apid, b.sec.first_line, offset))
            b.flags.add("time-jump")
            jumped.append(b)
        else:
            claimed.setdefault(b.apid, set()).update(range(b.sec.first_line,
                                                           b.sec.first_line + b.sec.n_lines))
    dropped: set[int] = set()
    for b in jumped:
        lines = range(b.sec.first_line, b.sec.first_line + b.sec.n_lines)
        if claimed.get(b.apid, set()).intersection(lines):
            dropped.add(id(b))
            continue
        b.time = clocks[b.apid].time(b.sec.first_line)
        b.flags.add("redated")
    report.time_jumps_dropped += len(dropped)
    return [b for b in blocks if id(b) not in dropped]


@dataclass(frozen=True)
class FaultInjection:
    """Faults to inject in a packet list: probabilities per packet and a time offset in s."""

    lost_packet_rate: float = 0.0
    crc_error_rate: float = 0.0
    time_jump_rate: float = 0.0
    time_jump_s: float = 0.05

    @property
    def active(self) -> bool:
        return bool(self.lost_packet_rate or self.crc_error_rate or self.time_jump_rate)


def inject_faults(packets: list[bytes], faults: FaultInjection,
                  rng: np.random.Generator) -> tuple[list[bytes], dict[str, list[int]]]:
    """Apply ``faults`` to a list of packets (without annotations); returns (packets, indices
    of each fault kind).

    A time jump rewrites the GPS time of the system ancillary data and recomputes the CRC (the
    packet stays valid, only its datation is wrong); a CRC error flips one bit of the user data.
    """
    out: list[bytes] = []
    log: dict[str, list[int]] = {"lost": [], "crc": [], "time_jump": []}
    for i, pkt in enumerate(packets):
        u = rng.random(3)
        if u[0] < faults.lost_packet_rate:
            log["lost"].append(i)
            continue
        if u[2] < faults.time_jump_rate:
            coarse, fine = struct.unpack_from(">IH", pkt, PRIMARY_SIZE)
            t = coarse + fine / 65536 + faults.time_jump_s
            new = bytearray(pkt)
            struct.pack_into(">IH", new, PRIMARY_SIZE, int(t), min(int(round((t % 1) * 65536)), 65535))
            new[-2:] = crc16_ccitt(bytes(new[:-2])).to_bytes(2, "big")
            pkt = bytes(new)
            log["time_jump"].append(i)
        if u[1] < faults.crc_error_rate:
            new = bytearray(pkt)
            start = PRIMARY_SIZE + HEADER_SIZE
            pos = start + int(rng.integers(0, max(len(pkt) - start - CRC_SIZE, 1)))
            new[pos] ^= 1 << int(rng.integers(0, 8))
            pkt = bytes(new)
            log["crc"].append(i)
        out.append(pkt)
    return out, log
