"""Checking the audit chains stored in the database, and the signed checkpoints that seal them."""

from __future__ import annotations

from .chain import ChainProblem, ChainReport, verify_scope
from .models import AuditChainHead, AuditCheckpoint, AuditEvent


def verify_audit(scope: int | None = None, *, signatures: bool = True) -> ChainReport:
    """Walk every scope (or one) in sequence order; streams rows so a city-size log fits in memory. Every
    signed checkpoint must still match its event; with ``signatures`` each checkpoint's seal signature is
    validated too (``checkpoint.checkpoint_problems``)."""
    heads = {h.scope: h for h in AuditChainHead.objects.all()}
    scopes = set(heads) | set(AuditEvent.objects.values_list("scope", flat=True).distinct())
    scopes |= set(AuditCheckpoint.objects.values_list("scope", flat=True).distinct())
    if scope is not None:
        scopes &= {scope}
    problems = []
    total = checked = 0
    for s in sorted(scopes):
        head = heads.get(s)
        checkpoints = list(AuditCheckpoint.objects.filter(scope=s).select_related("school").order_by("seq"))
        events = _counting(AuditEvent.objects.filter(scope=s).order_by("seq", "id").iterator(chunk_size=2000))
        problems += verify_scope(s, events, head.seq if head else None, head.hash if head else None,
                                 {c.seq: c.hash for c in checkpoints})
        total += events.count
        problems += _missing_checkpoints(s, checkpoints)
        if signatures and checkpoints:
            problems += _checkpoint_signatures(s, checkpoints)
        checked += len(checkpoints)
    return ChainReport(scopes=len(scopes), events=total, problems=tuple(problems), checkpoints=checked)


def _missing_checkpoints(scope: int, checkpoints) -> list[ChainProblem]:
    """Every ``audit.checkpoint`` event of the chain names a checkpoint that must still exist."""
    stored = {(c.seq, c.hash) for c in checkpoints}
    for event_id, extra in (AuditEvent.objects.filter(scope=scope, action="audit.checkpoint")
                            .order_by("seq").values_list("id", "extra")):
        if (extra.get("seq"), extra.get("hash")) not in stored:
            return [ChainProblem(scope, event_id, extra.get("seq"),
                                 f"Điểm niêm phong tại số thứ tự {extra.get('seq')} (ghi ở sự kiện #{event_id}) đã bị "
                                 "xoá hoặc sửa.")]
    return []


def _checkpoint_signatures(scope: int, checkpoints) -> list[ChainProblem]:
    from hocba.identities.models import SigningIdentity
    from hocba.identities.service import SigningNotConfigured, trust_config

    from .checkpoint import checkpoint_problems

    try:
        trust = trust_config()
    except SigningNotConfigured as exc:
        return [ChainProblem(scope, None, None, f"Không kiểm tra được chữ ký của các điểm niêm phong: {exc}")]
    seals = set(SigningIdentity.objects.filter(school_id=scope, kind=SigningIdentity.Kind.SEAL)
                .values_list("fingerprint", flat=True))
    for checkpoint in checkpoints:
        found = checkpoint_problems(checkpoint, trust, seals)
        if found:
            return [ChainProblem(scope, None, checkpoint.seq, found[0])]
    return []


class _counting:
    """An iterator that counts what it yields (the rows are streamed, never all in memory)."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row
