"""JPEG 2000 images of the L1C product, georeferenced, written with glymur/OpenJPEG.

A file is a JP2 (ISO/IEC 15444-1 annex I) whose codestream OpenJPEG encodes tile by tile with
the GIP_JP2KPA parameters (reversible 5/3 wavelet when ``reversible``: lossless; tile size,
resolution levels, code-block size, quality layers, progression order) and one thread. The
boxes around it are written here::

    jP  | ftyp (jp2 ) | jp2h (ihdr, colr) | uuid GeoJP2 | asoc GMLJP2 | jp2c (codestream)

- ``colr``: enumerated colour space, sRGB (16) for 3-layer RGB images (TCI, PVI, written with the
  reversible colour transform), greyscale (17) otherwise.
- GeoJP2 (``uuid`` b14bf8bd-083d-4b43-a5ae-8cd7d5a6ce03): a 1 × 1 GeoTIFF carrying
  ModelPixelScale, ModelTiepoint (pixel (0, 0) at the upper-left corner, PixelIsArea) and the EPSG
  code (ProjectedCSTypeGeoKey, or GeographicTypeGeoKey for a geographic CRS) — GeoTIFF 1.0
  (OGC 19-008r4) keys.
- GMLJP2 v1 (OGC 05-047r3): ``asoc{lbl "gml.data", asoc{lbl "gml.root-instance", xml
  FeatureCollection/RectifiedGridCoverage}}``, origin at the centre of the first pixel and
  offset vectors ``(res, 0)``, ``(0, -res)``, ``srsName="urn:ogc:def:crs:EPSG::<epsg>"``: the
  layout of real L1C band files (see ``shared/reference/s2-l1c-product-format.md`` §4.1).

GDAL (JP2OpenJPEG driver, hence rasterio and QGIS) reads either box; by default it prefers
GeoJP2, and both carry the same grid. Samples are written with their dtype precision (16 bits
for uint16: the SATURATED value 65535 does not fit the 15 bits real products declare; 8 bits for
uint8, also for the 0/1 mask layers).

The image may be any :class:`TileSource` (a NumPy array, or :class:`Placed`: a window placed in
a zero tile, converted tile by tile), so a full 10 m tile with 8 mask layers never sits in memory.
The file is written under a hidden temporary name in the destination folder and renamed; its
bytes depend only on the pixels, the parameters and the OpenJPEG version.

Tiles are coded one at a time and assembled (:mod:`ipf.formats.j2k`), so that a layer constant
over a tile (the empty MSK_QUALIT layers, no data outside the footprint) is coded once and
reused; the codestream is byte for byte OpenJPEG's coding of the whole image.

HTJ2K (ISO/IEC 15444-15, GIP_JP2KPA ``htj2k``): OpenJPEG 2.5 decodes it but has no encoder
(uclouvain/openjpeg#1487); the High-Throughput block coder of OpenJPH, through ``imagecodecs``
(the optional dependency ``s2ipf[htj2k]``), codes the whole image at once: reversible or 9/7,
the tiling and resolution levels of the GIPP, one quality layer, 64 × 64 code-blocks and RPCL
progression (OpenJPH's; other GIPP values are refused), in a JPH file (``ftyp`` brand
``jph ``, Part 15 annex D) with the same georeferencing boxes. About 9 times faster to write
than the classic coder, 5-10 % larger; GDAL and glymur read it with OpenJPEG ≥ 2.5.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Protocol, Sequence

import numpy as np

from ipf.formats import gipp, j2k
from ipf.interface.errors import InputError
from ipf.interface.files import atomic_path, temporary_name

__all__ = ["GEOJP2_UUID", "Jp2Error", "TileSource", "Placed", "Jp2Info", "jp2_header", "geotiff_1x1",
           "geojp2_box", "gmljp2_box", "n_resolutions", "encoder_options", "write_jp2", "read_jp2",
           "jp2_info"]

GEOJP2_UUID = bytes.fromhex("b14bf8bd083d4b43a5ae8cd7d5a6ce03")
GREYSCALE, SRGB = 17, 16
"""``colr`` enumerated colour spaces (ISO/IEC 15444-1 table I.10)."""


class Jp2Error(InputError):
    """A JPEG 2000 image that cannot be written as asked (GIP_JP2KPA, image type or shape)."""


class TileSource(Protocol):
    """An image read by 2-D slices: ``source[rows, cols]`` -> ndarray (rows, cols[, layers])."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray: ...


