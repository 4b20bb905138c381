"""Output staging: each output is written in a hidden directory beside its destination and renamed
into place only when its task ends well.

An output ``<dir>/<name>`` is written at ``<dir>/.ipf-partial-<pid>-<name>/<name>``
(:attr:`Staged.path`); :meth:`Staging.commit` renames it to ``<dir>/<name>``, :meth:`Staging.discard`
deletes the hidden directory. When a run fails, :meth:`Staging.abandon` takes the outputs already
committed out of their places again (renames to ``.ipf-partial-<pid>-removed-<name>``, then
deletion) and removes the parent directories the run created, so the Job Order can be re-run as
it is.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ipf.interface import joborder as jo
from ipf.interface.errors import OutputError

__all__ = ["STAGING_PREFIX", "Staged", "Staging", "container_name"]

STAGING_PREFIX = ".ipf-partial-"


@dataclass(eq=False)
class Staged:
    """Where an output is written (``path``) and where it goes when complete (``final``)."""

    final: Path
    container: Path
    path: Path
    directory: bool
    was_empty_dir: bool = False


def container_name(final: Path) -> str:
    """The name of the hidden directory that stages ``final``."""
    return f"{STAGING_PREFIX}{os.getpid()}-{final.name}"


class Staging:
    """The outputs of one run: staged (being written), committed (in place), and the directories
    the run created for them; ``job_path`` is named in errors."""

    def __init__(self, job_path: Path, log):
        self.job_path = job_path
        self.log = log
        self.pending: list[Staged] = []
        self.committed: list[Staged] = []
        self.created_dirs: list[Path] = []

    def stage(self, outputs: Sequence[jo.JobOutput]) -> dict[str, Staged]:
        """The staging place of each output, by file type (outputs with one path share it);
        an :class:`OutputError` names the output that cannot be staged."""
        by_final: dict[Path, Staged] = {}
        staged: dict[str, Staged] = {}
        for out in outputs:
            final = out.file_name
            if final not in by_final:
                container = final.parent / container_name(final)
                try:
                    missing = [d for d in (final.parent, *final.parent.parents) if not d.exists()]
                    container.mkdir(parents=True)
                    self.created_dirs.extend(reversed(missing))
                    directory = out.file_name_type is jo.FileNameType.DIRECTORY
                    path = container / final.name
                    if directory:
                        path.mkdir()
                except OSError as exc:
                    self.discard(by_final.values())
                    shutil.rmtree(container, ignore_errors=True)
                    raise OutputError(f"cannot stage output {final}: {exc.strerror or exc}",
                                      source=self.job_path, element=f"{out.xpath}/File_Name") from None
                by_final[final] = Staged(final, container, path, directory)
                self.pending.append(by_final[final])
            staged[out.file_type] = by_final[final]
        return staged

    def commit(self, staged: dict[str, Staged]) -> None:
        """Rename each complete output into place; an output that appeared meanwhile is an error."""
        for s in dict.fromkeys(staged.values()):
            if not s.path.exists():
                self.discard([s])
                continue
            if s.final.is_dir() and not s.final.is_symlink():
                try:
                    s.final.rmdir()
                except OSError:
                    raise OutputError(f"output {s.final} was filled by another process during the "
                                      "run", source=self.job_path) from None
                s.was_empty_dir = True
            elif s.final.exists() or s.final.is_symlink():
                raise OutputError(f"output {s.final} was created by another process during the run",
                                  source=self.job_path)
            os.replace(s.path, s.final)
            s.container.rmdir()
            self.pending.remove(s)
            self.committed.append(s)

    def discard(self, staged: Iterable[Staged]) -> None:
        """Delete the staging directories of ``staged`` (outputs not committed)."""
        for s in list(dict.fromkeys(staged)):
            shutil.rmtree(s.container, ignore_errors=True)
            if s in self.pending:
                self.pending.remove(s)

    def move_aside(self) -> list[Path]:
        """Take every committed output out of its place, by renames only (fast, safe in a signal
        handler), so a run that fails never leaves them; returns the hidden paths to delete."""
        trash = []
        for s in reversed(self.committed):
            hidden = s.final.parent / f"{STAGING_PREFIX}{os.getpid()}-removed-{s.final.name}"
            try:
                os.replace(s.final, hidden)
                trash.append(hidden)
            except OSError:
                continue
            if s.was_empty_dir:
                s.final.mkdir(exist_ok=True)
        return trash

    def rollback(self) -> None:
        """Remove the committed outputs (each logged as a warning)."""
        committed, trash = list(self.committed), self.move_aside()
        self.committed.clear()
        for s in committed:
            self.log.warning(f"removed output {s.final}: the run did not complete")
        for path in trash:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def abandon(self) -> None:
        """The run failed: discard what is staged, roll back what is committed, and remove the
        directories created for the outputs when they are empty."""
        self.discard(self.pending)
        self.rollback()
        for d in reversed(self.created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
