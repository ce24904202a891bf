"""The XML twin: XSD-valid (lxml and xmllint), the national field names, Ids for every signer's part, a round
trip, stable bytes, and refusal of hostile input."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from hocba.documents import HocBaXmlError, from_xml, to_xml
from hocba.documents.sample import PHO_HIEU_TRUONG, sample_record, sample_years
from hocba.documents.signers import signing_plan, xml_references
from hocba.documents.xsd import NAMESPACE, SCHEMA_PATH, schema

FIELDS = Path(__file__).resolve().parents[2].parent / "shared" / "docs" / "domain" / "hocba-fields.txt"
NS = {"hb": NAMESPACE}


def test_generated_xml_is_valid_against_the_xsd_with_lxml(record):
    xsd = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    assert xsd.validate(etree.fromstring(to_xml(record))), xsd.error_log


@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint (libxml2-utils) not installed")
def test_generated_xml_is_valid_against_the_xsd_with_xmllint(record, tmp_path):
    for i, (_, xml) in enumerate(sample_years()):
        path = tmp_path / f"hocba-{i}.xml"
        path.write_bytes(xml)
        done = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(SCHEMA_PATH), str(path)],
                              check=False, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "validates" in done.stderr


def test_round_trip_gives_back_the_same_record(record):
    assert from_xml(to_xml(record)) == record
    for rec, xml in sample_years():
        assert from_xml(xml) == rec


def test_round_trip_of_a_vice_principal_signed_digitised_corrected_version():
    record = sample_record(leader=PHO_HIEU_TRUONG, digitised=True, scan_sha256="ab" * 32, version=3,
                           replaces="8e00ef93-6a60-53e0-9079-ee4da79054ae", absences=None, summer_training=
                           "Đã rèn luyện thêm trong hè tại địa phương", contests=(), awards=(), certificates=())
    back = from_xml(to_xml(record))
    assert back == record
    assert back.leader.on_behalf and back.event == "UPDATE"


def test_same_record_gives_the_same_bytes_utf8_nfc(record):
    xml = to_xml(record)
    assert xml == to_xml(sample_record())
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    text = xml.decode("utf-8")
    assert unicodedata.is_normalized("NFC", text)


def test_every_national_exchange_field_of_the_thcs_record_is_in_the_schema():
    """hocba-so.md "The national exchange record": every field of the THCS tables, except the receiver's
    technical keys and those the THCS record does not use (tiểu học competences are not in that table)."""
    if not FIELDS.exists():
        pytest.skip("shared/docs not beside the checkout")
    xsd_names = set(re.findall(r'name="([a-z0-9_]+)"', SCHEMA_PATH.read_text(encoding="utf-8")))
    tables, current = {}, None
    for line in FIELDS.read_text(encoding="utf-8").splitlines():
        if line.startswith("====="):
            current = line.split()[1]
            tables[current] = []
        elif current and line.startswith("  "):
            tables[current].append(line.split()[0])
    wanted = set()
    for table in ("thongtinsohocbasothcsthpt", "thongtinsohocbasothcsthpt_quatrinhhoctap",
                  "thongtinsohocbasothcsthpt_bangdiem", "thongtinsohocbasothcsthpt_chungchi"):
        wanted |= {f for f in tables[table] if not f.startswith("key")}
    # envelope fields appear once, in <traodoi>, for the whole record
    missing = sorted(wanted - xsd_names)
    assert not missing, missing


def test_every_signer_part_has_exactly_one_element_with_its_id(record):
    root = etree.fromstring(to_xml(record))
    ids = [el.get("Id") for el in root.iter() if el.get("Id")]
    assert len(ids) == len(set(ids))
    for code in [s.code for s in record.subjects]:
        row = root.xpath("//hb:monhoc[@Id=$i]", namespaces=NS, i=f"mon-{code}")
        assert len(row) == 1 and row[0].findtext(f"{{{NAMESPACE}}}mamonhoc") == code
    assert root.xpath("//hb:tongket/@Id", namespaces=NS) == ["gvcn"]
    assert root.xpath("//hb:pheduyet/@Id", namespaces=NS) == ["hieutruong"]
    for refs in xml_references(record).values():
        for ref in refs or ():
            assert ref in ids


def test_signing_plan_names_each_teacher_each_subject_then_gvcn_principal_seal(record):
    plan = signing_plan(record)
    names = [p.field_name for p in plan]
    assert names[-3:] == ["gvcn", "hieutruong", "condau"]
    assert "gv-TO-079085001101" in names
    assert {"gv-KHTN-079084001107", "gv-KHTN-079189001108"} <= set(names)  # integrated: both teachers sign
    assert {"gv-NV-079187001102", "gv-GDDP-079187001102"} <= set(names)  # one teacher, two subjects
    assert plan[-1].references is None  # the seal covers the whole document
    teacher = next(p for p in plan if p.field_name == "gv-TO-079085001101")
    assert teacher.references == ("mon-TO",)


def test_signed_xml_with_appended_signatures_still_reads(record):
    root = etree.fromstring(to_xml(record))
    sig = etree.SubElement(root, "{http://www.w3.org/2000/09/xmldsig#}Signature", Id="sig-gvcn")
    etree.SubElement(sig, "{http://www.w3.org/2000/09/xmldsig#}SignedInfo")
    assert from_xml(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) == record


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<hocba xmlns="urn:hocba:hocbaso:thcs:1.0">&lol3;</hocba>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE hocba [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<hocba xmlns="urn:hocba:hocbaso:thcs:1.0">&xxe;</hocba>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE hocba SYSTEM "http://127.0.0.1:9/hocba.dtd">
<hocba xmlns="urn:hocba:hocbaso:thcs:1.0"/>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "external-dtd"])
def test_dtds_and_entities_are_refused_in_vietnamese(data):
    with pytest.raises(HocBaXmlError, match="DTD"):
        from_xml(data)


def test_the_refusal_does_not_depend_on_the_byte_pattern(record):
    # UTF-16 hides "<!DOCTYPE" from a byte search; the parser's own DTD check still refuses it
    doc = XXE.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(HocBaXmlError):
        from_xml(doc.encode("utf-16"))


@pytest.mark.parametrize("mutate, message", [
    (lambda x: x.replace(b"<diemhocky1>8.2</diemhocky1>", b"<diemhocky1>8.25</diemhocky1>"), "lược đồ"),
    (lambda x: x.replace(b"<sodinhdanh>079310001234</sodinhdanh>", b"<sodinhdanh>79310001234</sodinhdanh>"),
     "lược đồ"),
    (lambda x: x.replace(b'Id="mon-NV"', b'Id="mon-TO"'), "lược đồ"),
    (lambda x: x.replace(NAMESPACE.encode(), b"urn:other"), "hocba"),
    (lambda x: x[:-40], "cú pháp"),
    (lambda x: x.replace(b"<idbanghi>8e00ef93", b"<idbanghi>9e00ef93"), "idbanghi"),
], ids=["two-decimals", "short-personal-number", "duplicate-id", "wrong-namespace", "truncated", "envelope-id"])
def test_invalid_documents_are_refused_with_a_vietnamese_message(record, mutate, message):
    with pytest.raises(HocBaXmlError, match=message):
        from_xml(mutate(to_xml(record)))


def test_oversized_input_is_refused_before_parsing():
    with pytest.raises(HocBaXmlError, match="quá lớn"):
        from_xml(b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>")


def test_schema_is_loaded_once():
    assert schema() is schema()