@dataclass(frozen=True)
class Placed:
    """Window images placed at ``offset`` (row, col) in an image of ``size`` (rows, cols), read
    by slices: pixels outside the windows take ``fill``, then ``convert`` maps the slices of the
    sources (all of one window shape) to the output slice of ``dtype`` and ``layers`` layers (0: a
    2-D image; without ``convert``, the one source itself). Slices wholly outside the windows
    are made once per shape and returned read-only."""

    sources: Sequence[np.ndarray]
    offset: tuple[int, int]
    size: tuple[int, int]
    dtype: np.dtype
    layers: int = 0
    fill: int = 0
    convert: Callable[..., np.ndarray] | None = None
    shape: tuple[int, ...] = field(init=False)
    _blank: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self):
        shapes = {np.shape(s) for s in self.sources}
        if len(shapes) != 1:
            raise Jp2Error(f"placed sources differ in shape: {sorted(shapes)}")
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        object.__setattr__(self, "shape", tuple(self.size) + ((self.layers,) if self.layers else ()))

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        r0, r1, _ = rows.indices(self.size[0])
        c0, c1, _ = cols.indices(self.size[1])
        wr, wc = self.sources[0].shape[:2]
        orow, ocol = self.offset
        a0, a1 = max(r0, orow), min(r1, orow + wr)
        b0, b1 = max(c0, ocol), min(c1, ocol + wc)
        outside = not (a1 > a0 and b1 > b0)
        if outside and (r1 - r0, c1 - c0) in self._blank:
            return self._blank[r1 - r0, c1 - c0]
        parts = []
        for s in self.sources:
            part = np.full((r1 - r0, c1 - c0) + s.shape[2:], self.fill, s.dtype)
            if a1 > a0 and b1 > b0:
                part[a0 - r0:a1 - r0, b0 - c0:b1 - c0] = s[a0 - orow:a1 - orow, b0 - ocol:b1 - ocol]
            parts.append(part)
        out = np.asarray(self.convert(*parts) if self.convert else parts[0], self.dtype)
        if outside:
            out.flags.writeable = False
            self._blank[r1 - r0, c1 - c0] = out
        return out


class Jp2Info(NamedTuple):
    """What GDAL reads of a JP2: ``shape`` (rows, cols[, layers]), ``dtype``, ``epsg`` and the
    affine ``transform`` (a, b, c, d, e, f) of pixel corners (x = a·col + b·row + c, ...)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    epsg: int | None
    transform: tuple[float, float, float, float, float, float]


# --------------------------------------------------------------------------- boxes
def _box(kind: bytes, payload: bytes) -> bytes:
    """One JP2 box: LBox (32-bit length), TBox, payload (ISO/IEC 15444-1 I.4)."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _box_header(kind: bytes, payload_size: int) -> bytes:
    """Header of a box of ``payload_size`` bytes; XLBox (64-bit length) when it needs one."""
    if 8 + payload_size <= 0xFFFFFFFF:
        return struct.pack(">I4s", 8 + payload_size, kind)
    return struct.pack(">I4sQ", 1, kind, 16 + payload_size)


def jp2_header(rows: int, cols: int, layers: int, bits: int, colour: int, brand: bytes = b"jp2 ") -> bytes:
    """Signature, ``ftyp`` (``brand``: ``jp2 ``, or ``jph `` for an HTJ2K codestream) and ``jp2h``
    (``ihdr``: size, components, unsigned ``bits`` per sample, compression type 7; ``colr``:
    enumerated ``colour``)."""
    ihdr = struct.pack(">IIHBBBB", rows, cols, layers, bits - 1, 7, 0, 0)
    colr = struct.pack(">BBBI", 1, 0, 0, colour)
    return (_box(b"jP  ", b"\r\n\x87\n") + _box(b"ftyp", brand + struct.pack(">I", 0) + brand)
            + _box(b"jp2h", _box(b"ihdr", ihdr) + _box(b"colr", colr)))


def _is_geographic(epsg: int) -> bool:
    from pyproj import CRS

    return CRS.from_epsg(epsg).is_geographic


