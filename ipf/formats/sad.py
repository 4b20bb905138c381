"""Satellite ancillary data (SAD) packets of an L0 datastrip's ``ANC_DATA/`` folder.

A SAD file holds records of a 20-byte annotation (:class:`ipf.formats.ccsds.Annotation`) and a
CCSDS packet, as the image band files and the real ``S2x_OPER_AUX_Sxxxxx_*.bin`` files. Our
packet (one per sample, big-endian, 100 bytes; docs/l0_format.md)::

    primary header (6): version 0 | type 0 | secondary header flag 1 | APID SAD_APID
                        | sequence flags 3 | sequence count | data length (= 93)
    secondary header (10): 0x10 (PUS version 1) | service type 3 | subtype 25 | destination 0
                        | GPS time of the sample: coarse u32 (s since 1980-01-06), fine u16 (2^-16 s)
    SID u16 (= 1)
    ECEF position x, y, z: IEEE-754 float64, m
    ECEF velocity x, y, z: IEEE-754 float64, m/s
    attitude quaternion: 4 IEEE-754 float64, in the caller's order and frame
    packet error control: CRC-16-CCITT (poly 0x1021, init 0xFFFF) of the preceding bytes

:func:`read_sad` is frame-agnostic: the quaternions are returned as written, the caller knows
their frame. Times are GPS (no leap seconds applied), as numpy ``datetime64[us]``.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ipf.formats import ccsds
from ipf.interface.errors import FormatError
from ipf.interface.files import atomic_write


__all__ = ["SAD_APID", "SAD_FILE_NUMBER", "SAD_SID", "SAD_VCID", "PACKET_SIZE", "SadData", "sad_file_name",
           "encode_sad", "decode_sad", "write_sad", "read_sad", "read_headers"]

SAD_APID = 0x0A0
SAD_FILE_NUMBER = 9123
"""The number after ``_AUX_S`` in the SAD file name, as the real sample's ANC_DATA file
(``S2B_OPER_AUX_S09123_*``, whose packets are APID 150): a stream number, not an APID."""
SAD_SID = 1
SAD_VCID = 2
_PUS = bytes([0x10, 3, 25, 0])
_BODY = struct.Struct(">IHH10d")
PACKET_SIZE = ccsds.PRIMARY_SIZE + len(_PUS) + _BODY.size + ccsds.CRC_SIZE
_GPS_EPOCH = np.datetime64("1980-01-06T00:00:00", "us")


class SadData(NamedTuple):
    """Samples of a SAD file: GPS times (n,) datetime64[us], ECEF positions (n, 3) m and
    velocities (n, 3) m/s, quaternions (n, 4)."""

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    quaternions: np.ndarray


def sad_file_name(mission: str, centre: str, creation: datetime, start: datetime, stop: datetime,
                  orbit: int) -> str:
    """``<mission>_OPER_AUX_S09123_<centre>_<creation>_V<start>_<stop>_A<orbit>_WF_LN.bin`` (the
    real ANC_DATA naming, :data:`SAD_FILE_NUMBER`)."""
    f = "%Y%m%dT%H%M%S"
    return (f"{mission}_OPER_AUX_S{SAD_FILE_NUMBER:05d}_{centre}_{creation:{f}}_V{start:{f}}_{stop:{f}}_"
            f"A{orbit:06d}_WF_LN.bin")


def _cuc(t: np.datetime64) -> tuple[int, int]:
    us = int((t - _GPS_EPOCH) // np.timedelta64(1, "us"))
    coarse, rem = divmod(us, 1_000_000)
    fine = round(rem * 65536 / 1_000_000)
    return (coarse + 1, 0) if fine == 65536 else (coarse, fine)


def encode_sad(data: SadData, reception_delay_s: float = 900.0, gps_utc_s: int = ccsds.GPS_UTC_S) -> bytes:
    """The records (annotation + packet) of every sample of ``data``; the annotation's
    reception time is UTC, as in the image records: the sample's GPS time minus ``gps_utc_s``
    (GPS - UTC, s; the simulator's :data:`ipf.formats.ccsds.GPS_UTC_S` by default) plus
    ``reception_delay_s``."""
    times = np.asarray(data.times, "datetime64[us]")
    pos, vel, q = (np.asarray(a, np.float64) for a in (data.positions, data.velocities, data.quaternions))
    if not (pos.shape == vel.shape == (len(times), 3) and q.shape == (len(times), 4)):
        raise ValueError("SAD samples: times (n,), positions and velocities (n, 3), quaternions (n, 4)")
    out = []
    for i, t in enumerate(times):
        coarse, fine = _cuc(t)
        body = _BODY.pack(coarse, fine, SAD_SID, *pos[i], *vel[i], *q[i])
        length = len(_PUS) + len(body) + ccsds.CRC_SIZE - 1
        head = ccsds.PRIMARY.pack((1 << 11) | SAD_APID, (ccsds.SEQ_UNSEGMENTED << 14) | (i % ccsds.SEQ_MODULO),
                                  length)
        packet = head + _PUS + body
        packet += ccsds.crc16_ccitt(packet).to_bytes(2, "big")
        reception = t.astype(datetime) + timedelta(seconds=reception_delay_s - gps_utc_s)
        out.append(ccsds.annotate(packet, reception.replace(tzinfo=ccsds.EPOCH.tzinfo), SAD_VCID))
    return b"".join(out)


def read_headers(buffer: bytes) -> list[tuple[ccsds.Annotation, int, int, int, int]]:
    """(annotation, APID, sequence flags, sequence count, packet data length) of every record
    of a SAD file of any APID; stops at a truncated record."""
    out, pos = [], 0
    while pos + ccsds.ANNOTATION_SIZE + ccsds.PRIMARY_SIZE <= len(buffer):
        annotation = ccsds.Annotation.unpack(buffer, pos)
        w0, w1, length = ccsds.PRIMARY.unpack_from(buffer, pos + ccsds.ANNOTATION_SIZE)
        end = pos + ccsds.ANNOTATION_SIZE + ccsds.PRIMARY_SIZE + length + 1
        if end > len(buffer):
            break
        out.append((annotation, w0 & 0x7FF, w1 >> 14, w1 & 0x3FFF, length))
        pos = end
    return out


def decode_sad(buffer: bytes, source: Path | None = None) -> SadData:
    """The samples of the SAD records in ``buffer`` (packets of other APIDs skipped); a
    truncated record, a CRC error or an annotation length that disagrees is a FormatError."""
    times, rows = [], []
    pos, n = 0, len(buffer)
    while pos < n:
        if pos + ccsds.ANNOTATION_SIZE + ccsds.PRIMARY_SIZE > n:
            raise FormatError(f"truncated SAD record at byte {pos}", source=source)
        annotation = ccsds.Annotation.unpack(buffer, pos)
        p = pos + ccsds.ANNOTATION_SIZE
        w0, _, length = ccsds.PRIMARY.unpack_from(buffer, p)
        end = p + ccsds.PRIMARY_SIZE + length + 1
        if end > n:
            raise FormatError(f"truncated SAD packet at byte {p}", source=source)
        if annotation.data_length != length:
            raise FormatError(f"SAD record at byte {pos}: annotation length {annotation.data_length}, "
                              f"packet length {length}", source=source)
        if ccsds.crc16_ccitt(buffer[p:end - 2]) != int.from_bytes(buffer[end - 2:end], "big"):
            raise FormatError(f"SAD packet at byte {p}: CRC error", source=source)
        if w0 & 0x7FF == SAD_APID and end - p == PACKET_SIZE:
            coarse, fine, sid, *values = _BODY.unpack_from(buffer, p + ccsds.PRIMARY_SIZE + len(_PUS))
            if sid == SAD_SID:
                times.append(_GPS_EPOCH + np.timedelta64(coarse * 1_000_000 + round(fine * 1_000_000 / 65536), "us"))
                rows.append(values)
        pos = end
    v = np.array(rows, np.float64).reshape(-1, 10)
    return SadData(np.array(times, "datetime64[us]"), v[:, 0:3], v[:, 3:6], v[:, 6:10])


def write_sad(path: Path, data: SadData, gps_utc_s: int = ccsds.GPS_UTC_S) -> Path:
    """Write the SAD records of ``data`` (:func:`encode_sad`, GPS - UTC ``gps_utc_s`` s for the
    UTC reception times) atomically."""
    return atomic_write(Path(path), encode_sad(data, gps_utc_s=gps_utc_s))


def read_sad(path: Path) -> SadData:
    """(GPS times, ECEF positions m, velocities m/s, quaternions) of a SAD file."""
    path = Path(path)
    return decode_sad(path.read_bytes(), path)
