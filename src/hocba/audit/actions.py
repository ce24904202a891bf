"""Actions of the audit app: sealing a school's chain (``checkpoint_chain``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .checkpoint import CheckpointError, sign_statement, statement
from .log import _lock_head, record
from .models import AuditChainHead, AuditCheckpoint, AuditEvent

__all__ = ["CheckpointError", "checkpoint_chain"]


def checkpoint_chain(school, *, actor=None) -> AuditCheckpoint:
    """Seals the current head of ``school``'s audit chain with the school's seal and records it (the
    checkpoint row and an ``audit.checkpoint`` event, one transaction). ``actor`` None is the system (the
    daily ``hocba audit checkpoint``); a person must manage the school. Raises ``CheckpointError``.

    The seal signs outside the transaction (a timestamp and an OCSP answer are network round trips; the
    chain's head stays free for the school's writers meanwhile); events written in between simply come after
    the sealed one."""
    if actor is not None:
        from hocba.school.permissions import require_manage_school

        require_manage_school(actor, school)
    head = AuditChainHead.objects.filter(scope=school.pk).first()
    if head is None or head.seq == 0:
        raise CheckpointError(f"Nhật ký của {school.name} chưa có sự kiện nào để niêm phong.")
    at = timezone.now()
    text = statement(school.code, school.pk, head.seq, head.hash, at)
    signature, signer_fp, signer_name = sign_statement(school, text)
    with transaction.atomic():
        _lock_head(school.pk)  # orders this with another checkpoint of the same head
        existing = AuditCheckpoint.objects.filter(scope=school.pk, seq=head.seq).first()
        if existing is not None:
            return existing
        sealed = AuditEvent.objects.get(scope=school.pk, seq=head.seq)
        if sealed.hash != head.hash:  # cannot happen unless the chain is being tampered with right now
            raise CheckpointError(f"Nhật ký của {school.name} vừa thay đổi tại số thứ tự {head.seq}; không niêm "
                                  "phong. Hãy chạy «hocba audit verify».")
        checkpoint = AuditCheckpoint.objects.create(
            school=school, scope=school.pk, seq=head.seq, hash=head.hash, at=at, statement=text,
            signature=signature, signer_fingerprint=signer_fp, signer_name=signer_name[:250])
        record("audit.checkpoint", actor=actor, school=school, obj=checkpoint,
               extra={"seq": head.seq, "hash": head.hash, "at": at, "signer": signer_name,
                      "signer_fingerprint": signer_fp})
    return checkpoint
