"""Level-0 processor tasks: decoding and consolidation of the instrument source packets.

FORMAT_ISP reads every granule of an L0 datastrip, checks the packets (CRC, sequence counters,
time against the datastrip's line clock) and consolidates, per detector and band, the compressed
image blocks, the datation of each line and a line-validity flag into an L0c image store
(:mod:`ipf.products.store`). Lost or corrupted packets become invalid lines and a warning, never
a crash or a silent hole; a block whose packet time jumped is re-dated from the line clock (its
lines stay valid) with a warning. FORMAT_METADATA_DS_L0C and FORMAT_METADATA_GR_L0C write the
datastrip and granule metadata with the packet quality.
"""

from __future__ import annotations

import hashlib
import json
import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import ccsds, l0
from ipf.products.datastrip import (LINE_VALID, PACKET_COUNTS, BlocksAttrs, BlockTableAttrs,
                                    DatastripInfo, LineTimeAttrs, LineValidAttrs, PacketQuality,
                                    has_image, read_datastrip, read_image, write_datastrip,
                                    write_image)
from ipf.products.datastrip import GranuleStatus
from ipf.products.footprint import (FootprintInputs, FootprintReport, GranuleFootprint, Polygon,
                                    read_footprint_report, write_footprint_report)
from ipf.products.store import ImageStore

__all__ = ["format_isp", "format_metadata_ds_l0c", "format_metadata_gr_l0c", "init_loc_l0"]


def format_isp(ctx: TaskContext) -> None:
    """FORMAT_ISP: PDI_DS + PDI_GR (L0 packets) -> PDI_DS (L0c store of blocks, times, flags)."""
    ds_dir = ctx.input("PDI_DS")
    ds = l0.read_datastrip(ds_dir)
    bands = {b.name: b for b in ds.bands}
    store = ImageStore(ctx.output("PDI_DS"))
    granules = sorted(((l0.read_granule(g), g) for g in ctx.inputs("PDI_GR")),
                      key=lambda x: (x[0].detector, x[0].index))
    if not granules:
        raise TaskError("no PDI_GR granule given")
    clocks = l0.line_clocks(ds)
    streams: dict[tuple[int, str], l0.BlockStream] = {}
    quality = []
    for n, (gr, folder) in enumerate(granules, 1):
        for bf in gr.band_files:
            info = bands[bf.band]
            s = streams.setdefault((gr.detector, bf.band), l0.BlockStream(
                info.lines, info.line_period_ticks / ds.ticks_per_second))
            path = l0.band_file(folder, bf.band)
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != bf.sha256:
                ctx.warn(f"{path.name}: checksum differs from the granule metadata")
            blocks, report = ccsds.decode_packets(data, clocks)
            for blk in blocks:
                s.add(blk)
            expected = np.zeros(info.lines, bool)
            expected[bf.first_line:bf.first_line + bf.lines] = True
            lost = int((expected & ~s.valid).sum())
            quality.append(PacketQuality(granule=gr.identifier, detector=gr.detector, band=bf.band,
                                         **report.as_dict(), invalid_lines=lost, lines=bf.lines))
            if not report.ok or lost:
                redated = len(report.time_jumps) - report.time_jumps_dropped
                ctx.warn(f"D{gr.detector:02d} {bf.band} granule {gr.identifier}: {report.as_dict()}; "
                         + (f"{len(report.annotation_errors)} annotations disagreeing with their "
                            "packet; " if report.annotation_errors else "")
                         + f"{lost} of {bf.lines} lines flagged invalid"
                         + (f"; {redated} time-jumped blocks re-dated from the datastrip line clock"
                            if redated else ""))
        ctx.progress(100.0 * n / len(granules), f"granule {gr.identifier}")
    for (det, band), s in sorted(streams.items()):
        info = bands[band]
        attrs = dict(band=band, detector=det, resolution=info.resolution, lines=info.lines,
                     pixels=info.pixels)
        write_image(store, s.payload, BlocksAttrs(**attrs))
        write_image(store, s.table, BlockTableAttrs(**attrs))
        write_image(store, s.time, LineTimeAttrs(**attrs))
        write_image(store, s.valid, LineValidAttrs(**attrs))
    write_datastrip(store, DatastripInfo.from_l0(ds, quality))
    store.flush()
    bad = sum(q.invalid_lines for q in quality)
    ctx.log.info(f"{len(streams)} detector/band streams from {len(granules)} granules; "
                 f"{bad} invalid lines")


def format_metadata_ds_l0c(ctx: TaskContext) -> None:
    """FORMAT_METADATA_DS_L0C: the L0c datastrip's packet quality summary as a report (JSON)."""
    info = read_datastrip(ctx.input("PDI_DS"))
    entry = info.entry()
    quality = info.quality
    summary = {
        "datastrip": info.identifier, "spacecraft": info.spacecraft,
        "sensing_start": entry["sensing_start"], "sensing_stop": entry["sensing_stop"],
        "packets": sum(q.n_packets for q in quality),
        **{k: sum(getattr(q, k) for q in quality)
           for k in ("crc_errors", "sequence_gaps", "lost_packets", "time_jumps",
                     "time_jumps_redated", "invalid_lines", "lines")},
        "per_granule_band": entry["quality"],
    }
    ctx.output("REPORT").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


