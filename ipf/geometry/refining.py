"""Geometric refining: tie points against a reference image and the attitude correction.

The L1B image of one band is matched against the GRI (Global Reference Image: a cloud-free,
orthorectified image in UTM) to measure where the sensor model with the *given* attitude puts each
image point, then a small attitude correction is estimated so that the model locates the image
points where the GRI has them.

1. Tie points (:func:`collect_tie_points`), per detector: candidate windows of ``2 half + 1``
   pixels on a regular grid of the image, kept when no pixel is flagged (mask ≠ 0) and the window
   is textured in two directions (:func:`texture`, the smaller eigenvalue of the structure tensor
   of the mean-normalised window, Shi & Tomasi, "Good features to track", CVPR 1994). For each
   window the GRI is projected into the image geometry: the ground point of every pixel of a
   window ``search`` pixels larger is located on the DEM with the current model
   (:class:`~ipf.geometry.grid.LocationGrid`) and the GRI sampled there (Keys cubic,
   :meth:`ReferenceImage.sample`). The offset (line, pixel) between the image window and the
   projected GRI is the peak of their zero-mean normalised cross-correlation (:func:`ncc_surface`;
   Lewis, "Fast normalized cross-correlation", Vision Interface 1995: numerator by FFT, window
   energies by summed-area tables), which is insensitive to the gain and offset between L1B
   radiance and GRI reflectance, refined to sub-pixel by a 3-point parabola on each axis
   (:func:`subpixel_peak`; Debella-Gilo & Kääb, Remote Sens. Environ. 115, 2011). The parabola is
   biased towards integer shifts ("pixel locking"); the bias vanishes at zero shift, so the GRI
   is projected again at the offset found and the residual offset measured, until it is below
   ``tol`` pixel; windows that do not converge in :data:`ITERATIONS` projections, whose peak lies
   on the border of the search window or that reach GRI no-data are dropped (on the demo scene
   the non-converging ones are the worst matches). A tie point is the window centre (line, pixel)
   and the ground point (E, N, h) of the GRI that matches it: the DEM location of
   ``(line + dline, pixel + dpixel)`` with the current model.
2. Filter (:func:`filter_tie_points`): tie points whose correlation is below ``min_score`` are
   dropped; then, per (band, detector), an affine model of the offsets (dline, dpixel) in
   (line, pixel) — the image-space effect of a small attitude bias and drift — is fitted to the
   points kept and the points whose residual is more than ``k`` robust standard deviations
   (1.4826 × MAD about the median) from the median on either axis are dropped, until no point
   changes.
3. Attitude correction (:func:`estimate_attitude_correction`): the corrected attitude is
   ``R(t) = R_given(t) · Rot(bias + drift · t)`` (piloting-frame rotation vector, rad, rad/s; t in s
   from the model's reference time; :func:`corrected_attitude`). Gauss-Newton on the ground
   residuals: the line of sight of each tie point's image point with the corrected attitude meets
   the tie point's height h at (E', N'); the residual is (E' - E, N' - N). Derivatives w.r.t. the
   6 parameters are central differences; the drift is estimated about the mean tie-point time
   (for conditioning) and a weak prior (:data:`PRIOR_SIGMA`) keeps the normal matrix regular
   when the acquisition is too short to see a drift. Residual statistics (norm of the ground
   residual in pixels of the image band: mean, RMS, 95th percentile) are given before (given
   attitude) and after.

Arrays: lines and pixels are 0-based image coordinates of the matched band (integer = pixel
centre); E, N in m of the DEM's UTM zone; h in m above the WGS84 ellipsoid.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ipf.geometry.attitude import Attitude
from ipf.geometry.direct import intersect_height_utm
from ipf.geometry.rotation import matrix_to_quat, quat_to_matrix, small_rotation
from ipf.geometry.warp import keys_weights


__all__ = ["ITERATIONS", "REFINE_SEARCH", "PRIOR_SIGMA", "MIN_CANDIDATES", "MIN_TIE_POINTS", "ReferenceImage",
           "TiePoints", "texture", "ncc_surface", "subpixel_peak", "candidate_step", "candidate_windows",
           "project_reference", "collect_tie_points", "robust_sigma", "filter_tie_points",
           "AttitudeCorrection", "corrected_attitude", "residual_stats", "ground_residuals",
           "estimate_attitude_correction"]

ITERATIONS = 5
"""Maximum projections of the GRI per tie point (the first searches, the others refine)."""

REFINE_SEARCH = 2
"""Search radius (pixel) of the refining projections."""

PRIOR_SIGMA = (2e-4, 2e-4, 2e-4, 5e-6, 5e-6, 5e-6)
"""A priori standard deviations of bias (rad) and drift (rad/s) per axis, against 1 m of
tie-point noise; they only matter for parameters the tie points do not determine."""

MIN_CANDIDATES = 200
"""Candidate windows aimed at per detector on images too small for the nominal spacing."""

MIN_TIE_POINTS = 12
"""Fewest filtered tie points for an estimation of the attitude correction."""


@dataclass(frozen=True)
class ReferenceImage:
    """A north-up reference image (GRI) in UTM: values (rows, cols) float32, NaN for no data;
    the centre of pixel (row, col) is at E = x0 + col * step, N = y0 - row * step (m)."""

    values: np.ndarray
    epsg: int
    x0: float
    y0: float
    step: float

    def sample(self, e, n) -> np.ndarray:
        """Keys cubic (a = -0.5) interpolation at UTM (E, N) (broadcast arrays); NaN where one
        of the 4 × 4 neighbours is outside the image or no data."""
        e, n = np.broadcast_arrays(np.asarray(e, np.float64), np.asarray(n, np.float64))
        c = (e - self.x0) / self.step
        r = (self.y0 - n) / self.step
        rows, cols = self.values.shape
        c0, r0 = np.floor(c), np.floor(r)
        inside = (c0 >= 1) & (c0 <= cols - 3) & (r0 >= 1) & (r0 <= rows - 3)
        c0 = np.where(inside, c0, 1).astype(np.int64)
        r0 = np.where(inside, r0, 1).astype(np.int64)
        wc, wr = keys_weights(c - c0), keys_weights(r - r0)
        out = np.zeros(e.shape)
        for a in range(4):
            row = np.zeros(e.shape)
            for b in range(4):
                row += wc[..., b] * self.values[r0 - 1 + a, c0 - 1 + b]
            out += wr[..., a] * row
        return np.where(inside, out, np.nan)


@dataclass(frozen=True)
class TiePoints:
    """Tie points between an image band and the reference image, one row per point.

    band (str), detector: the image; line, pixel: the image point; e, n, h: its ground point
    (UTM m, ellipsoidal height m) from the reference image; score: correlation peak (-1..1);
    dline, dpixel: offset of the match in the image with the model used to collect (pixel).
    """

    band: np.ndarray
    detector: np.ndarray
    line: np.ndarray
    pixel: np.ndarray
    e: np.ndarray
    n: np.ndarray
    h: np.ndarray
    score: np.ndarray
    dline: np.ndarray
    dpixel: np.ndarray

    def __len__(self) -> int:
        return len(self.line)

    def select(self, keep: np.ndarray) -> TiePoints:
        """The points where ``keep`` (bool array or indices) selects."""
        return TiePoints(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @classmethod
    def concatenate(cls, parts: list[TiePoints]) -> TiePoints:
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    @classmethod
    def empty(cls) -> TiePoints:
        z = np.zeros(0)
        return cls(np.zeros(0, "<U3"), np.zeros(0, np.int64), z, z, z, z, z, z, z, z)


# --------------------------------------------------------------------------- matching
def texture(windows: np.ndarray) -> np.ndarray:
    """Smaller eigenvalue of the mean structure tensor of each mean-normalised window.

    windows: (N, P, P); returns (N,) in (relative intensity per pixel)². Shi & Tomasi (1994):
    large only where the window has gradients in two directions, so both offsets are measurable.
    """
    w = windows / np.maximum(np.abs(windows.mean(axis=(1, 2), keepdims=True)), 1e-12)
    gl = 0.5 * (w[:, 2:, 1:-1] - w[:, :-2, 1:-1])
    gp = 0.5 * (w[:, 1:-1, 2:] - w[:, 1:-1, :-2])
    a, b, c = (gl * gl).mean(axis=(1, 2)), (gl * gp).mean(axis=(1, 2)), (gp * gp).mean(axis=(1, 2))
    return 0.5 * (a + c) - np.sqrt(0.25 * (a - c) ** 2 + b * b)


def ncc_surface(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Zero-mean normalised cross-correlation of windows ``a`` at every offset inside ``b``.

    Parameters
    ----------
    a : (N, P, P) ndarray
        The image windows.
    b : (N, M, M) ndarray
        The search windows, M = P + 2 s.

    Returns
    -------
    (N, 2 s + 1, 2 s + 1) ndarray
        ``c[k, i, j]`` correlates ``a[k]`` with ``b[k, i:i + P, j:j + P]`` (offset ``(i - s,
        j - s)``); NaN where that part of ``b`` is constant. Lewis (1995): the numerator by FFT,
        the energies of ``b`` by summed-area tables.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    n, p, _ = a.shape
    m = b.shape[1]
    w = m - p + 1
    a0 = a - a.mean(axis=(1, 2), keepdims=True)
    norm_a = np.sqrt((a0 * a0).sum(axis=(1, 2)))
    num = np.fft.irfft2(np.conj(np.fft.rfft2(a0, s=(m, m))) * np.fft.rfft2(b), s=(m, m))[:, :w, :w]

    def box(x):
        s = np.zeros((n, m + 1, m + 1))
        s[:, 1:, 1:] = x.cumsum(axis=1).cumsum(axis=2)
        return s[:, p:, p:] - s[:, :w, p:] - s[:, p:, :w] + s[:, :w, :w]

    var_b = box(b * b) - box(b) ** 2 / (p * p)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / (norm_a[:, None, None] * np.sqrt(np.maximum(var_b, 0.0)))
    return np.where(var_b > 1e-12 * np.maximum(box(b * b), 1e-300), out, np.nan)


def subpixel_peak(surface: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sub-pixel peak of correlation surfaces (N, W, W) (W = 2 s + 1).

    Returns the offsets (line, pixel) of the peak from the centre (pixel; integer peak plus a
    3-point parabola on each axis), the peak value, and whether the peak is inside (not on the
    border of the surface, where the parabola cannot be fitted).
    """
    nsurf, w, _ = surface.shape
    s = (w - 1) // 2
    flat = np.where(np.isfinite(surface), surface, -np.inf).reshape(nsurf, -1)
    k = np.argmax(flat, axis=1)
    i, j = np.divmod(k, w)
    score = flat[np.arange(nsurf), k]
    inside = (i > 0) & (i < w - 1) & (j > 0) & (j < w - 1) & np.isfinite(score)
    ii, jj = np.clip(i, 1, w - 2), np.clip(j, 1, w - 2)
    idx = np.arange(nsurf)

    def parabola(cm, c0, cp):
        den = cm - 2 * c0 + cp
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(den < 0, 0.5 * (cm - cp) / den, 0.0)
        return np.clip(np.nan_to_num(d), -0.5, 0.5)

    di = parabola(surface[idx, ii - 1, jj], surface[idx, ii, jj], surface[idx, ii + 1, jj])
    dj = parabola(surface[idx, ii, jj - 1], surface[idx, ii, jj], surface[idx, ii, jj + 1])
    return i - s + di, j - s + dj, score, inside


