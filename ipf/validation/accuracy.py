"""Accuracy of the processors against the simulator's truth: ``python -m ipf.validation.accuracy l1b SIM``,
``python -m ipf.validation.accuracy refining SIM`` and ``python -m ipf.validation.accuracy l1c SIM`` (the L1C tile:
:mod:`ipf.validation.accuracy_l1c`).

L1B radiometry. The truth of a band is the radiance each detector would see with no noise, no
crosstalk (but that of bands absent from the product, which cannot be corrected), ideal gains and, where the band is restored (GIP_R2DECT ``deconvolution``), a PSF whose
MTF at Nyquist is the restoration target; it is rendered again from the simulation's seed with
the true geometry (:func:`ipf.simulator.imaging.radiance_chunk`). Compared pixels exclude the
masked ones (saturated, no data, defective) and their 8-pixel neighbourhood and the 8-pixel image
borders. Figures per band, in % of the mean truth radiance:

* ``bias``, ``rmse``: mean and RMS of L1B - truth;
* ``noise``: RMS of the simulated noise at the truth radiance (the level before denoising), and
  ``noise_deconvolved``, the same through the deconvolution filter (its noise gain);
* ``striping``: standard deviation over columns of the column-mean error (residual non-uniformity
  between detector elements), ``striping_noise``, the part expected from noise alone, and
  ``striping_excess``, what remains beyond noise (quadratic difference);
* ``mtf_ratio``: for restored bands, across-track transfer of L1B relative to the target MTF
  at 0.40-0.50 cycle/pixel (1 = target met), from the L1B × truth cross-spectrum;
* ``defective_rmse``: RMSE on the restored defective columns (excluded from the other figures);
* ``ring_rmse``: RMSE on the unflagged pixels within 8 pixels of a saturated or no-data one,
  which the restoration filters mix with the flagged ones (excluded from the other figures).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ipf.products.store import ImageStore, image_name
from ipf.radiometry import deconvolution, masks


__all__ = ["BORDER", "truth_radiance", "l1b", "refining", "geometry_files", "true_model", "main"]

BORDER = 8


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for axis in (0, 1):
        acc = out.copy()
        for s in range(1, r + 1):
            acc |= np.roll(out, s, axis) | np.roll(out, -s, axis)
        out = acc
    return out


def truth_radiance(sim_dir: Path, bands: tuple[str, ...] | None = None) -> dict[tuple[str, int], np.ndarray]:
    """Noise-free L1B truth of every (band, detector) of the simulation in ``sim_dir`` (the
    60 m bands' elements binned to pixels as GIP_R2BINN says)."""
    from ipf.simulator.config import SIZES
    from ipf.simulator.imaging import bin_elements, radiance_chunk
    from ipf.simulator.simulate import setup

    info = json.loads((sim_dir / "truth" / "truth.json").read_text())
    config = SIZES[info["size"]]
    sim = setup(config, info["seed"])
    inst = sim.instrument
    dect = {b: (d.model_copy(update={"mtf_nyquist_along": d.target_mtf_nyquist,
                                     "mtf_nyquist_across": d.target_mtf_nyquist})
                if d.deconvolution else d) for b, d in inst.r2dect.items()}
    present = set(bands if bands is not None else sim.context.bands)
    # crosstalk from bands absent from the product cannot be corrected: it stays in the truth
    kept = [c for c in inst.r2crco.couplings if c.source not in present]
    ideal = replace(inst, r2dect=dect, r2crco=inst.r2crco.model_copy(update={"couplings": kept}))
    ctx = replace(sim.context, instrument=ideal)
    if bands is not None:
        ctx = replace(ctx, bands=tuple(b for b in ctx.bands if b in bands))
    out: dict[tuple[str, int], list[np.ndarray]] = {}
    step = config.chunk_lines_10m
    for det in config.detectors:
        for c0 in range(0, config.n_lines_10m, step):
            for band, chunk in radiance_chunk(ctx, det, c0, c0 + step).items():
                out.setdefault((band, det), []).append(bin_elements(ctx, band, chunk))
    return {k: np.concatenate(v).astype(np.float32) for k, v in out.items()}


def l1b(sim_dir: Path, l1b_store: Path) -> dict[str, dict]:
    """Per-band accuracy figures (see the module docstring) of the L1B store ``l1b_store``."""
    from ipf.simulator.radiometry import radiance_noise_sigma

    store = ImageStore(l1b_store)
    names = store.names(kind="radiance")
    truth = truth_radiance(sim_dir, tuple(sorted({store.attrs(n)["band"] for n in names})))
    sums: dict[str, dict[str, list]] = {}
    from ipf.formats import gipp

    gdir = sim_dir / "GIPP"
    for name in names:
        a = store.attrs(name)
        band, det = a["band"], a["detector"]
        L = np.asarray(store.read(name), np.float64)
        T = truth[band, det].astype(np.float64)
        if T.shape != L.shape:
            raise ValueError(f"{name}: L1B {L.shape} and truth {T.shape} differ")
        mask = np.asarray(store.read(image_name("mask", band, det)))
        bad = _dilate((mask & (masks.SATURATED | masks.NO_DATA)) > 0, 8)
        defective = (mask & masks.DEFECTIVE) > 0
        keep = ~bad & ~_dilate(defective, 1)
        keep[:BORDER] = keep[-BORDER:] = False
        keep[:, :BORDER] = keep[:, -BORDER:] = False
        eq = gipp.read_gipp(gipp.find_gipp(gdir, "GIP_R2EQOG", band))
        dent = gipp.read_gipp(gipp.find_gipp(gdir, "GIP_R2DENT", band))
        abca = gipp.read_gipp(gipp.find_gipp(gdir, "GIP_R2ABCA"))
        A = next(b.absolute_gain for b in abca.bands if b.band == band)
        g = eq.relative_gain[eq.detectors.index(det)].astype(np.float64)
        k = g.size // T.shape[1]
        sigma = np.sqrt((radiance_noise_sigma(np.repeat(T, k, axis=1), A, g, dent.electrons_per_dn,
                                              dent.read_noise_dn) ** 2).reshape(*T.shape, k).sum(axis=2)) / k
        err = L - T
        s = sums.setdefault(band, {k: [] for k in ("err", "truth", "sigma", "sigma_out", "cols",
                                                   "col_noise", "mtf", "defective", "ring", "steps")})
        ring = bad & ~((mask & (masks.SATURATED | masks.NO_DATA)) > 0)
        s["ring"].append(err[ring])
        s["err"].append(err[keep])
        s["truth"].append(T[keep])
        s["sigma"].append(sigma[keep])
        rows = keep.sum(axis=0)
        cols = rows >= max(8, keep.shape[0] // 4)
        col_err = np.where(keep, err, 0).sum(axis=0)[cols] / rows[cols]
        s["cols"].append(col_err)
        s["col_noise"].append(np.sqrt(np.where(keep, sigma**2, 0).sum(axis=0)[cols]) / rows[cols])
        if defective.any():
            dcols = defective.any(axis=0)
            rows_ok = ~bad.any(axis=1)
            s["defective"].append(err[rows_ok][:, dcols].ravel())
        gain = 1.0
        if "deconvolution" in a["steps"]:
            s["mtf"].append(_transfer(L, T, keep))
            d = gipp.read_gipp(gipp.find_gipp(gdir, "GIP_R2DECT", band))
            gain = float(np.linalg.norm(deconvolution.mtf_matching_filter(
                d.mtf_nyquist_along, d.target_mtf_nyquist, d.filter_half_size)) * np.linalg.norm(
                deconvolution.mtf_matching_filter(d.mtf_nyquist_across, d.target_mtf_nyquist,
                                                  d.filter_half_size)))
        s["sigma_out"].append(sigma[keep] * gain)
        s["steps"] = a["steps"]
    result = {}
    for band, s in sorted(sums.items()):
        err, T = np.concatenate(s["err"]), np.concatenate(s["truth"])
        mean = T.mean()
        cols, col_noise = np.concatenate(s["cols"]), np.concatenate(s["col_noise"])
        r = {"pixels": int(err.size), "mean_truth": round(float(mean), 3),
             "bias_pct": round(100 * float(err.mean()) / mean, 4),
             "rmse_pct": round(100 * float(np.sqrt(np.mean(err**2))) / mean, 4),
             "noise_pct": round(100 * float(np.sqrt(np.mean(np.concatenate(s["sigma"]) ** 2))) / mean, 4),
             "noise_deconvolved_pct": round(100 * float(np.sqrt(np.mean(
                 np.concatenate(s["sigma_out"]) ** 2))) / mean, 4),
             "striping_pct": round(100 * float(np.std(cols)) / mean, 4),
             "striping_noise_pct": round(100 * float(np.sqrt(np.mean(col_noise**2))) / mean, 4),
             "striping_excess_pct": round(100 * float(np.sqrt(max(
                 np.var(cols) - np.mean(col_noise**2), 0.0))) / mean, 4),
             "steps": s["steps"]}
        ring = np.concatenate(s["ring"])
        r["ring_pixels"] = int(ring.size)
        if ring.size:
            r["ring_rmse_pct"] = round(100 * float(np.sqrt(np.mean(ring**2))) / mean, 4)
        if s["mtf"]:
            r["mtf_ratio"] = round(float(np.nanmean(s["mtf"])), 3)
        if s["defective"]:
            d = np.concatenate(s["defective"])
            r["defective_rmse_pct"] = round(100 * float(np.sqrt(np.mean(d**2))) / mean, 4)
        result[band] = r
    return result


def _transfer(L: np.ndarray, T: np.ndarray, keep: np.ndarray) -> float:
    """Across-track |<FFT(L) FFT(T)*>| / <|FFT(T)|²> over 0.40-0.50 cycle/pixel, on the rows
    with at least 95 % of their pixels kept (the others take the truth value); noise is
    uncorrelated with the truth, so it averages out."""
    inner = keep[:, BORDER:-BORDER]
    rows = inner.mean(axis=1) >= 0.95
    if rows.sum() < 4:
        return float("nan")
    t = T[rows][:, BORDER:-BORDER]
    l = np.where(inner[rows], L[rows][:, BORDER:-BORDER], t)
    l = l - l.mean(axis=1, keepdims=True)
    t = t - t.mean(axis=1, keepdims=True)
    win = np.hanning(l.shape[1])
    fl, ft = np.fft.rfft(l * win, axis=1), np.fft.rfft(t * win, axis=1)
    f = np.fft.rfftfreq(l.shape[1])
    band = (f >= 0.40) & (f <= 0.50)
    cross = np.abs((fl[:, band] * np.conj(ft[:, band])).mean(axis=0))
    power = (np.abs(ft[:, band]) ** 2).mean(axis=0)
    return float(np.median(cross / power))


def refining(sim_dir: Path, l1b_store: Path, step: int = 32) -> dict:
    """Geometric refining against the truth: the attitude correction of the final L1B store
    (:class:`ipf.products.datastrip.RefinedGeometry`, GEO1B_FINALIZE) against ``truth.json`` ``attitude_error``, and the ground
    error of the given and refined models.

    The image points are every ``step`` lines and pixels of each detector of the refining band
    (the first 10 m band without a refined geometry); their true ground point (E, N, h) is the
    direct location with the true attitude (:func:`true_model`) on the truth DEM (10 m), and a
    model's error is the horizontal distance from it to where that model's line of sight reaches
    h (m, and pixels of the band).
    """
    from datetime import datetime

    from ipf.formats.msi_bands import BY_NAME
    from ipf.geometry.datation import seconds_since
    from ipf.formats.geotiff import read_dem
    from ipf.geometry.direct import direct_location, intersect_height_utm
    from ipf.geometry.geodesy import geodesy
    from ipf.products.datastrip import read_geometry, sensor_model

    store = ImageStore(l1b_store)
    geometry = read_geometry(store, missing_ok=True)
    files = geometry_files(sim_dir)
    given = sensor_model(store, *files, refined=False)
    models = {"given": given, "refined": sensor_model(store, *files)}
    true = true_model(sim_dir, given)
    dem = read_dem(sim_dir / "truth" / "TRUTH_DEM_10m.tif")
    geo = geodesy(dem.epsg)
    present = sorted({store.attrs(n)["band"] for n in store.names(kind="radiance")})
    band = (geometry and geometry.image_band) or min(present, key=lambda b: (BY_NAME[b].resolution_m, b))
    res = BY_NAME[band].resolution_m
    errors: dict[str, list[np.ndarray]] = {k: [] for k in models}
    for name in store.names(kind="radiance", band=band):
        a = store.attrs(name)
        lines, pixels = np.meshgrid(np.arange(step // 2, a["lines"], step, dtype=np.float64),
                                    np.arange(step // 2, a["pixels"], step, dtype=np.float64), indexing="ij")
        e, n, h = direct_location(true, geo, dem, band, a["detector"], lines.ravel(), pixels.ravel())
        for key, m in models.items():
            pos, look = m.lines_of_sight(band, a["detector"], lines.ravel(), pixels.ravel())
            e2, n2 = intersect_height_utm(geo, pos, look, h)
            errors[key].append(np.hypot(e2 - e, n2 - n))

    def stats(d: np.ndarray) -> dict[str, float]:
        out = {"mean_m": float(d.mean()), "rms_m": float(np.sqrt(np.mean(d * d))),
               "p95_m": float(np.percentile(d, 95)), "max_m": float(d.max())}
        return out | {k.replace("_m", "_px"): v / res for k, v in out.items()}

    truth = json.loads((sim_dir / "truth" / "truth.json").read_text())
    t_bias, t_drift = (np.asarray(truth["attitude_error"][k]) for k in ("bias", "drift"))
    result = {"band": band, "resolution_m": res, "points": int(sum(len(v) for v in errors["given"])),
              "refined": bool(geometry is not None and geometry.refined),
              "tie_points": geometry.tie_points if geometry is not None else None,
              "ground_error": {k: stats(np.concatenate(v)) for k, v in errors.items()},
              "true_bias_urad": (1e6 * t_bias).tolist(), "true_drift_urad_s": (1e6 * t_drift).tolist()}
    if result["refined"]:
        c = geometry.attitude_correction
        drift = np.asarray(c.drift_rad_s)
        offset = float(seconds_since(datetime.fromisoformat(truth["reference_time"]),
                                     geometry.reference_time))
        bias = np.asarray(c.bias_rad) + drift * offset
        result |= {"estimated_bias_urad": (1e6 * bias).tolist(),
                   "estimated_drift_urad_s": (1e6 * drift).tolist(),
                   "bias_error_urad": (1e6 * (bias - t_bias)).tolist(),
                   "drift_error_urad_s": (1e6 * (drift - t_drift)).tolist(),
                   "tie_point_residuals": geometry.residuals}
    return result


def geometry_files(sim_dir: Path) -> tuple[Path, Path, list[Path]]:
    """The AUX_UT1UTC, GIP_SPAMOD and GIP_VIEDIR files of a simulation (``AUX/``, ``GIPP/``), as
    :func:`ipf.products.datastrip.sensor_model` takes them."""
    from ipf.formats.aux import select_ut1utc

    gdir = Path(sim_dir) / "GIPP"
    spamod = sorted(gdir.glob("*_GIP_SPAMOD_*.xml"))
    if len(spamod) != 1:
        raise ValueError(f"{len(spamod)} GIP_SPAMOD files in {gdir}, expected 1")
    return (select_ut1utc(sorted((Path(sim_dir) / "AUX").glob("*_AUX_UT1UTC_*"))), spamod[0],
            sorted(gdir.glob("*_GIP_VIEDIR_*.xml")))


def true_model(sim_dir: Path, model):
    """``model`` (:class:`ipf.geometry.sensor.SensorModel`) with the simulation's true attitude
    (piloting -> ITRF, :func:`ipf.simulator.truth.read_true_attitude`)."""
    from ipf.geometry.attitude import Attitude
    from ipf.simulator.truth import read_true_attitude

    times, q = read_true_attitude(Path(sim_dir))
    return model.with_attitude(Attitude.from_samples(times, q, model.reference, element="true attitude"))


def _print_refining(sim: Path, r: dict) -> None:
    print(f"Geometric refining against the truth ({sim}): {r['points']} image points of {r['band']}, "
          f"{r['tie_points']} tie points, refined: {r['refined']}")
    axes = ("roll (x)", "pitch (y)", "yaw (z)")
    if r["refined"]:
        print(f"{'axis':<10} {'bias true':>10} {'estimated':>10} {'error':>8}   {'drift true':>10} "
              f"{'estimated':>10} {'error':>8}   (µrad, µrad/s)")
        for k, axis in enumerate(axes):
            print(f"{axis:<10} {r['true_bias_urad'][k]:>10.3f} {r['estimated_bias_urad'][k]:>10.3f} "
                  f"{r['bias_error_urad'][k]:>8.3f}   {r['true_drift_urad_s'][k]:>10.4f} "
                  f"{r['estimated_drift_urad_s'][k]:>10.4f} {r['drift_error_urad_s'][k]:>8.4f}")
    print(f"{'ground error':<14} {'mean':>8} {'rms':>8} {'p95':>8} {'max':>8}  (m)   "
          f"{'mean':>7} {'rms':>7} {'p95':>7}  (pixel of {r['resolution_m']} m)")
    for key, s in r["ground_error"].items():
        print(f"{key:<14} {s['mean_m']:>8.3f} {s['rms_m']:>8.3f} {s['p95_m']:>8.3f} {s['max_m']:>8.3f}"
              f"        {s['mean_px']:>7.3f} {s['rms_px']:>7.3f} {s['p95_px']:>7.3f}")


def _main_l1c(args) -> int:
    from ipf.validation import accuracy_l1c

    product = args.product or next(p for p in sorted((args.sim / "products").glob("*_MSI_L1C_TL_*"))
                                   if "UNREFINED" not in p.name)
    figures = {"after_refining": accuracy_l1c.l1c(args.sim, product)}
    accuracy_l1c.print_table(figures["after_refining"],
                             f"L1C tile {product.name} against the truth ({args.sim}); shifts in pixels of "
                             "each band, (east, south)")
    if args.before:
        figures["before_refining"] = accuracy_l1c.l1c(args.sim, args.before)
        accuracy_l1c.print_table(figures["before_refining"], f"\nthe same tile without refining ({args.before.name})")
    figures["clouds"] = accuracy_l1c.cloud_agreement(args.sim, product)
    c = figures["clouds"]
    print(f"\ncloud cover: L1C {100 * c['cloud_cover_l1c']:.2f} %, same tests on the truth "
          f"{100 * c['cloud_cover_truth_tests']:.2f} %, agreement {100 * c['agreement']:.2f} % of 60 m pixels")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ipf.validation.accuracy", description=__doc__.split("\n")[0])
    p.add_argument("level", choices=("l1b", "refining", "l1c"))
    p.add_argument("sim", type=Path, help="simulator output folder (with truth/ and GIPP/)")
    p.add_argument("product", type=Path, nargs="?",
                   help="L1B store (default: products/*_MSI_L1B_DS_*) or, for l1c, L1C tile "
                        "(default: products/*_MSI_L1C_TL_*)")
    p.add_argument("--before", type=Path, help="l1c: the same tile made without refining, for "
                                               "the geolocation error before refining")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    if args.level == "l1c":
        return _main_l1c(args)
    product = args.product or next((args.sim / "products").glob("*_MSI_L1B_DS_*"))
    if args.level == "refining":
        figures = refining(args.sim, product)
        _print_refining(args.sim, figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
        return 0
    figures = l1b(args.sim, product)
    print(f"L1B radiometric accuracy against the truth ({args.sim}), % of mean radiance")
    print(f"{'band':<5} {'bias':>8} {'rmse':>8} {'noise':>8} {'(deconv)':>8} {'striping':>9} "
          f"{'(noise)':>8} {'(excess)':>8} {'mtf/target':>10} {'defective':>10}  steps")
    for band, r in figures.items():
        print(f"{band:<5} {r['bias_pct']:>8.3f} {r['rmse_pct']:>8.3f} {r['noise_pct']:>8.3f} "
              f"{r['noise_deconvolved_pct']:>8.3f} "
              f"{r['striping_pct']:>9.3f} {r['striping_noise_pct']:>8.3f} "
              f"{r['striping_excess_pct']:>8.3f} "
              f"{r.get('mtf_ratio', float('nan')):>10.3f} {r.get('defective_rmse_pct', float('nan')):>10.3f}  "
              f"{', '.join(r['steps'][3:])}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
