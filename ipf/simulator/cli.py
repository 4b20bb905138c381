"""Command line of the simulator: ``ipf-sim --size small|demo --seed N --out DIR``."""

from __future__ import annotations

import argparse
import json
import sys
import time


__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ipf-sim", description=(
        "Simulate a Sentinel-2 MSI acquisition: L0 datastrip (with the orbit and attitude in its "
        "metadata) and granules, GIPPs, AUX (AUX_UT1UTC, DEM, GRI) and the truth (reflectance, DEM, "
        "true attitude)."))
    p.add_argument("--size", choices=("small", "demo", "tile"), default="small",
                   help="small: 2 detector windows of 192 pixels, 3 bands, 288 lines (seconds); demo: 13 bands, 2 full detectors "
                        "(about a minute); tile: 13 bands, 5 detectors, one MGRS tile (benchmarks)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed -> identical files)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--lost-packets", type=float, default=0.0, metavar="RATE", help="fault injection: packet loss probability")
    p.add_argument("--crc-errors", type=float, default=0.0, metavar="RATE", help="fault injection: corrupted packet probability")
    p.add_argument("--time-jumps", type=float, default=0.0, metavar="RATE", help="fault injection: packet time jump probability")
    p.add_argument("--quiet", action="store_true", help="print only the final summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from dataclasses import replace
    from pathlib import Path

    from ipf.formats.ccsds import FaultInjection
    from ipf.simulator.config import SIZES
    from ipf.simulator.simulate import run

    config = replace(SIZES[args.size], faults=FaultInjection(args.lost_packets, args.crc_errors, args.time_jumps))
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"ipf-sim: output folder {out} is not empty", file=sys.stderr)
        return 2
    t = time.perf_counter()
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    summary = run(config, args.seed, out, log)
    summary["total_s"] = time.perf_counter() - t
    print(json.dumps(summary, indent=1))
    return 0
