import numpy as np
import pytest

from ipf.simulator import radiometry as rad


def test_radiance_reflectance_round_trip():
    rho = np.linspace(0, 1.2, 50)
    cos_sza = np.linspace(0.3, 0.9, 50)
    L = rad.toa_radiance(rho, 1512.79, cos_sza, 0.996)
    assert L[-1] == pytest.approx(1.2 * 1512.79 * 0.9 / (np.pi * 0.996**2))
    np.testing.assert_allclose(rad.toa_reflectance(L, 1512.79, cos_sza, 0.996), rho, atol=1e-14)


@pytest.mark.parametrize("mtf,factor", [(0.3, 1), (0.22, 2), (0.28, 6)])
def test_blur_has_the_gipp_mtf_at_nyquist(mtf, factor):
    """A sinusoid at the band Nyquist frequency on the 5 m grid keeps ``mtf`` of its amplitude
    after the box average and residual Gaussian blur used by the simulator."""
    period = 4 * factor  # band pixel = 2 * factor fine (5 m) samples, Nyquist period = 2 pixels
    x = np.arange(96 * factor)
    img = np.tile(1 + 0.5 * np.cos(2 * np.pi * x / period), (8 * factor, 1)).astype(np.float32)
    sigma_fine = rad.mtf_sigma(mtf) * 2 * factor
    work = rad.box_downsample(img, factor)
    s = rad.residual_sigma(sigma_fine, factor) / factor
    out = rad.gaussian_blur(work, s, s)
    centres = np.arange(work.shape[1]) * factor + (factor - 1) / 2
    row = out[work.shape[0] // 2, 8:-8]
    phase = np.exp(-2j * np.pi * centres[8:-8] / period)
    amplitude = 2 * np.abs(np.mean((row - row.mean()) * phase))
    assert amplitude / 0.5 == pytest.approx(mtf, abs=0.03)


def test_forward_model_inverts_within_noise(small_sim, rng):
    inst = small_sim.instrument
    band, det = "B02", 6
    eq = inst.r2eqog[band]
    row = eq.detectors.index(det)
    n = inst.n_elements(band)
    A = inst.absolute_gain(band)
    g = eq.relative_gain[row].astype(np.float64)
    L = rng.uniform(10, 300, (400, n))
    x = rad.signal_dn(L, A, g)
    dead, hot = inst.defects(band, det)
    x, dark = rad.apply_defects(x, eq.dark_signal[row], dead, hot)
    dent = inst.r2dent[band]
    dn = rad.add_noise(x, dark, dent.electrons_per_dn, dent.read_noise_dn, rng)
    good = np.ones(n, bool)
    good[list(dead) + list(hot)] = False
    est = rad.invert_dn(dn, A, g, eq.dark_signal[row])
    sigma = rad.radiance_noise_sigma(L, A, g, dent.electrons_per_dn, dent.read_noise_dn)
    valid = (dn < rad.DN_MAX) & good[None, :]
    z = ((est - L) / sigma)[valid]
    assert valid.mean() > 0.9
    assert abs(z.mean()) < 0.02 and 0.95 < z.std() < 1.05
    assert np.abs(z).max() < 6
    assert np.all(dn[:, list(hot)] > dark[list(hot)] - 50)
    assert np.all(np.abs(est[:, list(dead)] - L[:, list(dead)]) > 0.5 * L[:, list(dead)])
    bright = rad.add_noise(rad.signal_dn(np.full((4, n), 2000.0), A, g), dark, 20, 1.5, rng)
    assert np.all(bright == rad.DN_MAX)


def test_crosstalk_removal_is_exact():
    L = np.array([100.0, 200.0])
    src = np.array([50.0, 80.0])
    meas = L + 0.006 * src
    np.testing.assert_allclose(rad.remove_crosstalk(meas, [(0.006, src)]), L)
