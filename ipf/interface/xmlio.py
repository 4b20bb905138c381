"""Safe reading and XSD validation of the XML files the processor consumes.

Every XML file that crosses the interface (Job Orders, task tables, GIPPs) is read here, so the
protections are in one place: a size limit, no DTD (hence no external entities and no entity
expansion bombs), no network access, then validation with :mod:`xmlschema` against the XSDs of
``schemas/``. Errors are :class:`~ipf.interface.exitcodes.IpfError` naming the file and the element.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from lxml import etree

from ipf.interface.exitcodes import ExitCode, IpfError

#: largest XML file read, in bytes (a Job Order listing thousands of files is a few MB)
MAX_XML_BYTES = int(os.environ.get("IPF_MAX_XML_BYTES", 32 * 1024 * 1024))

SCHEMA_DIR = Path(os.environ.get("IPF_SCHEMA_DIR", str(resources.files("ipf") / "schemas")))

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_comments=True,
                          remove_pis=True)


def parse(path: os.PathLike | str, *, code: ExitCode, root: str | None = None) -> etree._ElementTree:
    """Parse ``path`` safely; ``code`` is the exit code of the errors, ``root`` the expected root tag."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_XML_BYTES:
            raise IpfError(code, f"file is {size} bytes, larger than the {MAX_XML_BYTES}-byte limit "
                                 "(IPF_MAX_XML_BYTES)", source=path)
        data = path.read_bytes()
    except IpfError:
        raise
    except OSError as exc:
        raise IpfError(code, f"cannot read: {exc.strerror or exc}", source=path) from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise IpfError(code, "DTD and entity declarations are not allowed", source=path,
                       element=f"line {_line_of(data, b'<!')}")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _PARSER, base_url=str(path)))
    except etree.XMLSyntaxError as exc:
        line = f"line {exc.lineno}" if exc.lineno else None
        raise IpfError(code, f"malformed XML: {exc.msg}", source=path, element=line) from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise IpfError(code, "DTD and entity declarations are not allowed", source=path)
    if root is not None and etree.QName(tree.getroot()).localname != root:
        raise IpfError(code, f"root element is <{tree.getroot().tag}>, expected <{root}>",
                       source=path, element=f"/{tree.getroot().tag}")
    return tree


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.find(needle)].count(b"\n") + 1


def cache_dir() -> Path:
    """Where compiled schemas (and other start-up caches) are kept: ``IPF_CACHE_DIR`` or
    ``~/.cache/s2ipf``."""
    return Path(os.environ.get("IPF_CACHE_DIR") or Path.home() / ".cache" / "s2ipf")


@functools.lru_cache(maxsize=None)
def schema(name: str):
    """The compiled XSD ``schemas/<name>``.

    Compiling an XSD with xmlschema costs more than the rest of a task's start-up, and ``ipf`` runs
    once per task, so the compiled schema is pickled in :func:`cache_dir`, keyed by the content of
    every XSD of ``schemas/`` and the xmlschema and Python versions.
    """
    import hashlib
    import pickle
    import sys

    import xmlschema

    key = hashlib.sha256(f"{xmlschema.__version__} {sys.version}".encode())
    for xsd in sorted(SCHEMA_DIR.rglob("*.xsd")):
        key.update(xsd.name.encode() + xsd.read_bytes())
    cached = cache_dir() / "xsd" / f"{Path(name).stem}-{key.hexdigest()[:16]}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except Exception:
        pass
    compiled = xmlschema.XMLSchema10(str(SCHEMA_DIR / name))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.tmp-{os.getpid()}")
        tmp.write_bytes(pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, cached)
    except OSError:
        pass
    return compiled


def validate(tree: etree._ElementTree, schema_name: str, *, source: os.PathLike | str,
             code: ExitCode) -> None:
    """Raise an :class:`IpfError` for the first way ``tree`` breaks ``schemas/<schema_name>``."""
    for error in schema(schema_name).iter_errors(tree):
        element = error.path or (tree.getpath(error.elem) if error.elem is not None else None)
        line = getattr(error, "sourceline", None)
        if line:
            element = f"{element} (line {line})" if element else f"line {line}"
        reason = error.reason or error.message
        value = error.obj if isinstance(error.obj, str) else None
        if value is None and error.elem is not None and len(error.elem) == 0 and error.elem.text:
            value = error.elem.text.strip()
        if value is not None and repr(value) not in reason:
            reason = f"{value!r}: {reason}"
        raise IpfError(code, f"not valid against {schema_name}: {reason}", source=source,
                       element=element)


def text(elem: etree._Element, child: str, default: str | None = None) -> str | None:
    """The whitespace-stripped text of ``elem``'s first child named ``child``, or ``default``."""
    found = elem.find(child)
    if found is None:
        return default
    return (found.text or "").strip()


def write_atomic(tree: etree._ElementTree | etree._Element, path: os.PathLike | str) -> Path:
    """Write ``tree`` to ``path`` through a temporary file in the same directory, then rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
