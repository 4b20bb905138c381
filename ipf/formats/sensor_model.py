"""The sensor model of a datastrip from its inputs: the L0 datastrip metadata (line datation,
ephemeris and attitudes of ``Satellite_Ancillary_Data_Info``), AUX_UT1UTC, GIP_SPAMOD and
GIP_VIEDIR.

- Datation (:func:`datation_from_metadata`, the law of
  :func:`ipf.formats.l0_metadata.line_datation` shared with the packet line clocks): line ``l``
  (0-based, lines of the band) of (band, detector) is at ``GPS_TIME + (l + 1 - REFERENCE_LINE) *
  LINE_PERIOD * resolution / 10 m`` (``Band_Time_Stamp``; ``LINE_PERIOD`` is the 10 m line
  period), in UTC ``GPS - GPS_TIME_UTC`` (``Auxiliary_Data_Info/IERS_Bulletin``).
- Orbit: cubic Hermite on the ECEF ``GPS_Points_List``
  (:class:`ipf.geometry.orbit.Orbit`).
- Attitude: the valid ``Corrected_Attitudes`` (piloting -> EME2000) turned into piloting -> ITRF
  with the Earth orientation of AUX_UT1UTC (:func:`ipf.geometry.frames.quaternions_to_itrf`), then
  slerp (:class:`ipf.geometry.attitude.Attitude`).
- Alignment: :func:`ipf.geometry.attitude.msi_to_piloting` of GIP_SPAMOD; viewing: the per-pixel
  GIP_VIEDIR tables with the GIP_SPAMOD focal plane and detector rotations
  (:func:`ipf.geometry.viewing.viewing_from_viedir_tables`), the TDI line list the datastrip's
  ``TDI_Configuration_List`` names for the TDI bands.

Of the GIP_SPAMOD and of each band's GIP_VIEDIR, the version used is the one valid over the
datastrip's sensing period, created last, then of the highest version
(:func:`ipf.formats.gipp_gs2.select_gs2`, the Earth Explorer family's rule). A datastrip without
ephemeris and attitudes (an unconsolidated L0U one) has no sensor model (InputError).

Model times are s from the datastrip's sensing start (UTC) unless another reference is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ipf.formats import aux, gipp_gs2, l0
from ipf.formats.l0_metadata import Datastrip, gps_to_utc, line_datation, read_datastrip_metadata
from ipf.formats.msi_bands import BANDS
from ipf.geometry.attitude import Attitude, msi_to_piloting
from ipf.geometry.datation import LineDatation, seconds_since, to_datetime64
from ipf.geometry.frames import quaternions_to_itrf
from ipf.geometry.orbit import Orbit
from ipf.geometry.sensor import SensorModel
from ipf.geometry.viewing import viewing_from_viedir_tables
from ipf.interface.errors import InputError

__all__ = ["datation_from_metadata", "sensor_model", "read_viedirs", "read_sensor_model", "load_sensor_model"]


def datation_from_metadata(ds: Datastrip, reference) -> dict[tuple[str, int], LineDatation]:
    """{(band, detector): LineDatation} of the datastrip's law
    (:func:`ipf.formats.l0_metadata.line_datation`), times in s from ``reference`` (UTC datetime
    or datetime64)."""
    return {key: LineDatation(float(seconds_since(t0, reference)), period)
            for key, (t0, period) in line_datation(ds).items()}


def sensor_model(datastrip: Datastrip, eop, spamod: gipp_gs2.GIP_SPAMOD,
                 viedirs: Iterable[gipp_gs2.GIP_VIEDIR], reference=None,
                 source: Path | str | None = None) -> SensorModel:
    """The sensor model of a datastrip (see the module docstring); InputError naming the
    datastrip metadata file and ``Satellite_Ancillary_Data_Info`` (or ``Auxiliary_Data_Info``)
    for a datastrip without ephemeris and attitudes (or GPS - UTC), as an unconsolidated one.

    Parameters
    ----------
    datastrip : ipf.formats.l0_metadata.Datastrip
        L0 (or L1B) datastrip metadata: datation, ephemeris, attitudes, GPS - UTC.
    eop : ipf.formats.aux.EarthOrientationTable
        Anything with ``at(times_utc) -> EarthOrientation`` (UT1-UTC, pole, TAI-UTC).
    spamod : GIP_SPAMOD
        Piloting -> MSI alignment, focal plane and detector rotations.
    viedirs : iterable of GIP_VIEDIR
        Viewing directions, one per band.
    reference : datetime or datetime64, optional
        Origin of the model's times (UTC); default the datastrip's sensing start.
    source : path, optional
        The datastrip metadata file, for the errors; default its name from the identifier.
    """
    _require_ancillary(datastrip, source)
    ref = to_datetime64(reference if reference is not None else datastrip.sensing_start)
    gps_utc = datastrip.auxiliary.gps_time_utc_s
    eph = datastrip.ancillary.ephemeris
    orbit = Orbit.from_samples(gps_to_utc(eph.gps_time, gps_utc), eph.position_m, eph.velocity_m_s, ref,
                               element="Satellite_Ancillary_Data_Info/Ephemeris/GPS_Points_List")
    att = datastrip.ancillary.attitudes
    valid = np.asarray(att.valid, bool)
    where = "Satellite_Ancillary_Data_Info/Attitudes/Corrected_Attitudes"
    if valid.sum() < 2:
        raise InputError(f"{int(valid.sum())} valid attitude(s) (QUATERNION_VALIDITY), at least 2 needed",
                         element=where)
    times = gps_to_utc(att.gps_time[valid], gps_utc)
    q_itrf = quaternions_to_itrf(times, att.quaternion[valid], eop.at(times))
    return SensorModel(ref, orbit, Attitude.from_samples(times, q_itrf, ref, element=where),
                       msi_to_piloting(spamod), datation_from_metadata(datastrip, ref),
                       viewing_from_viedir_tables(viedirs, spamod))


def _require_ancillary(ds: Datastrip, source: Path | str | None) -> None:
    source = source if source is not None else re.sub(r"_N\d\d\.\d\d$", "", ds.datastrip_id).replace(
        "_MSI_", "_MTD_", 1) + ".xml"
    packets = f" (its SAD packets are in {ds.ancillary_ref})" if ds.ancillary_ref else ""
    for element, what, value in (("Satellite_Ancillary_Data_Info", "ephemeris and attitudes", ds.ancillary),
                                 ("Auxiliary_Data_Info", "GPS - UTC (IERS_Bulletin)", ds.auxiliary)):
        if value is None:
            raise InputError(f"no {what} in the datastrip metadata: an unconsolidated datastrip{packets} "
                             "has no sensor model", source=source, element=element)


def read_viedirs(viedir_files: Iterable[Path | str], datastrip: Datastrip | None = None
                 ) -> list[gipp_gs2.GIP_VIEDIR]:
    """The GIP_VIEDIR of each band among ``viedir_files`` (every version the Job Order lists:
    :func:`ipf.formats.gipp_gs2.select_gs2_bands` over the datastrip's sensing period, any period
    without a datastrip), read (validated), in band order; for a TDI band, the line list the
    datastrip's ``TDI_Configuration_List`` names (``APPLIED`` by default)."""
    tdi = {BANDS[b].name: conf for b, conf in datastrip.tdi} if datastrip is not None else {}
    return [gipp_gs2.read_gs2(f, gipp_gs2.GIP_VIEDIR,
                              tdi_config=tdi.get(band) if band in gipp_gs2.TDI_BANDS else None)
            for band, f in gipp_gs2.select_gs2_bands(viedir_files, "GIP_VIEDIR", *_sensing(datastrip)).items()]


