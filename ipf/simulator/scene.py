"""Truth scene: DEM and TOA reflectance of the 13 MSI bands, defined at every UTM point.

The scene is a set of canonical fields on UTM-aligned grids (DEM and terrain illumination at
``DEM_STEP`` = 10 m; coastline, cloud, texture and land-use densities at ``FIELD_STEP`` = 20 m),
each interpolated bilinearly, plus exact geometric features evaluated at the query point (field
parcels on a rotated grid, farm roads, highways). Thresholding an interpolated smooth field gives
sharp edges (coastline, clouds, snow line) at any sampling, so :meth:`Scene.reflectance` can be
evaluated on any grid (the simulator uses a 5 m track-aligned grid, 2× oversampled w.r.t. the
10 m bands) and windows computed separately agree exactly.

Content: a flat sea (height 0) behind a fractal coastline, fractal hills (a few hundred m) and one
steep mountain (≈ 2.2–3 km on large scenes, lower on small ones; slopes up to ≈ 60°) with rock and snow above the tree line and snow
line, forests and towns from low-frequency densities, crop/soil/grass parcels on a rotated grid,
farm roads (6 m) and highways (14 m) narrower than a 10 m pixel, and bright clouds (attached to the
ground: no cloud height, no shadow) whose reflectance saturates the visible bands.

Heights are ellipsoidal (WGS84, geoid undulation taken as 0). TOA reflectance includes a
Lambertian terrain illumination factor cos(i)/cos(θs) for the scene-centre sun (no cast shadows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ipf.formats.msi_bands import BANDS
from ipf.simulator.noise import fbm_grid, hash_uniform


__all__ = ["DEM_STEP", "FIELD_STEP", "WATER", "FOREST", "CROP_GREEN", "CROP_DRY", "BARE_SOIL", "URBAN",
           "ROAD", "ROCK", "SNOW", "GRASS", "CLASS_NAMES", "SPECTRA", "CLOUD_SPECTRUM", "RegularGrid",
           "bilinear", "bilinear_stack_ref", "bilinear_stack", "FIELD_LAYERS", "SceneParameters",
           "draw_parameters", "Scene", "make_scene"]

DEM_STEP = 10.0
FIELD_STEP = 20.0

WATER, FOREST, CROP_GREEN, CROP_DRY, BARE_SOIL, URBAN, ROAD, ROCK, SNOW, GRASS = range(10)
CLASS_NAMES = ("water", "forest", "crop_green", "crop_dry", "bare_soil", "urban", "road", "rock",
               "snow", "grass")

# TOA reflectance per class (rows) and band B01..B12 incl. B8A (columns).
SPECTRA = np.array([
    [0.090, 0.070, 0.050, 0.030, 0.022, 0.016, 0.012, 0.010, 0.009, 0.004, 0.001, 0.004, 0.002],
    [0.085, 0.060, 0.060, 0.035, 0.080, 0.200, 0.260, 0.280, 0.290, 0.220, 0.004, 0.150, 0.070],
    [0.090, 0.065, 0.095, 0.050, 0.120, 0.300, 0.380, 0.420, 0.430, 0.330, 0.005, 0.220, 0.110],
    [0.110, 0.095, 0.125, 0.150, 0.180, 0.220, 0.250, 0.270, 0.280, 0.220, 0.006, 0.320, 0.240],
    [0.120, 0.120, 0.160, 0.220, 0.250, 0.270, 0.290, 0.300, 0.310, 0.270, 0.008, 0.380, 0.320],
    [0.140, 0.130, 0.140, 0.150, 0.160, 0.170, 0.180, 0.190, 0.190, 0.160, 0.008, 0.220, 0.200],
    [0.110, 0.090, 0.090, 0.100, 0.100, 0.110, 0.110, 0.120, 0.120, 0.100, 0.005, 0.130, 0.120],
    [0.150, 0.150, 0.180, 0.220, 0.240, 0.250, 0.260, 0.270, 0.270, 0.240, 0.015, 0.300, 0.270],
    [0.950, 0.950, 0.930, 0.900, 0.880, 0.860, 0.830, 0.800, 0.780, 0.600, 0.060, 0.120, 0.080],
    [0.090, 0.070, 0.090, 0.070, 0.130, 0.250, 0.300, 0.320, 0.330, 0.260, 0.005, 0.260, 0.150],
], dtype=np.float32)
CLOUD_SPECTRUM = np.array([0.85, 0.87, 0.88, 0.88, 0.88, 0.88, 0.87, 0.86, 0.86, 0.75, 0.30, 0.45,
                           0.30], dtype=np.float32)
assert SPECTRA.shape == (len(CLASS_NAMES), len(BANDS))


@dataclass(frozen=True)
class RegularGrid:
    """North-up grid: ``x0``, ``y0`` = E, N of the centre of node (0, 0); ``step`` in m."""

    x0: float
    y0: float
    step: float
    shape: tuple[int, int]

    @property
    def x(self) -> np.ndarray:
        return self.x0 + self.step * np.arange(self.shape[1])

    @property
    def y(self) -> np.ndarray:
        return self.y0 - self.step * np.arange(self.shape[0])

    def index(self, e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (col, row) of UTM points."""
        return (np.asarray(e) - self.x0) / self.step, (self.y0 - np.asarray(n)) / self.step


