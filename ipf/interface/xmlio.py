"""Safe reading and XSD validation of the XML files the processor consumes.

Every XML file that crosses the interface (Job Orders, task tables, GIPPs) is read here, so the
protections are in one place: a size limit, no DTD (hence no external entities and no entity
expansion bombs), no network access, then validation with :mod:`xmlschema` against the XSDs of
``ipf/schemas/``. Errors are an :class:`~ipf.interface.errors.IpfError` class chosen by the caller
(``TaskTableError``, ``JobOrderError``...), naming the file and the element.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from lxml import etree

from ipf.interface.errors import IpfError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.files import atomic_write

__all__ = ["MAX_XML_BYTES", "SCHEMA_DIR", "TRUE_WORDS", "FALSE_WORDS", "parse", "validate", "sub_element",
           "schema", "cache_dir", "text", "parse_bool", "as_bool", "write_atomic"]

#: spellings of true and false in Job Orders and task tables (``xs:boolean``, the ESA ``Yes``/``No``
#: and ``ON``/``OFF``), compared in lower case
TRUE_WORDS = frozenset({"true", "on", "yes", "1"})
FALSE_WORDS = frozenset({"false", "off", "no", "0"})

#: largest XML file read, in bytes (a Job Order listing thousands of files is a few MB)
MAX_XML_BYTES = int(os.environ.get("IPF_MAX_XML_BYTES", 32 * 1024 * 1024))

SCHEMA_DIR = Path(os.environ.get("IPF_SCHEMA_DIR", str(resources.files("ipf") / "schemas")))

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_comments=True,
                          remove_pis=True)


def parse(path: os.PathLike | str, *, error: type[IpfError], code: ExitCode | None = None,
          root: str | None = None) -> etree._ElementTree:
    """Parse ``path`` safely; ``error`` is the class of the errors raised (with exit code ``code``
    when given, else the class's), ``root`` the expected root tag."""
    path = Path(path)
    error = functools.partial(error, code=code)
    try:
        size = path.stat().st_size
        if size > MAX_XML_BYTES:
            raise error(f"file is {size} bytes, larger than the {MAX_XML_BYTES}-byte limit "
                        "(IPF_MAX_XML_BYTES)", source=path)
        data = path.read_bytes()
    except IpfError:
        raise
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", source=path) from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise error("DTD and entity declarations are not allowed", source=path,
                    element=f"line {_line_of(data, b'<!')}")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _PARSER, base_url=str(path)))
    except etree.XMLSyntaxError as exc:
        line = f"line {exc.lineno}" if exc.lineno else None
        raise error(f"malformed XML: {exc.msg}", source=path, element=line) from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise error("DTD and entity declarations are not allowed", source=path)
    if root is not None and etree.QName(tree.getroot()).localname != root:
        raise error(f"root element is <{tree.getroot().tag}>, expected <{root}>",
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
    """The compiled XSD ``ipf/schemas/<name>``.

    Compiling an XSD with xmlschema costs more than the rest of a task's start-up, and ``ipf`` runs
    once per task, so the compiled schema is pickled in :func:`cache_dir`, keyed by the content of
    every XSD of ``ipf/schemas/`` and the xmlschema and Python versions.
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
        atomic_write(cached, pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
    return compiled


def validate(tree: etree._ElementTree, schema_name: str, *, source: os.PathLike | str,
             error: type[IpfError], code: ExitCode | None = None) -> None:
    """Raise an ``error`` (exit code ``code`` when given) for the first way ``tree`` breaks
    ``ipf/schemas/<schema_name>``."""
    for problem in schema(schema_name).iter_errors(tree):
        element = problem.path or (tree.getpath(problem.elem) if problem.elem is not None else None)
        line = getattr(problem, "sourceline", None)
        if line:
            element = f"{element} (line {line})" if element else f"line {line}"
        reason = problem.reason or problem.message
        value = problem.obj if isinstance(problem.obj, str) else None
        if value is None and problem.elem is not None and len(problem.elem) == 0 and problem.elem.text:
            value = problem.elem.text.strip()
        if value is not None and repr(value) not in reason:
            reason = f"{value!r}: {reason}"
        raise error(f"not valid against {schema_name}: {reason}", source=source, element=element,
                    code=code)


def sub_element(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A new child ``tag`` of ``parent`` with ``attrib`` and, unless None, the ``text``."""
    el = etree.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def text(elem: etree._Element, child: str, default: str | None = None) -> str | None:
    """The whitespace-stripped text of ``elem``'s first child named ``child``, or ``default``."""
    found = elem.find(child)
    if found is None:
        return default
    return (found.text or "").strip()


def parse_bool(value: str | None) -> bool | None:
    """``value`` as a Boolean (any case, surrounding spaces ignored); ``None`` when it is none of
    :data:`TRUE_WORDS` and :data:`FALSE_WORDS`."""
    word = (value or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def as_bool(value: str | None) -> bool:
    """True when ``value`` is one of :data:`TRUE_WORDS` (for values the schema has checked)."""
    return parse_bool(value) is True


def write_atomic(tree: etree._ElementTree | etree._Element, path: os.PathLike | str) -> Path:
    """Write ``tree`` (UTF-8, XML declaration, indented) to ``path`` atomically and fsynced."""
    data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return atomic_write(path, data, fsync=True)
