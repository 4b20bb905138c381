"""Optional: ESA's EOPF package (PyPI ``eopf``) reads our L0 band files.

EOPF's ``S02MSIRAW`` mapping names the band files (``GRANULE/**/IMG_DATA/S2*_*_D{DET}_B{BAND}.bin``)
and the record layout (6-byte primary header, 20-byte annotation, packet length at bytes 24-26);
its public packet reader ``S2MemMap`` (``MultipleFilesMemMapAccessor``) walks the records. The
mapping's own accessor ``L0AccessorMultiFiles`` lives in a module (``l0``) that is not on PyPI,
and the mapping wants a ``DATASTRIP/*/Inventory_Metadata.xml`` that no L0 datastrip PDI (ours or
the real sample) holds, so the whole product cannot be loaded through the store; see
docs/l0_format.md.
Skipped unless ``eopf`` (with dask) is importable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ipf.formats import l0, sad
from ipf.formats.msi_bands import BANDS
from tests.l0_samples import declared_packets

eopf = pytest.importorskip("eopf")
pytest.importorskip("dask")
memmap = pytest.importorskip("eopf.accessor.memmap_accessors")

_ANNOTATION_BITS = 8 * 20
_FIELDS = {"apid": (5, 11), "vmc": (7, 1), "wicom": (9, 2), "det_bit": (11, 1), "band": (12, 4),
           "flags": (16, 2), "count": (18, 14), "length": (32, 16), "instrument_band": (192, 8),
           "instrument_detector": (200, 8)}


def _mapping() -> dict:
    folder = Path(eopf.__file__).parent / "store" / "mapping"
    found = sorted(folder.glob("S02MSIRAW*.json"))
    if not found:
        pytest.skip(f"eopf {eopf.__version__} has no S02MSIRAW mapping")
    return json.loads(found[0].read_text())


def _entries(mapping: dict):
    for e in mapping["data_mapping"]:
        yield e if "short_name" in e or len(e) != 1 else next(iter(e.values()))


def _isp_pattern(mapping: dict, folder: str) -> str:
    return next(e["source_path"] for e in _entries(mapping)
                if isinstance(e, dict) and e.get("short_name") == "isp" and folder in e["source_path"])


def _reader_config(mapping: dict) -> dict:
    cfg = mapping["l0_mapping"]["accessor_config"]
    return {k: cfg[k] for k in ("primary_header_length_bytes", "ancillary_header_length_bytes",
                                "packet_length_start_position_bytes", "packet_length_stop_position_bytes")}


def _eopf_read(pattern: str, config: dict) -> dict[str, np.ndarray]:
    """Header fields (bits from the packet start) of every record of the files ``pattern`` globs."""
    acc = memmap.MultipleFilesMemMapAccessor(pattern, **config)
    acc.open(target_type="uint32")
    try:
        out = {}
        for name, (offset, n) in _FIELDS.items():
            data = acc.get_data(str((_ANNOTATION_BITS + offset, None, n)), target_type="uint32").data
            out[name] = np.asarray(data.compute() if hasattr(data, "compute") else data)
        return out
    finally:
        acc.close()


def test_eopf_recognises_our_datastrip_and_finds_every_band_file(small):
    folder, _ = small
    root = folder / "L0"
    mapping = _mapping()
    assert re.match(mapping["recognition"]["filename_pattern"], l0.find_datastrip(root).name)
    pattern = _isp_pattern(mapping, "GRANULE")
    dets, bands = mapping["unroll_vars_DET_BAND"]["{{DET}}"], mapping["unroll_vars_DET_BAND"]["{{BAND}}"]
    listed = {p for d in dets for b in bands
              for p in root.glob(pattern.replace("{{DET}}", d).replace("{{BAND}}", b))}
    assert listed == set(root.glob("GRANULE/*/IMG_DATA/*.bin")) and listed


def test_eopf_lists_our_packets_per_detector_and_band(small):
    folder, _ = small
    root = folder / "L0"
    mapping = _mapping()
    pattern, config = _isp_pattern(mapping, "GRANULE"), _reader_config(mapping)
    expected = declared_packets(root)
    assert expected
    for (det, index), n in sorted(expected.items()):
        band = BANDS[index].name[1:]
        glob = pattern.replace("{{DET}}", f"{det:02d}").replace("{{BAND}}", band)
        files = sorted(root.glob(glob))
        got = _eopf_read(str(root / glob), config)
        assert got["count"].size == n, (det, band)
        assert int((got["length"] + 7 + 20).sum()) == sum(f.stat().st_size for f in files), (det, band)
        k = det - 1
        assert set(got["apid"].tolist()) == {0x400 | (k // 6) << 8 | ((k % 6) // 2) << 5 | (k % 2) << 4 | index}
        assert {(v, w, b, i) for v, w, b, i in zip(got["vmc"], got["wicom"], got["det_bit"], got["band"])} == {
            (k // 6, (k % 6) // 2, k % 2, index)}
        assert set(got["instrument_band"].tolist()) == {index}
        assert set(got["instrument_detector"].tolist()) == {det}
        assert np.all(np.diff(got["count"].astype(int)) % 16384 == 1)


def test_eopf_finds_and_reads_our_sad_file_and_manifest(small):
    """The mapping's SAD pattern (``ANC_DATA/S2*_S{SAD}*.bin``, ``{SAD}`` = 09123) finds our SAD
    file, its reader lists every SAD packet, and the product-level attributes' source
    (``DATASTRIP/*/manifest.safe``) exists."""
    folder, _ = small
    root = folder / "L0"
    mapping = _mapping()
    assert f"{sad.SAD_FILE_NUMBER:05d}" in mapping["unroll_vars_SAD"]["{{SAD}}"]
    glob = _isp_pattern(mapping, "ANC_DATA").replace("{{SAD}}", f"{sad.SAD_FILE_NUMBER:05d}")
    (path,) = root.glob(glob)
    cfg = mapping["l0_mapping"]["accessor_config_sad"]
    config = {k: cfg[k] for k in _reader_config(mapping)}
    acc = memmap.MultipleFilesMemMapAccessor(str(root / glob), **config)
    acc.open(target_type="uint32")
    try:
        data = acc.get_data(str((_ANNOTATION_BITS + 5, None, 11)), target_type="uint32").data
        apids = np.asarray(data.compute() if hasattr(data, "compute") else data)
    finally:
        acc.close()
    assert apids.size == len(sad.read_headers(path.read_bytes())) > 100 and set(apids.tolist()) == {sad.SAD_APID}
    sources = {e["source_path"] for e in _entries(mapping) if isinstance(e, dict) and "source_path" in e}
    assert "DATASTRIP/*/manifest.safe" in sources and list(root.glob("DATASTRIP/*/manifest.safe"))
