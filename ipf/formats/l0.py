"""L0 product layout: a datastrip PDI and granule PDIs of CCSDS packet files.

::

    L0/
      DATASTRIP/S2A_OPER_MSI_L0__DS_SIMU_<created>_S<start>_N00.01/
        S2A_OPER_MTD_L0__DS_SIMU_<created>_S<start>.xml          (PSD L0 datastrip metadata)
        ANC_DATA/S2A_OPER_AUX_S09123_SIMU_<created>_V<start>_<stop>_A<orbit>_WF_LN.bin (SAD packets)
        manifest.safe                                            (XFDU, ipf.formats.l0_manifest)
      GRANULE/S2A_OPER_MSI_L0__GR_SIMU_<created>_S<granule start>_D06_N00.01/
        S2A_OPER_MTD_L0__GR_SIMU_<created>_S<granule start>_D06.xml (PSD L0 granule metadata)
        IMG_DATA/S2A_OPER_MSI_L0__GR_SIMU_<created>_S<granule start>_D06_B02.bin (records)

As in real products the granule name has no index: the granules of one detector start in
different seconds. A granule holds one detector and all bands over the same ground, from its
``POSITION`` (first 10 m line) to the next granule's, one band file per band: records of a
20-byte annotation and a packet (:mod:`ipf.formats.ccsds`), each packet carrying a compressed
block of lines (:mod:`ipf.formats.msi_compression`) and, in its instrument ancillary data, the
block's first line (counted from the datastrip start), line count and pixels; the files match
ESA EOPF's ``GRANULE/**/IMG_DATA/S2*_D{DET}_B{BAND}.bin``. The metadata files are read and
written by :mod:`ipf.formats.l0_metadata`; satellite ancillary data packets are in
:mod:`ipf.formats.sad`. The line datation of the packets is the datastrip's
(:func:`line_clocks`). Details: docs/l0_format.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ipf.formats import ccsds, l0_metadata, msi_compression
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.interface.errors import FormatError


__all__ = ["BASELINE", "FMT", "CENTRE", "DATASTRIP_DIR", "GRANULE_DIR", "IMG_DATA", "ANC_DATA",
           "band_file_name", "band_file", "find_datastrip", "find_granules", "datastrip_name", "granule_name",
           "datastrip_metadata_file", "granule_metadata_file", "line_clocks", "decode_granule_band", "block_end",
           "lines_10m", "granule_sensing", "BlockStream", "decode_blocks"]

BASELINE = "N00.01"
FMT = "%Y%m%dT%H%M%S"
CENTRE = "SIMU"
DATASTRIP_DIR, GRANULE_DIR, IMG_DATA, ANC_DATA = "DATASTRIP", "GRANULE", "IMG_DATA", "ANC_DATA"
_EPOCH_NS = np.datetime64("2000-01-01T00:00:00", "ns")


def datastrip_name(mission: str, created: datetime, start: datetime) -> str:
    """Datastrip PDI name ``<mission>_OPER_MSI_L0__DS_<centre>_<created>_S<start>_N<bb.bb>``."""
    return f"{mission}_OPER_MSI_L0__DS_{CENTRE}_{created:{FMT}}_S{start:{FMT}}_{BASELINE}"


def granule_name(mission: str, created: datetime, start: datetime, detector: int) -> str:
    """Granule PDI name ``<mission>_OPER_MSI_L0__GR_<centre>_<created>_S<start>_D<dd>_N<bb.bb>``;
    the granules of one detector must start in different seconds."""
    return f"{mission}_OPER_MSI_L0__GR_{CENTRE}_{created:{FMT}}_S{start:{FMT}}_D{detector:02d}_{BASELINE}"


def band_file_name(granule: str, band: str) -> str:
    """Band file name of a granule: ``<granule name without _N..>_<band>.bin`` (band ``B02``,
    ``B8A``...)."""
    return f"{granule.removesuffix('_' + BASELINE)}_{band}.bin"


def band_file(folder: Path, band: str) -> Path:
    """The band file of ``band`` in a granule PDI folder (``IMG_DATA/*_<band>.bin``); a missing
    or ambiguous file is a FormatError."""
    found = sorted((Path(folder) / IMG_DATA).glob(f"S2*_D[0-9][0-9]_{band}.bin"))
    if len(found) != 1:
        raise FormatError(f"{len(found)} band files of {band} in {IMG_DATA}/ (expected 1)", source=folder)
    return found[0]


def find_datastrip(l0: Path) -> Path:
    """The datastrip PDI of an L0 folder (``DATASTRIP/*_MSI_L0__DS_*``)."""
    found = sorted((Path(l0) / DATASTRIP_DIR).glob("*_MSI_L0__DS_*"))
    if len(found) != 1:
        raise FormatError(f"{len(found)} datastrips in {DATASTRIP_DIR}/ (expected 1)", source=l0)
    return found[0]


def find_granules(l0: Path) -> list[Path]:
    """The granule PDIs of an L0 folder (``GRANULE/*_MSI_L0__GR_*``), by name."""
    return sorted((Path(l0) / GRANULE_DIR).glob("*_MSI_L0__GR_*"))


def datastrip_metadata_file(folder: Path) -> Path:
    """The datastrip metadata file of a DS PDI folder (the one ``*_MTD_L0__DS_*.xml``); none or
    several is a FormatError naming the folder."""
    return _one(Path(folder), "*_MTD_L0__DS_*.xml", "datastrip metadata files")


def granule_metadata_file(folder: Path) -> Path:
    """The granule metadata file of a GR PDI folder (the one ``*_MTD_L0__GR_*.xml``)."""
    return _one(Path(folder), "*_MTD_L0__GR_*.xml", "granule metadata files")


def _one(folder: Path, pattern: str, what: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise FormatError(f"{len(found)} {what} ({pattern}) in the folder (expected 1)", source=folder)
    return found[0]


def _gps_utc(ds: l0_metadata.Datastrip) -> int:
    """GPS - UTC (whole s) of the datastrip, as the packet times need it."""
    return int(round(ds.auxiliary.gps_time_utc_s))


def line_clocks(ds: l0_metadata.Datastrip) -> dict[int, ccsds.LineClock]:
    """Expected line datation of every APID of the datastrip (s since 2000-01-01T00:00:00 UTC):
    the datastrip's law :func:`ipf.formats.l0_metadata.line_datation`."""
    return {ccsds.apid_for(det, BY_NAME[band].index): ccsds.LineClock(
                int((t0 - _EPOCH_NS) // np.timedelta64(1, "ns")) / 1e9, period)
            for (band, det), (t0, period) in l0_metadata.line_datation(ds).items()}


def decode_granule_band(data: bytes, ds: l0_metadata.Datastrip,
                        clocks: dict[int, ccsds.LineClock] | None = None
                        ) -> tuple[list[ccsds.Block], ccsds.DecodeReport]:
    """:func:`ipf.formats.ccsds.decode_packets` of a band file's bytes with the datastrip's line
    clocks (default :func:`line_clocks`) and its GPS - UTC."""
    return ccsds.decode_packets(data, line_clocks(ds) if clocks is None else clocks, gps_utc_s=_gps_utc(ds))


def block_end(data: bytes) -> int:
    """One past the last band line the packets of a band file carry (their instrument ancillary
    data: first line, line count), 0 when none can be read."""
    ends = [p.sec.first_line + p.sec.n_lines for p in ccsds.parse_packets(data) if p.sec is not None and p.crc_ok]
    return max(ends, default=0)


def lines_10m(band: str, band_lines: int) -> int:
    """10 m lines spanned by ``band_lines`` lines of ``band``."""
    return band_lines * next(b.resolution_m for b in BANDS if b.name == band) // 10


def granule_sensing(ds: l0_metadata.Datastrip, detector: int, first_line_10m: int, n_lines_10m: int
                    ) -> tuple[datetime, datetime]:
    """UTC times (µs) of the first and last lines of a granule of ``detector`` over all its bands
    (:func:`line_clocks`), the granule being 10 m lines ``first_line_10m`` onwards."""
    clocks = line_clocks(ds)
    times = []
    for s in ds.time_stamp.stamps:
        if s.detector != detector:
            continue
        band = BANDS[s.band]
        r = band.resolution_m // 10
        clock = clocks[ccsds.apid_for(detector, band.index)]
        times += [clock.time(first_line_10m // r), clock.time((first_line_10m + n_lines_10m) // r - 1)]
    if not times:
        raise FormatError(f"no Band_Time_Stamp of detector {detector:02d}", element="Band_Time_Stamp")
    return tuple(ccsds.EPOCH + timedelta(microseconds=round(t * 1e6)) for t in (min(times), max(times)))


class BlockStream:
    """The compressed blocks of one band and detector consolidated over the granules of a
    datastrip (FORMAT_ISP): their concatenated ``payload``, the block ``table`` (first line,
    lines, offset and length in the payload), the ``time`` of every line (s since
    2000-01-01T00:00:00 UTC, NaN where no block arrived) and whether it was received (``valid``).
    """

    def __init__(self, lines: int, line_period_s: float):
        self.lines, self.line_period_s = lines, line_period_s
        self.valid = np.zeros(lines, bool)
        self.time = np.full(lines, np.nan)
        self._blocks: list[np.ndarray] = []
        self._table: list[tuple[int, int, int, int]] = []
        self._offset = 0

    def add(self, block: ccsds.Block) -> bool:
        """Add ``block``, its lines dated ``t(first line) + k · line period``; False (block
        ignored) when its lines are outside the band's image."""
        r0, k = block.sec.first_line, block.sec.n_lines
        if r0 < 0 or r0 + k > self.lines:
            return False
        self._blocks.append(np.frombuffer(block.data, np.uint8))
        self._table.append((r0, k, self._offset, len(block.data)))
        self._offset += len(block.data)
        self.time[r0:r0 + k] = block.time + self.line_period_s * np.arange(k)
        self.valid[r0:r0 + k] = True
        return True

    @property
    def payload(self) -> np.ndarray:
        """The blocks concatenated (uint8)."""
        return np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.uint8)

    @property
    def table(self) -> np.ndarray:
        """(n, 4) int64 rows (first_line, lines, offset, length) of the blocks in the payload."""
        return np.array(self._table, np.int64).reshape(-1, 4)


def decode_blocks(payload: np.ndarray, table: np.ndarray, lines: int, pixels: int
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, str]]]:
    """Decompress the blocks of one band image (:mod:`ipf.formats.msi_compression`).

    ``payload``: the blocks concatenated (uint8); ``table``: (n, 4) rows (first_line, lines,
    offset, length) of :class:`BlockStream`. Returns the counts (uint16 (lines, pixels), 0 where
    no block decoded), the lines a block was decoded into (bool (lines,)) and, for every block
    that is not decodable, is not of (lines, pixels) of its row or lies outside the image,
    (first_line, lines, status). Never raises on corrupted data.
    """
    dn = np.zeros((lines, pixels), np.uint16)
    decoded = np.zeros(lines, bool)
    failed = []
    for first, n, offset, length in np.asarray(table, np.int64).tolist():
        block, status = msi_compression.decode(payload[offset:offset + length].tobytes())
        if block is None or block.shape != (n, pixels) or first < 0 or first + n > lines:
            failed.append((first, n, str(status)))
            continue
        dn[first:first + n] = block
        decoded[first:first + n] = True
    return dn, decoded, failed
