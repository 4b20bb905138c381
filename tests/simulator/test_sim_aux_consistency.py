"""An independent location model built only from the written files reproduces the simulator."""

import numpy as np
import pytest

from ipf.formats import aux, gipp, l0
from ipf.simulator.focal_plane import viedir_directions
from ipf.simulator.location import intersect_height
from ipf.geometry.rotation import quat_to_matrix, slerp


def _hermite(t, t_nodes, p, v):
    i = np.clip(np.searchsorted(t_nodes, t) - 1, 0, len(t_nodes) - 2)
    h = t_nodes[i + 1] - t_nodes[i]
    s = ((t - t_nodes[i]) / h)[:, None]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p[i] + h10 * h[:, None] * v[i] + h01 * p[i + 1] + h11 * h[:, None] * v[i + 1]


@pytest.mark.parametrize("attitude_folder,true", [("AUX", False), ("truth", True)])
def test_files_reproduce_the_simulated_geometry(small_run, small_sim, attitude_folder, true):
    a = small_run[0]
    ds = l0.read_datastrip(l0.find_datastrip(a / "L0"))
    orbit = aux.read_orbit(a / "AUX" / ds.orbit_file)
    att_file = ds.attitude_file if not true else ds.attitude_file.replace("_OPER_", "_TRUE_")
    att = aux.read_attitude(a / attitude_folder / att_file)
    spamod = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_SPAMOD"))
    ref = np.datetime64(ds.reference_time.replace(tzinfo=None), "us")
    t_orb = (orbit.times - ref) / np.timedelta64(1, "s")
    t_att = (att.times - ref) / np.timedelta64(1, "s")
    align = quat_to_matrix(np.array(spamod.instrument_to_body))
    rng = np.random.default_rng(5)
    for band in ds.bands:
        vd = gipp.read_gipp(gipp.find_gipp(a / "GIPP", "GIP_VIEDIR", band.name))
        for det in vd.detectors:
            lines = rng.uniform(0, band.lines - 1, 50)
            pix = rng.uniform(0, det.n_pixels - 1, 50)
            t = (ds.start_ticks[det.detector][band.name] + lines * band.line_period_ticks) / ds.ticks_per_second
            pos = _hermite(t, t_orb, orbit.position, orbit.velocity)
            rot = quat_to_matrix(slerp(t, t_att, att.quaternions))
            u = viedir_directions(np.array(det.tan_psi_x), np.array(det.tan_psi_y), pix) @ align.T
            look = np.einsum("nij,nj->ni", rot, u)
            e, n = intersect_height(small_sim.geodesy, pos, look, 100.0)
            p_sim, l_sim = small_sim.acquisition.lines_of_sight(band.name, det.detector, lines, pix, true=true)
            e2, n2 = intersect_height(small_sim.geodesy, p_sim, l_sim, 100.0)
            assert np.hypot(e - e2, n - n2).max() < 0.01
