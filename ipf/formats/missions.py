"""The Sentinel-2 satellites the formats accept: mission codes (file names, GIPP ``SATELLITE``)
and spacecraft names (``SPACECRAFT_NAME``)."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Mission", "Spacecraft", "MISSIONS", "SPACECRAFTS", "MISSION_LETTERS"]

Mission = Literal["S2A", "S2B", "S2C", "S2D"]
"""A satellite's mission code."""
Spacecraft = Literal["Sentinel-2A", "Sentinel-2B", "Sentinel-2C", "Sentinel-2D"]
"""A satellite's spacecraft name (``Sentinel-2`` and the mission letter)."""
MISSIONS: tuple[str, ...] = get_args(Mission)
SPACECRAFTS: tuple[str, ...] = get_args(Spacecraft)
MISSION_LETTERS = "".join(m[-1] for m in MISSIONS)
"""The mission letters (``ABCD``), for the regular expressions of file names (``S2[ABCD]``)."""
