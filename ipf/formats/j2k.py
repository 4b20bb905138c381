"""JPEG 2000 codestreams (ISO/IEC 15444-1 annex A) assembled from tiles coded one at a time.

A tile of a JPEG 2000 image is coded on its own: its wavelet transform, code-blocks and packets
depend only on its samples and on where its edges fall in the sub-band grids. When every tile of
an image starts on the same sub-band and code-block parities as a tile at the origin
(:func:`tiles_are_standalone`), the tile-part that OpenJPEG writes for a tile coded as an image of
its own is the tile-part it writes for that tile within the whole image, and a component of a
tile does not depend on the other components (no colour transform). This module reads such
standalone codestreams, cuts their tile data into packets with the PLT marker segments (A.7.3)
and writes the codestream of the whole image: the main header with the whole image's SIZ (A.5.1),
then per tile SOT, PLT, SOD and the packets, with the packets of any component taken from
another codestream, e.g. the shared coding of a constant component (:mod:`ipf.formats.jp2`).

Only codestreams of one quality layer and one precinct per resolution level are assembled
(``packet_order``): the layers of a multi-layer code are allocated over all the components of
a tile together.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Sequence

from ipf.interface.errors import FormatError


__all__ = ["SOC", "SIZ", "SOT", "SOD", "EOC", "PLT", "PRECINCT_LOG2", "CodestreamError", "Tile",
           "plt_lengths", "read_tile", "packet_order", "siz_segment", "plt_segments", "tile_part",
           "main_header", "merge_components", "tiles_are_standalone"]

SOC, SIZ, SOT, SOD, EOC, PLT = 0xFF4F, 0xFF51, 0xFF90, 0xFF93, 0xFFD9, 0xFF58
PRECINCT_LOG2 = 15
"""Precinct size exponent when COD defines none (A.6.1: 2^15, i.e. one precinct)."""


class CodestreamError(FormatError):
    """A codestream this module cannot cut or assemble."""


@dataclass(frozen=True)
class Tile:
    """One tile of a standalone codestream: its packets in progression order, and the main
    header marker segments (marker, bytes including the marker) other than SOC and SIZ."""

    packets: tuple[bytes, ...]
    header: tuple[tuple[int, bytes], ...]
    components: int
    rsiz: int = 0


def _segments(data: bytes, pos: int):
    """Marker segments (marker, start, end) from ``pos`` up to and including the first SOT."""
    while True:
        if pos + 4 > len(data):
            raise CodestreamError(f"codestream ends at byte {pos} inside a header")
        marker, length = struct.unpack_from(">HH", data, pos)
        if marker >> 8 != 0xFF:
            raise CodestreamError(f"no marker at byte {pos} (0x{marker:04x})")
        yield marker, pos, pos + 2 + length
        if marker == SOT:
            return
        pos += 2 + length


def plt_lengths(payload: bytes) -> list[int]:
    """Packet lengths of the Iplt fields of one PLT segment body (after Zplt): 7 bits a byte,
    most significant first, the top bit set on all bytes but a length's last."""
    out, value = [], 0
    for byte in payload:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(value)
            value = 0
    if value:
        raise CodestreamError("PLT ends inside a packet length")
    return out


def read_tile(data: bytes) -> Tile:
    """The packets and main header of a codestream of exactly one tile with one tile-part and
    PLT marker segments (as OpenJPEG writes a standalone tile)."""
    if data[:2] != b"\xff\x4f":
        raise CodestreamError("not a JPEG 2000 codestream (no SOC)")
    header, components, rsiz, sot = [], 0, 0, None
    for marker, start, end in _segments(data, 2):
        if marker == SIZ:
            rsiz, components = struct.unpack_from(">H", data, start + 4)[0], struct.unpack_from(">H", data, start + 38)[0]
        elif marker == SOT:
            sot = start
        else:
            header.append((marker, data[start:end]))
    _, _, isot, psot, tpsot, tnsot = struct.unpack_from(">HHHIBB", data, sot)
    if isot != 0 or tpsot != 0 or tnsot not in (0, 1):
        raise CodestreamError(f"not one tile in one tile-part (tile {isot}, part {tpsot} of {tnsot})")
    lengths, sod = [], None
    pos = sot + 12
    while sod is None:
        marker, length = struct.unpack_from(">HH", data, pos)
        if marker == SOD:
            sod = pos + 2
        elif marker == PLT:
            lengths += plt_lengths(data[pos + 5:pos + 2 + length])
            pos += 2 + length
        else:
            raise CodestreamError(f"tile-part header marker 0x{marker:04x} cannot be carried over")
    end = sot + psot if psot else len(data) - 2
    if sum(lengths) != end - sod:
        raise CodestreamError(f"PLT packet lengths sum to {sum(lengths)}, the tile data has {end - sod} bytes")
    packets, pos = [], sod
    for n in lengths:
        packets.append(data[pos:pos + n])
        pos += n
    return Tile(tuple(packets), tuple(header), components, rsiz)


def packet_order(progression: str, resolutions: int, components: int) -> list[tuple[int, int]]:
    """(resolution, component) of each packet in progression order, for one quality layer and
    one precinct per resolution level (B.12: the position loops of RPCL, PCRL and CPRL then visit
    one precinct each)."""
    r, c = range(resolutions), range(components)
    if progression in ("LRCP", "RLCP", "RPCL"):
        return [(i, k) for i in r for k in c]
    if progression in ("PCRL", "CPRL"):
        return [(i, k) for k in c for i in r]
    raise CodestreamError(f"progression order {progression!r}")


