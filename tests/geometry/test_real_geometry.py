"""Our viewing model against a real Sentinel-2 datastrip.

The real S2A L1B datastrip (N05.00, 2020-08-16) gives the ephemeris, the piloting -> EME2000
attitudes, the line datation and the IERS values; the real S2A GIP_VIEDIR and GIP_SPAMOD give
the focal plane. Each real L1B granule's metadata gives its footprint, computed by ESA's IPF.
Locating the granule corners with our model and comparing them with that footprint checks every
convention at once: quaternion order and frame, EME2000 -> ITRF, GPS -> UTC, line datation,
the viewing tables' axes and signs, and the SPAMOD rotations.
"""

from __future__ import annotations

import numpy as np
import pytest
from lxml import etree

from ipf.formats.gipp_gs2 import read_gs2
from ipf.formats.l0_metadata import read_datastrip_metadata
from ipf.formats.sensor_model import sensor_model
from ipf.geometry.direct import intersect_height
from ipf.geometry.frames import EarthOrientation
from ipf.geometry.geodesy import Geodesy
from tests.helpers import SHARED

REAL = SHARED / "real" if SHARED else None
BAND = "B04"


def _real(*parts):
    if REAL is None or not REAL.joinpath(*parts[:1]).exists():
        pytest.skip("../shared/real is not here")
    return REAL.joinpath(*parts)


class _DatastripIers:
    """Earth orientation of the datastrip's own ``IERS_Bulletin`` (the real L1B comes without its
    AUX_UT1UTC)."""

    def __init__(self, aux):
        arcsec = np.pi / 180 / 3600
        self.eop = EarthOrientation(aux.ut1_utc_s, aux.pole_u_arcsec * arcsec, aux.pole_v_arcsec * arcsec,
                                    aux.gps_time_utc_s - aux.gps_time_tai_s)

    def at(self, times):
        return self.eop


@pytest.fixture(scope="module")
def model():
    l1b = _real("l1b", "S2A_L1B_N05.00_DPRM_20200816")
    ds = read_datastrip_metadata(next((l1b / "DATASTRIP").glob("*/*.xml")))
    viedirs = [read_gs2(f) for f in sorted(_real("gipp", "GIP_VIEDIR").glob("*.xml"))]
    spamod = read_gs2(next(_real("gipp", "GIP_SPAMOD").glob("*.xml")))
    sm = sensor_model(ds, _DatastripIers(ds.auxiliary), spamod, viedirs)
    geo = Geodesy(32736)

    def locate(detector, lines, pixels, heights):
        """(lat, lon) deg of 0-based (10 m line of the datastrip, pixel) of BAND at ``heights`` m."""
        pos, look = sm.lines_of_sight(BAND, detector, lines, pixels)
        lon, lat, _ = geo.ecef_to_geodetic(intersect_height(geo, pos, look, heights))
        return np.stack([lat, lon], -1)

    return l1b, locate


def _granules(l1b):
    for f in sorted((l1b / "GRANULE").glob("*/*.xml")):
        root = etree.parse(str(f)).getroot()
        corners = np.array(root.findtext(".//EXT_POS_LIST").split(), float).reshape(-1, 3)[:4]
        yield (int(root.findtext(".//DETECTOR_ID")), int(root.findtext(".//Granule_Position/POSITION")),
               int(root.findtext(".//Granule_Dimensions/Size[@resolution='10']/NROWS")),
               int(root.findtext(".//Granule_Dimensions/Size[@resolution='10']/NCOLS")), corners)


def test_real_l1b_granule_corners_fall_on_their_footprints(model):
    l1b, locate = model
    worst, n = 0.0, 0
    for detector, position, rows, cols, corners in _granules(l1b):
        first = position - 1
        # footprint order: first-line first-pixel corner, then around the granule; heights on the DEM
        ref = corners[[0, 3, 2, 1]]
        got = locate(detector, [first, first, first + rows - 1, first + rows - 1],
                     [0, cols - 1, cols - 1, 0], ref[:, 2])
        lat0 = np.radians(corners[0, 0])
        d = np.hypot((got[:, 0] - ref[:, 0]) * 111.2e3, (got[:, 1] - ref[:, 1]) * 111.2e3 * np.cos(lat0))
        worst, n = max(worst, float(d.max())), n + 1
    assert n == 72
    assert worst < 15.0, f"granule corners {worst:.1f} m from the real footprints"
