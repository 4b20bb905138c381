"""Fit the real S2A focal plane (GIP_VIEDIR) with low-degree polynomials and write the model JSON.

For every band and detector of the real GIP_VIEDIR files (the ``APPLIED`` list of the TDI bands
B03, B04, B11, B12), tan_psi_x and tan_psi_y are fitted with polynomials in the scaled pixel
index ``s = (p - c) / h`` (``c = h = (n - 1) / 2``, so ``s`` spans [-1, 1]); the degree is the
lowest (up to ``MAX_DEGREE``) whose largest residual is below ``TARGET_PX`` pixel, residuals
being expressed in pixels by dividing by the local tan step per pixel ``|d tan_psi_x / dp|``.
Only the coefficients (and the fit's largest residual) are written, not the tables.

    python tools/fit_focal_plane.py [VIEDIR_FOLDER] [OUT_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ipf.formats.gipp_gs2 import GIP_VIEDIR, TDI_BANDS, read_gs2
from ipf.formats.msi_bands import BAND_NAMES
from ipf.interface.files import atomic_write

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "real" / "gipp" / "GIP_VIEDIR"
DEFAULT_OUT = REPO / "ipf" / "simulator" / "data" / "S2A_focal_plane.json"
TARGET_PX = 1e-3
MAX_DEGREE = 7


def residual_px(table: np.ndarray, model: np.ndarray, step: np.ndarray) -> float:
    """Largest |model - table| in pixels (``step``: tan per pixel at each pixel)."""
    return float(np.max(np.abs(model - table) / step))


def fit_table(table: np.ndarray, step: np.ndarray) -> tuple[list[float], float]:
    """(power coefficients in s, largest residual px) of the lowest degree reaching TARGET_PX."""
    n = len(table)
    h = (n - 1) / 2
    s = (np.arange(n) - h) / h
    for degree in range(1, MAX_DEGREE + 1):
        coef = np.polynomial.polynomial.polyfit(s, table, degree)
        r = residual_px(table, np.polynomial.polynomial.polyval(s, coef), step)
        if r < TARGET_PX:
            break
    return [float(c) for c in coef], r


def fit_viedir(m: GIP_VIEDIR) -> dict:
    """The JSON entry of one band."""
    detectors = {}
    for d in sorted(m.detectors, key=lambda d: d.detector):
        step = np.abs(np.gradient(d.tan_psi_x))
        cx, rx = fit_table(d.tan_psi_x, step)
        cy, ry = fit_table(d.tan_psi_y, step)
        detectors[str(d.detector)] = {"tan_psi_x": cx, "tan_psi_y": cy, "max_residual_px": max(rx, ry)}
    return {"n_pixels": m.detectors[0].n_pixels, "tdi_config": m.tdi_config, "detectors": detectors}


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    models = {}
    for f in sorted(source.glob("*_GIP_VIEDIR_*")):
        if f.suffix.lower() in (".xml", ".dbl"):
            m = read_gs2(f, GIP_VIEDIR, tdi_config="APPLIED" if f.stem[-3:] in TDI_BANDS else None)
            models[m.band] = m
    missing = [b for b in BAND_NAMES if b not in models]
    if missing:
        print(f"no GIP_VIEDIR for {', '.join(missing)} in {source}", file=sys.stderr)
        return 1
    bands = {b: fit_viedir(models[b]) for b in BAND_NAMES}
    worst = max(d["max_residual_px"] for b in bands.values() for d in b["detectors"].values())
    doc = {"satellite": models["B01"].header.satellite,
           "source": "GIP_VIEDIR " + ", ".join(f"{b} v{models[b].specific_header.version_number}" for b in BAND_NAMES),
           "pixel_variable": "s = (p - (n - 1) / 2) / ((n - 1) / 2), p the 0-based pixel index",
           "target_residual_px": TARGET_PX, "max_residual_px": worst, "bands": bands}
    atomic_write(out, (json.dumps(doc, indent=1) + "\n").encode())
    print(f"{out}: 13 bands x 12 detectors, largest residual {worst:.2e} px")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
