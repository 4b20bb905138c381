"""Reading and safely updating the metadata of an L1C SAFE product (used by OLQC and operators).

- :func:`get` ``(product, xpath, file=None)`` -> the values the XPath selects, as strings;
- :func:`set_value` ``(product, xpath, value, file=None)`` -> sets every node the XPath selects
  (elements without child elements, attributes or text nodes) and returns how many;
- :func:`refresh_manifest` ``(product)`` -> recomputes the size and SHA3-256 of every file
  manifest.safe lists.

``file`` picks the XML file: ``None`` is ``MTD_MSIL1C.xml``; ``MTD_TL.xml`` and ``MTD_DS.xml``
the product's (only) granule and datastrip metadata; anything else a path relative to the
product folder (``manifest.safe``, ``GRANULE/.../MTD_TL.xml``), never outside it.

XPaths are XPath 1.0 evaluated with lxml against the document root. Every namespace prefix
declared in the file is usable as declared (``n1`` in the MTD files, ``xfdu``, ``safe``, ``gml``
in manifest.safe; the descendants of the MTD sections are unqualified, as in real products):
``/n1:Level-1C_User_Product/n1:Quality_Indicators_Info/Cloud_Coverage_Assessment``. A default
namespace (``xmlns="..."``), if a file has one, is bound to the prefix ``d``.

An update is safe: the file is parsed without DTDs or entities (:func:`ipf.interface.xmlio.parse`), changed
in memory, validated against its XSD (:data:`ipf.formats.safe.SCHEMAS`), manifest.safe is
updated in memory with the new size and checksum and validated too; only then are both written
to temporary files, fsynced and renamed into place (the XML first, then the manifest, then the
folder fsynced). Anything wrong leaves both files unchanged. Errors are
:class:`~ipf.interface.errors.IpfError` naming the file and the XPath: ``XML_ERROR`` (133) for a bad
XPath, nothing selected, a node that cannot take a value, or a result that breaks the XSD;
``MISSING_MANDATORY_FILE`` (134) for a missing product or file; ``OUTPUT_ERROR`` (141) when
writing fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

from ipf.interface import xmlio
from ipf.interface.errors import FormatError, IpfError, MissingInputError, OutputError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_write_all
from ipf.formats import safe


__all__ = ["DEFAULT_PREFIX", "resolve", "namespaces", "get", "set_value", "refresh_manifest"]

DEFAULT_PREFIX = "d"
"""Prefix bound to a file's default namespace in XPaths."""


def resolve(product: os.PathLike | str, file: str | None = None) -> Path:
    """The XML file of ``product`` that ``file`` designates (see the module docstring)."""
    root = Path(product)
    if not root.is_dir():
        raise MissingInputError("not a product folder", source=root)
    if file in (None, "", safe.PRODUCT_MTD):
        found = [root / safe.PRODUCT_MTD]
    elif file == safe.TILE_MTD:
        found = sorted(root.glob(f"GRANULE/*/{safe.TILE_MTD}"))
    elif file == safe.DATASTRIP_MTD:
        found = sorted(root.glob(f"DATASTRIP/*/{safe.DATASTRIP_MTD}"))
    else:
        path = (root / file).resolve()
        if not path.is_relative_to(root.resolve()):
            raise MissingInputError(f"{file} is outside the product", source=root)
        found = [path]
    if len(found) != 1:
        raise MissingInputError(f"expected one {file}, the product has {len(found)}", source=root)
    if not found[0].is_file():
        raise MissingInputError("no such file", source=found[0])
    return found[0]


def namespaces(tree: etree._ElementTree) -> dict[str, str]:
    """Prefix -> URI of every namespace declared in the document; the default one as ``d``."""
    out: dict[str, str] = {}
    for el in tree.iter(etree.Element):
        for prefix, uri in el.nsmap.items():
            out.setdefault(DEFAULT_PREFIX if prefix is None else prefix, uri)
    return out


def _select(tree: etree._ElementTree, xpath: str, path: Path):
    try:
        return tree.xpath(xpath, namespaces=namespaces(tree))
    except etree.XPathError as exc:
        raise FormatError(f"invalid XPath: {exc}", source=path, element=xpath,
                          code=ExitCode.XML_ERROR) from None


def _text(node) -> str:
    if isinstance(node, etree._Element):
        if len(node):
            return etree.tostring(node, encoding="unicode", with_tail=False).strip()
        return (node.text or "").strip()
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float):
        return str(int(node)) if node.is_integer() else repr(node)
    return str(node).strip()


def get(product: os.PathLike | str, xpath: str, file: str | None = None) -> list[str]:
    """The values ``xpath`` selects in ``file`` of ``product``: the text of leaf elements, the
    XML of elements with children, attribute values and text nodes; one string for an XPath
    that evaluates to a number, boolean or string."""
    path = resolve(product, file)
    result = _select(xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR), xpath, path)
    if not isinstance(result, list):
        return [_text(result)]
    return [_text(n) for n in result]


