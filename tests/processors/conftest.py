"""Fixtures of the processor task tests: the L0c, L1A and L1B stores of the session's ``small``
simulation (tests/conftest.py), made once in process by FORMAT_ISP, DECOMP, RADIO_AB and QL_GEO."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processors.proc_fixtures import job_inputs, task_context


@dataclass(frozen=True)
class SmallProducts:
    """The ``small`` simulation folder ``sim`` (seed 1: B02, B05, B01; detectors 6 and 7; 6
    granules), its Simulation ``truth`` and the stores the tasks made from it."""

    sim: Path
    truth: object
    l0c: Path
    ql_geo: Path
    l1a: Path
    l1b: Path


@pytest.fixture(scope="session")
def small_products(small, tmp_path_factory) -> SmallProducts:
    from ipf.processors.l0.ql import ql_geo
    from ipf.processors.l0.tasks import format_isp
    from ipf.processors.l1a.tasks import decomp
    from ipf.processors.l1b.tasks import radio_ab

    sim, truth = small
    out = tmp_path_factory.mktemp("small_products")
    p = SmallProducts(sim, truth, out / "l0c", out / "ql_geo", out / "l1a", out / "l1b")
    format_isp(task_context("FORMAT_ISP", job_inputs(sim, "L0", "FORMAT_ISP"), {"PDI_DS": p.l0c}))
    ql_geo(task_context("QL_GEO", job_inputs(sim, "L0", "QL_GEO", PDI_DS=p.l0c), {"QL_GEO": p.ql_geo}))
    decomp(task_context("DECOMP", {"PDI_DS": p.l0c}, {"PDI_DS": p.l1a}))
    radio_ab(task_context("RADIO_AB", job_inputs(sim, "L1B", "RADIO_AB", PDI_DS=p.l1a), {"PDI_DS": p.l1b}))
    return p
