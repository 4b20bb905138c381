"""Fixtures of the simulator tests."""

from dataclasses import replace

import numpy as np
import pytest


@pytest.fixture(scope="session")
def small_sim():
    """The drawn 'small' simulation of seed 0 (no files written)."""
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import setup

    return setup(SIZES["small"], 0)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """Two runs of 'small' with seed 0 (command line and API) and one with seed 1 and faults."""
    from ipf.formats.ccsds import FaultInjection
    from ipf.simulator.cli import main
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run

    root = tmp_path_factory.getbasetemp() / "simulator_small_run"
    root.mkdir()
    a, b, c = root / "a", root / "b", root / "c"
    assert main(["--size", "small", "--seed", "0", "--out", str(a), "--quiet"]) == 0
    summary = run(SIZES["small"], 0, b)
    run(replace(SIZES["small"], faults=FaultInjection(0.05, 0.05, 0.05)), 1, c)
    return a, b, c, summary


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
