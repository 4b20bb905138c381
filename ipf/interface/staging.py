"""Output staging: each output is written in a hidden directory beside its destination and renamed
into place only when its task ends well."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["STAGING_PREFIX", "Staged"]

STAGING_PREFIX = ".ipf-partial-"


@dataclass(eq=False)
class Staged:
    """Where an output is written (``path``) and where it goes when complete (``final``)."""

    final: Path
    container: Path
    path: Path
    directory: bool
    was_empty_dir: bool = False
