"""Figures of the demo report (PNG): L1C quick-looks against the truth and error maps.

Images only (no plotting library): arrays are scaled to 8 bits, coloured with small piecewise
linear colour ramps and written with GDAL's PNG driver (through rasterio), each under a
temporary name and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ipf.interface.files import atomic_path
from ipf.products.store import ImageStore

__all__ = ["MAX_SIDE", "write_png", "block_mean", "colour", "rgb_quicklook", "demo_figures"]

MAX_SIDE = 900
"""Largest side of a quick-look, pixels."""

_VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)
_DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]], float)


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write a (rows, cols) or (rows, cols, 3) uint8 image as PNG (atomic)."""
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    path = Path(path)
    bands = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
    try:
        with atomic_path(path, suffix=".png") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(tmp, "w", driver="PNG", width=bands.shape[2], height=bands.shape[1],
                               count=bands.shape[0], dtype="uint8") as dst:
                dst.write(np.ascontiguousarray(bands, np.uint8))
    finally:
        for aux in path.parent.glob(f".{path.name}.tmp-*.aux.xml"):
            aux.unlink(missing_ok=True)
    return path


def block_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over k × k blocks (NaN-aware; trailing rows/cols dropped)."""
    if k <= 1:
        return a
    import warnings

    h, w = a.shape[0] // k, a.shape[1] // k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a[:h * k, :w * k].reshape(h, k, w, k), axis=(1, 3))


def colour(values: np.ndarray, vmin: float, vmax: float, ramp: np.ndarray = _VIRIDIS) -> np.ndarray:
    """RGB uint8 (…, 3) of values through a colour ramp; NaN in grey."""
    t = np.clip((values - vmin) / (vmax - vmin), 0, 1) * (len(ramp) - 1)
    i = np.minimum(np.nan_to_num(t).astype(int), len(ramp) - 2)
    f = (np.nan_to_num(t) - i)[..., None]
    rgb = ramp[i] * (1 - f) + ramp[i + 1] * f
    rgb[np.isnan(values)] = 128
    return np.rint(rgb).astype(np.uint8)


def rgb_quicklook(red: np.ndarray, green: np.ndarray, blue: np.ndarray, top: float = 0.3) -> np.ndarray:
    """True-colour 8-bit image of reflectances (0..``top`` -> 0..255, gamma 1/1.6); NaN black."""
    rgb = np.stack([red, green, blue], -1)
    out = np.clip(np.nan_to_num(rgb) / top, 0, 1) ** (1 / 1.6)
    return np.rint(out * 255).astype(np.uint8)


def demo_figures(sim: Path, tile: Path, out: Path, before: Path | None = None) -> dict[str, Path]:
    """PNG figures of an L1C tile against the simulator's truth, in ``out``; returns {name: path}.

    ``quicklook_l1c`` / ``quicklook_truth``: true colour (B04, B03, B02) over the common area;
    ``error_b04``: L1C − truth reflectance of B04 (−0.05 blue … +0.05 red); ``geolocation`` and
    ``geolocation_before``: length of the shift of each 1.28 km patch of B04 against the truth
    (0 … 0.2 px, and 0 … 6 px before refining); grey where no patch was measured.
    """
    from ipf.products import tile as tp
    from ipf.validation import accuracy_l1c

    out.mkdir(parents=True, exist_ok=True)
    store = ImageStore(tile)
    pairs = {b: accuracy_l1c.band_pair(sim, store, b) for b in ("B04", "B03", "B02")
             if tp.has_image(store, tp.TOA, b)}
    figures: dict[str, Path] = {}
    if len(pairs) == 3:
        k = max(1, -(-max(pairs["B04"][0].shape) // MAX_SIDE))
        l1c = [block_mean(np.where(pairs[b][0] > -0.05, pairs[b][0], np.nan), k) for b in ("B04", "B03", "B02")]
        truth = [block_mean(pairs[b][1], k) for b in ("B04", "B03", "B02")]
        figures["quicklook_l1c"] = write_png(out / "quicklook_l1c.png", rgb_quicklook(*l1c))
        figures["quicklook_truth"] = write_png(out / "quicklook_truth.png", rgb_quicklook(*truth))
    if "B04" in pairs:
        rho, truth, ok, ok_geo = pairs["B04"]
        k = max(1, -(-max(rho.shape) // MAX_SIDE))
        diff = block_mean(np.where(ok, rho - truth, np.nan), k)
        figures["error_b04"] = write_png(out / "error_b04.png", colour(diff, -0.05, 0.05, _DIVERGING))
        size = accuracy_l1c.PATCH_M // 10
        lengths = accuracy_l1c.patch_shift_map(rho, truth, ok_geo, size)
        figures["geolocation"] = write_png(out / "geolocation.png", _enlarge(colour(lengths, 0, 0.2), 8))
        if before is not None:
            b = accuracy_l1c.band_pair(sim, ImageStore(before), "B04")
            lengths = accuracy_l1c.patch_shift_map(b[0], b[1], b[3], size)
            figures["geolocation_before"] = write_png(out / "geolocation_before.png",
                                                      _enlarge(colour(lengths, 0, 6.0), 8))
    return figures


def _enlarge(image: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(np.repeat(image, k, axis=0), k, axis=1)
