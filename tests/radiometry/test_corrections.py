"""L1B radiometric corrections on synthetic images with a known answer."""

import numpy as np
import pytest

from ipf.radiometry import binning, crosstalk, deconvolution, defective, denoising, equalization, masks

RNG = np.random.default_rng(20261125)


def scene(lines=128, pixels=160):
    """Smooth field with an edge: radiance-like values 20..120."""
    y, x = np.mgrid[0:lines, 0:pixels].astype(np.float32)
    return 60 + 30 * np.sin(x / 13.0) * np.cos(y / 17.0) + 30 * (x > pixels / 2)


def gaussian_blur_exact(image, sigma_along, sigma_across):
    """Blur by multiplying the spectrum with the continuous Gaussian MTF (periodic image)."""
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.rfftfreq(image.shape[1])[None, :]
    mtf = np.exp(-2 * np.pi**2 * (sigma_along**2 * fy**2 + sigma_across**2 * fx**2))
    return np.fft.irfft2(np.fft.rfft2(image) * mtf, s=image.shape).astype(np.float32)


def test_equalize_inverts_the_forward_model():
    radiance = scene()
    gain = RNG.uniform(0.95, 1.05, radiance.shape[1])
    dark = RNG.uniform(90, 110, radiance.shape[1])
    a = 12.5
    dn = radiance * a * gain + dark
    out = equalization.equalize(dn, dark, gain, a)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, radiance, rtol=1e-5)
    # striping: per-column means of a uniform scene are flat after equalisation
    flat = np.full((64, radiance.shape[1]), 50.0)
    cols = equalization.equalize(flat * a * gain + dark, dark, gain, a).mean(axis=0)
    assert cols.std() / cols.mean() < 1e-6


def test_defective_pixels_interpolated():
    image = scene()
    bad = np.zeros(image.shape[1], bool)
    bad[[0, 17, 18, 90, image.shape[1] - 1]] = True
    damaged = image.copy()
    damaged[:, bad] = 4095
    out = defective.interpolate_defective(damaged, bad)
    np.testing.assert_allclose(out[:, ~bad], image[:, ~bad], rtol=1e-6)
    assert np.abs(out[:, 17] - (image[:, 16] * 2 + image[:, 19]) / 3).max() < 1e-4
    np.testing.assert_allclose(out[:, 0], image[:, 1], rtol=1e-6)
    np.testing.assert_allclose(out[:, -1], image[:, -2], rtol=1e-6)
    assert np.abs(out[:, [17, 18, 90]] - image[:, [17, 18, 90]]).max() < 3.0


def test_crosstalk_removed():
    target, source = scene(), scene()[::-1].copy()
    leaked = target + 0.004 * source
    np.testing.assert_allclose(crosstalk.correct_crosstalk(leaked, [(0.004, source)]), target,
                               rtol=1e-6)


def test_binning():
    image = np.arange(6 * 7, dtype=np.float32).reshape(6, 7)
    out = binning.bin_pixels(image, across=3, along=2)
    assert out.shape == (3, 2)
    assert out[0, 0] == image[:2, :3].mean() and out[2, 1] == image[4:6, 3:6].mean()
    mask = np.zeros((6, 7), bool)
    mask[5, 4] = True
    assert binning.bin_mask(mask, 3, 2).tolist() == [[False, False], [False, False], [False, True]]


def test_quality_mask():
    dn = np.full((4, 5), 100, np.uint16)
    dn[1, 2] = 4095
    flags = masks.quality_mask(dn, np.array([0, 0, 1, 0], bool), np.array([0, 0, 0, 0, 1], bool))
    assert flags[1, 2] == masks.SATURATED
    assert (flags[2] & masks.NO_DATA).all() and not (flags[[0, 1, 3]] & masks.NO_DATA).any()
    assert (flags[:, 4] & masks.DEFECTIVE).all()


