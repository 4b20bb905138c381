"""Instrument parameters drawn from a seed, held as the GIPP models the processors will read.

The simulator reads its parameters from the same pydantic models it writes as GIPP files, so
the GIPPs are the true instrument (only the attitude differs between truth and AUX).

Choices (per band): MTF at Nyquist 0.20-0.35; absolute gain such that DN 4095 is reached at a
band-specific reflectance ``RHO_SATURATION`` for cos(θs) = 0.6 at 1 AU (bright clouds and snow
saturate B01-B04); 8-25 electrons/DN (SNR ≈ 100-200 at mid-range) and 1.2-2 DN read noise;
relative gains ≈ 1 ± 3 % (detector offset, smooth profile, odd/even and random pixel terms); dark
signal 120-220 DN; about 0.2 % dead and 0.2 % hot pixels (at least one of each per detector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipf.formats import gipp
from ipf.formats.msi_bands import BANDS, BY_NAME
from ipf.simulator.acquisition import TICKS_PER_S, line_ticks
from ipf.simulator.focal_plane import ALTITUDE_REF, FocalPlane


__all__ = ["RHO_SATURATION", "ELECTRONS_PER_DN", "DARK_MARGIN_DN", "COUPLINGS", "INSTRUMENT_TO_BODY",
           "Instrument", "draw_instrument"]

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
INSTRUMENT_TO_BODY = (float(np.sqrt(1 - 1.0e-4**2 - 5.0e-5**2 - 2.0e-4**2)), 1.0e-4, -5.0e-5, 2.0e-4)


@dataclass
class Instrument:
    """All GIPP models of one simulated instrument (keys: band name)."""

    focal_plane: FocalPlane
    detectors: tuple[int, ...]
    r2abca: gipp.GIP_R2ABCA
    r2eqog: dict[str, gipp.GIP_R2EQOG]
    r2dect: dict[str, gipp.GIP_R2DECT]
    r2dent: dict[str, gipp.GIP_R2DENT]
    r2depi: gipp.GIP_R2DEPI
    r2crco: gipp.GIP_R2CRCO
    r2binn: gipp.GIP_R2BINN
    viedir: dict[str, gipp.GIP_VIEDIR]
    spamod: gipp.GIP_SPAMOD
    jp2kpa: gipp.GIP_JP2KPA
    olqcpa: gipp.GIP_OLQCPA

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
        """(model, band code of the file name) of every GIPP file to write."""
        out: list[tuple[gipp.GippData, str]] = [(self.r2abca, "B00"), (self.r2depi, "B00"),
                                                (self.r2crco, "B00"), (self.r2binn, "B00"),
                                                (self.spamod, "B00"), (self.jp2kpa, "B00"),
                                                (self.olqcpa, "B00")]
        for b in BANDS:
            for table in (self.r2eqog, self.r2dect, self.r2dent, self.viedir):
                if b.name in table:
                    out.append((table[b.name], b.name))
        return out


def draw_instrument(rng: np.random.Generator, focal_plane: FocalPlane,
                    detectors: tuple[int, ...], bands: tuple[str, ...] | None = None) -> Instrument:
    """Draw the instrument parameters; per-pixel GIPPs only for ``bands`` (default: all 13)."""
    bands = bands or tuple(b.name for b in BANDS)
    abca = gipp.GIP_R2ABCA(bands=[gipp.AbsoluteCalibrationBand(
        band=b.name, solar_irradiance=b.e0,
        absolute_gain=float((4095 - DARK_MARGIN_DN) / (RHO_SATURATION[b.name] * b.e0 * 0.6 / np.pi)))
        for b in BANDS])
    eqog, dect, dent, viedir = {}, {}, {}, {}
    defects = []
    for b in bands:
        n = focal_plane.n_pixels(b)
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
        viedir[b] = gipp.GIP_VIEDIR(band=b, detectors=[
            gipp.ViewingDetector(detector=d, n_pixels=focal_plane.n_pixels(b),
                                 tan_psi_x=[float(c) for c in focal_plane.polynomials(b, d)[0]],
                                 tan_psi_y=[float(c) for c in focal_plane.polynomials(b, d)[1]])
            for d in detectors])
    crco = gipp.GIP_R2CRCO(couplings=[gipp.Coupling(target=t, source=s, coefficient=c) for t, s, c in COUPLINGS])
    binn = gipp.GIP_R2BINN(bands=[gipp.Binning(band=b.name, element_pitch_across_m=20.0 if b.resolution_m == 60 else float(b.resolution_m),
                                               across=3 if b.resolution_m == 60 else 1, along=1) for b in BANDS])
    spamod = gipp.GIP_SPAMOD(
        instrument_to_body=list(INSTRUMENT_TO_BODY),
        line_periods=[gipp.LinePeriod(resolution_m=r, period_s=line_ticks(r) / TICKS_PER_S) for r in (10, 20, 60)],
        n_detectors=12, pixels_per_detector_10m=focal_plane.n_pixels_10m, orbit_altitude_m=ALTITUDE_REF,
        ltdn_hours=10.5,
        datation="t(line) = t(first line of the packet block) + (line - first line) * period_s; "
                 "pixels of a line are simultaneous")
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
    return Instrument(focal_plane, detectors, abca, eqog, dect, dent,
                      gipp.GIP_R2DEPI(pixels=defects), crco, binn, viedir, spamod, jp2kpa, olqcpa)
