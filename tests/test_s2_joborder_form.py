"""The Job Orders the simulator writes have the structure of the S2 IPF Job Order schema
(``IPF_JobOrder.xsd`` of the S2 PDGS interface, DICO 1.0, read from ../shared/real/schemas when it
is there): every element where the schema puts it, in its order and number.

The schema file as published cannot be used as it is: its ``schemaLocation`` paths use ``\\``,
its PDGS ``center`` schema declares another target namespace than the one it is imported with,
and its value facets cannot be met (``xs:dateTime`` restricted by a pattern of the compact
``YYYYMMDD_hhmmssuuuuuu`` form its own documentation asks for; ``\\d`` written ``/d``;
processor names and stations enumerated). A copy is mended for the first two, and value errors
are left aside; the published S2 orchestrator sample gets exactly the same treatment.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers import SHARED

DICO = SHARED / "real" / "schemas" / "psd-13_s2tbx" / "DICO" / "1.0"
SAMPLE = SHARED / "reference" / "samples" / "JobOrder.INIT_LOC_L0_52742.xml"
NS = "http://gs2.esa.int/DICO/1.0/IPF/job"
VALUE_ERRORS = {"SCHEMAV_CVC_ENUMERATION_VALID", "SCHEMAV_CVC_PATTERN_VALID",
                "SCHEMAV_CVC_DATATYPE_VALID_1_2_1", "SCHEMAV_CVC_DATATYPE_VALID_1_2_3"}

pytestmark = pytest.mark.skipif(not DICO.is_dir(), reason="no ../shared/real/schemas/psd-13_s2tbx")


@pytest.fixture(scope="module")
def s2_schema(tmp_path_factory) -> etree.XMLSchema:
    root = tmp_path_factory.mktemp("dico") / "1.0"
    shutil.copytree(DICO, root)
    for xsd in root.rglob("*.xsd"):
        text = xsd.read_bytes().replace(b"\\", b"/")
        if xsd.parent.name == "center":
            text = text.replace(b"https://psd-13.sentinel2.eo.esa.int/DICO/1.0/PDGS/center/",
                                b"http://gs2.esa.int/DICO/1.0/PDGS/center/")
        xsd.write_bytes(text)
    return etree.XMLSchema(etree.parse(str(root / "IPF" / "job" / "IPF_JobOrder.xsd")))


def _structure_errors(schema: etree.XMLSchema, path: Path) -> list[str]:
    """Errors other than value facets when ``path`` is validated in the schema's namespace."""
    root = copy.deepcopy(etree.parse(str(path)).getroot())
    for el in root.iter(etree.Element):
        el.tag = f"{{{NS}}}{etree.QName(el).localname}"
    etree.cleanup_namespaces(root)
    schema.validate(etree.ElementTree(root))
    return [f"{path.name}:{e.line}: {e.message}" for e in schema.error_log if e.type_name not in VALUE_ERRORS]


@pytest.mark.skipif(not SAMPLE.exists(), reason="no ../shared/reference/samples")
def test_published_orchestrator_sample_has_the_schema_structure(s2_schema):
    assert _structure_errors(s2_schema, SAMPLE) == []


def test_simulator_job_orders_have_the_schema_structure(s2_schema, small):
    folder, _ = small
    orders = sorted((folder / "joborders").glob("JobOrder_*.xml"))
    assert len(orders) >= 5
    for order in orders:
        assert _structure_errors(s2_schema, order) == []


def test_a_misplaced_element_is_a_structure_error(s2_schema, small, tmp_path):
    folder, _ = small
    tree = etree.parse(str(folder / "joborders" / "JobOrder_L0.xml"))
    conf = tree.getroot().find("Ipf_Conf")
    conf.insert(0, conf.find("Version"))
    bad = tmp_path / "JobOrder_L0.xml"
    tree.write(str(bad))
    assert _structure_errors(s2_schema, bad)
