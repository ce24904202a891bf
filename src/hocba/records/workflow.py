"""The signing workflow: which signatures may be made now, and the batches that make them.

Order (per version): every subject teacher (any order among them) → the GVCN → the approving leader (HT, or
a PHT "KT. HIỆU TRƯỞNG") → the school seal, which issues. A signer signs their PDF field and their XAdES
signature in the XML, in the same batch.

A batch is persisted before anything is signed: ``create_batch`` stores one item per signature with the
SHA-256 of the record's current PDF and XML. ``run_batch`` then works through the items a chunk of records at
a time (``conf.chunk_size``):

1. read each record's current files and check them against the stored hashes;
2. sign — for the PDF one ``pades.BatchSession`` per field name over the chunk (the key signs all digests
   at once; certificate precheck, path validation and revocation data once per batch), then the XML —
   entirely in memory;
3. for the seal, check each document before it may be issued (every field and every XML signature present,
   the PDF's XML twin says what the signed XML says, and full validation per ``HOCBA_RECORDS_VALIDATION``);
4. write the outputs as new files (``storage``: content-addressed, never an overwrite);
5. switch the records to the new files, mark the steps signed and the items done, issue sealed records, and
   append the audit event — one transaction per chunk;
6. after commit, delete the intermediate files the records no longer name.

A crash anywhere leaves every record either before or after a whole step: items not committed stay
``pending`` and their records still name the unchanged inputs. ``resume_batch`` signs them again (``prepare``
from scratch, as ``hocba.signing.pades.BatchSession`` allows); ``rollback_batch`` gives them up. A record
changed meanwhile by another batch (two teachers signing the same class at once) is re-read and signed
again. Nothing is issued unless the seal's transaction commits, and that happens only after step 3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hocba.audit.log import record as audit
from hocba.interop.outbox import enqueue_record_event

from . import storage
from .conf import chunk_size
from .models import HocBaRecord, RegistryEntry, SignatureStep, SigningBatch, SigningBatchItem

log = logging.getLogger(__name__)

GVBM, GVCN, LEADER, SEAL = SignatureStep.GVBM, SignatureStep.GVCN, SignatureStep.LEADER, SignatureStep.SEAL
#: kinds that must be complete in a record before a step of this kind may be signed
PREREQUISITES = {GVBM: (), GVCN: (GVBM,), LEADER: (GVBM, GVCN), SEAL: (GVBM, GVCN, LEADER)}
OPEN_RECORD = (HocBaRecord.DRAFT, HocBaRecord.SIGNING)
STALE_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3

REASONS = {GVBM: "Giáo viên bộ môn xác nhận kết quả môn học", GVCN: "Giáo viên chủ nhiệm xác nhận",
           LEADER: "Phê duyệt của Hiệu trưởng", SEAL: "Con dấu số của nhà trường – phát hành học bạ"}


class BatchError(RuntimeError):
    """The batch cannot run (no key, certificate refused, services unreachable). Message in Vietnamese."""


# --- what may be signed now --------------------------------------------------------------------------

def eligible_steps(kind: str, *, signer=None, records: QuerySet | Iterable | None = None) -> QuerySet[SignatureStep]:
    """Pending steps of ``kind`` whose records are open, whose earlier steps are all signed, and that no
    open batch holds."""
    qs = SignatureStep.objects.filter(kind=kind, state=SignatureStep.PENDING, record__status__in=OPEN_RECORD)
    if signer is not None:
        qs = qs.filter(signer=signer)
    if records is not None:
        qs = qs.filter(record__in=records)
    earlier = PREREQUISITES[kind]
    if earlier:
        qs = qs.exclude(record__in=SignatureStep.objects.filter(kind__in=earlier, state=SignatureStep.PENDING)
                        .values("record_id"))
    return qs.exclude(pk__in=held_steps().values("step_id"))


def held_steps() -> QuerySet[SigningBatchItem]:
    """Items a live batch holds: prepared, or running with a recent heartbeat. A failed or stopped batch holds
    nothing: a new batch takes its steps over (and the old items are closed)."""
    live = Q(batch__state=SigningBatch.PREPARED) | Q(batch__state=SigningBatch.RUNNING,
                                                     batch__heartbeat_at__gte=timezone.now() - STALE_AFTER)
    return SigningBatchItem.objects.filter(live, state=SigningBatchItem.PENDING)


@transaction.atomic
def create_batch(actor, school, kind: str, steps: QuerySet[SignatureStep], *, signer=None) -> SigningBatch | None:
    """Persists a batch over ``steps`` (already filtered by ``eligible_steps`` and permission) with the
    hashes of each record's current files. None when there is nothing to sign."""
    steps = list(steps.select_related("record").order_by("record__school_class__name", "record__student__sort_key",
                                                           "record_id", "order"))
    if not steps:
        return None
    now = timezone.now()
    batch = SigningBatch.objects.create(school=school, kind=kind, actor=actor, signer=signer, total=len(steps),
                                        created_at=now)
    taken = list(SigningBatchItem.objects.filter(step__in=steps, state=SigningBatchItem.PENDING)
                 .values_list("pk", "batch_id"))
    if taken:  # pending in a failed or stopped batch: taken over by this one
        SigningBatchItem.objects.filter(pk__in=[pk for pk, _ in taken]).update(
            state=SigningBatchItem.FAILED, error=f"Chuyển sang lô ký #{batch.pk}.")
        for old in SigningBatch.objects.filter(pk__in={b for _, b in taken}):
            SigningBatch.objects.filter(pk=old.pk).update(failed=batch_count(old, SigningBatchItem.FAILED))
    SigningBatchItem.objects.bulk_create([
        SigningBatchItem(batch=batch, step=s, record=s.record, input_pdf_sha256=s.record.pdf_sha256,
                         input_xml_sha256=s.record.xml_sha256) for s in steps])
    audit("records.batch_create", actor=actor, school=school, obj=batch,
          extra={"kind": kind, "signatures": len(steps), "records": len({s.record_id for s in steps})})
    return batch


