"""Earth Explorer XML files: fixed header, UTC strings, validated atomic writing.

Used by the L0 metadata and satellite ancillary files whose XSDs live in ``ipf/schemas/l0`` (the
GIPPs have their own generated schemas, see :mod:`ipf.formats.gipp`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from ipf.interface import xmlio
from ipf.interface.errors import FormatError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_path


__all__ = ["utc", "parse_utc", "new_file", "sub", "schema", "write_validated", "read_validated"]



def utc(t: datetime) -> str:
    """``UTC=YYYY-MM-DDThh:mm:ss.ffffff`` of a datetime (naive = UTC)."""
    return "UTC=" + t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_utc(text: str) -> datetime:
    """Inverse of :func:`utc` (also accepts no fraction); returns an aware UTC datetime."""
    s = text.strip().removeprefix("UTC=")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc)


def new_file(file_name: str, file_type: str, description: str, mission: str,
             validity: tuple[datetime, datetime], creation: datetime,
             file_class: str = "OPER") -> tuple[etree._Element, etree._Element]:
    """(root, Data_Block) of a new Earth Explorer file with its fixed header filled."""
    root = etree.Element("Earth_Explorer_File")
    fh = etree.SubElement(etree.SubElement(root, "Earth_Explorer_Header"), "Fixed_Header")
    for tag, text in (("File_Name", file_name), ("File_Description", description),
                      ("Notes", "Simulated by s2ipf.simulator"), ("Mission", mission),
                      ("File_Class", file_class), ("File_Type", file_type)):
        etree.SubElement(fh, tag).text = text
    vp = etree.SubElement(fh, "Validity_Period")
    etree.SubElement(vp, "Validity_Start").text = utc(validity[0])
    etree.SubElement(vp, "Validity_Stop").text = utc(validity[1])
    etree.SubElement(fh, "File_Version").text = "0001"
    src = etree.SubElement(fh, "Source")
    for tag, text in (("System", "S2IPF"), ("Creator", "s2ipf.simulator"), ("Creator_Version", "0.1.0"),
                      ("Creation_Date", utc(creation))):
        etree.SubElement(src, tag).text = text
    block = etree.SubElement(root, "Data_Block", type="xml")
    return root, block


def sub(parent: etree._Element, tag: str, text: object = None, **attrib: str) -> etree._Element:
    """Append a child element with optional text and attributes."""
    el = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        el.text = repr(text) if isinstance(text, float) else str(text)
    return el


def schema(name: str):
    """The compiled XSD ``ipf/schemas/l0/<name>.xsd`` (cached by :func:`ipf.interface.xmlio.schema`)."""
    return xmlio.schema(f"l0/{name}.xsd")


def write_validated(root: etree._Element, path: Path, schema_name: str) -> Path:
    """Write ``root`` to a temporary file beside ``path``, validate it, rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        schema(schema_name).validate(str(tmp))
    return path


def read_validated(path: Path, schema_name: str) -> etree._Element:
    """Read ``path`` safely, validate it against ``ipf/schemas/l0/<schema_name>.xsd`` and return its
    Data_Block; a :class:`~ipf.interface.errors.FormatError` (``XML_ERROR``) names the file and element."""
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    xmlio.validate(tree, f"l0/{schema_name}.xsd", source=path, error=FormatError,
                   code=ExitCode.XML_ERROR)
    return tree.getroot().find("Data_Block")