def candidate_step(lines: int, pixels: int, step: int, half: int, target: int = MIN_CANDIDATES) -> int:
    """Candidate spacing: ``step``, or less on a small image so that about ``target``
    candidates fit (never below ``half``: windows overlap by at most half)."""
    return int(max(min(step, int(np.sqrt(lines * pixels / target))), max(half, 1)))


def candidate_windows(mask: np.ndarray, image: np.ndarray, step: int, half: int,
                      min_texture: float) -> tuple[np.ndarray, np.ndarray]:
    """Top-left (line, pixel) of the candidate windows of ``2 half + 1`` pixels, centred every
    ``step`` pixels, with no flagged pixel and :func:`texture` >= ``min_texture``."""
    size = 2 * half + 1
    lines, pixels = image.shape
    l0 = np.arange(step // 2 - half, lines - size + 1, step)
    p0 = np.arange(step // 2 - half, pixels - size + 1, step)
    l0, p0 = l0[l0 >= 0], p0[p0 >= 0]
    if not len(l0) or not len(p0):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ll, pp = (v.ravel() for v in np.meshgrid(l0, p0, indexing="ij"))
    clean = np.array([not mask[a:a + size, b:b + size].any() for a, b in zip(ll, pp)], bool)
    ll, pp = ll[clean], pp[clean]
    if not len(ll):
        return ll, pp
    windows = _windows(image, ll, pp, size)
    keep = texture(windows) >= min_texture
    return ll[keep], pp[keep]


def _windows(image: np.ndarray, ll: np.ndarray, pp: np.ndarray, size: int) -> np.ndarray:
    r = np.arange(size)
    return np.asarray(image, np.float64)[(ll[:, None] + r)[:, :, None], (pp[:, None] + r)[:, None, :]]


def project_reference(grid, dem, gri: ReferenceImage, lines: np.ndarray, pixels: np.ndarray
                      ) -> np.ndarray:
    """The reference image seen from image points (line, pixel) (broadcast arrays): GRI value
    at their ground point on the DEM with the location grid (NaN outside the GRI)."""
    e, n, _ = grid.locate_on_dem(lines, pixels, dem)
    return gri.sample(e, n)


def collect_tie_points(image: np.ndarray, mask: np.ndarray, grid, dem, gri: ReferenceImage,
                       band: str, detector: int, step: int = 64, half: int = 16, search: int = 10,
                       min_texture: float = 1e-3, tol: float = 0.01) -> TiePoints:
    """Tie points of one (band, detector) image against the reference image.

    Parameters
    ----------
    image, mask : (lines, pixels) ndarrays
        L1B radiance and its quality flags (0 = good).
    grid : ipf.geometry.grid.LocationGrid
        Location grid of (band, detector) with the current model.
    dem : ipf.geometry.dem.Dem
    gri : ReferenceImage
        In the DEM's UTM zone.
    band, detector : str, int
    step, half : int
        Candidate spacing and window half-size, pixel.
    search : int
        Search radius of the first correlation, pixel (the largest offset measurable).
    min_texture : float
        Least :func:`texture` of a candidate window.
    tol : float
        Stop projecting again when the residual offset is below ``tol`` pixel.

    Returns
    -------
    TiePoints
        One point per candidate whose correlation peak converged inside the search window; the
        score is the correlation at the last projection (see the module docstring).
    """
    if gri.epsg != dem.epsg:
        raise ValueError(f"the GRI is in EPSG:{gri.epsg}, the DEM in EPSG:{dem.epsg}")
    size = 2 * half + 1
    ll, pp = candidate_windows(mask, image, step, half, min_texture)
    if not len(ll):
        return TiePoints.empty()
    windows = _windows(image, ll, pp, size)
    du, dv, score = np.zeros(len(ll)), np.zeros(len(ll)), np.zeros(len(ll))
    ok = np.ones(len(ll), bool)
    active = np.arange(len(ll))
    for it in range(ITERATIONS):
        s = search if it == 0 else REFINE_SEARCH
        r = np.arange(-s, size + s, dtype=np.float64)
        lines = (ll[active] + du[active])[:, None, None] + r[None, :, None]
        pixels = (pp[active] + dv[active])[:, None, None] + r[None, None, :]
        projected = project_reference(grid, dem, gri, lines, pixels)
        oi, oj, score[active], inside = subpixel_peak(ncc_surface(windows[active], np.nan_to_num(projected)))
        good = inside & np.isfinite(projected).all(axis=(1, 2))
        ok[active[~good]] = False
        du[active] += np.where(good, oi, 0.0)
        dv[active] += np.where(good, oj, 0.0)
        active = active[good & ((it == 0) | (np.hypot(oi, oj) >= tol))]
        if not len(active):
            break
    ok[active] = False
    lc, pc = ll[ok] + half, pp[ok] + half
    e, n, h = grid.locate_on_dem(lc + du[ok], pc + dv[ok], dem)
    k = int(ok.sum())
    return TiePoints(np.full(k, band, "<U3"), np.full(k, detector, np.int64), lc.astype(np.float64),
                     pc.astype(np.float64), e, n, h, score[ok], du[ok], dv[ok])


# --------------------------------------------------------------------------- filtering
def robust_sigma(x: np.ndarray) -> float:
    """1.4826 × the median absolute deviation from the median (σ of a normal distribution)."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


def filter_tie_points(tp: TiePoints, min_score: float = 0.7, k: float = 3.0,
                      floor: float = 0.02, max_iter: int = 20) -> np.ndarray:
    """Bool mask of the tie points kept (see the module docstring, step 2).

    ``floor`` (pixel) is the smallest robust σ used, so that tie points are not rejected for
    differences far below the matching precision.
    """
    keep = tp.score >= min_score
    for key in sorted(set(zip(tp.band.tolist(), tp.detector.tolist()))):
        group = (tp.band == key[0]) & (tp.detector == key[1])
        keep[group] = _affine_inliers(tp.line[group], tp.pixel[group], tp.dline[group],
                                      tp.dpixel[group], keep[group], k, floor, max_iter)
    return keep


def _affine_inliers(line, pixel, du, dv, candidates, k, floor, max_iter):
    """Inliers among ``candidates`` of an affine model of (du, dv) in (line, pixel)."""
    keep = candidates.copy()
    if not len(line):
        return keep
    scale = max(float(np.ptp(line)), float(np.ptp(pixel)), 1.0)
    a = np.stack([np.ones_like(line), (line - line.mean()) / scale, (pixel - pixel.mean()) / scale], 1)
    for _ in range(max_iter):
        if keep.sum() < 3:
            return keep
        cols = a if keep.sum() >= 6 else a[:, :1]
        new = candidates.copy()
        for y in (du, dv):
            r = y - cols @ np.linalg.lstsq(cols[keep], y[keep], rcond=None)[0]
            new &= np.abs(r - np.median(r[keep])) <= k * max(robust_sigma(r[keep]), floor)
        if np.array_equal(new, keep):
            break
        keep = new
    return keep


# --------------------------------------------------------------------------- estimation
@dataclass(frozen=True)
class AttitudeCorrection:
    """Estimated correction ``Rot(bias + drift · t)`` (rad, rad/s, piloting frame, t in s from the
    model's reference time) with its a-posteriori standard deviations and residual statistics
    (ground residual norm in pixels of the image band) before and after."""

    bias: tuple[float, float, float]
    drift: tuple[float, float, float]
    bias_sigma: tuple[float, float, float]
    drift_sigma: tuple[float, float, float]
    before: dict[str, float]
    after: dict[str, float]
    tie_points: int
    iterations: int


def corrected_attitude(attitude: Attitude, bias, drift) -> Attitude:
    """The attitude ``R_given(t) · Rot(bias + drift · t)`` sampled at the given attitude's times.

    bias (3,) rad and drift (3,) rad/s are a piloting-frame rotation vector (t in s from the
    attitude's reference time), the parameterisation of the simulator's attitude error; slerp
    between the corrected samples differs from the exact product by ~(Δt/2)² ω |drift|, < 1e-11 rad
    for µrad/s drifts at the 0.125 s attitude sampling.
    """
    theta = np.asarray(bias, np.float64) + np.asarray(drift, np.float64) * attitude.t[:, None]
    m = quat_to_matrix(attitude.quaternions) @ small_rotation(theta)
    return Attitude(attitude.t.copy(), matrix_to_quat(m))


def residual_stats(residual_m: np.ndarray, resolution_m: float) -> dict[str, float]:
    """Mean, RMS, 95th percentile and max of the norms of (N, 2) ground residuals, in pixels of
    ``resolution_m``, and the mean residual (E, N) in m."""
    if not len(residual_m):
        return {"mean_px": float("nan"), "rms_px": float("nan"), "p95_px": float("nan"),
                "max_px": float("nan"), "mean_e_m": float("nan"), "mean_n_m": float("nan")}
    d = np.hypot(residual_m[:, 0], residual_m[:, 1]) / resolution_m
    return {"mean_px": float(d.mean()), "rms_px": float(np.sqrt(np.mean(d * d))),
            "p95_px": float(np.percentile(d, 95)), "max_px": float(d.max()),
            "mean_e_m": float(residual_m[:, 0].mean()), "mean_n_m": float(residual_m[:, 1].mean())}


class _Rays:
    """Satellite position, piloting -> ITRF rotation and piloting-frame look of each tie point."""

    def __init__(self, model, tp: TiePoints):
        n = len(tp)
        self.t = np.zeros(n)
        self.pos = np.zeros((n, 3))
        self.rot = np.zeros((n, 3, 3))
        self.look_piloting = np.zeros((n, 3))
        for band, det in sorted(set(zip(tp.band.tolist(), tp.detector.tolist()))):
            g = (tp.band == band) & (tp.detector == det)
            t = model.line_time(band, det, tp.line[g])
            self.t[g] = t
            self.pos[g] = model.orbit.state(t)[0]
            self.rot[g] = model.attitude.matrix(t)
            self.look_piloting[g] = model.detector_viewing(band, det).directions(tp.pixel[g]) @ model.alignment.T

    def ground(self, geo, h, theta: np.ndarray) -> np.ndarray:
        """(N, 2) UTM (E, N) where the corrected lines of sight reach heights h; theta (N, 3)."""
        look = np.einsum("nij,nj->ni", self.rot @ small_rotation(theta), self.look_piloting)
        e, n = intersect_height_utm(geo, self.pos, look, h)
        return np.stack([e, n], -1)


def ground_residuals(model, geo, tp: TiePoints, bias=(0, 0, 0), drift=(0, 0, 0)) -> np.ndarray:
    """(N, 2) ground residuals (E, N), m, of the tie points with the corrected attitude."""
    rays = _Rays(model, tp)
    theta = np.asarray(bias, np.float64) + np.asarray(drift, np.float64) * rays.t[:, None]
    return rays.ground(geo, tp.h, theta) - np.stack([tp.e, tp.n], -1)


def estimate_attitude_correction(model, geo, tp: TiePoints, resolution_m: float = 10.0,
                                 max_iter: int = 8, tol_rad: float = 1e-10) -> AttitudeCorrection:
    """Least-squares attitude bias and drift from tie points (module docstring, step 3).

    Parameters
    ----------
    model : ipf.geometry.sensor.SensorModel
        The model with the given attitude (the tie points' image points are of its bands).
    geo : ipf.geometry.geodesy.Geodesy
        In the tie points' UTM zone.
    tp : TiePoints
        At least :data:`MIN_TIE_POINTS` (``ValueError`` otherwise).
    resolution_m : float
        Pixel size for the residual statistics.
    max_iter, tol_rad : int, float
        Gauss-Newton stops when the parameter step is below ``tol_rad`` (rad, and rad/s × 1 s).
    """
    if len(tp) < MIN_TIE_POINTS:
        raise ValueError(f"{len(tp)} tie points; at least {MIN_TIE_POINTS} are needed")
    rays = _Rays(model, tp)
    tc = float(rays.t.mean())
    dt = rays.t - tc
    obs = np.stack([tp.e, tp.n], -1)
    prior_w = 1.0 / np.asarray(PRIOR_SIGMA)

    def ground(x):
        return rays.ground(geo, tp.h, x[None, :3] + x[None, 3:] * dt[:, None])

    x = np.zeros(6)
    before = ground(x) - obs
    steps = np.array([1e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6]) / np.array([1, 1, 1] + [max(np.ptp(dt), 1e-3)] * 3)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        r = (ground(x) - obs).ravel()
        jac = np.empty((r.size, 6))
        for k in range(6):
            dx = np.zeros(6)
            dx[k] = steps[k]
            jac[:, k] = ((ground(x + dx) - ground(x - dx)) / (2 * steps[k])).ravel()
        a = np.vstack([jac, np.diag(prior_w)])
        y = np.concatenate([-r, -prior_w * x])
        step = np.linalg.lstsq(a, y, rcond=None)[0]
        x = x + step
        if np.max(np.abs(step[:3])) < tol_rad and np.max(np.abs(step[3:])) < tol_rad:
            break
    after = ground(x) - obs
    dof = max(after.size - 6, 1)
    sigma0 = float(np.sqrt(np.sum(after**2) / dof))
    cov = sigma0**2 * np.linalg.inv(a.T @ a)
    bias = x[:3] - x[3:] * tc
    jb = np.hstack([np.eye(3), -tc * np.eye(3)])
    cov_b = jb @ cov @ jb.T
    return AttitudeCorrection(tuple(map(float, bias)), tuple(map(float, x[3:])),
                              tuple(map(float, np.sqrt(np.diag(cov_b)))),
                              tuple(map(float, np.sqrt(np.diag(cov)[3:]))),
                              residual_stats(before, resolution_m), residual_stats(after, resolution_m),
                              len(tp), iterations)
