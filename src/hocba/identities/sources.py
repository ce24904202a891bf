"""Where a certificate to register comes from besides an uploaded file: a PKCS#11 token attached to the
server (the school's USB seal; SoftHSM2 in tests) or an account at a remote signing service (CSC API v1:
``credentials/list`` then ``credentials/info``). Each returns candidates; ``pick`` chooses the one that
names the holder. No database here."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import x509

from .certificates import CertificateInfo, CertificateProblem, inspect


@dataclass(frozen=True)
class Candidate:
    """A certificate found at a source, and the parameters that find its key again."""

    info: CertificateInfo
    params: dict


def certificates_on_token(module: str, token_label: str, pin: str) -> list[Candidate]:
    """Every certificate object on the token (``params``: module, token_label, key_label = the object's
    label, which the token's private key shares)."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    try:
        lib = pkcs11.lib(module)
    except (OSError, RuntimeError, pkcs11.PKCS11Error) as e:
        raise CertificateProblem(f"Không nạp được thư viện PKCS#11 {module}.") from e
    try:
        token = lib.get_token(token_label=token_label)
    except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned) as e:
        raise CertificateProblem(f"Không tìm thấy thiết bị ký số (token) «{token_label}».") from e
    try:
        session = token.open(user_pin=pin)
    except pkcs11.PinIncorrect as e:
        raise CertificateProblem("Mã PIN của thiết bị ký số không đúng.") from e
    found = []
    with session:
        objects = [(str(obj[Attribute.LABEL]), bytes(obj[Attribute.VALUE]))
                   for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})]
    certs = {label: x509.Certificate.load(der) for label, der in objects}
    cas = [c for c in certs.values() if c.basic_constraints_value and c.basic_constraints_value["ca"].native]
    for label, cert in certs.items():
        if any(cert is ca for ca in cas):
            continue
        found.append(Candidate(inspect(cert, cas), {"module": module, "token_label": token_label,
                                                    "key_label": label}))
    return found


def _csc_call(service_url: str, endpoint: str, payload: dict, auth: tuple[str, str] | None) -> dict:
    req = urllib.request.Request(f"{service_url.rstrip('/')}/csc/v1/{endpoint}", data=json.dumps(payload).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise CertificateProblem(f"Dịch vụ ký số từ xa từ chối yêu cầu {endpoint} (HTTP {e.code}).") from e
    except (OSError, ValueError) as e:
        raise CertificateProblem(f"Không kết nối được dịch vụ ký số từ xa {service_url}: {e}") from e


def credentials_at_csc(service_url: str, *, auth: tuple[str, str] | None = None, user_id: str = "",
                       credential_id: str = "") -> list[Candidate]:
    """The credentials of the account (``credentials/list``; only ``credential_id`` if given), each with its
    certificate chain (``credentials/info``). ``params``: service_url, credential_id."""
    if credential_id:
        ids = [credential_id]
    else:
        payload = {"maxResults": 100}
        if user_id:
            payload["userID"] = user_id
        ids = [str(i) for i in _csc_call(service_url, "credentials/list", payload, auth).get("credentialIDs", [])]
    found = []
    for cid in ids:
        try:
            info = _csc_call(service_url, "credentials/info", {"credentialID": cid, "certificates": "chain"}, auth)
            certs = [x509.Certificate.load(base64.b64decode(c)) for c in info["cert"]["certificates"]]
        except (CertificateProblem, KeyError, ValueError):
            continue  # a credential without a readable certificate cannot be registered; the others can
        if certs[0].basic_constraints_value and certs[0].basic_constraints_value["ca"].native:
            continue
        found.append(Candidate(inspect(certs[0], certs[1:]), {"service_url": service_url, "credential_id": cid}))
    return found


def pick(candidates: list[Candidate], matches: Callable[[CertificateInfo], bool], who: str) -> Candidate:
    """The one candidate that names ``who``; refuses none or several."""
    chosen = [c for c in candidates if matches(c.info)]
    if not chosen:
        names = "; ".join(sorted({c.info.common_name for c in candidates})[:10]) or "không có chứng thư số nào"
        raise CertificateProblem(f"Không có chứng thư số nào mang tên và số định danh của {who} (tìm thấy: {names}).")
    if len(chosen) > 1:
        raise CertificateProblem(f"Có {len(chosen)} chứng thư số cùng mang tên {who}; hãy chỉ rõ nhãn khoá hoặc "
                                 "mã tài khoản ký (credential ID).")
    return chosen[0]
