"""Mutated copies of the inputs in their real formats: files our writers make and the real files of
``../shared/real`` when present. Each case ends in a model or an InputError / FormatError naming
the file, never another exception, never a hang (:func:`tests.mutations.fuzz_reader`); the band
file decoder never raises at all. ``IPF_FUZZ_CASES`` sets the cases per reader (default 300)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ipf.formats import aux, ccsds, gipp, gipp_gs2, sad
from ipf.formats import l0_metadata as l0m
from tests.helpers import SHARED
from tests.l0_samples import sample_datastrip, sample_granule
from tests.mutations import fuzz_reader, mutate_bytes, mutate_lines, mutate_xml

REAL = SHARED / "real"
_MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "xml": mutate_xml, "bytes": mutate_bytes, "lines": mutate_lines}


@dataclass
class _Seed:
    """The files of one input (name -> (bytes, mutation kind, or None: left as is)); ``read``
    lists the names a case may be read by ("." for the folder)."""

    files: dict[str, tuple[bytes, str | None]]
    read: list[str]
    weight: int = 1
    folder: Path | None = None


def _seed_of(paths: list[Path], kinds: dict[str, str | None], read: list[str], weight: int = 1) -> _Seed:
    """Seed of existing files; ``kinds`` maps a suffix to its mutation kind."""
    return _Seed({p.name: (p.read_bytes(), kinds[p.suffix]) for p in paths}, read, weight)


def _real(pattern: str) -> list[Path]:
    return sorted(REAL.glob(pattern)) if REAL.is_dir() else []


def _cases(folder: Path, seeds: list[_Seed]) -> Callable[[random.Random], list[Path]]:
    """A case maker: one seed (by weight), one of its mutable files mutated, every file of the seed
    written into the seed's own folder; gives [path to read, files]."""
    for i, s in enumerate(seeds):
        s.folder = folder / f"seed{i}"
        s.folder.mkdir(parents=True)
        for name, (data, _) in s.files.items():
            (s.folder / name).write_bytes(data)

    def make(rng: random.Random) -> list[Path]:
        s = rng.choices(seeds, [x.weight for x in seeds])[0]
        mutable = [n for n, (_, kind) in s.files.items() if kind is not None]
        target = rng.choice(mutable)
        for name, (data, kind) in s.files.items():
            if kind is not None:
                (s.folder / name).write_bytes(_MUTATORS[kind](data, rng) if name == target else data)
        read = rng.choice(s.read)
        first = s.folder if read == "." else s.folder / read
        return [first, *(s.folder / n for n in s.files)]

    return make


# --------------------------------------------------------------------------- GS2 GIPPs
def _gs2_seeds(tmp: Path) -> list[_Seed]:
    g = gipp_gs2
    n = 5
    viedir = g.GIP_VIEDIR(band="B05", detectors=[
        g.ViewingDirections(detector=d, n_pixels=n, tan_psi_x=np.linspace(-0.1, -0.09, n) + 0.03 * d,
                            tan_psi_y=np.full(n, 0.01 * (-1) ** d)) for d in (1, 2)])
    tdi = g.GIP_VIEDIR(band="B03", tdi_config="LINE_A", detectors=viedir.detectors)
    star = g.StarTrackerQuaternion(vector=(0.1, 0.2, 0.3), scalar=0.9)
    spamod = g.GIP_SPAMOD(gse=g.Gse(offset_imu=-0.1, offset_str=0.0, star_trackers=(star, star, star),
                                    str_innov_thd=(0.01, 0.01, 0.01)))
    side = g.BlindSide(valid=[0, 1, 2], non_valid=[3])
    blindp = g.GIP_BLINDP(bands=[g.BlindBand(band=b, blind_pixel_number=4, detectors=[
        g.BlindDetector(detector=d, normalization_coef=10.0, left=side, right=side) for d in (1, 2)])
        for b in ("B01", "B8A")])
    seeds = []
    for i, model in enumerate((viedir, tdi, spamod, blindp)):
        path = g.write_gs2(model, tmp / f"ours{i}")
        seeds.append(_seed_of([path], {".xml": "xml"}, [path.name], weight=3))
    for path in _real("gipp/GIP_VIEDIR/*_B10.xml") + _real("gipp/GIP_SPAMOD/*.xml") + _real("gipp/GIP_BLINDP/*.DBL"):
        seeds.append(_seed_of([path], {".xml": "xml", ".DBL": "xml"}, [path.name]))
    hdr = _real("gipp/GIP_SPAMOD/*.HDR")
    if hdr:
        pair = [hdr[0], hdr[0].with_suffix(".DBL")]
        seeds.append(_seed_of(pair, {".HDR": "xml", ".DBL": "xml"}, [p.name for p in pair]))
    return seeds


