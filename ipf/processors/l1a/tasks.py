"""Level-1A processor task: decompression of the on-board wavelet compression.

DECOMP decodes, per detector and band, the compressed blocks consolidated by FORMAT_ISP
(:mod:`ipf.formats.msi_compression`, bit-exact with the on-board encoder's reconstruction) into
raw counts. Lines whose block is lost or cannot be decoded are 0 and flagged invalid.
"""

from __future__ import annotations

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats.l0 import decode_blocks
from ipf.products.datastrip import (BLOCK_TABLE, LINE_TIME, LINE_VALID, BlocksAttrs, DnAttrs,
                                    LineTimeAttrs, LineValidAttrs, find_images, read_datastrip,
                                    read_image, write_datastrip, write_image)
from ipf.products.store import ImageStore

__all__ = ["decomp"]


def decomp(ctx: TaskContext) -> None:
    """DECOMP: PDI_DS (L0c store) -> PDI_DS (L1A store: DN uint16, line validity and time)."""
    l0c = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(l0c)
    out = ImageStore(ctx.output("PDI_DS"))
    streams = find_images(l0c, BlocksAttrs)
    if not streams:
        raise TaskError(f"{l0c.root}: no compressed blocks (not an L0c store?)")
    undecodable = 0
    for n, a in enumerate(streams, 1):
        band, det = a.band, a.detector
        valid = np.array(read_image(l0c, LINE_VALID, band, det))
        dn, _, failed = decode_blocks(l0c.read(a.name), read_image(l0c, BLOCK_TABLE, band, det),
                                      a.lines, a.pixels)
        for first, lines, status in failed:
            valid[first:first + lines] = False
            undecodable += 1
            ctx.warn(f"D{det:02d} {band} lines {first}..{first + lines - 1}: block not "
                     f"decodable ({status}); flagged invalid")
        dn[~valid] = 0
        attrs = dict(band=band, detector=det, resolution=a.resolution, lines=a.lines,
                     pixels=a.pixels)
        write_image(out, dn, DnAttrs(**attrs))
        write_image(out, valid, LineValidAttrs(**attrs))
        write_image(out, read_image(l0c, LINE_TIME, band, det, mmap=False), LineTimeAttrs(**attrs))
        ctx.progress(100.0 * n / len(streams), f"D{det:02d} {band}")
    write_datastrip(out, info)
    out.flush()
    ctx.log.info(f"decompressed {len(streams)} detector/band images; {undecodable} blocks lost")
