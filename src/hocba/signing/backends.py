"""Signer backends: one interface that signs *digests*, whatever holds the key.

- ``Pkcs12Signer``: a key held by the server in a PKCS#12 file (the demo, and organisational e-seals kept
  on the server).
- ``Pkcs11Signer``: a key on a PKCS#11 token (the school's USB seal token; SoftHSM2 in tests).
- ``CscSigner``: a remote signing service speaking the Cloud Signature Consortium API (VNPT SmartCA,
  Viettel MySign... in production; certomancer-csc-dummy in tests). It is asynchronous: ``begin`` submits a
  batch of digests and ``poll`` returns the signatures once the holder has confirmed.

All produce RSASSA-PKCS1-v1_5 signatures over the given digests (SHA-256 by default), which is what PAdES
(CMS ``sha256WithRSAEncryption``) and XAdES (``rsa-sha256``) embed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from asn1crypto import algos, x509

DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


class SignerError(Exception):
    """A backend could not sign (token absent, wrong PIN, service refused...). Message in Vietnamese."""


@runtime_checkable
class Signer(Protocol):
    """Anything that can sign digests for one certificate."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Issuing CA certificates (leaf excluded), embedded in signatures to help validators."""

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]: ...


@runtime_checkable
class AsyncSigner(Signer, Protocol):
    """A signer whose key holder confirms later: ``begin`` returns a request id, ``poll`` the signatures (in
    the order of the digests) or ``None`` while the holder has not confirmed yet."""

    def begin(self, digests: Sequence[bytes], algorithm: str = "sha256") -> str: ...

    def poll(self, request_id: str) -> list[bytes] | None: ...


def holder_name(cert: x509.Certificate) -> str:
    """The signer's display name: the certificate subject's CN."""
    return cert.subject.native.get("common_name") or cert.subject.human_friendly


def digest_info(digest: bytes, algorithm: str) -> bytes:
    """DER ``DigestInfo`` (what RSASSA-PKCS1-v1_5 signs) for a precomputed digest."""
    _check_digest(digest, algorithm)
    return algos.DigestInfo({"digest_algorithm": {"algorithm": algorithm}, "digest": digest}).dump()


def _check_digest(digest: bytes, algorithm: str) -> None:
    if algorithm not in DIGEST_SIZES:
        raise SignerError(f"thuật toán băm không được hỗ trợ: {algorithm}")
    if len(digest) != DIGEST_SIZES[algorithm]:
        raise SignerError(f"giá trị băm {algorithm} phải dài {DIGEST_SIZES[algorithm]} byte")


def _to_asn1(cert) -> x509.Certificate:
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.Certificate.load(cert.public_bytes(Encoding.DER))


class Pkcs12Signer:
    """A server-held private key loaded from a PKCS#12 file."""

    def __init__(self, key, certificate: x509.Certificate, chain: Sequence[x509.Certificate] = ()):
        self._key = key
        self._certificate = certificate
        self._chain = tuple(c for c in chain if c.subject != c.issuer or c != certificate)

    @classmethod
    def load(cls, path: Path | str, password: bytes | None) -> Pkcs12Signer:
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            key, cert, extra = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
        except ValueError as e:
            raise SignerError(f"không mở được tệp khoá PKCS#12 {path}: sai mật khẩu hoặc tệp hỏng") from e
        if key is None or cert is None:
            raise SignerError(f"tệp PKCS#12 {path} không chứa khoá và chứng thư số")
        return cls(key, _to_asn1(cert), [_to_asn1(c) for c in extra or ()])

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    @property
    def private_key(self):
        """The ``cryptography`` key object (used by XAdES signing with signxml)."""
        return self._key

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        hash_alg = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[algorithm]()
        out = []
        for d in digests:
            _check_digest(d, algorithm)
            out.append(self._key.sign(d, padding.PKCS1v15(), utils.Prehashed(hash_alg)))
        return out


