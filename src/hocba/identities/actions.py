"""Registering and retiring signing identities. Each function is one transaction that checks permission
(school admin or principal: ``permissions.require_manage_school``), checks the certificate against its
holder, writes, and appends one audit event. Token and remote-service look-ups happen before the
transaction opens; nothing is written when they fail."""

from __future__ import annotations

import datetime as dt
import os

from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record, snapshot
from hocba.school import permissions
from hocba.school.actions import ActionError
from hocba.school.models import School, Staff

from . import service, sources
from .certificates import (
    CertificateInfo,
    CertificateProblem,
    check_personal,
    check_seal,
    check_usable,
    inspect,
    is_seal_of,
    same_name,
)
from .models import SigningIdentity

Backend = SigningIdentity.Backend

#: parameters each backend needs to find its key again (secrets never: they come from the environment)
REQUIRED_PARAMS = {
    Backend.SERVER_PKCS12: ("path",),
    Backend.PKCS11: ("module", "token_label", "key_label"),
    Backend.CSC: ("service_url", "credential_id"),
}
ALLOWED_PARAMS = {
    Backend.SERVER_PKCS12: {"path", "password_env"},
    Backend.PKCS11: {"module", "token_label", "key_label", "pin_env"},
    Backend.CSC: {"service_url", "credential_id", "auth_env", "timeout"},
}
_AUDITED_FIELDS = ["school", "staff", "kind", "backend", "subject_cn", "subject_serial_number", "issuer", "serial",
                   "fingerprint", "not_before", "not_after", "status", "params", "registered_by", "registered_at",
                   "deactivated_by", "deactivated_at", "deactivation_reason"]


def _holder(staff_or_school: Staff | School) -> tuple[School, Staff | None]:
    if isinstance(staff_or_school, Staff):
        return staff_or_school.school, staff_or_school
    if isinstance(staff_or_school, School):
        return staff_or_school, None
    raise TypeError("chỉ đăng ký chứng thư số cho cán bộ (Staff) hoặc trường (School, con dấu số)")


def _check_params(backend: str, params: dict) -> dict:
    if backend not in REQUIRED_PARAMS:
        raise ActionError({"backend": f"Nơi giữ khoá không hợp lệ: {backend}."})
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    unknown = set(params) - ALLOWED_PARAMS[backend]
    if unknown:
        raise ActionError(f"Thông số không dùng cho nơi giữ khoá này: {', '.join(sorted(unknown))} (mã PIN và mật "
                          "khẩu không được lưu; hãy đặt chúng trong biến môi trường và ghi tên biến).")
    missing = [k for k in REQUIRED_PARAMS[backend] if not params.get(k)]
    if missing:
        raise ActionError(f"Thiếu thông số của nơi giữ khoá: {', '.join(missing)}.")
    if backend == Backend.SERVER_PKCS12:
        root = service.pki_dir().resolve()
        path = (root / params["path"]).resolve()
        if root not in path.parents:
            raise ActionError({"path": f"Tệp khoá phải nằm trong thư mục {root} (ghi đường dẫn tương đối, ví dụ "
                                       "p12/gv.toan.p12)."})
        if not path.is_file():
            raise ActionError({"path": f"Không có tệp khoá {path} trên máy chủ."})
    return params


def _check_holder(info: CertificateInfo, school: School, staff: Staff | None, now: dt.datetime) -> None:
    try:
        check_usable(info, now)
        if staff is not None:
            check_personal(info, staff.full_name, staff.personal_number)
        else:
            check_seal(info, school.name)
    except CertificateProblem as e:
        raise ActionError(str(e)) from e


@transaction.atomic
def register_identity(actor, staff_or_school: Staff | School, certificate_bytes: bytes, backend: str,
                      params: dict | None = None, *, chain=(), now: dt.datetime | None = None) -> SigningIdentity:
    """Registers the certificate of a staff member (or the school's seal): it must name them (CN = full
    name, serialNumber = CCCD:<personal number>; for the seal the school's name), be valid now and allow
    signing. An earlier active certificate of the same holder is marked replaced."""
    school, staff = _holder(staff_or_school)
    permissions.require_manage_school(actor, school)
    if staff is not None and not staff.is_active:
        raise ActionError(f"{staff.full_name} không còn công tác tại trường; không đăng ký chứng thư số.")
    params = _check_params(backend, params)
    try:
        info = inspect(certificate_bytes, list(chain))
    except CertificateProblem as e:
        raise ActionError(str(e)) from e
    now = now or timezone.now()
    _check_holder(info, school, staff, now)
    kind = SigningIdentity.Kind.SEAL if staff is None else SigningIdentity.Kind.PERSONAL
    current = (SigningIdentity.objects.select_for_update()
               .filter(school=school, kind=kind, staff=staff, status=SigningIdentity.Status.ACTIVE).first())
    if current is not None and current.fingerprint == info.fingerprint and current.backend == backend \
            and current.params == params:
        raise ActionError(f"Chứng thư số này đã được đăng ký cho {staff or school.name}.")
    if current is not None:
        current.status = SigningIdentity.Status.REPLACED
        current.deactivated_by, current.deactivated_at = actor, now
        current.deactivation_reason = "Thay bằng chứng thư số mới"
        current.save(update_fields=["status", "deactivated_by", "deactivated_at", "deactivation_reason"])
    identity = SigningIdentity.objects.create(
        school=school, staff=staff, kind=kind, backend=backend, certificate=info.der, chain_pem=info.chain_pem(),
        subject_cn=info.common_name, subject_serial_number=info.serial_number_attr, issuer=info.issuer[:500],
        serial=info.serial_hex, fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after,
        params=params, registered_by=actor, registered_at=now)
    record("identity.register", actor=actor, school=school, obj=identity,
           after=snapshot(identity, _AUDITED_FIELDS),
           extra={"holder": str(staff or school.name), "replaced": current.pk if current else None})
    return identity


