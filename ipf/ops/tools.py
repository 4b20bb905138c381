"""``ipf-tools``: operator commands on products.

::

    ipf-tools metadata get PRODUCT XPATH [--file F]        print each selected value on a line
    ipf-tools metadata set PRODUCT XPATH VALUE [--file F]  set the selected nodes, validated,
                                                           written atomically, manifest refreshed

``PRODUCT`` is an L1C SAFE folder; ``--file`` picks ``MTD_MSIL1C.xml`` (default), ``MTD_TL.xml``,
``MTD_DS.xml`` or a path relative to the product; XPaths and namespaces as in
:mod:`ipf.formats.metadata`, e.g.::

    ipf-tools metadata get P.SAFE '//Cloud_Coverage_Assessment'
    ipf-tools metadata set P.SAFE '//quality_check[@checkType="GENERAL_QUALITY"]' PASSED
    ipf-tools metadata get P.SAFE '//Tile_Geocoding/HORIZONTAL_CS_CODE' --file MTD_TL.xml

Exit codes (those of :mod:`ipf.interface.exitcodes` where one fits): 0 done; 1 ``get`` selected nothing;
128 usage error (as ``ipf``); 133 invalid XPath, nothing to set, or a value the XSD refuses (the
file is left unchanged); 134 product or file missing; 141 the file cannot be written.
"""

from __future__ import annotations

import argparse
import sys

from ipf import __version__


__all__ = ["NOTHING_SELECTED", "main"]

NOTHING_SELECTED = 1


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with 128 (JOB_ORDER_READ_ERROR), as ``ipf`` does, not argparse's 2."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(128, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ipf-tools", description="s2ipf operator tools.")
    p.add_argument("--version", action="version", version=f"s2ipf {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    md = sub.add_parser("metadata", help="read or update a product's metadata")
    ops = md.add_subparsers(dest="op", required=True, parser_class=_Parser)
    g = ops.add_parser("get", help="print the values an XPath selects")
    g.add_argument("product")
    g.add_argument("xpath")
    g.add_argument("--file", default=None, help="MTD_MSIL1C.xml (default), MTD_TL.xml, MTD_DS.xml or a path")
    s = ops.add_parser("set", help="set the nodes an XPath selects")
    s.add_argument("product")
    s.add_argument("xpath")
    s.add_argument("value")
    s.add_argument("--file", default=None, help="MTD_MSIL1C.xml (default), MTD_TL.xml, MTD_DS.xml or a path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ipf.interface.errors import IpfError
    from ipf.formats import metadata

    try:
        if args.op == "get":
            values = metadata.get(args.product, args.xpath, args.file)
            for v in values:
                print(v)
            return 0 if values else NOTHING_SELECTED
        n = metadata.set_value(args.product, args.xpath, args.value, args.file)
        print(f"{n} node{'s' if n != 1 else ''} set", file=sys.stderr)
        return 0
    except IpfError as exc:
        print(f"ipf-tools: error: {exc}", file=sys.stderr)
        return int(exc.code)


if __name__ == "__main__":
    sys.exit(main())