# --- running a batch -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Keys:
    """What signs a batch: the signer and the deployment's signing settings (``hocba.identities``)."""

    signer: object
    pades: object
    xades: object
    trust: object

    @classmethod
    def for_batch(cls, batch: SigningBatch) -> Keys:
        from hocba.identities import service
        from hocba.signing.backends import SignerError

        try:
            signer = service.seal_signer(batch.school) if batch.kind == SEAL else service.signer_for(batch.signer.user)
            return cls(signer, service.pades_settings(), service.xades_settings(), service.trust_config())
        except (service.NoSigningIdentity, service.SigningNotConfigured) as exc:
            raise BatchError(str(exc)) from exc
        except SignerError as exc:
            raise BatchError(f"Không mở được khoá ký: {exc}") from exc


@dataclasses.dataclass
class _Doc:
    record: HocBaRecord
    items: list[SigningBatchItem]
    pdf: bytes
    xml: bytes
    error: str = ""


def run_batch(batch: SigningBatch, *, keys: Keys | None = None, processes: int = 1,
              on_progress: Callable[[SigningBatch], None] | None = None) -> SigningBatch:
    """Signs every pending item of ``batch``; returns it refreshed (see ``run_batches``)."""
    return run_batches([batch], keys=keys, processes=processes, on_progress=on_progress)[0]


def _pending_records(batch: SigningBatch) -> list[int]:
    ids = (SigningBatchItem.objects.filter(batch=batch, state=SigningBatchItem.PENDING).order_by("id")
           .values_list("record_id", flat=True))
    return list(dict.fromkeys(ids))