@transaction.atomic
def deactivate_identity(actor, identity: SigningIdentity, reason: str) -> SigningIdentity:
    """Stops using a certificate (lost token, left the school, certificate revoked by its CA)."""
    identity = (SigningIdentity.objects.select_for_update(of=("self",)).select_related("school", "staff")
                .get(pk=identity.pk))
    permissions.require_manage_school(actor, identity.school)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError({"reason": "Hãy ghi lí do ngừng sử dụng chứng thư số."})
    if len(reason) > 250:
        raise ActionError({"reason": "Lí do dài quá 250 kí tự."})
    if identity.status != SigningIdentity.Status.ACTIVE:
        raise ActionError(f"Chứng thư số này đã ngừng sử dụng ({identity.get_status_display().lower()}).")
    before = snapshot(identity, ["status", "deactivated_by", "deactivated_at", "deactivation_reason"])
    identity.status = SigningIdentity.Status.REVOKED
    identity.deactivated_by, identity.deactivated_at, identity.deactivation_reason = actor, timezone.now(), reason
    identity.save(update_fields=["status", "deactivated_by", "deactivated_at", "deactivation_reason"])
    record("identity.deactivate", actor=actor, school=identity.school, obj=identity, before=before,
           after=snapshot(identity, ["status", "deactivated_by", "deactivated_at", "deactivation_reason"]),
           extra={"holder": str(identity.staff or identity.school.name), "reason": reason})
    return identity


# --- registering from a token or a remote signing account -------------------------------------------------

def _matcher(school: School, staff: Staff | None):
    if staff is not None:
        return lambda info: (same_name(info.common_name, staff.full_name)
                             and info.personal_number == staff.personal_number)
    return lambda info: is_seal_of(info, school.name)


def register_from_token(actor, staff_or_school: Staff | School, *, module: str, token_label: str, pin: str,
                        key_label: str = "", pin_env: str = "") -> SigningIdentity:
    """Reads the certificates on a PKCS#11 token (module path, token label, PIN) and registers the one that
    names the holder (or the one labelled ``key_label``). The PIN is not stored: signing reads it from the
    environment variable ``pin_env`` or asks for it."""
    school, staff = _holder(staff_or_school)
    permissions.require_manage_school(actor, school)
    try:
        candidates = sources.certificates_on_token(module, token_label, pin)
        if key_label:
            candidates = [c for c in candidates if c.params["key_label"] == key_label]
            if not candidates:
                raise CertificateProblem(f"Thiết bị ký số không có chứng thư số nhãn «{key_label}».")
            chosen = candidates[0]  # named explicitly: register_identity says what does not match
        else:
            chosen = sources.pick(candidates, _matcher(school, staff), staff.full_name if staff else school.name)
    except CertificateProblem as e:
        raise ActionError(str(e)) from e
    return register_identity(actor, staff_or_school, chosen.info.der, Backend.PKCS11,
                             {**chosen.params, "pin_env": pin_env}, chain=chosen.info.chain)


def register_from_csc(actor, staff_or_school: Staff | School, *, service_url: str, credential_id: str = "",
                      user_id: str = "", auth_env: str = "") -> SigningIdentity:
    """Lists the credentials of a remote signing account (CSC ``credentials/list`` + ``credentials/info``) and
    registers the one whose certificate names the holder. ``auth_env`` names an environment variable holding
    ``user:password`` for the service, if it asks for one."""
    school, staff = _holder(staff_or_school)
    permissions.require_manage_school(actor, school)
    auth = None
    if auth_env:
        value = os.environ.get(auth_env, "")
        if ":" not in value:
            raise ActionError({"auth_env": f"Biến môi trường {auth_env} chưa có tài khoản dạng tên:mật-khẩu."})
        user, _, password = value.partition(":")
        auth = (user, password)
    try:
        candidates = sources.credentials_at_csc(service_url, auth=auth, user_id=user_id, credential_id=credential_id)
        if credential_id:
            if not candidates:
                raise CertificateProblem(f"Dịch vụ ký số từ xa không có chứng thư số cho tài khoản ký «{credential_id}».")
            chosen = candidates[0]  # named explicitly: register_identity says what does not match
        else:
            chosen = sources.pick(candidates, _matcher(school, staff), staff.full_name if staff else school.name)
    except CertificateProblem as e:
        raise ActionError(str(e)) from e
    return register_identity(actor, staff_or_school, chosen.info.der, Backend.CSC,
                             {**chosen.params, "auth_env": auth_env}, chain=chosen.info.chain)