def format_metadata_gr_l0c(ctx: TaskContext) -> None:
    """FORMAT_METADATA_GR_L0C: the metadata of each L0c granule as a report (JSON).

    Inputs: PDI_DS (L0c store of FORMAT_ISP), optionally REPORT (INIT_LOC_L0's footprint
    report). For every granule of the datastrip, by (detector, index): identifier, sensing
    start/stop (UTC, µs: first and last line of any band, from the datastrip's start ticks and
    line periods), per band the line range, the packet quality FORMAT_ISP found (CRC errors,
    sequence gaps and lost packets, time jumps re-dated or dropped) and the invalid lines of the
    L0c line-validity flags; a status (NOMINAL, DEGRADED when a line is invalid or a packet was
    faulty, MISSING when FORMAT_ISP was not given the granule, with a warning) and, with the
    footprint report, the granule footprint (lon/lat GeoJSON polygon and UTM ring).
    """
    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    ds = info.metadata
    footprints, source = _granule_footprints(ctx, ds.identifier)
    quality = {(q.granule, q.band): q for q in info.quality}
    granules = []
    for g in sorted(ds.granules, key=lambda g: (g.detector, g.index)):
        bands, received = {}, False
        for b in ds.bands:
            r = b.resolution // 10
            first, n = g.first_line_10m // r, g.lines_10m // r
            valid = (np.asarray(read_image(store, LINE_VALID, b.name, g.detector), bool)
                     [first:first + n] if has_image(store, LINE_VALID, b.name, g.detector)
                     else np.zeros(n, bool))
            q = quality.get((g.identifier, b.name))
            received |= q is not None
            bands[b.name] = {"first_line": first, "lines": n, "invalid_lines": int((~valid).sum()),
                             **{k: getattr(q, k) if q is not None else 0 for k in PACKET_COUNTS}}
        totals = {k: sum(v[k] for v in bands.values())
                  for k in ("lines", "invalid_lines", *PACKET_COUNTS)}
        faulty = any(totals[k] for k in ("invalid_lines", "crc_errors", "sequence_gaps",
                                         "time_jumps", "incomplete_groups"))
        status = (GranuleStatus.MISSING if not received else GranuleStatus.DEGRADED if faulty
                  else GranuleStatus.NOMINAL)
        if status is GranuleStatus.MISSING:
            ctx.warn(f"{g.identifier}: granule of the datastrip not in the L0c; all its lines "
                     "are invalid")
        start, stop = l0.granule_sensing(ds, g)
        granules.append({"granule": g.identifier, "detector": g.detector, "index": g.index,
                         "sensing_start": start.isoformat(), "sensing_stop": stop.isoformat(),
                         "status": status, **totals, "bands": bands,
                         **footprints.get(g.identifier, {})})
        if footprints and g.identifier not in footprints:
            ctx.warn(f"{g.identifier}: no footprint in {source}")
    report = {"datastrip": ds.identifier, "spacecraft": ds.spacecraft,
              "footprint_source": source, "granules": granules}
    ctx.output("REPORT").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    counts = {s.value: sum(g["status"] == s for g in granules) for s in GranuleStatus}
    ctx.log.info(f"metadata of {len(granules)} granules: {counts}")


def _granule_footprints(ctx: TaskContext, datastrip: str) -> tuple[dict[str, dict], str | None]:
    """{granule: {footprint, footprint_utm}} of the optional INIT_LOC_L0 REPORT input, and its
    file name; empty (with a warning) when it belongs to another datastrip."""
    files = ctx.inputs("REPORT")
    if not files:
        return {}, None
    if len(files) > 1:
        raise TaskError(f"expected at most one REPORT (footprint) input, the Job Order gives {len(files)}")
    report = read_footprint_report(files[0])
    if report.datastrip != datastrip:
        ctx.warn(f"{files[0].name}: footprints of datastrip {report.datastrip}, not "
                 f"{datastrip}; not used")
        return {}, None
    return {g.granule: g.model_dump(mode="json", include={"footprint", "footprint_utm"})
            for g in report.granules}, files[0].name


