"""Accuracy of an L1C tile against the simulator's truth (``python -m ipf.validation.accuracy l1c SIM``).

The truth of a band is the simulator's TOA reflectance (``truth/TRUTH_TOA_<band>.tif``: area
mean of the 5 m truth over the band's pixels, on the UTM grid of the simulated footprint, which
shares the tile's pixel edges when both are on the 60 m lattice). Compared pixels: seen by a
detector, not flagged (saturated, no data, defective) and more than :data:`MARGIN` pixels from a
flagged or unseen pixel (the cubic support); the geolocation also uses the restored defective
pixels. Figures per band:

* ``bias_pct``, ``rmse_pct``: mean and RMS of L1C - truth reflectance, % of the mean truth;
  the RMSE includes the instrument's blur (MTF ≈ 0.3 at Nyquist) that the area-mean truth
  lacks, so it is a figure to state, not a goal;
* geolocation: phase correlation (:func:`ipf.radiometry.crosstalk.estimate_offset`) of
  :data:`PATCH_M` × :data:`PATCH_M` m patches of the L1C band against the truth, on a regular
  grid of patches that are fully valid and textured; ``shift_mean_px`` is the mean shift vector
  (east, south) in the band's pixels, ``error_mean_px`` the mean of the per-patch shift lengths
  and ``error_p95_px`` their 95th percentile (each includes the correlation's own noise);
* ``registration_px``: the length of the difference between the band's mean shift vector and
  that of the reference band (B04, else the first band), in the band's pixels — the inter-band
  registration error.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ipf.products import tile as tp
from ipf.products.store import ImageStore
from ipf.radiometry import masks, reflectance


__all__ = ["MARGIN", "PATCH_M", "MIN_TEXTURE", "band_pair", "patch_shift_grid", "patch_shift_map",
           "patch_shifts", "l1c", "cloud_agreement", "print_table"]

MARGIN = 3
PATCH_M = 1280
MIN_TEXTURE = 0.01
"""Patches whose truth reflectance varies less (standard deviation) are skipped."""


def _read_truth(path: Path) -> tuple[np.ndarray, float, float, float]:
    import rasterio

    with rasterio.open(path) as src:
        t = src.transform
        return src.read(1), float(t.c), float(t.f), float(t.a)


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    from ipf.geometry.ortho import dilate

    return dilate(mask, r)


def band_pair(sim_dir: Path, tile: ImageStore, band: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(L1C reflectance, truth reflectance, radiometrically comparable, geometrically comparable)
    on their common pixels (float64, bool, bool); restored defective pixels count only for the
    geometry."""
    meta = tp.read_l1c_tile(tile)
    p = tp.placement(tile, tp.TOA, band)
    res = p.resolution
    dn = np.asarray(tp.read_image(tile, tp.TOA, band))
    q = np.asarray(tp.read_image(tile, tp.QUALITY, band))
    truth, tx0, ty0, tstep = _read_truth(sim_dir / "truth" / f"TRUTH_TOA_{band}.tif")
    if abs(tstep - res) > 1e-6:
        raise ValueError(f"truth of {band} is at {tstep} m, the tile at {res} m")
    wx0 = meta.ulx + p.window[1] * res
    wy0 = meta.uly - p.window[0] * res
    dc, dr = (tx0 - wx0) / res, (wy0 - ty0) / res
    if abs(dc - round(dc)) > 1e-6 or abs(dr - round(dr)) > 1e-6:
        raise ValueError(f"{band}: the truth grid is not on the tile's pixel edges ({dc}, {dr} px)")
    dc, dr = int(round(dc)), int(round(dr))
    r0, c0 = max(dr, 0), max(dc, 0)
    r1, c1 = min(dn.shape[0], dr + truth.shape[0]), min(dn.shape[1], dc + truth.shape[1])
    dn, q = dn[r0:r1, c0:c1], q[r0:r1, c0:c1]
    t = truth[r0 - dr:r1 - dr, c0 - dc:c1 - dc]
    lost = ((q & (masks.NO_DATA | masks.SATURATED)) != 0) | (dn == reflectance.NODATA_DN) | (t == 0)
    rho = (dn.astype(np.float64) + reflectance.RADIO_ADD_OFFSET) / reflectance.QUANTIFICATION_VALUE
    return (rho, t.astype(np.float64) / reflectance.QUANTIFICATION_VALUE, ~_dilate(lost | (q != 0), MARGIN),
            ~_dilate(lost, MARGIN))


