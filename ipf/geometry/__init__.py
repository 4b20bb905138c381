"""Processor-side geometry of the MSI: sensor model, direct and inverse location.

Built only from what the processor receives (the datastrip metadata's line datation, ephemeris
and attitudes, AUX_UT1UTC, the DEM, GIP_VIEDIR, GIP_SPAMOD), as arrays and duck-typed models
(:mod:`ipf.formats.sensor_model` reads the files and builds the sensor model); it never imports
:mod:`ipf.simulator` nor :mod:`ipf.formats`. One module per concept:

- :mod:`~ipf.geometry.geodesy` — WGS84 constants; pyproj conversions ECEF <-> geodetic <-> UTM;
- :mod:`~ipf.geometry.rotation` — unit quaternions (scalar first), rotation matrices, slerp;
- :mod:`~ipf.geometry.orbit` — cubic Hermite interpolation of the orbit state vectors;
- :mod:`~ipf.geometry.frames` — EME2000 -> ITRF (IAU 2006/2000A, UT1 and pole), GPS -> UTC;
- :mod:`~ipf.geometry.attitude` — slerp of the piloting -> ITRF attitude quaternions;
  the GIP_SPAMOD rotations (MSI -> piloting alignment);
- :mod:`~ipf.geometry.datation` — linear line datation (from the datastrip band time stamps or
  fitted to L0c line times);
- :mod:`~ipf.geometry.viewing` — viewing directions from the per-pixel GIP_VIEDIR tables;
- :mod:`~ipf.geometry.sensor` — the sensor model: (band, detector, line, pixel) -> line of sight;
- :mod:`~ipf.geometry.dem` — the DEM (ellipsoidal heights in UTM, from DEM_SRTM + DEM_GEOID), bilinear heights;
- :mod:`~ipf.geometry.direct` — direct location: line of sight ∩ DEM (numba kernel + numpy
  reference);
- :mod:`~ipf.geometry.grid` — :class:`~ipf.geometry.grid.LocationGrid`, the coarse location
  grid with bilinear interpolation, and direct/inverse location on it;
- :mod:`~ipf.geometry.inverse` — inverse location (E, N, h) -> (line, pixel), Newton on the
  exact model;
- :mod:`~ipf.geometry.refining` — tie points against the GRI, their filtering and the
  least-squares attitude bias and drift (the L1B refining);
- :mod:`~ipf.geometry.footprint` — footprint polygons;
- :mod:`~ipf.geometry.sun` — Sun direction and Sun-Earth distance (shared with the simulator);
- :mod:`~ipf.geometry.tiles` — the S2 tiling grid (MGRS names, UTM tile corners);
- :mod:`~ipf.geometry.warp` — grid-driven resampling (Keys cubic, nearest).

Conventions (all modules):

- times ``t`` are float64 seconds from a *reference time* (UTC; the datastrip sensing start),
  so that a line time keeps ~1e-10 s precision; :func:`~ipf.geometry.datation.seconds_since`
  converts ``datetime64`` / ``datetime`` values;
- ECEF is WGS84 Earth-fixed (EPSG:4978), metres; geodetic is (lon deg, lat deg, ellipsoidal
  height m) (EPSG:4979); map coordinates are UTM (E, N) metres of one WGS84 zone (EPSG:326xx /
  327xx); heights are always above the WGS84 ellipsoid;
- ``line`` and ``pixel`` are 0-based float image coordinates of a (band, detector) at the band's
  resolution; integer values are pixel centres (a pixel covers ``p - 0.5 .. p + 0.5``);
- vectors are the last axis of arrays (``(..., 3)``); rotation matrices ``(..., 3, 3)`` act on
  column vectors (``v_to = R @ v_from``).

Importing this package (or any of its modules) is cheap: pyproj, rasterio and numba are imported
inside the functions that need them.
"""
