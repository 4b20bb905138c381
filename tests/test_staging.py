"""Output staging (ipf.interface.staging) and atomic writes (ipf.interface.files)."""

import os

import pytest

from ipf.interface import joborder as jo
from ipf.interface.errors import OutputError
from ipf.interface.files import atomic_path, atomic_write, atomic_write_all, temporary_name
from ipf.interface.staging import STAGING_PREFIX, Staging, container_name


class _Log:
    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


def _out(path, file_type="DEMO_L1", directory=True):
    return jo.JobOutput(file_type=file_type, file_name=path, xpath=f"/o[{file_type}]",
                        file_name_type="Directory" if directory else "Physical")


def test_stage_commit_and_abandon(tmp_path):
    log = _Log()
    staging = Staging(tmp_path / "JobOrder.xml", log)
    final = tmp_path / "new" / "deep" / "PRODUCT"
    staged = staging.stage([_out(final), _out(final, "DEMO_LIST")])
    s = staged["DEMO_L1"]
    assert staged["DEMO_LIST"] is s and s.path.is_dir() and not final.exists()
    assert s.container.name == container_name(final) and s.container.name.startswith(STAGING_PREFIX)
    (s.path / "a.txt").write_text("a")
    staging.commit(staged)
    assert (final / "a.txt").read_text() == "a" and not s.container.exists()
    assert staging.committed == [s] and staging.pending == []
    staging.abandon()
    assert not (tmp_path / "new").exists()
    assert log.warnings == [f"removed output {final}: the run did not complete"]


def test_discard_leaves_nothing_and_an_empty_directory_stays(tmp_path):
    final = tmp_path / "PRODUCT"
    final.mkdir()
    staging = Staging(tmp_path / "JobOrder.xml", _Log())
    staged = staging.stage([_out(final)])
    (staged["DEMO_L1"].path / "x").write_text("x")
    staging.commit(staged)
    staging.abandon()
    assert final.is_dir() and list(final.iterdir()) == []
    staged = staging.stage([_out(final)])
    staging.discard(staged.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["PRODUCT"] and staging.pending == []


def test_commit_refuses_an_output_made_meanwhile(tmp_path):
    final = tmp_path / "REPORT.txt"
    staging = Staging(tmp_path / "JobOrder.xml", _Log())
    staged = staging.stage([_out(final, "REPORT", directory=False)])
    staged["REPORT"].path.write_text("mine")
    final.write_text("theirs")
    with pytest.raises(OutputError, match="was created by another process") as err:
        staging.commit(staged)
    assert err.value.code == 141 and final.read_text() == "theirs"


def test_stage_names_the_output_it_cannot_create(tmp_path):
    (tmp_path / "file").write_text("")
    staging = Staging(tmp_path / "JobOrder.xml", _Log())
    with pytest.raises(OutputError, match="cannot stage output") as err:
        staging.stage([_out(tmp_path / "file" / "PRODUCT")])
    assert err.value.element == "/o[DEMO_L1]/File_Name"


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    atomic_write(path, "one\n")
    atomic_write(path, b"two\n", fsync=True)
    assert path.read_bytes() == b"two\n" and os.listdir(tmp_path) == ["a.json"]
    assert temporary_name(path).name == f".a.json.tmp-{os.getpid()}"


def test_atomic_path_keeps_the_destination_on_failure(tmp_path):
    path = tmp_path / "image.png"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path, suffix=".png") as tmp:
            assert tmp.name.endswith(".png") and tmp.parent == tmp_path
            tmp.write_text("half")
            raise RuntimeError
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["image.png"]


def test_atomic_write_all_writes_every_file_or_none(tmp_path):
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    atomic_write_all([(a, b"A"), (b, b"B")])
    assert (a.read_bytes(), b.read_bytes()) == (b"A", b"B")
    with pytest.raises(OSError):
        atomic_write_all([(a, b"A2"), (tmp_path / "missing" / "c.xml", b"C")])
    assert a.read_bytes() == b"A" and sorted(os.listdir(tmp_path)) == ["a.xml", "b.xml"]
