"""Simulation sizes: which detectors and bands, how many pixels and lines, where and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ipf.formats.ccsds import FaultInjection
from ipf.formats.msi_bands import BAND_NAMES, BY_NAME
from ipf.simulator.acquisition import LINE_TICKS_10M, TICKS_PER_S
from ipf.simulator.msi_focal_plane import N_PIXELS_10M, pixel_windows


__all__ = ["SimulationConfig", "SIZES"]


@dataclass(frozen=True)
class SimulationConfig:
    """One simulation size.

    n_pixels_10m: width at 10 m of the pixel window kept of each detector of the real S2A focal
    plane (:func:`ipf.simulator.msi_focal_plane.pixel_windows`; None or 2552: whole detectors, a
    multiple of 6 otherwise); lines are counted at 10 m; ``granule_lines_10m`` and ``chunk_lines_10m``
    (the unit of image formation, bounding memory) are multiples of ``6 * block_lines``; as real
    granule names carry no index, the granules of a detector must start in different seconds:
    a datastrip of several granules has granules of at least 1 s (662 lines of 1.5106 ms).
    qstep: on-board quantisation step per resolution (1 = lossless).
    """

    name: str
    bands: tuple[str, ...]
    detectors: tuple[int, ...]
    n_pixels_10m: int | None
    n_lines_10m: int
    granule_lines_10m: int
    chunk_lines_10m: int
    block_lines: int = 16
    wavelet_levels: int = 3
    qstep: dict[int, int] = field(default_factory=lambda: {10: 2, 20: 2, 60: 1})
    lat_deg: float = 43.6
    lon_deg: float = 3.5
    date: datetime = datetime(2023, 3, 20, tzinfo=timezone.utc)
    mission: str = "S2A"
    faults: FaultInjection = FaultInjection()

    def __post_init__(self) -> None:
        unit = 6 * self.block_lines
        for v in (self.granule_lines_10m, self.chunk_lines_10m):
            if v % unit:
                raise ValueError(f"{v} is not a multiple of {unit}")
        if self.granule_lines_10m % self.chunk_lines_10m or self.n_lines_10m % self.granule_lines_10m:
            raise ValueError("chunks must tile granules and granules the acquisition")
        if self.n_lines_10m > self.granule_lines_10m and self.granule_lines_10m * LINE_TICKS_10M < TICKS_PER_S:
            raise ValueError(f"granules of {self.granule_lines_10m} lines last less than 1 s: their names "
                             "would not differ")
        if self.n_pixels_10m is not None and (self.n_pixels_10m % 6 or not 0 < self.n_pixels_10m <= N_PIXELS_10M):
            raise ValueError(f"n_pixels_10m must be None or a multiple of 6 in 6..{N_PIXELS_10M}")

    def windows(self) -> dict[int, tuple[int, int]] | None:
        """{detector: (first, n)} 10 m pixel windows of the detectors, None for whole detectors."""
        if self.n_pixels_10m is None or self.n_pixels_10m == N_PIXELS_10M:
            return None
        return pixel_windows(self.detectors, self.n_pixels_10m)

    def lines(self, band: str) -> int:
        """Lines of ``band`` over the acquisition."""
        return self.n_lines_10m * 10 // BY_NAME[band].resolution_m

    def band_qstep(self, band: str) -> int:
        return self.qstep[BY_NAME[band].resolution_m]


SIZES: dict[str, SimulationConfig] = {
    "small": SimulationConfig(name="small", bands=("B02", "B05", "B01"), detectors=(6, 7),
                              n_pixels_10m=192, n_lines_10m=288,
                              granule_lines_10m=288, chunk_lines_10m=96),
    "demo": SimulationConfig(name="demo", bands=BAND_NAMES, detectors=(6, 7),
                             n_pixels_10m=None, n_lines_10m=1536,
                             granule_lines_10m=768, chunk_lines_10m=192),
    # five whole detectors (≈ 118 km across) over 11 520 lines (≈ 115 km): one full 109.8 km MGRS
    # tile, for benchmarks (about 20 minutes on one core)
    "tile": SimulationConfig(name="tile", bands=BAND_NAMES, detectors=(4, 5, 6, 7, 8),
                             n_pixels_10m=None, n_lines_10m=11520,
                             granule_lines_10m=2304, chunk_lines_10m=192),
}
