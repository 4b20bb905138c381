"""Instrument parameters drawn from a seed, held as the GIPP models the processors will read.

The simulator reads its parameters from the same pydantic models it writes as GIPP files, so
the GIPPs are the true instrument (only the attitude differs between the truth and the datastrip).

Geometry: the real S2A focal plane (:mod:`ipf.simulator.msi_focal_plane`) written as GS2
GIP_VIEDIR tables of the simulated detectors (whole, or the pixel windows of a reduced size), a
GS2 GIP_SPAMOD whose piloting -> MSI alignment is the real S2A one (:data:`PILOTING_TO_MSI_MRAD`)
and whose focal plane and detector rotations are zero as in the real file, and a descriptive
GIP_BLINDP (blind pixels are not in our L0 lines). Per-pixel radiometric GIPPs (GIP_R2EQOG,
GIP_R2DEPI) count L0 elements: a 60 m band's line holds 3 elements of 20 m per GIP_VIEDIR pixel
(GIP_R2BINN ``across``), binned in L1B.

Choices (per band): MTF at Nyquist 0.20-0.35; absolute gain such that DN 4095 is reached at a
band-specific reflectance ``RHO_SATURATION`` for cos(θs) = 0.6 at 1 AU (bright clouds and snow
saturate B01-B04); 8-25 electrons/DN (SNR ≈ 100-200 at mid-range) and 1.2-2 DN read noise;
relative gains ≈ 1 ± 3 % (detector offset, smooth profile, odd/even and random pixel terms); dark
signal 120-220 DN; about 0.2 % dead and 0.2 % hot pixels (at least one of each per detector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.formats import gipp, gipp_gs2
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.geometry.attitude import msi_to_piloting
from ipf.geometry.viewing import viewing_from_viedir_tables
from ipf.simulator.msi_focal_plane import N_PIXELS_10M, MsiFocalPlane, Window


__all__ = ["RHO_SATURATION", "ELECTRONS_PER_DN", "DARK_MARGIN_DN", "COUPLINGS", "PILOTING_TO_MSI_MRAD",
           "BLIND_PIXELS", "Instrument", "draw_instrument", "spacecraft_model", "blind_pixels"]

RHO_SATURATION = {"B01": 0.80, "B02": 0.78, "B03": 0.82, "B04": 0.88, "B05": 1.0, "B06": 1.1,
                  "B07": 1.1, "B08": 1.2, "B8A": 1.2, "B09": 1.0, "B10": 0.6, "B11": 1.0,
                  "B12": 1.0}
ELECTRONS_PER_DN = {"B01": 15, "B02": 22, "B03": 22, "B04": 22, "B05": 18, "B06": 18, "B07": 18,
                    "B08": 25, "B8A": 18, "B09": 10, "B10": 8, "B11": 14, "B12": 12}
DARK_MARGIN_DN = 250
COUPLINGS = (("B01", "B02", 0.004), ("B02", "B03", 0.003), ("B05", "B04", 0.006),
             ("B06", "B05", 0.004), ("B07", "B06", 0.004), ("B8A", "B08", 0.005),
             ("B08", "B8A", 0.003), ("B09", "B8A", 0.008), ("B10", "B09", 0.010),
             ("B11", "B12", 0.003), ("B12", "B11", 0.004))
PILOTING_TO_MSI_MRAD = (-0.0292, -0.9626, -0.0224)
"""GIP_SPAMOD PILOTING_TO_MSI_FRAME R1, R2, R3 (mrad about X, Y, Z) of the real S2A files."""
BLIND_PIXELS = {10: (16, 4), 20: (6, 4), 60: (6, 4)}
"""Valid and non-valid blind pixels on each side of a detector, per band resolution (real GIP_BLINDP)."""


@dataclass
class Instrument:
    """All GIPP models of one simulated instrument (keys: band name)."""

    focal_plane: MsiFocalPlane
    windows: dict[int, Window] | None
    detectors: tuple[int, ...]
    r2abca: gipp.GIP_R2ABCA
    r2eqog: dict[str, gipp.GIP_R2EQOG]
    r2dect: dict[str, gipp.GIP_R2DECT]
    r2dent: dict[str, gipp.GIP_R2DENT]
    r2depi: gipp.GIP_R2DEPI
    r2crco: gipp.GIP_R2CRCO
    r2binn: gipp.GIP_R2BINN
    viedir: dict[str, gipp_gs2.GIP_VIEDIR]
    spamod: gipp_gs2.GIP_SPAMOD
    blindp: gipp_gs2.GIP_BLINDP
    jp2kpa: gipp.GIP_JP2KPA
    olqcpa: gipp.GIP_OLQCPA

    def binning(self, band: str) -> int:
        """L0 elements per GIP_VIEDIR pixel across track (GIP_R2BINN ``across``)."""
        return next(b.across for b in self.r2binn.bands if b.band == band)

    def n_elements(self, band: str) -> int:
        """Elements of an L0 line of ``band`` (the same for every simulated detector)."""
        return self.viedir[band].detectors[0].n_pixels * self.binning(band)

    @property
    def viewing(self) -> dict:
        """{(band, detector): TableViewing} of the GIP_VIEDIR and GIP_SPAMOD models, MSI frame."""
        return viewing_from_viedir_tables(self.viedir.values(), self.spamod)

    @property
    def alignment(self) -> np.ndarray:
        """MSI -> piloting matrix (3, 3) of GIP_SPAMOD."""
        return msi_to_piloting(self.spamod)

    def absolute_gain(self, band: str) -> float:
        return next(b.absolute_gain for b in self.r2abca.bands if b.band == band)

    def defects(self, band: str, detector: int) -> tuple[dict[int, float], dict[int, float]]:
        """(dead {pixel: residual gain}, hot {pixel: extra dark DN}) of (band, detector)."""
        dead, hot = {}, {}
        for d in self.r2depi.pixels:
            if d.band == band and d.detector == detector:
                (dead if d.kind == "dead" else hot)[d.pixel] = d.value
        return dead, hot

    def couplings(self, band: str) -> list[tuple[str, float]]:
        """(source band, coefficient) of the crosstalk into ``band``."""
        return [(c.source, c.coefficient) for c in self.r2crco.couplings if c.target == band]

    def gipps(self) -> list[tuple[gipp.GippData, str]]:
        """(model, band code of the file name) of every Earth Explorer GIPP file to write."""
        out: list[tuple[gipp.GippData, str]] = [(self.r2abca, "B00"), (self.r2depi, "B00"),
                                                (self.r2crco, "B00"), (self.r2binn, "B00"),
                                                (self.jp2kpa, "B00"), (self.olqcpa, "B00")]
        for b in BANDS:
            for table in (self.r2eqog, self.r2dect, self.r2dent):
                if b.name in table:
                    out.append((table[b.name], b.name))
        return out

    def gs2_gipps(self) -> list[gipp_gs2.Gs2Model]:
        """The GS2 GIPP models to write: GIP_SPAMOD, GIP_BLINDP and one GIP_VIEDIR per band."""
        return [self.spamod, self.blindp] + [self.viedir[b.name] for b in BANDS if b.name in self.viedir]


def spacecraft_model(mission: str = "S2A") -> gipp_gs2.GIP_SPAMOD:
    """GIP_SPAMOD: the real S2A piloting -> MSI alignment (:data:`PILOTING_TO_MSI_MRAD`), zero
    MSI -> focal plane and focal plane -> detector rotations, the schema's default accuracies."""
    r1, r2, r3 = PILOTING_TO_MSI_MRAD
    return gipp_gs2.GIP_SPAMOD(header=gipp_gs2.Gs2Header(satellite=mission),
                               piloting_to_msi=gipp_gs2.RotationAndScale(r1=r1, r2=r2, r3=r3))


