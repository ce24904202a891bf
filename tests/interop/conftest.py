"""The sector simulator as a real subprocess on 127.0.0.1, and the sector data the inbound tests start from.

``Simulator`` starts ``python -m hocba.interop.simulator`` on a free port with its own SQLite file, kills it
with SIGKILL and starts it again on the same port and file, and talks to its admin endpoints (seed data,
inject faults, read what the receiver holds) with plain urllib.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOKEN = "test-sector-token"
START_TIMEOUT = 20


@dataclass
class Simulator:
    db: Path
    token: str = TOKEN
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)
    start_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.db.with_suffix(".log"), "ab")  # noqa: SIM115 - the child keeps it
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOCBA_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hocba.interop.simulator", "--port", str(self.port), "--db", str(self.db),
             "--token", self.token, *self.start_args], stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith(b"listening on"):
            self.kill()
            raise RuntimeError(f"the simulator did not start: {line!r}; see {self.db.with_suffix('.log')}")
        self.port = int(line.decode().strip().rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crashed receiver."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def restart(self) -> None:
        self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.start()

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def put(self, kind: str, items: list[dict]) -> int:
        return self.call("PUT", f"/admin/data/{kind}", {"items": items})["changed"]

    def fault(self, mode: str, *, count: int = 1, path: str = "/api/v1/exchange", **extra) -> None:
        self.call("POST", "/admin/faults", {"mode": mode, "count": count, "path": path, **extra})

    def clear_faults(self) -> None:
        self.call("DELETE", "/admin/faults")

    def records(self) -> dict[str, dict]:
        return {r["idbanghi"]: r for r in self.call("GET", "/admin/exchange")["records"]}

    def log(self) -> list[dict]:
        return self.call("GET", "/admin/exchange/log")["log"]


@pytest.fixture
def simulator(tmp_path):
    sim = Simulator(tmp_path / "sector.sqlite3")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sector(settings, simulator):
    """The deployment pointed at the simulator, with retries fast enough for a test."""
    settings.HOCBA_SECTOR_URL = simulator.url
    settings.HOCBA_SECTOR_TOKEN = TOKEN
    settings.HOCBA_SECTOR_TIMEOUT = 5
    settings.HOCBA_OUTBOX_BACKOFF_BASE = 0.05
    settings.HOCBA_OUTBOX_BACKOFF_CAP = 0.5
    settings.HOCBA_OUTBOX_MAX_ATTEMPTS = 12
    return simulator


# --- sector data for the school of tests/conftest.py -------------------------------------------------------

SCHOOL_CODE = "79760401"
YEAR = "2024-2025"


def school_item(**changes) -> dict:
    """The conftest school as the sector describes it (identical, so adopting it changes nothing)."""
    return {"code": SCHOOL_CODE, "name": "Trường THCS Thử Nghiệm", "level_code": "2", "department_code": "79",
            "department_name": "Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh", "division_code": "760",
            "division_name": "Phòng GDĐT Quận 1", "commune_name": "Phường Bến Nghé", "commune_code": "",
            "province_name": "Thành phố Hồ Chí Minh", "province_code": "79", "address": "", **changes}


def staff_item(code: str, pn: str, name: str, **changes) -> dict:
    return {"school_code": SCHOOL_CODE, "staff_code": code, "personal_number": pn, "full_name": name, "gender": "2",
            "birth_date": "1985-03-04", "position": "GV", "specialty": "Ngữ văn", "email": "", "phone": "",
            "active": True, **changes}


def class_item(name: str, grade: int, homeroom: str | None = None, **changes) -> dict:
    return {"school_code": SCHOOL_CODE, "school_year": YEAR, "name": name, "grade": grade,
            "homeroom_staff_code": homeroom, **changes}


def student_item(code: str, pn: str, name: str, class_name: str, **changes) -> dict:
    return {"school_code": SCHOOL_CODE, "student_code": code, "personal_number": pn, "full_name": name,
            "gender": "1", "birth_date": "2013-02-03", "birthplace": "Thành phố Hồ Chí Minh",
            "hometown": "Tỉnh Long An", "residence": "12 Lê Lợi, Phường Bến Nghé", "ethnicity": "Kinh",
            "nationality": "Việt Nam", "policy_group": "", "disabled_not_assessed": False,
            "father_name": "Trần Văn Ba", "father_occupation": "Kỹ sư", "mother_name": "Lê Thị Tư",
            "mother_occupation": "Giáo viên", "guardian_name": "", "guardian_occupation": "",
            "enrolments": [{"school_year": YEAR, "class_name": class_name, "status": "studying"}], **changes}


def assignment_item(class_name: str, subject: str, semester: int, staff: str, **changes) -> dict:
    return {"school_code": SCHOOL_CODE, "school_year": YEAR, "class_name": class_name, "subject_code": subject,
            "semester": semester, "staff_code": staff, "deleted": False, **changes}


STAFF = [
    staff_item("GV001", "079185000101", "Nguyễn Thị Hoa"),
    staff_item("GV002", "079085000102", "Phạm Văn Bình", gender="1", specialty="Toán"),
    staff_item("GV003", "079185000103", "Võ Thị Cúc", specialty="Ngoại ngữ"),
]
CLASSES = [class_item("6A1", 6, "GV001"), class_item("6A2", 6, "GV002"), class_item("7A1", 7)]
STUDENTS = [
    student_item("HS0001", "079213000001", "Trần Minh An", "6A1"),
    student_item("HS0002", "079213000002", "Lê Thu Bích", "6A1", gender="2"),
    student_item("HS0003", "079213000003", "Đỗ Gia Cường", "6A2"),
    student_item("HS0004", "079212000004", "Ngô Bảo Duy", "7A1", birth_date="2012-08-09"),
]
ASSIGNMENTS = [
    assignment_item("6A1", "NV", 1, "GV001"), assignment_item("6A1", "NV", 2, "GV001"),
    assignment_item("6A1", "TO", 1, "GV002"), assignment_item("7A1", "NN1", 1, "GV003"),
]


@pytest.fixture
def seeded(sector, school, year):
    """The sector holds the conftest school with 3 staff, 3 classes, 4 students and 4 assignments."""
    sector.put("schools", [school_item()])
    sector.put("staff", STAFF)
    sector.put("classes", CLASSES)
    sector.put("students", STUDENTS)
    sector.put("assignments", ASSIGNMENTS)
    return sector
