"""What the rest of the application calls to sign: the signer of a user, the school's seal, and the
deployment's trust and timestamp settings. Only this module turns a ``SigningIdentity`` into a key.

- ``signer_for(user)``: the active personal identity of the user's ``Staff`` record as a ``Pkcs12Signer``
  (server-held, ``$HOCBA_VAR_DIR/pki/<params.path>``), ``Pkcs11Signer`` (token; PIN from the ``pin``
  argument or the environment variable named by ``params.pin_env``) or ``CscSigner`` (remote service).
  Raises ``NoSigningIdentity`` (Vietnamese message) when there is none.
- ``seal_signer(school)``: the same for the school's active seal (con dấu số).
- ``trust_config()``: ``settings.HOCBA_TRUST_ANCHORS`` / env ``HOCBA_TRUST_ANCHORS`` (paths), else the demo
  PKI's root (with its issuing CA as intermediate) when one exists.
- ``pades_settings()`` / ``xades_settings()``: those anchors and the TSA (``settings.HOCBA_TSA_URL`` / env
  ``HOCBA_TSA_URL``, else the demo PKI's TSA).

Nothing secret is read from the database: PKCS#12 passwords come from the demo manifest (``var/pki``) or the
environment variable named by ``params.password_env``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from hocba.signing.backends import (
    CscCredential,
    CscSigner,
    Pkcs11Signer,
    Pkcs12Signer,
    Signer,
    SignerError,
)
from hocba.signing.pades import PadesSettings
from hocba.signing.trust import TrustConfig, load_certificates
from hocba.signing.xades import XadesSettings

__all__ = ["NoSigningIdentity", "SigningNotConfigured", "active_identity", "demo_pki", "identity_for", "pades_settings",
           "pki_dir", "seal_identity", "seal_signer", "signer_for", "signer_from_identity", "trust_config",
           "tsa_url", "xades_settings"]


class NoSigningIdentity(Exception):
    """The user (or school) has no active certificate registered; ``str(e)`` is for the user."""


class SigningNotConfigured(Exception):
    """The deployment has no trust anchors or no timestamp service configured; ``str(e)`` is Vietnamese."""


# --- where things are ------------------------------------------------------------------------------------

def pki_dir() -> Path:
    """``settings.HOCBA_PKI_DIR`` if set, else ``$HOCBA_VAR_DIR/pki`` (the demo PKI and server-held keys)."""
    configured = getattr(settings, "HOCBA_PKI_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "pki"


def demo_pki():
    """The demo PKI of this deployment (``hocba.pki.DemoPki``), or ``None`` when none was initialised."""
    from hocba.pki import DemoPki

    root = pki_dir()
    return DemoPki(root) if (root / "manifest.json").exists() else None


# --- identities ------------------------------------------------------------------------------------------

def _staff_of(user):
    from hocba.school.models import Staff

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Staff.objects.filter(user=user).select_related("school").first()


def active_identity(staff):
    """The active personal ``SigningIdentity`` of a staff member, or ``None``."""
    from .models import SigningIdentity

    if staff is None:
        return None
    return SigningIdentity.objects.filter(staff=staff, kind=SigningIdentity.Kind.PERSONAL,
                                          status=SigningIdentity.Status.ACTIVE).first()


def identity_for(user):
    """The active personal ``SigningIdentity`` of ``user``'s staff record, or ``None``."""
    return active_identity(_staff_of(user))


def seal_identity(school):
    from .models import SigningIdentity

    return SigningIdentity.objects.filter(school=school, kind=SigningIdentity.Kind.SEAL,
                                          status=SigningIdentity.Status.ACTIVE).first()


def signer_for(user, *, pin: str | None = None) -> Signer:
    """The signer of ``user``'s active personal certificate."""
    staff = _staff_of(user)
    if staff is None:
        raise NoSigningIdentity("Tài khoản này không gắn với cán bộ nào của trường nên không có chữ ký số.")
    identity = active_identity(staff)
    if identity is None:
        raise NoSigningIdentity(f"{staff.full_name} chưa có chứng thư số đang dùng. Quản trị trường cần đăng ký "
                                "chứng thư số cho thầy/cô trước khi ký.")
    return signer_from_identity(identity, pin=pin)


def seal_signer(school, *, pin: str | None = None) -> Signer:
    """The signer of the school's active seal certificate (con dấu số)."""
    identity = seal_identity(school)
    if identity is None:
        raise NoSigningIdentity(f"{school.name} chưa đăng ký con dấu số (chứng thư số của tổ chức).")
    return signer_from_identity(identity, pin=pin)


def _chain_of(identity) -> list:
    return load_certificates(identity.chain_pem.encode()) if identity.chain_pem.strip() else []


