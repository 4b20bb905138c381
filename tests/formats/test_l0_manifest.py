"""manifest.safe of the L0 datastrip PDI (:mod:`ipf.formats.l0_manifest`): every file of the PDI
with its size and SHA3-256, the real manifest's structure, deterministic bytes."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from lxml import etree

from ipf.formats import l0, l0_manifest, sad
from ipf.formats.l0_metadata import read_datastrip_metadata
from ipf.interface.errors import FormatError
from tests.helpers import SHARED

REAL_DS = SHARED / "real" / "l0" / "S2B_OPER_MSI_L0__DS_REFS_20221124T163650_S20221011T064025_N02.08"
_NS = {"xfdu": "urn:ccsds:schema:xfdu:1", "safe": l0_manifest.NS_SAFE_L0}


def _files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {l0_manifest.MANIFEST}


def _listed(manifest) -> dict[str, tuple[str, int, str]]:
    """href (without ./) -> (dataObject ID, size, checksum) of a manifest.safe."""
    out = {}
    for do in etree.parse(str(manifest)).getroot().iterfind("dataObjectSection/dataObject"):
        bs = do.find("byteStream")
        assert bs.find("checksum").get("checksumName") == "SHA3-256"
        out[bs.find("fileLocation").get("href").removeprefix("./")] = (
            do.get("ID"), int(bs.get("size")), bs.find("checksum").text)
    return out


def _paths(root: etree._Element) -> set[str]:
    return {"/".join(etree.QName(e).localname for e in (*reversed(list(el.iterancestors())), el))
            for el in root.iter() if isinstance(el.tag, str)}


def test_manifest_lists_every_file_of_the_datastrip_pdi(small):
    folder, _ = small
    ds_dir = l0.find_datastrip(folder / "L0")
    listed = _listed(ds_dir / l0_manifest.MANIFEST)
    assert set(listed) == _files(ds_dir) and len(listed) == 2
    for rel, (id_, size, checksum) in listed.items():
        data = (ds_dir / rel).read_bytes()
        assert size == len(data) and checksum == hashlib.sha3_256(data).hexdigest().upper(), rel
    (anc,) = (rel for rel in listed if rel.startswith(l0.ANC_DATA + "/"))
    assert f"_AUX_S{sad.SAD_FILE_NUMBER:05d}_" in anc and listed[anc][0] == "ANC09123_Data"
    assert listed[l0.datastrip_metadata_file(ds_dir).name][0] == "S2_Level-0_Datastrip_Metadata"
    root = etree.parse(str(ds_dir / l0_manifest.MANIFEST)).getroot()
    pointed = {p.get("dataObjectID") for p in root.iterfind("informationPackageMap//dataObjectPointer")}
    assert pointed == {v[0] for v in listed.values()}
    ds = read_datastrip_metadata(l0.datastrip_metadata_file(ds_dir))
    period = root.find("metadataSection/metadataObject[@ID='acquisitionPeriod']//safe:acquisitionPeriod", _NS)
    assert period.get("startTime").startswith(f"{ds.sensing_start:%Y-%m-%dT%H:%M:%S}")


def test_manifest_is_deterministic_and_refuses_unknown_files(small, tmp_path):
    folder, _ = small
    src = l0.find_datastrip(folder / "L0")
    ds_dir = shutil.copytree(src, tmp_path / src.name)
    ds = read_datastrip_metadata(l0.datastrip_metadata_file(ds_dir))
    (ds_dir / l0_manifest.MANIFEST).unlink()
    path = l0_manifest.write_datastrip_manifest(ds_dir, ds)
    assert path.read_bytes() == (src / l0_manifest.MANIFEST).read_bytes()
    (ds_dir / l0.ANC_DATA / "notes.txt").write_text("x")
    with pytest.raises(FormatError, match="notes.txt"):
        l0_manifest.write_datastrip_manifest(ds_dir, ds)
    assert path.read_bytes() == (src / l0_manifest.MANIFEST).read_bytes()


def test_manifest_has_the_structure_and_checksums_of_the_real_one(small):
    """Every element path of ours is in the real manifest (whose L0 processing is nested in an
    archiving step we do not have); the real checksum is the upper-case SHA3-256 of the file."""
    real = REAL_DS / "manifest.safe"
    if not real.is_file():
        pytest.skip("real L0 datastrip not in ../shared")
    folder, _ = small
    ours = etree.parse(str(l0.find_datastrip(folder / "L0") / l0_manifest.MANIFEST)).getroot()
    theirs = etree.parse(str(real)).getroot()
    assert ours.get("version") == theirs.get("version") and ours.nsmap["safe"] == theirs.nsmap["safe"]
    archived = {p.replace("/processing/resource/processing/", "/processing/") for p in _paths(theirs)}
    assert _paths(ours) <= _paths(theirs) | archived
    (anc,) = (REAL_DS / l0.ANC_DATA).glob("*.bin")
    id_, size, checksum = _listed(real)[f"{l0.ANC_DATA}/{anc.name}"]
    assert (id_, size) == ("ANC09123_Data", anc.stat().st_size)
    assert checksum == hashlib.sha3_256(anc.read_bytes()).hexdigest().upper()
