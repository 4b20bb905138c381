"""``manifest.safe`` of an L0 datastrip PDI: the XFDU the real ``S2x_OPER_MSI_L0__DS_*`` PDIs carry.

::

    xfdu:XFDU version=esa/safe/sentinel-1.0/sentinel-2/msi/archive_l0_datastrip
      informationPackageMap/xfdu:contentUnit (Product_Level-0, dmdID, pdiID)
        S2_Level-0_Datastrip_Metadata_Unit -> S2_Level-0_Datastrip_Metadata
        IMG_DATA, QI_DATA (empty: our datastrip has no quick-looks), ANC_DATA: ANC<nnnnn>_Unit
        -> ANC<nnnnn>_Data per ``ANC_DATA/*_AUX_S<nnnnn>_*.bin``, AUX_DATA (empty)
      metadataSection: platform, processing (centre, ANC_DATA and the GIPPs as resources),
        acquisitionPeriod (sensing start), measurementOrbitReference (datatake id, relative
        orbit), measurementFrameSet (empty), S2_Level-0_Datastrip_Information
      dataObjectSection: one dataObject per file of the PDI: MIME type, size (bytes),
        ``./`` relative location, SHA3-256 (upper-case hex, as the real file)

The real manifest nests the L0 processing in an archiving step (``safe:processing`` >
``safe:resource`` > ``safe:processing``); ours is the L0 processing alone. The real PDI also ships ``rep_info/`` (the XSDs) and its manifest points to them (``repID``,
``REP`` metadata objects); we ship no schemas, so the manifest names none. ``dataObject``s come
in a fixed order (metadata, then ANC_DATA files by name), so the same PDI gives the same bytes.
Written last: :func:`write_datastrip_manifest` lists the files present. Details: docs/l0_format.md.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict

from ipf.formats import l0, l0_metadata, safe
from ipf.geometry.datation import utc
from ipf.interface import xmlio
from ipf.interface.errors import FormatError
from ipf.interface.xmlio import sub_element

__all__ = ["MANIFEST", "NS_SAFE_L0", "DataObject", "DatastripManifest", "datastrip_objects",
           "datastrip_manifest", "manifest_xml", "write_datastrip_manifest"]

MANIFEST = safe.MANIFEST
NS_SAFE_L0 = "http://www.esa.int/safe/sentinel-1.0"
_VERSION = "esa/safe/sentinel-1.0/sentinel-2/msi/archive_l0_datastrip"
_METADATA_ID = "S2_Level-0_Datastrip_Metadata"
_ANC = re.compile(r"_AUX_S(\d{5})_")


class DataObject(BaseModel):
    """One ``dataObject``: ID, path relative to the PDI, MIME type, size (bytes), SHA3-256 (hex)."""

    model_config = ConfigDict(frozen=True)
    id: str
    href: str
    mime_type: str
    size: int
    sha3_256: str


class DatastripManifest(BaseModel):
    """What the manifest of a datastrip PDI says: platform, processing, acquisition, orbit, files."""

    model_config = ConfigDict(frozen=True)
    mission: str
    mode: str
    processing_centre: str
    creation: datetime
    sensing_start: datetime
    datatake_id: str
    relative_orbit: int
    orbit_direction: Literal["ASCENDING", "DESCENDING"]
    gipps: tuple[str, ...]
    objects: tuple[DataObject, ...]


def datastrip_objects(folder: Path) -> tuple[DataObject, ...]:
    """The data objects of the files of a datastrip PDI folder: its metadata file, then its
    ``ANC_DATA/*_AUX_S<nnnnn>_*.bin`` files by name. Any other file (but manifest.safe and hidden
    temporary files) is a FormatError naming it."""
    folder = Path(folder)
    mtd = l0.datastrip_metadata_file(folder)
    objects = [_object(folder, mtd, _METADATA_ID, "text/xml")]
    for path in sorted(p for p in (folder / l0.ANC_DATA).glob("*.bin") if not p.name.startswith(".")):
        m = _ANC.search(path.name)
        if m is None:
            raise FormatError("ANC_DATA file without _AUX_S<nnnnn>_ in its name", source=path)
        objects.append(_object(folder, path, f"ANC{m.group(1)}_Data", "application/octet-stream"))
    listed = {o.href for o in objects} | {MANIFEST}
    other = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    if unknown := [r for r in other if r not in listed]:
        raise FormatError(f"files the L0 datastrip manifest does not describe: {unknown}", source=folder)
    return tuple(objects)


def _object(folder: Path, path: Path, id_: str, mime: str) -> DataObject:
    return DataObject(id=id_, href=path.relative_to(folder).as_posix(), mime_type=mime,
                      size=path.stat().st_size, sha3_256=safe.sha3_256(path).upper())


def datastrip_manifest(ds: l0_metadata.Datastrip, objects: tuple[DataObject, ...]) -> DatastripManifest:
    """The manifest of a datastrip PDI of metadata ``ds`` holding ``objects``."""
    return DatastripManifest(
        mission=ds.mission, mode=ds.datatake_type, processing_centre=ds.processing_centre,
        creation=ds.creation, sensing_start=ds.sensing_start, datatake_id=ds.datatake_id,
        relative_orbit=ds.orbit_number, orbit_direction=ds.orbit_direction,
        gipps=tuple(g.file_name for g in ds.auxiliary.gipps), objects=objects)


def _t(value: datetime) -> str:
    return f"{utc(value).replace(tzinfo=None).isoformat(timespec='microseconds')}Z"


def manifest_xml(m: DatastripManifest) -> etree._Element:
    """The XFDU tree of ``m``, in the real L0 datastrip manifest's structure."""
    X, S = f"{{{safe.NS_XFDU}}}", f"{{{NS_SAFE_L0}}}"
    root = etree.Element(f"{X}XFDU", nsmap={"xfdu": safe.NS_XFDU, "gml": safe.NS_GML, "safe": NS_SAFE_L0},
                         version=_VERSION)
    top = sub_element(sub_element(root, "informationPackageMap"), f"{X}contentUnit", dmdID="acquisitionPeriod platform",
               pdiID="processing", textInfo="SENTINEL-2 MSI Level-0_Datastrip PDI", unitType="Product_Level-0")
    anc = [o for o in m.objects if o.id != _METADATA_ID]
    for o in m.objects:
        if o.id == _METADATA_ID:
            cu = sub_element(top, f"{X}contentUnit", ID=f"{_METADATA_ID}_Unit", unitType="Metadata Unit")
            sub_element(cu, "dataObjectPointer", dataObjectID=o.id)
    sub_element(top, f"{X}contentUnit", ID="IMG_DATA", textInfo="Image Data container")
    sub_element(top, f"{X}contentUnit", ID="QI_DATA", textInfo="Quality control container")
    anc_unit = sub_element(top, f"{X}contentUnit", ID="ANC_DATA", textInfo="Ancillary data")
    for o in anc:
        cu = sub_element(anc_unit, f"{X}contentUnit", ID=o.id.removesuffix("_Data") + "_Unit", unitType="Data Unit")
        sub_element(cu, "dataObjectPointer", dataObjectID=o.id)
    sub_element(top, f"{X}contentUnit", ID="AUX_DATA", textInfo="Auxiliary data")

    ms = sub_element(root, "metadataSection")

    def wrapped(id_: str, category: str, classification: str = "DESCRIPTION") -> etree._Element:
        mo = sub_element(ms, "metadataObject", ID=id_, category=category, classification=classification)
        return sub_element(sub_element(mo, "metadataWrap"), "xmlData")

    pf = sub_element(wrapped("platform", "DMD"), f"{S}platform")
    if m.mission in safe.NSSDC:
        sub_element(pf, f"{S}nssdcIdentifier", safe.NSSDC[m.mission])
    sub_element(pf, f"{S}familyName", "Sentinel")
    sub_element(pf, f"{S}number", m.mission[1:])
    ins = sub_element(pf, f"{S}instrument")
    sub_element(ins, f"{S}familyName", "Multi-Spectral Instrument", abbreviation="MSI")
    sub_element(ins, f"{S}mode", "Nominal_Observation" if m.mode == "INS-NOBS" else m.mode, identifier=m.mode)
    pr = sub_element(wrapped("processing", "PDI", "PROVENANCE"), f"{S}processing", name="L0 Processing of Raw Data",
              start=_t(m.creation))
    fa = sub_element(pr, f"{S}facility", name=m.processing_centre, site=m.processing_centre)
    sub_element(fa, f"{S}resource", name=f"./{l0.ANC_DATA}/", role="Ancillary data")
    for g in m.gipps:
        sub_element(fa, f"{S}resource", name=g, role="Auxiliary data")
    sub_element(wrapped("acquisitionPeriod", "DMD"), f"{S}acquisitionPeriod", startTime=_t(m.sensing_start))
    orb = sub_element(wrapped("measurementOrbitReference", "DMD"), f"{S}orbitReference")
    sub_element(orb, f"{S}orbitNumber", m.datatake_id, type="start", groundTrackDirection=m.orbit_direction.lower())
    sub_element(orb, f"{S}relativeOrbitNumber", str(m.relative_orbit), type="start")
    sub_element(ms, "metadataObject", ID="measurementFrameSet", category="DMD", classification="DESCRIPTION")
    info = sub_element(ms, "metadataObject", ID="S2_Level-0_Datastrip_Information", category="DMD",
                classification="DESCRIPTION")
    sub_element(info, "dataObjectPointer", dataObjectID=_METADATA_ID)

    dos = sub_element(root, "dataObjectSection")
    for o in m.objects:
        bs = sub_element(sub_element(dos, "dataObject", ID=o.id), "byteStream", mimeType=o.mime_type, size=str(o.size))
        sub_element(bs, "fileLocation", href=f"./{o.href}", locatorType="URL")
        sub_element(bs, "checksum", o.sha3_256, checksumName="SHA3-256")
    return root


def write_datastrip_manifest(folder: Path, ds: l0_metadata.Datastrip) -> Path:
    """Write ``folder/manifest.safe`` of the datastrip PDI ``folder`` (metadata ``ds``), listing
    the files it holds now: call it after every other file of the PDI is written. Atomic,
    deterministic; returns the path."""
    folder = Path(folder)
    return xmlio.write_atomic(manifest_xml(datastrip_manifest(ds, datastrip_objects(folder))), folder / MANIFEST)