def blind_pixels(bands: tuple[str, ...], detectors: tuple[int, ...], mission: str = "S2A") -> gipp_gs2.GIP_BLINDP:
    """GIP_BLINDP of ``bands`` and ``detectors`` laid out as the real file: per side
    :data:`BLIND_PIXELS` valid then non-valid columns outward-in, around the whole detector's
    2552 (10 m) or 1276 (20 m elements, also for 60 m bands) active columns; normalisation 10."""
    out = []
    for b in bands:
        res = BY_NAME[b].resolution_m
        valid, bad = BLIND_PIXELS[res]
        side = valid + bad
        active = N_PIXELS_10M if res == 10 else N_PIXELS_10M // 2
        right = side + active
        dets = [gipp_gs2.BlindDetector(
            detector=d, normalization_coef=10.0,
            left=gipp_gs2.BlindSide(valid=list(range(valid)), non_valid=list(range(valid, side))),
            right=gipp_gs2.BlindSide(valid=list(range(right + bad, right + side)),
                                     non_valid=list(range(right, right + bad))))
            for d in detectors]
        out.append(gipp_gs2.BlindBand(band=b, blind_pixel_number=2 * side, detectors=dets))
    return gipp_gs2.GIP_BLINDP(header=gipp_gs2.Gs2Header(satellite=mission), bands=out)


