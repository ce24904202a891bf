"""Acceptance on a demo class, end to end through the command line and checked by independent tools.

Once per module, in a temporary var directory with its own SQLite file: ``hocba migrate``, ``hocba demo``,
``hocba demo-pki`` (a key for every demo staff member and the seal), ``hocba pki serve`` in the background,
then ``hocba records issue --year 2024-2025 --class 9A1 --demo-sign`` (the demo grade book of 9A1 is filled
and released first) and ``hocba records export`` of every PDF and XML of the class and of one student's
complete record. Every exported PDF must pass ``pyhanko sign validate`` (against the demo root),
``qpdf --check`` and ``pdffonts`` (every font embedded with a Unicode map); every XML ``xmllint --schema``
and ``xmlsec1 --verify`` for each of its signatures.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
XSD = ROOT / "src" / "hocba" / "documents" / "schema" / "hocba-thcs-1.0.xsd"
NS = "urn:hocba:hocbaso:thcs:1.0"
DS = "http://www.w3.org/2000/09/xmldsig#"
ID_ELEMENTS = ("hocba", "thongtinhocba", "truong", "hocsinh", "lop", "bangdiem", "monhoc", "tongket", "pheduyet",
               "quatrinhhoctap")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_class(tmp_path_factory):
    var = tmp_path_factory.mktemp("records-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCBA_", "DJANGO_"))}
    env.update(HOCBA_VAR_DIR=str(var), HOCBA_DATABASE_URL=f"sqlite:///{var}/db.sqlite3",
               HOCBA_RECORDS_VALIDATION="sample", HOCBA_FAST_PASSWORD_HASHER="1")

    def hocba(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / "hocba"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=3600, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"hocba {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    hocba("migrate", "--noinput", "-v", "0")
    hocba("demo")
    port = _free_port()
    hocba("demo-pki", "--port", str(port))
    server = subprocess.Popen([str(BIN / "hocba"), "pki", "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        started = time.perf_counter()
        issue = hocba("records", "issue", "--year", "2024-2025", "--class", "9A1", "--demo-sign")
        seconds = time.perf_counter() - started
        out = var / "out"
        for fmt in ("pdf", "xml"):
            hocba("records", "export", "--class", "9A1", "--year", "2024-2025", "--format", fmt, "--out",
                  str(out / fmt), "--purpose", "Kiểm thử", "--recipient", "Kiểm định viên")
        xmls = sorted((out / "xml").glob("*.xml"))
        student = etree.parse(str(xmls[0])).findtext(f"{{{NS}}}hocsinh/{{{NS}}}sodinhdanh")
        hocba("records", "export", "--student", student, "--format", "zip", "--out", str(out / "zip"))
        verify = hocba("records", "verify", str(min((out / "pdf").glob("*.pdf"))), str(xmls[0]), check=False)
        status = hocba("records", "status", "--year", "2024-2025", "--class", "9A1")
        yield SimpleNamespace(var=var, issue=issue.stdout, seconds=seconds, pdfs=sorted((out / "pdf").glob("*.pdf")),
                              xmls=xmls, zip=next((out / "zip").glob("*.zip")), verify=verify, status=status.stdout,
                              root=var / "pki" / "certs" / "root.cert.pem",
                              interm=var / "pki" / "certs" / "interm.cert.pem")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_whole_class_is_issued_and_every_file_exported(demo_class):
    created = int(re.search(r"Lớp 9A1: tạo (\d+) học bạ", demo_class.issue).group(1))
    assert created >= 30, demo_class.issue
    assert f"Đã phát hành {created} học bạ." in demo_class.issue
    assert "Con dấu số: " in demo_class.issue and "lỗi" not in demo_class.issue
    assert len(demo_class.pdfs) == len(demo_class.xmls) == created
    assert f"Đóng con dấu số, phát hành: {created}/{created}" in demo_class.status
    print(f"\n9A1: {created} học bạ issued in {demo_class.seconds:.0f} s\n{demo_class.issue}")


def _pyhanko(path: Path, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pyhanko"), "sign", "validate", "--pretty-print", "--trust", str(root),
                           "--trust-replace", str(path)], capture_output=True, text=True, timeout=300, check=False)


def test_every_pdf_passes_pyhanko_validate(demo_class):
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda p: _pyhanko(p, demo_class.root), demo_class.pdfs))
    for path, run in zip(demo_class.pdfs, runs, strict=True):
        fields = re.findall(r"^Field \d+: (\S+)$", run.stdout, flags=re.MULTILINE)
        assert run.returncode == 0, (path.name, run.stdout[-3000:], run.stderr[-2000:])
        assert fields[-3:] == ["gvcn", "hieutruong", "condau"] and len(fields) >= 15, (path.name, fields)
        assert run.stdout.count("The signature is judged VALID.") == len(fields), path.name
        assert "INVALID" not in run.stdout, path.name


def test_every_pdf_passes_qpdf_and_embeds_every_font_with_a_unicode_map(demo_class):
    for path in demo_class.pdfs:
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, (path.name, check.stdout, check.stderr)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows, path.name
        for row in rows:
            emb, _sub, uni = row.split()[-5:-2]
            assert (emb, uni) == ("yes", "yes"), (path.name, row)


def test_every_xml_passes_xmllint_schema_and_xmlsec1_for_each_signature(demo_class):
    id_attrs = []
    for name in ID_ELEMENTS:
        id_attrs += ["--id-attr:Id", f"{NS}:{name}"]
    id_attrs += ["--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                 "--id-attr:Id", f"{DS}:KeyInfo", "--id-attr:Id", f"{DS}:Signature"]
    for path in demo_class.xmls:
        lint = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), str(path)], capture_output=True,
                              text=True, check=False)
        assert lint.returncode == 0 and "validates" in lint.stderr, (path.name, lint.stderr)
        ids = [s.get("Id") for s in etree.parse(str(path)).getroot().findall(f"{{{DS}}}Signature")]
        assert ids[-3:] == ["sig-gvcn", "sig-hieutruong", "sig-condau"], ids
        for sig_id in ids:
            run = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(demo_class.root), "--untrusted-pem",
                                  str(demo_class.interm), *id_attrs, "--node-id", sig_id, str(path)],
                                 capture_output=True, text=True, check=False, timeout=60)
            assert run.returncode == 0 and "OK" in run.stdout + run.stderr, (path.name, sig_id, run.stderr)


def test_the_complete_record_exports_as_one_file_that_verifies_in_one_step(demo_class):
    from hocba.documents import verify_chain

    report = verify_chain(demo_class.zip.read_bytes())
    assert report.ok, report.problems
    assert len(report.years) == 1 and report.years[0].grade == 9


def test_the_command_line_verifies_a_file_against_the_registry(demo_class):
    assert demo_class.verify.returncode == 0, demo_class.verify.stdout + demo_class.verify.stderr
    assert demo_class.verify.stdout.count("Chữ ký số hợp lệ; đúng tệp đã phát hành. Tình trạng: Có hiệu lực") == 2
