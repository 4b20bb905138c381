"""Job Orders of the processing chain for a simulated acquisition.

For a simulator output folder ``OUT`` (L0/DATASTRIP/, L0/GRANULE/, GIPP/, AUX/), writes one Job Order per processor in
``OUT/joborders/``, in the MMFI 1.8 dialect, chaining L0 -> L0c -> L1A -> L1B products in
``OUT/products/`` and reports in ``OUT/reports/`` (the L0 Job Order also locates the granule
footprints on the DEM: INIT_LOC_L0 -> ``reports/L0_FOOTPRINT_REPORT.json``, and makes the
quick-look geolocation and cloud mask: QL_GEO, QL_CLOUD_MASK -> ``reports/L0_QL_CLOUD_REPORT.json``,
and writes the L0c datastrip and granule metadata: FORMAT_METADATA_DS_L0C, FORMAT_METADATA_GR_L0C
-> ``reports/L0C_DS_REPORT.json``, ``reports/L0C_GR_REPORT.json``; the L1B Job Order writes the
radiometric product ``*_MSI_L1BRDS_*``, refines the geometry against the GRI with TP_COLLECT,
TP_FILTER and SPATIO (``*_MSI_TPCOL_*.json``, ``*_MSI_TPFIL_*.json``, ``*_MSI_GEOREF_*.json``) and
writes the final ``*_MSI_L1B_DS_*`` with GEO1B_FINALIZE; for each MGRS tile the footprint
reaches, ``JobOrder_L1C_T<tile>.xml`` makes the L1C tile and its SAFE product
``S2x_MSIL1C_*.SAFE`` and ``JobOrder_OLQC_T<tile>.xml`` checks it, with the OLQC report
``<SAFE name>_OLQC_REPORT.xml`` beside it). File names are
relative to ``joborders/`` (``ipf`` reads them relative to the Job Order), so the folder can be
moved and the same seed gives byte-identical Job Orders. Every task that builds a sensor model
(INIT_LOC_L0, QL_GEO, TP_COLLECT, SPATIO, TILE_INIT) gets the AUX_UT1UTC (its ``.HDR``), the DEM
where it locates on the ground (``DEM_SRTM``: the folder; ``DEM_GEOID``: the ENVI ``.HDR`` of the
geoid grid; docs/dem_gri.md), the GS2 GIP_VIEDIR of every band and GIP_SPAMOD; the orbit and
attitude come from the datastrip metadata::

    ipf OUT/joborders/JobOrder_L0.xml && ipf OUT/joborders/JobOrder_L1A.xml && ...
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ipf.interface import joborder as jo
from ipf.formats import l0, l0_metadata


__all__ = ["CHAIN", "L1B_GIPPS", "write_job_orders"]

CHAIN = ("L0", "L1A", "L1B", "L1C", "OLQC")
L1B_GIPPS = ("GIP_R2ABCA", "GIP_R2EQOG", "GIP_R2DECT", "GIP_R2DENT", "GIP_R2CRCO", "GIP_R2DEPI",
             "GIP_R2BINN")


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
    ds_dir = l0.find_datastrip(out / "L0")
    granules = l0.find_granules(out / "L0")
    ds = l0_metadata.read_datastrip_metadata(l0.datastrip_metadata_file(ds_dir))
    start, stop = ds.sensing_start, ds.sensing_stop
    products, reports = out / "products", out / "reports"
    l0c, l1a, l1b = (products / ds_dir.name.replace("_MSI_L0__DS_", f"_MSI_{lvl}DS_")
                     for lvl in ("L0C_", "L1A_", "L1B_"))
    ql_geo, ql_cloud = (products / ds_dir.name.replace("_MSI_L0__DS_", f"_MSI_{kind}_")
                        for kind in ("QLGEO", "QLCLD"))
    l1b_radio = products / ds_dir.name.replace("_MSI_L0__DS_", "_MSI_L1BRDS_")
    tie_points, homologs, refined = (products / (ds_dir.name.replace("_MSI_L0__DS_", f"_MSI_{kind}_")
                                                 + ".json") for kind in ("TPCOL", "TPFIL", "GEOREF"))
    gri = sorted((out / "AUX").glob("*_AUX_GRI[0-9][0-9][0-9]_*.TIF"))
    gipps = {t: sorted(p for p in (out / "GIPP").glob(f"*_{t}_*.*") if p.suffix in (".xml", ".HDR"))
             for t in L1B_GIPPS}
    viedir = sorted((out / "GIPP").glob("*_GIP_VIEDIR_*.xml"))
    spamod = sorted((out / "GIPP").glob("*_GIP_SPAMOD_*.xml"))
    ut1utc = sorted((out / "AUX").glob("*_AUX_UT1UTC_*.HDR"))
    dem = _dem(out / "AUX")
    jp2kpa = sorted((out / "GIPP").glob("*_GIP_JP2KPA_*.xml"))
    D = jo.FileNameType.DIRECTORY
    jobs = {
        "L0": _job("S2IPF_L0", start, stop, [
            _proc("FORMAT_ISP", [_input("PDI_DS", [ds_dir], D), _input("PDI_GR", granules, D)],
                  [_output("PDI_DS", l0c)]),
            _proc("INIT_LOC_L0", [_input("PDI_DS", [ds_dir], D), _input("PDI_GR", granules, D),
                                  _input("AUX_UT1UTC", ut1utc), *dem,
                                  _input("GIP_VIEDIR", viedir), _input("GIP_SPAMOD", spamod)],
                  [_output("REPORT", reports / "L0_FOOTPRINT_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("QL_GEO", [_input("PDI_DS", [l0c], D), _input("AUX_UT1UTC", ut1utc), *dem,
                             _input("GIP_VIEDIR", viedir), _input("GIP_SPAMOD", spamod)],
                  [_output("QL_GEO", ql_geo)]),
            _proc("QL_CLOUD_MASK", [_input("PDI_DS", [l0c], D), _input("QL_GEO", [ql_geo], D),
                                    _input("GIP_R2ABCA", gipps["GIP_R2ABCA"]),
                                    _input("GIP_R2EQOG", gipps["GIP_R2EQOG"]),
                                    _input("GIP_R2BINN", gipps["GIP_R2BINN"])],
                  [_output("QL_CLOUD_MASK", ql_cloud),
                   _output("REPORT", reports / "L0_QL_CLOUD_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("FORMAT_METADATA_DS_L0C", [_input("PDI_DS", [l0c], D)],
                  [_output("REPORT", reports / "L0C_DS_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("FORMAT_METADATA_GR_L0C", [_input("PDI_DS", [l0c], D),
                                             _input("REPORT", [reports / "L0_FOOTPRINT_REPORT.json"])],
                  [_output("REPORT", reports / "L0C_GR_REPORT.json", jo.FileNameType.PHYSICAL)]),
        ]),
        "L1A": _job("S2IPF_L1A", start, stop, [
            _proc("DECOMP", [_input("PDI_DS", [l0c], D)], [_output("PDI_DS", l1a)]),
        ]),
        "L1B": _job("S2IPF_L1B", start, stop, [
            _proc("RADIO_AB", [_input("PDI_DS", [l1a], D)]
                  + [_input(t, files) for t, files in gipps.items()], [_output("PDI_DS", l1b_radio)]),
            _proc("RADIO_FINALIZE", [_input("PDI_DS", [l1b_radio], D)],
                  [_output("REPORT", reports / "L1B_RADIOMETRY_REPORT.json",
                           jo.FileNameType.PHYSICAL)]),
            _proc("TP_COLLECT", [_input("PDI_DS", [l1b_radio], D), _input("GRI_ORBIT", gri),
                                 *dem] + _geometry(ut1utc, viedir, spamod),
                  [_output("TIE_POINTS", tie_points, jo.FileNameType.PHYSICAL)]),
            _proc("TP_FILTER", [_input("TIE_POINTS", [tie_points])],
                  [_output("HOMOLOG_POINTS_LIST", homologs, jo.FileNameType.PHYSICAL)]),
            _proc("SPATIO", [_input("PDI_DS", [l1b_radio], D), _input("HOMOLOG_POINTS_LIST", [homologs])]
                  + _geometry(ut1utc, viedir, spamod),
                  [_output("REFINED_MODEL", refined, jo.FileNameType.PHYSICAL)]),
            _proc("GEO1B_FINALIZE", [_input("PDI_DS", [l1b_radio], D), _input("REFINED_MODEL", [refined])],
                  [_output("PDI_DS", l1b)]),
        ]),
    }
    for tile in _tiles(out):
        stem = ds_dir.name.replace("_MSI_L0__DS_", "_MSI_{}_")
        grid, toa, clouds = (products / f"{stem.format(kind)}_T{tile}" for kind in ("L1CTG", "L1CTA", "L1CCL"))
        l1c = products / f"{stem.format('L1C_TL')}_T{tile}"
        geometry = dem + _geometry(ut1utc, viedir, spamod)
        jobs[f"L1C_T{tile}"] = _job("S2IPF_L1C", start, stop, [
            _proc("TILE_INIT", [_input("PDI_DS", [l1b], D)] + geometry, [_output("TILE_GRID", grid)]),
            _proc("GEN_ORTHO_TOA", [_input("PDI_DS", [l1b], D), _input("TILE_GRID", [grid], D)],
                  [_output("PDI_TILE_TOA", toa)]),
            _proc("MASK_S2", [_input("PDI_TILE_TOA", [toa], D)], [_output("MSK_CLOUDS", clouds)]),
            _proc("TILE_FINALIZE", [_input("PDI_TILE_TOA", [toa], D), _input("TILE_GRID", [grid], D),
                                    _input("MSK_CLOUDS", [clouds], D)],
                  [_output("PDI_TILE", l1c),
                   _output("REPORT", reports / f"L1C_T{tile}_REPORT.json", jo.FileNameType.PHYSICAL)]),
            _proc("FORMAT_IMG_L1C", [_input("PDI_TILE", [l1c], D), _input("GIP_JP2KPA", jp2kpa)],
                  [_output("PDI_TILE_IMG", products / f"{stem.format('L1CIM')}_T{tile}")]),
            _proc("FORMAT_IMG_PVI_TCI", [_input("PDI_TILE", [l1c], D), _input("GIP_JP2KPA", jp2kpa)],
                  [_output("PDI_TILE_TCI", products / f"{stem.format('L1CTC')}_T{tile}")]),
            _proc("FORMAT_METADATA_TILE_L1C", [_input("PDI_TILE", [l1c], D),
                                               _input("PDI_TILE_IMG", [products / f"{stem.format('L1CIM')}_T{tile}"], D),
                                               _input("PDI_TILE_TCI", [products / f"{stem.format('L1CTC')}_T{tile}"], D),
                                               _input("PDI_DS", [l1b], D)],
                  [_output("PRODUCT", products / _l1c_product_name(out, ds_dir, ds, tile))]),
        ]).model_copy(update={"dynamic_parameters": {"TILE_ID": tile}})
        safe_product = products / _l1c_product_name(out, ds_dir, ds, tile)
        jobs[f"OLQC_T{tile}"] = _job("S2IPF_OLQC", start, stop, [
            _proc("OLQC_TILE_L1C", [_input("PDI_SAFE", [safe_product], D),
                                    _input("GIP_OLQCPA", sorted((out / "GIPP").glob("*_GIP_OLQCPA_*.xml")))],
                  [_output("REPORT", products / f"{safe_product.stem}_OLQC_REPORT.xml", jo.FileNameType.PHYSICAL)]),
        ])
    folder = out / "joborders"
    folder.mkdir(exist_ok=True)
    return {name: jo.write(_relative(job, folder), folder / f"JobOrder_{name}.xml")
            for name, job in jobs.items()}


def _dem(aux: Path) -> list[jo.JobInput]:
    """The DEM inputs of the AUX folder: ``DEM_SRTM`` (its folders) and ``DEM_GEOID`` (the
    ``.HDR`` of its ENVI header + ``.gtx`` grid)."""
    return [_input("DEM_SRTM", sorted(p for p in aux.glob("*_DEM_SRTMFO_*") if p.is_dir()),
                   jo.FileNameType.DIRECTORY),
            _input("DEM_GEOID", sorted(aux.glob("*_DEM_GEOIDF_*.HDR")))]


def _geometry(ut1utc: list[Path], viedir: list[Path], spamod: list[Path]) -> list[jo.JobInput]:
    """The sensor model inputs besides the datastrip: Earth orientation, viewing directions,
    spacecraft model."""
    return [_input("AUX_UT1UTC", ut1utc), _input("GIP_VIEDIR", viedir), _input("GIP_SPAMOD", spamod)]


def _l1c_product_name(out: Path, ds_dir: Path, ds, tile: str) -> str:
    """The L1C SAFE name of ``tile`` (:func:`ipf.formats.safe.safe_name`): the datatake start is
    the datastrip sensing start, the relative orbit is derived from time and the footprint's
    latitude (:func:`ipf.formats.safe.absolute_orbit`), the discriminator (generation time) is
    the L0 datastrip's creation time, so the same seed gives the same name."""
    import json

    from ipf.formats import safe

    info = json.loads((out / "truth" / "truth.json").read_text())
    lat = _footprint_latlon(info)[0]
    mission = safe.mission_of(ds.spacecraft)
    start = ds.sensing_start.replace(tzinfo=None, microsecond=0)
    created = ds.creation.replace(tzinfo=None, microsecond=0)
    rel = safe.relative_orbit(mission, safe.absolute_orbit(mission, ds.sensing_start, lat))
    return safe.safe_name(mission, start, safe.PROCESSING_BASELINE, rel, tile, created)