def siz_segment(rows: int, cols: int, tile: tuple[int, int], bits: int, components: int,
                rsiz: int = 0) -> bytes:
    """SIZ (A.5.1): image and tiles at the origin, unsigned ``bits``-bit components, no
    subsampling."""
    body = struct.pack(">HIIIIIIIIH", rsiz, cols, rows, 0, 0, tile[1], tile[0], 0, 0, components)
    body += bytes((bits - 1, 1, 1)) * components
    return struct.pack(">HH", SIZ, 2 + len(body)) + body


def plt_segments(lengths: Sequence[int]) -> bytes:
    """PLT marker segments (A.7.3) listing ``lengths``, a new segment (Zplt + 1) whenever one
    would pass 65535 bytes."""
    out, body, z = [], bytearray(), 0
    for n in lengths:
        field = [n & 0x7F]
        n >>= 7
        while n:
            field.append((n & 0x7F) | 0x80)
            n >>= 7
        if 3 + len(body) + len(field) > 65535:
            out.append(struct.pack(">HHB", PLT, 3 + len(body), z) + bytes(body))
            body, z = bytearray(), z + 1
            if z > 255:
                raise CodestreamError("more packet lengths than 256 PLT segments hold")
        body += bytes(reversed(field))
    out.append(struct.pack(">HHB", PLT, 3 + len(body), z) + bytes(body))
    return b"".join(out)


def tile_part(index: int, packets: Sequence[bytes]) -> bytes:
    """SOT, PLT, SOD and the packets of tile ``index`` in one tile-part."""
    plt = plt_segments([len(p) for p in packets])
    size = 12 + len(plt) + 2 + sum(len(p) for p in packets)
    return (struct.pack(">HHHIBB", SOT, 10, index, size, 0, 1) + plt + struct.pack(">H", SOD)
            + b"".join(packets))


def main_header(rows: int, cols: int, tile: tuple[int, int], bits: int, components: int,
                like: Tile) -> bytes:
    """SOC, SIZ of the whole image (with the capabilities of ``like``), then the main header
    segments of the standalone tile ``like``."""
    return (struct.pack(">H", SOC) + siz_segment(rows, cols, tile, bits, components, like.rsiz)
            + b"".join(seg for _, seg in like.header))


def merge_components(parts: Sequence[tuple[Tile, int]], progression: str, resolutions: int) -> list[bytes]:
    """Packets of one tile whose component k is component ``parts[k][1]`` of the standalone tile
    ``parts[k][0]``, in progression order."""
    cut = {}
    for tile, _ in parts:
        if id(tile) not in cut:
            order = packet_order(progression, resolutions, tile.components)
            if len(order) != len(tile.packets):
                raise CodestreamError(f"{len(tile.packets)} packets, {len(order)} expected "
                                      f"({resolutions} resolutions × {tile.components} components)")
            cut[id(tile)] = dict(zip(order, tile.packets))
    return [cut[id(parts[k][0])][r, parts[k][1]] for r, k in packet_order(progression, resolutions, len(parts))]


def _cuts(start: int, end: int, step: int) -> tuple[int, ...]:
    """Offsets from ``start`` of the multiples of ``step`` strictly inside (start, end)."""
    first = -(-(start + 1) // step) * step
    return tuple(x - start for x in range(first, end, step))


def tiles_are_standalone(shape: tuple[int, int], tile: tuple[int, int], resolutions: int,
                         codeblock: int) -> bool:
    """Whether every tile of an image of ``shape`` (rows, cols) cut in ``tile`` × ``tile``
    tiles is coded as the same samples would be at the origin: its edges on even positions at
    every decomposition level (so the same lifting parity), the code-blocks of each sub-band
    (B.5, B.7) and the one precinct of each resolution cut at the same offsets, and each tile at
    least one sample wide at the lowest resolution (so it can be coded alone)."""
    levels = resolutions - 1
    for axis in (0, 1):
        size, step = shape[axis], tile[axis]
        for t0 in range(0, size, step):
            t1 = min(size, t0 + step)
            if t0 % (1 << levels) or (t1 - t0) < (1 << levels):
                return False
            for d in range(levels + 1):
                r0, r1 = -(-t0 // (1 << d)), -(-t1 // (1 << d))
                if _cuts(r0, r1, 1 << PRECINCT_LOG2) != _cuts(0, r1 - r0, 1 << PRECINCT_LOG2):
                    return False
                for high in ((False, True) if d else (False,)):
                    b0, b1 = _subband(t0, d, high), _subband(t1, d, high)
                    s0, s1 = _subband(0, d, high), _subband(t1 - t0, d, high)
                    if b1 - b0 != s1 - s0 or _cuts(b0, b1, codeblock) != _cuts(s0, s1, codeblock):
                        return False
    return True


def _subband(x: int, d: int, high: bool) -> int:
    """Coordinate of tile-component coordinate ``x`` in a sub-band of decomposition level ``d``,
    the high-pass (``high``) or low-pass one along the axis (B-15: ceil((x − o·2^(d−1)) / 2^d))."""
    if d == 0:
        return x
    return -(-(x - (1 << (d - 1) if high else 0)) // (1 << d))
