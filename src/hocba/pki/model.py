"""Who gets a certificate in the demo/test PKI: people (personal signatures) and the school (con dấu số)."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """A staff member who signs personally (GVBM, GVCN, HT, PHT).

    ``personal_number`` is the 12-digit số định danh cá nhân; it goes into the certificate subject as
    ``serialNumber=CCCD:<number>``, the way Vietnamese CAs identify a natural person.
    """

    username: str
    full_name: str
    personal_number: str
    organisation: str
    title: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", self.username):
            raise ValueError(f"tên đăng nhập không hợp lệ cho chứng thư số: {self.username!r}")
        if not re.fullmatch(r"\d{12}", self.personal_number):
            raise ValueError(f"số định danh cá nhân phải có 12 chữ số: {self.personal_number!r}")


@dataclass(frozen=True)
class School:
    """The organisation whose seal certificate (con dấu số) is issued; ``seal_username`` names its key."""

    name: str
    code: str
    province: str = "Thành phố Hồ Chí Minh"
    seal_username: str = "condau"


DEMO_SCHOOL = School(name="Trường THCS Thử Nghiệm", code="79760401")

DEMO_PEOPLE: tuple[Person, ...] = (
    Person("hieutruong", "Trần Thị Bích Ngọc", "079180000101", DEMO_SCHOOL.name, "Hiệu trưởng"),
    Person("phohieutruong", "Lê Văn Hùng", "079079000102", DEMO_SCHOOL.name, "Phó hiệu trưởng"),
    Person("gv.toan", "Phạm Minh Tuấn", "079085000103", DEMO_SCHOOL.name, "Giáo viên"),
    Person("gv.van", "Nguyễn Thị Lan", "079188000104", DEMO_SCHOOL.name, "Giáo viên"),
)


def people_from_json(text: str) -> list[Person]:
    """Reads ``[{"username": ..., "full_name": ..., "personal_number": ..., "organisation": ...}, ...]``."""
    fields = {f.name for f in dataclasses.fields(Person)}
    return [Person(**{k: v for k, v in row.items() if k in fields}) for row in json.loads(text)]


def people_to_json(people: list[Person] | tuple[Person, ...]) -> str:
    return json.dumps([dataclasses.asdict(p) for p in people], ensure_ascii=False, indent=2)
