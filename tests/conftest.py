"""Fixtures shared by the tests: copies of the shipped demo Job Order, the session's simulated
scenes (:mod:`tests.scenes`) and the geometry of a small simulation. Plain helpers are in
:mod:`tests.helpers`."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ipf.interface import runtime
from tests.helpers import JOBORDERS, TASKTABLES
from tests.scenes import SCENE_FIXTURES, Scenes

# numba's cache folder of the test process and of the ipf processes it starts (they inherit
# NUMBA_CACHE_DIR), set before numba is imported: a kernel is compiled once per session
runtime.configure()


def pytest_collection_modifyitems(session, config, items):
    """Tests reading a simulated scene run last, so that the scenes are made in the background
    while the other tests run."""
    items.sort(key=lambda item: any(f in SCENE_FIXTURES for f in getattr(item, "fixturenames", ())))


# ------------------------------------------------------------------------------- demo Job Order
@pytest.fixture
def demo(tmp_path) -> Path:
    """A copy of the demo Job Order and its input in a fresh directory; returns the Job Order."""
    shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", tmp_path / "JobOrder.xml")
    shutil.copytree(JOBORDERS / "demo", tmp_path / "demo")
    return tmp_path / "JobOrder.xml"


@pytest.fixture
def tables(tmp_path, monkeypatch) -> Path:
    """A private task-table directory holding a copy of the demo task table (IPF_TASKTABLE_DIR)."""
    d = tmp_path / "tasktables"
    d.mkdir()
    shutil.copy(TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml", d)
    monkeypatch.setenv("IPF_TASKTABLE_DIR", str(d))
    return d


# ---------------------------------------------------------------------------- simulated scenes
@pytest.fixture(scope="session")
def scenes(tmp_path_factory) -> Scenes:
    s = Scenes(tmp_path_factory.mktemp("scenes"))
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def _start_scenes(request):
    """Start making the scenes that the collected tests read."""
    needed = {SCENE_FIXTURES[f] for item in request.session.items
              for f in getattr(item, "fixturenames", ()) if f in SCENE_FIXTURES}
    if needed:
        request.getfixturevalue("scenes").start(needed)


def _scene(name: str, step: str):
    def scene(scenes):
        return scenes.get(step)

    scene.__doc__ = f"The scene {step!r} of :class:`tests.scenes.Scenes` (made once per session)."
    return pytest.fixture(scope="session", name=name)(scene)


for _name, _step in SCENE_FIXTURES.items():
    globals()[_name] = _scene(_name, _step)


# -------------------------------------------------------------------------------------- geometry
@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """(folder of the written 'small' simulation of seed 1, its Simulation)."""
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run, setup

    out = tmp_path_factory.getbasetemp() / "geometry_small"
    run(SIZES["small"], 1, out)
    return out, setup(SIZES["small"], 1)


@pytest.fixture(scope="session")
def wide():
    """(SensorModel, simulator Acquisition, Geodesy) of the full-size edge-detector geometry:
    whole detectors of the real S2A focal plane (GIP_VIEDIR tables, 2552 pixels at 10 m) with
    the simulator's GIP_SPAMOD, edge detectors 1 and 12, B04/B11/B01 (pixels, no elements:
    binning 1), 2 x 2000 lines at 10 m, processor model from the sampled simulator orbit (1 s)
    and true attitude (0.125 s)."""
    from ipf.formats.msi_bands import BY_NAME
    from ipf.geometry.attitude import Attitude, msi_to_piloting
    from ipf.geometry.datation import LineDatation
    from ipf.geometry.geodesy import geodesy, utm_epsg_for
    from ipf.geometry.orbit import Orbit
    from ipf.geometry.rotation import matrix_to_quat
    from ipf.geometry.sensor import SensorModel
    from ipf.geometry.viewing import viewing_from_viedir_tables
    from ipf.simulator.acquisition import TICKS_PER_S, Acquisition, align_start_ticks, line_ticks
    from ipf.simulator.attitude import AttitudeError
    from ipf.simulator.instrument import spacecraft_model
    from ipf.simulator.msi_focal_plane import MsiFocalPlane
    from ipf.simulator.orbit import design_orbit

    orbit = design_orbit(43.6, 3.5, datetime(2023, 3, 20, tzinfo=timezone.utc))
    bands, dets = ("B04", "B11", "B01"), (1, 12)
    fp = MsiFocalPlane.load()
    spamod = spacecraft_model()
    viewing = viewing_from_viedir_tables([fp.viedir(b, dets) for b in bands], spamod)
    alignment = msi_to_piloting(spamod)
    acq = Acquisition(orbit, viewing, alignment, AttitudeError((3e-5, -4e-5, 1e-4), (1e-6, 0, -1e-6)))
    acq.start_ticks = align_start_ticks(acq, bands, dets, -2.0)
    to = np.arange(-20, 21, 1.0)
    p, v = orbit.state(to)
    ta = np.arange(-160, 161) / 8.0
    q = matrix_to_quat(acq.attitude(ta, true=True))
    datation = {(b, d): LineDatation(acq.start_ticks[b, d] / TICKS_PER_S,
                                     line_ticks(BY_NAME[b].resolution_m) / TICKS_PER_S)
                for b in bands for d in dets}
    model = SensorModel(np.datetime64(orbit.t_ref.replace(tzinfo=None), "us"), Orbit(to, p, v), Attitude(ta, q),
                        alignment, datation, viewing)
    return model, acq, geodesy(utm_epsg_for(3.5, 43.6))
