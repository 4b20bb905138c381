"""Fixtures of the geometry tests (the simulations ``small`` and ``wide`` are in tests/conftest.py,
the ortho tests read them too)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(2024)
