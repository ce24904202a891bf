"""Reading hostile files: the type comes from the content, and whatever a file does to the PDF or XML libraries
(deep nesting, a decompression bomb, broken cross-reference tables, a file that takes too long, a reader that
dies) the answer is "Không đọc được tệp" within the time limit — never an exception, never a hung worker."""

from __future__ import annotations

import dataclasses
import time

import pytest
from tests.verify import hostile

from hocba.verify import engine, sandbox


@pytest.fixture(scope="module")
def trust(session_pki):
    from hocba.signing.trust import TrustConfig

    return sandbox.TrustSpec.of(TrustConfig.from_files([session_pki.root_cert_path],
                                                       [session_pki.cert_path("interm")]))


LIMITS = sandbox.Limits(timeout=10, memory_bytes=512 * 1024 * 1024)


def test_the_type_is_sniffed_from_the_content_not_the_name():
    assert engine.sniff(b"%PDF-1.7\n...") == "pdf"
    assert engine.sniff(b"\n\n junk before the header %PDF-1.4") == "pdf"
    assert engine.sniff(b"\xef\xbb\xbf  <?xml version='1.0'?><a/>") == "xml"
    assert engine.sniff(b"\x89PNG\r\n\x1a\n") is None
    assert engine.sniff(b"") is None


@pytest.mark.parametrize("name", sorted(hostile.ALL_PDFS))
def test_hostile_pdfs_are_answered_without_an_exception(name, trust):
    start = time.perf_counter()
    result = sandbox.run(hostile.ALL_PDFS[name](), trust, LIMITS)
    assert time.perf_counter() - start < LIMITS.timeout + 5
    assert result["kind"] == "pdf"
    if result["readable"]:  # read, but nothing to trust in it
        assert result["report"]["signatures"] == [] and result["document"] is None
    else:
        assert result["reason"].startswith("Không đọc được tệp")


def test_nesting_too_deep_for_the_parser_is_unreadable(trust):
    result = sandbox.run(hostile.deep_nesting(), trust, LIMITS)
    assert not result["readable"] and "lồng nhau quá sâu" in result["reason"]


def test_broken_cross_reference_tables_are_unreadable(trust):
    for data in (hostile.broken_xref(), hostile.prev_loop()):
        result = sandbox.run(data, trust, LIMITS)
        assert not result["readable"] and result["reason"].startswith("Không đọc được tệp")


def test_a_decompression_bomb_hits_the_memory_limit_not_the_server(trust):
    result = sandbox.run(hostile.deflate_bomb(1024), trust,
                         sandbox.Limits(timeout=20, memory_bytes=256 * 1024 * 1024))
    assert not result["readable"] and result["detail"] in ("MemoryError", "crash"), result


def test_a_file_that_takes_longer_than_the_limit_is_cut_off(trust):
    data = hostile.many_objects(280_000)  # ~18 MB; reading its cross-reference table takes seconds
    start = time.perf_counter()
    result = sandbox.run(data, trust, sandbox.Limits(timeout=0.5))
    elapsed = time.perf_counter() - start
    assert not result["readable"] and result["detail"] == "timeout"
    assert "quá thời gian" in result["reason"] and elapsed < 4


def test_a_reader_that_dies_is_unreadable_too(trust, documents):
    # one byte of address space more than it has: the child cannot allocate anything and dies or gives up
    result = sandbox.run(documents.valid.pdf, trust, sandbox.Limits(memory_bytes=1))
    assert not result["readable"] and result["detail"] in ("MemoryError", "crash")


@pytest.mark.parametrize("data", [hostile.BILLION_LAUGHS, hostile.XXE, hostile.DEEP_XML, b"<a>unclosed",
                                  b"<?xml version='1.0' encoding='UTF-16'?><a/>"])
def test_hostile_xml_is_refused(data, trust):
    result = sandbox.run(data, trust, LIMITS)
    assert result["kind"] == "xml"
    assert not result["readable"] or result["report"]["signatures"] == []


def test_signed_documents_read_the_same_in_the_sandbox_as_in_process(trust, documents):
    """The sandbox (its PDF signatures shared out among two worker processes) finds exactly what one process
    finds: every signature, in order, with the same findings."""
    for data in (documents.valid.pdf, documents.valid.xml):
        isolated = sandbox.run(data, trust, dataclasses.replace(LIMITS, workers=2))
        inline = sandbox.run_inline(data, trust)
        assert isolated["readable"] and isolated["report"]["valid"]
        assert isolated["report"]["signatures"] == inline["report"]["signatures"]
        assert isolated["document"] == inline["document"]
        assert isolated["document"]["record_id"] == documents.valid.record_id
    assert sandbox.run(documents.valid.pdf, trust, LIMITS)["document"]["twin_sha256"]


