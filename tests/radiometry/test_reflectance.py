"""TOA reflectance and the baseline 04.00 L1C counts."""

import numpy as np

from ipf.radiometry import reflectance as r


def test_reflectance_inverts_radiance():
    rho = np.array([[0.0, 0.05, 0.3], [0.8, 1.2, 0.5]], np.float32)
    e0, cos_sza, d = 1512.79, np.float32(0.62), 0.9958
    radiance = rho * e0 * cos_sza / (np.pi * d**2)
    np.testing.assert_allclose(r.toa_reflectance(radiance, e0, cos_sza, d), rho, rtol=1e-5,
                               atol=1e-7)


def test_l1c_counts():
    rho = np.array([-0.05, 0.0, 0.12346, 1.0, 7.0])
    dn = r.reflectance_to_dn(rho, nodata=np.array([0, 0, 0, 0, 0], bool),
                             saturated=np.array([0, 0, 0, 0, 1], bool))
    assert dn.tolist() == [500, 1000, 2235, 11000, 65535]
    back = r.dn_to_reflectance(np.array([0, 1000, 2235], np.uint16))
    assert np.isnan(back[0]) and back[1] == 0.0 and abs(back[2] - 0.1235) < 1e-6