def bilinear(values: np.ndarray, grid: RegularGrid, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a grid at UTM points (clamped at the border); float32 output."""
    c, r = grid.index(e, n)
    h, w = values.shape
    c = np.clip(c, 0, w - 1.000001)
    r = np.clip(r, 0, h - 1.000001)
    c0 = c.astype(np.int64)
    r0 = r.astype(np.int64)
    fc = (c - c0).astype(np.float32)
    fr = (r - r0).astype(np.float32)
    v00, v01 = values[r0, c0], values[r0, c0 + 1]
    v10, v11 = values[r0 + 1, c0], values[r0 + 1, c0 + 1]
    top = v00 + (v01 - v00) * fc
    return top + ((v10 + (v11 - v10) * fc) - top) * fr


def bilinear_stack_ref(values: np.ndarray, grid: RegularGrid, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of K stacked grids (rows, cols, K) at UTM points -> (..., K) float32
    (numpy reference of :func:`bilinear_stack`)."""
    return np.stack([bilinear(values[..., k], grid, e, n) for k in range(values.shape[-1])], -1)


@cache
def _bilinear_kernel():
    import numba

    @numba.njit(cache=True)
    def kernel(values, x0, y0, step, e, n, out):
        h, w, nk = values.shape
        for q in range(e.shape[0]):
            c = min(max((e[q] - x0) / step, 0.0), w - 1.000001)
            r = min(max((y0 - n[q]) / step, 0.0), h - 1.000001)
            c0 = int(c)
            r0 = int(r)
            fc = np.float32(c - c0)
            fr = np.float32(r - r0)
            for k in range(nk):
                v00 = values[r0, c0, k]
                v01 = values[r0, c0 + 1, k]
                v10 = values[r0 + 1, c0, k]
                v11 = values[r0 + 1, c0 + 1, k]
                top = v00 + (v01 - v00) * fc
                out[q, k] = top + ((v10 + (v11 - v10) * fc) - top) * fr

    return kernel


def bilinear_stack(values: np.ndarray, grid: RegularGrid, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Numba version of :func:`bilinear_stack_ref` (identical float32 result)."""
    e, n = np.broadcast_arrays(np.asarray(e, np.float64), np.asarray(n, np.float64))
    shape = e.shape
    out = np.empty((e.size, values.shape[-1]), np.float32)
    _bilinear_kernel()(values, float(grid.x0), float(grid.y0), float(grid.step),
                       np.ascontiguousarray(e).ravel(), np.ascontiguousarray(n).ravel(), out)
    return out.reshape(shape + (values.shape[-1],))


FIELD_LAYERS = ("coast", "cloud", "texture", "forest", "urban", "snow_noise")


@dataclass(frozen=True)
class SceneParameters:
    """Random choices of one scene (all lengths in m, UTM coordinates)."""

    keys: tuple[int, ...]
    centre: tuple[float, float]
    coast_point: tuple[float, float]
    coast_normal: tuple[float, float]
    coast_amplitude: float
    relief_amplitude: float
    mountain_centre: tuple[float, float]
    mountain_height: float
    mountain_sigma: float
    field_angle: float
    field_size: tuple[float, float]
    highways: tuple[tuple[float, float, float], ...]
    snowline: float
    treeline: float
    cloud_cover: float


def draw_parameters(rng: np.random.Generator, bounds: tuple[float, float, float, float]) -> SceneParameters:
    """Draw the scene parameters for a UTM area ``bounds`` = (E_min, N_min, E_max, N_max)."""
    e0, n0, e1, n1 = bounds
    ce, cn = (e0 + e1) / 2, (n0 + n1) / 2
    half = 0.5 * min(e1 - e0, n1 - n0)
    a = rng.uniform(0, 2 * np.pi)
    nrm = (float(np.cos(a)), float(np.sin(a)))
    coast = (ce - nrm[0] * 0.45 * half, cn - nrm[1] * 0.45 * half)
    b = rng.uniform(-0.3, 0.3) * half
    mountain = (ce + nrm[0] * 0.35 * half - nrm[1] * b, cn + nrm[1] * 0.35 * half + nrm[0] * b)
    sigma = float(np.clip(0.3 * half, 700.0, 2600.0))
    highways = tuple((ce + rng.uniform(-0.3, 0.3) * half, cn + rng.uniform(-0.3, 0.3) * half,
                      rng.uniform(0, np.pi)) for _ in range(2))
    return SceneParameters(
        keys=tuple(int(k) for k in rng.integers(0, 2**62, size=12)),
        centre=(ce, cn), coast_point=coast, coast_normal=nrm,
        coast_amplitude=float(rng.uniform(0.08, 0.15) * half + 400.0),
        relief_amplitude=float(rng.uniform(300, 600)),
        mountain_centre=mountain, mountain_height=float(rng.uniform(2200, 3000) * min(1.0, sigma / 1800)),
        mountain_sigma=sigma,
        field_angle=float(rng.uniform(0, np.pi / 2)),
        field_size=(float(rng.uniform(150, 300)), float(rng.uniform(100, 250))),
        highways=highways, snowline=float(rng.uniform(1700, 1950)), treeline=1500.0,
        cloud_cover=float(rng.uniform(0.08, 0.15)))


class Scene:
    """The truth scene over a UTM area (see module docstring).

    bounds: (E_min, N_min, E_max, N_max) in m, the area where the scene is defined (queries
    outside are clamped to the border values); sun_zenith_deg / sun_azimuth_deg: sun at the scene
    centre (azimuth from grid north, clockwise) for the terrain illumination.
    """

    def __init__(self, params: SceneParameters, bounds: tuple[float, float, float, float],
                 sun_zenith_deg: float, sun_azimuth_deg: float) -> None:
        self.p = params
        e0, n0, e1, n1 = bounds
        self.bounds = bounds
        self.dem_grid = RegularGrid(np.floor(e0 / DEM_STEP) * DEM_STEP + DEM_STEP / 2,
                                    np.ceil(n1 / DEM_STEP) * DEM_STEP - DEM_STEP / 2, DEM_STEP,
                                    (int(np.ceil((n1 - n0) / DEM_STEP)) + 2, int(np.ceil((e1 - e0) / DEM_STEP)) + 2))
        self.field_grid = RegularGrid(np.floor(e0 / FIELD_STEP) * FIELD_STEP + FIELD_STEP / 2,
                                      np.ceil(n1 / FIELD_STEP) * FIELD_STEP - FIELD_STEP / 2, FIELD_STEP,
                                      (int(np.ceil((n1 - n0) / FIELD_STEP)) + 2,
                                       int(np.ceil((e1 - e0) / FIELD_STEP)) + 2))
        k = params.keys
        fx, fy = self.field_grid.x, self.field_grid.y
        stack = np.empty(self.field_grid.shape + (len(FIELD_LAYERS),), np.float32)
        stack[..., 0] = self._coast_distance(fx[None, :], fy[:, None], fbm_grid(k[0], fx, fy, 6000.0, 6))
        cloud = fbm_grid(k[1], fx, fy, 5000.0, 7, 0.55)
        thr = float(np.quantile(cloud, 1 - params.cloud_cover))
        stack[..., 1] = np.clip((cloud - thr) / 0.05, 0, 1)
        del cloud
        stack[..., 2] = fbm_grid(k[2], fx, fy, 400.0, 4)
        stack[..., 3] = fbm_grid(k[3], fx, fy, 3000.0, 4)
        stack[..., 4] = fbm_grid(k[4], fx, fy, 2500.0, 3)
        stack[..., 5] = fbm_grid(k[5], fx, fy, 800.0, 3)
        self._field_stack = stack
        self.dem = self._dem()
        self.illumination = self._illumination(sun_zenith_deg, sun_azimuth_deg)

    coast = property(lambda self: self._field_stack[..., 0], doc="signed distance to the coast, m (20 m grid)")
    cloud = property(lambda self: self._field_stack[..., 1], doc="cloud fraction 0..1 (20 m grid)")
    texture = property(lambda self: self._field_stack[..., 2], doc="texture noise -1..1 (20 m grid)")
    forest = property(lambda self: self._field_stack[..., 3], doc="forest density noise (20 m grid)")
    urban = property(lambda self: self._field_stack[..., 4], doc="urban density noise (20 m grid)")
    snow_noise = property(lambda self: self._field_stack[..., 5], doc="snow/tree line noise (20 m grid)")

    # ------------------------------------------------------------------ canonical grids
    def _coast_distance(self, e, n, noise) -> np.ndarray:
        p = self.p
        s = (e - p.coast_point[0]) * p.coast_normal[0] + (n - p.coast_point[1]) * p.coast_normal[1]
        return (s + p.coast_amplitude * noise).astype(np.float32)

    def _dem(self, rows_per_strip: int = 128) -> np.ndarray:
        """DEM on the 10 m grid: relief and ridge noise are defined on the 20 m field grid and
        interpolated; the mountain is analytic. Computed in row strips (float32)."""
        p, g, fg = self.p, self.dem_grid, self.field_grid
        fx, fy = fg.x, fg.y
        src = np.stack([self.coast, fbm_grid(p.keys[6], fx, fy, 4000.0, 7).astype(np.float32),
                        fbm_grid(p.keys[7], fx, fy, 1500.0, 4).astype(np.float32)], -1)
        x, y = g.x, g.y
        dem = np.empty(g.shape, np.float32)
        for r0 in range(0, g.shape[0], rows_per_strip):
            ys = y[r0:r0 + rows_per_strip]
            e, n = np.meshgrid(x, ys)
            v = bilinear_stack(src, fg, e, n)
            s, relief, ridges = v[..., 0], v[..., 1], v[..., 2]
            relief = p.relief_amplitude * (0.55 + 0.45 * relief)
            d2 = (e - p.mountain_centre[0]) ** 2 + (n - p.mountain_centre[1]) ** 2
            mountain = p.mountain_height * np.exp(-0.5 * d2 / p.mountain_sigma**2) * (1 + 0.25 * ridges)
            ramp = np.clip(s / 2500.0, 0, 1)
            ramp = ramp * ramp * (3 - 2 * ramp)
            dem[r0:r0 + len(ys)] = np.where(s > 0, ramp * (relief + mountain), 0.0)
        return dem

    def _illumination(self, zenith_deg: float, azimuth_deg: float, rows_per_strip: int = 256) -> np.ndarray:
        z, a = np.radians(zenith_deg), np.radians(azimuth_deg)
        sun = (np.sin(z) * np.sin(a), np.sin(z) * np.cos(a), np.cos(z))
        out = np.empty_like(self.dem)
        h = self.dem.shape[0]
        for r0 in range(0, h, rows_per_strip):
            lo, hi = max(r0 - 1, 0), min(r0 + rows_per_strip + 1, h)
            gy, gx = np.gradient(self.dem[lo:hi], self.dem_grid.step)
            gy, gx = gy[r0 - lo:r0 - lo + min(rows_per_strip, h - r0)], gx[r0 - lo:r0 - lo + min(rows_per_strip, h - r0)]
            dzde, dzdn = gx, -gy
            nz = 1 / np.sqrt(1 + dzde**2 + dzdn**2)
            cos_i = nz * (-dzde * sun[0] - dzdn * sun[1] + sun[2])
            out[r0:r0 + len(cos_i)] = np.clip(cos_i / np.cos(z), 0.05, 3.0)
        return out

    # ------------------------------------------------------------------ queries
    def height(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Ellipsoidal height (m) at UTM points: bilinear interpolation of :attr:`dem`."""
        return bilinear(self.dem, self.dem_grid, e, n)

    def classes(self, e: np.ndarray, n: np.ndarray, layers: dict[str, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(land-cover class uint8, brightness factor float32) at UTM points (float64 arrays)."""
        p = self.p
        lay = layers if layers is not None else self._layers(e, n)
        de, dn = e - p.centre[0], n - p.centre[1]
        ca, sa = np.cos(p.field_angle), np.sin(p.field_angle)
        u = de * ca + dn * sa
        v = -de * sa + dn * ca
        wf, hf = p.field_size
        fi, fj = np.floor(u / wf), np.floor(v / hf)
        r = hash_uniform(p.keys[8], fi, fj)
        cls = np.select([r < 0.35, r < 0.6, r < 0.8], [CROP_GREEN, CROP_DRY, GRASS], BARE_SOIL).astype(np.uint8)
        bright = (0.85 + 0.3 * hash_uniform(p.keys[9], fi, fj)).astype(np.float32)
        texture, snow_noise = lay["texture"], lay["snow_noise"]
        bright *= 1 + 0.06 * texture
        road = (np.abs(u - 4 * wf * np.round(u / (4 * wf))) < 3) | (np.abs(v - 3 * hf * np.round(v / (3 * hf))) < 3)
        cls[road] = ROAD
        cls[lay["forest"] > 0.18] = FOREST
        cls[lay["urban"] > 0.35] = URBAN
        h = lay["height"]
        above_tree = h > p.treeline + 150 * snow_noise
        cls[above_tree] = np.where(texture[above_tree] > 0, ROCK, GRASS)
        cls[h > p.snowline + 200 * snow_noise] = SNOW
        for he, hn, ang in p.highways:
            d = np.abs((e - he) * np.sin(ang) - (n - hn) * np.cos(ang))
            cls[(d < 7) & (h < p.snowline)] = ROAD
        water = lay["coast"] < 0
        cls[water] = WATER
        bright[water | (cls == ROAD)] = 1.0
        return cls, bright

    def cloud_fraction(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Cloud cover fraction 0..1 (float32) at UTM points."""
        return bilinear(self.cloud, self.field_grid, e, n)

    def reflectance(self, band_index: int, cls: np.ndarray, bright: np.ndarray,
                    illum: np.ndarray, cloud: np.ndarray | None) -> np.ndarray:
        """TOA reflectance (float32) of one band from the fields of :meth:`fields`."""
        rho = SPECTRA[cls, band_index] * bright * illum
        if cloud is not None:
            rho += (CLOUD_SPECTRUM[band_index] - rho) * cloud
        return rho

    def _layers(self, e: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
        f = bilinear_stack(self._field_stack, self.field_grid, e, n)
        out = {k: f[..., i] for i, k in enumerate(FIELD_LAYERS)}
        out["height"] = bilinear_stack(self.dem[..., None], self.dem_grid, e, n)[..., 0]
        out["illum"] = bilinear_stack(self.illumination[..., None], self.dem_grid, e, n)[..., 0]
        return out

    def fields(self, e: np.ndarray, n: np.ndarray, clouds: bool = True,
               rows_per_block: int = 64) -> dict[str, np.ndarray]:
        """All band-independent fields at UTM points: class, brightness, illumination, cloud
        (``cloud`` is None when ``clouds`` is False). 2-D inputs are processed by blocks of rows
        to bound the temporaries."""
        e, n = np.broadcast_arrays(np.asarray(e, np.float64), np.asarray(n, np.float64))
        if e.ndim == 2 and e.shape[0] > rows_per_block:
            out = {"cls": np.empty(e.shape, np.uint8), "bright": np.empty(e.shape, np.float32),
                   "illum": np.empty(e.shape, np.float32), "cloud": np.empty(e.shape, np.float32)}
            for r0 in range(0, e.shape[0], rows_per_block):
                part = self.fields(e[r0:r0 + rows_per_block], n[r0:r0 + rows_per_block], True, rows_per_block)
                for k, v in part.items():
                    out[k][r0:r0 + rows_per_block] = v
            if not clouds:
                out["cloud"] = None
            return out
        lay = self._layers(e, n)
        cls, bright = self.classes(e, n, lay)
        return {"cls": cls, "bright": bright, "illum": lay["illum"],
                "cloud": lay["cloud"] if clouds else None}


def make_scene(rng: np.random.Generator, bounds: tuple[float, float, float, float],
               sun_zenith_deg: float, sun_azimuth_deg: float) -> Scene:
    """Draw and build a truth scene over ``bounds`` (UTM m)."""
    return Scene(draw_parameters(rng, bounds), bounds, sun_zenith_deg, sun_azimuth_deg)
