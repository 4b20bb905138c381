"""What the product models share: the store opener and the ISO time of the entries."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

from ipf.products.store import ImageStore

__all__ = ["IsoDatetime", "open_store"]

IsoDatetime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]
"""A time written as :meth:`datetime.isoformat` (``+00:00``, not pydantic's ``Z``)."""


def open_store(store: ImageStore | os.PathLike | str) -> ImageStore:
    """``store`` itself, or the ImageStore of directory ``store``."""
    return store if isinstance(store, ImageStore) else ImageStore(store)
