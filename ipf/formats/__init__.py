"""File formats of the MSI chain: L0 CCSDS packets, on-board compression, GIPP and AUX files.

Each module imports its own heavy dependencies (numba, rasterio) so that importing this package
stays cheap.
"""
