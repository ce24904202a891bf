"""Appending audit events.

``record`` refuses to run outside a transaction: an audit row must commit or roll back together with the
change it describes, so every action calls it inside its own ``transaction.atomic`` block.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .chain import GENESIS, event_hash
from .context import client_ip
from .models import AuditChainHead, AuditEvent


class AuditOutsideTransaction(RuntimeError):
    pass


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """The concrete field values of ``obj`` (foreign keys as ids), for ``before``/``after``."""
    out = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in ("password",):
            continue
        out[field.attname] = _jsonable(getattr(obj, field.attname))
    return out


def record(action: str, *, actor=None, school=None, obj: models.Model | None = None,
           before: dict | None = None, after: dict | None = None, extra: dict | None = None,
           object_type: str = "", object_id: str = "", object_repr: str = "") -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(f"audit event {action!r} written outside the action's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:250]
    actor_name = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_name = actor.get_username()
    else:
        actor = None
    event = AuditEvent(
        school=school, actor=actor, actor_name=actor_name, action=action,
        object_type=object_type, object_id=object_id, object_repr=object_repr[:250],
        before=_jsonable(before), after=_jsonable(after), extra=_jsonable(extra or {}),
        ip=client_ip.get(), created_at=timezone.now(),
    )
    head = _lock_head(school.pk if school is not None else 0)
    event.scope, event.seq, event.prev_hash = head.scope, head.seq + 1, head.hash or GENESIS
    event.hash = event_hash(event)
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


def _lock_head(scope: int) -> AuditChainHead:
    """The chain head of a scope, locked until the transaction ends (created on first use)."""
    head = AuditChainHead.objects.select_for_update().filter(scope=scope).first()
    if head is None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(scope=scope)
        except IntegrityError:  # another writer created it first
            pass
        head = AuditChainHead.objects.select_for_update().get(scope=scope)
    return head