def run_batches(batches: list[SigningBatch], *, keys: Keys | None = None, processes: int = 1,
                on_progress: Callable[[SigningBatch], None] | None = None) -> list[SigningBatch]:
    """Signs every pending item of ``batches``, one after the other (or, with ``processes`` > 1, in that many
    worker processes, each with its own database connection and keys: the CLI and the bench). Records are
    shared out to the processes by id, the same way for every batch, so two processes never sign the same
    record and never wait for each other; the web runs one batch in one process. Returns the batches
    refreshed: ``finished``, or ``failed`` with the reason and the items left pending (resumable)."""
    errors: dict[int, str] = {}
    live = []
    for batch in batches:
        batch.refresh_from_db()
        if batch.state in (SigningBatch.FINISHED, SigningBatch.ROLLED_BACK):
            continue
        now = timezone.now()
        SigningBatch.objects.filter(pk=batch.pk).update(state=SigningBatch.RUNNING, heartbeat_at=now, error="",
                                                        started_at=batch.started_at or now)
        live.append(batch)
    sealed_before = {b.pk: b.done for b in live if b.kind == SEAL}
    if processes > 1 and keys is None and len(live) > 0:
        try:
            errors = _run_in_processes(live, processes)
        except Exception as exc:
            log.exception("signing workers failed")
            errors = {b.pk: f"Lỗi khi ký: {exc}" for b in live}
    else:
        for batch in live:
            try:
                _run_records(batch, _pending_records(batch), keys or Keys.for_batch(batch), on_progress)
            except BatchError as exc:
                errors[batch.pk] = str(exc)
            except Exception as exc:  # any failure leaves the batch resumable, never half-applied
                log.exception("signing batch %s failed", batch.pk)
                errors[batch.pk] = f"Lỗi khi ký: {exc}"
    for batch in live:
        _finalise(batch, errors.get(batch.pk, ""))
    for batch in batches:
        batch.refresh_from_db()
    _checkpoint_audit({b.school: b.actor for b in live if b.kind == SEAL and b.done > sealed_before[b.pk]})
    return batches


def _checkpoint_audit(issued_in: dict) -> None:
    """After an issue, the school's seal signs the head of its audit chain (issue 7). The issue has committed:
    a checkpoint that fails is logged, and the daily ``hocba audit checkpoint`` makes up for it."""
    from hocba.audit.actions import checkpoint_chain

    for school, actor in issued_in.items():
        try:
            checkpoint_chain(school, actor=actor)
        except Exception:  # never turns a committed issue into a reported failure
            log.exception("audit checkpoint after issuing in school %s failed", school.pk)


def _finalise(batch: SigningBatch, error: str) -> None:
    pending = SigningBatchItem.objects.filter(batch=batch, state=SigningBatchItem.PENDING).count()
    if pending and not error:
        error = f"Còn {pending} chữ ký chưa thực hiện được; hãy chạy tiếp."
    state = SigningBatch.FAILED if pending else SigningBatch.FINISHED
    SigningBatch.objects.filter(pk=batch.pk).update(
        state=state, error=error[:2000], finished_at=timezone.now() if state == SigningBatch.FINISHED else None,
        done=batch_count(batch, SigningBatchItem.DONE), failed=batch_count(batch, SigningBatchItem.FAILED))


def _run_records(batch: SigningBatch, record_ids: list[int], keys: Keys,
                 on_progress: Callable[[SigningBatch], None] | None = None) -> None:
    from hocba.signing.precheck import SigningRefused, precheck

    try:
        checked = precheck(keys.signer, keys.trust, check_revocation=getattr(keys.pades, "check_revocation", True))
    except SigningRefused as exc:
        raise BatchError(f"Chứng thư số không dùng được để ký: {exc}") from exc
    except OSError as exc:
        raise BatchError(f"Không kết nối được dịch vụ kiểm tra chứng thư số hoặc cấp dấu thời gian: {exc}") from exc
    queue = list(record_ids)
    attempts: dict[int, int] = defaultdict(int)
    size = chunk_size()
    while queue:
        chunk, queue = queue[:size], queue[size:]
        stale = _run_chunk(batch, chunk, keys, checked)
        for rid in stale:
            attempts[rid] += 1
            if attempts[rid] < MAX_ATTEMPTS:
                queue.append(rid)
            else:
                _fail_items(batch, [rid], "Học bạ thay đổi liên tục trong khi ký; hãy thử lại.")
        if on_progress is not None:
            batch.refresh_from_db()
            on_progress(batch)


