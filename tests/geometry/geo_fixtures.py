"""Shared fixtures of the geometry tests, imported by the test modules.

(Not a conftest.py: a second conftest.py without ``__init__.py`` would shadow the top-level one.)
The expensive work is cached per process: one 'small' simulation of seed 1 written to disk (with
its drawn :class:`~ipf.simulator.simulate.Simulation` for the simulator's own locations) and a
full-size focal plane model built from the simulator's orbit, attitude and VIEDIR polynomials.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import numpy as np
import pytest

SEED = 1


@cache
def _small(basetemp: Path):
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run, setup

    out = basetemp / "geometry_small"
    run(SIZES["small"], SEED, out)
    return out, setup(SIZES["small"], SEED)


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """(folder of the written 'small' simulation of seed 1, its Simulation)."""
    return _small(tmp_path_factory.getbasetemp())


def models(folder: Path):
    """(model with the given attitude, model with the true attitude) of a simulation folder."""
    from ipf.formats import aux, gipp, l0
    from ipf.geometry.attitude import Attitude
    from ipf.geometry.sensor import load_sensor_model

    ds_dir = next((folder / "L0").glob("*_MSI_L0__DS_*"))
    ds = l0.read_datastrip(ds_dir)
    viedirs = [gipp.find_gipp(folder / "GIPP", "GIP_VIEDIR", b.name) for b in ds.bands]
    given = load_sensor_model(ds_dir, folder / "AUX" / ds.orbit_file, folder / "AUX" / ds.attitude_file,
                              gipp.find_gipp(folder / "GIPP", "GIP_SPAMOD"), viedirs)
    true_file = folder / "truth" / ds.attitude_file.replace("_OPER_", "_TRUE_")
    return given, given.with_attitude(Attitude.from_aux(aux.read_attitude(true_file), given.reference))


@cache
def _wide():
    """Full-size focal plane (2592 pixels), edge detectors 1 and 12, B04/B11/B01, 2 x 2000
    lines at 10 m, processor model from sampled simulator orbit (1 s) and true attitude (0.125 s)."""
    from ipf.formats.msi_bands import BY_NAME
    from ipf.geometry.attitude import Attitude
    from ipf.geometry.datation import LineDatation
    from ipf.geometry.geodesy import geodesy, utm_epsg_for
    from ipf.geometry.orbit import Orbit
    from ipf.geometry.sensor import SensorModel
    from ipf.geometry.viewing import DetectorViewing
    from ipf.simulator.acquisition import TICKS_PER_S, Acquisition, align_start_ticks, line_ticks
    from ipf.simulator.attitude import AttitudeError
    from ipf.simulator.focal_plane import FocalPlane
    from ipf.simulator.instrument import INSTRUMENT_TO_BODY
    from ipf.simulator.orbit import design_orbit
    from ipf.geometry.rotation import matrix_to_quat, quat_to_matrix

    orbit = design_orbit(43.6, 3.5, datetime(2023, 3, 20, tzinfo=timezone.utc))
    fp = FocalPlane(2592, 98)
    acq = Acquisition(orbit, fp, AttitudeError((3e-5, -4e-5, 1e-4), (1e-6, 0, -1e-6)), INSTRUMENT_TO_BODY)
    bands, dets = ("B04", "B11", "B01"), (1, 12)
    acq.start_ticks = align_start_ticks(acq, bands, dets, -2.0)
    to = np.arange(-20, 21, 1.0)
    p, v = orbit.state(to)
    ta = np.arange(-160, 161) / 8.0
    q = matrix_to_quat(acq.attitude(ta, true=True))
    datation = {(b, d): LineDatation(acq.start_ticks[b, d] / TICKS_PER_S,
                                     line_ticks(BY_NAME[b].resolution_m) / TICKS_PER_S)
                for b in bands for d in dets}
    viewing = {(b, d): DetectorViewing(*fp.polynomials(b, d), fp.n_pixels(b)) for b in bands for d in dets}
    model = SensorModel(np.datetime64(orbit.t_ref.replace(tzinfo=None), "us"), Orbit(to, p, v), Attitude(ta, q),
                        quat_to_matrix(np.array(INSTRUMENT_TO_BODY)), datation, viewing)
    return model, acq, geodesy(utm_epsg_for(3.5, 43.6))


@pytest.fixture(scope="session")
def wide():
    """(SensorModel, simulator Acquisition, Geodesy) of the full-size edge-detector geometry."""
    return _wide()


@pytest.fixture
def rng():
    return np.random.default_rng(2024)