def test_concurrent_files_wait_for_a_slot_then_are_refused_as_busy(trust):
    import threading

    limits = sandbox.Limits(timeout=5, concurrency=1, queue_timeout=0.2)
    slow = hostile.many_objects(280_000)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("first", sandbox.run(slow, trust, limits)))
    worker.start()
    time.sleep(0.3)
    with pytest.raises(sandbox.Busy):
        sandbox.run(b"%PDF-1.7", trust, limits)
    worker.join()
    assert "first" in outcome


def test_checking_a_signed_file_makes_no_outgoing_connection(trust, documents, monkeypatch):
    """Signatures and their timestamps are judged with the revocation data embedded in the file, even when the
    trust configuration allows fetching: an anonymous upload never makes the portal call a CA's servers (no
    latency borrowed from them, no requests triggered from outside). The network is the boundary refused here."""
    import socket

    attempts = []

    def refuse(sock, address, *args):
        attempts.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for data in (documents.valid.pdf, documents.valid.xml):
        result = sandbox.run_inline(data, trust)
        assert result["report"]["valid"], result["report"]
        assert all(s["revocation_source"] == "embedded" for s in result["report"]["signatures"])
    assert attempts == []


def test_a_pdf_report_holds_plain_values_not_the_parsed_file(trust, documents):
    """The CLI, the records app and the portal turn ``validate_pdf``'s report into JSON: it holds plain values
    (signature ids are ``str``, not pyHanko objects tied to the parsed PDF), so ``to_dict`` does not deep-copy the
    whole file (it took seconds per document) and the report pickles small across the sandbox's pipe."""
    import pickle

    from hocba.signing.validate import validate_pdf

    report = validate_pdf(documents.valid.pdf, trust.config())
    assert report.valid and all(type(s.id) is str for s in report.signatures)
    assert len(pickle.dumps(report)) < 50_000
    start = time.perf_counter()
    report.to_dict()
    assert time.perf_counter() - start < 0.5


def _waiting_spare(timeout: float = 10.0):
    """The spare this process has ready (started in the background once a child has answered)."""
    import os

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sandbox._spares_lock:
            mine = [entry for entry in sandbox._spares if entry[0] == os.getpid()]
        if mine:
            return mine[-1][1]
        time.sleep(0.02)
    raise AssertionError("no spare was started")


def test_each_file_is_read_by_a_fresh_child_the_next_one_already_waiting(trust, documents):
    """A spare reads exactly one file: the one after it gets another process, and the spare that read a file
    has ended when its answer is in."""
    sandbox.run(b"%PDF-1.7", trust, LIMITS)
    seen = set()
    for data in (documents.valid.pdf, b"%PDF-1.7", documents.valid.xml):
        spare = _waiting_spare()
        assert spare.pid not in seen
        seen.add(spare.pid)
        result = sandbox.run(data, trust, LIMITS)
        assert result["kind"] in ("pdf", "xml")
        spare.join(timeout=5)
        assert spare.exitcode is not None, "the spare that read the file is gone"
    assert len(seen) == 3


def test_a_spare_that_died_waiting_is_replaced_by_a_fresh_child(trust, documents):
    import os
    import signal

    sandbox.run(b"%PDF-1.7", trust, LIMITS)
    spare = _waiting_spare()
    os.kill(spare.pid, signal.SIGKILL)
    spare.join(timeout=5)
    result = sandbox.run(documents.valid.pdf, trust, LIMITS)
    assert result["readable"] and result["report"]["valid"]


def test_a_spare_of_another_process_is_never_used(trust, documents):
    """A web server that forks after starting spares: the copies of the list it inherits are not its children."""
    sandbox.run(b"%PDF-1.7", trust, LIMITS)
    _waiting_spare()
    with sandbox._spares_lock:
        sandbox._spares[:] = [(owner + 100_000, *rest) for owner, *rest in sandbox._spares]
    assert sandbox._take_spare() is None
    result = sandbox.run(documents.valid.pdf, trust, LIMITS)
    assert result["readable"] and result["report"]["valid"]