def init_loc_l0(ctx: TaskContext) -> None:
    """INIT_LOC_L0: footprints of the L0 granules and datastrip on the DEM (REPORT, JSON).

    Inputs: PDI_DS (L0 datastrip folder: reference time, line datation), PDI_GR (granule
    folders: detector, line range and pixels of each band), AUX_RESORB, AUX_SADATT, DEM (GeoTIFF
    of ellipsoidal heights in UTM), GIP_VIEDIR (one per band), GIP_SPAMOD. With the sensor model
    of :mod:`ipf.geometry`, the four outer corners of each granule (outer pixel edges of its first
    and last line) in the first 10 m band (else the first band) are located on the DEM; the
    granule footprint is that quadrilateral and the datastrip footprint the convex hull of every
    granule corner, as counter-clockwise closed lon/lat rings (GeoJSON polygons) and in UTM.
    """
    from ipf.formats.geotiff import read_dem
    from ipf.formats.sensor_model import read_sensor_model
    from ipf.geometry.direct import direct_location
    from ipf.geometry.footprint import closed_ring, convex_hull, counter_clockwise, image_corners
    from ipf.geometry.geodesy import geodesy

    ds_dir = ctx.input("PDI_DS")
    ds = l0.read_datastrip(ds_dir)
    granules = sorted(((l0.read_granule(g), g) for g in ctx.inputs("PDI_GR")),
                      key=lambda x: (x[0].detector, x[0].index))
    if not granules:
        raise TaskError("no PDI_GR granule given")
    orbit_file, attitude_file = ctx.input("AUX_RESORB"), ctx.input("AUX_SADATT")
    for path, expected in ((orbit_file, ds.orbit_file), (attitude_file, ds.attitude_file)):
        if path.name != expected:
            ctx.warn(f"{path.name}: the datastrip names {expected}")
    model = read_sensor_model(ds, orbit_file, attitude_file, ctx.input("GIP_SPAMOD"),
                              ctx.inputs("GIP_VIEDIR"))
    dem_file = ctx.input("DEM")
    dem = read_dem(dem_file)
    geo = geodesy(dem.epsg)
    band = next((b for b in ds.bands if b.resolution == 10), ds.bands[0])
    ctx.progress(0, f"sensor model of {ds.identifier}; footprints in {band.name} on {dem_file.name}")

    out_granules, corners_utm, outside = [], [], 0
    for k, (gr, folder) in enumerate(granules, 1):
        if gr.datastrip != ds.identifier:
            ctx.warn(f"{gr.identifier}: belongs to datastrip {gr.datastrip}, not {ds.identifier}")
        bf = next((f for f in gr.band_files if f.band == band.name), None)
        if bf is None:
            raise TaskError(f"{gr.identifier}: no {band.name} band file")
        if (band.name, gr.detector) not in model.viewing:
            raise TaskError(f"no GIP_VIEDIR viewing directions for {band.name} detector {gr.detector}")
        if model.n_pixels(band.name, gr.detector) != bf.pixels:
            raise TaskError(f"{gr.identifier} {band.name}: {bf.pixels} pixels, GIP_VIEDIR gives "
                            f"{model.n_pixels(band.name, gr.detector)}")
        lines, pixels = image_corners(bf.first_line, bf.first_line + bf.lines - 1, bf.pixels)
        if not model.covers(band.name, gr.detector, lines):
            raise TaskError(f"{gr.identifier}: AUX_RESORB / AUX_SADATT do not cover the granule's "
                            "sensing time")
        e, n, h = direct_location(model, geo, dem, band.name, gr.detector, lines, pixels)
        out = int((~dem.contains(e, n)).sum())
        if out:
            outside += out
            ctx.warn(f"{gr.identifier}: {out} footprint corners outside the DEM (border heights used)")
        utm = counter_clockwise(np.stack([e, n], 1))
        lon, lat = geo.from_utm(utm[:, 0], utm[:, 1])
        corners_utm.append(np.stack([e, n], 1))
        out_granules.append(GranuleFootprint(
            granule=gr.identifier, detector=gr.detector, index=gr.index, band=band.name,
            first_line=bf.first_line, lines=bf.lines, pixels=bf.pixels,
            footprint=Polygon(coordinates=[closed_ring(np.stack([lon, lat], 1), 8)]),
            footprint_utm=closed_ring(utm, 3),
            corner_heights_m=[round(float(v), 3) for v in h]))
        ctx.progress(100.0 * k / len(granules), f"granule {gr.identifier}")
    hull = convex_hull(np.concatenate(corners_utm))
    lon, lat = geo.from_utm(hull[:, 0], hull[:, 1])
    report = FootprintReport(
        datastrip=ds.identifier, spacecraft=ds.spacecraft,
        sensing_start=ds.sensing_start, sensing_stop=ds.sensing_stop,
        band=band.name, utm_epsg=dem.epsg,
        inputs=FootprintInputs(orbit=orbit_file.name, attitude=attitude_file.name, dem=dem_file.name),
        method="outer corners of each granule (pixel edges) located on the DEM with the "
               "AUX_RESORB (cubic Hermite) / AUX_SADATT (slerp) / GIP_SPAMOD / GIP_VIEDIR sensor model; "
               "datastrip footprint: convex hull of the granule corners",
        footprint=Polygon(coordinates=[closed_ring(np.stack([lon, lat], 1), 8)]),
        footprint_utm=closed_ring(hull, 3),
        corners_outside_dem=outside,
        granules=out_granules)
    write_footprint_report(ctx.output("REPORT"), report)
    ctx.log.info(f"footprints of {len(granules)} granules in {band.name}; datastrip footprint of "
                 f"{len(hull)} vertices")
