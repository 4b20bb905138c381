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

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.formats import ccsds, l0
from ipf.formats.l0_metadata import (Datastrip, Granule, granule_line_ranges, read_datastrip_metadata,
                                     read_granule_metadata)
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.products.datastrip import (LINE_VALID, PACKET_COUNTS, BandImage, BlocksAttrs, BlockTableAttrs,
                                    DatastripInfo, GranuleLines, LineTimeAttrs, LineValidAttrs,
                                    PacketQuality, has_image, read_datastrip, read_image,
                                    write_datastrip, write_image)
from ipf.products.datastrip import GranuleStatus
from ipf.products.footprint import (FootprintInputs, FootprintReport, GranuleFootprint, Polygon,
                                    read_footprint_report, write_footprint_report)
from ipf.products.store import ImageStore

__all__ = ["format_isp", "format_metadata_ds_l0c", "format_metadata_gr_l0c", "init_loc_l0"]


def _read_l0(ctx: TaskContext) -> tuple[Datastrip, Path, list[tuple[Granule, Path]]]:
    """The L0 datastrip metadata (PDI_DS), its file and the granules (PDI_GR) by (detector,
    position); a granule of another datastrip is a warning."""
    mtd = l0.datastrip_metadata_file(ctx.input("PDI_DS"))
    ds = read_datastrip_metadata(mtd)
    granules = sorted(((read_granule_metadata(l0.granule_metadata_file(g)), g) for g in ctx.inputs("PDI_GR")),
                      key=lambda x: (x[0].detector, x[0].position))
    if not granules:
        raise TaskError("no PDI_GR granule given")
    for gr, _ in granules:
        if gr.datastrip_id is not None and gr.datastrip_id != ds.datastrip_id:
            ctx.warn(f"{gr.granule_id}: belongs to datastrip {gr.datastrip_id}, not {ds.datastrip_id}")
    return ds, mtd, granules


def _granule_bands(gr: Granule) -> list[str]:
    """The bands of a granule (its packet counters), in band order."""
    return [BANDS[i].name for i in sorted({c.band for c in gr.packet_counters})]


