"""Seeded mutations of task tables: each gives a table or a clear IpfError, never another
exception, never a hang. ``IPF_FUZZ_CASES`` sets the number of cases (default 300, a few seconds;
``make fuzz``: 10 000)."""

import os
import random
import time
from pathlib import Path

from lxml import etree

from ipf.interface import tasktable
from ipf.interface.errors import IpfError
from tests.helpers import TASKTABLES

CORPUS = sorted(TASKTABLES.glob("*/TaskTable_*.xml")) + sorted(
    (Path(__file__).parent / "data" / "tasktables").glob("TaskTable_*.xml"))
VALUES = ["", " ", "0", "-1", "1e309", "NaN", "Yes", "maybe", "$UNSET/x", "a.b:c", "x" * 300,
          "\u00e9", "2023-13-45T99:99:99Z", "99999999999999999999", "DB", "ALWAYS", "12.5"]


def _mutate(tree: etree._ElementTree, rng: random.Random) -> bytes:
    elements = [e for e in tree.getroot().iter() if isinstance(e.tag, str)]
    for _ in range(rng.randint(1, 4)):
        el = rng.choice(elements)
        op = rng.randrange(6)
        parent = el.getparent()
        if op == 0:
            el.text = rng.choice(VALUES)
        elif op == 1 and parent is not None:
            parent.remove(el)
            elements = [e for e in tree.getroot().iter() if isinstance(e.tag, str)]
        elif op == 2 and parent is not None:
            parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
        elif op == 3:
            el.tag = rng.choice(["Input", "Alternative", "Cfg_Files", "Option", "Bogus", el.tag.lower()])
        elif op == 4:
            el.set(rng.choice(["ref", "id", "count", "units"]), rng.choice(VALUES))
        elif op == 5 and parent is not None and len(parent) > 1:
            parent.remove(el)
            parent.insert(rng.randrange(len(parent) + 1), el)
    data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    if rng.random() < 0.05:
        cut = rng.randrange(len(data))
        data = data[:cut] + rng.choice([b"", b"<", b"&", b"\xff"]) + data[cut + 1:]
    return data


def test_mutated_tables_fail_cleanly(tmp_path):
    cases = int(os.environ.get("IPF_FUZZ_CASES", "300"))
    rng = random.Random(20260601)
    trees = [etree.parse(str(p)) for p in CORPUS]
    path = tmp_path / "TaskTable_FUZZ.xml"
    parsed = refused = 0
    for n in range(cases):
        tree = etree.ElementTree(etree.fromstring(etree.tostring(rng.choice(trees))))
        path.write_bytes(_mutate(tree, rng))
        started = time.monotonic()
        try:
            table = tasktable.read(path)
            table.check_entry_points(warn=lambda text: None)
            parsed += 1
        except IpfError as exc:
            assert str(exc) and "\n" not in str(exc).strip(), exc
            refused += 1
        except Exception as exc:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"case {n}: {type(exc).__name__}: {exc}\n"
                                 f"{path.read_text(errors='replace')}") from exc
        assert time.monotonic() - started < 5, f"case {n} took too long"
    print(f"\nfuzz: {cases} cases, {parsed} parsed, {refused} refused")
