"""On-line quality control of an L1C tile product (OLQC_TILE_L1C).

OLQC_TILE_L1C: PDI_SAFE (the L1C SAFE) + GIP_OLQCPA -> REPORT (the OLQC report XML,
:mod:`ipf.quality.report`). The checks are those of :mod:`ipf.quality.checks` that the GIPP lists
for level L1C; the product's quality indicators
(``Quality_Inspections/quality_check@checkType`` of MTD_MSIL1C.xml: PASSED, or FAILED when a
check of that category failed) are then updated through the metadata API
(:mod:`ipf.formats.metadata`: validated, atomic, manifest refreshed). A failed check is reported
and ends the task with a warning (exit code 14), never an error; a product whose metadata
cannot be updated (e.g. an invalid MTD_MSIL1C.xml) keeps it as it is, with a warning.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ipf.formats import gipp
from ipf.interface.context import TaskContext
from ipf.interface.errors import InputError, IpfError
from ipf.quality.report import OlqcReport, Status, write_report

__all__ = ["QUALITY_XPATH", "olqc_tile_l1c"]

QUALITY_XPATH = ("/n1:Level-1C_User_Product/n1:Quality_Indicators_Info/Quality_Control_Checks/"
                 "Quality_Inspections/quality_check[@checkType='{}']")


def olqc_tile_l1c(ctx: TaskContext) -> None:
    """OLQC_TILE_L1C: PDI_SAFE + GIP_OLQCPA -> REPORT; updates the product's quality indicators."""
    from ipf.formats import metadata
    from ipf.quality.checks import run_checks

    product = ctx.input("PDI_SAFE")
    if not product.is_dir():
        raise InputError("not a product folder", source=product)
    olqcpa_file = gipp.select_gipp(ctx.inputs("GIP_OLQCPA"), "GIP_OLQCPA", "B00", *_sensing(ctx, product))
    olqcpa = gipp.read_gipp(olqcpa_file, gipp.GIP_OLQCPA)
    checks = [c for c in olqcpa.checks if c.level == "L1C"]
    if not checks:
        raise InputError("no L1C check configured", source=olqcpa_file)
    results = run_checks(product, checks)
    report = OlqcReport(product=product.name, processor=f"{ctx.table.processor_name} {ctx.table.version}",
                        gipp=olqcpa_file.name, created=_created(product), checks=results)
    write_report(report, ctx.output("REPORT"))
    for r in results:
        if r.status != Status.PASSED:
            line = f"{r.name}{' ' + r.item if r.item else ''}: {r.status.value}" + (f" ({r.message})" if r.message else "")
            (ctx.warn if r.status == Status.FAILED else ctx.log.warning)(line)
    try:
        for category, status in report.category_status().items():
            metadata.set_value(product, QUALITY_XPATH.format(category), status.value)
    except IpfError as exc:
        ctx.warn(f"quality indicators of {product.name} not updated: {exc}")
    counts = {s: sum(r.status == s for r in results) for s in Status}
    ctx.log.info(f"OLQC of {product.name}: {report.status.value} ({counts[Status.PASSED]} passed, "
                 f"{counts[Status.WARNING]} warnings, {counts[Status.FAILED]} failed)")


def _sensing(ctx: TaskContext, product) -> tuple[datetime | None, datetime | None]:
    """The sensing period the GIPPs must cover: the Job Order's Sensing_Time, else the datatake
    start of the product name, else none (any version)."""
    from ipf.formats import safe

    if ctx.job.sensing_time is not None:
        return ctx.job.sensing_time.start, ctx.job.sensing_time.stop
    try:
        start = safe.parse_safe_name(product.name).datatake_start
    except ValueError:
        return None, None
    return start, start


def _created(product) -> datetime:
    """The product's generation time (deterministic reports for the same product)."""
    from ipf.formats import safe

    try:
        return safe.parse_safe_name(product.name).discriminator.replace(tzinfo=timezone.utc)
    except ValueError:  # a non-standard name: the current time
        return datetime.now(timezone.utc)
