"""The sensor model: (band, detector, line, pixel) -> satellite position and line of sight.

For a (band, detector) and fractional (line, pixel)::

    t    = datation[band, detector].time(line)                  s from the reference time
    P(t) = orbit.state(t)                                       ECEF position, m (Hermite)
    R(t) = attitude.matrix(t)                                   body -> ECEF (slerp)
    u    = R(t) @ A @ viewing[band, detector].directions(pixel) ECEF unit line of sight

with ``A`` the instrument -> body alignment (GIP_SPAMOD). Ground points are ``P + s u`` for
``s > 0`` (see :mod:`ipf.geometry.direct`). The model of an L1B product, with the refined
attitude of its geometry entry, is :func:`ipf.products.datastrip.sensor_model`; the model of
the input files, :func:`ipf.formats.sensor_model.read_sensor_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ipf.geometry.attitude import Attitude, instrument_to_body
from ipf.geometry.datation import LineDatation, datation_from_datastrip, to_datetime64
from ipf.geometry.orbit import Orbit
from ipf.geometry.viewing import DetectorViewing, viewing_from_gipps
from ipf.interface.errors import InputError

__all__ = ["SensorModel", "sensor_model", "corrected_model"]


@dataclass(frozen=True)
class SensorModel:
    """Orbit, attitude, alignment, datation and viewing of one datastrip.

    alignment: (3, 3) instrument -> body rotation; datation and viewing are keyed by
    (band name, detector id). Times are s from ``reference`` (a ``datetime64[us]``). A (band,
    detector) the viewing (GIP_VIEDIR) or the datation (datastrip Start_Ticks) lacks is an
    :class:`~ipf.interface.errors.InputError` naming that element.
    """

    reference: np.datetime64
    orbit: Orbit
    attitude: Attitude
    alignment: np.ndarray
    datation: dict[tuple[str, int], LineDatation]
    viewing: dict[tuple[str, int], DetectorViewing]

    def n_pixels(self, band: str, detector: int) -> int:
        """Pixels per line of (band, detector) (GIP_VIEDIR)."""
        return self.detector_viewing(band, detector).n_pixels

    def detector_viewing(self, band: str, detector: int) -> DetectorViewing:
        """Viewing directions of (band, detector); InputError (GIP_VIEDIR) when the model has none."""
        try:
            return self.viewing[band, detector]
        except KeyError:
            raise InputError(f"no viewing directions for {band} detector {detector}",
                             element="GIP_VIEDIR") from None

    def line_datation(self, band: str, detector: int) -> LineDatation:
        """Line datation of (band, detector); InputError (Start_Ticks) when the datastrip has none."""
        try:
            return self.datation[band, detector]
        except KeyError:
            raise InputError(f"no line datation for {band} detector {detector}",
                             element="Start_Ticks") from None

    def line_time(self, band: str, detector: int, lines) -> np.ndarray:
        """Times (s from the reference) of (fractional) lines of (band, detector)."""
        return self.line_datation(band, detector).time(lines)

    def lines_of_sight(self, band: str, detector: int, lines, pixels) -> tuple[np.ndarray, np.ndarray]:
        """Satellite position and unit line of sight of image points.

        Parameters
        ----------
        band, detector : str, int
            Band name (``"B02"``) and detector id (1..12).
        lines, pixels : array_like
            Fractional line and pixel indices (broadcast together, shape ``S``).

        Returns
        -------
        position, look : (*S, 3) ndarrays
            ECEF satellite position (m) at the line time and unit look direction.
        """
        lines, pixels = np.broadcast_arrays(np.asarray(lines, np.float64), np.asarray(pixels, np.float64))
        t = self.line_time(band, detector, lines)
        pos, _ = self.orbit.state(t)
        rot = self.attitude.matrix(t)
        u = self.detector_viewing(band, detector).directions(pixels) @ self.alignment.T
        return pos, np.einsum("...ij,...j->...i", rot, u)

    def covers(self, band: str, detector: int, lines) -> bool:
        """Whether the orbit and attitude samples cover the times of ``lines``."""
        t = self.line_time(band, detector, lines)
        return self.orbit.covers(t) and self.attitude.covers(t)

    def with_attitude(self, attitude: Attitude) -> SensorModel:
        """The same model with another attitude (e.g. a corrected or the true one)."""
        return replace(self, attitude=attitude)


def sensor_model(datastrip, orbit_data, attitude_data, spamod, viedirs) -> SensorModel:
    """The sensor model of an L0 datastrip.

    Parameters
    ----------
    datastrip : ipf.formats.l0.Datastrip
        Gives the reference time and the line datation (start ticks, line periods).
    orbit_data : ipf.formats.aux.OrbitData
        AUX_RESORB state vectors.
    attitude_data : ipf.formats.aux.AttitudeData
        AUX_SADATT quaternions body -> ECEF.
    spamod : ipf.formats.gipp.GIP_SPAMOD
        Instrument -> body alignment.
    viedirs : iterable of ipf.formats.gipp.GIP_VIEDIR
        Viewing polynomials, one per band.
    """
    ref64 = to_datetime64(datastrip.reference_time)
    return SensorModel(ref64, Orbit.from_aux(orbit_data, ref64), Attitude.from_aux(attitude_data, ref64),
                       instrument_to_body(spamod), datation_from_datastrip(datastrip),
                       viewing_from_gipps(viedirs))


def corrected_model(model: SensorModel, bias_rad, drift_rad_s, reference_time) -> SensorModel:
    """``model`` with its attitude corrected by ``Rot(bias + drift · t)`` (body frame, rad and
    rad/s; t in s from ``reference_time``, a datetime), as SPATIO estimates it
    (:func:`ipf.geometry.refining.corrected_attitude`)."""
    from ipf.geometry.datation import seconds_since
    from ipf.geometry.refining import corrected_attitude

    drift = np.asarray(drift_rad_s, np.float64)
    offset = float(seconds_since(model.reference, reference_time))
    bias = np.asarray(bias_rad, np.float64) + drift * offset
    return model.with_attitude(corrected_attitude(model.attitude, bias, drift))

