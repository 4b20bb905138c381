"""docs/adding-a-task.md works as written: its product model, task and unit test run, and its
task-table fragments make a valid task table whose entry point is found."""

from __future__ import annotations

import re
import shutil
import sys

import pytest
from lxml import etree

import ipf.processors.l1c
import ipf.products
from ipf.interface import tasktable
from tests.helpers import REPO

DOC = REPO / "docs" / "adding-a-task.md"
BLOCK = re.compile(r"```(python|xml)\n(.*?)```", re.S)
L1C_TABLE = REPO / "ipf" / "processors" / "l1c" / "TaskTable_S2IPF_L1C_01.00.xml"


def _blocks() -> dict[str, str]:
    """{path named on the first line: code} of the page's Python blocks, {"xml": ...} for XML."""
    out = {}
    for lang, body in BLOCK.findall(DOC.read_text()):
        if lang == "xml":
            out["xml"] = body
        elif body.startswith("# "):
            out[body.splitlines()[0][2:].strip()] = body
    return out


@pytest.fixture
def example(tmp_path, monkeypatch):
    """The page's files written into ``tmp_path``, whose ``ipf/...`` folders extend the packages."""
    blocks = _blocks()
    assert {"ipf/products/tile_stats.py", "ipf/processors/l1c/stats.py",
            "tests/processors/test_tile_stats.py", "xml"} <= set(blocks)
    for path, code in blocks.items():
        if path != "xml":
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(code)
    monkeypatch.setattr(ipf.products, "__path__", [*ipf.products.__path__, str(tmp_path / "ipf/products")])
    monkeypatch.setattr(ipf.processors.l1c, "__path__",
                        [*ipf.processors.l1c.__path__, str(tmp_path / "ipf/processors/l1c")])
    yield tmp_path, blocks
    for name in ("ipf.products.tile_stats", "ipf.processors.l1c.stats"):
        sys.modules.pop(name, None)


def test_task_table_fragments_make_a_valid_table(example):
    tmp_path, blocks = example
    param_xml, task_xml = (part.strip() for part in blocks["xml"].split("..."))
    table = tmp_path / L1C_TABLE.name
    shutil.copy(L1C_TABLE, table)
    tree = etree.parse(str(table))
    params = tree.find("List_of_Dyn_ProcParam")
    params.append(etree.fromstring(param_xml))
    params.set("count", str(len(params)))
    tasks = tree.findall("List_of_Pools/Pool")[-1].find("List_of_Tasks")
    tasks.append(etree.fromstring(task_xml))
    tasks.set("count", str(len(tasks)))
    tree.write(str(table), xml_declaration=True, encoding="UTF-8")

    read = tasktable.read(table)
    task = read.task("TILE_STATS")
    assert task is not None and task.entry_point == ("ipf.processors.l1c.stats", "tile_stats")
    read.check_entry_points([task])
    assert any(p.name == "STATS_MIN_DN" for p in read.dyn_params)


def test_unit_test_of_the_page_passes(example):
    tmp_path, blocks = example
    namespace: dict = {"__file__": str(REPO / "tests" / "processors" / "test_tile_stats.py")}
    exec(compile(blocks["tests/processors/test_tile_stats.py"], str(DOC), "exec"), namespace)
    namespace["test_tile_stats"](tmp_path / "run")
