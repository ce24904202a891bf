"""The inbound pull from the sector database (CSDL ngành): ``hocba sync pull`` and the page's "Đồng bộ ngay".

The sector's JSON interface (``simulator.server`` documents it) gives each kind of data in pages, oldest
change first, with ``updated_since`` and a page token. A pull:

1. reads the list of schools changed since the last pull and applies it (``actions.apply_schools``);
2. for each school the sector gave us, reads its staff, classes, students and assignments changed since
   that school's last pull, all pages, and applies them in one transaction with the school's new cursor
   (``actions.apply_school_data``).

Nothing is written while reading, so a connection lost half-way changes nothing: the next pull starts from
the same cursor. The cursor is the sector's own ``server_time`` (never this machine's clock), and each pull
starts ``HOCBA_SYNC_OVERLAP_SECONDS`` before it, because applying the same data twice changes nothing and a
real server's commit order and clocks are not exact. The result is a ``PullReport``: what was created,
updated or deleted, the conflicts flagged, the items refused.
"""

from __future__ import annotations

import datetime as dt

from hocba.school.models import School

from . import actions, conf, transport
from .models import SyncCursor
from .report import PullReport, ScopeReport

KINDS = ("staff", "classes", "students", "assignments")
MAX_PAGES = 10_000


class SectorError(Exception):
    """The sector did not give the data (no answer, or an error answer); the message is Vietnamese."""


def fetch(kind: str, *, school_code: str | None = None, since: str | None = None) -> tuple[list[dict], str]:
    """Every item of ``kind`` changed since ``since`` (all of them when None), and the ``server_time`` of the
    first page: the point from which the next pull may start."""
    items: list[dict] = []
    server_time = ""
    token = None
    for _ in range(MAX_PAGES):
        try:
            answer = transport.call("GET", conf.sector_url(), f"/api/v1/{kind}", token=conf.sector_token(),
                                    timeout=conf.timeout(),
                                    params={"school_code": school_code, "updated_since": since, "page_token": token,
                                            "limit": conf.page_size()})
        except (transport.TransportError, transport.NotConfigured) as exc:
            raise SectorError(str(exc)) from exc
        if not answer.ok:
            raise SectorError(f"CSDL ngành trả lời HTTP {answer.status} khi đọc {kind}: {answer.message}")
        page = answer.body.get("items")
        if not isinstance(page, list):
            raise SectorError(f"CSDL ngành trả lời không đúng định dạng khi đọc {kind} (thiếu 'items').")
        items += [i for i in page if isinstance(i, dict)]
        server_time = server_time or str(answer.body.get("server_time") or "")
        token = answer.body.get("next_page_token")
        if not token:
            return items, server_time
    raise SectorError(f"CSDL ngành trả về quá {MAX_PAGES} trang khi đọc {kind}.")


def _start(scope: str, since: dt.datetime | None, full: bool) -> tuple[str | None, bool]:
    """Where a pull of ``scope`` starts, and whether it may move the cursor afterwards.

    An explicit ``since`` later than the cursor would skip changes in between, so it does not move it.
    """
    cursor = SyncCursor.objects.filter(scope=scope).first()
    stored = _parse(cursor.server_time) if cursor and cursor.server_time else None
    if full:
        return None, True
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("since needs a time zone")
        return since.isoformat(), stored is None or since <= stored
    if stored is None:
        return None, True
    return (stored - dt.timedelta(seconds=conf.sync_overlap_seconds())).isoformat(), True


def _parse(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def pull_schools(*, actor=None, since: dt.datetime | None = None, full: bool = False,
                 only: set[str] | None = None) -> ScopeReport:
    start, may_advance = _start(actions.SCHOOLS_SCOPE, since, full)
    try:
        items, server_time = fetch("schools", since=start)
    except SectorError as exc:
        actions.record_pull_failure(actions.SCHOOLS_SCOPE, str(exc))
        raise
    return actions.apply_schools(actor, items, server_time=server_time, only=only, advance_cursor=may_advance)


def pull_school(school: School, *, actor=None, since: dt.datetime | None = None, full: bool = False) -> ScopeReport:
    """One school's staff, classes, students and assignments (raises ``SectorError`` if they could not be read)."""
    scope = actions.school_scope(school.code)
    start, may_advance = _start(scope, since, full)
    data: dict[str, list[dict]] = {}
    server_time = ""
    try:
        for kind in KINDS:
            data[kind], kind_time = fetch(kind, school_code=school.code, since=start)
            server_time = server_time or kind_time  # the first is the earliest
    except SectorError as exc:
        actions.record_pull_failure(scope, str(exc))
        raise
    return actions.apply_school_data(actor, school, data, server_time=server_time, advance_cursor=may_advance)


def pull(*, actor=None, since: dt.datetime | None = None, full: bool = False,
         school_codes: list[str] | None = None) -> PullReport:
    """The whole pull: the list of schools, then each school's data. A school the sector could not give is
    reported and the others go on."""
    report = PullReport()
    only = set(school_codes) if school_codes else None
    try:
        report.schools = pull_schools(actor=actor, since=since, full=full, only=only)
    except SectorError as exc:
        report.errors.append(f"Danh sách trường: {exc}")
        return report
    codes = sorted(only) if only else actions.synced_school_codes()
    for code in codes:
        school = School.objects.filter(code=code).first()
        if school is None:
            report.errors.append(f"Trường {code}: không có trong CSDL ngành hoặc trên hệ thống.")
            continue
        try:
            report.scopes.append(pull_school(school, actor=actor, since=since, full=full))
        except SectorError as exc:
            report.errors.append(f"Trường {code}: {exc}")
    return report