@pytest.mark.parametrize("mtf,target", [(0.22, 0.30), (0.30, 0.30), (0.15, 0.28)])
def test_deconvolution_reaches_target_mtf(mtf, target):
    taps = deconvolution.mtf_matching_filter(mtf, target, half_size=6)
    assert abs(taps.sum() - 1) < 1e-9 and np.allclose(taps, taps[::-1])
    # measured on an image: a sine near Nyquist blurred with the continuous Gaussian MTF
    sigma = deconvolution.gaussian_mtf_sigma(mtf)
    f = 0.45
    x = np.arange(512)
    image = np.tile(np.cos(2 * np.pi * f * x), (64, 1)).astype(np.float32) * 10 + 50
    blurred = gaussian_blur_exact(image, 0.0, sigma)
    out, _ = deconvolution.deconvolve(blurred, 0.99, mtf, target, half_size=6)
    got = np.abs(np.fft.rfft(out[32] - 50))[int(f * 512)] / np.abs(np.fft.rfft(image[32] - 50))[int(f * 512)]
    want = np.exp(-2 * np.pi**2 * deconvolution.gaussian_mtf_sigma(target) ** 2 * f**2)
    assert abs(got / want - 1) < 0.10
    assert abs(out.mean() / 50 - 1) < 1e-3  # radiometry preserved


def test_denoising_reduces_noise_and_keeps_edges():
    clean = scene(256, 256)
    sigma = np.sqrt(clean / 4.0).astype(np.float32)  # photon-like noise
    noisy = clean + RNG.normal(0, 1, clean.shape).astype(np.float32) * sigma
    out = denoising.denoise(noisy, sigma, levels=4, threshold_factor=2.5)
    rmse_before = np.sqrt(np.mean((noisy - clean) ** 2))
    rmse_after = np.sqrt(np.mean((out - clean) ** 2))
    assert rmse_after < 0.4 * rmse_before
    assert abs(out.mean() / clean.mean() - 1) < 3e-3  # bias < 0.3%
    def contrast(a):
        return (a[:, 133:136].mean(axis=1) - a[:, 121:124].mean(axis=1)).mean()

    assert abs(contrast(out) / contrast(clean) - 1) < 0.05  # the 30-unit step keeps its height


def test_denoising_noise_level_from_the_signal_estimate_is_unbiased():
    """A dark, read-noise dominated flat field (B10-like): with the noise level read from each
    noisy pixel the garrote is biased low by ≈ 0.1 %; read from the starlet's smooth plane
    (:func:`denoising.signal_estimate`) the bias is gone."""
    rng = np.random.default_rng(0)
    gain, radiance = 1 + 0.03 * rng.standard_normal(512), 0.3
    x = 100.0 * gain * np.full((512, 512), radiance)
    noisy = ((rng.poisson(x * 8) / 8 + rng.normal(0, 1.25, x.shape)) / (100.0 * gain)).astype(np.float32)
    bias = {}
    for name, signal in (("pixel", noisy), ("estimate", denoising.signal_estimate(noisy, 3))):
        out = denoising.denoise(noisy, denoising.noise_sigma(signal, 100.0, gain, 8.0, 1.25), 3, 1.5)
        bias[name] = out.mean() / radiance - 1
    assert bias["pixel"] < -5e-4
    assert abs(bias["estimate"]) < 0.3 * abs(bias["pixel"])


def test_starlet_is_exact_and_noise_factors():
    image = scene()
    details, smooth = denoising.starlet(image, 4)
    np.testing.assert_allclose(sum(details) + smooth, image, atol=1e-3)
    e = denoising.noise_scale_factors(4)
    np.testing.assert_allclose(e, [0.890, 0.2007, 0.0855, 0.0412], rtol=0.01)  # Starck et al.
    noise = RNG.normal(0, 1, (512, 512)).astype(np.float32)
    measured = [w[32:-32, 32:-32].std() for w in denoising.starlet(noise, 4)[0]]
    np.testing.assert_allclose(measured, e, rtol=0.1)


@pytest.mark.parametrize("shape,half", [((50, 40), 6), ((7, 300), 3), ((64, 64), 16)])
def test_convolution_kernel_equals_reference(shape, half):
    image = RNG.normal(100, 10, shape).astype(np.float32)
    ta = RNG.normal(0, 1, 2 * half + 1)
    tc = denoising._b3_taps(2)[: 2 * min(half, 8) + 1]
    a = deconvolution.convolve_separable(image, ta, tc)
    b = deconvolution.convolve_separable_ref(image, ta, tc)
    assert a.dtype == b.dtype == np.float32
    assert np.array_equal(a, b)


