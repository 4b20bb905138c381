"""The 13 spectral bands of the Sentinel-2 MSI.

Central wavelengths and mean solar irradiances are the S2A values of the L1C product metadata
(``Spectral_Information`` and ``Solar_Irradiance`` of MTD_MSIL1C.xml); resolutions are the native
ground sampling distances.
"""

from __future__ import annotations

from dataclasses import dataclass


__all__ = ["Band", "BANDS", "BAND_NAMES", "BY_NAME", "band"]


@dataclass(frozen=True)
class Band:
    """One MSI band: name (``B8A`` style), index 0..12, wavelength nm, width nm, resolution m,
    mean exo-atmospheric solar irradiance E0 in W m-2 µm-1 at 1 AU, focal plane (VNIR/SWIR)."""

    name: str
    index: int
    wavelength_nm: float
    width_nm: float
    resolution_m: int
    e0: float
    focal_plane: str


BANDS: tuple[Band, ...] = (
    Band("B01", 0, 442.7, 21, 60, 1913.57, "VNIR"),
    Band("B02", 1, 492.4, 66, 10, 1941.63, "VNIR"),
    Band("B03", 2, 559.8, 36, 10, 1822.61, "VNIR"),
    Band("B04", 3, 664.6, 31, 10, 1512.79, "VNIR"),
    Band("B05", 4, 704.1, 15, 20, 1425.56, "VNIR"),
    Band("B06", 5, 740.5, 15, 20, 1288.32, "VNIR"),
    Band("B07", 6, 782.8, 20, 20, 1163.19, "VNIR"),
    Band("B08", 7, 832.8, 106, 10, 1036.39, "VNIR"),
    Band("B8A", 8, 864.7, 21, 20, 955.19, "VNIR"),
    Band("B09", 9, 945.1, 20, 60, 813.04, "VNIR"),
    Band("B10", 10, 1373.5, 31, 60, 367.15, "SWIR"),
    Band("B11", 11, 1613.7, 91, 20, 245.59, "SWIR"),
    Band("B12", 12, 2202.4, 175, 20, 85.25, "SWIR"),
)
BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)
BY_NAME: dict[str, Band] = {b.name: b for b in BANDS}


def band(name: str) -> Band:
    """The band called ``name`` (``"B8A"``, ``"B02"``...)."""
    return BY_NAME[name]
