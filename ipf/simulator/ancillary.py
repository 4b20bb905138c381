"""Satellite ancillary data of a simulated datastrip: Earth orientation, ephemeris, attitudes.

- Earth orientation: :func:`earth_orientation_table` is a deterministic synthetic IERS Bulletin A
  table (daily UT1-UTC and pole, TAI-UTC 37 s) around the acquisition date, written as the
  AUX_UT1UTC of the simulation and used here, through the same
  :func:`ipf.geometry.frames.eme2000_to_itrf`, to express the attitudes in EME2000. Its values
  are rounded to the Bulletin A resolutions, so the written file reads back to the same table.
- Ephemeris (``GPS_Points_List``): ECEF position and velocity of the orbit every
  :data:`ORBIT_STEP_S` at whole GPS seconds, rounded to the mm and mm/s the file holds.
- Attitudes (``Corrected_Attitudes``): every :data:`ATTITUDE_STEP_TICKS` ticks, the quaternion
  (w, x, y, z) of the rotation piloting -> EME2000, ``M(t)^T R(t)`` with ``R`` the simulator's
  Earth-fixed piloting -> ECEF law (given or true) and ``M`` the EME2000 -> ITRF matrix at the UTC
  time of the sample; consecutive quaternions on the same hemisphere.

Times of the samples are GPS (UTC + :data:`GPS_UTC_S`), ``datetime64[ns]``, exact: the simulator's
reference time is a whole UTC second and the steps are whole ticks of 2^-16 s (0.125 s, 1 s).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from ipf.formats import l0_metadata
from ipf.formats.ccsds import GPS_UTC_S
from ipf.formats.aux import MJD_ORDINAL, PREDICTION_DECIMALS, RAPID_DECIMALS, EarthOrientationTable
from ipf.geometry import frames
from ipf.geometry.frames import eme2000_to_itrf
from ipf.geometry.rotation import matrix_to_quat
from ipf.simulator.acquisition import TICKS_PER_S, Acquisition


__all__ = ["GPS_UTC_S", "GPS_TAI_S", "TAI_UTC_S", "ORBIT_STEP_S", "ATTITUDE_STEP_TICKS", "SPAN_MARGIN_S",
           "EOP_DAYS", "earth_orientation_table", "eop_validity", "span_ticks", "gps_times", "utc_times",
           "ephemeris", "attitudes", "continuous_quaternions", "piloting_to_eme2000"]

GPS_TAI_S = -19
"""GPS - TAI (s)."""
TAI_UTC_S = 37.0
"""TAI - UTC (s) since 2017-01-01."""
ORBIT_STEP_S = 1
ATTITUDE_STEP_TICKS = 8192
"""Attitude sampling, ticks of 2^-16 s (0.125 s)."""
SPAN_MARGIN_S = 10
"""Whole seconds of ancillary data before the first and after the last line."""
EOP_DAYS = (-10, -3, 20)
"""Days from the acquisition date of the first rapid-service row, the last one, and the last
predicted row of the synthetic Bulletin A (predictions start the day after the rapid service)."""



def earth_orientation_table(day: date) -> EarthOrientationTable:
    """The synthetic Earth orientation of the days around ``day`` (MJD d, days from ``day`` k):
    UT1-UTC = -0.0152 - 0.00031 k + 0.0004 sin(2π k / 13.66) s, x_p = 0.112 + 0.04 sin(2π k / 433)
    arcsec, y_p = 0.368 + 0.04 cos(2π k / 433) arcsec (magnitudes of 2023), rapid-service rows
    from ``EOP_DAYS[0]`` to ``EOP_DAYS[1]`` then predictions to ``EOP_DAYS[2]``, at the Bulletin A
    resolutions; TAI-UTC :data:`TAI_UTC_S`."""
    first, last_rapid, last = EOP_DAYS
    k = np.arange(first, last + 1)
    mjd = day.toordinal() - MJD_ORDINAL + k
    ut1 = -0.0152 - 0.00031 * k + 0.0004 * np.sin(2 * np.pi * k / 13.66)
    xp = 0.112 + 0.04 * np.sin(2 * np.pi * k / 433.0)
    yp = 0.368 + 0.04 * np.cos(2 * np.pi * k / 433.0)
    rapid = k <= last_rapid
    cols = []
    for values, r, p in zip((xp, yp, ut1), RAPID_DECIMALS, PREDICTION_DECIMALS):
        cols.append(np.where(rapid, np.round(values, r), np.round(values, p)))
    return EarthOrientationTable(mjd=mjd.astype(np.int64), x_p=cols[0], y_p=cols[1], ut1_utc=cols[2],
                                 n_rapid=int(rapid.sum()), tai_utc=TAI_UTC_S)


def eop_validity(table: EarthOrientationTable) -> tuple[datetime, datetime, datetime]:
    """(creation, validity start, validity stop) of the AUX_UT1UTC of ``table``: made on the day
    after its last rapid-service row, valid from its first to its last row (0 h UTC)."""
    def day(mjd: int) -> datetime:
        d = date.fromordinal(int(mjd) + MJD_ORDINAL)
        return datetime(d.year, d.month, d.day)

    return day(table.mjd[table.n_rapid - 1]) + timedelta(days=1), day(table.mjd[0]), day(table.mjd[-1])


def span_ticks(first_ticks: int, last_ticks: int) -> tuple[int, int]:
    """Ticks (from the reference time) of the whole seconds :data:`SPAN_MARGIN_S` before
    ``first_ticks`` and after ``last_ticks``."""
    return ((first_ticks // TICKS_PER_S - SPAN_MARGIN_S) * TICKS_PER_S,
            (last_ticks // TICKS_PER_S + SPAN_MARGIN_S + 1) * TICKS_PER_S)


def _ns(t_ref: datetime, ticks: np.ndarray, offset_s: int) -> np.ndarray:
    ref = np.datetime64(t_ref.replace(tzinfo=None), "ns") + np.timedelta64(offset_s, "s")
    ticks = np.asarray(ticks, np.int64)
    whole, frac = np.divmod(ticks, TICKS_PER_S)
    return ref + (whole * 1_000_000_000 + np.round(frac * 1e9 / TICKS_PER_S).astype(np.int64)).astype("timedelta64[ns]")


def gps_times(t_ref: datetime, ticks: np.ndarray) -> np.ndarray:
    """GPS ``datetime64[ns]`` of ``ticks`` from the UTC reference time (rounded to the ns)."""
    return _ns(t_ref, ticks, GPS_UTC_S)


def utc_times(t_ref: datetime, ticks: np.ndarray) -> np.ndarray:
    """UTC ``datetime64[ns]`` of ``ticks`` from the UTC reference time (rounded to the ns)."""
    return _ns(t_ref, ticks, 0)


def ephemeris(acq: Acquisition, span: tuple[int, int]) -> l0_metadata.Ephemeris:
    """Orbit samples every :data:`ORBIT_STEP_S` over ``span`` (ticks), mm / mm/s resolution."""
    ticks = np.arange(span[0], span[1] + 1, TICKS_PER_S * ORBIT_STEP_S)
    pos, vel = acq.orbit.state(ticks / TICKS_PER_S)
    return l0_metadata.Ephemeris(gps_time=gps_times(acq.orbit.t_ref, ticks),
                                 position_m=np.round(pos * 1000) / 1000, velocity_m_s=np.round(vel * 1000) / 1000)


def continuous_quaternions(rotations: np.ndarray) -> np.ndarray:
    """Unit quaternions (n, 4) (w, x, y, z) of rotation matrices (n, 3, 3): the first with
    w >= 0, each next on the hemisphere of the previous one
    (:func:`ipf.geometry.frames.continuous_quaternions`)."""
    return frames.continuous_quaternions(matrix_to_quat(rotations))


def piloting_to_eme2000(rotations: np.ndarray, times_utc: np.ndarray, table: EarthOrientationTable) -> np.ndarray:
    """Continuous unit quaternions (n, 4) (w, x, y, z) piloting -> EME2000 of piloting -> ECEF
    matrices (n, 3, 3) at UTC ``times_utc``."""
    m = eme2000_to_itrf(times_utc, table.at(times_utc))
    return continuous_quaternions(np.swapaxes(m, -1, -2) @ rotations)


def attitudes(acq: Acquisition, span: tuple[int, int], table: EarthOrientationTable,
              true: bool = False) -> l0_metadata.Attitudes:
    """Attitude samples every :data:`ATTITUDE_STEP_TICKS` over ``span`` (ticks): the given law,
    or the true one, piloting -> EME2000, all valid (``TWO_VALID_STR``)."""
    ticks = np.arange(span[0], span[1] + 1, ATTITUDE_STEP_TICKS)
    q = piloting_to_eme2000(acq.attitude(ticks / TICKS_PER_S, true=true), utc_times(acq.orbit.t_ref, ticks), table)
    return l0_metadata.Attitudes(gps_time=gps_times(acq.orbit.t_ref, ticks), quaternion=q,
                                 valid=np.ones(len(ticks), bool), quality=("TWO_VALID_STR",) * len(ticks))
