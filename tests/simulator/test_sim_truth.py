"""The true attitude file (written, read back bit for bit, bad files named) and the synthetic
Earth orientation table (Bulletin A resolutions, 2023 magnitudes, validity of its file)."""

import json
from datetime import date, datetime

import numpy as np
import pytest

from ipf.interface.errors import FormatError, MissingInputError
from ipf.simulator import ancillary
from ipf.simulator.truth import TRUE_ATTITUDE_FILE, TRUTH_DIR, read_true_attitude, write_true_attitude


def test_true_attitude_round_trip(tmp_path, rng):
    t = np.datetime64("2023-03-20T10:48:28", "ns") + np.arange(5) * np.timedelta64(125_000_000, "ns")
    q = rng.normal(size=(5, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    path = write_true_attitude(tmp_path / TRUTH_DIR, t, q)
    assert path == tmp_path / TRUTH_DIR / TRUE_ATTITUDE_FILE
    t2, q2 = read_true_attitude(tmp_path)
    assert t2.dtype == np.dtype("datetime64[ns]") and np.array_equal(t2, t) and np.array_equal(q2, q)
    assert path.read_bytes() == write_true_attitude(tmp_path / "again", t, q).read_bytes()


def test_bad_true_attitude_files_are_named(tmp_path):
    with pytest.raises(MissingInputError):
        read_true_attitude(tmp_path)
    path = write_true_attitude(tmp_path / TRUTH_DIR, np.array(["2023-03-20T10:48:28", "2023-03-20T10:48:29"],
                                                              "datetime64[ns]"), np.eye(4)[:2])
    doc = json.loads(path.read_text())
    for bad in ({**doc, "frame": "piloting -> EME2000"}, {**doc, "quaternion": doc["quaternion"][:1]},
                {**doc, "utc_time": ["yesterday", "today"]}):
        path.write_text(json.dumps(bad))
        with pytest.raises(FormatError) as info:
            read_true_attitude(tmp_path)
        assert info.value.source == str(path)


def test_earth_orientation_table():
    table = ancillary.earth_orientation_table(date(2023, 3, 20))
    assert table.tai_utc == 37.0 and table.n_rapid == 8 and len(table.mjd) == 31
    assert table.mjd[10] == 60023  # 2023-03-20
    rapid, pred = slice(0, table.n_rapid), slice(table.n_rapid, None)
    for values, r, p in ((table.x_p, 5, 4), (table.y_p, 5, 4), (table.ut1_utc, 6, 5)):
        assert np.array_equal(values[rapid], np.round(values[rapid], r))
        assert np.array_equal(values[pred], np.round(values[pred], p))
    assert np.all(np.abs(table.ut1_utc + 0.02) < 0.02) and np.all((table.x_p > 0) & (table.y_p > 0.3))
    created, start, stop = ancillary.eop_validity(table)
    assert (created, start, stop) == (datetime(2023, 3, 18), datetime(2023, 3, 10), datetime(2023, 4, 9))
