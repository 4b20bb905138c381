"""Line datation: the acquisition time of every image line of a (band, detector).

Pixels of a line are simultaneous and lines follow at the band's line period, so a
(band, detector) is dated by :class:`LineDatation`, ``t(line) = t0 + line * period`` in s from a
reference time, exact for every integer line and linear in fractional lines. The L0 datastrip
gives ``t0`` per (band, detector) as the GPS time of a reference line (``Band_Time_Stamp``) and
the 10 m ``LINE_PERIOD`` (:func:`ipf.formats.sensor_model.datation_from_metadata`). The L0c
store carries the per-line times (s since 2000-01-01T00:00:00 UTC, NaN for lines never
received) decoded from the packets; :func:`datation_from_line_times` fits the same linear law to
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from ipf.interface.errors import InputError


__all__ = ["EPOCH_2000", "utc", "to_datetime64", "seconds_since", "LineDatation", "datation_from_line_times"]

EPOCH_2000 = np.datetime64("2000-01-01T00:00:00", "us")


def utc(t) -> datetime:
    """Aware UTC datetime of a datetime (naive = UTC, aware converted) or ``datetime64`` (UTC)."""
    if isinstance(t, np.datetime64):
        t = t.astype("datetime64[us]").item()
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def to_datetime64(t) -> np.datetime64:
    """``datetime64[us]`` (UTC, naive) of a datetime (aware or naive = UTC) or datetime64."""
    if isinstance(t, datetime):
        if t.tzinfo is not None:
            t = t.astimezone(timezone.utc).replace(tzinfo=None)
        return np.datetime64(t, "us")
    return np.datetime64(t, "us")


def seconds_since(times, reference) -> np.ndarray:
    """Seconds (float64) from ``reference`` to ``times``.

    Parameters
    ----------
    times : datetime64 array_like or datetime
        UTC times (naive = UTC); ``datetime64`` values keep their nanoseconds.
    reference : datetime or datetime64
        Reference time (aware datetimes are converted to UTC).
    """
    ref = to_datetime64(reference).astype("datetime64[ns]")
    if isinstance(times, datetime):
        times = to_datetime64(times)
    d = np.asarray(times).astype("datetime64[ns]") - ref
    return d.astype(np.int64) / 1e9


@dataclass(frozen=True)
class LineDatation:
    """Linear line datation of one (band, detector): ``t = t0 + line * period`` (s from the
    reference time)."""

    t0: float
    period: float

    def time(self, lines) -> np.ndarray:
        """Times (s from the reference) of (fractional) line indices."""
        return self.t0 + np.asarray(lines, np.float64) * self.period

    def line(self, t) -> np.ndarray:
        """Fractional line indices of times ``t`` (s from the reference)."""
        return (np.asarray(t, np.float64) - self.t0) / self.period


def datation_from_line_times(times_since_2000: np.ndarray, period_s: float,
                             reference) -> LineDatation:
    """Line datation fitted to the per-line times of an L0c store.

    Parameters
    ----------
    times_since_2000 : (n_lines,) ndarray
        Time of each line in s since 2000-01-01T00:00:00 UTC; NaN for missing lines.
    period_s : float
        Line period of the band, s (the datastrip's ``LINE_PERIOD`` times the band's resolution / 10 m).
    reference : datetime or datetime64
        Reference time of the returned datation.

    Returns
    -------
    LineDatation
        ``t0`` is the median over the valid lines of ``time - line * period`` (robust to a few
        wrong packet times); :class:`~ipf.interface.errors.InputError` when no line has a time.
    """
    t = np.asarray(times_since_2000, np.float64)
    lines = np.flatnonzero(np.isfinite(t))
    if lines.size == 0:
        raise InputError("no line of the datastrip has a time (every packet time lost or invalid)")
    ref = float(seconds_since(to_datetime64(reference), EPOCH_2000))
    t0 = float(np.median((t[lines] - ref) - lines * period_s))
    return LineDatation(t0, float(period_s))
