"""``make demo``: simulate the demo scene and run the processing chain through its Job Orders.

``python -m ipf.validation.demo [DIR]`` (default ``build/demo``):

1. ``ipf-sim --size demo --seed 7 --out DIR/sim`` (kept when a previous run made the same scene:
   the simulator is deterministic);
2. ``ipf DIR/sim/joborders/JobOrder_<L>.xml`` for L0, L1A, L1B (radiometry and geometric
   refining), the L1C tile(s) ``JobOrder_L1C_T<tile>.xml`` (tile, JPEG 2000 and the SAFE product)
   and their OLQC ``JobOrder_OLQC_T<tile>.xml``, in subprocesses, exactly as a
   Production Service runs them (the Job Orders are written again and earlier products and
   reports removed first);
3. the same L1C Job Order on the L1B product before refining (``DIR/unrefined/``), for the
   geolocation error without refining;
4. the accuracy against the simulator's truth (:mod:`ipf.validation.accuracy`: L1B radiometry, refining,
   L1C tile), written with the time of each run and task to ``DIR/report.md``, with PNG
   figures in ``DIR/figures/`` (:mod:`ipf.validation.report`).

The exit status is the first non-zero ``ipf`` exit code, else 0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


__all__ = ["SIZE", "SEED", "CHAIN", "TILE_TASKS", "main"]

SIZE, SEED = "demo", 7
CHAIN = ("L0", "L1A", "L1B")


def _simulate(sim: Path) -> float:
    truth = sim / "truth" / "truth.json"
    if truth.exists():
        info = json.loads(truth.read_text())
        from ipf.simulator.simulate import OUTPUT_FORMAT

        if (info.get("size"), info.get("seed"), info.get("format")) == (SIZE, SEED, OUTPUT_FORMAT):
            print(f"reusing the simulated scene in {sim} (size {SIZE}, seed {SEED})", flush=True)
            return 0.0
    if sim.exists():
        shutil.rmtree(sim)
    cmd = [str(Path(sys.executable).with_name("ipf-sim")), "--size", SIZE, "--seed", str(SEED),
           "--out", str(sim), "--quiet"]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


TILE_TASKS = ("TILE_INIT", "GEN_ORTHO_TOA", "MASK_S2", "TILE_FINALIZE")


def _unrefined_job(job: Path, folder: Path) -> Path:
    """The tile tasks (:data:`TILE_TASKS`, no formatting) of the L1C Job Order ``job`` on the
    L1B product before refining (RADIO_AB's output), their products and report in ``folder``."""
    from ipf.interface import joborder as jo

    order = jo.read(job)
    procs = []
    for proc in order.procs:
        if proc.task_name not in TILE_TASKS:
            continue
        inputs = tuple(i.model_copy(update={"file_names": tuple(
            Path(str(f).replace("_MSI_L1B_DS_", "_MSI_L1BRDS_")) if i.file_type == "PDI_DS" else f
            for f in i.file_names)}) for i in proc.inputs)
        inputs = tuple(i.model_copy(update={"file_names": tuple(
            folder / "products" / f.name if f.name.count("_MSI_L1C") else f for f in i.file_names)})
            for i in inputs)
        outputs = tuple(o.model_copy(update={"file_name": folder / (
            "reports" if o.file_type == "REPORT" else "products") / o.file_name.name}) for o in proc.outputs)
        procs.append(proc.model_copy(update={"inputs": inputs, "outputs": outputs}))
    for d in ("products", "reports"):
        (folder / d).mkdir(parents=True, exist_ok=True)
    return jo.write(order.model_copy(update={"procs": tuple(procs)}), folder / job.name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    work = Path(argv[0] if argv else "build/demo").resolve()
    sim = work / "sim"
    work.mkdir(parents=True, exist_ok=True)
    timings = {"simulation (ipf-sim)": _simulate(sim)}
    for d in ("products", "reports"):
        shutil.rmtree(sim / d, ignore_errors=True)
    shutil.rmtree(work / "unrefined", ignore_errors=True)
    from ipf.simulator.joborders import write_job_orders

    write_job_orders(sim)
    jobs = [sim / "joborders" / f"JobOrder_{level}.xml" for level in CHAIN]
    l1c_jobs = sorted((sim / "joborders").glob("JobOrder_L1C_T*.xml"))
    jobs += l1c_jobs + sorted((sim / "joborders").glob("JobOrder_OLQC_T*.xml"))
    jobs.append(_unrefined_job(l1c_jobs[0], work / "unrefined"))
    ipf = str(Path(sys.executable).with_name("ipf"))
    runs = work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    summaries = {}
    for job in jobs:
        print(f"$ {ipf} {job}", flush=True)
        t0 = time.perf_counter()
        summary = runs / f"{job.stem}{'_unrefined' if job.parent.name == 'unrefined' else ''}.json"
        status = subprocess.call([ipf, str(job)], env={**os.environ, "IPF_RUN_SUMMARY": str(summary)})
        timings[f"ipf {job.relative_to(work)}"] = time.perf_counter() - t0
        if summary.exists():
            summaries[str(job.relative_to(work))] = json.loads(summary.read_text())
        if status != 0:
            print(f"ipf exited with {status}", file=sys.stderr)
            return status

    from ipf.validation import accuracy, accuracy_l1c

    product = next((sim / "products").glob("*_MSI_L1B_DS_*"))
    tile = next((sim / "products").glob("*_MSI_L1C_TL_*"))
    safe_product = next((sim / "products").glob("*.SAFE"))
    olqc = next((sim / "products").glob("*_OLQC_REPORT.xml"))
    before = next((work / "unrefined" / "products").glob("*_MSI_L1C_TL_*"))
    figures = accuracy.l1b(sim, product)
    refining = accuracy.refining(sim, product)
    after_fig, before_fig = accuracy_l1c.l1c(sim, tile), accuracy_l1c.l1c(sim, before)
    clouds = accuracy_l1c.cloud_agreement(sim, tile)
    lines = ["# s2ipf demo", "", f"Scene: `ipf-sim --size {SIZE} --seed {SEED}` in `{sim}`.",
             f"L1B product: `{product}`.", "", "## Time per run (one core)", "",
             "| run | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in timings.items()]
    lines += ["", "Time per task (s, from each run's `IPF_RUN_SUMMARY`):", "", "| Job Order | task | seconds |",
              "|---|---|---:|"]
    lines += [f"| {job} | {t['task']} | {t['seconds']:.2f} |" for job, s in summaries.items() for t in s["tasks"]]
    lines += ["", "## L1B radiometric accuracy against the truth (% of mean radiance)", "",
              "| band | bias | RMSE | noise | noise after deconvolution | striping beyond noise "
              "| MTF/target at Nyquist | defective RMSE | RMSE near saturation | restoration |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for band, r in figures.items():
        mtf = f"{r['mtf_ratio']:.3f}" if "mtf_ratio" in r else "-"
        lines.append(f"| {band} | {r['bias_pct']:.3f} | {r['rmse_pct']:.3f} | {r['noise_pct']:.3f} "
                     f"| {r['noise_deconvolved_pct']:.3f} | {r['striping_excess_pct']:.3f} | {mtf} "
                     f"| {r.get('defective_rmse_pct', float('nan')):.2f} "
                     f"| {r.get('ring_rmse_pct', float('nan')):.1f} "
                     f"| {', '.join(r['steps'][3:]) or '-'} |")
    lines += ["", "## Geometric refining (L1B) against the truth", "",
              f"{refining['tie_points']} tie points; ground error of {refining['points']} image points of "
              f"{refining['band']} against the true attitude:", "",
              "| attitude | mean (m) | RMS (m) | 95th percentile (m) | mean (pixel) |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {k} | {v['mean_m']:.3f} | {v['rms_m']:.3f} | {v['p95_m']:.3f} | {v['mean_px']:.3f} |"
              for k, v in refining["ground_error"].items()]
    if refining["refined"]:
        lines += ["", "| axis | bias true (µrad) | estimated | drift true (µrad/s) | estimated |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {axis} | {refining['true_bias_urad'][k]:.3f} | {refining['estimated_bias_urad'][k]:.3f} "
                  f"| {refining['true_drift_urad_s'][k]:.4f} | {refining['estimated_drift_urad_s'][k]:.4f} |"
                  for k, axis in enumerate(("roll", "pitch", "yaw"))]
    lines += ["", f"## L1C tile `{tile.name}` against the truth", "",
              "Geolocation by phase correlation of 1.28 km patches against the truth, in pixels of each "
              "band; TOA reflectance bias and RMSE in % of the mean truth reflectance (the RMSE includes "
              "the instrument blur the area-mean truth lacks).", "",
              "| band | res (m) | bias % | RMSE % | patches | mean error (px) | 95th pct (px) "
              "| registration to B04 (px) | mean error before refining (px) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def num(v, fmt=".3f"):
        return "-" if v is None else format(v, fmt)

    for band, f in after_fig.items():
        b = before_fig.get(band, {})
        lines.append(f"| {band} | {f['resolution']} | {f['bias_pct']:.3f} | {f['rmse_pct']:.2f} | {f['patches']} "
                     f"| {num(f['error_mean_px'])} | {num(f['error_p95_px'])} | {num(f['registration_px'])} "
                     f"| {num(b.get('error_mean_px'))} |")
    lines += ["", f"Cloud mask (MASK_S2, 60 m): cloud cover {100 * clouds['cloud_cover_l1c']:.2f} % "
              f"(the same tests on the truth: {100 * clouds['cloud_cover_truth_tests']:.2f} %), "
              f"agreement {100 * clouds['agreement']:.2f} % of the pixels."]
    from ipf.validation import report as figures_png

    pngs = figures_png.demo_figures(sim, tile, work / "figures", before)
    captions = {"quicklook_l1c": "L1C tile, true colour (B04, B03, B02)",
                "quicklook_truth": "truth, same area", "error_b04": "B04 L1C − truth reflectance "
                "(−0.05 blue … +0.05 red; clouds and masked pixels grey)",
                "geolocation": "geolocation error of each 1.28 km patch of B04 (0 … 0.2 px)",
                "geolocation_before": "the same before refining (0 … 6 px)"}
    from lxml import etree

    olqc_root = etree.parse(str(olqc)).getroot()
    lines += ["", f"## L1C product `{safe_product.name}`", "",
              f"OLQC (`{olqc.name}`): **{olqc_root.findtext('Global_Status')}**; quality indicators: "
              + ", ".join(f"{q.get('checkType')} {q.text}" for q in olqc_root.iter("quality_check")) + "."]
    not_passed = [c for c in olqc_root.iter("Check") if c.findtext("Status") != "PASSED"]
    lines += [f"- {c.get('name')} {c.get('item') or ''}: {c.findtext('Status')} "
              f"({c.findtext('Value')} {c.find('Value').get('unit') if c.find('Value') is not None else ''}, "
              f"limit {c.findtext('Threshold')})" for c in not_passed]
    lines += ["", "## Figures", ""]
    lines += [f"![{captions[k]}]({p.relative_to(work)})  \n*{captions[k]}*\n" for k, p in pngs.items()]
    report = work / "report.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[7:]))
    print(f"\nreport: {report}\nL1B product: {product}\nL1C tile: {tile}\nL1C product: {safe_product}\n"
          f"OLQC report: {olqc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
