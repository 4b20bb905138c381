"""The OLQC checks of an L1C SAFE product, configured by GIP_OLQCPA.

Each check is a function ``(product, check, ...) -> list[CheckResult]`` over the product folder
and one :class:`~ipf.formats.gipp.QualityCheck` (its threshold, optional minimum, unit, severity
and category): a measured value above the threshold (or below the minimum) gives the check's
severity (WARNING or FAILED), otherwise PASSED; a check that cannot measure (file missing,
unreadable) gives FAILED with the reason. Checks never raise for a bad product.

============================  ===================================================================
check (GIP_OLQCPA name)       value
============================  ===================================================================
METADATA_SCHEMA               XML files (MTD_MSIL1C, MTD_TL, MTD_DS, manifest.safe) that do not
                              parse or validate against ``ipf/schemas/l1c``
MANIFEST_CHECKSUMS            files missing, unlisted, or whose size or SHA3-256 differs from
                              manifest.safe
JP2_INTEGRITY                 JPEG 2000 files that do not decode completely, or whose size, EPSG
                              code or upper-left corner differ from MTD_TL's geocoding
NODATA_PIXELS                 per band, % of the tile with the no-data value 0
SATURATED_PIXELS              per band, % of the valid pixels with the saturated value 65535
REFLECTANCE_MEAN              per band, mean TOA reflectance of the valid unsaturated pixels
CLOUD_COVER                   Cloud_Coverage_Assessment of MTD_MSIL1C, %
GEOMETRIC_RESIDUAL            RMS refining residual after refining (MTD_DS), pixel; WARNING when
                              the product was not refined
============================  ===================================================================
Checks are registered by name with :func:`register_check` (in the order they appear in the report,
whatever the order of the GIPP); :func:`run_checks` runs those the GIPP lists for level L1C.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ipf.formats import safe
from ipf.formats.gipp import QualityCheck
from ipf.interface.errors import FormatError, IpfError
from ipf.quality.report import CheckResult, Status

__all__ = ["CHECKS", "BandStatistics", "CheckFunction", "band_statistics", "cloud_cover", "failed",
           "geocoding", "geometric_residual", "jp2_integrity", "judge", "manifest_checksums", "metadata_files",
           "metadata_schema", "nodata_pixels", "per_band", "reflectance_mean", "register_check", "run_checks",
           "saturated_pixels"]

BAND_FILE = re.compile(r"_(B\d[0-9A])\.jp2$")


class BandStatistics:
    """The :func:`band_statistics` of a product's band images, by band: filled by the
    JP2_INTEGRITY check as it decodes each JPEG 2000 file, or on first use by a radiometric check
    when JP2_INTEGRITY is not configured."""

    def __init__(self, product: Path, integrity_configured: bool = False) -> None:
        self.product = product
        self.integrity_configured = integrity_configured
        self.by_band: dict[str, dict] = {}

    def get(self, check: QualityCheck) -> dict[str, dict]:
        """The statistics, decoding the granule's JPEG 2000 files first if nothing filled them."""
        if not self.by_band and not self.integrity_configured:
            jp2_integrity(self.product, check, self)
        return self.by_band


CheckFunction = Callable[[Path, QualityCheck, BandStatistics], list[CheckResult]]
"""A registered check: ``(product folder, configured check, band statistics) -> results``."""

CHECKS: dict[str, CheckFunction] = {}
"""Registered L1C checks by GIP_OLQCPA name, in report order."""


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator registering a check function under its GIP_OLQCPA ``name``; checks run (and are
    reported) in registration order."""
    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise ValueError(f"OLQC check {name} registered twice")
        CHECKS[name] = function
        return function
    return register


def judge(check: QualityCheck, value: float, item: str = "", message: str = "") -> CheckResult:
    """The result of a measured ``value`` against a QualityCheck's limits."""
    bad = value > check.threshold or (check.minimum is not None and value < check.minimum)
    return CheckResult(name=check.name, category=check.category or "GENERAL_QUALITY",
                       status=Status(check.severity) if bad else Status.PASSED, value=float(value),
                       minimum=check.minimum, threshold=check.threshold, unit=check.unit, item=item,
                       message=message)


