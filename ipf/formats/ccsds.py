"""MSI L0 instrument source packets: CCSDS space packets with a CUC time secondary header.

Layout (CCSDS 133.0-B-2 space packet, big-endian; details in docs/ccsds_packets.md)::

    primary header (6 bytes)
      version 3 bits (=0) | type 1 bit (=0, telemetry) | secondary header flag 1 bit (=1)
      | APID 11 bits | sequence flags 2 bits | sequence count 14 bits | data length 16 bits
      (data length = number of bytes of the packet data field - 1)
    secondary header (14 bytes)
      coarse time u32 (s since 2000-01-01T00:00:00 UTC) | fine time u16 (2^-16 s)
      | band index u8 (0..12, B01..B12 with B8A = 8) | detector u8 (1..12)
      | first line u32 (index of the first image line of the block) | line count u16
    user data: one segment of a compressed image block (see ipf.formats.msi_compression)
    packet error control: CRC-16-CCITT (poly 0x1021, init 0xFFFF) of all preceding bytes

The APID encodes (detector, band): ``APID = 0x100 | (detector - 1) << 4 | band_index``. A block
larger than ``MAX_USER_DATA`` bytes is split into segments (sequence flags first=1,
continuation=0, last=2; a whole block in one packet has flags 3).

:func:`decode_packets` never raises: it reports sequence gaps, CRC errors, time jumps, truncated
data and incomplete segment groups as flags. Time jumps are found against the datastrip's line
clock of each APID (:class:`LineClock`) and re-dated from it (see :func:`check_times`).
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np


__all__ = ["EPOCH", "PRIMARY", "SECONDARY", "PRIMARY_SIZE", "SECONDARY_SIZE", "CRC_SIZE", "MAX_USER_DATA",
           "SEQ_CONTINUATION", "SEQ_FIRST", "SEQ_LAST", "SEQ_UNSEGMENTED", "SEQ_MODULO", "APID_BASE",
           "crc16_ccitt", "apid_for", "cuc_from_datetime", "datetime_from_cuc", "SecondaryHeader",
           "build_packet", "packetize", "Packet", "Block", "LineClock", "DecodeReport", "parse_packets",
           "decode_packets", "check_times", "FaultInjection", "inject_faults"]

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
PRIMARY = struct.Struct(">HHH")
SECONDARY = struct.Struct(">IHBBIH")
PRIMARY_SIZE = PRIMARY.size
SECONDARY_SIZE = SECONDARY.size
CRC_SIZE = 2
MAX_USER_DATA = 65536 - SECONDARY_SIZE - CRC_SIZE - 1024
SEQ_CONTINUATION, SEQ_FIRST, SEQ_LAST, SEQ_UNSEGMENTED = 0, 1, 2, 3
SEQ_MODULO = 1 << 14
APID_BASE = 0x100


def crc16_ccitt(data: bytes) -> int:
    """CRC-16-CCITT (poly 0x1021, init 0xFFFF, no reflection, no final xor) of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


def apid_for(detector: int, band_index: int) -> int:
    """APID of the packets of ``detector`` (1..12) and ``band_index`` (0..12)."""
    return APID_BASE | ((detector - 1) << 4) | band_index


def cuc_from_datetime(t: datetime) -> tuple[int, int]:
    """(coarse s, fine 2^-16 s) of a UTC datetime, counted from 2000-01-01T00:00:00 UTC."""
    us = (t - EPOCH) // timedelta(microseconds=1)
    coarse, rem = divmod(us, 1_000_000)
    return coarse, min(round(rem * 65536 / 1_000_000), 65535)


def datetime_from_cuc(coarse: int, fine: int) -> datetime:
    """Inverse of :func:`cuc_from_datetime` (resolution 2^-16 s ≈ 15 µs)."""
    return EPOCH + timedelta(seconds=coarse + fine / 65536)


@dataclass(frozen=True)
class SecondaryHeader:
    """Time and image-block identification carried by every packet."""

    coarse: int
    fine: int
    band_index: int
    detector: int
    first_line: int
    n_lines: int

    @property
    def seconds(self) -> float:
        """Time in s since 2000-01-01T00:00:00 UTC."""
        return self.coarse + self.fine / 65536