def _footprint_latlon(info: dict) -> tuple[float, float]:
    """Centre (lat, lon) of the simulated footprint (truth/truth.json)."""
    import pyproj

    e0, n0, e1, n1 = info["footprint_utm"]
    lon, lat = pyproj.Transformer.from_crs(info["utm_epsg"], 4326, always_xy=True).transform(
        (e0 + e1) / 2, (n0 + n1) / 2)
    return float(lat), float(lon)


def _tiles(out: Path) -> list[str]:
    """MGRS tiles reached by the simulated footprint (truth/truth.json), by name."""
    import json

    import pyproj

    from ipf.geometry.tiles import tiles_covering

    info = json.loads((out / "truth" / "truth.json").read_text())
    e0, n0, e1, n1 = info["footprint_utm"]
    lon, lat = pyproj.Transformer.from_crs(info["utm_epsg"], 4326, always_xy=True).transform(
        [e0, e1, e1, e0], [n0, n0, n1, n1])
    return [t.name for t in tiles_covering(list(lon), list(lat))]


def _relative(job: jo.JobOrder, base: Path) -> jo.JobOrder:
    def rel(p: Path) -> Path:
        return Path(os.path.relpath(p, base))

    procs = tuple(p.model_copy(update={
        "inputs": tuple(i.model_copy(update={"file_names": tuple(map(rel, i.file_names))})
                        for i in p.inputs),
        "outputs": tuple(o.model_copy(update={"file_name": rel(o.file_name)}) for o in p.outputs)})
        for p in job.procs)
    return job.model_copy(update={"procs": procs})

