"""The real S2A focal plane model: it reproduces every real GIP_VIEDIR pixel, writes GIP_VIEDIR
models of whole detectors and of reduced windows that still overlap on ground."""

from __future__ import annotations

import numpy as np
import pytest

from ipf.formats import gipp_gs2
from ipf.formats.msi_bands import BAND_NAMES
from ipf.simulator.msi_focal_plane import MODEL_FILE, MsiFocalPlane, band_window, pixel_windows
from tests.helpers import SHARED

REAL = SHARED / "real" / "gipp" / "GIP_VIEDIR"


@pytest.fixture(scope="module")
def fp() -> MsiFocalPlane:
    return MsiFocalPlane.load()


def test_packaged_model(fp):
    assert MODEL_FILE.is_file()
    assert fp.satellite == "S2A" and fp.bands == BAND_NAMES
    assert [fp.n_pixels(b) for b in ("B02", "B05", "B01")] == [2552, 1276, 425]
    assert fp.max_residual_px < 0.01


@pytest.mark.parametrize("band", BAND_NAMES)
def test_model_reproduces_every_real_pixel(fp, band):
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent")
    (path,) = REAL.glob(f"*_{band}.xml")
    real = gipp_gs2.read_gs2(path)
    worst = 0.0
    for d in real.detectors:
        step = np.abs(np.gradient(d.tan_psi_x))
        tx, ty = fp.tan_psi(band, d.detector, np.arange(d.n_pixels))
        worst = max(worst, np.max(np.abs(tx - d.tan_psi_x) / step), np.max(np.abs(ty - d.tan_psi_y) / step))
    print(f"{band}: largest residual {worst:.2e} px")
    assert worst < 0.01


def test_viedir_of_whole_detectors(fp, tmp_path):
    m = fp.viedir("B04", [1, 2])
    assert m.tdi_config == "APPLIED" and [d.n_pixels for d in m.detectors] == [2552, 2552]
    assert fp.viedir("B05", [1]).tdi_config == "NO_TDI"
    tx, _ = fp.tan_psi("B04", 2, [0, 2551])
    assert m.detector(2).tan_psi_x[[0, -1]].tolist() == tx.tolist()
    assert gipp_gs2.read_gs2(gipp_gs2.write_gs2(m, tmp_path)) == m


def test_pixel_windows_choice():
    assert pixel_windows([5, 4], 192) == {4: (2360, 192), 5: (0, 192)}
    assert pixel_windows([3, 4, 5], 600) == {3: (1952, 600), 4: (0, 2552), 5: (0, 600)}
    assert pixel_windows([7], 96) == {7: (1224, 96)}
    with pytest.raises(ValueError):
        pixel_windows([1, 2], 100)


def test_band_window_ends_at_the_detector_end():
    for band, n, f in (("B02", 2552, 1), ("B05", 1276, 2), ("B01", 425, 6)):
        first, count = band_window((2552 - 192, 192), n, band)
        assert (first + count, count) == (n, 192 // f)
        assert band_window((0, 192), n, band) == (0, 192 // f)
    assert band_window(None, 425, "B01") == (0, 425)
    assert band_window((0, 2552), 425, "B01") == (0, 425)


@pytest.mark.parametrize("pair", [(1, 2), (4, 5), (11, 12)])
@pytest.mark.parametrize("band", ["B02", "B8A", "B10"])
def test_reduced_windows_of_adjacent_detectors_overlap(fp, band, pair):
    windows = pixel_windows(pair, 192)
    m = fp.viedir(band, pair, windows)
    a, b = m.detectors
    f = {10: 1, 20: 2, 60: 6}[{"B02": 10, "B8A": 20, "B10": 60}[band]]
    assert a.n_pixels == b.n_pixels == 192 // f
    # detector d's last pixels and d+1's first pixels see the same ground across track
    assert b.tan_psi_x[0] < a.tan_psi_x[-1]
    assert a.tan_psi_x[0] < b.tan_psi_x[0] and a.tan_psi_x[-1] < b.tan_psi_x[-1]