def _secret_from_env(name: str | None, what: str) -> str:
    value = os.environ.get(name or "")
    if not value:
        raise SignerError(f"chưa cấu hình {what} (biến môi trường {name or '(chưa đặt tên)'})")
    return value


def _pkcs12_file(relative: str) -> Path:
    root = pki_dir().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise SignerError(f"đường dẫn tệp khoá {relative!r} phải nằm trong thư mục {root}")
    return path


def signer_from_identity(identity, *, pin: str | None = None) -> Signer:
    """Opens the key of ``identity`` and checks it still holds the registered certificate."""
    from .models import SigningIdentity

    if identity.status != SigningIdentity.Status.ACTIVE:
        raise NoSigningIdentity(f"Chứng thư số của {identity.subject_cn} đã ngừng sử dụng "
                                f"({identity.get_status_display().lower()}).")
    params = identity.params or {}
    backend = identity.backend
    if backend == SigningIdentity.Backend.SERVER_PKCS12:
        path = _pkcs12_file(params.get("path", ""))
        demo = demo_pki()
        if params.get("password_env"):
            password = _secret_from_env(params["password_env"], "mật khẩu tệp khoá PKCS#12").encode()
        elif demo is not None and demo.root.resolve() in path.parents:
            password = demo.pkcs12_password
        else:
            raise SignerError("chưa cấu hình mật khẩu của tệp khoá PKCS#12 (thông số password_env)")
        if not path.exists():
            raise SignerError(f"không tìm thấy tệp khoá {path} trên máy chủ")
        signer = Pkcs12Signer.load(path, password)
        if not signer.chain and identity.chain_pem:
            signer = Pkcs12Signer(signer.private_key, signer.certificate, _chain_of(identity))
    elif backend == SigningIdentity.Backend.PKCS11:
        pin = pin or _secret_from_env(params.get("pin_env"), "mã PIN của thiết bị ký số")
        signer = Pkcs11Signer(params["module"], params["token_label"], pin, params["key_label"],
                              chain=_chain_of(identity))
    elif backend == SigningIdentity.Backend.CSC:
        auth = None
        if params.get("auth_env"):
            user, _, password = _secret_from_env(params["auth_env"], "tài khoản dịch vụ ký số từ xa").partition(":")
            auth = (user, password)
        signer = CscSigner(CscCredential(params["service_url"], params["credential_id"], auth),
                           timeout=float(params.get("timeout", 120)))
    else:
        raise SignerError(f"nơi giữ khoá không được hỗ trợ: {backend}")
    if signer.certificate.dump() != bytes(identity.certificate):
        raise SignerError(f"khoá hiện có không khớp chứng thư số đã đăng ký cho {identity.subject_cn}; quản trị "
                          "trường cần đăng ký lại chứng thư số")
    return signer


# --- deployment settings ---------------------------------------------------------------------------------

def _paths(setting: str) -> list[str]:
    value = getattr(settings, setting, None)
    if value is None:
        value = os.environ.get(setting, "")
    if isinstance(value, str):
        value = [p for p in value.split(os.pathsep) if p]
    return [str(p) for p in value]


def trust_config() -> TrustConfig:
    """Configured anchors (``HOCBA_TRUST_ANCHORS``, ``HOCBA_TRUST_INTERMEDIATES``), else the demo root."""
    anchors, intermediates = _paths("HOCBA_TRUST_ANCHORS"), _paths("HOCBA_TRUST_INTERMEDIATES")
    if not anchors:
        demo = demo_pki()
        if demo is None:
            raise SigningNotConfigured("Chưa cấu hình chứng thư số gốc tin cậy (HOCBA_TRUST_ANCHORS) và chưa có "
                                       "PKI minh hoạ (hocba demo-pki).")
        anchors, intermediates = [demo.root_cert_path], [*intermediates, demo.cert_path("interm")]
    return TrustConfig.from_files(anchors, intermediates)


def tsa_url() -> str:
    url = getattr(settings, "HOCBA_TSA_URL", None) or os.environ.get("HOCBA_TSA_URL", "")
    if url:
        return url
    demo = demo_pki()
    if demo is None:
        raise SigningNotConfigured("Chưa cấu hình dịch vụ cấp dấu thời gian (HOCBA_TSA_URL) và chưa có PKI minh "
                                   "hoạ (hocba demo-pki).")
    return demo.tsa_url


def pades_settings() -> PadesSettings:
    return PadesSettings(tsa_url=tsa_url(), trust=trust_config(),
                         location=getattr(settings, "HOCBA_SIGNING_LOCATION", None))


def xades_settings() -> XadesSettings:
    return XadesSettings(tsa_url=tsa_url(), trust=trust_config())
