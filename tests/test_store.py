"""The intermediate image store: round trip, memory mapping, determinism."""

import numpy as np

from ipf.formats.store import ImageStore, image_name


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