def set_value(product: os.PathLike | str, xpath: str, value: str, file: str | None = None) -> int:
    """Set every node ``xpath`` selects in ``file`` of ``product`` to ``value``, validated and
    written atomically with the manifest refreshed (module docstring); returns the node count."""
    product = Path(product)
    path = resolve(product, file)
    tree = xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)
    nodes = _select(tree, xpath, path)
    if not isinstance(nodes, list) or not nodes:
        raise FormatError("the XPath selects no element or attribute", source=path,
                          element=xpath, code=ExitCode.XML_ERROR)
    value = str(value)
    for node in nodes:
        if isinstance(node, etree._Element):
            if len(node):
                raise FormatError(f"<{etree.QName(node).localname}> has child elements; "
                                  "select a leaf element or an attribute", source=path,
                                  element=xpath, code=ExitCode.XML_ERROR)
            node.text = value
        elif isinstance(node, etree._ElementUnicodeResult) and node.is_attribute:
            node.getparent().set(node.attrname, value)
        elif isinstance(node, etree._ElementUnicodeResult) and node.is_text:
            node.getparent().text = value
        else:
            raise FormatError(f"cannot set a value on {type(node).__name__} {node!r}",
                              source=path, element=xpath, code=ExitCode.XML_ERROR)
    _validate(tree, path, xpath)
    data = safe.serialize(tree.getroot())
    manifest_path = product / safe.MANIFEST
    writes = [(path, data)]
    if path.resolve() != manifest_path.resolve():
        manifest = _manifest_with(product, {path: data})
        writes.append((manifest_path, safe.serialize(manifest.getroot())))
    _write_all(writes, xpath)
    return len(nodes)


def refresh_manifest(product: os.PathLike | str) -> Path:
    """Recompute size and checksum of every file manifest.safe lists; validated, atomic."""
    product = Path(product)
    manifest = _manifest_with(product, {})
    path = product / safe.MANIFEST
    _write_all([(path, safe.serialize(manifest.getroot()))], None)
    return path


def _validate(tree: etree._ElementTree, path: Path, xpath: str | None) -> None:
    try:
        schema = safe.schema_for(tree.getroot())
    except ValueError as exc:
        raise FormatError(f"{exc}: not a file of this product that can be updated",
                          source=path, element=xpath, code=ExitCode.XML_ERROR) from None
    try:
        xmlio.validate(tree, schema, source=path, error=FormatError, code=ExitCode.XML_ERROR)
    except IpfError as exc:
        where = f"{xpath} -> {exc.element}" if xpath and exc.element else (xpath or exc.element)
        raise type(exc)(f"{exc.message}; file left unchanged", source=path, element=where,
                        code=exc.code) from None


def _manifest_with(product: Path, new: dict[Path, bytes]) -> etree._ElementTree:
    """manifest.safe of ``product`` with every listed file's size and SHA3-256 set from disk or,
    for the files of ``new``, from their new bytes; validated."""
    import hashlib

    mpath = product / safe.MANIFEST
    if not mpath.is_file():
        raise MissingInputError("no manifest.safe", source=product)
    tree = xmlio.parse(mpath, error=FormatError, code=ExitCode.XML_ERROR)
    pending = {p.resolve(): data for p, data in new.items()}
    for stream in tree.getroot().iterfind("dataObjectSection/dataObject/byteStream"):
        loc = stream.find("fileLocation")
        rel = (loc.get("href") or "").removeprefix("./") if loc is not None else ""
        target = (product / rel).resolve()
        if target in pending:
            data = pending.pop(target)
            size, digest = len(data), hashlib.sha3_256(data).hexdigest()
        elif target.is_file():
            size, digest = target.stat().st_size, safe.sha3_256(target)
        else:
            raise MissingInputError("listed in manifest.safe but missing",
                                    source=product / rel)
        stream.set("size", str(size))
        checksum = stream.find("checksum")
        if checksum is None:
            raise FormatError("dataObject without checksum", source=mpath,
                              element=tree.getpath(stream), code=ExitCode.XML_ERROR)
        checksum.text = digest
    if pending:
        raise FormatError("not listed in manifest.safe", source=next(iter(pending)),
                          code=ExitCode.XML_ERROR)
    _validate(tree, mpath, None)
    return tree


def _write_all(writes: list[tuple[Path, bytes]], xpath: str | None) -> None:
    """Publish every (path, bytes) together (:func:`ipf.interface.files.atomic_write_all`)."""
    try:
        atomic_write_all(writes)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}",
                          source=exc.filename or writes[0][0], element=xpath) from None
