"""The intermediate image store: round trip, memory mapping, determinism."""

import numpy as np
import pytest

from ipf.products.store import ImageStore, image_name


def test_round_trip_and_mmap(tmp_path):
    store = ImageStore(tmp_path / "s")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    m = np.array([[0, 1], [2, 4]], np.uint8)
    store.write(image_name("radiance", "B02", 3), a, band="B02", detector=3, kind="radiance",
                unit="W m-2 sr-1 um-1", gain=np.float64(12.5))
    store.write(image_name("mask", "B02", 3), m, band="B02", detector=3, kind="mask")
    store.flush()
    again = ImageStore(tmp_path / "s")
    assert again.names(band="B02") == ["mask_B02_D03", "radiance_B02_D03"]
    assert again.names(kind="radiance", detector=3) == ["radiance_B02_D03"]
    r = again.read("radiance_B02_D03")
    assert isinstance(r, np.memmap) and np.array_equal(r, a)
    assert again.attrs("radiance_B02_D03")["gain"] == 12.5
    assert again.attrs("mask_B02_D03")["shape"] == [2, 2]
    assert [p.name for p in (tmp_path / "s").iterdir() if p.name.startswith(".")] == []


def test_deterministic_bytes(tmp_path):
    for d in ("a", "b"):
        s = ImageStore(tmp_path / d)
        s.write("x", np.ones((5, 5), np.uint16), band="B8A", detector=1)
        s.flush()
    for f in ("x.npy", "index.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_creating_fills_a_file_in_place_and_publishes_it_only_on_success(tmp_path):
    store = ImageStore(tmp_path / "s")
    with store.creating("a", (3, 4), np.uint16, kind="toa") as a:
        assert not a.any()
        a[1] = 7
    store.flush()
    again = ImageStore(tmp_path / "s")
    assert again.attrs("a") == {"kind": "toa", "shape": [3, 4], "dtype": "<u2"}
    assert again.read("a")[1].tolist() == [7] * 4 and again.read("a").sum() == 28
    with pytest.raises(RuntimeError):
        with store.creating("b", (2, 2), np.uint8) as b:
            b[:] = 1
            raise RuntimeError("task failed")
    assert "b" not in store.index and sorted(p.name for p in (tmp_path / "s").iterdir()) == ["a.npy", "index.json"]


def test_creating_on_a_full_disk_is_an_os_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    store = ImageStore(tmp_path / "s")
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match="No space left"):
        with store.creating("a", (300, 400), np.float32):
            pass
    assert "a" not in store.index and list((tmp_path / "s").iterdir()) == []


def test_creating_writes_the_bytes_of_write(tmp_path):
    a = np.arange(35, dtype=np.uint16).reshape(5, 7)
    store = ImageStore(tmp_path / "s")
    store.write("w", a)
    with store.creating("c", a.shape, a.dtype) as c:
        c[:] = a
    assert (tmp_path / "s" / "w.npy").read_bytes() == (tmp_path / "s" / "c.npy").read_bytes()
