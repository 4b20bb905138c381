"""The sensor model: (band, detector, line, pixel) -> satellite position and line of sight.

For a (band, detector) and fractional (line, pixel)::

    t    = datation[band, detector].time(line)                  s from the reference time
    P(t) = orbit.state(t)                                       ITRF position, m (Hermite)
    R(t) = attitude.matrix(t)                                   piloting -> ITRF (slerp)
    u    = R(t) @ A @ viewing[band, detector].directions(pixel) ITRF unit line of sight

with ``A`` the MSI -> piloting alignment (:func:`ipf.geometry.attitude.msi_to_piloting` of
GIP_SPAMOD) and the viewing directions of GIP_VIEDIR in the MSI frame
(:func:`ipf.geometry.viewing.viewing_from_viedir_tables`). Ground points are ``P + s u`` for
``s > 0`` (see :mod:`ipf.geometry.direct`). The model of the input files (datastrip metadata,
AUX_UT1UTC, GIP_SPAMOD, GIP_VIEDIR) is built by :func:`ipf.formats.sensor_model.sensor_model`;
the model of an L1B product, with the refined attitude of its geometry entry, by
:func:`ipf.products.datastrip.sensor_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ipf.geometry.attitude import Attitude
from ipf.geometry.datation import LineDatation
from ipf.geometry.orbit import Orbit
from ipf.geometry.viewing import TableViewing
from ipf.interface.errors import InputError

__all__ = ["SensorModel", "corrected_model"]


@dataclass(frozen=True)
class SensorModel:
    """Orbit, attitude, alignment, datation and viewing of one datastrip.

    alignment: (3, 3) MSI -> piloting rotation; datation and viewing are keyed by (band name,
    detector id). Times are s from ``reference`` (a UTC ``datetime64[us]``). A (band, detector)
    the viewing (GIP_VIEDIR) or the datation (datastrip ``Band_Time_Stamp``) lacks is an
    :class:`~ipf.interface.errors.InputError` naming that element.
    """

    reference: np.datetime64
    orbit: Orbit
    attitude: Attitude
    alignment: np.ndarray
    datation: dict[tuple[str, int], LineDatation]
    viewing: dict[tuple[str, int], TableViewing]

    def n_pixels(self, band: str, detector: int) -> int:
        """Pixels per line of (band, detector) (GIP_VIEDIR)."""
        return self.detector_viewing(band, detector).n_pixels

    def detector_viewing(self, band: str, detector: int) -> TableViewing:
        """Viewing directions of (band, detector); InputError (GIP_VIEDIR) when the model has none."""
        try:
            return self.viewing[band, detector]
        except KeyError:
            raise InputError(f"no viewing directions for {band} detector {detector}",
                             element="GIP_VIEDIR") from None

    def line_datation(self, band: str, detector: int) -> LineDatation:
        """Line datation of (band, detector); InputError (Band_Time_Stamp) when the datastrip has none."""
        try:
            return self.datation[band, detector]
        except KeyError:
            raise InputError(f"no line datation for {band} detector {detector}",
                             element="Band_Time_Stamp") from None

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


def corrected_model(model: SensorModel, bias_rad, drift_rad_s, reference_time) -> SensorModel:
    """``model`` with its attitude corrected by ``Rot(bias + drift · t)`` (piloting frame, rad and
    rad/s; t in s from ``reference_time``, a datetime), as SPATIO estimates it
    (:func:`ipf.geometry.refining.corrected_attitude`)."""
    from ipf.geometry.datation import seconds_since
    from ipf.geometry.refining import corrected_attitude

    drift = np.asarray(drift_rad_s, np.float64)
    offset = float(seconds_since(model.reference, reference_time))
    bias = np.asarray(bias_rad, np.float64) + drift * offset
    return model.with_attitude(corrected_attitude(model.attitude, bias, drift))

