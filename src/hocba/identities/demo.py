"""The demo school's signing identities (issue 9): after ``hocba demo`` has loaded the school, one demo PKI
(``hocba.pki``) with a personal certificate for every staff member who has an account and the school's seal,
each registered as a server-held ``SigningIdentity`` (``server_pkcs12``, ``$HOCBA_VAR_DIR/pki/p12/``).

Like ``hocba.school.demo.load_demo`` this is a system seed, not a user's action: it writes the rows the
registration action would write, after the same certificate checks, and one audit event (``demo.pki``).
The PKI is re-generated only when its people or school differ from the database's (a reload of the demo
with another seed, or a PKI made by ``hocba pki init`` for its built-in sample people).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hocba.audit.log import record
from hocba.pki import DEFAULT_PORT, DemoPki, Person, init
from hocba.pki import School as PkiSchool
from hocba.school.models import School, Staff

from . import service
from .certificates import check_personal, check_seal, inspect
from .models import SigningIdentity


class DemoPkiError(Exception):
    """The demo PKI cannot be set up as asked; the message says why in Vietnamese."""


@dataclass(frozen=True)
class DemoPkiSummary:
    school_name: str
    pki_root: str
    port: int
    generated: bool  # a new PKI was generated (False: the existing one was reused)
    people: int
    registered: int  # identities written now (new, or replacing a stale one)
    seconds: float


def demo_people(school: School) -> list[Person]:
    """Every active staff member with a login, as the PKI's ``Person`` (username, name, personal number,
    organisation = school name, title = position)."""
    positions = dict(Staff.POSITION_CHOICES)
    return [Person(s.user.username, s.full_name, s.personal_number, school.name, positions.get(s.position, ""))
            for s in Staff.objects.filter(school=school, is_active=True, user__isnull=False)
            .select_related("user").order_by("sort_key", "pk")]


def pki_school(school: School) -> PkiSchool:
    return PkiSchool(name=school.name, code=school.code, province=school.province_name or PkiSchool.province)


def _matches(pki: DemoPki, people: list[Person], school: School) -> bool:
    try:
        return ({dataclasses.astuple(p) for p in pki.people} == {dataclasses.astuple(p) for p in people}
                and pki.school == pki_school(school))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _p12_relative(pki: DemoPki, username: str) -> str:
    return str(pki.pkcs12_path(username).relative_to(service.pki_dir()))


def setup_demo_pki(school: School, *, port: int | None = None, if_missing: bool = False) -> DemoPkiSummary:
    """Makes the demo PKI of ``school`` under ``service.pki_dir()`` (with ``if_missing``, reuses the one there
    if it was made for the same people, school and port) and registers an active server-held identity for
    every staff member with a login and for the seal, replacing identities of an earlier PKI."""
    started = time.perf_counter()
    root = service.pki_dir()
    if root.name != "pki":
        raise DemoPkiError(f"Thư mục PKI minh hoạ phải tên là «pki» (đang cấu hình {root}).")
    people = demo_people(school)
    if not people:
        raise DemoPkiError(f"{school.name} chưa có cán bộ nào có tài khoản; hãy nạp trường minh hoạ trước "
                           "(hocba demo).")
    pki = service.demo_pki()
    generated = False
    reuse = (if_missing and pki is not None and _matches(pki, people, school)
             and (port is None or port == pki.port))
    if not reuse:
        pki = init(root.parent, people, pki_school(school), port=port or (pki.port if pki else DEFAULT_PORT))
        generated = True
    registered = _register_all(school, pki)
    return DemoPkiSummary(school.name, str(pki.root), pki.port, generated, len(people), registered,
                          time.perf_counter() - started)


@transaction.atomic
def _register_all(school: School, pki: DemoPki) -> int:
    now = timezone.now()
    staff_by_user = {s.user.username: s for s in Staff.objects.filter(school=school, user__isnull=False)
                     .select_related("user")}
    current = {(i.staff_id, i.kind): i for i in SigningIdentity.objects.select_for_update().filter(
        school=school, status=SigningIdentity.Status.ACTIVE)}
    holders: list[tuple[Staff | None, str]] = [(staff_by_user[u], u) for u in pki.usernames
                                               if u in staff_by_user]
    holders.append((None, pki.school.seal_username))
    written = []
    for staff, username in holders:
        kind = SigningIdentity.Kind.PERSONAL if staff else SigningIdentity.Kind.SEAL
        info = inspect(pki.cert_path(username).read_bytes(), [])
        if staff is not None:
            check_personal(info, staff.full_name, staff.personal_number)
        else:
            check_seal(info, school.name)
        params = {"path": _p12_relative(pki, username)}
        old = current.get((staff.pk if staff else None, kind))
        if old is not None and old.fingerprint == info.fingerprint and old.params == params:
            continue
        if old is not None:
            old.status, old.deactivated_at = SigningIdentity.Status.REPLACED, now
            old.deactivation_reason = "PKI minh hoạ được tạo lại"
            old.save(update_fields=["status", "deactivated_at", "deactivation_reason"])
        chain = "".join(pki.cert_path(ca).read_text() for ca in ("interm",))
        written.append(SigningIdentity(
            school=school, staff=staff, kind=kind, backend=SigningIdentity.Backend.SERVER_PKCS12,
            certificate=info.der, chain_pem=chain, subject_cn=info.common_name,
            subject_serial_number=info.serial_number_attr, issuer=info.issuer[:500], serial=info.serial_hex,
            fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after, params=params,
            registered_at=now))
    SigningIdentity.objects.bulk_create(written)
    if written:
        record("demo.pki", school=school, obj=school,
               extra={"registered": len(written), "pki_port": pki.port,
                      "seal": any(i.kind == SigningIdentity.Kind.SEAL for i in written)})
    return len(written)