def patch_shift_grid(rho: np.ndarray, truth: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """(rows, cols, 2) shifts (east, south), pixels, of the L1C against the truth for each
    ``size`` × ``size`` patch of a regular grid; NaN where the patch is not fully valid or not
    textured (standard deviation of the truth below :data:`MIN_TEXTURE`)."""
    from ipf.radiometry.crosstalk import estimate_offset

    out = np.full((rho.shape[0] // size, rho.shape[1] // size, 2), np.nan)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            r, c = i * size, j * size
            if not ok[r:r + size, c:c + size].all():
                continue
            t = truth[r:r + size, c:c + size]
            if t.std() < MIN_TEXTURE:
                continue
            dy, dx = estimate_offset(t, rho[r:r + size, c:c + size], max_shift=4)
            out[i, j] = (dx, dy)
    return out


def patch_shift_map(rho: np.ndarray, truth: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """Length (pixels) of the shift of each patch (:func:`patch_shift_grid`), NaN where none."""
    g = patch_shift_grid(rho, truth, ok, size)
    return np.hypot(g[..., 0], g[..., 1])


def patch_shifts(rho: np.ndarray, truth: np.ndarray, ok: np.ndarray, size: int) -> np.ndarray:
    """(n, 2) shifts (east, south), pixels, of the measured patches (:func:`patch_shift_grid`)."""
    g = patch_shift_grid(rho, truth, ok, size).reshape(-1, 2)
    return g[np.isfinite(g[:, 0])]


def l1c(sim_dir: Path, product: Path, patch_m: int = PATCH_M) -> dict[str, dict]:
    """Figures per band (see the module docstring) of the L1C tile store ``product``;
    geolocation from patches of ``patch_m`` m (at least 16 pixels)."""
    tile = ImageStore(product)
    bands = [tile.attrs(n)["band"] for n in tile.names(kind="toa")]
    figures: dict[str, dict] = {}
    for band in bands:
        rho, truth, ok, ok_geo = band_pair(sim_dir, tile, band)
        res = tp.placement(tile, tp.TOA, band).resolution
        diff = (rho - truth)[ok]
        mean = truth[ok].mean()
        shifts = patch_shifts(rho, truth, ok_geo, max(16, patch_m // res))
        length = np.hypot(shifts[:, 0], shifts[:, 1])
        figures[band] = {
            "resolution": res, "pixels": int(ok.sum()),
            "bias_pct": float(100 * diff.mean() / mean), "rmse_pct": float(100 * np.sqrt((diff**2).mean()) / mean),
            "patches": int(len(shifts)),
            "shift_mean_px": [float(v) for v in shifts.mean(axis=0)] if len(shifts) else None,
            "error_mean_px": float(length.mean()) if len(shifts) else None,
            "error_p95_px": float(np.percentile(length, 95)) if len(shifts) else None,
        }
    ref = next((b for b in ["B04"] + bands if b in figures and figures[b]["shift_mean_px"] is not None),
               bands[0])
    ref_shift = figures[ref]["shift_mean_px"]
    for band, f in figures.items():
        if f["shift_mean_px"] is None or ref_shift is None:
            f["registration_px"] = None
            continue
        scale = figures[ref]["resolution"] / f["resolution"]
        f["registration_px"] = float(np.hypot(f["shift_mean_px"][0] - ref_shift[0] * scale,
                                              f["shift_mean_px"][1] - ref_shift[1] * scale))
    return figures


def cloud_agreement(sim_dir: Path, product: Path) -> dict:
    """The tile's cloud classes against the same tests on the truth reflectance (60 m), and the
    truth's cloud cover."""
    from ipf.radiometry import clouds

    tile = ImageStore(product)
    meta = tp.read_l1c_tile(tile)
    c = np.asarray(tp.read_image(tile, tp.CLASSI))
    a = tp.image_attrs(tile, tp.CLASSI)
    res = 60

    def truth60(band):
        path = sim_dir / "truth" / f"TRUTH_TOA_{band}.tif"
        if not path.exists():
            return None, None
        t, x0, y0, step = _read_truth(path)
        k = int(round(res / step))
        h, w = t.shape[0] // k, t.shape[1] // k
        rho = t[:h * k, :w * k].astype(np.float64).reshape(h, k, w, k).mean(axis=(1, 3)) / 10000
        return np.minimum(rho, 1.0), (x0, y0)

    blue, (x0, y0) = truth60("B02")
    classes = clouds.classify(blue, truth60("B03")[0], truth60("B11")[0], truth60("B10")[0],
                              **{k.lower(): v for k, v in a["thresholds"].items()})
    dc = int(round((x0 - (meta.ulx + a["window"][1] * res)) / res))
    dr = int(round(((meta.uly - a["window"][0] * res) - y0) / res))
    r0, c0 = max(dr, 0), max(dc, 0)
    r1, c1 = min(c.shape[0], dr + classes.shape[0]), min(c.shape[1], dc + classes.shape[1])
    mine = c[r0:r1, c0:c1]
    ref = classes[r0 - dr:r1 - dr, c0 - dc:c1 - dc]
    seen = np.asarray(tile.read(tp.image_name(tp.DETFOO, "B02") if tp.has_image(tile, tp.DETFOO, "B02")
                                else tile.names(kind="detector_footprint")[0]))
    cloudy = (clouds.OPAQUE | clouds.CIRRUS)
    info = json.loads((sim_dir / "truth" / "truth.json").read_text())
    k = 60 // tp.placement(tile, tp.TOA, "B02").resolution if tp.has_image(tile, tp.TOA, "B02") else 1
    seen60 = seen[:seen.shape[0] // k * k, :seen.shape[1] // k * k].reshape(
        seen.shape[0] // k, k, seen.shape[1] // k, k).min(axis=(1, 3))[r0:r1, c0:c1] > 0
    agree = ((mine & cloudy) > 0) == ((ref & cloudy) > 0)
    return {"cloud_cover_l1c": float(((mine & cloudy) > 0)[seen60].mean()),
            "cloud_cover_truth_tests": float(((ref & cloudy) > 0)[seen60].mean()),
            "cloud_cover_truth_scene": info.get("scene", {}).get("cloud_cover"),
            "agreement": float(agree[seen60].mean())}


def print_table(figures: dict[str, dict], title: str) -> None:
    print(title)
    print(f"{'band':<5} {'res':>4} {'bias %':>8} {'rmse %':>8} {'patches':>8} {'shift E':>8} {'shift S':>8} "
          f"{'mean px':>8} {'p95 px':>8} {'reg px':>8}")
    def num(v):
        return float("nan") if v is None else v

    for band, f in figures.items():
        sx, sy = f["shift_mean_px"] or (float("nan"), float("nan"))
        print(f"{band:<5} {f['resolution']:>4} {f['bias_pct']:>8.3f} {f['rmse_pct']:>8.3f} {f['patches']:>8} "
              f"{sx:>8.3f} {sy:>8.3f} {num(f['error_mean_px']):>8.3f} "
              f"{num(f['error_p95_px']):>8.3f} {num(f['registration_px']):>8.3f}")
