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
from ipf.formats.l0_metadata import gps_to_utc, read_datastrip_metadata
from ipf.formats.msi_bands import BY_NAME
from ipf.geometry.attitude import msi_to_piloting
from ipf.geometry.direct import intersect_height
from ipf.geometry.frames import EarthOrientation, quaternions_to_itrf
from ipf.geometry.geodesy import Geodesy
from ipf.geometry.orbit import hermite
from ipf.geometry.rotation import quat_to_matrix, slerp
from ipf.geometry.viewing import viewing_from_viedir_tables
from tests.helpers import SHARED

REAL = SHARED / "real" if SHARED else None
BAND = "B04"
TAI_UTC_2020_S = 37.0


def _real(*parts):
    if REAL is None or not REAL.joinpath(*parts[:1]).exists():
        pytest.skip("../shared/real is not here")
    return REAL.joinpath(*parts)


@pytest.fixture(scope="module")
def model():
    l1b = _real("l1b", "S2A_L1B_N05.00_DPRM_20200816")
    ds = read_datastrip_metadata(next((l1b / "DATASTRIP").glob("*/*.xml")))
    viedirs = [read_gs2(f) for f in sorted(_real("gipp", "GIP_VIEDIR").glob("*.xml"))]
    spamod = read_gs2(next(_real("gipp", "GIP_SPAMOD").glob("*.xml")))
    a, anc = ds.auxiliary, ds.ancillary
    ref = anc.ephemeris.gps_time[0]

    def seconds(t):
        return (np.asarray(t, "datetime64[ns]") - ref).astype(np.int64) / 1e9

    arcsec = np.pi / 180 / 3600
    eop = EarthOrientation(a.ut1_utc_s, a.pole_u_arcsec * arcsec, a.pole_v_arcsec * arcsec, TAI_UTC_2020_S)
    q = quaternions_to_itrf(gps_to_utc(anc.attitudes.gps_time, a.gps_time_utc_s), anc.attitudes.quaternion, eop)
    views = viewing_from_viedir_tables(viedirs, spamod)
    align = msi_to_piloting(spamod)
    period_s = ds.time_stamp.line_period_ms / 1000
    geo = Geodesy(32736)

    def locate(detector, lines, pixels, heights):
        """(lat, lon) deg of 0-based (10 m line of the datastrip, pixel) of BAND at ``heights`` m."""
        stamp = next(s for s in ds.time_stamp.stamps
                     if s.band == BY_NAME[BAND].index and s.detector == detector)
        offset_ns = np.round((np.asarray(lines, float) + 1 - stamp.reference_line) * period_s * 1e9)
        t = seconds(stamp.gps_time + offset_ns.astype("timedelta64[ns]"))
        pos, _ = hermite(t, seconds(anc.ephemeris.gps_time), anc.ephemeris.position_m,
                         anc.ephemeris.velocity_m_s)
        u = views[BAND, detector].directions(np.asarray(pixels, float)) @ align.T
        look = np.einsum("...ij,...j->...i", quat_to_matrix(slerp(t, seconds(anc.attitudes.gps_time), q)), u)
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
