"""The sensor model of a datastrip from its input files: L0 datastrip metadata, AUX_RESORB,
AUX_SADATT, GIP_SPAMOD and GIP_VIEDIR, each read and validated, then built by
:func:`ipf.geometry.sensor.sensor_model`."""

from __future__ import annotations

from pathlib import Path

from ipf.formats import aux, gipp, l0
from ipf.geometry.sensor import SensorModel, sensor_model

__all__ = ["load_sensor_model", "read_sensor_model"]


def load_sensor_model(datastrip_dir: Path, orbit_file: Path, attitude_file: Path,
                      spamod_file: Path, viedir_files) -> SensorModel:
    """Read the files (validated) and build :func:`ipf.geometry.sensor.sensor_model`."""
    return read_sensor_model(l0.read_datastrip(Path(datastrip_dir)), orbit_file, attitude_file,
                             spamod_file, viedir_files)


def read_sensor_model(datastrip, orbit_file: Path, attitude_file: Path, spamod_file: Path,
                      viedir_files) -> SensorModel:
    """:func:`ipf.geometry.sensor.sensor_model` of L0 datastrip metadata ``datastrip``
    (:class:`ipf.formats.l0.Datastrip`) with the AUX_RESORB, AUX_SADATT, GIP_SPAMOD and GIP_VIEDIR
    files read (validated)."""
    return sensor_model(datastrip, aux.read_orbit(Path(orbit_file)),
                        aux.read_attitude(Path(attitude_file)),
                        gipp.read_gipp(Path(spamod_file), gipp.GIP_SPAMOD),
                        [gipp.read_gipp(Path(f), gipp.GIP_VIEDIR) for f in viedir_files])
