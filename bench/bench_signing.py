"""Signatures per second for each backend and format, next to raw RSA-2048 signing measured in the same run.

    python bench/bench_signing.py            # 40 documents per batch
    python bench/bench_signing.py --quick    # 12

It makes its own demo PKI in a temporary directory and serves it (OCSP, CRL, TSA) on a free loopback port.
Every measured signature includes everything a real one does: certificate precheck (except where the batch
does it once), RFC 3161 timestamp from the local TSA, revocation data embedded. Ratios are against raw
RSA-2048 PKCS#1 v1.5 signatures with ``cryptography`` on one core; the target is batch PAdES with a
server-held key >= 5% of that. A sample of the batch output is re-validated with ``pyhanko sign validate``.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

try:
    import hocba.signing  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET_RATIO = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rate(n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def raw_rsa_rate(seconds: float = 1.0) -> float:
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    digest = hashlib.sha256(b"hoc ba").digest()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        n += 50
    return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 12 if args.quick else 40

    from hocba.pki import init, make_server
    from hocba.signing import pades, xades
    from hocba.signing.backends import Pkcs12Signer
    from hocba.signing.samples import minimal_pdf
    from hocba.signing.trust import TrustConfig

    with tempfile.TemporaryDirectory() as tmp:
        pki = init(tmp, port=_free_port())
        server = make_server(tmp, quiet=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            trust = TrustConfig.from_files([pki.root_cert_path])
            settings = pades.PadesSettings(tsa_url=pki.tsa_url, trust=trust)
            xsettings = xades.XadesSettings(tsa_url=pki.tsa_url, trust=trust)
            signer = Pkcs12Signer.load(pki.pkcs12_path("hieutruong"), pki.pkcs12_password)
            slots = [pades.SignerSlot("HIEU_TRUONG", "ht", "Hiệu trưởng")]
            docs = [pades.prepare_fields(minimal_pdf([f"Hoc ba so {i:05d}", "Toan 8,5"]), slots) for i in range(n)]
            xml = [f'<HocBa xmlns="urn:hocba:bench" Id="hb"><MonHoc Id="m">{i}</MonHoc></HocBa>'.encode()
                   for i in range(n)]

            raw = raw_rsa_rate()
            # warm up the TSA/OCSP path once (first requests build the Animator's caches)
            pades.sign_field(docs[0], "HIEU_TRUONG", signer, settings)

            one_by_one = _rate(max(4, n // 4), lambda: [pades.sign_field(d, "HIEU_TRUONG", signer, settings)
                                                        for d in docs[:max(4, n // 4)]])
            batch_out: list[bytes] = []
            batch = _rate(n, lambda: batch_out.extend(pades.sign_batch(docs, "HIEU_TRUONG", signer, settings)))
            xml_rate = _rate(max(4, n // 4), lambda: [xades.sign_xml(x, signer, xsettings, signature_id="sig-ht",
                                                                     references=["m"]) for x in xml[:max(4, n // 4)]])

            sample = Path(tmp) / "batch-sample.pdf"
            ok = True
            for i in (0, n - 1):
                sample.write_bytes(batch_out[i])
                run = subprocess.run([str(Path(sys.executable).with_name("pyhanko")), "sign", "validate",
                                      "--executive-summary", "--trust", str(pki.root_cert_path), "--trust-replace",
                                      str(sample)], capture_output=True, text=True, check=False)
                ok &= run.returncode == 0 and "VALID" in run.stdout and "INVALID" not in run.stdout
        finally:
            server.shutdown()
            server.server_close()

    print(f"raw RSA-2048 (cryptography, 1 core):  {raw:9.1f} signatures/s")
    for name, rate in (("PAdES B-LT one at a time (PKCS#12)", one_by_one), ("PAdES B-LT batch (PKCS#12)", batch),
                       ("XAdES-LT one at a time (PKCS#12)", xml_rate)):
        print(f"{name:38s} {rate:9.1f} signatures/s   ratio {rate / raw:6.1%}")
    print(f"batch output validated by pyhanko sign validate: {'yes' if ok else 'NO'}")
    met = batch / raw >= TARGET_RATIO and ok
    print(f"target batch PAdES >= {TARGET_RATIO:.0%} of raw RSA: {'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
