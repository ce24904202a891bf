"""What a pull from the sector did, as typed objects the command, the page and the tests read alike."""

from __future__ import annotations

from dataclasses import dataclass, field

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
ACTION_LABELS = {CREATED: "Thêm mới", UPDATED: "Cập nhật", DELETED: "Xoá"}
KIND_LABELS = {"school": "trường", "staff": "cán bộ", "class": "lớp", "student": "học sinh",
               "enrolment": "xếp lớp", "assignment": "phân công"}


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    label: str
    action: str
    diffs: tuple[tuple[str, str, str], ...] = ()  # (field label, old, new)

    def as_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "label": self.label, "action": self.action,
                "diffs": [list(d) for d in self.diffs]}


@dataclass(frozen=True)
class ConflictNote:
    kind: str
    key: str
    label: str
    field: str
    local: str
    sector: str
    applied: bool
    identity: bool

    def as_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "label": self.label, "field": self.field, "local": self.local,
                "sector": self.sector, "applied": self.applied, "identity": self.identity}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass
class ScopeReport:
    """One scope of a pull: the list of schools, or one school's data."""

    scope: str  # "schools" or a school code
    name: str = ""
    server_time: str = ""
    fetched: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    conflicts: list[ConflictNote] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cursor_advanced: bool = False

    def count(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())

    def changed(self, change: Change) -> None:
        self.changes.append(change)
        c = self.count(change.kind)
        setattr(c, change.action, getattr(c, change.action) + 1)

    def unchanged(self, kind: str) -> None:
        self.count(kind).unchanged += 1

    def error(self, kind: str, key: str, messages: list[str] | str) -> None:
        text = "; ".join(messages) if isinstance(messages, list) else messages
        self.errors.append(f"{KIND_LABELS.get(kind, kind).capitalize()} {key}: {text}")

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @property
    def change_count(self) -> int:
        return len(self.changes)

    def summary(self) -> str:
        parts = []
        for kind, c in self.counts.items():
            text = f"{KIND_LABELS.get(kind, kind)}: {c.created} mới, {c.updated} cập nhật"
            if c.deleted:
                text += f", {c.deleted} xoá"
            parts.append(text + f", {c.unchanged} không đổi")
        head = f"{self.scope}{' – ' + self.name if self.name else ''}"
        tail = f"{len(self.conflicts)} xung đột, {len(self.errors)} lỗi"
        return f"{head}: {'; '.join(parts) or 'không có dữ liệu mới'}; {tail}."

    def audit_extra(self) -> dict:
        return {"server_time": self.server_time, "fetched": self.fetched,
                "counts": {k: vars(c) for k, c in self.counts.items()},
                "changes": [c.as_json() for c in self.changes[:500]], "changes_total": len(self.changes),
                "conflicts": [c.as_json() for c in self.conflicts[:500]], "errors": self.errors[:100]}


@dataclass
class PullReport:
    schools: ScopeReport | None = None
    scopes: list[ScopeReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a school that could not be pulled at all

    @property
    def all_scopes(self) -> list[ScopeReport]:
        return ([self.schools] if self.schools else []) + self.scopes

    @property
    def change_count(self) -> int:
        return sum(s.change_count for s in self.all_scopes)

    @property
    def conflict_count(self) -> int:
        return sum(len(s.conflicts) for s in self.all_scopes)

    @property
    def ok(self) -> bool:
        return not self.errors and not any(s.errors for s in self.all_scopes)
