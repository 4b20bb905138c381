"""Sample L0 datastrip and granule metadata models (:mod:`ipf.formats.l0_metadata`) for the tests:
an orbit of 6 ECEF state vectors, 12 attitudes, 13 bands of time stamps per detector."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ipf.formats import l0
from ipf.formats import l0_metadata as m

__all__ = ["T0", "NS", "sample_datastrip", "sample_granule", "write_sample_datastrip", "declared_packets"]

T0 = np.datetime64("2026-06-01T10:30:18.123456789", "ns")
NS = np.timedelta64(1, "ns")


def _orbit(n: int = 6):
    t = T0 - np.timedelta64(5, "s") + np.arange(n) * np.timedelta64(1, "s")
    w = 7.6e3 / 7.07e6
    a = w * np.arange(n)
    pos = np.round(np.stack([7.07e6 * np.cos(a), np.zeros(n), 7.07e6 * np.sin(a)], 1) * 1000) / 1000
    vel = np.round(np.stack([-7.6e3 * np.sin(a), np.zeros(n), 7.6e3 * np.cos(a)], 1) * 1000) / 1000
    return t, pos, vel


def _attitudes(n: int = 12):
    t = T0 - np.timedelta64(5, "s") + np.arange(n) * np.timedelta64(500_000_001, "ns")
    ang = np.linspace(0.1, 0.2, n)
    q = np.stack([np.cos(ang), np.sin(ang) * 0.6, np.sin(ang) * 0.8, np.zeros(n)], 1)
    return t, q


def sample_datastrip(detectors=(5, 6)) -> m.Datastrip:
    t, pos, vel = _orbit()
    at, q = _attitudes()
    created = datetime(2026, 6, 1, 11, 0, 0, tzinfo=UTC)
    start = datetime(2026, 6, 1, 10, 30, 0, 500000, tzinfo=UTC)
    granules = tuple(m.GranuleRef(granule_id=f"S2A_OPER_MSI_L0__GR_SIMU_20260601T110000_S20260601T10300{k}_D{d:02d}_N00.01",
                                  detector=d, position=1 + 2304 * k) for d in detectors for k in range(2))
    stamps = tuple(m.BandTimeStamp(band=b, detector=d, reference_line=1, gps_time=T0 + (b * 1000 + d) * NS)
                   for b in range(13) for d in detectors)
    return m.Datastrip(
        spacecraft="Sentinel-2A", datatake_id="GS2A_20260601T103000_012345_N00.01",
        datastrip_id="S2A_OPER_MSI_L0__DS_SIMU_20260601T110000_S20260601T103000_N00.01",
        datatake_start=start, sensing_start=start, sensing_stop=datetime(2026, 6, 1, 10, 30, 8, 123000, tzinfo=UTC),
        processing_baseline="00.01", processing_centre="SIMU", creation=created, orbit_number=51,
        absolute_orbit=12345, granules=granules, active_detectors=tuple(detectors),
        bands=tuple(m.SpectralBand(band=b, compression_rate=2.5 + b / 10) for b in range(13)),
        packet_counters=tuple(m.PacketCounter(detector=d, band=b, data_strip_start=1, scene_position=1, packets=40 + b)
                              for d in detectors for b in range(13)),
        degradation=m.Degradation(percentage=0.5, lost=2, too_degraded=0, kept_degraded=1),
        time_stamp=m.TimeStamp(line_period_ms=1.5658736, stamps=stamps),
        ancillary=m.SatelliteAncillary(
            ephemeris=m.Ephemeris(gps_time=t, position_m=pos, velocity_m_s=vel),
            attitudes=m.Attitudes(gps_time=at, quaternion=q, valid=np.ones(len(at), bool),
                                  quality=("TWO_VALID_STR",) * len(at))),
        auxiliary=m.AuxiliaryInfo(
            ut1_utc_s=-0.0511, gps_time_utc_s=18, gps_time_tai_s=-19, pole_u_arcsec=0.2641, pole_v_arcsec=0.2402,
            gipps=(m.GippRef(type="GIP_VIEDIR", version="0001",
                             file_name="S2A_OPER_GIP_VIEDIR_SIMU_20260101T000000_V20150101T000000_21000101T000000_B02"),),
            dem="S2__OPER_DEM_GLOBEF_SIMU_20260101T000000_S20260101T000000",
            iers_bulletin="S2__OPER_AUX_UT1UTC_SIMU_20260101T000000_V20260101T000000_20270101T000000",
            reference_band=3))


def sample_granule() -> m.Granule:
    return m.Granule(granule_id="S2A_OPER_MSI_L0__GR_SIMU_20260601T110000_S20260601T103000_D06_N00.01",
                     datastrip_id="S2A_OPER_MSI_L0__DS_SIMU_20260601T110000_S20260601T103000_N00.01",
                     detector=6, sensing_time=datetime(2026, 6, 1, 10, 30, 0, 500000, tzinfo=UTC),
                     position=2305, creation=datetime(2026, 6, 1, 11, tzinfo=UTC), processing_centre="SIMU",
                     packet_counters=tuple(m.PacketCounter(detector=6, band=b, data_strip_start=1, scene_position=1,
                                                           packets=20 + b) for b in range(13)),
                     degraded_percentage=1.25, cloudy_percentage=12.5, footprint=(45.0, 6.0, 0.0, 45.1, 6.2, 0.0, 45.0, 6.0, 0.0))


def write_sample_datastrip(folder: Path, detectors=(5, 6)) -> Path:
    """:func:`sample_datastrip` written into ``folder`` (created); returns the file."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    return m.write_datastrip_metadata(folder, sample_datastrip(detectors))


def declared_packets(l0_dir: Path) -> Counter:
    """{(detector, band index): packets} the granule metadata of an L0 folder declare
    (``NB_OF_SOURCE_PACKETS``, summed over the granules)."""
    out: Counter = Counter()
    for g in l0.find_granules(l0_dir):
        gr = m.read_granule_metadata(l0.granule_metadata_file(g))
        for c in gr.packet_counters:
            out[gr.detector, c.band] += c.packets
    return out