def _load_docs(batch: SigningBatch, record_ids: list[int]) -> tuple[list[_Doc], list[int]]:
    """The chunk's records with their current files; records changed since the items were made are
    re-based (items' input hashes updated) and returned as stale."""
    items = defaultdict(list)
    for item in (SigningBatchItem.objects.filter(batch=batch, record_id__in=record_ids, state=SigningBatchItem.PENDING)
                 .select_related("step").order_by("step__order")):
        items[item.record_id].append(item)
    records = {r.pk: r for r in HocBaRecord.objects.filter(pk__in=items).select_related("school", "year")}
    docs, stale = [], []
    for rid in record_ids:
        if rid not in items:
            continue
        record, its = records[rid], items[rid]
        if record.status not in OPEN_RECORD:
            _fail_items(batch, [rid], f"Học bạ không còn ở trạng thái chờ ký ({record.get_status_display()}).")
            continue
        if any(i.step.state != SignatureStep.PENDING for i in its):
            SigningBatchItem.objects.filter(pk__in=[i.pk for i in its if i.step.state != SignatureStep.PENDING]) \
                .update(state=SigningBatchItem.FAILED, error="Chữ ký này đã được thực hiện trong một lô khác.")
            its = [i for i in its if i.step.state == SignatureStep.PENDING]
            if not its:
                continue
        if (record.pdf_sha256, record.xml_sha256) != (its[0].input_pdf_sha256, its[0].input_xml_sha256):
            SigningBatchItem.objects.filter(pk__in=[i.pk for i in its]).update(
                input_pdf_sha256=record.pdf_sha256, input_xml_sha256=record.xml_sha256)
            stale.append(rid)
            continue
        try:
            pdf = storage.read(record.pdf_file, record.pdf_sha256)
            xml = storage.read(record.xml_file, record.xml_sha256)
        except storage.StoredFileError:
            stale.append(rid)  # switched and cleaned by another batch just now: read again
            continue
        docs.append(_Doc(record, its, pdf, xml))
    return docs, stale


def _sign_docs(batch: SigningBatch, docs: list[_Doc], keys: Keys, checked) -> None:
    """Signs every item of ``docs`` in memory, PDF then XML, field by field; a document that fails gets
    ``error`` and is left out of the rest."""
    from hocba.signing import fastpades, pades, xades

    by_field: dict[str, list[tuple[_Doc, SigningBatchItem]]] = defaultdict(list)
    for doc in docs:
        for item in doc.items:
            by_field[item.step.field_name].append((doc, item))
    seal = batch.kind == SEAL
    for field_name, pairs in by_field.items():
        live = [(d, i) for d, i in pairs if not d.error]
        if not live:
            continue
        reason = REASONS[batch.kind]
        outputs: list = [None] * len(live)
        todo = list(range(len(live)))
        if not seal:
            # personal signatures: the batch fast path (``fastpades``); what it does not take goes below
            try:
                fast = fastpades.FastBatch(field_name, keys.signer, keys.pades, reason=reason, checked=checked)
                outputs = fast.run([d.pdf for d, _ in live])
                todo = [i for i, out in enumerate(outputs) if out is None]
            except Exception:
                # outputs/todo still say "nothing signed": pyHanko below takes every document
                log.warning("fast PAdES path failed for %s; signing with pyHanko", field_name, exc_info=True)
        if todo:
            try:
                done = pades.BatchSession(field_name, keys.signer, keys.pades, seal=seal, reason=reason,
                                          checked=checked).run([live[i][0].pdf for i in todo])
                for i, out in zip(todo, done, strict=True):
                    outputs[i] = out
            except Exception:  # noqa: BLE001 - isolate the document at fault, sign the others one by one
                for i in todo:
                    d = live[i][0]
                    try:
                        outputs[i] = pades.BatchSession(field_name, keys.signer, keys.pades, seal=seal,
                                                        reason=reason, checked=checked).run([d.pdf])[0]
                    except Exception as exc:  # noqa: BLE001
                        d.error = f"Không ký được tệp PDF: {exc}"[:500]
                        outputs[i] = None
        signed = [(d, item, out) for (d, item), out in zip(live, outputs, strict=True) if out is not None]
        if not signed:
            continue
        try:
            xmls = xades.XadesBatch(keys.signer, keys.xades, checked=checked).sign_all(
                [(d.xml, item.step.signature_id, item.step.xml_references) for d, item, _ in signed])
        except Exception as exc:  # noqa: BLE001 - the key or the TSA failed for the whole batch
            xmls = [exc] * len(signed)
        for (d, _, out), xml in zip(signed, xmls, strict=True):
            if isinstance(xml, Exception):
                d.error = f"Không ký được tệp XML: {xml}"[:500]
                continue
            d.xml, d.pdf = xml, out


