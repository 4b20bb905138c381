"""Shared fixtures of the simulator tests, imported by the test modules.

(Not a conftest.py: the top-level tests import names from their own ``conftest`` module, which a
second conftest.py without ``__init__.py`` would shadow.) The expensive work is cached per
process, so importing the fixtures in several modules does not repeat it.
"""

from functools import cache

import numpy as np
import pytest


@cache
def _small_sim():
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import setup

    return setup(SIZES["small"], 0)


@cache
def _small_run(basetemp):
    from dataclasses import replace

    from ipf.formats.ccsds import FaultInjection
    from ipf.simulator.cli import main
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run

    root = basetemp / "simulator_small_run"
    root.mkdir()
    a, b, c = root / "a", root / "b", root / "c"
    assert main(["--size", "small", "--seed", "0", "--out", str(a), "--quiet"]) == 0
    summary = run(SIZES["small"], 0, b)
    run(replace(SIZES["small"], faults=FaultInjection(0.05, 0.05, 0.05)), 1, c)
    return a, b, c, summary


@pytest.fixture(scope="session")
def small_sim():
    """The drawn 'small' simulation of seed 0 (no files written)."""
    return _small_sim()


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """Two runs of 'small' with seed 0 (command line and API) and one with seed 1 and faults."""
    return _small_run(tmp_path_factory.getbasetemp())


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