def _sensing(ds: Datastrip | None) -> tuple:
    return (ds.sensing_start, ds.sensing_stop) if ds is not None else (None, None)


def read_sensor_model(datastrip: Datastrip, ut1utc_file: Path | str,
                      spamod_files: Path | str | Iterable[Path | str], viedir_files: Iterable[Path | str],
                      reference=None, source: Path | str | None = None) -> SensorModel:
    """:func:`sensor_model` of datastrip metadata ``datastrip`` with the AUX_UT1UTC (``.HDR``,
    ``.DBL`` or ``.txt``), the GIP_SPAMOD chosen among ``spamod_files`` (one path, or every
    version the Job Order lists: :func:`ipf.formats.gipp_gs2.select_gs2` over the datastrip's
    sensing period) and the GIP_VIEDIR of :func:`read_viedirs`, read (validated)."""
    _require_ancillary(datastrip, source)
    spamod = gipp_gs2.select_gs2(spamod_files, "GIP_SPAMOD", "B00", *_sensing(datastrip))
    return sensor_model(datastrip, aux.read_ut1utc(Path(ut1utc_file)),
                        gipp_gs2.read_gs2(spamod, gipp_gs2.GIP_SPAMOD),
                        read_viedirs(viedir_files, datastrip), reference, source)


def load_sensor_model(datastrip_path: Path | str, ut1utc_file: Path | str,
                      spamod_files: Path | str | Iterable[Path | str], viedir_files: Iterable[Path | str],
                      reference=None) -> SensorModel:
    """:func:`read_sensor_model` of the datastrip metadata file ``datastrip_path``, or of the one in
    the datastrip PDI folder ``datastrip_path`` (:func:`ipf.formats.l0.datastrip_metadata_file`)."""
    path = Path(datastrip_path)
    if path.is_dir():
        path = l0.datastrip_metadata_file(path)
    return read_sensor_model(read_datastrip_metadata(path), ut1utc_file, spamod_files, viedir_files, reference,
                             source=path)
