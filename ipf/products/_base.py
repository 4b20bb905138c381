"""What the product models share: the store opener, the ISO time of the entries, the reading of
an ``index.json`` value or a JSON product as a model, and the writing of a JSON product."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, PlainSerializer, ValidationError

from ipf.interface.errors import FormatError, InputError
from ipf.products.store import ImageStore

__all__ = ["IsoDatetime", "open_store", "index_value", "read_json", "write_json"]

IsoDatetime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]
"""A time written as :meth:`datetime.isoformat` (``+00:00``, not pydantic's ``Z``)."""

_M = TypeVar("_M", bound=BaseModel)


def open_store(store: ImageStore | os.PathLike | str) -> ImageStore:
    """``store`` itself, or the ImageStore of directory ``store``."""
    return store if isinstance(store, ImageStore) else ImageStore(store)


def index_value(store: ImageStore, key: str, model: type[_M], *, missing: str, invalid: str) -> _M:
    """The ``index.json`` value ``key`` of ``store`` (an entry or an image's attributes) as
    ``model``: :class:`~ipf.interface.errors.InputError` ``missing`` when the store lacks it,
    :class:`~ipf.interface.errors.FormatError` ``invalid: <first error>`` when it does not fit;
    both name the index and the key."""
    index = store.root / "index.json"
    value = store.index.get(key)
    if value is None:
        raise InputError(missing, source=index, element=key)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise FormatError(f"{invalid}: {str(exc).splitlines()[0]}", source=index, element=key) from None


def read_json(path: os.PathLike | str, model: type[_M], what: str) -> _M:
    """The JSON product ``path`` as ``model``; FormatError ``not <what> (<field>: <error>)``
    naming the file when it cannot be read or does not fit (``what`` with its article)."""
    try:
        return model.model_validate_json(Path(path).read_bytes())
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(k) for k in e["loc"])
        raise FormatError(f"not {what} ({where + ': ' if where else ''}{e['msg']})", source=path) from None
    except OSError as exc:
        raise FormatError(f"not {what} ({exc.strerror})", source=path) from None


def write_json(path: os.PathLike | str, model: BaseModel) -> None:
    """Write ``model`` as a JSON product (sorted keys, indent 1, final newline)."""
    Path(path).write_text(json.dumps(model.model_dump(mode="json"), indent=1, sort_keys=True) + "\n")