def geotiff_1x1(epsg: int, ulx: float, uly: float, resolution: float) -> bytes:
    """A degenerate (1 × 1 pixel, 8-bit) little-endian GeoTIFF with the grid of the image:
    ModelPixelScale (res, res, 0), ModelTiepoint (0, 0, 0, ulx, uly, 0), GeoKeyDirectory
    (model type, PixelIsArea, EPSG code) — the GeoJP2 payload after its UUID."""
    if not 0 < epsg < 32767:
        raise Jp2Error(f"EPSG code {epsg} does not fit a GeoTIFF key")
    geographic = _is_geographic(epsg)
    keys = [1, 1, 0, 3, 1024, 0, 1, 2 if geographic else 1, 1025, 0, 1, 1,
            2048 if geographic else 3072, 0, 1, epsg]
    scale = struct.pack("<3d", resolution, resolution, 0.0)
    tie = struct.pack("<6d", 0.0, 0.0, 0.0, ulx, uly, 0.0)
    geokeys = struct.pack(f"<{len(keys)}H", *keys)
    n_entries = 12
    data_at = 8 + 2 + 12 * n_entries + 4
    scale_at, tie_at = data_at, data_at + len(scale)
    keys_at = tie_at + len(tie)
    pixel_at = keys_at + len(geokeys)
    SHORT, LONG, DOUBLE = 3, 4, 12
    entries = [(256, SHORT, 1, 1), (257, SHORT, 1, 1), (258, SHORT, 1, 8), (259, SHORT, 1, 1),
               (262, SHORT, 1, 1), (273, LONG, 1, pixel_at), (277, SHORT, 1, 1), (278, SHORT, 1, 1),
               (279, LONG, 1, 1), (33550, DOUBLE, 3, scale_at), (33922, DOUBLE, 6, tie_at),
               (34735, SHORT, len(keys), keys_at)]
    assert len(entries) == n_entries
    ifd = struct.pack("<H", n_entries) + b"".join(
        struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == SHORT and count == 1
                                                 else struct.pack("<I", value))
        for tag, kind, count, value in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + scale + tie + geokeys + b"\x00"


def geojp2_box(epsg: int, ulx: float, uly: float, resolution: float) -> bytes:
    """The GeoJP2 ``uuid`` box."""
    return _box(b"uuid", GEOJP2_UUID + geotiff_1x1(epsg, ulx, uly, resolution))


def gmljp2_box(epsg: int, ulx: float, uly: float, resolution: float, rows: int, cols: int) -> bytes:
    """The GMLJP2 v1 ``asoc`` box: a RectifiedGridCoverage whose origin is the centre of the
    first pixel (ulx + res/2, uly − res/2), offset vectors (res, 0) and (0, −res), in the axis
    order (easting, northing) of the projected CRSs (UTM) of the tiles."""
    srs = f"urn:ogc:def:crs:EPSG::{epsg}"
    x0, y0 = ulx + resolution / 2, uly - resolution / 2
    gml = f"""<?xml version="1.0" encoding="UTF-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/gml http://schemas.opengis.net/gml/3.1.1/profiles/gmlJP2Profile/1.0.0/gmlJP2Profile.xsd">
  <gml:boundedBy><gml:Null>withheld</gml:Null></gml:boundedBy>
  <gml:featureMember>
    <gml:FeatureCollection>
      <gml:featureMember>
        <gml:RectifiedGridCoverage dimension="2" gml:id="RGC0001">
          <gml:rectifiedGridDomain>
            <gml:RectifiedGrid dimension="2">
              <gml:limits>
                <gml:GridEnvelope>
                  <gml:low>0 0</gml:low>
                  <gml:high>{cols - 1} {rows - 1}</gml:high>
                </gml:GridEnvelope>
              </gml:limits>
              <gml:axisName>x</gml:axisName>
              <gml:axisName>y</gml:axisName>
              <gml:origin>
                <gml:Point gml:id="P0001" srsName="{srs}">
                  <gml:pos>{x0!r} {y0!r}</gml:pos>
                </gml:Point>
              </gml:origin>
              <gml:offsetVector srsName="{srs}">{float(resolution)!r} 0</gml:offsetVector>
              <gml:offsetVector srsName="{srs}">0 {-float(resolution)!r}</gml:offsetVector>
            </gml:RectifiedGrid>
          </gml:rectifiedGridDomain>
          <gml:rangeSet>
            <gml:File>
              <gml:fileName>gmljp2://codestream/0</gml:fileName>
              <gml:fileStructure>Record Interleaved</gml:fileStructure>
            </gml:File>
          </gml:rangeSet>
        </gml:RectifiedGridCoverage>
      </gml:featureMember>
    </gml:FeatureCollection>
  </gml:featureMember>
</gml:FeatureCollection>
""".encode()
    inner = _box(b"asoc", _box(b"lbl ", b"gml.root-instance") + _box(b"xml ", gml))
    return _box(b"asoc", _box(b"lbl ", b"gml.data") + inner)


