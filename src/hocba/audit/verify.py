"""Checking the audit chains stored in the database."""

from __future__ import annotations

from .chain import ChainReport, verify_scope
from .models import AuditChainHead, AuditEvent


def verify_audit(scope: int | None = None) -> ChainReport:
    """Walk every scope (or one) in sequence order; streams rows so a city-size log fits in memory."""
    heads = {h.scope: h for h in AuditChainHead.objects.all()}
    scopes = set(heads) | set(AuditEvent.objects.values_list("scope", flat=True).distinct())
    if scope is not None:
        scopes &= {scope}
    problems = []
    total = 0
    for s in sorted(scopes):
        head = heads.get(s)
        events = _counting(AuditEvent.objects.filter(scope=s).order_by("seq", "id").iterator(chunk_size=2000))
        problems += verify_scope(s, events, head.seq if head else None, head.hash if head else None)
        total += events.count
    return ChainReport(scopes=len(scopes), events=total, problems=tuple(problems))


class _counting:
    """An iterator that counts what it yields (the rows are streamed, never all in memory)."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row
