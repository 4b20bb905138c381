"""MSI simulator: a truth scene imaged into L0 packets with its GIPPs, AUX and truth files.

Run ``python -m ipf.simulator --size small|demo --seed N --out DIR`` (entry point
``ipf.simulator.cli:main``); the output layout is described in :mod:`ipf.simulator.simulate`.

Modules, one concept each:

- :mod:`~ipf.simulator.noise` — hashed lattice noise and fractal value noise on grids;
- :mod:`~ipf.simulator.scene` — truth scene (DEM, land cover, clouds, 13-band TOA reflectance);
- :mod:`~ipf.geometry.sun` (shared with the processors) — Sun direction and Sun-Earth distance;
- :mod:`~ipf.simulator.orbit` — sun-synchronous circular orbit, 786 km, 10:30 descending node;
- :mod:`~ipf.geometry.rotation` (shared with the processors) — rotation matrices, quaternions, slerp;
- :mod:`~ipf.simulator.attitude` — yaw-steered attitude law and the true-minus-given error;
- :mod:`~ipf.simulator.msi_focal_plane` — the real S2A focal plane (fitted GIP_VIEDIR tables) and
  the pixel windows of reduced sizes;
- :mod:`~ipf.simulator.acquisition` — line datation and lines of sight in ECEF (the processor's
  viewing and alignment code on the simulator's GIP_VIEDIR and GIP_SPAMOD);
- :mod:`~ipf.simulator.ancillary` — Earth orientation table, ephemeris and attitudes (piloting ->
  EME2000) of the datastrip metadata;
- :mod:`~ipf.simulator.location` — direct/inverse location on ellipsoid + DEM (UTM, pyproj);
- :mod:`~ipf.simulator.radiometry` — radiometric forward model and its inverse;
- :mod:`~ipf.simulator.instrument` — instrument parameters drawn as GIPP models;
- :mod:`~ipf.simulator.imaging` — image formation of a chunk of lines (PSF, sampling, DN);
- :mod:`~ipf.simulator.config` — the ``small``, ``demo`` and ``tile`` sizes;
- :mod:`~ipf.simulator.simulate` — the end-to-end run and its output files;
- :mod:`~ipf.simulator.truth` — the true attitude file and its reader;
- :mod:`~ipf.simulator.joborders` — the Job Orders of the chain.

Importing this package is cheap: numba, rasterio and pyproj are imported by the modules (or
functions) that use them.
"""