def _lines_10m(ends: dict[str, int]) -> int:
    """The datastrip's 10 m lines: the last band line any packet carries ({band: end}), in 10 m
    lines, rounded up to a whole 60 m line."""
    n = max((l0.lines_10m(band, end) for band, end in ends.items()), default=0)
    return -(-n // 6) * 6


def _clamp_lines(granule: str, first: int, n: int, total: int,
                 warn: Callable[[str], None] | None = None) -> tuple[int, int]:
    """(first, count) of a granule's 10 m lines cut to the datastrip's ``total`` lines; a granule
    whose POSITION lies at or beyond them has no line (and is warned MISSING through ``warn``)."""
    if first >= total:
        if warn is not None:
            warn(f"{granule}: POSITION {first + 1} beyond the {total} lines (10 m) the packets carry; "
                 "granule MISSING")
        return total, 0
    return first, min(n, total - first)


def _granule_ranges(ds: Datastrip, total: int,
                    warn: Callable[[str], None] | None = None) -> dict[str, tuple[int, int, int]]:
    """{granule id: (detector, first 10 m line, 10 m lines)} of the datastrip's Granule_List
    (:func:`ipf.formats.l0_metadata.granule_line_ranges`), cut to ``total`` lines by
    :func:`_clamp_lines`."""
    return {gid: (det, *_clamp_lines(gid, first, n, total, warn))
            for det in sorted({g.detector for g in ds.granules})
            for gid, first, n in granule_line_ranges(ds, det, total)}


def format_isp(ctx: TaskContext) -> None:
    """FORMAT_ISP: PDI_DS + PDI_GR (L0 packets) -> PDI_DS (L0c store of blocks, times, flags).

    The packets of every granule band file are checked against the datastrip's line clocks
    (``Band_Time_Stamp``, ``LINE_PERIOD``, GPS - UTC of ``Auxiliary_Data_Info``); the line count,
    the pixels per line, the quantisation step and the wavelet levels come from the packets (their
    instrument ancillary data and compression status): the datastrip ends at the last line any
    packet carries, and the granules' line ranges follow from their ``POSITION``
    (:func:`ipf.formats.l0_metadata.granule_line_ranges`)."""
    ds, mtd, granules = _read_l0(ctx)
    clocks = l0.line_clocks(ds)
    stamped = {(BANDS[s.band].name, s.detector) for s in ds.time_stamp.stamps}
    blocks: dict[tuple[int, str], list[ccsds.Block]] = {}
    decoded: list[tuple[Granule, str, ccsds.DecodeReport]] = []
    for n, (gr, folder) in enumerate(granules, 1):
        for band in _granule_bands(gr):
            if (band, gr.detector) not in stamped:
                raise TaskError(f"{gr.granule_id}: no Band_Time_Stamp of {band} detector {gr.detector} "
                                f"in {mtd.name}")
            path = l0.band_file(folder, band)
            got, report = l0.decode_granule_band(path.read_bytes(), ds, clocks)
            expected = sum(c.packets for c in gr.packet_counters if BANDS[c.band].name == band)
            if report.n_packets != expected:
                ctx.warn(f"{path.name}: {report.n_packets} packets, the granule metadata gives {expected}")
            blocks.setdefault((gr.detector, band), []).extend(got)
            decoded.append((gr, band, report))
        ctx.progress(100.0 * n / len(granules), f"granule {gr.granule_id}")
    ends: dict[str, int] = {}
    for (_, band), got in blocks.items():
        ends[band] = max([ends.get(band, 0)] + [b.sec.first_line + b.sec.n_lines for b in got])
    total = _lines_10m(ends)
    if total == 0:
        raise TaskError("no image block could be read from the granules' packets")
    store = ImageStore(ctx.output("PDI_DS"))
    streams: dict[tuple[int, str], l0.BlockStream] = {}
    compression: dict[str, Counter] = {}
    for (det, band), got in sorted(blocks.items()):
        r = BY_NAME[band].resolution_m // 10
        pixels = Counter(b.sec.pixels for b in got).most_common(1)
        if not pixels:
            ctx.warn(f"D{det:02d} {band}: no block received; band left out")
            continue
        s = streams[det, band] = l0.BlockStream(total // r, clocks[ccsds.apid_for(det, BY_NAME[band].index)].period)
        for b in got:
            s.add(b)
        compression.setdefault(band, Counter()).update(b.sec.compression for b in got)
        attrs = dict(band=band, detector=det, resolution=BY_NAME[band].resolution_m, lines=total // r,
                     pixels=pixels[0][0])
        write_image(store, s.payload, BlocksAttrs(**attrs))
        write_image(store, s.table, BlockTableAttrs(**attrs))
        write_image(store, s.time, LineTimeAttrs(**attrs))
        write_image(store, s.valid, LineValidAttrs(**attrs))
    ranges = _granule_ranges(ds, total, ctx.warn)
    quality = []
    for gr, band, report in decoded:
        r = BY_NAME[band].resolution_m // 10
        if gr.granule_id in ranges:
            _, first, n = ranges[gr.granule_id]
        else:
            ctx.warn(f"{gr.granule_id}: not in the datastrip's Granule_List; its lines from its POSITION on")
            first, n = _clamp_lines(gr.granule_id, gr.position - 1, total - gr.position + 1, total,
                                    ctx.warn)
        s = streams.get((gr.detector, band))
        valid = s.valid[first // r:(first + n) // r] if s is not None else np.zeros(n // r, bool)
        lost = int((~valid).sum())
        quality.append(PacketQuality(granule=gr.granule_id, detector=gr.detector, band=band,
                                     **report.as_dict(), invalid_lines=lost, lines=n // r))
        if not report.ok or lost:
            redated = len(report.time_jumps) - report.time_jumps_dropped
            ctx.warn(f"D{gr.detector:02d} {band} granule {gr.granule_id}: {report.as_dict()}; "
                     + (f"{len(report.annotation_errors)} annotations disagreeing with their "
                        "packet; " if report.annotation_errors else "")
                     + f"{lost} of {n // r} lines flagged invalid"
                     + (f"; {redated} time-jumped blocks re-dated from the datastrip line clock"
                        if redated else ""))
    words = Counter(w for c in compression.values() for w in c.elements())
    info = DatastripInfo(
        identifier=ds.datastrip_id, spacecraft=ds.spacecraft, sensing_start=ds.sensing_start,
        sensing_stop=ds.sensing_stop, wavelet_levels=ccsds.compression_fields(words.most_common(1)[0][0])[1],
        bands=[BandImage(band=band, resolution=BY_NAME[band].resolution_m,
                         lines=total // (BY_NAME[band].resolution_m // 10),
                         quantisation_step=ccsds.compression_fields(compression[band].most_common(1)[0][0])[2])
               for band in sorted(compression, key=lambda b: BY_NAME[b].index)],
        granules=[GranuleLines(granule=gid, detector=det, first_line_10m=first, lines_10m=n)
                  for gid, (det, first, n) in sorted(ranges.items(), key=lambda x: (x[1][0], x[1][1]))],
        quality=quality, metadata_file=mtd.name)
    write_datastrip(store, info, mtd)
    store.flush()
    bad = sum(q.invalid_lines for q in quality)
    ctx.log.info(f"{len(streams)} detector/band streams of {total} lines (10 m) from {len(granules)} "
                 f"granules; {bad} invalid lines")


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
    report). For every granule of the datastrip, by (detector, first line): identifier, sensing
    start/stop (UTC, µs: first and last line of any band, from the datastrip's band time stamps
    and line period), per band the line range, the packet quality FORMAT_ISP found (CRC errors,
    sequence gaps and lost packets, time jumps re-dated or dropped) and the invalid lines of the
    L0c line-validity flags; a status (NOMINAL, DEGRADED when a line is invalid or a packet was
    faulty, MISSING when FORMAT_ISP was not given the granule, with a warning) and, with the
    footprint report, the granule footprint (lon/lat GeoJSON polygon and UTM ring).
    """
    store = ImageStore(ctx.input("PDI_DS"))
    info = read_datastrip(store)
    ds = info.metadata
    footprints, source = _granule_footprints(ctx, info.identifier)
    quality = {(q.granule, q.band): q for q in info.quality}
    granules, index = [], Counter()
    for g in info.granules:
        bands, received = {}, False
        for b in info.bands:
            r = b.resolution // 10
            first, n = g.first_line_10m // r, g.lines_10m // r
            valid = (np.asarray(read_image(store, LINE_VALID, b.band, g.detector), bool)
                     [first:first + n] if has_image(store, LINE_VALID, b.band, g.detector)
                     else np.zeros(n, bool))
            q = quality.get((g.granule, b.band))
            received |= q is not None
            bands[b.band] = {"first_line": first, "lines": n, "invalid_lines": int((~valid).sum()),
                             **{k: getattr(q, k) if q is not None else 0 for k in PACKET_COUNTS}}
        totals = {k: sum(v[k] for v in bands.values())
                  for k in ("lines", "invalid_lines", *PACKET_COUNTS)}
        faulty = any(totals[k] for k in ("invalid_lines", "crc_errors", "sequence_gaps",
                                         "time_jumps", "incomplete_groups"))
        status = (GranuleStatus.MISSING if not received or not g.lines_10m
                  else GranuleStatus.DEGRADED if faulty else GranuleStatus.NOMINAL)
        if status is GranuleStatus.MISSING:
            ctx.warn(f"{g.granule}: granule of the datastrip not in the L0c; all its lines "
                     "are invalid")
        start, stop = l0.granule_sensing(ds, g.detector, g.first_line_10m, g.lines_10m)
        granules.append({"granule": g.granule, "detector": g.detector,
                         "index": index[g.detector],
                         "sensing_start": start.isoformat(), "sensing_stop": stop.isoformat(),
                         "status": status, **totals, "bands": bands,
                         **footprints.get(g.granule, {})})
        index[g.detector] += 1
        if footprints and g.granule not in footprints:
            ctx.warn(f"{g.granule}: no footprint in {source}")
    report = {"datastrip": info.identifier, "spacecraft": info.spacecraft,
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

    Inputs: PDI_DS (L0 datastrip PDI: line datation, ephemeris, attitudes), PDI_GR (granule
    PDIs: detector, POSITION and band files), AUX_UT1UTC, DEM_SRTM + DEM_GEOID (heights above the
    geoid in UTM plus the geoid undulation: ellipsoidal heights), GIP_VIEDIR (one per band),
    GIP_SPAMOD. With the sensor model of
    :mod:`ipf.formats.sensor_model`, the four outer corners of each granule (outer pixel edges of
    its first and last line) in the first 10 m band (else the first band) are located on the DEM;
    the granule footprint is that quadrilateral and the datastrip footprint the convex hull of
    every granule corner, as counter-clockwise closed lon/lat rings (GeoJSON polygons) and in
    UTM. A granule's lines run from its POSITION to the next granule's, the last ones to the last
    line the packets of the detectors' last granules carry.
    """
    from ipf.formats.aux import select_ut1utc
    from ipf.formats.geotiff import read_dem
    from ipf.formats.sensor_model import read_sensor_model
    from ipf.geometry.direct import direct_location
    from ipf.geometry.footprint import closed_ring, convex_hull, counter_clockwise, image_corners
    from ipf.geometry.geodesy import geodesy

    ds, _, granules = _read_l0(ctx)
    ut1utc = select_ut1utc(ctx.inputs("AUX_UT1UTC"))
    model = read_sensor_model(ds, ut1utc, ctx.inputs("GIP_SPAMOD"), ctx.inputs("GIP_VIEDIR"))
    dem_file = ctx.input("DEM_SRTM")
    dem = read_dem(dem_file, ctx.input("DEM_GEOID"))
    geo = geodesy(dem.epsg)
    stamped = sorted({BANDS[s.band] for s in ds.time_stamp.stamps}, key=lambda b: b.index)
    band = next((b for b in stamped if b.resolution_m == 10), stamped[0])
    r = band.resolution_m // 10
    last = {gr.detector: (gr, folder) for gr, folder in granules}
    ends: dict[str, int] = {}
    for gr, folder in last.values():
        for b in _granule_bands(gr):
            ends[b] = max(ends.get(b, 0), l0.block_end(l0.band_file(folder, b).read_bytes()))
    total = _lines_10m(ends)
    ranges = _granule_ranges(ds, total)
    ctx.progress(0, f"sensor model of {ds.datastrip_id}; footprints in {band.name} on {dem_file.name}")

    out_granules, corners_utm, outside, index = [], [], 0, Counter()
    for k, (gr, folder) in enumerate(granules, 1):
        if band.name not in _granule_bands(gr):
            raise TaskError(f"{gr.granule_id}: no {band.name} band file")
        if (band.name, gr.detector) not in model.viewing:
            raise TaskError(f"no GIP_VIEDIR viewing directions for {band.name} detector {gr.detector}")
        first, n = (ranges[gr.granule_id][1:] if gr.granule_id in ranges
                    else _clamp_lines(gr.granule_id, gr.position - 1, total - gr.position + 1, total))
        first_line, lines, pixels = first // r, n // r, model.n_pixels(band.name, gr.detector)
        corner_lines, corner_pixels = image_corners(first_line, first_line + lines - 1, pixels)
        if not model.covers(band.name, gr.detector, corner_lines):
            raise TaskError(f"{gr.granule_id}: the datastrip's ephemeris / attitudes do not cover the "
                            "granule's sensing time")
        e, nn, h = direct_location(model, geo, dem, band.name, gr.detector, corner_lines, corner_pixels)
        out = int((~dem.contains(e, nn)).sum())
        if out:
            outside += out
            ctx.warn(f"{gr.granule_id}: {out} footprint corners outside the DEM (border heights used)")
        utm = counter_clockwise(np.stack([e, nn], 1))
        lon, lat = geo.from_utm(utm[:, 0], utm[:, 1])
        corners_utm.append(np.stack([e, nn], 1))
        out_granules.append(GranuleFootprint(
            granule=gr.granule_id, detector=gr.detector,
            index=index[gr.detector], band=band.name,
            first_line=first_line, lines=lines, pixels=pixels,
            footprint=Polygon(coordinates=[closed_ring(np.stack([lon, lat], 1), 8)]),
            footprint_utm=closed_ring(utm, 3),
            corner_heights_m=[round(float(v), 3) for v in h]))
        index[gr.detector] += 1
        ctx.progress(100.0 * k / len(granules), f"granule {gr.granule_id}")
    hull = convex_hull(np.concatenate(corners_utm))
    lon, lat = geo.from_utm(hull[:, 0], hull[:, 1])
    report = FootprintReport(
        datastrip=ds.datastrip_id, spacecraft=ds.spacecraft,
        sensing_start=ds.sensing_start, sensing_stop=ds.sensing_stop,
        band=band.name, utm_epsg=dem.epsg,
        inputs=FootprintInputs(ut1utc=ut1utc.name, dem=dem_file.name),
        method="outer corners of each granule (pixel edges) located on the DEM with the sensor model "
               "of the datastrip ephemeris (cubic Hermite) and attitudes (EME2000 -> ITRF by "
               "AUX_UT1UTC, slerp), GIP_SPAMOD and GIP_VIEDIR; datastrip footprint: convex hull of "
               "the granule corners",
        footprint=Polygon(coordinates=[closed_ring(np.stack([lon, lat], 1), 8)]),
        footprint_utm=closed_ring(hull, 3),
        corners_outside_dem=outside,
        granules=out_granules)
    write_footprint_report(ctx.output("REPORT"), report)
    ctx.log.info(f"footprints of {len(granules)} granules in {band.name}; datastrip footprint of "
                 f"{len(hull)} vertices")
