"""Deterministic procedural noise: hashed lattice values and fractal value noise on grids.

The value of every lattice node is a pure function of (key, integer coordinates), so any window
of a field can be computed independently and overlapping windows agree exactly.
"""

from __future__ import annotations

import numpy as np


__all__ = ["hash_uniform", "value_noise_grid", "fbm_grid"]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0xBF58476D1CE4E5B9)
_M4 = np.uint64(0x94D049BB133111EB)


def hash_uniform(key: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Uniform values in [0, 1) from integer lattice coordinates (splitmix64 finaliser).

    key: 64-bit layer key; i, j: broadcastable integer arrays. Returns float64.
    """
    with np.errstate(over="ignore"):
        h = (np.asarray(i, dtype=np.int64).astype(np.uint64) * _M1) ^ (
            np.asarray(j, dtype=np.int64).astype(np.uint64) * _M2) ^ np.uint64(key)
        h = (h ^ (h >> np.uint64(30))) * _M3
        h = (h ^ (h >> np.uint64(27))) * _M4
        h = h ^ (h >> np.uint64(31))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _smooth_weights(x: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    t = x / cell
    i = np.floor(t)
    f = t - i
    return i.astype(np.int64), f * f * f * (f * (f * 6 - 15) + 10)


def value_noise_grid(key: int, x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """Value noise in [-1, 1] at the nodes of the grid ``x`` (columns) × ``y`` (rows).

    x, y: 1-D coordinates in metres; cell: lattice spacing in metres. Quintic interpolation
    between lattice values. Returns (len(y), len(x)) float64.
    """
    ix, fx = _smooth_weights(np.asarray(x, float), cell)
    iy, fy = _smooth_weights(np.asarray(y, float), cell)
    i0, i1 = ix.min(), ix.max() + 1
    j0, j1 = iy.min(), iy.max() + 1
    lat = 2 * hash_uniform(key, np.arange(i0, i1 + 1)[None, :], np.arange(j0, j1 + 1)[:, None]) - 1
    cx = ix - i0
    rows = lat[:, cx] * (1 - fx) + lat[:, cx + 1] * fx
    cy = iy - j0
    return rows[cy] * (1 - fy)[:, None] + rows[cy + 1] * fy[:, None]


def fbm_grid(key: int, x: np.ndarray, y: np.ndarray, cell: float, octaves: int,
             gain: float = 0.5) -> np.ndarray:
    """Fractal sum of :func:`value_noise_grid` octaves (cell halves, amplitude × ``gain``).

    Normalised so that the amplitude sum is 1 (values in [-1, 1]). Returns (len(y), len(x)).
    """
    out = np.zeros((len(y), len(x)))
    amp, total = 1.0, 0.0
    for k in range(octaves):
        out += amp * value_noise_grid(key + 7919 * k, x, y, cell / 2**k)
        total += amp
        amp *= gain
    return out / total
