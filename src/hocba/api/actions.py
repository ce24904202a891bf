"""Issuing and revoking API tokens: one transaction and one audit event each."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record
from hocba.school.actions import ActionError
from hocba.school.permissions import deny, principal_of

from .models import ApiToken

TOKEN_PREFIX = "hb_"


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _school_of(user):
    staff = principal_of(user).staff
    return staff.school if staff is not None else None


def _may_manage(actor, user) -> bool:
    """The owner, a system administrator, or a command run on the server (``actor=None``)."""
    return actor is None or actor.pk == user.pk or principal_of(actor).is_system_admin


@transaction.atomic
def issue_token(actor, user, *, label: str = "") -> IssuedToken:
    if not _may_manage(actor, user):
        deny("Chỉ chủ tài khoản hoặc quản trị hệ thống được cấp khoá API.")
    if not user.is_active:
        raise ActionError({"user": f"Tài khoản {user.get_username()} đang bị khoá."})
    label = (label or "").strip()
    if len(label) > 100:
        raise ActionError({"label": "Tên gợi nhớ dài quá 100 kí tự."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, label=label, prefix=secret[:10], token_hash=token_hash(secret),
                                    created_at=timezone.now())
    record("api.token_issue", actor=actor, school=_school_of(user), obj=token,
           object_repr=f"{token.prefix}… – {user.get_username()}",
           extra={"user": user.get_username(), "label": label, "by_command": actor is None})
    return IssuedToken(token, secret)


@transaction.atomic
def revoke_token(actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
    if not _may_manage(actor, token.user):
        deny("Chỉ chủ tài khoản hoặc quản trị hệ thống được thu hồi khoá API.")
    if token.revoked_at is not None:
        raise ActionError("Khoá API này đã bị thu hồi.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record("api.token_revoke", actor=actor, school=_school_of(token.user), obj=token,
           object_repr=f"{token.prefix}… – {token.user.get_username()}",
           extra={"user": token.user.get_username(), "by_command": actor is None})
    return token
