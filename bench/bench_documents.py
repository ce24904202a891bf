"""Học bạ PDFs per second: one Typst compiler reused across a batch vs a new compiler per document.

    python bench/bench_documents.py            # 120 documents (30 for the baseline)
    python bench/bench_documents.py --quick    # 40 (10)

Each document is the sample grade-9 year (5 pages, 12 subjects) with its own student name, comment and
verification link, so no two compilations see the same data; each render includes everything a real one
does: XML twin (XSD-validated) attached, QR code, PDF/A-3b export. Target: >= 50 documents/s with
reused compilers: one compiler on one thread, and ``RendererPool`` (one reused compiler per thread; typst-py
releases the GIL while compiling) are both reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:
    import hocba.documents  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET = 50.0


def _records(n: int):
    from dataclasses import replace

    from hocba.documents.sample import sample_record

    base = sample_record()
    given = ["An", "Bình", "Chi", "Dũng", "Giang", "Hạnh", "Khánh", "Linh", "Minh", "Ngọc", "Phúc", "Quyên"]
    out = []
    for i in range(n):
        student = replace(base.student, name=f"Nguyễn Thị {given[i % len(given)]} {i:04d}")
        out.append(base.replace(student=student, homeroom_comment=f"{base.homeroom_comment} (hồ sơ {i})"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 40 if args.quick else 120
    n_base = max(10, n // 4)

    from hocba.documents.render import Renderer, verification_url

    records = _records(n)
    urls = [verification_url("https://hocba.example.edu.vn", f"HB{i:06d}", f"k{i:08d}") for i in range(n)]

    start = time.perf_counter()
    renderer = Renderer()
    setup = time.perf_counter() - start
    renderer.render(records[0], verification_url=urls[0])  # warm-up: first layout fills Typst's caches

    start, cpu = time.perf_counter(), time.process_time()
    sizes = [len(renderer.render(r, verification_url=u)) for r, u in zip(records, urls, strict=True)]
    reused = n / (time.perf_counter() - start)
    cpu_each = (time.process_time() - cpu) / n

    import os

    from hocba.documents.render import RendererPool

    workers = max(1, min(4, os.cpu_count() or 1))
    pool = RendererPool(workers)
    pool.render_many(records[:workers], verification_urls=urls[:workers])  # one warm compiler per thread
    start = time.perf_counter()
    pool.render_many(records, verification_urls=urls)
    pooled = n / (time.perf_counter() - start)

    start = time.perf_counter()
    for r, u in zip(records[:n_base], urls[:n_base], strict=True):
        Renderer().render(r, verification_url=u)
    fresh = n_base / (time.perf_counter() - start)

    print(f"documents: {n} (baseline {n_base}), 5 pages each, PDF/A-3b, ~{sum(sizes) // len(sizes) // 1024} KiB")
    print(f"compiler set-up (template + fonts):   {setup * 1000:8.1f} ms")
    print(f"reused compiler:                      {reused:8.1f} documents/s ({1000 / reused:.1f} ms each)")
    print(f"  CPU time per document (load-independent): {cpu_each * 1000:.1f} ms "
          f"= {1 / cpu_each:.1f} documents per CPU-second")
    print(f"pool, one reused compiler per thread: {pooled:8.1f} documents/s ({workers} threads)")
    print(f"new compiler per document (baseline): {fresh:8.1f} documents/s ({1000 / fresh:.1f} ms each)")
    print(f"ratio reused / baseline:              {reused / fresh:8.2f}x")
    print(f"ratio pool / baseline:                {pooled / fresh:8.2f}x")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (other work on the machine lowers every figure)")
    print(f"target >= {TARGET:.0f} documents/s: single compiler {'met' if reused >= TARGET else 'NOT met'}, "
          f"pool {'met' if pooled >= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
