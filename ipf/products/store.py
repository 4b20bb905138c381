"""Intermediate image store: memory-mappable lossless arrays with their metadata.

A store is a directory holding one ``.npy`` file per image (NumPy format 1.0: a short header then
the raw array, so ``numpy.load(..., mmap_mode="r")`` maps it without reading) and ``index.json``,
which lists every image with its attributes (band, detector, kind, units, shape, dtype and any
processing metadata). Files are written under a temporary name and renamed, and ``index.json``
last, so a reader never sees a half-written image. Bytes are a pure function of the arrays and
attributes (sorted keys, no time stamps): the same inputs give byte-identical stores.

An ``index.json`` or an image file that is not what it should be is a
:class:`~ipf.interface.errors.FormatError`, an image the store lacks an
:class:`~ipf.interface.errors.InputError`, each naming the file or store and the image.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ipf.interface.errors import FormatError, InputError
from ipf.interface.files import atomic_path, atomic_write, link_or_copy

__all__ = ["ImageStore", "image_name", "INDEX"]

INDEX = "index.json"


def image_name(kind: str, band: str, detector: int) -> str:
    """File stem of an image: ``<kind>_<band>_D<detector:02d>``."""
    return f"{kind}_{band}_D{detector:02d}"


class ImageStore:
    """A directory of named images; see the module docstring for the layout."""

    def __init__(self, root: os.PathLike | str):
        self.root = Path(root)
        self.index: dict[str, dict[str, Any]] = _read_index(self.root / INDEX)

    def names(self, **match) -> list[str]:
        """Image names whose attributes equal every ``match`` keyword, sorted."""
        return sorted(n for n, a in self.index.items()
                      if all(a.get(k) == v for k, v in match.items()))

    def attrs(self, name: str) -> dict[str, Any]:
        """The attributes of image ``name`` (a copy)."""
        return dict(self.index[self._known(name)])

    def _known(self, name: str) -> str:
        if name not in self.index:
            raise InputError(f"no image {name!r} in the store", source=self.root / INDEX, element=name)
        return name

    def images(self) -> list[str]:
        """Names of every image (not the product entries, ``__<entry>__``), sorted."""
        return sorted(n for n in self.index if not _is_entry(n))

    def copy_entries(self, source: ImageStore) -> None:
        """Add the product entries (``__<entry>__``) of ``source`` (published by :meth:`flush`)."""
        self.index.update({k: v for k, v in source.index.items() if _is_entry(k)})

    def read(self, name: str, mmap: bool = True) -> np.ndarray:
        """The image ``name``; memory-mapped read-only unless ``mmap`` is false."""
        path = self.root / f"{self._known(name)}.npy"
        try:
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            raise InputError(f"image {name!r} of {INDEX} has no file", source=path) from None
        except ValueError as exc:
            raise FormatError(f"not a NumPy array file ({exc})", source=path) from None

    def write(self, name: str, array: np.ndarray, **attrs: Any) -> None:
        """Add or replace image ``name``; call :meth:`flush` to publish the index."""
        self.root.mkdir(parents=True, exist_ok=True)
        array = np.ascontiguousarray(array)
        with atomic_path(self.root / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
            np.lib.format.write_array(fh, array, version=(1, 0), allow_pickle=False)
        self.index[name] = {**attrs, "shape": list(array.shape), "dtype": array.dtype.str}

    @contextmanager
    def creating(self, name: str, shape: tuple[int, ...], dtype, **attrs: Any) -> Iterator[np.ndarray]:
        """A writable memory map (zeros) of a new image ``name``, added as :meth:`write` does when
        the block ends without an error (the file is filled in place: no copy of the array).

        The file's blocks are allocated first (``posix_fallocate``): a full disk is an OSError
        (ENOSPC) here, not a SIGBUS or a silently lost page when the map is written back."""
        self.root.mkdir(parents=True, exist_ok=True)
        dtype, shape = np.dtype(dtype), tuple(int(n) for n in shape)
        with atomic_path(self.root / f"{name}.npy") as tmp:
            with open(tmp, "wb") as fh:
                np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                          "fortran_order": False, "shape": shape})
                offset = fh.tell()
                os.posix_fallocate(fh.fileno(), 0, offset + dtype.itemsize * int(np.prod(shape)))
            array = np.memmap(tmp, dtype=dtype, mode="r+", offset=offset, shape=shape)
            yield array
            del array
        self.index[name] = {**attrs, "shape": list(shape), "dtype": np.dtype(dtype).str}

    def link(self, source: ImageStore, name: str, new_name: str | None = None, **attrs: Any) -> None:
        """Add image ``name`` of ``source`` as ``new_name`` without copying: a hard link to its
        file (a copy across file systems), with its attributes updated by ``attrs``."""
        source._known(name)
        new_name = new_name or name
        self.root.mkdir(parents=True, exist_ok=True)
        src, dst = source.root / f"{name}.npy", self.root / f"{new_name}.npy"
        with atomic_path(dst) as tmp:
            link_or_copy(src, tmp)
        self.index[new_name] = {**source.index[name], **attrs}

    def flush(self) -> None:
        """Write ``index.json`` (atomically)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self.root / INDEX, (json.dumps(self.index, indent=1, sort_keys=True,
                                                    default=_jsonable) + "\n").encode())


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    """The images of ``index.json`` at ``path`` ({} when there is none)."""
    if not path.exists():
        return {}
    try:
        index = json.loads(path.read_bytes())
    except ValueError as exc:
        raise FormatError(f"not a store index (JSON): {exc}", source=path) from None
    if not isinstance(index, dict) or not all(isinstance(a, dict) for a in index.values()):
        raise FormatError("not a store index: a JSON object of image attributes expected", source=path)
    return index


def _is_entry(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
