"""The simulated scenes of the chain and batch tests, each made once per session.

The small scene of seed 3 is simulated once and run once through its L0, L1A, L1B and L1C Job
Orders; every chain test reads these products. ``ipf`` runs on one thread, so the scenes are made
in a background thread (one ``ipf`` or ``ipf-sim`` subprocess at a time) while the other tests run
on the second core: :class:`Scenes` starts what the collected tests need at the start of the
session, and a fixture asking for a scene waits for it (or makes it, when it was not started).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.helpers import run_job, simulate

__all__ = ["L1BScene", "L1CScene", "HTJ2KRun", "OLQCChecks", "OLQCRun", "Scenes", "SCENE_FIXTURES"]

LEVELS = ("L0", "L1A", "L1B")
FAULTS = ("--lost-packets", "0.08", "--crc-errors", "0.05", "--time-jumps", "0.1")


@dataclass(frozen=True)
class L1BScene:
    """The small scene of seed 3 after its L0, L1A and L1B Job Orders (``runs`` by level).

    ``sim`` is the working folder (the L1C products are added to it later); for the clean scene,
    ``input`` is a copy of the simulation before any run, ``after_l1b`` a copy of ``sim`` right
    after the L1B run."""

    sim: Path
    runs: dict[str, subprocess.CompletedProcess]
    input: Path | None = None
    after_l1b: Path | None = None


@dataclass(frozen=True)
class L1CScene:
    """An L1C Job Order ``job`` of a scene folder ``sim`` and its ``run``."""

    sim: Path
    job: Path
    run: subprocess.CompletedProcess


@dataclass(frozen=True)
class HTJ2KRun(L1CScene):
    """The HTJ2K FORMAT_IMG_L1C run; ``same_pixels``: for each JPEG 2000 file (relative to the
    IMG product) written by both runs, whether GDAL decodes both to the same array."""

    same_pixels: dict[Path, bool]


@dataclass(frozen=True)
class OLQCChecks:
    """Results of quality checks on copies of a SAFE product (:meth:`Scenes._olqc_checks`)."""

    unchanged: list
    edited_xml: list
    wrong_size: list


@dataclass(frozen=True)
class OLQCRun:
    """The OLQC Job Order ``run`` on ``product`` (a copy, its ``edited`` file if any), ``report``."""

    product: Path
    report: Path
    run: subprocess.CompletedProcess
    edited: Path | None = None


def _check_l1b(scene: L1BScene) -> None:
    for level, run in scene.runs.items():
        assert run.returncode == 0, (level, run.stdout[-3000:], run.stderr[-3000:])


def _l1c_job(sim: Path) -> Path:
    (job,) = sorted((sim / "joborders").glob("JobOrder_L1C_T*.xml"))
    return job


def _without_tci(src: Path) -> Path:
    """The L1C Job Order ``src`` without FORMAT_IMG_PVI_TCI and without the PDI_TILE_TCI input of
    FORMAT_METADATA_TILE_L1C, written next to it as ``JobOrder_L1C_SAFE.xml``."""
    from ipf.interface import joborder as jo

    job = jo.read(src)
    procs = []
    for p in job.procs:
        if p.task_name == "FORMAT_IMG_PVI_TCI":
            continue
        if p.task_name == "FORMAT_METADATA_TILE_L1C":
            p = p.model_copy(update={"inputs": tuple(i for i in p.inputs if i.file_type != "PDI_TILE_TCI")})
        procs.append(p)
    assert "FORMAT_METADATA_TILE_L1C" in [p.task_name for p in procs]
    return jo.write(job.model_copy(update={"procs": tuple(procs)}), src.with_name("JobOrder_L1C_SAFE.xml"))


class Scenes:
    """The session's scenes in ``root``, each made at most once, in one background thread."""

    def __init__(self, root: Path):
        self.root = root
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="scenes")
        self._futures: dict[str, Future] = {}
        self._lock = threading.RLock()
        self._env = dict(os.environ)  # not the environment a test changes while a scene is made
        self._steps = {"l1b": ((), self._l1b), "faulty": ((), self._faulty), "l1c": (("l1b",), self._l1c),
                       "l1c_again": (("l1b",), self._l1c_again), "img_again": (("l1c",), self._img_again),
                       "img_htj2k": (("l1c",), self._img_htj2k), "l1c_safe": (("l1b",), self._l1c_safe),
                       "olqc": (("l1c_safe",), self._olqc), "olqc_truncated": (("l1c_safe",), self._olqc_truncated),
                       "olqc_checks": (("l1c_safe",), self._olqc_checks)}

    def _run(self, job: Path, timeout: float = 900) -> subprocess.CompletedProcess:
        return run_job(job, timeout, env=self._env)

    def _simulate(self, out: Path, *args: str) -> Path:
        return simulate(out, *args, env=self._env)

    def _run_levels(self, sim: Path) -> dict[str, subprocess.CompletedProcess]:
        return {level: self._run(sim / "joborders" / f"JobOrder_{level}.xml", timeout=300) for level in LEVELS}

    def start(self, names: set[str]) -> None:
        """Start making the scenes ``names`` (and those they need), in a fixed order."""
        for name in self._steps:
            if name in names:
                self._submit(name)

    def get(self, name: str):
        """The scene ``name``, once made (an error of its making raised again)."""
        return self._submit(name).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, name: str) -> Future:
        with self._lock:
            if name not in self._futures:
                needs, make = self._steps[name]
                for n in needs:
                    self._submit(n)
                self._futures[name] = self._pool.submit(make)
            return self._futures[name]

    def _l1b(self) -> L1BScene:
        sim = self._simulate(self.root / "clean")
        pristine = self.root / "input"
        shutil.copytree(sim, pristine)
        runs = self._run_levels(sim)
        after = self.root / "after_l1b"
        shutil.copytree(sim, after)
        return L1BScene(sim, runs, pristine, after)

    def _l1c(self) -> L1CScene:
        l1b = self.get("l1b")
        _check_l1b(l1b)
        job = _l1c_job(l1b.sim)
        return L1CScene(l1b.sim, job, self._run(job))

    def _l1c_again(self) -> L1CScene:
        """The L1C Job Order run a second time, on another copy of the scene after L1B."""
        l1b = self.get("l1b")
        _check_l1b(l1b)
        sim = self.root / "l1c_again"
        shutil.copytree(l1b.after_l1b, sim)
        job = _l1c_job(sim)
        return L1CScene(sim, job, self._run(job))

    def _img_again(self) -> L1CScene:
        """FORMAT_IMG_L1C and FORMAT_IMG_PVI_TCI of the L1C Job Order run again, outputs in ``sim``."""
        from ipf.interface import joborder as jo

        job = self._l1c_done().job
        out = self.root / "img_again"
        out.mkdir()
        order = jo.read(job)
        procs = []
        for p in order.procs:
            if p.task_name.startswith("FORMAT_IMG"):
                outs = tuple(o.model_copy(update={"file_name": out / o.file_name.name}) for o in p.outputs)
                ins = tuple(i.model_copy(update={"file_names": tuple(job.parent / f for f in i.file_names)})
                            for i in p.inputs)
                procs.append(p.model_copy(update={"inputs": ins, "outputs": outs}))
        assert [p.task_name for p in procs] == ["FORMAT_IMG_L1C", "FORMAT_IMG_PVI_TCI"]
        again = jo.write(order.model_copy(update={"procs": tuple(procs)}), out / "JobOrder_IMG.xml")
        return L1CScene(out, again, self._run(again))

    def _img_htj2k(self) -> HTJ2KRun:
        """FORMAT_IMG_L1C of the L1C Job Order with GIP_JP2KPA asking for HTJ2K (RPCL), outputs in
        ``sim``; each file GDAL decodes to the pixels of the classic file or not (``same_pixels``)."""
        from ipf.interface import joborder as jo

        job = self._l1c_done().job
        out = self.root / "img_htj2k"
        out.mkdir()
        order = jo.read(job)
        (proc,) = [p for p in order.procs if p.task_name == "FORMAT_IMG_L1C"]
        inputs = []
        for i in proc.inputs:
            files = tuple(job.parent / f for f in i.file_names)
            if i.file_type == "GIP_JP2KPA":
                (src,) = files
                text = src.read_text().replace("<Progression_Order>LRCP</Progression_Order>",
                                               "<Progression_Order>RPCL</Progression_Order>")
                text = text.replace("<Bypass>true</Bypass>", "<Bypass>true</Bypass>\n    <Htj2k>true</Htj2k>")
                assert "<Htj2k>true</Htj2k>" in text and "RPCL" in text
                files = (out / src.name,)
                files[0].write_text(text)
            inputs.append(i.model_copy(update={"file_names": files}))
        outs = tuple(o.model_copy(update={"file_name": out / o.file_name.name}) for o in proc.outputs)
        proc = proc.model_copy(update={"inputs": tuple(inputs), "outputs": outs})
        ht = jo.write(order.model_copy(update={"procs": (proc,)}), out / "JobOrder_HT.xml")
        run = self._run(ht)
        same = {}
        if run.returncode == 0:
            from ipf.formats import jp2

            (img,) = (job.parent.parent / "products").glob("*_MSI_L1CIM_*")
            for f in sorted(img.rglob("*.jp2")):
                if (out / img.name / f.relative_to(img)).is_file():
                    same[f.relative_to(img)] = np.array_equal(jp2.read_jp2(out / img.name / f.relative_to(img)),
                                                              jp2.read_jp2(f))
        return HTJ2KRun(out, ht, run, same)

    def _l1c_done(self) -> L1CScene:
        l1c = self.get("l1c")
        assert l1c.run.returncode == 0, (l1c.run.stdout[-3000:], l1c.run.stderr[-3000:])
        return l1c

    def _l1c_safe(self) -> L1CScene:
        """The L1C Job Order without the true colour image, on a copy of the scene after L1B."""
        l1b = self.get("l1b")
        _check_l1b(l1b)
        sim = self.root / "l1c_safe"
        shutil.copytree(l1b.after_l1b, sim)
        job = _without_tci(_l1c_job(sim))
        return L1CScene(sim, job, self._run(job))

    def _olqc(self) -> OLQCRun:
        """The scene's OLQC Job Order on a copy of the SAFE product of ``l1c_safe``."""
        return self._run_olqc("olqc")

    def _olqc_truncated(self) -> OLQCRun:
        """The scene's OLQC Job Order on a copy of the SAFE product of ``l1c_safe`` whose B02
        JPEG 2000 file is cut to half its size."""

        def truncate(copy: Path) -> Path:
            (band,) = sorted(copy.glob("GRANULE/*/IMG_DATA/*_B02.jp2"))
            data = band.read_bytes()
            band.write_bytes(data[:len(data) // 2])
            return band

        return self._run_olqc("olqc_truncated", truncate)

    def _run_olqc(self, name: str, edit=None) -> OLQCRun:
        from ipf.interface import joborder as jo

        l1c = self.get("l1c_safe")
        (product,) = sorted((l1c.sim / "products").glob("*.SAFE"))
        tmp = self.root / name
        copy = tmp / product.name
        shutil.copytree(product, copy)
        edited = edit(copy) if edit else None
        (src,) = sorted((l1c.sim / "joborders").glob("JobOrder_OLQC_T*.xml"))
        job = jo.read(src)
        report = tmp / f"{copy.stem}_OLQC_REPORT.xml"
        (proc,) = job.procs
        proc = proc.model_copy(update={
            "inputs": tuple(i.model_copy(update={"file_names": (copy,)}) if i.file_type == "PDI_SAFE" else i
                            for i in proc.inputs),
            "outputs": tuple(o.model_copy(update={"file_name": report}) for o in proc.outputs)})
        path = jo.write(job.model_copy(update={"procs": (proc,)}), tmp / "JobOrder_OLQC.xml")
        return OLQCRun(copy, report, self._run(path), edited)

    def _olqc_checks(self) -> OLQCChecks:
        """The quality checks run in this process on copies of the SAFE product of ``l1c_safe``:
        METADATA_SCHEMA and JP2_INTEGRITY of an unchanged copy, METADATA_SCHEMA of that copy once
        the NROWS of its MTD_TL.xml is made text, JP2_INTEGRITY of a copy whose B05 file is a
        300 x 200 image."""
        from ipf.formats import gipp, jp2
        from ipf.quality.checks import run_checks

        def checks(*names: str) -> list:
            return [gipp.QualityCheck(name=n, level="L1C", threshold=0, unit="count", severity="FAILED",
                                      category="FORMAT_CORRECTNESS") for n in names]

        l1c = self.get("l1c_safe")
        (product,) = sorted((l1c.sim / "products").glob("*.SAFE"))
        copy = self.root / "olqc_checks" / product.name
        shutil.copytree(product, copy)
        unchanged = run_checks(copy, checks("METADATA_SCHEMA", "JP2_INTEGRITY"))
        (mtd,) = copy.glob("GRANULE/*/MTD_TL.xml")
        mtd.write_text(mtd.read_text().replace("<NROWS>10980</NROWS>", "<NROWS>ten</NROWS>", 1))
        edited = run_checks(copy, checks("METADATA_SCHEMA"))
        copy2 = self.root / "olqc_checks" / "second" / product.name
        shutil.copytree(product, copy2)
        (band,) = sorted(copy2.glob("GRANULE/*/IMG_DATA/*_B05.jp2"))
        info = jp2.jp2_info(band)
        params = gipp.GIP_JP2KPA(reversible=True, n_resolutions=2, codeblock_size=64, tile_size=256, n_layers=1,
                                 progression_order="LRCP")
        band.unlink()
        jp2.write_jp2(band, np.ones((300, 200), np.uint16), info.epsg, info.transform[2], info.transform[5], 20.0,
                      params)
        resized = run_checks(copy2, checks("JP2_INTEGRITY"))
        return OLQCChecks(unchanged, edited, resized)

    def _faulty(self) -> L1BScene:
        """The small scene of seed 3 with lost packets, CRC errors and time jumps, to L1B."""
        sim = self._simulate(self.root / "faulty", *FAULTS)
        return L1BScene(sim, self._run_levels(sim))


SCENE_FIXTURES = {"l1b_scene": "l1b", "faulty_scene": "faulty", "l1c_scene": "l1c", "l1c_again": "l1c_again",
                  "img_again": "img_again", "img_htj2k": "img_htj2k", "l1c_safe_scene": "l1c_safe",
                  "olqc_run": "olqc", "olqc_truncated": "olqc_truncated", "olqc_checks": "olqc_checks"}