def _run_chunk(batch: SigningBatch, record_ids: list[int], keys: Keys, checked) -> list[int]:
    docs, stale = _load_docs(batch, record_ids)
    if not docs:
        return stale
    _sign_docs(batch, docs, keys, checked)
    if batch.kind == SEAL:
        from .verification import issue_problems

        for i, d in enumerate(docs):
            if not d.error:
                problems = issue_problems(d.pdf, d.xml, [it.step for it in d.items] + list(
                    SignatureStep.objects.filter(record=d.record).exclude(kind=SEAL)), keys.trust,
                    full=_validate_fully(i))
                if problems:
                    d.error = "Không phát hành: " + "; ".join(problems)
    outputs = {}
    for d in docs:
        if d.error:
            continue
        directory = storage.relative_dir(d.record.school.code, d.record.year.name, str(d.record.record_id))
        outputs[d.record.pk] = (storage.write(directory, d.pdf, "pdf"), storage.write(directory, d.xml, "xml"))
    stale += _commit(batch, docs, outputs)
    return stale


def _validate_fully(index_in_chunk: int) -> bool:
    mode = getattr(settings, "HOCBA_RECORDS_VALIDATION", None) or os.environ.get("HOCBA_RECORDS_VALIDATION", "full")
    return mode == "full" or (mode == "sample" and index_in_chunk == 0)


