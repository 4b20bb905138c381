"""Viewing directions from per-pixel GIP_VIEDIR tables and the GIP_SPAMOD rotations, against
hand-computed cases."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest

from ipf.geometry.attitude import frame_rotation, msi_to_piloting, rotation_xyz
from ipf.geometry.viewing import directions_from_tables, interpolate_table, viewing_from_viedir_tables
from ipf.interface.errors import InputError


def _unit(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def test_interpolation_at_integer_and_half_pixels_and_extrapolation():
    t = np.array([1.0, 3.0, 4.0, 8.0])
    assert interpolate_table(t, [0, 1, 2, 3]).tolist() == t.tolist()
    assert interpolate_table(t, [0.5, 1.5, 2.5]).tolist() == [2.0, 3.5, 6.0]
    assert interpolate_table(t, [-1.0, -0.5, 3.5, 5.0]).tolist() == [-1.0, 0.0, 10.0, 16.0]
    assert interpolate_table(t, np.zeros((2, 3))).shape == (2, 3)
    assert interpolate_table([2.5], [-3.0, 7.0]).tolist() == [2.5, 2.5]


def test_directions_follow_the_dimap_convention():
    tx, ty = np.array([0.1, 0.2, 0.3]), np.array([0.01, 0.02, 0.05])
    u = directions_from_tables(tx, ty, [0, 1.5, 3])
    np.testing.assert_allclose(u[0], _unit([0.01, -0.1, 1]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(u[1], _unit([0.035, -0.25, 1]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(u[2], _unit([0.08, -0.4, 1]), rtol=0, atol=1e-15)
    assert np.allclose(np.linalg.norm(u, axis=-1), 1)


def test_positive_tan_psi_x_looks_left_and_tan_psi_y_ahead():
    left = directions_from_tables([0.1, 0.1], [0.0, 0.0], [0])[0]
    assert left[1] < 0 and left[0] == 0 and left[2] > 0          # y to the right: negative y is left
    ahead = directions_from_tables([0.0, 0.0], [0.05, 0.05], [0])[0]
    assert ahead[0] > 0 and ahead[1] == 0                        # x along track (flight direction)
    nadir = directions_from_tables([0.0, 0.0], [0.0, 0.0], [0.3])[0]
    assert nadir.tolist() == [0.0, 0.0, 1.0]


def test_pure_r1_rotation():
    a = 1e-3 * 2.0
    expected = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    np.testing.assert_allclose(rotation_xyz(2.0, 0, 0), expected, atol=1e-17)
    nadir_in_msi = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(rotation_xyz(2.0, 0, 0) @ nadir_in_msi, [0, -np.sin(a), np.cos(a)], atol=1e-17)


def test_rotation_order_is_x_then_y_then_z():
    r = rotation_xyz(1.0, 2.0, 3.0)
    rx, ry, rz = rotation_xyz(1.0, 0, 0), rotation_xyz(0, 2.0, 0), rotation_xyz(0, 0, 3.0)
    np.testing.assert_allclose(r, rz @ ry @ rx, atol=1e-16)
    assert not np.allclose(r, rx @ ry @ rz, atol=1e-12, rtol=0)
    np.testing.assert_allclose(ry @ [0, 0, 1.0], [np.sin(2e-3), 0, np.cos(2e-3)], atol=1e-17)
    np.testing.assert_allclose(rz @ [1.0, 0, 0], [np.cos(3e-3), np.sin(3e-3), 0], atol=1e-17)


def test_msi_to_piloting_applies_scale_and_refuses_a_bad_one():
    spamod = NS(piloting_to_msi=NS(r1=-0.0292, r2=-0.9626, r3=-0.0224, scale_factor=1.0,
                                   combination_order="ROTATION_THEN_SCALE"))
    m = msi_to_piloting(spamod).T
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(m[0, 2], np.sin(-0.9626e-3) * np.cos(-0.0224e-3) * np.cos(-0.0292e-3)
                               + np.sin(-0.0224e-3) * np.sin(-0.0292e-3), atol=1e-15)
    np.testing.assert_allclose(frame_rotation(NS(r1=0, r2=0, r3=0, scale_factor=2.0)), 2 * np.eye(3))
    with pytest.raises(InputError):
        frame_rotation(NS(r1=0, r2=0, r3=0, scale_factor=0.0))


def _viedir(band, detectors=(1, 2)):
    return NS(band=band, detectors=[NS(detector=d, n_pixels=3, tan_psi_x=np.array([-0.1, 0.0, 0.1]) + d * 0.01,
                                       tan_psi_y=np.full(3, 0.02)) for d in detectors])


def _spamod(vnir=(0, 0, 0), swir=(0, 0, 0), det_vnir=None):
    rot = lambda r: NS(r1=r[0], r2=r[1], r3=r[2], scale_factor=1.0, combination_order="SCALE_THEN_ROTATION")
    rows = lambda extra: [NS(**{"detector": d, "r1": 0.0, "r2": 0.0, "r3": 0.0,
                                **({} if extra is None or d != 2 else extra)}) for d in range(1, 13)]
    planes = {"VNIR": (rot(vnir), rows(det_vnir)), "SWIR": (rot(swir), rows(None))}
    return NS(msi_to_focal_plane=lambda plane: planes[plane][0],
              focal_plane_to_detector=lambda plane, d: next((r for r in planes[plane][1] if r.detector == d), None))


def test_builder_without_spacecraft_model():
    views = viewing_from_viedir_tables([_viedir("B02"), _viedir("B11")])
    assert sorted(views) == [("B02", 1), ("B02", 2), ("B11", 1), ("B11", 2)]
    v = views["B02", 2]
    assert v.n_pixels == 3
    np.testing.assert_allclose(v.directions([1.0]), [_unit([0.02, -0.02, 1])], atol=1e-15)
    with pytest.raises(InputError):
        viewing_from_viedir_tables([_viedir("B02"), _viedir("B02")])


def test_builder_applies_focal_plane_and_detector_rotations():
    spamod = _spamod(vnir=(1.0, 0, 0), swir=(0, 0, 2.0), det_vnir={"r1": 0.0, "r2": 3.0, "r3": 0.0})
    views = viewing_from_viedir_tables([_viedir("B8A"), _viedir("B10")], spamod)
    u = directions_from_tables([-0.09, 0.01, 0.11], [0.02] * 3, [0.5])
    np.testing.assert_allclose(views["B8A", 1].directions([0.5]), u @ rotation_xyz(1.0, 0, 0), atol=1e-15)
    u2 = directions_from_tables([-0.08, 0.02, 0.12], [0.02] * 3, [0.5])
    np.testing.assert_allclose(views["B8A", 2].directions([0.5]),
                               u2 @ rotation_xyz(0, 3.0, 0) @ rotation_xyz(1.0, 0, 0), atol=1e-15)
    np.testing.assert_allclose(views["B10", 1].directions([0.5]), u @ rotation_xyz(0, 0, 2.0), atol=1e-15)


def test_builder_refuses_bad_tables():
    bad = NS(band="B02", detectors=[NS(detector=1, n_pixels=4, tan_psi_x=np.zeros(3), tan_psi_y=np.zeros(3))])
    with pytest.raises(InputError):
        viewing_from_viedir_tables([bad])


def test_real_model_gives_the_s2_swath():
    from ipf.formats.gipp_gs2 import GIP_SPAMOD
    from ipf.simulator.msi_focal_plane import MsiFocalPlane

    fp = MsiFocalPlane.load()
    views = viewing_from_viedir_tables([fp.viedir("B04", range(1, 13))], GIP_SPAMOD())
    right = views["B04", 1].directions([0.0])[0]
    left = views["B04", 12].directions([2551.0])[0]
    swath_deg = np.degrees(np.arctan2(right[1], right[2]) - np.arctan2(left[1], left[2]))
    assert 20.5 < swath_deg < 21.0                      # 290 km from 786 km