def build_packet(apid: int, seq_flags: int, seq_count: int, sec: SecondaryHeader,
                 user_data: bytes) -> bytes:
    """One space packet (primary + secondary header + user data + CRC)."""
    length = SECONDARY_SIZE + len(user_data) + CRC_SIZE - 1
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"packet data field too long: {length + 1} bytes")
    word0 = (0 << 13) | (0 << 12) | (1 << 11) | (apid & 0x7FF)
    word1 = ((seq_flags & 3) << 14) | (seq_count % SEQ_MODULO)
    body = (PRIMARY.pack(word0, word1, length)
            + SECONDARY.pack(sec.coarse, sec.fine, sec.band_index, sec.detector,
                             sec.first_line, sec.n_lines)
            + user_data)
    return body + crc16_ccitt(body).to_bytes(2, "big")


def packetize(block: bytes, apid: int, seq_count: int, sec: SecondaryHeader,
              max_user_data: int = MAX_USER_DATA) -> list[bytes]:
    """Split one compressed block into packets; sequence counts start at ``seq_count``."""
    chunks = [block[i:i + max_user_data] for i in range(0, max(len(block), 1), max_user_data)]
    if len(chunks) == 1:
        return [build_packet(apid, SEQ_UNSEGMENTED, seq_count, sec, chunks[0])]
    flags = [SEQ_FIRST] + [SEQ_CONTINUATION] * (len(chunks) - 2) + [SEQ_LAST]
    return [build_packet(apid, f, seq_count + i, sec, c) for i, (f, c) in enumerate(zip(flags, chunks))]


@dataclass
class Packet:
    """A parsed packet; ``crc_ok`` False when the stored CRC does not match."""

    apid: int
    seq_flags: int
    seq_count: int
    sec: SecondaryHeader | None
    user_data: bytes
    crc_ok: bool
    offset: int


@dataclass
class Block:
    """A reassembled image block with its quality flags.

    ``time`` is the datation of its first line (s since 2000-01-01T00:00:00 UTC): the
    secondary-header time, or the line clock's time when the block was re-dated (flag
    ``"redated"``, see :func:`check_times`).
    """

    apid: int
    sec: SecondaryHeader
    data: bytes
    flags: set[str] = field(default_factory=set)
    time: float = float("nan")

    def __post_init__(self) -> None:
        if self.time != self.time:
            self.time = self.sec.seconds


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
    """What :func:`decode_packets` found in a packet stream."""

    n_packets: int = 0
    crc_errors: list[int] = field(default_factory=list)
    sequence_gaps: list[tuple[int, int, int]] = field(default_factory=list)
    time_jumps: list[tuple[int, int, float]] = field(default_factory=list)
    time_jumps_dropped: int = 0
    incomplete_groups: int = 0
    truncated: bool = False

    @property
    def lost_packets(self) -> int:
        """Packets missing from the sequence counts (sum of the gaps, modulo 2^14)."""
        return sum((found - expected) % SEQ_MODULO for _, expected, found in self.sequence_gaps)

    @property
    def ok(self) -> bool:
        """True when no fault was found."""
        return not (self.crc_errors or self.sequence_gaps or self.time_jumps
                    or self.incomplete_groups or self.truncated)

    def as_dict(self) -> dict:
        """JSON-friendly summary."""
        return {"n_packets": self.n_packets, "crc_errors": len(self.crc_errors),
                "sequence_gaps": len(self.sequence_gaps), "lost_packets": self.lost_packets,
                "time_jumps": len(self.time_jumps),
                "time_jumps_redated": len(self.time_jumps) - self.time_jumps_dropped,
                "time_jumps_dropped": self.time_jumps_dropped,
                "incomplete_groups": self.incomplete_groups, "truncated": self.truncated}


