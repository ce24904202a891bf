"""The whole workflow in one call, for the command line, the bench and tests: generate the classes' records,
then let every signer sign their batch, step by step, with the keys ``hocba.identities`` gives them (on the
demo, server-held demo keys for every staff member and the seal). Each signer signs as themself: the batch's
actor is the signer's own account, the seal's actor the principal. Nothing here bypasses the actions'
permission checks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model

from hocba.school.models import Role, SchoolClass, Staff

from . import actions, workflow
from .models import HocBaRecord, SignatureStep, SigningBatch


@dataclasses.dataclass
class StepRun:
    kind: str
    seconds: float = 0.0
    signatures: int = 0
    batches: int = 0
    failed: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)


def principal_user(school):
    staff = actions.default_leader(school)
    if staff is not None:
        return staff.user
    return get_user_model().objects.filter(memberships__school=school, memberships__role=Role.PRINCIPAL).first()


def acting_user(username: str | None, school):
    """The account a command acts as: ``--as USERNAME``, else the school's principal. ``CommandError`` (in
    Vietnamese) when there is none."""
    from django.core.management.base import CommandError

    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Không có tài khoản {username}.")
        return user
    user = principal_user(school)
    if user is None:
        raise CommandError("Trường chưa có hiệu trưởng có tài khoản; dùng --as TÊN_ĐĂNG_NHẬP.")
    return user


def generate(actor, classes: list[SchoolClass], *, leader: Staff | None = None,
             on_class: Callable[[SchoolClass, actions.Generated], None] | None = None) -> list[actions.Generated]:
    out = []
    for school_class in classes:
        result = actions.generate_class(actor, school_class, leader=leader)
        out.append(result)
        if on_class is not None:
            on_class(school_class, result)
    return out


def sign_everything(school, records, *, seal_actor=None, processes: int = 1,
                    on_batch: Callable[[str, SigningBatch], None] | None = None) -> list[StepRun]:
    """Every pending signature of ``records`` (a queryset), kind by kind: each subject teacher's batch over
    all their students, each GVCN's, the approving leaders', then the seal (actor: ``seal_actor``, default
    the principal). With ``processes`` > 1 the batches of a step run side by side in that many processes,
    which share the records out (``workflow.run_batches``). Returns the time and count per step."""
    seal_actor = seal_actor or principal_user(school)
    runs = []
    for kind in SignatureStep.KIND_ORDER:
        run = StepRun(kind)
        started = time.perf_counter()
        if kind == SignatureStep.SEAL:
            actors = [seal_actor]
        else:
            signer_ids = (workflow.eligible_steps(kind, records=records).values_list("signer_id", flat=True)
                          .distinct())
            actors = [s.user for s in Staff.objects.filter(pk__in=set(signer_ids)).select_related("user")
                      .order_by("sort_key")]
        batches = []
        for actor in actors:
            if actor is None:
                run.errors.append("Một người ký không có tài khoản đăng nhập.")
                continue
            batch = _start(actor, school, kind, records)
            if batch is not None:
                batches.append(batch)
        for batch in workflow.run_batches(batches, processes=processes):
            run.batches += 1
            run.signatures += batch.done
            run.failed += batch.failed
            if batch.state != SigningBatch.FINISHED:
                run.errors.append(batch.error)
            if on_batch is not None:
                on_batch(kind, batch)
        run.seconds = time.perf_counter() - started
        runs.append(run)
    return runs


def _start(actor, school, kind: str, records) -> SigningBatch | None:
    """``actions.start_signing`` limited to ``records``."""
    from . import permissions

    if kind == SignatureStep.SEAL:
        permissions.require_seal(actor, school)
        signer = None
    else:
        signer = permissions.require_personal_signer(actor, school, kind)
    steps = workflow.eligible_steps(kind, signer=signer, records=records.filter(school=school))
    return workflow.create_batch(actor, school, kind, steps, signer=signer)


def issue_classes(actor, classes: list[SchoolClass], *, processes: int = 1, leader: Staff | None = None,
                  seal_actor=None) -> tuple[list[actions.Generated], list[StepRun]]:
    """Generate and sign through to issue (the demo's ``hocba records issue --demo-sign``)."""
    generated = generate(actor, classes, leader=leader)
    school = classes[0].school
    records = HocBaRecord.objects.filter(school_class__in=classes, status__in=(HocBaRecord.DRAFT, HocBaRecord.SIGNING))
    return generated, sign_everything(school, records, seal_actor=seal_actor, processes=processes)