def test_gs2_gipps_read_or_fail_clearly(tmp_path):
    fuzz_reader("GS2 GIPP", _cases(tmp_path / "cases", _gs2_seeds(tmp_path)), gipp_gs2.read_gs2)


# --------------------------------------------------------------------------- Earth Explorer GIPPs
def _ee_models() -> list[tuple[gipp.GippData, str]]:
    rows = np.array([[1.0, 1.01, 0.99, 1.0], [0.98, 1.0, 1.02, 1.0]], np.float32)
    return [
        (gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(band="B02", absolute_gain=3.5, solar_irradiance=1959.0)]),
         "B00"),
        (gipp.GIP_R2EQOG(band="B02", detectors=[5, 6], relative_gain=rows, dark_signal=rows * 10), "B02"),
        (gipp.GIP_R2DECT(band="B02", mtf_nyquist_across=0.3, mtf_nyquist_along=0.3, deconvolution=True,
                         target_mtf_nyquist=0.4, filter_half_size=3), "B02"),
        (gipp.GIP_R2DENT(band="B02", electrons_per_dn=3.0, read_noise_dn=1.5, denoising=True, wavelet_levels=3,
                         threshold_factor=1.0), "B02"),
        (gipp.GIP_R2DEPI(pixels=[gipp.DefectivePixel(band="B02", detector=5, pixel=7, kind="dead", value=0.1)]), "B00"),
        (gipp.GIP_R2CRCO(couplings=[gipp.Coupling(target="B01", source="B02", coefficient=0.001)]), "B00"),
        (gipp.GIP_R2BINN(bands=[gipp.Binning(band="B01", element_pitch_across_m=20.0, across=3, along=1)]), "B00"),
        (gipp.GIP_JP2KPA(reversible=True, n_resolutions=5, codeblock_size=64, tile_size=1024, n_layers=1,
                         progression_order="RPCL", bypass=True), "B00"),
        (gipp.GIP_OLQCPA(checks=[gipp.QualityCheck(name="lost_packets", level="L0", threshold=1.0, unit="%",
                                                   severity="WARNING", minimum=0.0, category="SENSOR_QUALITY")]),
         "B00"),
    ]


def _ee_seeds(tmp: Path) -> list[_Seed]:
    seeds = []
    for i, (model, band) in enumerate(_ee_models()):
        path = gipp.write_gipp(model, tmp / f"ours{i}", band=band)
        if path.suffix == ".HDR":
            pair = [path, path.with_suffix(".DBL")]
            seeds.append(_seed_of(pair, {".HDR": "xml", ".DBL": "xml"}, [p.name for p in pair], weight=3))
        else:
            seeds.append(_seed_of([path], {".xml": "xml"}, [path.name]))
    for hdr in _real("gipp/GIP_ATMIMA/*.HDR"):
        pair = [hdr, hdr.with_suffix(".DBL")]
        seeds.append(_seed_of(pair, {".HDR": "xml", ".DBL": "xml"}, [p.name for p in pair]))
    return seeds


def test_earth_explorer_gipps_read_or_fail_clearly(tmp_path):
    fuzz_reader("EE GIPP", _cases(tmp_path / "cases", _ee_seeds(tmp_path)), gipp.read_gipp)


# --------------------------------------------------------------------------- AUX_UT1UTC
def _ut1utc_seeds(tmp: Path) -> list[_Seed]:
    table = aux.EarthOrientationTable(
        mjd=np.array([59670, 59671, 59672, 59677, 59678], dtype=np.int64),
        x_p=np.array([0.04339, -0.00362, 0.04435, 0.049, 0.0505]),
        y_p=np.array([0.42686, 0.4289, 0.43106, 0.4418, 0.4434]),
        ut1_utc=np.array([-0.09952, -0.099793, 0.10001, -0.09846, -0.09786]), n_rapid=3, tai_utc=37.0)
    hdr = aux.write_ut1utc(tmp / "ours", table, datetime(2022, 4, 7), datetime(2022, 4, 8), datetime(2023, 4, 7))
    kinds = {".HDR": "xml", ".DBL": "lines", ".txt": "lines"}
    seeds = [_seed_of([hdr, hdr.with_suffix(".DBL")], kinds, [hdr.name, hdr.with_suffix(".DBL").name], weight=2)]
    for path in _real("aux/AUX_UT1UTC/*.txt"):
        seeds.append(_seed_of([path], kinds, [path.name]))
    for path in _real("aux/AUX_UT1UTC/*.HDR"):
        seeds.append(_seed_of([path, path.with_suffix(".DBL")], kinds, [path.name, path.with_suffix(".DBL").name]))
    return seeds


def test_ut1utc_reads_or_fails_clearly(tmp_path):
    fuzz_reader("AUX_UT1UTC", _cases(tmp_path / "cases", _ut1utc_seeds(tmp_path)), aux.read_ut1utc)