def failed(check: QualityCheck, message: str, item: str = "") -> CheckResult:
    return CheckResult(name=check.name, category=check.category or "GENERAL_QUALITY", status=Status.FAILED,
                       threshold=check.threshold, minimum=check.minimum, unit=check.unit, item=item,
                       message=message)


def _one(product: Path, pattern: str) -> Path | None:
    found = sorted(product.glob(pattern))
    return found[0] if len(found) == 1 else None


def metadata_files(product: Path) -> dict[str, Path | None]:
    return {"MTD_MSIL1C": product / safe.PRODUCT_MTD if (product / safe.PRODUCT_MTD).exists() else None,
            "MTD_TL": _one(product, f"GRANULE/*/{safe.TILE_MTD}"),
            "MTD_DS": _one(product, f"DATASTRIP/*/{safe.DATASTRIP_MTD}"),
            "manifest": product / safe.MANIFEST if (product / safe.MANIFEST).exists() else None}


def _parse(path: Path):
    from ipf.interface import xmlio
    from ipf.interface.exitcodes import ExitCode

    return xmlio.parse(path, error=FormatError, code=ExitCode.XML_ERROR)


# --------------------------------------------------------------------------- format
@register_check("METADATA_SCHEMA")
def metadata_schema(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    from lxml import etree

    from ipf.interface import xmlio
    from ipf.interface.exitcodes import ExitCode

    problems = []
    for kind, path in metadata_files(product).items():
        if path is None:
            problems.append(f"{kind}: missing")
            continue
        try:
            tree = _parse(path)
            schema = safe.SCHEMAS.get(etree.QName(tree.getroot()).localname)
            if schema is None:
                problems.append(f"{path.name}: unknown root element")
                continue
            xmlio.validate(tree, schema, source=path, error=FormatError, code=ExitCode.XML_ERROR)
        except IpfError as exc:
            problems.append(str(exc))
    return [judge(check, len(problems), message="; ".join(problems) or "every metadata file is valid")]


@register_check("MANIFEST_CHECKSUMS")
def manifest_checksums(product: Path, check: QualityCheck,
                       stats: BandStatistics | None = None) -> list[CheckResult]:
    path = product / safe.MANIFEST
    if not path.exists():
        return [failed(check, "manifest.safe missing")]
    try:
        tree = _parse(path)
    except IpfError as exc:
        return [failed(check, str(exc))]
    listed: dict[str, tuple[int, str]] = {}
    for stream in tree.iter("{*}byteStream"):
        loc = stream.find("{*}fileLocation")
        digest = stream.find("{*}checksum")
        if loc is None or digest is None:
            continue
        listed[loc.get("href", "").removeprefix("./")] = (int(stream.get("size", -1)), (digest.text or "").strip().lower())
    problems = []
    for rel, (size, digest) in sorted(listed.items()):
        f = product / rel
        if not f.is_file():
            problems.append(f"{rel}: listed, missing")
            continue
        if f.stat().st_size != size:
            problems.append(f"{rel}: {f.stat().st_size} bytes, manifest says {size}")
            continue
        h = hashlib.sha3_256()
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        if h.hexdigest() != digest:
            problems.append(f"{rel}: SHA3-256 differs")
    present = {p.relative_to(product).as_posix() for p in product.rglob("*") if p.is_file()}
    problems += [f"{rel}: not in the manifest" for rel in sorted(present - set(listed) - {safe.MANIFEST})]
    return [judge(check, len(problems), message="; ".join(problems) or f"{len(listed)} files match")]


def geocoding(product: Path) -> dict[int, dict]:
    """{resolution: {"shape": (rows, cols), "ul": (x, y), "epsg": code}} from MTD_TL."""
    path = metadata_files(product)["MTD_TL"]
    tree = _parse(path)
    code = tree.findtext(".//{*}Tile_Geocoding/HORIZONTAL_CS_CODE") or tree.findtext(".//HORIZONTAL_CS_CODE")
    epsg = int(code.split(":")[-1])
    out = {}
    for size in tree.iter("Size"):
        out.setdefault(int(size.get("resolution")), {})["shape"] = (int(size.findtext("NROWS")),
                                                                     int(size.findtext("NCOLS")))
    for pos in tree.iter("Geoposition"):
        out.setdefault(int(pos.get("resolution")), {})["ul"] = (float(pos.findtext("ULX")), float(pos.findtext("ULY")))
    for v in out.values():
        v["epsg"] = epsg
    return out


def _expected_resolution(name: str) -> int | None:
    from ipf.formats.msi_bands import BY_NAME

    if name.endswith("_TCI.jp2"):
        return 10
    if name.startswith("MSK_CLASSI"):
        return 60
    mask = safe.parse_mask_file_name(name)
    m = None if mask else BAND_FILE.search(name)
    band = mask[1] if mask else (m.group(1) if m else None)
    if band is not None:
        return BY_NAME[band].resolution_m if band in BY_NAME else None
    return None


@register_check("JP2_INTEGRITY")
def jp2_integrity(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    """Decodes every JP2 of the granule, one at a time; the :func:`band_statistics` of each band
    image decoded go into ``stats.by_band`` for the radiometric checks."""
    from ipf.formats import jp2

    try:
        geo = geocoding(product)
    except (IpfError, AttributeError, TypeError, ValueError) as exc:
        return [failed(check, f"MTD_TL geocoding unreadable: {exc}")]
    files = sorted(product.glob("GRANULE/*/IMG_DATA/*.jp2")) + sorted(product.glob("GRANULE/*/QI_DATA/*.jp2"))
    if not files:
        return [failed(check, "no JPEG 2000 file in the granule")]
    problems = []
    for f in files:
        data = None  # the previous image is freed before the next is decoded
        try:
            info = jp2.jp2_info(f)
            data = jp2.read_jp2(f)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the finding
            problems.append(f"{f.name}: does not decode ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        res = _expected_resolution(f.name)
        if res is None or "_PVI" in f.name:
            continue
        g = geo.get(res)
        if g is None:
            problems.append(f"{f.name}: no {res} m geocoding in MTD_TL")
            continue
        if tuple(info.shape[:2]) != tuple(g["shape"]):
            problems.append(f"{f.name}: {info.shape[0]} x {info.shape[1]}, MTD_TL says {g['shape'][0]} x {g['shape'][1]}")
        if info.epsg != g["epsg"]:
            problems.append(f"{f.name}: EPSG {info.epsg}, MTD_TL says {g['epsg']}")
        t = info.transform
        if abs(t[2] - g["ul"][0]) > 1e-6 or abs(t[5] - g["ul"][1]) > 1e-6 or abs(t[0] - res) > 1e-9:
            problems.append(f"{f.name}: corner ({t[2]}, {t[5]}) at {t[0]} m, MTD_TL says {g['ul']} at {res} m")
        m = BAND_FILE.search(f.name)
        if stats is not None and m and "IMG_DATA" in f.parts:
            stats.by_band.update(band_statistics({m.group(1): data}))
    return [judge(check, len(problems), message="; ".join(problems) or f"{len(files)} JPEG 2000 files decode and match")]


# --------------------------------------------------------------------------- radiometry
def band_statistics(images: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per band: no-data %, saturated % of valid pixels, mean reflectance of valid pixels."""
    from ipf.radiometry import reflectance as r

    out = {}
    for band, dn in sorted(images.items()):
        nodata = int(np.count_nonzero(dn == r.NODATA_DN))
        saturated = int(np.count_nonzero(dn == r.SATURATED_DN))
        valid = dn.size - nodata
        good = valid - saturated
        mean_dn = float(dn.sum(dtype=np.float64) - saturated * float(r.SATURATED_DN)) / good if good else None
        out[band] = {"nodata_pct": 100.0 * nodata / dn.size,
                     "saturated_pct": 100.0 * saturated / valid if valid else 0.0,
                     "mean_reflectance": None if mean_dn is None else
                     (mean_dn + r.RADIO_ADD_OFFSET) / r.QUANTIFICATION_VALUE}
    return out


def per_band(check: QualityCheck, stats: dict[str, dict], key: str) -> list[CheckResult]:
    """One result per band of the statistic ``key`` (FAILED when no band image was read)."""
    if not stats:
        return [failed(check, "no band image could be read")]
    out = []
    for band, s in stats.items():
        if s[key] is None:
            out.append(failed(check, "no valid pixel", item=band))
        else:
            out.append(judge(check, s[key], item=band))
    return out


@register_check("NODATA_PIXELS")
def nodata_pixels(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    """Per band, % of the tile with the no-data value."""
    return per_band(check, (stats or BandStatistics(product)).get(check), "nodata_pct")


@register_check("SATURATED_PIXELS")
def saturated_pixels(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    """Per band, % of the valid pixels with the saturated value."""
    return per_band(check, (stats or BandStatistics(product)).get(check), "saturated_pct")


@register_check("REFLECTANCE_MEAN")
def reflectance_mean(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    """Per band, mean TOA reflectance of the valid unsaturated pixels."""
    return per_band(check, (stats or BandStatistics(product)).get(check), "mean_reflectance")


# --------------------------------------------------------------------------- metadata values
@register_check("CLOUD_COVER")
def cloud_cover(product: Path, check: QualityCheck, stats: BandStatistics | None = None) -> list[CheckResult]:
    try:
        text = _parse(product / safe.PRODUCT_MTD).findtext(".//Cloud_Coverage_Assessment")
        return [judge(check, float(text), message="Cloud_Coverage_Assessment of MTD_MSIL1C")]
    except (IpfError, TypeError, ValueError) as exc:
        return [failed(check, f"cloud cover unreadable: {exc}")]


@register_check("GEOMETRIC_RESIDUAL")
def geometric_residual(product: Path, check: QualityCheck,
                       stats: BandStatistics | None = None) -> list[CheckResult]:
    path = metadata_files(product)["MTD_DS"]
    if path is None:
        return [failed(check, "MTD_DS.xml missing")]
    try:
        tree = _parse(path)
    except IpfError as exc:
        return [failed(check, str(exc))]
    refining = next(tree.iter("Image_Refining"), None)
    if refining is None or refining.get("flag") != "REFINED":
        return [CheckResult(name=check.name, category=check.category or "GEOMETRIC_QUALITY", status=Status.WARNING,
                            threshold=check.threshold, unit=check.unit, message="the product was not refined")]
    rms = refining.findtext(".//Residuals_After/RMS")
    try:
        return [judge(check, float(rms), message="RMS tie-point residual after refining (MTD_DS)")]
    except (TypeError, ValueError):
        return [failed(check, "no residual after refining in MTD_DS")]


def run_checks(product: Path, checks: Iterable[QualityCheck]) -> list[CheckResult]:
    """Every configured L1C check on ``product``, in :data:`CHECKS` order; a name that is not
    registered gives a FAILED result naming the known checks (after the others, by name)."""
    by_name = {c.name: c for c in checks if c.level == "L1C"}
    stats = BandStatistics(product, integrity_configured="JP2_INTEGRITY" in by_name)
    results: list[CheckResult] = []
    for name in [n for n in CHECKS if n in by_name]:
        results += CHECKS[name](product, by_name[name], stats)
    for name in sorted(set(by_name) - set(CHECKS)):
        results.append(failed(by_name[name], f"no such L1C check in this OLQC: {name} "
                                             f"(known: {', '.join(CHECKS)})"))
    return results
