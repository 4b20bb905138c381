"""L1B radiometric corrections of MSI images, one algorithm per function.

Images are in sensor geometry, shape ``(lines, pixels)`` of one band and one detector: axis 0 is
along track (time), axis 1 across track (detector elements). Radiances are in W m-2 sr-1 µm-1.
"""