def _commit(batch: SigningBatch, docs: list[_Doc], outputs: dict) -> list[int]:
    """One transaction: switch records to their new files, steps signed, items done, sealed records issued."""
    stale: list[int] = []
    obsolete: list[str] = []
    now = timezone.now()
    with transaction.atomic():
        records = {r.pk: r for r in HocBaRecord.objects.select_for_update().filter(pk__in=[d.record.pk for d in docs])}
        signed_steps, done_items, failed_items, issued = [], [], [], []
        for d in docs:
            record = records[d.record.pk]
            if d.error:
                failed_items += [(i.pk, d.error) for i in d.items]
                continue
            if (record.pdf_sha256, record.xml_sha256) != (d.items[0].input_pdf_sha256, d.items[0].input_xml_sha256):
                SigningBatchItem.objects.filter(pk__in=[i.pk for i in d.items]).update(
                    input_pdf_sha256=record.pdf_sha256, input_xml_sha256=record.xml_sha256)
                stale.append(record.pk)
                continue
            (pdf_rel, pdf_sha), (xml_rel, xml_sha) = outputs[record.pk]
            obsolete += [f for f in (record.pdf_file, record.xml_file) if f not in (pdf_rel, xml_rel)]
            record.pdf_file, record.pdf_sha256, record.xml_file, record.xml_sha256 = pdf_rel, pdf_sha, xml_rel, xml_sha
            fields = ["pdf_file", "pdf_sha256", "xml_file", "xml_sha256", "status"]
            if batch.kind == SEAL:
                record.status, record.issued_at, record.issued_by = HocBaRecord.ISSUED, now, batch.actor
                fields += ["issued_at", "issued_by"]
                issued.append(record)
            else:
                record.status = HocBaRecord.SIGNING
            record.save(update_fields=fields)
            signed_steps += [i.step_id for i in d.items]
            done_items += [(i.pk, pdf_sha, xml_sha) for i in d.items]
        SignatureStep.objects.filter(pk__in=signed_steps).update(
            state=SignatureStep.SIGNED, signed_at=now, signed_by=batch.actor, batch=batch)
        for pk, pdf_sha, xml_sha in done_items:
            SigningBatchItem.objects.filter(pk=pk).update(state=SigningBatchItem.DONE, output_pdf_sha256=pdf_sha,
                                                          output_xml_sha256=xml_sha)
        for pk, error in failed_items:
            SigningBatchItem.objects.filter(pk=pk).update(state=SigningBatchItem.FAILED, error=error)
        _issue(batch, issued, now)
        SigningBatch.objects.filter(pk=batch.pk).update(done=batch_count(batch, SigningBatchItem.DONE),
                                                        failed=batch_count(batch, SigningBatchItem.FAILED),
                                                        heartbeat_at=now)
        if done_items or failed_items:
            audit("records.sign", actor=batch.actor, school=batch.school, object_type="records.signingbatch",
                  object_id=str(batch.pk), object_repr=f"Lô ký {batch.get_kind_display()} #{batch.pk}",
                  extra={"kind": batch.kind, "signer": batch.signer_id, "signed": len(done_items),
                         "failed": len(failed_items),
                         "records": [str(records[d.record.pk].record_id) for d in docs if not d.error
                                     and d.record.pk not in stale]})
        transaction.on_commit(lambda: [storage.delete(f) for f in obsolete])
    return stale


def batch_count(batch: SigningBatch, state: str) -> int:
    return SigningBatchItem.objects.filter(batch=batch, state=state).count()


def _issue(batch: SigningBatch, issued: list[HocBaRecord], now) -> None:
    """Issued records: registry entries; a new version supersedes the revoked one it replaces."""
    if not issued:
        return
    actor_name = batch.actor.get_username()
    entries = []
    for record in issued:
        entries.append(RegistryEntry(school=batch.school, record=record, event=RegistryEntry.ISSUED, actor=batch.actor,
                                     actor_name=actor_name, at=now, file_format="xml", file_sha256=record.xml_sha256,
                                     note=f"PDF {record.pdf_sha256}"))
        if record.replaces_id:
            old = HocBaRecord.objects.select_for_update().get(pk=record.replaces_id)
            old.status, old.replaced_by = HocBaRecord.SUPERSEDED, record
            old.save(update_fields=["status", "replaced_by"])
            entries.append(RegistryEntry(school=batch.school, record=old, event=RegistryEntry.SUPERSEDED,
                                         actor=batch.actor, actor_name=actor_name, at=now,
                                         note=f"Thay thế bởi {record.record_id} (phiên bản {record.version})"))
    RegistryEntry.objects.bulk_create(entries)
    for record in issued:  # the exchange message to the sector's platform commits with the issue
        enqueue_record_event(record, "UPDATE" if record.replaces_id else "NEW")
    audit("records.issue", actor=batch.actor, school=batch.school, object_type="records.signingbatch",
          object_id=str(batch.pk), object_repr=f"Phát hành {len(issued)} học bạ",
          extra={"records": [str(r.record_id) for r in issued],
                 "replaces": [str(r.replaces.record_id) for r in issued if r.replaces_id]})