# --------------------------------------------------------------------------- encoding
def n_resolutions(wanted: int, tile_shape: tuple[int, int]) -> int:
    """Resolution levels actually used: at most ``wanted``, and the lowest level of a tile at
    least one pixel wide (2^(levels−1) ≤ the smaller tile side), as OpenJPEG requires."""
    return max(1, min(wanted, int(np.floor(np.log2(max(1, min(tile_shape))))) + 1))


def encoder_options(params: gipp.GIP_JP2KPA, shape: tuple[int, ...], rgb: bool) -> dict:
    """glymur encoder keywords for an image of ``shape`` from the GIP_JP2KPA parameters.

    Quality layers: ``n_layers`` with compression ratios 2^(n−1), …, 2, 1 (the last layer
    lossless when ``reversible``); one tile when the image fits in one; ``bypass``: code-block
    style 1 (arithmetic coding bypass)."""
    rows, cols = shape[:2]
    tile = (min(params.tile_size, rows), min(params.tile_size, cols))
    cb = params.codeblock_size
    if cb not in (4, 8, 16, 32, 64):
        raise Jp2Error(f"code-block size {cb}: JPEG 2000 allows a power of two from 4 to 64")
    options = dict(numres=n_resolutions(params.n_resolutions, tile), cbsize=(cb, cb),
                   prog=params.progression_order, irreversible=not params.reversible,
                   mct=rgb, plt=True)
    if params.bypass:
        options["modesw"] = 1
    if params.n_layers > 1:
        options["cratios"] = tuple(float(2 ** k) for k in range(params.n_layers - 1, -1, -1))
    if tile != (rows, cols):
        options["tilesize"] = tile
    return options


def _encode_codestream(path: Path, source: TileSource, options: dict) -> None:
    """Encode ``source`` into the raw codestream file ``path`` (``.j2k``), tile by tile in
    raster order, with one OpenJPEG thread: by :func:`_encode_standalone_tiles` when the tiles
    can be coded one at a time, else with OpenJPEG's own tile writer."""
    import glymur

    tile = options.get("tilesize") or tuple(source.shape[:2])
    before = glymur.get_option("lib.num_threads")
    glymur.set_option("lib.num_threads", 1)
    try:
        if ("cratios" not in options and options.get("plt")
                and j2k.tiles_are_standalone(tuple(source.shape[:2]), tile, options["numres"],
                                             options["cbsize"][0])):
            try:
                return _encode_standalone_tiles(path, source, options)
            except j2k.CodestreamError:
                pass  # an OpenJPEG whose tiles cannot be cut: its own tile writer, below
        if "tilesize" not in options:
            glymur.Jp2k(path, data=np.ascontiguousarray(source[0:source.shape[0], 0:source.shape[1]]),
                        **options)
        else:
            _encode_with_tile_writer(path, source, options)
    finally:
        glymur.set_option("lib.num_threads", before)


