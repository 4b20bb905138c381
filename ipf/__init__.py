"""s2ipf: an open Sentinel-2 MSI Instrument Processing Facility driven by ESA Job Orders.

The package is imported by every ``ipf`` process, so it imports nothing heavy: numba, rasterio
and glymur are imported by the tasks that need them.
"""

__version__ = "0.1.0"