class Pkcs11Signer:
    """A private key on a PKCS#11 token, found by label (key and certificate objects share it).

    The token signs ``CKM_RSA_PKCS`` over a DigestInfo built here, so only digests leave the server.
    """

    def __init__(self, lib_path: str, token_label: str, pin: str, key_label: str,
                 chain: Sequence[x509.Certificate] = ()):
        import pkcs11

        self._lib = pkcs11.lib(lib_path)
        try:
            self._token = self._lib.get_token(token_label=token_label)
        except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned) as e:
            raise SignerError(f"không tìm thấy thiết bị ký số (token) {token_label!r}") from e
        self._pin = pin
        self._key_label = key_label
        with self._session() as session:
            certs = list(session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                                              pkcs11.Attribute.LABEL: key_label}))
            if not certs:
                raise SignerError(f"token {token_label!r} không có chứng thư số {key_label!r}")
            self._certificate = x509.Certificate.load(bytes(certs[0][pkcs11.Attribute.VALUE]))
        self._chain = tuple(chain)

    def _session(self):
        import pkcs11

        try:
            return self._token.open(user_pin=self._pin)
        except pkcs11.PinIncorrect as e:
            raise SignerError("mã PIN của thiết bị ký số không đúng") from e

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        import pkcs11

        with self._session() as session:
            key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=self._key_label)
            return [bytes(key.sign(digest_info(d, algorithm), mechanism=pkcs11.Mechanism.RSA_PKCS))
                    for d in digests]


@dataclass(frozen=True)
class CscCredential:
    service_url: str
    credential_id: str
    auth: tuple[str, str] | None = None  # (user, password) for HTTP basic auth, if the service asks for it


class CscSigner:
    """Remote signing over the CSC API v1 (``credentials/info``, ``credentials/authorize``,
    ``signatures/signHash``). ``begin`` submits the digests; ``poll`` asks the service whether the holder has
    confirmed and, once authorised, returns the signatures. ``sign_digests`` waits (``timeout`` seconds)."""

    def __init__(self, credential: CscCredential, *, timeout: float = 120.0, poll_interval: float = 0.5):
        self.credential = credential
        self.timeout = timeout
        self.poll_interval = poll_interval
        info = self._call("credentials/info", {"credentialID": credential.credential_id, "certificates": "chain"})
        import base64

        certs = [x509.Certificate.load(base64.b64decode(c)) for c in info["cert"]["certificates"]]
        self._certificate, self._chain = certs[0], tuple(certs[1:])
        self._pending: dict[str, tuple[list[bytes], str]] = {}

    def _call(self, endpoint: str, payload: dict) -> dict:
        import base64
        import json
        import urllib.error
        import urllib.request

        req = urllib.request.Request(f"{self.credential.service_url.rstrip('/')}/csc/v1/{endpoint}",
                                     data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        if self.credential.auth:
            token = base64.b64encode(":".join(self.credential.auth).encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise SignerError(f"dịch vụ ký số từ xa từ chối yêu cầu {endpoint} (HTTP {e.code})") from e
        except OSError as e:
            raise SignerError(f"không kết nối được dịch vụ ký số từ xa: {e}") from e

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def begin(self, digests: Sequence[bytes], algorithm: str = "sha256") -> str:
        for d in digests:
            _check_digest(d, algorithm)
        request_id = hashlib.sha256(b"".join(digests) + str(time.time_ns()).encode()).hexdigest()[:32]
        self._pending[request_id] = (list(digests), algorithm)
        return request_id

    def poll(self, request_id: str) -> list[bytes] | None:
        import base64

        digests, algorithm = self._pending[request_id]
        b64 = [base64.b64encode(d).decode() for d in digests]
        auth = self._call("credentials/authorize", {"credentialID": self.credential.credential_id,
                                                    "numSignatures": len(digests), "hash": b64})
        sad = auth.get("SAD")
        if not sad:
            return None  # the holder has not confirmed yet
        oid = algos.SignedDigestAlgorithm({"algorithm": f"{algorithm}_rsa"})["algorithm"].dotted
        result = self._call("signatures/signHash", {"credentialID": self.credential.credential_id, "SAD": sad,
                                                    "hash": b64, "signAlgo": oid})
        del self._pending[request_id]
        return [base64.b64decode(s) for s in result["signatures"]]

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        request_id = self.begin(digests, algorithm)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            sigs = self.poll(request_id)
            if sigs is not None:
                return sigs
            time.sleep(self.poll_interval)
        raise SignerError("người ký chưa xác nhận trên ứng dụng ký số từ xa trong thời gian cho phép")


def pyhanko_signer(signer: Signer, embed_roots: bool = False):
    """Wraps any ``Signer`` as a pyHanko ``Signer`` (which asks to sign the CMS signed attributes)."""
    from pyhanko.sign.signers.pdf_cms import Signer as PyhankoSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class _Adapter(PyhankoSigner):
        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            if dry_run:
                return bytes(signer.certificate.public_key.bit_size // 8)
            return signer.sign_digests([hashlib.new(digest_algorithm, data).digest()], digest_algorithm)[0]

    return _Adapter(signing_cert=signer.certificate,
                    cert_registry=SimpleCertificateStore.from_certs([signer.certificate, *signer.chain]),
                    signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
                    embed_roots=embed_roots)