def draw_instrument(rng: np.random.Generator, focal_plane: MsiFocalPlane, detectors: tuple[int, ...],
                    bands: tuple[str, ...] | None = None, windows: dict[int, Window] | None = None,
                    mission: str = "S2A") -> Instrument:
    """Draw the instrument parameters; per-pixel GIPPs only for ``bands`` (default: all 13),
    over the pixel ``windows`` of the detectors (None: whole detectors)."""
    bands = bands or tuple(b.name for b in BANDS)
    header = gipp_gs2.Gs2Header(satellite=mission)
    viedir = {b: focal_plane.viedir(b, detectors, windows, header=header) for b in bands}
    abca = gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(
        band=b.name, solar_irradiance=b.e0,
        absolute_gain=float((4095 - DARK_MARGIN_DN) / (RHO_SATURATION[b.name] * b.e0 * 0.6 / np.pi)))
        for b in BANDS])
    binn = gipp.GIP_R2BINN(bands=[gipp.Binning(band=b.name, element_pitch_across_m=20.0 if b.resolution_m == 60 else float(b.resolution_m),
                                               across=3 if b.resolution_m == 60 else 1, along=1) for b in BANDS])
    across = {b.band: b.across for b in binn.bands}
    eqog, dect, dent = {}, {}, {}
    defects = []
    for b in bands:
        n = viedir[b].detectors[0].n_pixels * across[b]
        p = np.arange(n)
        gains, darks = [], []
        for d in detectors:
            g = (rng.uniform(0.97, 1.03)
                 * (1 + 0.02 * np.sin(2 * np.pi * p / n * rng.uniform(0.5, 2) + rng.uniform(0, 2 * np.pi)))
                 * (1 + 0.003 * np.where(p % 2, 1, -1) * rng.uniform(0.5, 1))
                 * (1 + 0.004 * rng.standard_normal(n)))
            dk = rng.uniform(120, 220) + 2.0 * rng.standard_normal(n) + 1.5 * np.where(p % 2, 1, -1)
            gains.append(g)
            darks.append(dk)
            k = max(1, n // 500)
            pix = rng.choice(n, size=2 * k, replace=False)
            defects += [gipp.DefectivePixel(band=b, detector=d, pixel=int(q), kind="dead",
                                            value=float(rng.uniform(0, 0.05))) for q in sorted(pix[:k])]
            defects += [gipp.DefectivePixel(band=b, detector=d, pixel=int(q), kind="hot",
                                            value=float(rng.uniform(200, 1500))) for q in sorted(pix[k:])]
        eqog[b] = gipp.GIP_R2EQOG(band=b, detectors=list(detectors),
                                  relative_gain=np.array(gains, np.float32),
                                  dark_signal=np.array(darks, np.float32))
        dect[b] = gipp.GIP_R2DECT(band=b, mtf_nyquist_across=round(float(rng.uniform(0.22, 0.35)), 3),
                                  mtf_nyquist_along=round(float(rng.uniform(0.20, 0.32)), 3),
                                  deconvolution=BY_NAME[b].resolution_m == 10,
                                  target_mtf_nyquist=0.35, filter_half_size=3)
        dent[b] = gipp.GIP_R2DENT(band=b, electrons_per_dn=float(ELECTRONS_PER_DN[b]),
                                  read_noise_dn=round(float(rng.uniform(1.2, 2.0)), 3),
                                  # against the truth, denoising helps the low-texture B01 and
                                  # B10 (k = 1.5 is best) but removes more B09 texture than noise
                                  denoising=b in ("B01", "B10"), wavelet_levels=3,
                                  threshold_factor=1.5)
    crco = gipp.GIP_R2CRCO(couplings=[gipp.Coupling(target=t, source=s, coefficient=c) for t, s, c in COUPLINGS])
    jp2kpa = gipp.GIP_JP2KPA(reversible=True, n_resolutions=6, codeblock_size=64, tile_size=1024,
                             n_layers=1, progression_order="LRCP", bypass=True)
    olqcpa = gipp.GIP_OLQCPA(checks=[
        gipp.QualityCheck(name="MISSING_PACKETS", level="L0", threshold=0.01, unit="fraction", severity="FAILED"),
        gipp.QualityCheck(name="CRC_ERRORS", level="L0", threshold=0, unit="count", severity="WARNING"),
        gipp.QualityCheck(name="TIME_JUMPS", level="L0", threshold=0, unit="count", severity="WARNING"),
        gipp.QualityCheck(name="SATURATED_PIXELS", level="L1B", threshold=5.0, unit="percent", severity="WARNING"),
        gipp.QualityCheck(name="DEFECTIVE_PIXELS", level="L1B", threshold=1.0, unit="percent", severity="WARNING"),
        gipp.QualityCheck(name="METADATA_SCHEMA", level="L1C", threshold=0, unit="count", severity="FAILED",
                          category="FORMAT_CORRECTNESS"),
        gipp.QualityCheck(name="MANIFEST_CHECKSUMS", level="L1C", threshold=0, unit="count", severity="FAILED",
                          category="FORMAT_CORRECTNESS"),
        gipp.QualityCheck(name="JP2_INTEGRITY", level="L1C", threshold=0, unit="count", severity="FAILED",
                          category="FORMAT_CORRECTNESS"),
        gipp.QualityCheck(name="NODATA_PIXELS", level="L1C", threshold=99.5, unit="percent", severity="WARNING",
                          category="GENERAL_QUALITY"),
        gipp.QualityCheck(name="CLOUD_COVER", level="L1C", threshold=80.0, unit="percent", severity="WARNING",
                          category="GENERAL_QUALITY"),
        gipp.QualityCheck(name="GEOMETRIC_RESIDUAL", level="L1C", threshold=0.3, unit="pixel", severity="FAILED",
                          category="GEOMETRIC_QUALITY"),
        gipp.QualityCheck(name="SATURATED_PIXELS", level="L1C", threshold=5.0, unit="percent", severity="WARNING",
                          category="RADIOMETRIC_QUALITY"),
        gipp.QualityCheck(name="REFLECTANCE_MEAN", level="L1C", minimum=0.0, threshold=0.8, unit="reflectance",
                          severity="FAILED", category="RADIOMETRIC_QUALITY")])
    return Instrument(focal_plane, windows, detectors, abca, eqog, dect, dent,
                      gipp.GIP_R2DEPI(pixels=defects), crco, binn, viedir, spacecraft_model(mission),
                      blind_pixels(bands, detectors, mission), jp2kpa, olqcpa)