# --------------------------------------------------------------------------- DEM_GEOID
def _geoid_seeds(tmp: Path) -> list[_Seed]:
    values = (np.arange(24, dtype=np.float32).reshape(4, 6) - 10) * 1.5
    small = aux.GeoidGrid(values=values, lon0=-10.0, lat0=50.0, step_lon=0.25, step_lat=0.25)
    hdr = aux.write_geoid(tmp / "ours", "S2__OPER_DEM_GEOIDF_SIMU_20230101T000000_S20230101T000000", small)
    kinds = {".HDR": "lines", ".gtx": "bytes"}
    seeds = [_seed_of([hdr, hdr.with_suffix(".gtx")], kinds, [hdr.name, hdr.with_suffix(".gtx").name, "."], 3)]
    for path in _real("aux/DEM_GEOIDF/*.HDR"):
        grid = np.zeros((721, 1440), "<f4").tobytes()
        seeds.append(_Seed({path.name: (path.read_bytes(), "lines"), path.with_suffix(".gtx").name: (grid, None)},
                           [path.name]))
    return seeds


def test_geoid_reads_or_fails_clearly(tmp_path):
    fuzz_reader("DEM_GEOID", _cases(tmp_path / "cases", _geoid_seeds(tmp_path)), aux.read_geoid)


# --------------------------------------------------------------------------- L0 metadata
def _l0_read(path: Path):
    if "_DS_" in path.name:
        return l0m.read_datastrip_metadata(path)
    return l0m.read_granule_metadata(path)


def test_l0_metadata_reads_or_fails_clearly(tmp_path):
    ds = l0m.write_datastrip_metadata(tmp_path / "ds", sample_datastrip())
    gr = l0m.write_granule_metadata(tmp_path / "gr", sample_granule())
    seeds = [_seed_of([p], {".xml": "xml"}, [p.name]) for p in (ds, gr)]
    fuzz_reader("L0 metadata", _cases(tmp_path / "cases", seeds), _l0_read)


# --------------------------------------------------------------------------- SAD and band files
def _sad_bytes() -> bytes:
    t = np.datetime64("2023-03-20T10:48:30", "us") + np.arange(6) * np.timedelta64(1, "s")
    pos = np.array([[7.07e6, 1.0e3 * i, 1.0e2] for i in range(6)])
    q = np.tile([0.1, 0.2, 0.3, 0.927], (6, 1))
    return sad.encode_sad(sad.SadData(t, pos, pos / 1000, q))


def test_sad_reads_or_fails_clearly(tmp_path):
    seeds = [_Seed({"S2A_SAD.bin": (_sad_bytes(), "bytes")}, ["S2A_SAD.bin"], weight=2)]
    seeds += [_seed_of([p], {".bin": "bytes"}, [p.name]) for p in _real("l0/*/ANC_DATA/*.bin")]
    fuzz_reader("SAD", _cases(tmp_path / "cases", seeds), sad.read_sad)


_T0 = datetime(2023, 3, 20, 10, 48, 30, tzinfo=UTC)


def _band_file() -> bytes:
    """Records of detector 3 band B02: blocks of 4 lines, the second and third in several segments."""
    apid, records, seq = ccsds.apid_for(3, 1), [], 0
    for k, size in enumerate((40, 300, 150, 60)):
        coarse, fine = ccsds.cuc_from_datetime(_T0, ccsds.GPS_UTC_S)
        sec = ccsds.SecondaryHeader(coarse, fine + k * 400, 1, 3, 4 * k, 4, 8, ccsds.compression_status(3, 2))
        packets = ccsds.packetize(bytes(range(256))[:size % 256] * (size // 256 + 1), apid, seq, sec,
                                  max_user_data=128)
        seq += len(packets)
        records += [ccsds.annotate(p, _T0, ccsds.VCID_MSI[0]) for p in packets]
    return b"".join(records)


def _decode(path: Path):
    data = path.read_bytes()
    clocks = {ccsds.apid_for(3, 1): ccsds.LineClock(t0=(_T0 - ccsds.EPOCH).total_seconds(), period=0.0015)}
    blocks, report = ccsds.decode_packets(data, clocks, gps_utc_s=ccsds.GPS_UTC_S)
    ccsds.decode_packets(data, annotated=False, gps_utc_s=ccsds.GPS_UTC_S)
    report.as_dict()
    return blocks


def test_band_file_decoding_never_raises(tmp_path):
    seeds = [_Seed({"S2A_D03_B02.bin": (_band_file(), "bytes")}, ["S2A_D03_B02.bin"], weight=3),
             _Seed({"S2A_SAD.bin": (_sad_bytes(), "bytes")}, ["S2A_SAD.bin"])]
    seeds += [_seed_of([p], {".bin": "bytes"}, [p.name]) for p in _real("l0/*/ANC_DATA/*.bin")]
    fuzz_reader("band file", _cases(tmp_path / "cases", seeds), _decode, refused=())