def test_saturation_threshold_follows_compression():
    assert masks.saturation_threshold(1) == 4095
    assert masks.saturation_threshold(2) == 4091
    dn = np.array([[4090, 4091, 4095]], np.uint16)
    flags = masks.quality_mask(dn, np.zeros(1, bool), np.zeros(3, bool), masks.saturation_threshold(2))
    assert flags.tolist() == [[0, 1, 1]]


def test_filters_longer_than_the_image_are_refused():
    with pytest.raises(ValueError, match="needs more than"):
        deconvolution.convolve_separable(np.ones((3, 40), np.float32), np.ones(9) / 9, np.ones(1))


def test_tiny_images_are_not_registered():
    assert crosstalk.register_band(np.ones((6, 100)), np.ones((6, 100)), 1.0) == (0.0, 0.0)


def test_fill_invalid_lines_takes_the_nearest_valid_line():
    image = np.arange(6.0)[:, None] * np.ones((6, 2))
    filled = defective.fill_invalid_lines(image, np.array([0, 1, 0, 0, 1, 0], bool))
    assert filled[:, 0].tolist() == [1, 1, 1, 4, 4, 4]
    assert defective.fill_invalid_lines(image[:3], np.array([1, 0, 1], bool))[1, 0] == 2  # tie: later line
    assert defective.fill_invalid_lines(image, np.ones(6, bool)) is image


def test_remove_crosstalk_of_registered_bands():
    rng = np.random.default_rng(3)
    a, b = (rng.uniform(50, 100, (24, 24)).astype(np.float32) for _ in range(2))
    c = np.float32(0.01)
    leaked = {"B8A": a, "B09": b + c * a}
    corrected, links = crosstalk.remove_crosstalk(leaked, {"B8A": 20, "B09": 20}, [("B09", "B8A", 0.01)])
    assert corrected["B8A"] is a and np.allclose(corrected["B09"], b, atol=1e-4)
    assert links == [crosstalk.CrosstalkLink("B09", "B8A", 0.01, 1.0, (0.0, 0.0))]  # < 32 px: not registered


def test_crosstalk_onto_the_20_m_elements_of_a_60_m_band():
    """A 60 m band's lines before binning are 20 m elements across: a 10 m source is sampled at
    6 source lines along and 2 source pixels across per element (a linear field is exact at the
    element centres, away from the edges), and the scale is kept per axis."""
    y, x = np.mgrid[0:120, 0:96].astype(np.float32)
    source = 50 + 0.2 * y + 0.3 * x
    on_target = crosstalk.resample_to(source, (20, 48), (6, 2))
    i, j = np.mgrid[0:20, 0:48]
    expected = 50 + 0.2 * ((i + 0.5) * 6 - 0.5) + 0.3 * ((j + 0.5) * 2 - 0.5)
    np.testing.assert_allclose(on_target[2:-2, 2:-2], expected[2:-2, 2:-2], rtol=0, atol=1e-3)
    target = np.full((20, 48), 80, np.float32)
    corrected, links = crosstalk.remove_crosstalk({"B02": source, "B01": target + np.float32(0.004) * on_target},
                                                  {"B02": 10, "B01": (60, 20)}, [("B01", "B02", 0.004)])
    assert links[0].scale == (6.0, 2.0)
    np.testing.assert_allclose(corrected["B01"][2:-2, 2:-2], 80, rtol=0, atol=1e-3)


def test_noise_sigma_of_the_noise_model():
    sigma = denoising.noise_sigma(np.array([[0.0, 100.0]], np.float32), 2.0, np.array([1.0, 0.5]), 4.0, 3.0)
    assert sigma[0, 0] == pytest.approx(np.sqrt(9 + 1 / 12) / 2.0, rel=1e-6)
    assert sigma[0, 1] == pytest.approx(np.sqrt(100 / 4 + 9 + 1 / 12) / 1.0, rel=1e-6)
