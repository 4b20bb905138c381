"""``make demo``: simulate the demo scene and run the processing chain through its Job Orders.

``python -m ipf.demo [DIR]`` (default ``build/demo``):

1. ``ipf-sim --size demo --seed 7 --out DIR/sim`` (kept when a previous run made the same scene:
   the simulator is deterministic);
2. ``ipf DIR/sim/joborders/JobOrder_<L>.xml`` for L0, L1A and L1B, in subprocesses, exactly as a
   Production Service runs them (earlier products and reports are removed first);
3. the accuracy of the L1B radiometry against the simulator's truth (:mod:`ipf.accuracy`),
   written with the time of each run to ``DIR/report.md``.

The exit status is the first non-zero ``ipf`` exit code, else 0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

SIZE, SEED = "demo", 7
CHAIN = ("L0", "L1A", "L1B")


def _simulate(sim: Path) -> float:
    truth = sim / "truth" / "truth.json"
    if truth.exists():
        info = json.loads(truth.read_text())
        if (info.get("size"), info.get("seed")) == (SIZE, SEED) and (sim / "joborders").exists():
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    work = Path(argv[0] if argv else "build/demo").resolve()
    sim = work / "sim"
    work.mkdir(parents=True, exist_ok=True)
    timings = {"simulation (ipf-sim)": _simulate(sim)}
    for d in ("products", "reports"):
        shutil.rmtree(sim / d, ignore_errors=True)
    ipf = str(Path(sys.executable).with_name("ipf"))
    for level in CHAIN:
        job = sim / "joborders" / f"JobOrder_{level}.xml"
        print(f"$ {ipf} {job}", flush=True)
        t0 = time.perf_counter()
        status = subprocess.call([ipf, str(job)])
        timings[f"ipf JobOrder_{level}.xml"] = time.perf_counter() - t0
        if status != 0:
            print(f"ipf exited with {status}", file=sys.stderr)
            return status

    from ipf import accuracy

    product = next((sim / "products").glob("*_MSI_L1B_DS_*"))
    figures = accuracy.l1b(sim, product)
    lines = ["# s2ipf demo", "", f"Scene: `ipf-sim --size {SIZE} --seed {SEED}` in `{sim}`.",
             f"L1B product: `{product}`.", "", "## Time per run (one core)", "",
             "| run | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in timings.items()]
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
    report = work / "report.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[7:]))
    print(f"\nreport: {report}\nL1B product: {product}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
