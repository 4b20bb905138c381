"""The true attitude of a simulation (``truth/true_attitude.json``) and its reader.

The image is formed with the true attitude; the datastrip metadata carries the given (nominal)
one, in EME2000. The truth file holds the true attitude in the simulator's own frame, Earth-fixed:
at the times of the datastrip's ``Corrected_Attitudes`` (in UTC), the quaternions (w, x, y, z) of
the rotation piloting -> ITRF, so a validation needs no Earth orientation to use it::

    {"frame": "piloting -> ITRF, scalar first (w, x, y, z)", "time_scale": "UTC",
     "utc_time": ["2023-03-20T10:48:21", "2023-03-20T10:48:21.125", ...],
     "quaternion": [[w, x, y, z], ...]}

Floats are written by ``repr`` (JSON), so they read back bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ipf.formats.l0_metadata import format_gps_time, parse_gps_time
from ipf.interface.errors import FormatError, MissingInputError
from ipf.interface.files import atomic_write


__all__ = ["TRUTH_DIR", "TRUE_ATTITUDE_FILE", "FRAME", "write_true_attitude", "read_true_attitude"]

TRUTH_DIR = "truth"
TRUE_ATTITUDE_FILE = "true_attitude.json"
FRAME = "piloting -> ITRF, scalar first (w, x, y, z)"


def write_true_attitude(folder: Path | str, times_utc: np.ndarray, quaternions: np.ndarray) -> Path:
    """Write UTC ``times_utc`` (n,) datetime64 and unit quaternions (n, 4) piloting -> ITRF as
    ``folder/true_attitude.json`` (deterministic bytes, atomic)."""
    doc = {"frame": FRAME, "time_scale": "UTC",
           "utc_time": [format_gps_time(t) for t in np.asarray(times_utc, "datetime64[ns]")],
           "quaternion": [[float(v) for v in q] for q in np.asarray(quaternions, np.float64)]}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write(folder / TRUE_ATTITUDE_FILE, json.dumps(doc, indent=0) + "\n")


def read_true_attitude(sim_dir: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """The true attitude of the simulation in ``sim_dir`` (``truth/true_attitude.json``): UTC
    times (n,) ``datetime64[ns]`` and unit quaternions (n, 4) (w, x, y, z) piloting -> ITRF."""
    path = Path(sim_dir) / TRUTH_DIR / TRUE_ATTITUDE_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingInputError("no true attitude file", source=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not a true attitude file: {exc}", source=path) from None
    try:
        if doc.get("frame") != FRAME:
            raise ValueError(f"frame {doc.get('frame')!r}, expected {FRAME!r}")
        t = np.array([parse_gps_time(s) for s in doc["utc_time"]], "datetime64[ns]")
        q = np.array(doc["quaternion"], np.float64).reshape(-1, 4)
        if len(q) != len(t) or len(t) < 2:
            raise ValueError(f"{len(t)} times and {len(q)} quaternions")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"not a true attitude file: {exc}", source=path) from None
    return t, q
