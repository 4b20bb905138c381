"""Inverse location: the image point (line, pixel) of a ground point, on the exact sensor model.

For a ground point (E, N, h) and a (band, detector), :func:`inverse_location` solves
``F(line, pixel) = (E, N)`` where F is the UTM position at which the line of sight of (line,
pixel) reaches height h (:func:`~ipf.geometry.direct.intersect_height_utm`): a start from a
:class:`~ipf.geometry.grid.LocationGrid` (or from a local affine model), then Newton steps with a
central-difference Jacobian until the step is below ``tol`` pixel. The result is the exact inverse
of :func:`~ipf.geometry.direct.direct_location` for points on the DEM (measured < 1e-6 pixel).
"""

from __future__ import annotations

import numpy as np

from ipf.geometry.direct import intersect_height_utm
from ipf.geometry.grid import _newton_step


__all__ = ["inverse_location"]


def inverse_location(model, geo, band: str, detector: int, e, n, h, grid=None, tol: float = 1e-6,
                     max_iter: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(line, pixel) of ground points for (band, detector).

    Parameters
    ----------
    model : ipf.geometry.sensor.SensorModel
    geo : ipf.geometry.geodesy.Geodesy
    band, detector : str, int
    e, n, h : array_like
        UTM coordinates (m) and ellipsoidal height (m) of the ground points (broadcast, shape S).
    grid : LocationGrid, optional
        Location grid of (band, detector) for the starting point; without it a local affine
        model around line 0 and the centre pixel is used (a few more Newton steps).
    tol : float
        Stop when every Newton step is below ``tol`` pixel.
    max_iter : int
        Maximum Newton steps.

    Returns
    -------
    line, pixel : (*S) ndarrays
        Fractional image coordinates (may fall outside the image).
    """
    e, n, h = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (e, n, h)))

    def f(line, pix, hh):
        pos, look = model.lines_of_sight(band, detector, line, pix)
        return intersect_height_utm(geo, pos, look, hh)

    if grid is not None:
        line, pix = grid.inverse(e, n, h)
    else:
        c = (model.n_pixels(band, detector) - 1) / 2
        hm = float(np.mean(h)) if h.size else 0.0
        l3, p3 = np.array([0.0, 100.0, 0.0]), np.array([c, c, c + 100.0])
        e3, n3 = f(l3, p3, np.full(3, hm))
        a = np.stack([np.ones(3), e3, n3], 1)
        cl, cp = np.linalg.solve(a, l3), np.linalg.solve(a, p3)
        line = cl[0] + cl[1] * e + cl[2] * n
        pix = cp[0] + cp[1] * e + cp[2] * n
    for _ in range(max_iter):
        l2, p2 = _newton_step(f, line, pix, h, e, n, eps=0.05)
        step = max(float(np.max(np.abs(l2 - line), initial=0.0)), float(np.max(np.abs(p2 - pix), initial=0.0)))
        line, pix = l2, p2
        if step < tol:
            break
    return line, pix
