"""The hash chain of audit events, and its checker.

``event_hash`` is SHA-256 over a canonical JSON of everything an event says plus its place in the chain
(scope, sequence number, previous hash). ``verify_chain`` walks a scope in sequence order and reports the
first event that is edited (its hash no longer matches its content), missing (a gap in the sequence),
inserted or reordered (its previous hash is not the hash of the event before it), or a chain cut short
(the last event is not the recorded head), and an event that no longer has the hash a signed checkpoint
sealed (a history rewritten with every hash recomputed; ``checkpoint.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable

GENESIS = "0" * 64


def _canonical(event) -> bytes:
    created = event.created_at
    body = {
        "scope": int(event.scope), "seq": int(event.seq), "prev": event.prev_hash,
        "school": event.school_id, "actor": event.actor_id, "actor_name": event.actor_name,
        "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
        "object_repr": event.object_repr, "before": event.before, "after": event.after, "extra": event.extra,
        "ip": event.ip, "created_at": created.astimezone(dt_utc()).isoformat(timespec="microseconds"),
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def dt_utc():
    import datetime as dt

    return dt.UTC


def event_hash(event) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


@dataclasses.dataclass(frozen=True)
class ChainProblem:
    scope: int
    event_id: int | None
    seq: int | None
    message: str  # Vietnamese


@dataclasses.dataclass(frozen=True)
class ChainReport:
    scopes: int
    events: int
    problems: tuple[ChainProblem, ...]
    checkpoints: int = 0  # signed checkpoints checked (link and signature)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_scope(scope: int, events: Iterable, head_seq: int | None, head_hash: str | None,
                 checkpoints: dict[int, str] | None = None) -> list[ChainProblem]:
    """Check one scope; ``events`` in sequence order; ``checkpoints`` the sealed hash of each sealed sequence
    number. Returns the first problem found (or none)."""
    checkpoints = checkpoints or {}
    expected_prev, expected_seq = GENESIS, 1
    last = None
    for event in events:
        where = f"sự kiện #{event.pk} (số thứ tự {event.seq}, {event.action})"
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                msg = f"Thiếu sự kiện số thứ tự {expected_seq}–{event.seq - 1} trước {where}: nhật ký đã bị xoá."
            else:
                msg = f"{where} trùng hoặc sai số thứ tự: nhật ký đã bị chèn hoặc sắp xếp lại."
            return [ChainProblem(scope, event.pk, event.seq, msg)]
        if event_hash(event) != event.hash:
            return [ChainProblem(scope, event.pk, event.seq, f"Nội dung {where} đã bị sửa (mã băm không khớp).")]
        if event.prev_hash != expected_prev:
            return [ChainProblem(scope, event.pk, event.seq,
                                 f"{where} không nối tiếp sự kiện trước: nhật ký đã bị chèn, xoá hoặc sắp xếp lại.")]
        sealed = checkpoints.get(event.seq)
        if sealed is not None and sealed != event.hash:
            return [ChainProblem(scope, event.pk, event.seq,
                                 f"{where} không khớp điểm niêm phong (con dấu số) đã ký cho số thứ tự này: nhật ký "
                                 "đã bị viết lại từ đây trở về trước.")]
        expected_prev, expected_seq, last = event.hash, event.seq + 1, event
    if head_seq is not None and (last is None and head_seq or last is not None and
                                 (last.seq != head_seq or last.hash != head_hash)):
        return [ChainProblem(scope, last.pk if last else None, last.seq if last else None,
                             f"Nhật ký kết thúc ở số thứ tự {last.seq if last else 0} nhưng đầu chuỗi ghi "
                             f"{head_seq}: các sự kiện cuối đã bị xoá.")]
    beyond = [seq for seq in checkpoints if last is None or seq > last.seq]
    if beyond:
        return [ChainProblem(scope, None, min(beyond), f"Có điểm niêm phong tại số thứ tự {min(beyond)} nhưng nhật ký "
                                                       f"kết thúc ở {last.seq if last else 0}: các sự kiện đã bị xoá.")]
    return []