def parse_packets(buffer: bytes, report: DecodeReport | None = None) -> list[Packet]:
    """Split a byte stream into packets, checking CRCs; stops (flagging) on a truncated tail."""
    report = report if report is not None else DecodeReport()
    out: list[Packet] = []
    pos, n = 0, len(buffer)
    while pos < n:
        if pos + PRIMARY_SIZE > n:
            report.truncated = True
            break
        w0, w1, length = PRIMARY.unpack_from(buffer, pos)
        end = pos + PRIMARY_SIZE + length + 1
        if end > n or length + 1 < SECONDARY_SIZE + CRC_SIZE:
            report.truncated = True
            break
        crc_ok = crc16_ccitt(buffer[pos:end - CRC_SIZE]) == int.from_bytes(buffer[end - 2:end], "big")
        sec = SecondaryHeader(*SECONDARY.unpack_from(buffer, pos + PRIMARY_SIZE)) if (w0 >> 11) & 1 else None
        pkt = Packet(apid=w0 & 0x7FF, seq_flags=w1 >> 14, seq_count=w1 & 0x3FFF, sec=sec,
                     user_data=bytes(buffer[pos + PRIMARY_SIZE + SECONDARY_SIZE:end - CRC_SIZE]),
                     crc_ok=crc_ok, offset=pos)
        if not crc_ok:
            report.crc_errors.append(pos)
        out.append(pkt)
        report.n_packets += 1
        pos = end
    return out


def decode_packets(buffer: bytes, clocks: Mapping[int, LineClock] | None = None,
                   time_tolerance: float = 0.25) -> tuple[list[Block], DecodeReport]:
    """Parse a packet stream and reassemble its image blocks.

    clocks: the expected line datation of each APID (:func:`ipf.formats.l0.line_clocks` of the
    datastrip); the times of the blocks of an APID without a clock are not checked.
    time_tolerance: see :func:`check_times`. Returns the usable blocks (segment groups with a
    CRC error or a missing segment, and time-jumped blocks whose lines an on-time block also
    claims, are dropped and counted) and the report. Never raises.
    """
    report = DecodeReport()
    packets = parse_packets(buffer, report)
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
            if all(g.crc_ok and g.sec is not None for g in group):
                blocks.append(Block(apid=p.apid, sec=group[0].sec,
                                    data=b"".join(g.user_data for g in group)))
            group = []
    if group:
        report.incomplete_groups += 1
    return check_times(blocks, clocks or {}, report, time_tolerance), report


def check_times(blocks: list[Block], clocks: Mapping[int, LineClock], report: DecodeReport,
                time_tolerance: float = 0.25) -> list[Block]:
    """Find the time jumps of ``blocks`` against the line clocks and re-date them.

    A block of an APID with a clock is a time jump when its secondary-header time differs from
    the clock's time of its first line by more than ``time_tolerance`` line periods; each block
    is checked on its own, so a stream of one packet, or one where most blocks jumped, is
    judged correctly. Its CRC is good (groups with a CRC error never become blocks), so its line
    counter is trusted unless an on-time block of the same APID claims one of its lines: then
    the jumped block is dropped (its lines come from the on-time block) and counted in
    ``report.time_jumps_dropped``. Otherwise it is re-dated from the clock (``time`` set, flags
    ``"time-jump"`` and ``"redated"``) and its lines stay valid: no hole, no wrong date.
    Every jump is listed in ``report.time_jumps`` as (APID, first line, offset s).
    Returns the blocks kept, in stream order.
    """
    jumped: list[Block] = []
    claimed: dict[int, set[int]] = {}
    for b in blocks:
        clock = clocks.get(b.apid)
        if clock is None:
            continue
        offset = b.sec.seconds - clock.time(b.sec.first_line)
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
    """Apply ``faults`` to a list of packets; returns (packets, indices of each fault kind).

    A time jump rewrites the secondary-header time and recomputes the CRC (the packet stays
    valid, only its datation is wrong); a CRC error flips one bit of the user data.
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
            pos = PRIMARY_SIZE + SECONDARY_SIZE + int(rng.integers(0, max(len(pkt) - PRIMARY_SIZE - SECONDARY_SIZE - CRC_SIZE, 1)))
            new[pos] ^= 1 << int(rng.integers(0, 8))
            pkt = bytes(new)
            log["crc"].append(i)
        out.append(pkt)
    return out, log