def _fail_items(batch: SigningBatch, record_ids: list[int], error: str) -> None:
    SigningBatchItem.objects.filter(batch=batch, record_id__in=record_ids, state=SigningBatchItem.PENDING).update(
        state=SigningBatchItem.FAILED, error=error[:500])
    SigningBatch.objects.filter(pk=batch.pk).update(failed=batch_count(batch, SigningBatchItem.FAILED))


# --- several processes ---------------------------------------------------------------------------------

def _run_in_processes(batches: list[SigningBatch], processes: int) -> dict[int, str]:
    import multiprocessing as mp

    from django.db import connections

    from .worker import sign_shares

    shares: list[list[tuple[int, list[int]]]] = [[] for _ in range(processes)]
    for batch in batches:
        ids = _pending_records(batch)
        for k in range(processes):
            mine = [rid for rid in ids if rid % processes == k]
            if mine:
                shares[k].append((batch.pk, mine))
    connections.close_all()
    errors: dict[int, str] = {}
    with mp.get_context("spawn").Pool(processes) as pool:
        for result in pool.map(sign_shares, [share for share in shares if share]):
            for batch_id, error in result.items():
                errors.setdefault(batch_id, error)
    return errors


# --- after a crash -------------------------------------------------------------------------------------

def stale_batches(now: dt.datetime | None = None) -> QuerySet[SigningBatch]:
    """Batches that were running when their process stopped (no chunk committed for ``STALE_AFTER``)."""
    now = now or timezone.now()
    return SigningBatch.objects.filter(state=SigningBatch.RUNNING, heartbeat_at__lt=now - STALE_AFTER)


def resume_batch(batch: SigningBatch, **kwargs) -> SigningBatch:
    """Signs the items a stopped or failed batch left pending (each from its record's current files)."""
    return run_batch(batch, **kwargs)


@transaction.atomic
def rollback_batch(actor, batch: SigningBatch) -> SigningBatch:
    """Gives up the pending items: their records keep the files they had; nothing signed is undone (a
    committed signature is part of the record)."""
    batch = SigningBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state == SigningBatch.FINISHED:
        return batch
    n = SigningBatchItem.objects.filter(batch=batch, state=SigningBatchItem.PENDING).update(
        state=SigningBatchItem.FAILED, error="Lô ký đã bị huỷ.")
    batch.state, batch.finished_at = SigningBatch.ROLLED_BACK, timezone.now()
    batch.failed = batch_count(batch, SigningBatchItem.FAILED)
    batch.save(update_fields=["state", "finished_at", "failed"])
    audit("records.batch_rollback", actor=actor, school=batch.school, obj=batch, extra={"given_up": n})
    return batch


def orphan_files(school_code: str | None = None) -> list[str]:
    """Files under the documents directory that no record names (left by a crash between writing and
    switching). Only meaningful while no batch runs."""
    from .conf import documents_dir

    named = set()
    for pdf, xml in HocBaRecord.objects.values_list("pdf_file", "xml_file"):
        named.update((pdf, xml))
    root = documents_dir()
    out = []
    for path in (root / school_code if school_code else root).rglob("*"):
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            if rel not in named:
                out.append(rel)
    return sorted(out)


def remove_orphans() -> int:
    if SigningBatch.objects.filter(state=SigningBatch.RUNNING).exclude(
            pk__in=stale_batches().values("pk")).exists():
        return 0
    files = orphan_files()
    for f in files:
        storage.delete(f)
    return len(files)


# --- running in the background of a web request ----------------------------------------------------------

def start_in_background(batch: SigningBatch) -> None:
    """Runs the batch in a thread of this process (the page polls its progress), or inline when
    ``HOCBA_RECORDS_INLINE`` is set (tests)."""
    if getattr(settings, "HOCBA_RECORDS_INLINE", False):
        run_batch(batch)
        return

    def target():
        try:
            run_batch(batch)
        finally:
            close_old_connections()
            from django.db import connection

            connection.close()

    threading.Thread(target=target, name=f"hocba-batch-{batch.pk}", daemon=True).start()
