"""Remote signing over the CSC API against certomancer-csc-dummy, serving the same demo PKI on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from hocba.signing import pades, xades
from hocba.signing.backends import CscCredential, CscSigner
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_file, validate_pdf

csc_dummy = pytest.importorskip("csc_dummy.csc_dummy_server",
                                reason="certomancer-csc-dummy is not installed (test extra)")


@pytest.fixture(scope="session")
def csc_service(pki):
    from aiohttp import web
    from certomancer.registry import CertomancerConfig

    cfg = CertomancerConfig.from_file(str(pki.config_path), key_search_dir=str(pki.root))
    app = csc_dummy.CSCWithCertomancer(cfg, service_params=csc_dummy.DummyServiceParams(
        hash_pinning_required=True))
    app.register_routes()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app.app)
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_teacher_signs_remotely_pdf_and_xml(csc_service, pki, pades_settings, trust):
    label = pki.manifest["signers"]["gv.van"]
    signer = CscSigner(CscCredential(csc_service, f"hocba/{label}"))
    assert signer.certificate.subject.native["common_name"] == "Nguyễn Thị Lan"

    request_id = signer.begin([b"\x01" * 32, b"\x02" * 32])
    signatures = signer.poll(request_id)  # the dummy service authorises at once
    assert signatures is not None and len(signatures) == 2 and len(signatures[0]) == 256

    pdf = pades.prepare_fields(minimal_pdf(["Ngu van 7,7"]), [pades.SignerSlot("GVCN", "gvcn", "GVCN")])
    pdf = pades.sign_field(pdf, "GVCN", signer, pades_settings)
    assert validate_pdf(pdf, trust).valid

    xml = b'<HocBa xmlns="urn:hocba:t" Id="hb"><MonHoc Id="van">7,7</MonHoc></HocBa>'
    signed = xades.sign_xml(xml, signer, xades.XadesSettings(tsa_url=pki.tsa_url, trust=trust),
                            signature_id="sig-gvcn", references=["van"])
    assert validate_file(signed, trust).valid


def test_batch_signing_asks_the_remote_service_once(csc_service, pki, pades_settings, trust):
    label = pki.manifest["signers"]["hieutruong"]
    signer = CscSigner(CscCredential(csc_service, f"hocba/{label}"))
    slots = [pades.SignerSlot("HIEU_TRUONG", "ht", "Hiệu trưởng")]
    docs = [pades.prepare_fields(minimal_pdf([f"Hoc ba {i}"]), slots) for i in range(3)]
    session = pades.BatchSession("HIEU_TRUONG", signer, pades_settings)
    digests = session.prepare(docs)
    request_id = signer.begin(digests)
    signed = session.finish(signer.poll(request_id))
    assert all(validate_pdf(pdf, trust).valid for pdf in signed)
