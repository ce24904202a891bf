"""Issuing a whole demo school year of học bạ số end to end, with the time of each step.

    python bench/bench_records.py                  # the year 2024-2025 of the demo school (~1,200 students)
    python bench/bench_records.py --quick          # one grade (grade 9, 8 classes, ~300 students)
    python bench/bench_records.py --processes 1 --validation full

In a temporary var directory with its own SQLite file the bench runs ``hocba migrate``, ``hocba demo`` and
``hocba demo-pki`` (a server-held demo key for every staff member and the school seal) and serves the demo
PKI (``hocba pki serve``: OCSP, CRL, RFC 3161 timestamps) in another process. Then, in this process, through
the same code the web and ``hocba records issue --demo-sign`` use (``hocba.records.pipeline``):

1. the demo grade book of every class is written and released (set-up, not counted in the total);
2. generation: the records are built from the released books, rendered (XML, PDF with every signature
   field) and stored — reported with its parts (build, render, store, save);
3. each signing step, every signer's batch: subject teachers (one batch each over all their students),
   GVCN, principal's approval, school seal (which issues) — signatures (PDF and XML: one step signs both)
   and time per step.

Also reported: rendering alone (documents/s, a pool of one Typst compiler per thread, on the records of the
first classes), and what full validation of a sealed document costs (``HOCBA_RECORDS_VALIDATION=full``, the
product's default, validates every PDF and XML before issuing; the bench defaults to ``sample`` — every
document checked for completeness and twin agreement, one per chunk validated fully — and extrapolates the
full figure). Target: the whole year (generation + every signature + seal) under 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_SECONDS = 600.0
KIND_NAMES = {"gvbm": "giáo viên bộ môn", "gvcn": "giáo viên chủ nhiệm", "leader": "hiệu trưởng duyệt",
              "seal": "con dấu số (phát hành)"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hocba(*args: str) -> None:
    subprocess.run([str(BIN / "hocba"), *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one grade (9) instead of the whole school")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--validation", choices=("sample", "full"), default="sample")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hocba-bench-records-"))
    for key in [k for k in os.environ if k.startswith("HOCBA_")]:
        del os.environ[key]
    os.environ.update(HOCBA_VAR_DIR=str(work), HOCBA_DATABASE_URL=f"sqlite:///{work}/db.sqlite3",
                      HOCBA_RECORDS_VALIDATION=args.validation, HOCBA_FAST_PASSWORD_HASHER="1",
                      DJANGO_SETTINGS_MODULE="hocba.web.settings")
    print(f"bench_records: {'grade 9' if args.quick else 'whole school year'} 2024-2025, {args.processes} "
          f"process(es), validation {args.validation}, {os.cpu_count()} CPU(s), load {load_average()}", flush=True)
    started = time.perf_counter()
    hocba("migrate", "--noinput", "-v", "0")
    hocba("demo")
    port = free_port()
    hocba("demo-pki", "--port", str(port))
    print(f"set-up (migrate, demo school, demo PKI for every staff member): {time.perf_counter() - started:.1f} s",
          flush=True)
    server = subprocess.Popen([str(BIN / "hocba"), "pki", "serve"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        return run(args)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def run(args) -> int:
    import django

    django.setup()
    from django.db import connections

    from hocba.documents import Renderer, RendererPool
    from hocba.records import actions, build, demo, pipeline
    from hocba.records.models import HocBaRecord
    from hocba.school.models import SchoolClass

    classes = list(SchoolClass.objects.filter(year__name="2024-2025", school__code="79770001")
                   .select_related("school__department", "year", "homeroom_teacher").order_by("grade", "name"))
    if args.quick:
        classes = [c for c in classes if c.grade == 9]
    school = classes[0].school
    principal = pipeline.principal_user(school)

    t = time.perf_counter()
    for c in classes:
        demo.fill_demo_gradebook(c)
    print(f"demo grade books written and released ({len(classes)} classes): {time.perf_counter() - t:.1f} s "
          "(set-up, not counted)", flush=True)

    # rendering alone, on the records of the first classes
    sample = []
    for c in classes[:4]:
        built, _ = build.build(build.load_class(c), actions.default_leader(school))
        sample += [b.record for b in built]
    renderer = Renderer()
    renderer.render(sample[0])
    t = time.perf_counter()
    for r in sample:
        renderer.render(r)
    one = len(sample) / (time.perf_counter() - t)
    pool = RendererPool(args.processes)
    pool.render_many(sample[:2])
    t = time.perf_counter()
    pool.render_many(sample)
    many = len(sample) / (time.perf_counter() - t)
    print(f"rendering alone ({len(sample)} records): {one:.1f} documents/s with one compiler, {many:.1f} "
          f"documents/s with a pool of {pool.size}", flush=True)

    lines: list[tuple[str, int, float]] = []
    t = time.perf_counter()
    parts: dict[str, float] = {}
    created = 0
    for result in pipeline.generate(principal, classes):
        created += len(result.created)
        for k, v in result.seconds.items():
            parts[k] = parts.get(k, 0.0) + v
        for nr in result.not_ready:
            print(f"  not ready: {nr.student.full_name}: {'; '.join(nr.reasons)}")
    generation = time.perf_counter() - t
    lines.append(("generation (build, render, fields, store)", created, generation))
    print(f"generation: {created} records in {generation:.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()) + ")", flush=True)

    records = HocBaRecord.objects.filter(school_class__in=classes, status__in=("draft", "signing"))
    connections.close_all()

    def on_batch(kind, batch):
        if batch.state != "finished":
            print(f"  batch #{batch.pk} ({kind}): {batch.state} {batch.error}", flush=True)

    runs = pipeline.sign_everything(school, records, processes=args.processes, on_batch=on_batch)
    for r in runs:
        lines.append((f"{KIND_NAMES[r.kind]} ({r.batches} batches)", r.signatures, r.seconds))
        print(f"{KIND_NAMES[r.kind]}: {r.signatures} signatures (PDF + XML) in {r.batches} batches, "
              f"{r.seconds:.1f} s, {r.signatures / r.seconds if r.seconds else 0:.1f} signatures/s", flush=True)
    issued = HocBaRecord.objects.filter(school_class__in=classes, status="issued").count()
    total = sum(seconds for _, _, seconds in lines)

    # what validating every sealed document in full would add
    from hocba.identities.service import trust_config
    from hocba.records import storage
    from hocba.records.verification import issue_problems

    trust = trust_config()
    check = list(HocBaRecord.objects.filter(school_class__in=classes, status="issued")[:5])
    t = time.perf_counter()
    for record in check:
        problems = issue_problems(storage.read(record.pdf_file), storage.read(record.xml_file),
                                  list(record.steps.all()), trust, full=True)
        assert not problems, problems
    per_doc = (time.perf_counter() - t) / max(1, len(check))

    print()
    print(f"{'step':48s} {'items':>7s} {'seconds':>9s} {'per s':>8s}")
    for name, n, seconds in lines:
        print(f"{name:48s} {n:7d} {seconds:9.1f} {n / seconds if seconds else 0:8.1f}")
    print(f"{'total (generation + every signature + seal)':48s} {issued:7d} {total:9.1f}")
    print(f"issued {issued} of {created} records; {total / max(1, issued):.2f} s per student")
    if args.validation == "sample":
        extra = per_doc * issued / max(1, args.processes)
        print(f"full validation of a sealed document (PDF + XML): {per_doc:.2f} s; validating every document "
              f"before issue (HOCBA_RECORDS_VALIDATION=full) would add ≈ {extra:.0f} s over {args.processes} "
              "process(es)")
    met = total < TARGET_SECONDS and issued == created
    print(f"target: whole year under {TARGET_SECONDS / 60:.0f} minutes: {'met' if met else 'NOT met'}"
          + ("" if not args.quick else " (quick run: one grade)") + f"; load now {load_average()}")
    return 0 if issued == created else 1


if __name__ == "__main__":
    sys.exit(main())
