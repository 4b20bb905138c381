"""Unit quaternions (scalar first, ``(w, x, y, z)``, active rotations) and rotation matrices
(shared by the processors and the simulator)."""

from __future__ import annotations

import numpy as np


__all__ = ["quat_to_matrix", "matrix_to_quat", "small_rotation", "slerp"]


def quat_to_matrix(q) -> np.ndarray:
    """Rotation matrices of unit quaternions.

    Parameters
    ----------
    q : (..., 4) array_like
        Quaternions ``(w, x, y, z)``; normalised here.

    Returns
    -------
    (..., 3, 3) ndarray
        ``R`` such that ``v' = R @ v`` rotates ``v`` by ``q`` (``q v q*``).
    """
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4), w >= 0, of rotation matrices (..., 3, 3) (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    cand = np.stack([
        np.stack([1 + tr, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], 1 + 2 * m[..., 0, 0] - tr, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 + 2 * m[..., 1, 1] - tr, m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 + 2 * m[..., 2, 2] - tr], -1),
    ], -2)
    diag = np.stack([tr, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], -1)
    k = np.argmax(diag, axis=-1)
    q = np.take_along_axis(cand, k[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def small_rotation(angles: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of rotation vectors (..., 3) in rad (Rodrigues)."""
    v = np.asarray(angles, dtype=np.float64)
    th = np.linalg.norm(v, axis=-1, keepdims=True)[..., None]
    k = np.where(th[..., 0] > 0, v / np.maximum(th[..., 0], 1e-300), 0.0)
    kx = np.zeros(v.shape[:-1] + (3, 3))
    kx[..., 0, 1], kx[..., 0, 2] = -k[..., 2], k[..., 1]
    kx[..., 1, 0], kx[..., 1, 2] = k[..., 2], -k[..., 0]
    kx[..., 2, 0], kx[..., 2, 1] = -k[..., 1], k[..., 0]
    eye = np.broadcast_to(np.eye(3), kx.shape)
    return eye + np.sin(th) * kx + (1 - np.cos(th)) * (kx @ kx)


def slerp(t, t_nodes: np.ndarray, q_nodes: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation of unit quaternions.

    Parameters
    ----------
    t : array_like
        Times at which to interpolate (any shape), same unit and origin as ``t_nodes``.
    t_nodes : (n,) ndarray
        Increasing sample times, n >= 2.
    q_nodes : (n, 4) ndarray
        Unit quaternions at ``t_nodes``; ``q`` and ``-q`` are the same rotation (the shorter arc
        is taken).

    Returns
    -------
    (..., 4) ndarray
        Unit quaternions at ``t``; outside the samples, the first/last arc is extrapolated.
    """
    t = np.asarray(t, dtype=np.float64)
    t_nodes = np.asarray(t_nodes, np.float64)
    q_nodes = np.asarray(q_nodes, np.float64)
    i = np.clip(np.searchsorted(t_nodes, t, side="right") - 1, 0, len(t_nodes) - 2)
    f = ((t - t_nodes[i]) / (t_nodes[i + 1] - t_nodes[i]))[..., None]
    q0, q1 = q_nodes[i], q_nodes[i + 1]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    om = np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
    so = np.sin(om)
    small = so < 1e-12
    a = np.where(small, 1 - f, np.sin((1 - f) * om) / np.where(small, 1.0, so))
    b = np.where(small, f, np.sin(f * om) / np.where(small, 1.0, so))
    q = a * q0 + b * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)
