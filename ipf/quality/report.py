"""The OLQC report: one XML file beside the checked product.

``<OLQC_Report>`` holds the product name, the processor, the GIPP used, the creation time, the
global status (the worst of the checks: FAILED > WARNING > PASSED) and one ``<Check>`` per check
with its category (the product's ``quality_check@checkType``), status, measured value, limits,
unit and a message. Schema: ``ipf/schemas/olqc/OLQC_Report.xsd``; the file is validated before it is
renamed into place.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path

from lxml import etree
from pydantic import BaseModel

__all__ = ["CATEGORIES", "SCHEMA_NAME", "CheckResult", "OlqcReport", "Status", "to_xml", "worst", "write_report"]

SCHEMA_NAME = "olqc/OLQC_Report.xsd"
CATEGORIES = ("FORMAT_CORRECTNESS", "GENERAL_QUALITY", "GEOMETRIC_QUALITY", "RADIOMETRIC_QUALITY",
              "SENSOR_QUALITY")


class Status(str, Enum):
    PASSED = "PASSED"
    WARNING = "WARNING"
    FAILED = "FAILED"


_RANK = {Status.PASSED: 0, Status.WARNING: 1, Status.FAILED: 2}


def worst(statuses) -> Status:
    """The worst status (PASSED when there is none)."""
    return max(statuses, key=_RANK.__getitem__, default=Status.PASSED)


class CheckResult(BaseModel):
    """The outcome of one check (``item``: the band or file it is about, if any)."""

    name: str
    category: str
    status: Status
    value: float | None = None
    minimum: float | None = None
    threshold: float | None = None
    unit: str = ""
    item: str = ""
    message: str = ""


class OlqcReport(BaseModel):
    product: str
    processor: str
    gipp: str
    created: datetime
    checks: list[CheckResult]

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.checks)

    def category_status(self) -> dict[str, Status]:
        """PASSED or FAILED per category (a WARNING does not fail a quality indicator)."""
        return {cat: Status.FAILED if any(c.status == Status.FAILED for c in self.checks if c.category == cat)
                else Status.PASSED for cat in CATEGORIES}


def _num(v: float) -> str:
    return repr(float(v))


def to_xml(report: OlqcReport) -> etree._Element:
    root = etree.Element("OLQC_Report", version="1.0")
    for tag, text in (("Product", report.product), ("Processor", report.processor), ("GIPP", report.gipp),
                      ("Creation_Date", report.created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
                      ("Global_Status", report.status.value)):
        etree.SubElement(root, tag).text = text
    cats = etree.SubElement(root, "Quality_Inspections")
    for cat, st in report.category_status().items():
        etree.SubElement(cats, "quality_check", checkType=cat).text = st.value
    checks = etree.SubElement(root, "List_of_Checks", count=str(len(report.checks)))
    for c in report.checks:
        e = etree.SubElement(checks, "Check", name=c.name, category=c.category)
        if c.item:
            e.set("item", c.item)
        etree.SubElement(e, "Status").text = c.status.value
        if c.value is not None:
            etree.SubElement(e, "Value", unit=c.unit).text = _num(c.value)
        if c.minimum is not None:
            etree.SubElement(e, "Minimum", unit=c.unit).text = _num(c.minimum)
        if c.threshold is not None:
            etree.SubElement(e, "Threshold", unit=c.unit).text = _num(c.threshold)
        etree.SubElement(e, "Message").text = c.message
    return root


def write_report(report: OlqcReport, path: Path) -> Path:
    """Write the report XML, validated against ``ipf/schemas/olqc/OLQC_Report.xsd``, atomically."""
    from ipf.interface import xmlio
    from ipf.interface.errors import TaskError

    root = to_xml(report)
    xmlio.validate(etree.ElementTree(root), SCHEMA_NAME, source=path, error=TaskError)
    return xmlio.write_atomic(root, path)
