"""Level-1A processor task: decompression of the on-board wavelet compression.

DECOMP decodes, per detector and band, the compressed blocks consolidated by FORMAT_ISP
(:mod:`ipf.formats.msi_compression`, bit-exact with the on-board encoder's reconstruction) into
raw counts. Lines whose block is lost or cannot be decoded are 0 and flagged invalid.
"""

from __future__ import annotations

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import msi_compression
from ipf.products.datastrip import read_datastrip, write_datastrip
from ipf.products.store import ImageStore, image_name

__all__ = ["decomp"]


def decomp(ctx: TaskContext) -> None:
    """DECOMP: PDI_DS (L0c store) -> PDI_DS (L1A store: DN uint16, line validity and time)."""
    l0c = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(l0c)
    out = ImageStore(ctx.output("PDI_DS"))
    streams = l0c.names(kind="blocks")
    if not streams:
        raise TaskError(f"{l0c.root}: no compressed blocks (not an L0c store?)")
    undecodable = 0
    for n, name in enumerate(streams, 1):
        a = l0c.attrs(name)
        band, det = a["band"], a["detector"]
        payload = l0c.read(name)
        table = l0c.read(image_name("table", band, det))
        valid = np.array(l0c.read(image_name("valid", band, det)))
        dn = np.zeros((a["lines"], a["pixels"]), np.uint16)
        for first, lines, offset, length in table:
            block, status = msi_compression.decode(payload[offset:offset + length].tobytes())
            if block is None or block.shape != (lines, a["pixels"]):
                valid[first:first + lines] = False
                undecodable += 1
                ctx.warn(f"D{det:02d} {band} lines {first}..{first + lines - 1}: block not "
                         f"decodable ({status}); flagged invalid")
                continue
            dn[first:first + lines] = block
        dn[~valid] = 0
        attrs = {k: a[k] for k in ("band", "detector", "resolution", "lines", "pixels")}
        out.write(image_name("dn", band, det), dn, kind="dn", unit="DN", **attrs)
        out.write(image_name("valid", band, det), valid, kind="line_valid", **attrs)
        out.write(image_name("time", band, det), l0c.read(image_name("time", band, det), mmap=False),
                  kind="line_time", unit="s since 2000-01-01T00:00:00Z", **attrs)
        ctx.progress(100.0 * n / len(streams), f"D{det:02d} {band}")
    write_datastrip(out, info)
    out.flush()
    ctx.log.info(f"decompressed {len(streams)} detector/band images; {undecodable} blocks lost")
