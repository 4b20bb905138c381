"""The demo processor S2IPF_DEMO: two small tasks that exercise the whole interface.

``DEMO_GENERATE`` reads a text file of numbers (``DEMO_INPUT``), scales them by ``DEMO_SCALE``
and writes a product directory (``DEMO_L1``) with the values and a manifest of SHA-256 sums;
``DEMO_REPORT`` checks that product against its manifest and writes a statistics report
(``REPORT``). Integration testers can make ``DEMO_GENERATE`` slow (``DEMO_SLEEP`` seconds, with
progress lines) or fail (``DEMO_FAIL``) to rehearse how a host handles timeouts, aborts and errors.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.interface.files import atomic_write

__all__ = ["generate", "report"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate(ctx: TaskContext) -> None:
    """DEMO_GENERATE: ``DEMO_INPUT`` (numbers, one per line) -> ``DEMO_L1`` product directory."""
    source = ctx.input("DEMO_INPUT")
    try:
        values = [float(line) for line in source.read_text().split()]
    except ValueError as exc:
        raise TaskError(f"{source}: not a list of numbers ({exc})") from None
    if not values:
        raise TaskError(f"{source}: no values")
    ctx.progress(0, f"{len(values)} values from {source.name}")

    sleep = float(ctx.params.get("DEMO_SLEEP", 0.0))
    steps = max(1, int(sleep / 0.5))
    for i in range(steps):
        if sleep:
            time.sleep(sleep / steps)
        ctx.progress(100.0 * (i + 1) / steps, "generating")
    if ctx.params.get("DEMO_FAIL", False):
        raise RuntimeError("DEMO_FAIL is set: failing on purpose")

    scale = float(ctx.params.get("DEMO_SCALE", 1.0))
    scaled = [v * scale for v in values]
    product = ctx.output("DEMO_L1")
    (product / "values.txt").write_text("".join(f"{v:.6f}\n" for v in scaled))
    brk = ctx.breakpoint("DEMO_GENERATE_SCALED")
    if brk is not None:
        atomic_write(brk, json.dumps({"input": str(source), "scale": scale, "n": len(values)}) + "\n")
        ctx.log.info(f"breakpoint written: {brk}")
    manifest = {"task": ctx.task.name, "scale": scale, "test": ctx.test,
                "files": {"values.txt": _sha256(product / "values.txt")}}
    (product / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    ctx.log.info(f"wrote {len(scaled)} values scaled by {scale}")


def report(ctx: TaskContext) -> None:
    """DEMO_REPORT: check ``DEMO_L1`` against its manifest, write statistics to ``REPORT`` (XML)."""
    from lxml import etree

    product = ctx.input("DEMO_L1")
    manifest = json.loads((product / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        if _sha256(product / name) != digest:
            raise TaskError(f"{product / name}: checksum differs from the manifest")
    values = [float(v) for v in (product / "values.txt").read_text().split()]
    root = etree.Element("Demo_Report", processor=ctx.job.processor_name, version=ctx.job.version)
    for tag, value in (("Count", len(values)), ("Sum", sum(values)),
                       ("Mean", sum(values) / len(values)), ("Min", min(values)), ("Max", max(values))):
        etree.SubElement(root, tag).text = f"{value:.6f}" if isinstance(value, float) else str(value)
    ctx.output("REPORT").write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                    pretty_print=True))
    ctx.log.info(f"report: {len(values)} values, mean {sum(values) / len(values):.6f}")
