"""The real S2A MSI focal plane: per-pixel viewing directions of the 13 bands x 12 detectors.

The model is ``ipf/simulator/data/S2A_focal_plane.json``, written by ``tools/fit_focal_plane.py``
from the real S2A GIP_VIEDIR files (the ``APPLIED`` list of the TDI bands B03, B04, B11, B12):
per band and detector, power coefficients of tan_psi_x and tan_psi_y in the scaled pixel index
``s = (p - h) / h`` with ``h = (n - 1) / 2`` (``p`` 0-based), which reproduce every real pixel to
the fit's ``max_residual_px`` (below 0.001 pixel). Pixel counts are the real ones: 2552 (10 m),
1276 (20 m), 425 (60 m) per detector. tan_psi_x is across track (positive looks left, detector 1
on the right, pixel index increasing to the left), tan_psi_y along track.

Reduced simulations keep a window of each detector: :func:`pixel_windows` picks them so that
adjacent detectors still overlap on ground, and :meth:`MsiFocalPlane.viedir` writes the GIP_VIEDIR
of those windows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ipf.formats.gipp_gs2 import TDI_BANDS, GIP_VIEDIR, Gs2Header, Gs2SpecificHeader, ViewingDirections
from ipf.formats.msi_bands import BY_NAME


__all__ = ["MODEL_FILE", "N_PIXELS_10M", "MsiFocalPlane", "pixel_windows", "band_window"]

MODEL_FILE = Path(str(resources.files("ipf.simulator") / "data" / "S2A_focal_plane.json"))
N_PIXELS_10M = 2552

Window = tuple[int, int]


@dataclass(frozen=True)
class _Detector:
    tan_psi_x: np.ndarray
    tan_psi_y: np.ndarray
    max_residual_px: float


class MsiFocalPlane:
    """The fitted focal plane of one satellite (S2A), loaded from its JSON model."""

    def __init__(self, doc: dict):
        self.satellite: str = doc["satellite"]
        self.max_residual_px: float = float(doc["max_residual_px"])
        self._n = {b: int(v["n_pixels"]) for b, v in doc["bands"].items()}
        self._det = {(b, int(d)): _Detector(np.asarray(c["tan_psi_x"], np.float64),
                                            np.asarray(c["tan_psi_y"], np.float64), float(c["max_residual_px"]))
                     for b, v in doc["bands"].items() for d, c in v["detectors"].items()}

    @classmethod
    def load(cls, path: Path | str = MODEL_FILE) -> MsiFocalPlane:
        """The model in ``path`` (default: the packaged S2A model, read once)."""
        return _load(str(path))

    @property
    def bands(self) -> tuple[str, ...]:
        """Band names of the model."""
        return tuple(self._n)

    def n_pixels(self, band: str) -> int:
        """Pixels per detector of ``band`` (2552, 1276 or 425)."""
        return self._n[band]

    def tan_psi(self, band: str, detector: int, pixels) -> tuple[np.ndarray, np.ndarray]:
        """(tan_psi_x, tan_psi_y) at the (fractional) 0-based ``pixels`` of (band, detector 1..12)."""
        c = self._det[band, int(detector)]
        h = (self._n[band] - 1) / 2
        s = (np.asarray(pixels, np.float64) - h) / h
        return (np.polynomial.polynomial.polyval(s, c.tan_psi_x),
                np.polynomial.polynomial.polyval(s, c.tan_psi_y))

    def viedir(self, band: str, detectors, window: Window | dict[int, Window] | None = None,
               header: Gs2Header | None = None, specific_header: Gs2SpecificHeader | None = None) -> GIP_VIEDIR:
        """The GIP_VIEDIR of ``band`` for ``detectors``, sampling every pixel of each detector.

        ``window``: None (whole detectors), or (first, n) in 10 m pixels for every detector, or
        {detector: (first, n)} as :func:`pixel_windows` gives; converted to the band's pixels by
        :func:`band_window`. TDI bands say ``APPLIED``, the others ``NO_TDI``."""
        rows = []
        for d in detectors:
            w = window.get(int(d)) if isinstance(window, dict) else window
            first, n = band_window(w, self._n[band], band)
            tx, ty = self.tan_psi(band, d, np.arange(first, first + n))
            rows.append(ViewingDirections(detector=int(d), n_pixels=n, tan_psi_x=tx, tan_psi_y=ty))
        return GIP_VIEDIR(header=header or Gs2Header(satellite=self.satellite),
                          specific_header=specific_header or Gs2SpecificHeader(),
                          band=band, tdi_config="APPLIED" if band in TDI_BANDS else "NO_TDI", detectors=rows)


@lru_cache(maxsize=4)
def _load(path: str) -> MsiFocalPlane:
    return MsiFocalPlane(json.loads(Path(path).read_text(encoding="utf-8")))


def band_window(window: Window | None, n_band: int, band: str) -> Window:
    """(first, n) in the pixels of ``band`` (``n_band`` per detector) of a 10 m-pixel window:
    ``first * n_band / 2552`` rounded and ``n // f`` pixels (f = resolution / 10 m), clipped to
    the detector, so a window ending at pixel 2552 ends at the band's last pixel too."""
    if window is None:
        return 0, n_band
    first, n = window
    f = BY_NAME[band].resolution_m // 10
    first_b = round(first * n_band / N_PIXELS_10M)
    return first_b, min(n // f, n_band - first_b)


def pixel_windows(detectors, n_pixels_10m: int) -> dict[int, Window]:
    """{detector: (first, n)} in 10 m pixels for a simulation ``n_pixels_10m`` wide per detector.

    Detectors are taken in increasing order, which is right to left on ground (tan_psi_x grows
    with the detector and with the pixel index), and the last pixels of detector d overlap the
    first pixels of d + 1 on ground (by about 120-180 10 m pixels on the S2A focal plane). So the
    lowest detector keeps its LAST ``n_pixels_10m`` pixels, the highest its FIRST ones, and a
    detector in between (which must meet both neighbours) is kept whole; the windows of two
    adjacent detectors then always overlap on ground. A single detector keeps its centre.
    ``n_pixels_10m`` must be a multiple of 6 (whole 60 m pixels), at most 2552."""
    ds = sorted(int(d) for d in detectors)
    if n_pixels_10m % 6 or not 0 < n_pixels_10m <= N_PIXELS_10M:
        raise ValueError(f"n_pixels_10m must be a multiple of 6 in 6..{N_PIXELS_10M}, got {n_pixels_10m}")
    if len(ds) == 1:
        return {ds[0]: ((N_PIXELS_10M - n_pixels_10m) // 12 * 6, n_pixels_10m)}
    out = {d: (0, N_PIXELS_10M) for d in ds[1:-1]}
    out[ds[0]] = (N_PIXELS_10M - n_pixels_10m, n_pixels_10m)
    out[ds[-1]] = (0, n_pixels_10m)
    return out