def _encode_with_tile_writer(path: Path, source: TileSource, options: dict) -> None:
    import glymur

    tile = options["tilesize"]
    rows, cols = source.shape[:2]
    writer = glymur.Jp2k(path, shape=tuple(source.shape), **options)
    n_cols = -(-cols // tile[1])
    for tw in writer.get_tilewriters():
        r, c = divmod(tw.tile_index, n_cols)
        try:
            data = np.asarray(source[r * tile[0]:(r + 1) * tile[0], c * tile[1]:(c + 1) * tile[1]])
        except BaseException:
            _release(tw)
            raise
        tw[:] = data


def _encode_standalone_tiles(path: Path, source: TileSource, options: dict) -> None:
    """Code each tile as an image of its own and assemble the codestream (:mod:`ipf.formats.j2k`,
    byte for byte what OpenJPEG writes for the whole image). A component constant over a tile is
    not coded again: its packets come from the coding of a constant tile of that size and value,
    kept for the next tiles (the no-data outside a footprint, the empty mask layers). With the
    colour transform the three components are coded together, and reused only when all three
    are constant."""
    import glymur

    rows, cols = source.shape[:2]
    layers = source.shape[2] if len(source.shape) == 3 else 1
    tile = options.get("tilesize") or (rows, cols)
    alone = {k: v for k, v in options.items() if k != "tilesize"}
    mct = bool(alone.pop("mct", False))
    prog, numres = alone["prog"], alone["numres"]
    scratch = path.with_name(path.name + ".tile")
    constant: dict[tuple, j2k.Tile] = {}

    def code(block: np.ndarray, colour: bool) -> j2k.Tile:
        glymur.Jp2k(scratch, data=np.ascontiguousarray(block), mct=colour, **alone)
        return j2k.read_tile(scratch.read_bytes())

    def code_constant(h: int, w: int, values: tuple) -> j2k.Tile:
        key = (h, w, values)
        if key not in constant:
            block = np.empty((h, w, len(values)), source.dtype)
            block[...] = np.asarray(values, source.dtype)
            constant[key] = code(block[..., 0] if len(values) == 1 else block, mct)
        return constant[key]

    header = None
    try:
        with open(path, "wb") as out:
            n_cols = -(-cols // tile[1])
            for index in range(-(-rows // tile[0]) * n_cols):
                r, c = divmod(index, n_cols)
                block = np.asarray(source[r * tile[0]:(r + 1) * tile[0], c * tile[1]:(c + 1) * tile[1]])
                h, w = block.shape[:2]
                planes = block.reshape(h, w, layers)
                lo, hi = planes.min(axis=(0, 1)), planes.max(axis=(0, 1))
                fixed = lo == hi
                if mct:
                    coded = code_constant(h, w, tuple(lo.tolist())) if fixed.all() else code(block, True)
                    parts = [(coded, k) for k in range(layers)]
                else:
                    varying = np.flatnonzero(~fixed)
                    coded = code(planes[..., varying[0]] if len(varying) == 1 else planes[..., varying],
                                 False) if len(varying) else None
                    parts = [(code_constant(h, w, (lo[k].item(),)), 0) if fixed[k]
                             else (coded, int(np.searchsorted(varying, k))) for k in range(layers)]
                for t, _ in parts:
                    if header is None:
                        header = t.header, t.rsiz
                        out.write(j2k.main_header(rows, cols, tile, np.dtype(source.dtype).itemsize * 8, layers, t))
                    elif (t.header, t.rsiz) != header:
                        raise j2k.CodestreamError(f"{path.name}: tile {index} coded with another main header")
                out.write(j2k.tile_part(index, j2k.merge_components(parts, prog, numres)))
            out.write(struct.pack(">H", j2k.EOC))
    finally:
        scratch.unlink(missing_ok=True)


def _encode_htj2k(path: Path, source: TileSource, options: dict, rgb: bool) -> None:
    """Encode ``source`` whole (it is read into memory at once) into the HTJ2K codestream file
    ``path`` with OpenJPH."""
    try:
        import imagecodecs
    except ImportError:
        imagecodecs = None
    if imagecodecs is None or not hasattr(imagecodecs, "htj2k_encode"):
        raise Jp2Error("HTJ2K asked for (GIP_JP2KPA htj2k), but its encoder is not installed: "
                       "pip install 's2ipf[htj2k]' (imagecodecs >= 2026.1.14, with OpenJPH)")
    if "cratios" in options:
        raise Jp2Error("HTJ2K codes one quality layer: set n_layers 1 in GIP_JP2KPA")
    if options["cbsize"] != (64, 64) or options["prog"] != "RPCL":
        raise Jp2Error(f"HTJ2K is written with 64 x 64 code-blocks and RPCL progression; GIP_JP2KPA asks "
                       f"{options['cbsize'][0]} and {options['prog']}")
    if options["numres"] < 2:
        raise Jp2Error(f"{path.name}: HTJ2K needs 2 resolution levels at least; the image "
                       f"{source.shape[0]} x {source.shape[1]} allows {options['numres']}")
    rows, cols = source.shape[:2]
    data = np.ascontiguousarray(source[0:rows, 0:cols])
    tile = options.get("tilesize")
    try:
        code = imagecodecs.htj2k_encode(data, reversible=not options["irreversible"],
                                        resolutions=options["numres"] - 1, rgb=rgb, planar=False,
                                        tile=None if tile is None else (tile[1], tile[0]))
    except (getattr(imagecodecs, "Htj2kError", RuntimeError), TypeError, ValueError) as exc:
        raise Jp2Error(f"{path.name}: HTJ2K encoder: {exc}") from None
    path.write_bytes(code)


def _release(tiles) -> None:
    """Free the OpenJPEG codec and close the stream of a tile-by-tile encoding whose source
    failed (glymur frees them itself when OpenJPEG fails)."""
    from glymur.lib import openjp2 as opj2

    for attr, destroy in (("stream", opj2.stream_destroy), ("image", opj2.image_destroy),
                          ("codec", opj2.destroy_codec)):
        handle = getattr(tiles, attr, None)
        if handle is not None:
            destroy(handle)
            setattr(tiles, attr, None)


def write_jp2(path: os.PathLike | str, array: TileSource, epsg: int, ulx: float, uly: float,
              resolution: float, params: gipp.GIP_JP2KPA, htj2k: bool = False, rgb: bool = False,
              geojp2: bool = True, gmljp2: bool = True) -> Path:
    """Write ``array`` (rows, cols) or (rows, cols, layers), uint8 or uint16, as the JP2 ``path``
    with the grid ``(ulx, res, 0, uly, 0, −res)`` (metres of ``epsg``; ulx/uly the outer
    corner of the first pixel) embedded as GeoJP2 and/or GMLJP2; ``rgb``: 3 layers R, G, B
    (sRGB, reversible colour transform). Returns ``path``."""
    path = Path(path)
    dtype = np.dtype(array.dtype)
    if dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise Jp2Error(f"{path.name}: JPEG 2000 images are uint8 or uint16, not {dtype}")
    if len(array.shape) not in (2, 3) or min(array.shape) < 1:
        raise Jp2Error(f"{path.name}: shape {array.shape} is not (rows, cols[, layers])")
    if rgb and (len(array.shape) != 3 or array.shape[2] != 3):
        raise Jp2Error(f"{path.name}: an RGB image has 3 layers, not shape {array.shape}")
    rows, cols = array.shape[:2]
    layers = array.shape[2] if len(array.shape) == 3 else 1
    options = encoder_options(params, array.shape, rgb)
    header = jp2_header(rows, cols, layers, dtype.itemsize * 8, SRGB if rgb else GREYSCALE,
                        brand=b"jph " if htj2k else b"jp2 ")
    if geojp2:
        header += geojp2_box(epsg, ulx, uly, resolution)
    if gmljp2:
        header += gmljp2_box(epsg, ulx, uly, resolution, rows, cols)
    stream = temporary_name(path, ".j2k")
    try:
        with atomic_path(path) as tmp:
            if htj2k:
                _encode_htj2k(stream, array, options, rgb)
            else:
                _encode_codestream(stream, array, options)
            size = stream.stat().st_size
            with open(stream, "rb") as src, open(tmp, "wb") as dst:
                dst.write(header + _box_header(b"jp2c", size))
                dst.flush()
                _copy(src, dst, size)
    finally:
        stream.unlink(missing_ok=True)
    return path


def _copy(src, dst, size: int) -> None:
    """Append ``size`` bytes of ``src`` to ``dst`` (in the kernel when it can)."""
    done = 0
    try:
        while done < size:
            n = os.sendfile(dst.fileno(), src.fileno(), done, size - done)
            if n == 0:
                break
            done += n
    except OSError:
        src.seek(done)
        dst.seek(0, os.SEEK_END)
        while chunk := src.read(1 << 24):
            dst.write(chunk)
        return
    if done != size:
        raise OSError(f"{src.name}: short copy ({done} of {size} bytes)")


# --------------------------------------------------------------------------- reading (checks)
def read_jp2(path: os.PathLike | str) -> np.ndarray:
    """The image of a JP2 as GDAL decodes it: (rows, cols) or (rows, cols, layers)."""
    import rasterio

    with rasterio.open(path) as ds:
        data = ds.read()
    return data[0] if data.shape[0] == 1 else np.moveaxis(data, 0, -1)


def jp2_info(path: os.PathLike | str, georef_sources: str | None = None) -> Jp2Info:
    """Size, type and georeferencing of a JP2 as GDAL reads it (``georef_sources``: GDAL's
    GEOREF_SOURCES open option, e.g. ``"GMLJP2"`` or ``"GEOJP2"`` to check one box)."""
    import rasterio

    options = {"GEOREF_SOURCES": georef_sources} if georef_sources else {}
    with rasterio.open(path, **options) as ds:
        shape = (ds.height, ds.width) + ((ds.count,) if ds.count > 1 else ())
        epsg = ds.crs.to_epsg() if ds.crs else None
        return Jp2Info(shape, np.dtype(ds.dtypes[0]), epsg, tuple(ds.transform)[:6])
