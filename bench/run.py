"""`make bench`: runs every bench/bench_*.py in turn and prints their reports.

Each benchmark measures our code next to a baseline in the same run and reports ratios, never absolute
pass/fail timings. Pass --quick to run each with smaller inputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    extra = sys.argv[1:]
    status = 0
    for bench in sorted(here.glob("bench_*.py")):
        print(f"\n=== {bench.stem} ===", flush=True)
        status |= subprocess.call([sys.executable, str(bench), *extra], cwd=here.parent)
    return status


if __name__ == "__main__":
    sys.exit(main())
