"""Job Orders of the processing chain for a simulated acquisition.

For a simulator output folder ``OUT`` (L0/, GIPP/, AUX/), writes one Job Order per processor in
``OUT/joborders/``, in the MMFI 1.8 dialect, chaining L0 -> L0c -> L1A -> L1B products in
``OUT/products/`` and reports in ``OUT/reports/`` (the L0 Job Order also locates the granule
footprints on the DEM: INIT_LOC_L0 -> ``reports/L0_FOOTPRINT_REPORT.json``, and makes the
quick-look geolocation and cloud mask: QL_GEO, QL_CLOUD_MASK -> ``reports/L0_QL_CLOUD_REPORT.json``). File names are
relative to ``joborders/`` (``ipf`` reads them relative to the Job Order), so the folder can be
moved and the same seed gives byte-identical Job Orders::

    ipf OUT/joborders/JobOrder_L0.xml && ipf OUT/joborders/JobOrder_L1A.xml && ...
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ipf import joborder as jo
from ipf.formats import l0

CHAIN = ("L0", "L1A", "L1B")
L1B_GIPPS = ("GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "GIP_R2CRCO", "GIP_R2DEPI",
             "GIP_R2BINN", "GIP_SPAMOD")


def _input(file_type: str, files: list[Path], kind=jo.FileNameType.PHYSICAL) -> jo.JobInput:
    return jo.JobInput(file_type=file_type, file_name_type=kind, file_names=tuple(files))


def _output(file_type: str, path: Path, kind=jo.FileNameType.DIRECTORY) -> jo.JobOutput:
    return jo.JobOutput(file_type=file_type, file_name_type=kind, file_name=path)


def _job(processor: str, start: datetime, stop: datetime, procs: list[jo.IpfProc]) -> jo.JobOrder:
    return jo.JobOrder(processor_name=processor, version="01.00", stdout_log_level="INFO",
                       stderr_log_level="WARNING", test=False, breakpoint_enable=False,
                       acquisition_station="SIMU", processing_station="S2IP",
                       sensing_time=jo.SensingTime(start=start, stop=stop), procs=tuple(procs))


def _proc(task: str, inputs: list[jo.JobInput], outputs: list[jo.JobOutput]) -> jo.IpfProc:
    return jo.IpfProc(task_name=task, task_version="01.00.00", inputs=tuple(inputs),
                      outputs=tuple(outputs))


def write_job_orders(out: Path) -> dict[str, Path]:
    """Write the Job Orders of :data:`CHAIN` for the simulation in ``out``; returns their paths."""
    out = Path(out).resolve()
    (ds_dir,) = sorted((out / "L0").glob("*_MSI_L0__DS_*"))
    granules = sorted((out / "L0").glob("*_MSI_L0__GR_*"))
    ds = l0.read_datastrip(ds_dir)
    start, stop = ds.sensing_start, ds.sensing_stop
    products, reports = out / "products", out / "reports"
    l0c, l1a, l1b = (products / ds_dir.name.replace("_MSI_L0__DS_", f"_MSI_{lvl}DS_")
                     for lvl in ("L0C_", "L1A_", "L1B_"))
    ql_geo, ql_cloud = (products / ds_dir.name.replace("_MSI_L0__DS_", f"_MSI_{kind}_")
                        for kind in ("QLGEO", "QLCLD"))
    gipps = {t: sorted(p for p in (out / "GIPP").glob(f"*_{t}_*.xml")) for t in L1B_GIPPS}
    viedir = sorted((out / "GIPP").glob("*_GIP_VIEDIR_*.xml"))
    dem = sorted((out / "AUX").glob("*_DEM_*.tif"))
    D = jo.FileNameType.DIRECTORY
    jobs = {
        "L0": _job("S2IPF_L0", start, stop, [
            _proc("FORMAT_ISP", [_input("PDI_DS", [ds_dir], D), _input("PDI_GR", granules, D)],
                  [_output("PDI_DS", l0c)]),
            _proc("INIT_LOC_L0", [_input("PDI_DS", [ds_dir], D), _input("PDI_GR", granules, D),
                                  _input("AUX_RESORB", [out / "AUX" / ds.orbit_file]),
                                  _input("AUX_SADATT", [out / "AUX" / ds.attitude_file]),
                                  _input("DEM", dem), _input("GIP_VIEDIR", viedir),
                                  _input("GIP_SPAMOD", gipps["GIP_SPAMOD"])],
                  [_output("REPORT", reports / "L0_FOOTPRINT_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("QL_GEO", [_input("PDI_DS", [l0c], D),
                             _input("AUX_RESORB", [out / "AUX" / ds.orbit_file]),
                             _input("AUX_SADATT", [out / "AUX" / ds.attitude_file]),
                             _input("DEM", dem), _input("GIP_VIEDIR", viedir),
                             _input("GIP_SPAMOD", gipps["GIP_SPAMOD"])],
                  [_output("QL_GEO", ql_geo)]),
            _proc("QL_CLOUD_MASK", [_input("PDI_DS", [l0c], D), _input("QL_GEO", [ql_geo], D),
                                    _input("GIP_R2ABCA", gipps["GIP_R2ABCA"]),
                                    _input("GIP_R2EQOG", gipps["GIP_R2EQOG"])],
                  [_output("QL_CLOUD_MASK", ql_cloud),
                   _output("REPORT", reports / "L0_QL_CLOUD_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("FORMAT_METADATA_DS_L0C", [_input("PDI_DS", [l0c], D)],
                  [_output("REPORT", reports / "L0C_DS_REPORT.json", jo.FileNameType.PHYSICAL)]),
        ]),
        "L1A": _job("S2IPF_L1A", start, stop, [
            _proc("DECOMP", [_input("PDI_DS", [l0c], D)], [_output("PDI_DS", l1a)]),
        ]),
        "L1B": _job("S2IPF_L1B", start, stop, [
            _proc("RADIO_AB", [_input("PDI_DS", [l1a], D)]
                  + [_input(t, files) for t, files in gipps.items()], [_output("PDI_DS", l1b)]),
            _proc("RADIO_FINALIZE", [_input("PDI_DS", [l1b], D)],
                  [_output("REPORT", reports / "L1B_RADIOMETRY_REPORT.json",
                           jo.FileNameType.PHYSICAL)]),
        ]),
    }
    folder = out / "joborders"
    folder.mkdir(exist_ok=True)
    return {name: jo.write(_relative(job, folder), folder / f"JobOrder_{name}.xml")
            for name, job in jobs.items()}


def _relative(job: jo.JobOrder, base: Path) -> jo.JobOrder:
    def rel(p: Path) -> Path:
        return Path(os.path.relpath(p, base))

    procs = tuple(p.model_copy(update={
        "inputs": tuple(i.model_copy(update={"file_names": tuple(map(rel, i.file_names))})
                        for i in p.inputs),
        "outputs": tuple(o.model_copy(update={"file_name": rel(o.file_name)}) for o in p.outputs)})
        for p in job.procs)
    return job.model_copy(update={"procs": procs})

